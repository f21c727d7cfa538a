/**
 * A school's calendar (docs/design.md §2.3): which days hold school sessions, the breaks between them and
 * the holiday-adjacent days either side of each break.
 *
 * Public API
 * - `SchoolSessionDays`, `emptySessionDays(year)`, `addMarksToSessionDays(days, marks)`,
 *   `sessionDaysFromMarks(year, marksOfEveryPupil)`: a school's observed sessions for one academic
 *   year, one byte per day slot (bit AM_SESSION / PM_SESSION), built from its register's marks.
 * - `Closure`: a closure from the LA calendar (no urn) or a school's own calendar (urn set).
 * - `bankHolidayMap(events)`: gov.uk feed events → Map<date, title>.
 * - `schoolCalendar({ urn, registers, closures, bankHolidays })` → `SchoolCalendar` (computed lazily
 *   per academic year and cached: build one per school, share it between all its pupils).
 * - `sessionsOn(cal, date)`, `isSchoolDay(cal, date)`, `schoolDays(cal, from, to)`,
 *   `countSchoolDays(cal, from, to)`, `schoolDaysFrom(cal, start, n)`: school days.
 * - `breaks(cal, from, to)`: every break that overlaps [from, to], with its full extent and labels.
 * - `breaksForYear(cal, academicYear)`: the breaks that overlap the academic year (school detail view).
 * - `holidayAdjacentDays(cal, from, to, k)`: the K school days before and after each break, each
 *   tagged with its break and side, restricted to [from, to].
 *
 * Order of authority for a date:
 * 1. Bank holidays (England and Wales) are never school days.
 * 2. The school's register, for every date it covers: a day is a school day when the register holds
 *    a mark other than `#` for any pupil that day. A register covers its academic year from 1 August
 *    (from its first session when that is after 30 September: it started mid-year) to the last day it
 *    holds any mark (`#` included; "not yet marked" is no mark), and to the end of the year once a
 *    later year's register holds marks.
 * 3. The school's own calendar: when it holds a holiday (a closure of 3 days or more) in an academic
 *    year, it is the school's term dates for that year and replaces the LA calendar; otherwise its
 *    closures (INSET days, say) are added to the LA calendar's.
 * 4. The LA calendar's closures.
 * 5. Otherwise (future or unregistered dates) a weekday is a school day, a weekend is not.
 *
 * A break is a run of ≥ 3 consecutive calendar days without school sessions containing at least one
 * weekday: a normal weekend is not a break; a bank-holiday weekend is; a 2-day closure midweek is not.
 */
import { DEFAULT_LA_SETTINGS } from '../config.js';
import { academicYearLength, academicYearStart, dayNumber, DAYS_PER_YEAR_SLOT, fromDayNumber } from './dates.js';

export const AM_SESSION = 1;
export const PM_SESSION = 2;
const BOTH_SESSIONS = AM_SESSION | PM_SESSION;

/** Fewest calendar days without sessions that make a break. */
const MIN_BREAK_DAYS = 3;
/** Furthest a break's edges are searched for (a longer run without sessions is cut here). */
const MAX_SCAN_DAYS = 800;

const NO_ROW = '.'.charCodeAt(0);
const NOT_MARKED = '-'.charCodeAt(0);
const CLOSED = '#'.charCodeAt(0);

// ---- Observed sessions from a register ----------------------------------------------------------

/** One school's observed sessions for one academic year. */
export interface SchoolSessionDays {
  academicYear: number;
  /** DAYS_PER_YEAR_SLOT entries (index = day of the academic year): AM_SESSION | PM_SESSION bits. */
  sessions: Uint8Array;
  /** Last day slot on which the register holds any mark (`#` included), or -1. */
  lastMarkedDay: number;
}

export function emptySessionDays(academicYear: number): SchoolSessionDays {
  return { academicYear, sessions: new Uint8Array(DAYS_PER_YEAR_SLOT), lastMarkedDay: -1 };
}

/** Add one pupil's year of stored marks (SESSIONS_PER_YEAR_SLOT characters). Mutates `days`. */
function addMarksToSessionDays(days: SchoolSessionDays, marks: string): SchoolSessionDays {
  const sessions = days.sessions;
  const n = Math.min(marks.length, DAYS_PER_YEAR_SLOT * 2);
  for (let i = 0; i < n; i++) {
    const ch = marks.charCodeAt(i);
    if (ch === NO_ROW || ch === NOT_MARKED) continue;
    const day = i >> 1;
    if (day > days.lastMarkedDay) days.lastMarkedDay = day;
    if (ch !== CLOSED) sessions[day] |= i & 1 ? PM_SESSION : AM_SESSION;
  }
  return days;
}

