/**
 * Calendar arithmetic on ISO dates (YYYY-MM-DD), all in UTC so that no time zone or daylight
 * saving change can move a school day. Day numbers are days since 1970-01-01.
 */

const MS_PER_DAY = 86_400_000;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Sessions per day: AM and PM. */
export type Session = 'AM' | 'PM';

/** Slots reserved per academic year: 366 days, so a leap year fits and indexes never shift. */
export const DAYS_PER_YEAR_SLOT = 366;
export const SESSIONS_PER_YEAR_SLOT = DAYS_PER_YEAR_SLOT * 2;

export function isIsoDate(s: string): boolean {
  const m = ISO_DATE.exec(s);
  if (!m) return false;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (mo < 1 || mo > 12 || d < 1) return false;
  return d <= daysInMonth(y, mo);
}

function daysInMonth(y: number, m: number): number {
  return new Date(utcMs(y, m, 0)).getUTCDate();
}

/** Date.UTC, except that years 0–99 are not read as 1900–1999 (so '0025-09-01' is not 1925). */
function utcMs(y: number, monthIndex: number, d: number): number {
  if (y >= 100) return Date.UTC(y, monthIndex, d);
  const t = new Date(0);
  t.setUTCFullYear(y, monthIndex, d);
  return t.getTime();
}

export function dayNumber(iso: string): number {
  const held = dayNumbers.get(iso);
  if (held !== undefined) return held;
  const m = ISO_DATE.exec(iso);
  if (!m) throw new RangeError(`not an ISO date: ${iso}`);
  const n = utcMs(Number(m[1]), Number(m[2]) - 1, Number(m[3])) / MS_PER_DAY;
  if (dayNumbers.size >= DATES_HELD) dayNumbers.clear();
  dayNumbers.set(iso, n);
  return n;
}

/**
 * Day numbers by date, dates by day number and days of the academic year by date: a whole year's back-fill asks for the
 * same couple of hundred dates tens of thousands of times each (parsing, applying, deriving).
 * Bounded: cleared when full.
 */
const dayNumbers = new Map<string, number>();
const academicDays = new Map<string, number>();
const dates = new Map<number, string>();
const DATES_HELD = 8192;

export function fromDayNumber(n: number): string {
  const held = dates.get(n);
  if (held !== undefined) return held;
  const iso = new Date(n * MS_PER_DAY).toISOString().slice(0, 10);
  if (dates.size >= DATES_HELD) dates.clear();
  dates.set(n, iso);
  return iso;
}

export function addDays(iso: string, days: number): string {
  return fromDayNumber(dayNumber(iso) + days);
}

/** 0 = Monday … 6 = Sunday. */
export function weekdayIndex(iso: string): number {
  return (((dayNumber(iso) + 3) % 7) + 7) % 7; // 1970-01-01 was a Thursday
}

export function isWeekend(iso: string): boolean {
  return weekdayIndex(iso) >= 5;
}

/** The Monday of the calendar week (Monday–Sunday) containing the date. */
export function weekStart(iso: string): string {
  return addDays(iso, -weekdayIndex(iso));
}

/** Academic year (1 August – 31 July) named by its starting calendar year: 2025 means 2025/26. */
export function academicYearOf(iso: string): number {
  const y = Number(iso.slice(0, 4));
  return iso.slice(5) >= '08-01' ? y : y - 1;
}

export function academicYearStart(year: number): string {
  return `${year}-08-01`;
}

export function academicYearEnd(year: number): string {
  return `${year + 1}-07-31`;
}

export function academicYearLabel(year: number): string {
  return `${year}/${String((year + 1) % 100).padStart(2, '0')}`;
}

/** Index of the date within its academic year: 1 August = 0. */
export function dayOfAcademicYear(iso: string): number {
  const held = academicDays.get(iso);
  if (held !== undefined) return held;
  const day = dayNumber(iso) - dayNumber(academicYearStart(academicYearOf(iso)));
  if (academicDays.size >= DATES_HELD) academicDays.clear();
  academicDays.set(iso, day);
  return day;
}

export function dateOfAcademicDay(year: number, dayIndex: number): string {
  return fromDayNumber(dayNumber(academicYearStart(year)) + dayIndex);
}

/** Number of real days in the academic year (365 or 366). */
export function academicYearLength(year: number): number {
  return dayNumber(academicYearEnd(year)) - dayNumber(academicYearStart(year)) + 1;
}

/** Session slot index within the academic year: day × 2 (+1 for PM). */
export function sessionIndex(iso: string, session: Session): number {
  return dayOfAcademicYear(iso) * 2 + (session === 'PM' ? 1 : 0);
}

export function sessionOfIndex(year: number, index: number): { date: string; session: Session } {
  return { date: dateOfAcademicDay(year, index >> 1), session: index & 1 ? 'PM' : 'AM' };
}

/** Whole years of age on a date (birthday on that date counts). */
export function ageOn(dob: string, onDate: string): number {
  const [by, bm, bd] = dob.split('-').map(Number);
  const [y, m, d] = onDate.split('-').map(Number);
  let age = y - by;
  if (m < bm || (m === bm && d < bd)) age -= 1;
  return age;
}

export function minDate(a: string, b: string): string {
  return a <= b ? a : b;
}

// Built once: constructing a time-zone formatter costs far more than formatting with it, and every
// request asks for today.
const ENGLAND_DATE = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Europe/London',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

/** Today's date in UK terms (Europe/London), so an upload at 00:30 BST is not "tomorrow" in UTC. */
export function todayInEngland(now: Date = new Date()): string {
  return ENGLAND_DATE.format(now);
}

/**
 * The instant (ISO, UTC) a day in England begins: midnight in Europe/London, which is 23:00 UTC the
 * day before in British Summer Time (the clocks change at 01:00 UTC, never at midnight).
 */
export function startOfDayInEngland(iso: string): string {
  const bst = `${addDays(iso, -1)}T23:00:00.000Z`;
  return todayInEngland(new Date(bst)) === iso ? bst : `${iso}T00:00:00.000Z`;
}
