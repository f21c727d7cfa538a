/**
 * Term-date calendars held by the service (docs/design.md §2.3, §6): the LA's calendar and each school's own
 * (academies set their own dates), as closures; each upload's report (the raw file itself is kept by
 * shared/store/imports.ts like every LA import); and the sources a
 * school's merged calendar is built from (its register's session days, its own calendar, the LA
 * calendar, the bank holidays shipped with the product).
 *
 * One DynamoDB item per calendar (k.laCalendar() / k.schoolCalendar(urn)), written with a version
 * condition so two uploads at once never lose one another's closures. A calendar is small (a year
 * of an LA's dates is ~15 closures), so the whole list lives in the item.
 *
 * How an upload changes what is held (a decision: the design is silent on it):
 * - mode `replace` (the default): the file is the calendar for every academic year its closures
 *   start in; closures held for those years are dropped, other years are kept. Re-uploading the
 *   same file changes nothing; next year's term dates do not erase this year's.
 * - mode `add`: the file's closures are added to those held (an extra INSET day); exact duplicates
 *   (same start, end and label) are kept once.
 */
import { randomBytes } from 'node:crypto';
import type { Closure, SchoolCalendarSources, SchoolSessionDays } from '../domain/calendar.js';
import { emptySessionDays, AM_SESSION, PM_SESSION } from '../domain/calendar.js';
import { academicYearOf } from '../domain/dates.js';
import { englandAndWalesBankHolidays } from '../formats/bank-holidays.js';
import { k } from './keys.js';
import { getSessionDays } from './schools.js';
import { getItem, isConditionFailure, putItem, queryAll } from './table.js';

/** Most closures one calendar may hold (a decade of an LA's dates is ~200). */
const MAX_CLOSURES_PER_CALENDAR = 2000;
/** Uploads remembered on each calendar (the import records themselves are kept for good). */
const IMPORTS_REMEMBERED = 20;

export type CalendarMode = 'replace' | 'add';

export interface CalendarImportRef {
  importId: string;
  at: string;
  format: 'ics' | 'csv';
  mode: CalendarMode;
  /** The raw file in the registers bucket. */
  file: string;
  /** Closures this upload brought to this calendar, and the academic years it replaced or added to. */
  closures: number;
  academicYears: number[];
}

export interface HeldCalendar {
  /** Absent for the LA calendar. */
  urn?: string;
  closures: Closure[];
  updatedAt: string;
  version: number;
  imports: CalendarImportRef[];
}

type CalendarItem = HeldCalendar & { pk: string; sk: string };

const keyOf = (urn: string | undefined) => (urn === undefined ? k.laCalendar() : k.schoolCalendar(urn));

function strip(item: CalendarItem): HeldCalendar {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest;
}

async function getCalendar(urn?: string): Promise<HeldCalendar | undefined> {
  const item = await getItem<CalendarItem>(keyOf(urn));
  return item ? strip(item) : undefined;
}

/** Every calendar held: the LA's first, then schools' by URN. */
export async function listCalendars(): Promise<HeldCalendar[]> {
  const items = await queryAll<CalendarItem>({
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
    ExpressionAttributeValues: { ':pk': k.laCalendar().pk, ':prefix': k.calendarPrefix },
  });
  return items.map(strip).sort((a, b) => (a.urn === undefined ? -1 : b.urn === undefined ? 1 : a.urn < b.urn ? -1 : 1));
}

/**
 * Every calendar's version in one string (a Query of the small items' keys and versions): it moves
 * with every upload, so a merged calendar held under it is current while it stands.
 */
export async function calendarsVersion(): Promise<string> {
  const items = await queryAll<{ sk: string; version: number }>({
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
    ExpressionAttributeValues: { ':pk': k.laCalendar().pk, ':prefix': k.calendarPrefix },
    ProjectionExpression: '#s, #v',
    ExpressionAttributeNames: { '#s': 'sk', '#v': 'version' },
  });
  return items.map((i) => `${i.sk}:${i.version}`).join('|');
}

/** The academic years whose closures an upload of `closures` replaces (the years they start in). */
export function academicYearsOf(closures: readonly Closure[]): number[] {
  return [...new Set(closures.map((c) => academicYearOf(c.start)))].sort((a, b) => a - b);
}

const sameClosure = (a: Closure, b: Closure) => a.start === b.start && a.end === b.end && a.label === b.label;

/** What a calendar holds after an upload (pure; see the module comment). */
function mergeClosures(held: readonly Closure[], incoming: readonly Closure[], mode: CalendarMode): Closure[] {
  const years = new Set(academicYearsOf(incoming));
  const kept = mode === 'replace' ? held.filter((c) => !years.has(academicYearOf(c.start))) : [...held];
  for (const c of incoming) if (!kept.some((h) => sameClosure(h, c))) kept.push(c);
  return kept.sort((a, b) =>
    a.start < b.start ? -1 : a.start > b.start ? 1 : a.end < b.end ? -1 : a.end > b.end ? 1 : 0,
  );
}

export class CalendarTooLargeError extends Error {
  constructor(
    readonly urn: string | undefined,
    readonly closures: number,
  ) {
    super(
      `the ${urn === undefined ? 'LA' : `school ${urn}`} calendar would hold ${closures} closures; at most ${MAX_CLOSURES_PER_CALENDAR} are kept`,
    );
    this.name = 'CalendarTooLargeError';
  }
}

/**
 * Apply an upload's closures for one calendar (the LA's when urn is undefined). Retries on a
 * concurrent write. Closures carry their urn for a school calendar and none for the LA's.
 */
