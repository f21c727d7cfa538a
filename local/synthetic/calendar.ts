/**
 * Term dates for the synthetic LA: the LA's own calendar plus a few variants (academies that set
 * their own dates, and the neighbouring LA whose schools hold our looked-after children), built by
 * the rules English LAs follow in practice:
 *
 * - autumn term starts on the first Wednesday on or after 2 September, after up to two INSET days;
 *   half term is the week of the last Monday in October; Christmas is two weeks from the Monday on
 *   or before 23 December;
 * - spring term starts with an INSET day; half term is the week of the third Monday in February;
 *   Easter is the two weeks around Easter Sunday (Monday of Holy Week to the Friday after Easter);
 * - summer term starts with an INSET day; half term is the week of the Spring bank holiday (last
 *   Monday in May); the term ends when pupils have had 190 days (schools must meet for 380
 *   sessions a year: DfE, "School attendance" guidance; docs/design.md, Sources: DFE-METH), within 14–25 July;
 * - five INSET days in all (the two in September, the first day of spring and of summer term, and
 *   Fridays mid-term to make up the number), and every England and Wales bank holiday
 *   (shared/reference/bank-holidays.json, the gov.uk feed) is closed.
 *
 * Everything works in day indexes of one academic year (1 August = 0), the domain's own slots.
 */
import { easterSunday } from '../../shared/domain/periods.js';
import { englandAndWalesBankHolidays } from '../../shared/formats/bank-holidays.js';
import {
  academicYearLength,
  academicYearStart,
  addDays,
  dayNumber,
  fromDayNumber,
  weekdayIndex,
} from '../../shared/domain/dates.js';

/** Day status in an academic year. */
export const DAY_CLOSED = 0; // weekend, holiday, bank holiday: no rows
export const DAY_SCHOOL = 1; // a school day: two sessions
export const DAY_INSET = 2; // INSET (staff training) day: no sessions; some schools send `#`

export type CalendarVariant = 'la' | 'academy-early-october' | 'academy-fixed-easter' | 'neighbour-la';

export interface TermClosure {
  start: string;
  end: string; // inclusive
  label: string;
}

export interface TermCalendar {
  variant: CalendarVariant;
  academicYear: number;
  /** Holidays, INSET days and term-time bank holidays, in date order. */
  closures: TermClosure[];
  /** DAY_CLOSED / DAY_SCHOOL / DAY_INSET per day of the academic year. */
  status: Uint8Array;
  /** Pupil days (DAY_SCHOOL) in the year. */
  pupilDays: number;
}

/** A break (docs/design.md §2.3): ≥ 3 consecutive days without sessions containing a weekday. */
export interface YearBreak {
  /** First and last day index without sessions (the first may be 0: the summer before). */
  from: number;
  to: number;
  label: string;
  /** The K school days immediately before and after it, nearest first. */
  before: number[];
  after: number[];
}

const PUPIL_DAYS = 190;
const INSET_DAYS = 5;

/** Easter Sunday, as the census terms use it (shared/domain/periods.ts). */
export { easterSunday };