/** The observed sessions of a school-year from the marks of every pupil in its register. */
export function sessionDaysFromMarks(academicYear: number, marksOfEveryPupil: Iterable<string>): SchoolSessionDays {
  const days = emptySessionDays(academicYear);
  for (const marks of marksOfEveryPupil) addMarksToSessionDays(days, marks);
  return days;
}

// ---- Calendar sources ----------------------------------------------------------------------------

/** A closure, inclusive of both dates. No urn (or empty): LA-wide. */
export interface Closure {
  start: string;
  end: string;
  label: string;
  urn?: string;
}

export interface SchoolCalendarSources {
  urn: string;
  /** The school's observed sessions, one per academic year held (any order). */
  registers?: readonly SchoolSessionDays[];
  /** LA-wide closures and any school's own; closures for other schools are ignored. */
  closures?: readonly Closure[];
  /** England and Wales bank holidays: date → title. */
  bankHolidays?: ReadonlyMap<string, string>;
}

/** gov.uk bank-holidays.json events (one division) → Map<date, title>. */
export function bankHolidayMap(events: readonly { date: string; title: string }[]): Map<string, string> {
  return new Map(events.map((e) => [e.date, e.title]));
}

interface DayClosure {
  from: number;
  to: number;
  label: string;
}

interface YearCalendar {
  startDay: number;
  length: number;
  sessions: Uint8Array;
  /** Closure labels by day slot, where a calendar names the day. */
  labels: Map<number, string[]>;
}

/** Day slot of 30 September: a register whose first session is on or before it started with the school year. */
const LAST_START_OF_YEAR_SLOT = 60;

/**
 * The first day slot a register speaks for. A register that starts with the school year (first
 * session by 30 September) covers its year from 1 August, so the summer holiday and September INSET
 * days are no-session days. One that starts later (the school joined, or the service went live,
 * mid-year) says nothing about the days before its first session: they fall to the calendars, so
 * the go-live date is never mistaken for the end of a break.
 */
function registerCoveredFrom(register: SchoolSessionDays): number {
  let first = 0;
  while (first < register.sessions.length && register.sessions[first] === 0) first++;
  return first <= LAST_START_OF_YEAR_SLOT ? 0 : first;
}

/** A school's merged calendar; build with `schoolCalendar`. Years are computed on first use. */
export class SchoolCalendar {
  readonly urn: string;
  private readonly registers = new Map<number, SchoolSessionDays>();
  private readonly latestRegisterYear: number;
  private readonly own: DayClosure[];
  private readonly la: DayClosure[];
  private readonly bankHolidays: ReadonlyMap<number, string>;
  private readonly years = new Map<number, YearCalendar>();
  private last: YearCalendar | undefined;

  constructor(sources: SchoolCalendarSources) {
    this.urn = sources.urn;
    let latest = -Infinity;
    for (const r of sources.registers ?? []) {
      if (r.lastMarkedDay < 0) continue;
      this.registers.set(r.academicYear, r);
      latest = Math.max(latest, r.academicYear);
    }
    this.latestRegisterYear = latest;
    const toDays = (c: Closure): DayClosure => ({ from: dayNumber(c.start), to: dayNumber(c.end), label: c.label });
    const closures = sources.closures ?? [];
    this.own = closures.filter((c) => c.urn && c.urn === this.urn).map(toDays);
    this.la = closures.filter((c) => !c.urn).map(toDays);
    this.bankHolidays = new Map(
      [...(sources.bankHolidays ?? new Map<string, string>())].map(([d, t]) => [dayNumber(d), t]),
    );
  }

  /** AM_SESSION | PM_SESSION bits for a day number (days since 1970-01-01). */
  sessionsOnDay(day: number): number {
    const y = this.yearOfDay(day);
    return y.sessions[day - y.startDay];
  }

  isSchoolDayNumber(day: number): boolean {
    return this.sessionsOnDay(day) !== 0;
  }

  /** Labels that name the day: closure labels from the calendar in authority, then a bank holiday's title. */
  labelsOnDay(day: number): readonly string[] {
    const y = this.yearOfDay(day);
    return y.labels.get(day - y.startDay) ?? [];
  }