export async function storeClosures(
  urn: string | undefined,
  incoming: readonly Closure[],
  ref: Omit<CalendarImportRef, 'closures' | 'academicYears'>,
): Promise<HeldCalendar> {
  const tagged = incoming.map((c) =>
    urn === undefined
      ? { start: c.start, end: c.end, label: c.label }
      : { start: c.start, end: c.end, label: c.label, urn },
  );
  for (let attempt = 0; ; attempt++) {
    const held = await getCalendar(urn);
    const closures = mergeClosures(held?.closures ?? [], tagged, ref.mode);
    if (closures.length > MAX_CLOSURES_PER_CALENDAR) throw new CalendarTooLargeError(urn, closures.length);
    const next: HeldCalendar = {
      ...(urn === undefined ? {} : { urn }),
      closures,
      updatedAt: ref.at,
      version: (held?.version ?? 0) + 1,
      imports: [
        { ...ref, closures: tagged.length, academicYears: academicYearsOf(tagged) },
        ...(held?.imports ?? []),
      ].slice(0, IMPORTS_REMEMBERED),
    };
    try {
      await putItem(
        { ...keyOf(urn), ...next },
        held
          ? { expression: '#v = :v', names: { '#v': 'version' }, values: { ':v': held.version } }
          : { expression: 'attribute_not_exists(pk)' },
      );
      return next;
    } catch (err) {
      if (!isConditionFailure(err) || attempt >= 4) throw err;
    }
  }
}

export function newCalendarImportId(): string {
  return `c${Date.now().toString(36).padStart(9, '0')}${randomBytes(6).toString('hex')}`;
}

/**
 * The per-record report of a calendar upload, kept as an import record beside the LA's other
 * imports (shared/store/imports.ts ImportRecord, with the skipped records and warnings added).
 */
export interface CalendarImportRecord {
  importId: string;
  kind: 'calendar';
  format: string;
  importedAt: string;
  importedBy: { sub: string; role: string };
  files: string[];
  counts: { records: number; accepted: number; rejected: number; skipped: number };
  errors: Array<{ line: number; field: string; code: string; message: string }>;
  warnings: Array<{ line: number; field: string; code: string; message: string }>;
  errorsTruncated: boolean;
  outcome: string;
}

export async function putCalendarImport(record: CalendarImportRecord): Promise<void> {
  await putItem({
    ...k.importItem(record.importId),
    gsi1pk: k.importsIndex,
    gsi1sk: `${record.importedAt}#${record.importId}`,
    ...record,
  });
}

// ---- Sources of a school's merged calendar ---------------------------------------------------------

/**
 * A school's observed session days for one academic year from what ingest keeps (one flag per day).
 * The store keeps whether a day held sessions, not which ones, nor '#' marks: a day with sessions
 * counts as both, and the register is taken to cover its year up to its last day with sessions.
 */
function sessionDaysFromFlags(academicYear: number, flags: Uint8Array): SchoolSessionDays {
  const days = emptySessionDays(academicYear);
  for (let i = 0; i < flags.length && i < days.sessions.length; i++) {
    if (flags[i]) {
      days.sessions[i] = AM_SESSION | PM_SESSION;
      days.lastMarkedDay = i;
    }
  }
  return days;
}

/**
 * Everything a school's calendar for `academicYear` is merged from: its registers' session days
 * (the year before and after too, since breaks run across 1 August and a later year's register
 * makes an earlier one authoritative for its whole year), its own and the LA's closures, and the
 * England and Wales bank holidays.
 */
export async function calendarSourcesFor(
  urn: string,
  academicYear: number,
): Promise<SchoolCalendarSources & { held: { la: boolean; own: boolean } }> {
  const years = [academicYear - 1, academicYear, academicYear + 1];
  const [sessionDays, la, own] = await Promise.all([
    getSessionDays(years.map((y) => ({ urn, academicYear: y }))),
    getCalendar(),
    getCalendar(urn),
  ]);
  const registers: SchoolSessionDays[] = [];
  for (const y of years) {
    const flags = sessionDays.get(`${y}#${urn}`);
    if (flags) registers.push(sessionDaysFromFlags(y, flags));
  }
  return {
    urn,
    registers,
    closures: [...(la?.closures ?? []), ...(own?.closures ?? [])],
    bankHolidays: englandAndWalesBankHolidays(),
    held: { la: (la?.closures.length ?? 0) > 0, own: own !== undefined && own.closures.length > 0 },
  };
}

/**
 * `calendarSourcesFor` for many schools at once (the schools list's data-quality figures): the
 * calendars in one query, the registers' session days in batches.
 */
export async function calendarSourcesForSchools(
  urns: readonly string[],
  academicYear: number,
): Promise<Map<string, SchoolCalendarSources>> {
  const years = [academicYear - 1, academicYear, academicYear + 1];
  const [sessionDays, calendars] = await Promise.all([
    urns.length
      ? getSessionDays(urns.flatMap((urn) => years.map((y) => ({ urn, academicYear: y }))))
      : new Map<string, Uint8Array>(),
    listCalendars(),
  ]);
  const la = calendars.find((c) => c.urn === undefined)?.closures ?? [];
  const own = new Map(calendars.filter((c) => c.urn !== undefined).map((c) => [c.urn as string, c.closures]));
  const bankHolidays = englandAndWalesBankHolidays();
  const out = new Map<string, SchoolCalendarSources>();
  for (const urn of urns) {
    const registers: SchoolSessionDays[] = [];
    for (const y of years) {
      const flags = sessionDays.get(`${y}#${urn}`);
      if (flags) registers.push(sessionDaysFromFlags(y, flags));
    }
    out.set(urn, { urn, registers, closures: [...la, ...(own.get(urn) ?? [])], bankHolidays });
  }
  return out;
}
