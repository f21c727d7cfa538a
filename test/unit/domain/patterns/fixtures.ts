/**
 * Hand-built registers for the threshold-gaming detectors: the LA's 2025/26 term dates, bank holidays
 * from the shipped gov.uk snapshot, and pupils present on every school day unless a test codes a day.
 *
 * 2025/26 on the LA calendar (the holiday-adjacent days with K = 2 in brackets):
 * - autumn term from Wed 3 Sep (after summer: 3, 4 Sep)
 * - October half term 27–31 Oct (before: 23, 24 Oct; after: 3, 4 Nov)
 * - Christmas 22 Dec – 2 Jan (before: 18, 19 Dec; after: 5, 6 Jan)
 * - February half term 16–20 Feb (before: 12, 13 Feb; after: 23, 24 Feb)
 * - Easter 30 Mar – 10 Apr (before: 26, 27 Mar; after: 13, 14 Apr)
 * - May Day bank-holiday weekend 2–4 May (before: 30 Apr, 1 May; after: 5, 6 May)
 * - May half term 25–29 May (before: 21, 22 May; after: 1, 2 Jun)
 * - summer from Wed 22 Jul (before: 20, 21 Jul)
 */
import {
  bankHolidayMap,
  schoolCalendar,
  schoolDays,
  sessionDaysFromMarks,
  type Closure,
  type SchoolCalendar,
} from '../../../../shared/domain/calendar.js';
import { MARK_CHAR } from '../../../../shared/domain/codes.js';
import { dayOfAcademicYear } from '../../../../shared/domain/dates.js';
import {
  EMPTY_MARKS,
  NOT_STATED,
  type RegisterPupil,
  type SchoolRegister,
} from '../../../../shared/domain/register.js';
import { DAYS_PER_YEAR_SLOT } from '../../../../shared/domain/dates.js';
import { englandAndWalesBankHolidays } from '../../../../shared/formats/bank-holidays.js';
import type { SchoolPatternSource } from '../../../../shared/domain/patterns/index.js';

export const YEAR = 2025;
export const PERIOD = { from: '2025-08-01', to: '2026-07-31' };
export const BANK_HOLIDAYS: ReadonlyMap<string, string> = bankHolidayMap(
  [...englandAndWalesBankHolidays()].map(([date, title]) => ({ date, title })),
);

export const LA_CLOSURES: Closure[] = [
  { start: '2025-07-23', end: '2025-09-02', label: 'Summer holiday' },
  { start: '2025-10-27', end: '2025-10-31', label: 'October half term' },
  { start: '2025-12-22', end: '2026-01-02', label: 'Christmas holiday' },
  { start: '2026-02-16', end: '2026-02-20', label: 'February half term' },
  { start: '2026-03-30', end: '2026-04-10', label: 'Easter holiday' },
  { start: '2026-05-25', end: '2026-05-29', label: 'May half term' },
  { start: '2026-07-22', end: '2026-08-31', label: 'Summer holiday' },
];

/** An academy with its own dates: October half term a week earlier (20–24 Oct), otherwise the LA's. */
export function academyClosures(urn: string): Closure[] {
  return LA_CLOSURES.map((c) =>
    c.label === 'October half term' ? { ...c, start: '2025-10-20', end: '2025-10-24', urn } : { ...c, urn },
  );
}

/** The school days of a calendar built from closures alone (before any register exists). */
export function termDays(closures: readonly Closure[] = LA_CLOSURES, urn = '100001'): string[] {
  return schoolDays(schoolCalendar({ urn, closures, bankHolidays: BANK_HOLIDAYS }), '2025-08-01', '2026-07-31');
}

export type Codes = Record<string, string | readonly [am: string, pm: string]>;

/** A year of stored marks: present ('/') on every school day in [from, to], the coded days as given. */
export function marksFor(
  days: readonly string[],
  codes: Codes = {},
  range: { from?: string; to?: string } = {},
): string {
  const chars = EMPTY_MARKS.split('');
  for (const d of days) {
    if ((range.from && d < range.from) || (range.to && d > range.to)) continue;
    const i = dayOfAcademicYear(d) * 2;
    chars[i] = '/';
    chars[i + 1] = '/';
  }
  for (const [date, code] of Object.entries(codes)) {
    const [am, pm] = typeof code === 'string' ? [code, code] : code;
    const i = dayOfAcademicYear(date) * 2;
    const toChar = (c: string) => (c === '' ? '/' : MARK_CHAR[c]);
    if (toChar(am) === undefined || toChar(pm) === undefined) throw new Error(`unknown code on ${date}`);
    chars[i] = toChar(am);
    chars[i + 1] = toChar(pm);
  }
  return chars.join('');
}

