/**
 * Hand-built registers for the National Framework tests: a school's term dates give its session days,
 * and a pupil on roll there is marked present on every school day unless a test writes other codes.
 */
import { MARK_CHAR } from '../../../shared/domain/codes.js';
import {
  academicYearOf,
  addDays,
  dayOfAcademicYear,
  DAYS_PER_YEAR_SLOT,
  isWeekend,
  weekStart,
} from '../../../shared/domain/dates.js';
import type { Enrolment } from '../../../shared/domain/pupil-summary.js';
import { EMPTY_MARKS, type Registration } from '../../../shared/domain/register.js';

/** Bank holidays (England and Wales) in the years the tests use. */
export const BANK_HOLIDAYS: ReadonlySet<string> = new Set([
  '2024-08-26',
  '2024-12-25',
  '2024-12-26',
  '2025-01-01',
  '2025-04-18',
  '2025-04-21',
  '2025-05-05',
  '2025-05-26',
  '2025-08-25',
  '2025-12-25',
  '2025-12-26',
  '2026-01-01',
  '2026-04-03',
  '2026-04-06',
  '2026-05-04',
  '2026-05-25',
]);

/** A typical English calendar: 2024/25 and 2025/26 terms (half terms and holidays between). */
const TERMS: ReadonlyArray<readonly [string, string]> = [
  ['2024-09-04', '2024-10-25'], // half term 28 Oct – 1 Nov
  ['2024-11-04', '2024-12-20'],
  ['2025-01-06', '2025-02-14'], // half term 17–21 Feb
  ['2025-02-24', '2025-04-04'],
  ['2025-04-22', '2025-05-23'], // half term 26–30 May
  ['2025-06-02', '2025-07-22'], // summer holiday
  ['2025-09-03', '2025-10-24'],
  ['2025-11-03', '2025-12-19'],
  ['2026-01-05', '2026-02-13'],
];

export interface HandSchool {
  urn: string;
  /** School days in date order. */
  days: string[];
}

export function school(urn: string, terms: ReadonlyArray<readonly [string, string]> = TERMS): HandSchool {
  const days: string[] = [];
  for (const [from, to] of terms) {
    for (let d = from; d <= to; d = addDays(d, 1)) if (!isWeekend(d) && !BANK_HOLIDAYS.has(d)) days.push(d);
  }
  return { urn, days };
}

/** Mondays of the weeks holding the school's days, in order ("the school's school weeks"). */
export function schoolWeeks(s: HandSchool): string[] {
  return [...new Set(s.days.map(weekStart))];
}

/** The school days of the school's k-th school week (0-based), optionally from a date. */
export function daysOfSchoolWeek(s: HandSchool, k: number, from?: string): string[] {
  const weeks = schoolWeeks(from ? { ...s, days: s.days.filter((d) => d >= from) } : s);
  return s.days.filter((d) => weekStart(d) === weeks[k]);
}

/** Session days per `${year}#${urn}` for the given schools (every academic year their terms touch). */
export function sessionDaysOf(...schools: HandSchool[]): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const s of schools) {
    for (const d of s.days) {
      const key = `${academicYearOf(d)}#${s.urn}`;
      let days = out.get(key);
      if (!days) out.set(key, (days = new Uint8Array(DAYS_PER_YEAR_SLOT)));
      days[dayOfAcademicYear(d)] = 1;
    }
  }
  return out;
}

export type SessionChoice = 'AM' | 'PM' | 'both';

/** A pupil on roll at a school from `from` to `to` (inclusive), present on every school day unless coded. */
export class OnRoll {
  private readonly marks = new Map<number, string[]>();
  private readonly options: { registration?: Registration; admissionDate?: string; leavingDate?: string; upn?: string };
  readonly from: string;
  readonly to: string;

  constructor(
    readonly school: HandSchool,
    options: {
      from?: string;
      to?: string;
      registration?: Registration;
      admissionDate?: string;
      leavingDate?: string;
      upn?: string;
      code?: string;
    } = {},
  ) {
    this.from = options.from ?? school.days[0];
    this.to = options.to ?? school.days[school.days.length - 1];
    this.options = options;
    for (const d of school.days) if (d >= this.from && d <= this.to) this.code(d, options.code ?? '/');
  }

  /** Write a code for a date (both sessions by default). `.` removes the row, `-` leaves it unmarked. */
  code(date: string, code: string, session: SessionChoice = 'both'): this {
    const year = academicYearOf(date);
    let m = this.marks.get(year);
    if (!m) this.marks.set(year, (m = EMPTY_MARKS.split('')));
    const ch = code === '.' || code === '-' ? code : MARK_CHAR[code];
    if (ch === undefined) throw new Error(`unknown code ${code}`);
    const day = dayOfAcademicYear(date);
    if (session !== 'PM') m[day * 2] = ch;
    if (session !== 'AM') m[day * 2 + 1] = ch;
    return this;
  }

  codes(dates: readonly string[], code: string, session: SessionChoice = 'both'): this {
    for (const d of dates) this.code(d, code, session);
    return this;
  }

  /** Code `n` sessions (AM then PM) over consecutive school days starting at `from`. */
  sessions(from: string, n: number, code: string): this {
    const days = this.school.days.filter((d) => d >= from);
    for (let i = 0; i < n; i++) this.code(days[i >> 1], code, i & 1 ? 'PM' : 'AM');
    return this;
  }

  enrolments(): Enrolment[] {
    const out: Enrolment[] = [];
    for (const [year, m] of [...this.marks].sort((a, b) => a[0] - b[0])) {
      const marks = m.join('');
      const listed: string[] = [];
      for (let day = 0; day < DAYS_PER_YEAR_SLOT; day++) {
        if (marks[day * 2] !== '.' || marks[day * 2 + 1] !== '.') listed.push(addDays(`${year}-08-01`, day));
      }
      out.push({
        upn: this.options.upn ?? 'A999400124001',
        urn: this.school.urn,
        academicYear: year,
        registration: this.options.registration ?? 'C',
        admissionDate: this.options.admissionDate,
        leavingDate: this.options.leavingDate,
        firstListed: listed[0] ?? `${year}-08-01`,
        lastListed: listed[listed.length - 1] ?? `${year}-08-01`,
        marks,
        stated: {
          fsm: '?'.repeat(366),
          sen: '?'.repeat(366),
          cla: '?'.repeat(366),
          plac: '?'.repeat(366),
          cin: '?'.repeat(366),
          cpp: '?'.repeat(366),
        },
      });
    }
    return out;
  }
}

export function onRoll(s: HandSchool, options?: ConstructorParameters<typeof OnRoll>[1]): OnRoll {
  return new OnRoll(s, options);
}

/** The school with only the days up to and including `date` held (its registers so far). */
export function schoolUntil(s: HandSchool, date: string): HandSchool {
  return { urn: s.urn, days: s.days.filter((d) => d <= date) };
}
