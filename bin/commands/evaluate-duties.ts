/**
 * `npm run evaluate`, the LA's other duties (issue 20; docs/duties.md): the service's rules run on
 * the generated LA's registers, scored against what the generator planted (local/synthetic/duties.ts
 * and the background's part-time timetables):
 *
 * - `new_entry_late`: new entries the rules call late, against the joiners planted with an admission
 *   date 6–12 school days before their first listing (every other new entry must be on time);
 * - `deletion`: deletions found (exempt standard transitions aside), against every move and leaver;
 * - `children_missing_education`: CME flags on the last day of the range, against the leavers planted
 *   with an unknown destination or a destination school that never lists them (compulsory age);
 * - `part_time_past_review`: part-time timetables past six school weeks, against the background's
 *   C2 timetables whose own span (counted here independently: calendar weeks holding its days)
 *   covers more than six.
 *
 * Returns are replayed in upload order with each file "received" on its date (a late file on the day
 * it was listed after), which is when a school sending daily would have notified the LA.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  rollChanges,
  type DeletionDetails,
  type Deletion,
  type RollNotices,
} from '../../shared/domain/admission-register.js';
import { countSchoolDays, schoolDaysFrom, type SchoolCalendar } from '../../shared/domain/calendar.js';
import { assessDeletion, type Listing } from '../../shared/domain/children-missing-education.js';
import { addDays, dayNumber, weekStart } from '../../shared/domain/dates.js';
import { partTimeTimetables, pastReviewLimit } from '../../shared/domain/part-time-timetables.js';
import { sessionDays, type SchoolRegister } from '../../shared/domain/register.js';
import { DEFAULT_LA_SETTINGS } from '../../shared/config.js';
import type { PlantedDeletion, PlantedLateEntry } from '../../local/synthetic/duties.js';
import type { BackgroundEvent } from '../../local/synthetic/index.js';

export const DUTY_SCORES = [
  'new_entry_late',
  'deletion',
  'children_missing_education',
  'part_time_past_review',
] as const;

export interface DutyScore {
  name: (typeof DUTY_SCORES)[number];
  tp: number;
  fp: number;
  fn: number;
  precision: number | null;
  recall: number | null;
  examples: { fp: string[]; fn: string[] };
}

interface DutiesTruth {
  to: string;
  laCode: string;
  background: BackgroundEvent[];
  operations: {
    moves: Array<{ upn: string; from: string; to?: string; leaving: string }>;
    duties?: { lateEntries: PlantedLateEntry[]; deletions: PlantedDeletion[] };
  };
}

/** One school's returns as the LA received them: rows and the date each file arrived. */
export interface ReceivedFile {
  urn: string;
  receivedOn: string;
  rows: readonly DeletionDetails[];
}

/** What each return told the LA, kept as ingest keeps it (first listing, first leaving date, ground, destination). */
function noticesFromFiles(files: readonly ReceivedFile[]): Map<string, RollNotices> {
  const out = new Map<string, RollNotices>();
  for (const f of files) {
    let n = out.get(f.urn);
    if (!n) out.set(f.urn, (n = { urn: f.urn, academicYear: 0, pupils: {} }));
    for (const row of f.rows as ReadonlyArray<DeletionDetails & { leavingDate?: string }>) {
      const p = (n.pupils[row.upn] ??= { listedOn: f.receivedOn });
      if (f.receivedOn < p.listedOn) p.listedOn = f.receivedOn;
      if (row.leavingDate !== undefined && !p.leaving) p.leaving = { date: row.leavingDate, notifiedOn: f.receivedOn };
      if (p.leaving && row.deletionGround !== undefined) p.leaving.ground = row.deletionGround;
      if (p.leaving && row.destination !== undefined) p.leaving.destination = row.destination;
    }
  }
  return out;
}

/** URNs the generated GIAS extract gives another LA's code. */
function schoolsOutsideLa(dir: string, laCode: string): Set<string> {
  const [header, ...lines] = readFileSync(join(dir, 'schools.csv'), 'utf8')
    .split(/\r?\n/)
    .filter((l) => l !== '');
  const cols = header.split(',');
  const urnAt = cols.indexOf('URN');
  const laAt = cols.indexOf('LA (code)');
  return new Set(
    lines
      .map((l) => l.split(','))
      .filter((f) => f[laAt] !== laCode)
      .map((f) => f[urnAt]),
  );
}

function score(
  name: DutyScore['name'],
  raised: ReadonlySet<string>,
  positives: ReadonlySet<string>,
  ignore: ReadonlySet<string> = new Set(),
): DutyScore {
  const fp = [...raised].filter((k) => !positives.has(k) && !ignore.has(k));
  const tp = [...raised].filter((k) => positives.has(k));
  const fn = [...positives].filter((k) => !raised.has(k));
  const judged = tp.length + fp.length;
  return {
    name,
    tp: tp.length,
    fp: fp.length,
    fn: fn.length,
    precision: judged > 0 ? tp.length / judged : null,
    recall: positives.size > 0 ? tp.length / positives.size : null,
    examples: { fp: fp.slice(0, 3), fn: fn.slice(0, 3) },
  };
}