/** The same code on every listed date. */
export function on(dates: readonly string[], code: string | readonly [string, string]): Codes {
  return Object.fromEntries(dates.map((d) => [d, code]));
}

export interface HandPupil {
  upn: string;
  marks: string;
  uprn?: string;
}

const EMPTY_STATED = NOT_STATED.repeat(DAYS_PER_YEAR_SLOT);

export function registerOf(urn: string, pupils: readonly HandPupil[], academicYear = YEAR): SchoolRegister {
  const map = new Map<string, RegisterPupil>();
  for (const p of pupils) {
    let first = -1;
    let last = -1;
    for (let i = 0; i < p.marks.length; i++) {
      if (p.marks[i] === '.') continue;
      if (first < 0) first = i >> 1;
      last = i >> 1;
    }
    const date = (d: number) => new Date(Date.UTC(academicYear, 7, 1 + d)).toISOString().slice(0, 10);
    map.set(p.upn, {
      upn: p.upn,
      uprn: p.uprn,
      registration: 'C',
      firstListed: date(Math.max(0, first)),
      lastListed: date(Math.max(0, last)),
      marks: p.marks,
      stated: {
        fsm: EMPTY_STATED,
        sen: EMPTY_STATED,
        cla: EMPTY_STATED,
        plac: EMPTY_STATED,
        cin: EMPTY_STATED,
        cpp: EMPTY_STATED,
      },
    });
  }
  return { urn, academicYear, version: 1, appliedReturns: [], pupils: map };
}

/** A school's calendar from its register(s), the closures in force and the bank holidays. */
export function calendarOf(
  urn: string,
  registers: readonly SchoolRegister[],
  closures: readonly Closure[] = LA_CLOSURES,
): SchoolCalendar {
  return schoolCalendar({
    urn,
    registers: registers.map((r) =>
      sessionDaysFromMarks(
        r.academicYear,
        [...r.pupils.values()].map((p) => p.marks),
      ),
    ),
    closures,
    bankHolidays: BANK_HOLIDAYS,
  });
}

/** A school for `detectPatterns`: its register of the given pupils, on the given closures. */
export function schoolOf(
  urn: string,
  pupils: readonly HandPupil[],
  closures: readonly Closure[] = LA_CLOSURES,
): SchoolPatternSource {
  const register = registerOf(urn, pupils);
  return { urn, registers: [register], calendar: calendarOf(urn, [register], closures) };
}

/** Holiday-adjacent days of the LA calendar, by break (K = 2). */
export const ADJ = {
  summerAfter: ['2025-09-03', '2025-09-04'],
  octBefore: ['2025-10-23', '2025-10-24'],
  octAfter: ['2025-11-03', '2025-11-04'],
  xmasBefore: ['2025-12-18', '2025-12-19'],
  xmasAfter: ['2026-01-05', '2026-01-06'],
  febBefore: ['2026-02-12', '2026-02-13'],
  febAfter: ['2026-02-23', '2026-02-24'],
  easterBefore: ['2026-03-26', '2026-03-27'],
  easterAfter: ['2026-04-13', '2026-04-14'],
  mayDayBefore: ['2026-04-30', '2026-05-01'],
  mayDayAfter: ['2026-05-05', '2026-05-06'],
  mayBefore: ['2026-05-21', '2026-05-22'],
  mayAfter: ['2026-06-01', '2026-06-02'],
  summerBefore: ['2026-07-20', '2026-07-21'],
} as const;

/**
 * A holiday taker's year: both sides of the October and February half terms, the day after Christmas
 * and the day after Easter — six separate absences beside four breaks.
 */
export const BESIDE_FOUR_BREAKS = [
  ...ADJ.octBefore,
  ...ADJ.octAfter,
  ADJ.xmasAfter[0],
  ...ADJ.febBefore,
  ...ADJ.febAfter,
  ADJ.easterAfter[0],
];

/** Ordinary school days well away from every break (mid-week, mid-term). */
export const MID_TERM = [
  '2025-09-17',
  '2025-10-01',
  '2025-10-08',
  '2025-11-19',
  '2025-12-03',
  '2026-01-21',
  '2026-01-28',
  '2026-03-04',
  '2026-03-11',
  '2026-04-22',
  '2026-05-13',
  '2026-06-17',
  '2026-06-24',
  '2026-07-08',
] as const;
