/**
 * School-day arithmetic for one calendar over one academic year, in the day indexes the generator
 * uses (1 August = 0): the school days in order, breaks with their holiday-adjacent days (docs/design.md
 * §2.3, K from LaSettings), school weeks, and the seasonal factor of the absence model.
 */
import { DEFAULT_LA_SETTINGS } from '../../shared/config.js';
import { academicYearStart, dayNumber, fromDayNumber, weekdayIndex } from '../../shared/domain/dates.js';
import { DAY_SCHOOL, yearBreaks, type TermCalendar, type YearBreak } from './calendar.js';
import { END_OF_TERM_FACTOR, MONTH_FACTOR, PRE_BREAK_FACTOR } from './calibration.js';

export class Timetable {
  readonly schoolDays: number[] = [];
  /** Day index → position in schoolDays, or −1. */
  readonly ordinal: Int32Array;
  readonly breaks: YearBreak[];
  /** 1 on holiday-adjacent days. */
  readonly adjacent: Uint8Array;
  /** Day index → ordinal of its school week (calendar weeks holding a school day), or −1. */
  readonly week: Int32Array;
  /** Relative absence on each school day (mean 1 over the year's school days). */
  readonly season: Float32Array;
  private readonly yearStart: number;

  constructor(
    readonly calendar: TermCalendar,
    k: number = DEFAULT_LA_SETTINGS.holidayAdjacentDays,
  ) {
    const n = calendar.status.length;
    this.yearStart = dayNumber(academicYearStart(calendar.academicYear));
    this.ordinal = new Int32Array(n).fill(-1);
    for (let i = 0; i < n; i++) {
      if (calendar.status[i] !== DAY_SCHOOL) continue;
      this.ordinal[i] = this.schoolDays.length;
      this.schoolDays.push(i);
    }
    this.breaks = yearBreaks(calendar, k);
    this.adjacent = new Uint8Array(n);
    for (const b of this.breaks) for (const d of [...b.before, ...b.after]) this.adjacent[d] = 1;
    this.week = new Int32Array(n).fill(-1);
    let lastMonday = -1;
    let weeks = -1;
    for (const d of this.schoolDays) {
      const monday = d - weekdayIndex(this.date(d));
      if (monday !== lastMonday) {
        weeks++;
        lastMonday = monday;
      }
      this.week[d] = weeks;
    }
    this.season = this.seasonFactors();
  }

  date(day: number): string {
    return fromDayNumber(this.yearStart + day);
  }

  /** Day index of a date (may fall outside the year). */
  dayOf(date: string): number {
    return dayNumber(date) - this.yearStart;
  }

  isSchoolDay(day: number): boolean {
    return day >= 0 && day < this.ordinal.length && this.ordinal[day] >= 0;
  }

  /** The school day `n` school days after (negative: before) a school day; −1 beyond the year. */
  shift(day: number, n: number): number {
    const o = this.ordinal[day] + n;
    return o >= 0 && o < this.schoolDays.length ? this.schoolDays[o] : -1;
  }

  /** The last school day before `day` (which need not be a school day), or −1. */
  previousSchoolDay(day: number): number {
    for (let d = day - 1; d >= 0; d--) if (this.ordinal[d] >= 0) return d;
    return -1;
  }

  nextSchoolDay(day: number): number {
    for (let d = day + 1; d < this.ordinal.length; d++) if (this.ordinal[d] >= 0) return d;
    return -1;
  }

  /** School days in [lo, hi]. */
  schoolDaysIn(lo: number, hi: number): number[] {
    return this.schoolDays.filter((d) => d >= lo && d <= hi);
  }

  /**
   * Month shape, plus the week before each half term or holiday and the last week of the autumn
   * and summer terms, normalised to a mean of 1 over the year so the annual rates hold.
   */
  private seasonFactors(): Float32Array {
    const f = new Float32Array(this.ordinal.length);
    for (const d of this.schoolDays) f[d] = MONTH_FACTOR[Number(this.date(d).slice(5, 7))] ?? 1;
    for (const b of this.breaks) {
      const weekdays = countWeekdays(this, b.from, b.to);
      if (weekdays < 4) continue; // bank-holiday weekends and INSET days are not holidays
      const month = Number(this.date(b.to).slice(5, 7));
      const endOfTerm = weekdays >= 9 && (month === 1 || month === 7 || month === 8);
      let d = this.previousSchoolDay(b.from);
      for (let n = 0; n < 5 && d >= 0; n++, d = this.previousSchoolDay(d))
        f[d] *= endOfTerm ? END_OF_TERM_FACTOR : PRE_BREAK_FACTOR;
    }
    let sum = 0;
    for (const d of this.schoolDays) sum += f[d];
    const mean = this.schoolDays.length > 0 ? sum / this.schoolDays.length : 1;
    for (const d of this.schoolDays) f[d] /= mean;
    return f;
  }
}

function countWeekdays(t: Timetable, from: number, to: number): number {
  let n = 0;
  for (let d = from; d <= to; d++) if (weekdayIndex(t.date(d)) < 5) n++;
  return n;
}