  private yearOfDay(day: number): YearCalendar {
    const l = this.last;
    if (l && day >= l.startDay && day < l.startDay + l.length) return l;
    const d = new Date(day * 86_400_000);
    const year = d.getUTCMonth() >= 7 ? d.getUTCFullYear() : d.getUTCFullYear() - 1;
    let y = this.years.get(year);
    if (!y) {
      y = this.computeYear(year);
      this.years.set(year, y);
    }
    this.last = y;
    return y;
  }

  private computeYear(year: number): YearCalendar {
    const startDay = dayNumber(academicYearStart(year));
    const length = academicYearLength(year);
    const endDay = startDay + length - 1;
    const register = this.registers.get(year);
    // The register speaks for its year up to its last marked day, or all of it once a later year has marks.
    const coveredTo = !register ? -1 : year < this.latestRegisterYear ? length - 1 : register.lastMarkedDay;
    const coveredFrom = register ? registerCoveredFrom(register) : 0;
    const overlaps = (c: DayClosure) => c.to >= startDay && c.from <= endDay;
    const own = this.own.filter(overlaps);
    const la = this.la.filter(overlaps);
    const ownIsTermDates = own.some((c) => c.to - c.from + 1 >= MIN_BREAK_DAYS);
    const inForce = ownIsTermDates ? own : [...own, ...la];

    const sessions = new Uint8Array(DAYS_PER_YEAR_SLOT);
    const closed = new Uint8Array(DAYS_PER_YEAR_SLOT);
    const labels = new Map<number, string[]>();
    for (const c of inForce) {
      for (let d = Math.max(c.from, startDay); d <= Math.min(c.to, endDay); d++) {
        const i = d - startDay;
        closed[i] = 1;
        const list = labels.get(i);
        if (!list) labels.set(i, [c.label]);
        else if (!list.includes(c.label)) list.push(c.label);
      }
    }
    for (let i = 0; i < length; i++) {
      const day = startDay + i;
      const bankHoliday = this.bankHolidays.get(day);
      if (bankHoliday !== undefined) {
        const list = labels.get(i);
        if (!list) labels.set(i, [bankHoliday]);
        else if (!list.includes(bankHoliday)) list.push(bankHoliday);
        continue;
      }
      if (i >= coveredFrom && i <= coveredTo) sessions[i] = (register as SchoolSessionDays).sessions[i];
      else if (!closed[i] && isWeekdayNumber(day)) sessions[i] = BOTH_SESSIONS;
    }
    return { startDay, length, sessions, labels };
  }
}

export function schoolCalendar(sources: SchoolCalendarSources): SchoolCalendar {
  return new SchoolCalendar(sources);
}

/** Monday = 0 … Sunday = 6, for a day number. */
function weekdayOfDay(day: number): number {
  return (((day + 3) % 7) + 7) % 7;
}

function isWeekdayNumber(day: number): boolean {
  return weekdayOfDay(day) < 5;
}

// ---- School days ---------------------------------------------------------------------------------

export function sessionsOn(cal: SchoolCalendar, date: string): { am: boolean; pm: boolean } {
  const bits = cal.sessionsOnDay(dayNumber(date));
  return { am: (bits & AM_SESSION) !== 0, pm: (bits & PM_SESSION) !== 0 };
}

export function isSchoolDay(cal: SchoolCalendar, date: string): boolean {
  return cal.isSchoolDayNumber(dayNumber(date));
}

/** School days in [from, to], inclusive, in order. */
export function schoolDays(cal: SchoolCalendar, from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = dayNumber(from), end = dayNumber(to); d <= end; d++)
    if (cal.isSchoolDayNumber(d)) out.push(fromDayNumber(d));
  return out;
}

export function countSchoolDays(cal: SchoolCalendar, from: string, to: string): number {
  let n = 0;
  for (let d = dayNumber(from), end = dayNumber(to); d <= end; d++) if (cal.isSchoolDayNumber(d)) n++;
  return n;
}

/** The first `n` school days on or after `start`, in order (fewer only if none are found within years). */
export function schoolDaysFrom(cal: SchoolCalendar, start: string, n: number): string[] {
  const out: string[] = [];
  const first = dayNumber(start);
  for (let d = first; out.length < n && d < first + MAX_SCAN_DAYS * 2; d++)
    if (cal.isSchoolDayNumber(d)) out.push(fromDayNumber(d));
  return out;
}

// ---- Breaks --------------------------------------------------------------------------------------

export interface SchoolBreak {
  /** First and last calendar day without sessions (inclusive). */
  start: string;
  end: string;
  /** Calendar days in the break. */
  days: number;
  /** The closure label in force (e.g. "Easter holiday"), else a bank holiday's title, else null. */
  label: string | null;
  /** Every closure label and bank-holiday title found on the break's days, closure labels first. */
  labels: string[];
}