function iso(year: number, month: number, day: number): string {
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** Monday on or before the date. */
function mondayOnOrBefore(date: string): string {
  return addDays(date, -weekdayIndex(date));
}

function lastMonday(year: number, month: number): string {
  const next = month === 12 ? iso(year + 1, 1, 1) : iso(year, month + 1, 1);
  return mondayOnOrBefore(addDays(next, -1));
}

function nthMonday(year: number, month: number, n: number): string {
  const first = iso(year, month, 1);
  const offset = (7 - weekdayIndex(first)) % 7;
  return addDays(first, offset + 7 * (n - 1));
}

function firstWeekdayOnOrAfter(date: string, weekday: number): string {
  return addDays(date, (weekday - weekdayIndex(date) + 7) % 7);
}

/** Whether the bank-holiday snapshot covers the academic year. */
export function bankHolidaysCover(academicYear: number): boolean {
  const dates = [...englandAndWalesBankHolidays().keys()];
  return dates[0] <= academicYearStart(academicYear) && dates[dates.length - 1] >= `${academicYear + 1}-07-31`;
}

export function termCalendar(academicYear: number, variant: CalendarVariant): TermCalendar {
  const y = academicYear;
  const bank = englandAndWalesBankHolidays();
  const start = dayNumber(academicYearStart(y));
  const length = academicYearLength(y);
  const idx = (date: string): number => dayNumber(date) - start;
  const isWeekday = (i: number): boolean => weekdayIndex(fromDayNumber(start + i)) < 5;
  const isBank = (i: number): boolean => bank.has(fromDayNumber(start + i));

  const holidays: TermClosure[] = [];
  const holiday = (from: string, to: string, label: string): void => {
    holidays.push({ start: from, end: to, label });
  };
  const week = (monday: string, label: string, weeks = 1): void =>
    holiday(monday, addDays(monday, weeks * 7 - 3), label);

  // Autumn.
  const autumnStart = firstWeekdayOnOrAfter(iso(y, 9, 2), 2);
  let octoberMonday = lastMonday(y, 10);
  if (variant === 'academy-early-october' || variant === 'neighbour-la') octoberMonday = addDays(octoberMonday, -7);
  week(octoberMonday, 'Autumn half term');
  const christmasMonday = mondayOnOrBefore(iso(y, 12, 23));
  holiday(christmasMonday, addDays(christmasMonday, 13), 'Christmas holiday');
  const springStart = addDays(christmasMonday, 14);

  // Spring.
  let februaryMonday = nthMonday(y + 1, 2, 3);
  if (variant === 'academy-early-october') februaryMonday = addDays(februaryMonday, 7);
  if (variant === 'neighbour-la') februaryMonday = addDays(februaryMonday, -7);
  week(februaryMonday, 'Spring half term');
  const easter = easterSunday(y + 1);
  let easterMonday = addDays(easter, -6);
  if (variant === 'academy-fixed-easter') easterMonday = firstWeekdayOnOrAfter(iso(y + 1, 4, 1), 0);
  week(easterMonday, 'Easter holiday', 2);
  const summerStart = addDays(easterMonday, 14);

  // Summer.
  week(lastMonday(y + 1, 5), 'Summer half term');

  // Status before INSET days and the summer end are placed.
  const status = new Uint8Array(length);
  const firstDay = idx(autumnStart);
  for (let i = firstDay; i < length; i++) status[i] = isWeekday(i) && !isBank(i) ? DAY_SCHOOL : DAY_CLOSED;
  for (const h of holidays)
    for (let i = Math.max(0, idx(h.start)); i <= Math.min(length - 1, idx(h.end)); i++) status[i] = DAY_CLOSED;

  // INSET days.
  const inset: number[] = [];
  const firstSchoolDayFrom = (i: number): number => {
    while (i < length && status[i] !== DAY_SCHOOL) i++;
    return i;
  };
  const septemberFirst = idx(iso(y, 9, 1));
  for (let i = Math.max(septemberFirst, firstDay - 2); i < firstDay; i++) if (isWeekday(i) && !isBank(i)) inset.push(i);
  // The fixed-Easter academy keeps its INSET days on Fridays instead of the first day of term.
  if (variant !== 'academy-fixed-easter')
    for (const s of [springStart, summerStart]) inset.push(firstSchoolDayFrom(idx(s)));
  // Fridays mid-term make up the five: three weeks after each half term in turn.
  const fridays = [
    idx(octoberMonday) + 25,
    idx(februaryMonday) + 25,
    idx(lastMonday(y + 1, 5)) + 25,
    idx(octoberMonday) + 39,
  ];
  for (const f of fridays) {
    if (inset.length >= INSET_DAYS) break;
    if (f < length && status[f] === DAY_SCHOOL) inset.push(f);
  }
  for (const i of inset) if (i >= 0 && i < length) status[i] = DAY_INSET;

  // Summer term ends when pupils have had 190 days, within 14–25 July.
  let count = 0;
  let lastDay = -1;
  const earliestEnd = idx(iso(y + 1, 7, 14));
  const latestEnd = idx(iso(y + 1, 7, 25));
  for (let i = 0; i < length; i++) {
    if (status[i] !== DAY_SCHOOL) continue;
    if (i > latestEnd) break;
    count++;
    lastDay = i;
    if (count >= PUPIL_DAYS && i >= earliestEnd) break;
  }
  for (let i = lastDay + 1; i < length; i++) status[i] = DAY_CLOSED;
  const lastDate = fromDayNumber(start + lastDay);
  // The summer holiday before autumn term (up to the first INSET or pupil day) and after summer term.
  let firstOpen = firstDay;
  for (const i of inset) firstOpen = Math.min(firstOpen, i);
  holiday(academicYearStart(y), fromDayNumber(start + firstOpen - 1), 'Summer holiday');
  holiday(addDays(lastDate, 1), `${y + 1}-08-31`, 'Summer holiday');

  const closures: TermClosure[] = [...holidays];
  for (const i of inset)
    closures.push({ start: fromDayNumber(start + i), end: fromDayNumber(start + i), label: 'INSET day' });
  // Bank holidays on weekdays in term time (those in holidays are closed anyway).
  for (const [date, title] of bank) {
    const i = dayNumber(date) - start;
    if (i < firstOpen || i > lastDay || !isWeekday(i)) continue;
    if (holidays.some((h) => h.start <= date && date <= h.end)) continue;
    closures.push({ start: date, end: date, label: title });
  }
  closures.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  let pupilDays = 0;
  for (let i = 0; i < length; i++) if (status[i] === DAY_SCHOOL) pupilDays++;
  return { variant, academicYear: y, closures, status, pupilDays };
}

/**
 * Breaks and their holiday-adjacent days (docs/design.md §2.3) from a year's status: a break is a run of
 * ≥ 3 days without sessions containing a weekday; its adjacent days are the K school days either
 * side, never crossing another break.
 */
export function yearBreaks(cal: TermCalendar, k: number): YearBreak[] {
  const status = cal.status;
  const start = dayNumber(academicYearStart(cal.academicYear));
  const runs: { from: number; to: number }[] = [];
  let runStart = -1;
  let weekday = false;
  for (let i = 0; i <= status.length; i++) {
    const school = i < status.length && status[i] === DAY_SCHOOL;
    if (!school && i < status.length) {
      if (runStart < 0) {
        runStart = i;
        weekday = false;
      }
      if (weekdayIndex(fromDayNumber(start + i)) < 5) weekday = true;
      continue;
    }
    if (runStart >= 0) {
      // A run touching either end of the year continues into the summer holidays: always a break.
      const edge = runStart === 0 || i === status.length;
      if ((i - runStart >= 3 || edge) && weekday) runs.push({ from: runStart, to: i - 1 });
      runStart = -1;
    }
  }
  const labelOf = (from: number, to: number): string => {
    const a = fromDayNumber(start + from);
    const b = fromDayNumber(start + to);
    const c = cal.closures.find((x) => x.start <= b && x.end >= a && x.end.localeCompare(x.start) > 0);
    return c?.label ?? cal.closures.find((x) => x.start <= b && x.end >= a)?.label ?? 'Weekend';
  };
  return runs.map((run, r) => {
    const before: number[] = [];
    const lowLimit = r > 0 ? runs[r - 1].to : -1;
    for (let i = run.from - 1; i > lowLimit && before.length < k; i--) if (status[i] === DAY_SCHOOL) before.push(i);
    const after: number[] = [];
    const highLimit = r + 1 < runs.length ? runs[r + 1].from : status.length;
    for (let i = run.to + 1; i < highLimit && after.length < k; i++) if (status[i] === DAY_SCHOOL) after.push(i);
    return { from: run.from, to: run.to, label: labelOf(run.from, run.to), before, after };
  });
}

/** The calendar as CSV rows `start_date,end_date,label,urn` (urn empty = LA-wide). */
export function calendarCsvRows(closures: readonly TermClosure[], urn: string): string[] {
  return closures.map((c) => `${c.start},${c.end},${csvCell(c.label)},${urn}`);
}

function csvCell(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** An iCalendar file of all-day closures (DTEND exclusive), CRLF line endings, deterministic stamps. */
export function calendarIcs(closures: readonly TermClosure[], name: string, uidPrefix: string, stamp: string): string {
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//Attendance Hub//Synthetic LA//EN',
    'CALSCALE:GREGORIAN',
    `X-WR-CALNAME:${icsText(name)}`,
  ];
  const dtstamp = `${stamp.replace(/-/g, '')}T000000Z`;
  closures.forEach((c, i) => {
    lines.push(
      'BEGIN:VEVENT',
      `UID:${uidPrefix}-${String(i + 1).padStart(3, '0')}@synthetic.attendance-hub`,
      `DTSTAMP:${dtstamp}`,
      `DTSTART;VALUE=DATE:${c.start.replace(/-/g, '')}`,
      `DTEND;VALUE=DATE:${addDays(c.end, 1).replace(/-/g, '')}`,
      `SUMMARY:${icsText(c.label)}`,
      'TRANSP:TRANSPARENT',
      'END:VEVENT',
    );
  });
  lines.push('END:VCALENDAR');
  return `${lines.join('\r\n')}\r\n`;
}

function icsText(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/;/g, '\\;').replace(/,/g, '\\,').replace(/\r?\n/g, '\\n');
}