export function evaluateDuties(
  dir: string,
  la: { registers: readonly SchoolRegister[]; schools: ReadonlyArray<{ urn: string; calendar: SchoolCalendar }> },
  files: readonly ReceivedFile[],
): DutyScore[] {
  const truth = JSON.parse(readFileSync(join(dir, 'ground-truth.json'), 'utf8')) as DutiesTruth;
  const planted = truth.operations.duties ?? { lateEntries: [], deletions: [] };
  const today = truth.to;
  const calendars = new Map(la.schools.map((s) => [s.urn, s.calendar]));
  const schoolDays = (urn: string) => (from: string, to: string) => {
    const cal = calendars.get(urn);
    return cal && to > from ? countSchoolDays(cal, addDays(from, 1), to) : 0;
  };
  const notices = noticesFromFiles(files);
  const outOfArea = schoolsOutsideLa(dir, truth.laCode);

  const entries: Array<{ upn: string; urn: string; timeliness: string }> = [];
  const deletions: Deletion[] = [];
  const listings = new Map<string, Listing[]>();
  const c2: Array<{ upn: string; urn: string; past: boolean }> = [];
  for (const register of la.registers) {
    let heldFrom = '9999-12-31';
    for (const p of register.pupils.values()) {
      if (p.firstListed < heldFrom) heldFrom = p.firstListed;
      const list = listings.get(p.upn) ?? [];
      list.push({
        urn: register.urn,
        admissionDate: p.admissionDate,
        leavingDate: p.leavingDate,
        firstListed: p.firstListed,
        lastListed: p.lastListed,
      });
      listings.set(p.upn, list);
    }
    const changes = rollChanges({
      register,
      notices: notices.get(register.urn) ?? { urn: register.urn, academicYear: register.academicYear, pupils: {} },
      heldFrom,
      schoolDays: schoolDays(register.urn),
    });
    entries.push(...changes.entries);
    deletions.push(...changes.deletions);
    for (const t of partTimeTimetables(register, sessionDays(register))) {
      c2.push({ upn: t.upn, urn: t.urn, past: pastReviewLimit(t, DEFAULT_LA_SETTINGS.partTimeTimetableReviewWeeks) });
    }
  }

  // New entries notified late.
  const late = new Set(entries.filter((e) => e.timeliness === 'late').map((e) => `${e.upn}@${e.urn}`));
  const lateTruth = new Set(planted.lateEntries.map((e) => `${e.upn}@${e.urn}`));

  // Deletions (standard transitions are the Year 11 and top-year leavers: exempt, not scored).
  const found = new Set(deletions.filter((d) => !d.standardTransition).map((d) => `${d.upn}@${d.urn}`));
  const moves = new Set(truth.operations.moves.filter((m) => !outOfArea.has(m.from)).map((m) => `${m.upn}@${m.from}`));

  // Children missing education on the last day of the range.
  const flagged = new Set<string>();
  for (const d of deletions) {
    const a = assessDeletion(d, listings.get(d.upn) ?? [], {
      today,
      inLa: (urn) => calendars.has(urn) && !outOfArea.has(urn),
      schoolDays: (urn, from, to) => schoolDays(urn)(from, to),
      nthSchoolDayAfter: (urn, from, n) => {
        const cal = calendars.get(urn);
        return (cal ? schoolDaysFrom(cal, addDays(from, 1), n)[n - 1] : undefined) ?? addDays(from, n);
      },
    });
    if (a.flagged) flagged.add(`${d.upn}@${d.urn}`);
  }
  const missingTruth = new Set(planted.deletions.filter((d) => d.expect === 'missing').map((d) => `${d.upn}@${d.urn}`));

  // Part-time timetables past six school weeks: the background's own spans, weeks counted here.
  const pastTruth = new Set<string>();
  for (const b of truth.background) {
    if (b.kind !== 'part_time_timetable') continue;
    const cal = calendars.get(b.urn);
    const weeks = new Set<string>();
    for (let d = b.from; d <= b.to; d = addDays(d, 1))
      if (!cal || cal.isSchoolDayNumber(dayNumber(d))) weeks.add(weekStart(d));
    if (weeks.size > DEFAULT_LA_SETTINGS.partTimeTimetableReviewWeeks) pastTruth.add(`${b.upn}@${b.urn}`);
  }
  const past = new Set(c2.filter((t) => t.past).map((t) => `${t.upn}@${t.urn}`));

  return [
    score('new_entry_late', late, lateTruth),
    score('deletion', found, moves),
    score('children_missing_education', flagged, missingTruth),
    score('part_time_past_review', past, pastTruth),
  ];
}