interface DayRun {
  from: number;
  to: number;
}

/** Runs of days without sessions that are breaks and overlap [fromDay, toDay], in order. */
function breakRuns(cal: SchoolCalendar, fromDay: number, toDay: number): DayRun[] {
  let lo = fromDay;
  while (lo > fromDay - MAX_SCAN_DAYS && !cal.isSchoolDayNumber(lo - 1) && !cal.isSchoolDayNumber(lo)) lo--;
  let hi = toDay;
  while (hi < toDay + MAX_SCAN_DAYS && !cal.isSchoolDayNumber(hi + 1) && !cal.isSchoolDayNumber(hi)) hi++;
  const runs: DayRun[] = [];
  let runStart = -1;
  let weekday = false;
  for (let d = lo; d <= hi + 1; d++) {
    const school = d > hi || cal.isSchoolDayNumber(d);
    if (!school) {
      if (runStart < 0) {
        runStart = d;
        weekday = false;
      }
      if (isWeekdayNumber(d)) weekday = true;
    } else if (runStart >= 0) {
      if (d - runStart >= MIN_BREAK_DAYS && weekday) runs.push({ from: runStart, to: d - 1 });
      runStart = -1;
    }
  }
  return runs;
}

function describeBreak(cal: SchoolCalendar, run: DayRun): SchoolBreak {
  const closureLabels: string[] = [];
  const holidayTitles: string[] = [];
  for (let d = run.from; d <= run.to; d++) {
    const names = cal.labelsOnDay(d);
    if (names.length === 0) continue;
    // labelsOnDay lists closure labels before the bank holiday's title; a bank holiday alone is a title.
    const isBankHoliday = cal.sessionsOnDay(d) === 0 && bankHolidayTitle(cal, d) !== undefined;
    names.forEach((name, i) => {
      const list = isBankHoliday && i === names.length - 1 ? holidayTitles : closureLabels;
      if (!list.includes(name)) list.push(name);
    });
  }
  const labels = [...closureLabels, ...holidayTitles.filter((t) => !closureLabels.includes(t))];
  return {
    start: fromDayNumber(run.from),
    end: fromDayNumber(run.to),
    days: run.to - run.from + 1,
    label: closureLabels[0] ?? holidayTitles[0] ?? null,
    labels,
  };
}

function bankHolidayTitle(cal: SchoolCalendar, day: number): string | undefined {
  return (cal as unknown as { bankHolidays: ReadonlyMap<number, string> }).bankHolidays.get(day);
}

/** Every break overlapping [from, to], with its full extent (it may start before `from` or end after `to`). */
export function breaks(cal: SchoolCalendar, from: string, to: string): SchoolBreak[] {
  return breakRuns(cal, dayNumber(from), dayNumber(to)).map((r) => describeBreak(cal, r));
}

/**
 * The breaks overlapping an academic year (1 August – 31 July), for the school detail view. The summer
 * holidays at both ends appear with their full extent, so they also appear in the neighbouring year.
 */
export function breaksForYear(cal: SchoolCalendar, academicYear: number): SchoolBreak[] {
  const start = academicYearStart(academicYear);
  return breaks(cal, start, fromDayNumber(dayNumber(start) + academicYearLength(academicYear) - 1));
}

// ---- Holiday-adjacent days -----------------------------------------------------------------------

export interface HolidayAdjacentDay {
  date: string;
  side: 'before' | 'after';
  /** 1 = the school day next to the break, up to K. */
  distance: number;
  break: SchoolBreak;
}

/** Walk from `day` in `step` direction collecting up to k school days, never crossing `limit` (exclusive). */
function collectSchoolDays(
  cal: SchoolCalendar,
  day: number,
  step: 1 | -1,
  k: number,
  limit: number | undefined,
): number[] {
  const out: number[] = [];
  for (let d = day, n = 0; out.length < k && n < MAX_SCAN_DAYS; d += step, n++) {
    if (limit !== undefined && (step === 1 ? d >= limit : d <= limit)) break;
    if (cal.isSchoolDayNumber(d)) out.push(d);
  }
  return out;
}

/**
 * The K school days immediately before and after each break (K = LaSettings.holidayAdjacentDays),
 * restricted to [from, to], ordered by date then side. A school day between two breaks that are
 * fewer than 2K school days apart is tagged for both; the days counted never cross another break.
 */
export function holidayAdjacentDays(
  cal: SchoolCalendar,
  from: string,
  to: string,
  k: number = DEFAULT_LA_SETTINGS.holidayAdjacentDays,
): HolidayAdjacentDay[] {
  if (k <= 0) return [];
  const fromDay = dayNumber(from);
  const toDay = dayNumber(to);
  // Breaks up to K school days outside the range still tag days inside it.
  const lo = collectSchoolDays(cal, fromDay - 1, -1, k, undefined).at(-1) ?? fromDay;
  const hi = collectSchoolDays(cal, toDay + 1, 1, k, undefined).at(-1) ?? toDay;
  const runs = breakRuns(cal, Math.min(lo, fromDay), Math.max(hi, toDay));
  const out: HolidayAdjacentDay[] = [];
  runs.forEach((run, i) => {
    const described = describeBreak(cal, run);
    const before = collectSchoolDays(cal, run.from - 1, -1, k, runs[i - 1]?.to);
    const after = collectSchoolDays(cal, run.to + 1, 1, k, runs[i + 1]?.from);
    before.forEach((d, j) => {
      if (d >= fromDay && d <= toDay)
        out.push({ date: fromDayNumber(d), side: 'before', distance: j + 1, break: described });
    });
    after.forEach((d, j) => {
      if (d >= fromDay && d <= toDay)
        out.push({ date: fromDayNumber(d), side: 'after', distance: j + 1, break: described });
    });
  });
  return out.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : a.side === 'after' ? -1 : 1));
}

// ---- Holiday adjacency of a school-year, by day slot ------------------------------------------------

/** A school-year's holiday-adjacent days as a compact lookup for the threshold-gaming detectors. */
export interface SchoolYearAdjacency {
  urn: string;
  academicYear: number;
  /** K used. */
  k: number;
  /**
   * Per day slot of the academic year (DAYS_PER_YEAR_SLOT entries): the index in `breaks` of the break
   * the day is holiday-adjacent to, or −1. A day adjacent to two breaks takes the nearer (else the earlier).
   */
  breakOfDay: Int16Array;
  /** Per day slot: 1–K school days from its break, 0 when not adjacent. */
  distanceOfDay: Uint8Array;
  /** Per day slot: 1 when the calendar makes it a school day. */
  schoolDay: Uint8Array;
  /** The breaks any day of the year is adjacent to (summer breaks at either end included), in date order. */
  breaks: SchoolBreak[];
}

/** The holiday-adjacent days (K either side of each break) of one school's academic year, by day slot. */
export function schoolYearAdjacency(
  cal: SchoolCalendar,
  academicYear: number,
  k: number = DEFAULT_LA_SETTINGS.holidayAdjacentDays,
): SchoolYearAdjacency {
  const startDay = dayNumber(academicYearStart(academicYear));
  const length = academicYearLength(academicYear);
  const breakOfDay = new Int16Array(DAYS_PER_YEAR_SLOT).fill(-1);
  const distanceOfDay = new Uint8Array(DAYS_PER_YEAR_SLOT);
  const schoolDay = new Uint8Array(DAYS_PER_YEAR_SLOT);
  for (let i = 0; i < length; i++) schoolDay[i] = cal.isSchoolDayNumber(startDay + i) ? 1 : 0;
  const breaksOut: SchoolBreak[] = [];
  const indexOf = new Map<string, number>();
  for (const a of holidayAdjacentDays(cal, fromDayNumber(startDay), fromDayNumber(startDay + length - 1), k)) {
    const i = dayNumber(a.date) - startDay;
    if (distanceOfDay[i] !== 0 && distanceOfDay[i] <= a.distance) continue;
    let b = indexOf.get(a.break.start);
    if (b === undefined) {
      b = breaksOut.length;
      breaksOut.push(a.break);
      indexOf.set(a.break.start, b);
    }
    breakOfDay[i] = b;
    distanceOfDay[i] = a.distance;
  }
  // Keep `breaks` in date order (indexes were assigned in date order of the days, which may differ).
  const order = breaksOut.map((_, i) => i).sort((x, y) => (breaksOut[x].start < breaksOut[y].start ? -1 : 1));
  const remap = new Int16Array(order.length);
  order.forEach((old, i) => {
    remap[old] = i;
  });
  for (let i = 0; i < DAYS_PER_YEAR_SLOT; i++) if (breakOfDay[i] >= 0) breakOfDay[i] = remap[breakOfDay[i]];
  return {
    urn: cal.urn,
    academicYear,
    k,
    breakOfDay,
    distanceOfDay,
    schoolDay,
    breaks: order.map((i) => breaksOut[i]),
  };
}
