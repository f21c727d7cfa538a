import { describe, expect, it } from 'vitest';
import {
  breaks,
  holidayAdjacentDays,
  isSchoolDay,
  schoolCalendar,
  schoolYearAdjacency,
  sessionDaysFromMarks,
  sessionsOn,
  type Closure,
} from '../../../shared/domain/calendar.js';
import { dayOfAcademicYear } from '../../../shared/domain/dates.js';
import { ADJ, BANK_HOLIDAYS, LA_CLOSURES, academyClosures, marksFor, on, termDays } from './patterns/fixtures.js';

const URN = '100001';
const DAYS = termDays();

/** A school whose register holds marks on the given days (one pupil present on each). */
function registerDays(days: readonly string[], codes: Record<string, string | readonly [string, string]> = {}) {
  return sessionDaysFromMarks(2025, [marksFor(days, codes)]);
}

describe('order of authority for a date', () => {
  it('never makes a bank holiday a school day, even when the register holds marks on it', () => {
    const cal = schoolCalendar({
      urn: URN,
      registers: [registerDays([...DAYS, '2026-05-04'])],
      closures: LA_CLOSURES,
      bankHolidays: BANK_HOLIDAYS,
    });
    expect(isSchoolDay(cal, '2026-05-04')).toBe(false);
    expect(isSchoolDay(cal, '2026-05-05')).toBe(true);
  });

  it('takes the register over the LA calendar for every date the register covers', () => {
    // The school opened on the Monday of the LA's October half term and closed on a Wednesday the LA has open.
    const days = [...DAYS.filter((d) => d !== '2025-10-08'), '2025-10-27'].sort();
    const cal = schoolCalendar({
      urn: URN,
      registers: [registerDays(days)],
      closures: LA_CLOSURES,
      bankHolidays: BANK_HOLIDAYS,
    });
    expect(isSchoolDay(cal, '2025-10-27')).toBe(true);
    expect(isSchoolDay(cal, '2025-10-08')).toBe(false);
  });

  it('treats a day marked only # (planned closure) as covered by the register but not a school day', () => {
    const days = DAYS.filter((d) => d <= '2025-10-10');
    const cal = schoolCalendar({
      urn: URN,
      registers: [registerDays(days, { '2025-10-10': '#' })],
      closures: LA_CLOSURES,
      bankHolidays: BANK_HOLIDAYS,
    });
    expect(isSchoolDay(cal, '2025-10-10')).toBe(false);
    // Past the register's last marked day the LA calendar and weekdays take over.
    expect(isSchoolDay(cal, '2025-10-13')).toBe(true);
    expect(isSchoolDay(cal, '2025-10-27')).toBe(false);
  });

  it('lets a register that starts with the school year speak for the summer before its first session', () => {
    // No LA calendar: August weekdays are still no-session days, so the first days of September follow a break.
    const cal = schoolCalendar({ urn: URN, registers: [registerDays(DAYS)], bankHolidays: BANK_HOLIDAYS });
    expect(isSchoolDay(cal, '2025-08-20')).toBe(false);
    expect(holidayAdjacentDays(cal, '2025-09-01', '2025-09-10').map((d) => d.date)).toEqual([
      '2025-09-03',
      '2025-09-04',
    ]);
  });

  it('does not let a register that starts mid-year (the school joined in November) make a break of the months before it', () => {
    const cal = schoolCalendar({
      urn: URN,
      registers: [registerDays(DAYS.filter((d) => d >= '2025-11-10'))],
      closures: LA_CLOSURES,
      bankHolidays: BANK_HOLIDAYS,
    });
    expect(isSchoolDay(cal, '2025-10-15')).toBe(true);
    expect(breaks(cal, '2025-11-03', '2025-11-12')).toEqual([]);
    expect(holidayAdjacentDays(cal, '2025-11-10', '2025-11-14')).toEqual([]);
  });

  it('keeps AM and PM apart: a morning-only day is a school day with one session', () => {
    const cal = schoolCalendar({
      urn: URN,
      registers: [registerDays(DAYS, { '2025-10-08': ['/', '#'] })],
      bankHolidays: BANK_HOLIDAYS,
    });
    expect(sessionsOn(cal, '2025-10-08')).toEqual({ am: true, pm: false });
    expect(isSchoolDay(cal, '2025-10-08')).toBe(true);
  });

  it("uses the school's own calendar instead of the LA's when it holds a holiday (an academy's own dates)", () => {
    const closures = [...LA_CLOSURES, ...academyClosures('100002')];
    const academy = schoolCalendar({ urn: '100002', closures, bankHolidays: BANK_HOLIDAYS });
    const la = schoolCalendar({ urn: URN, closures, bankHolidays: BANK_HOLIDAYS });
    expect(isSchoolDay(academy, '2025-10-22')).toBe(false);
    expect(isSchoolDay(academy, '2025-10-29')).toBe(true);
    expect(isSchoolDay(la, '2025-10-22')).toBe(true);
    expect(isSchoolDay(la, '2025-10-29')).toBe(false);
  });

  it("adds a school's own short closures (an INSET day) to the LA calendar rather than replacing it", () => {
    const closures: Closure[] = [
      ...LA_CLOSURES,
      { start: '2025-11-14', end: '2025-11-14', label: 'INSET day', urn: URN },
    ];
    const cal = schoolCalendar({ urn: URN, closures, bankHolidays: BANK_HOLIDAYS });
    expect(isSchoolDay(cal, '2025-11-14')).toBe(false);
    expect(isSchoolDay(cal, '2025-10-29')).toBe(false);
  });

  it("ignores another school's own closures", () => {
    const closures: Closure[] = [
      ...LA_CLOSURES,
      { start: '2025-11-10', end: '2025-11-14', label: 'Their week off', urn: '999999' },
    ];
    expect(isSchoolDay(schoolCalendar({ urn: URN, closures, bankHolidays: BANK_HOLIDAYS }), '2025-11-12')).toBe(true);
  });

  it('makes every weekday a school day and no weekend one where no calendar or register speaks', () => {
    const cal = schoolCalendar({ urn: URN });
    expect(isSchoolDay(cal, '2027-03-03')).toBe(true);
    expect(isSchoolDay(cal, '2027-03-06')).toBe(false);
  });
});

describe('breaks: ≥ 3 consecutive days without sessions containing a weekday', () => {
  const withClosure = (start: string, end: string) =>
    schoolCalendar({
      urn: URN,
      closures: [...LA_CLOSURES, { start, end, label: 'Closure' }],
      bankHolidays: BANK_HOLIDAYS,
    });

  it('does not count an ordinary weekend as a break', () => {
    expect(
      breaks(
        schoolCalendar({ urn: URN, closures: LA_CLOSURES, bankHolidays: BANK_HOLIDAYS }),
        '2025-11-15',
        '2025-11-16',
      ),
    ).toEqual([]);
  });

  it('does not count a 2-day midweek closure as a break', () => {
    expect(breaks(withClosure('2025-11-18', '2025-11-19'), '2025-11-17', '2025-11-21')).toEqual([]);
  });

  it('counts a 3-day midweek closure as a break', () => {
    const found = breaks(withClosure('2025-11-18', '2025-11-20'), '2025-11-17', '2025-11-21');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ start: '2025-11-18', end: '2025-11-20', days: 3, label: 'Closure' });
  });

  it('counts a bank-holiday weekend (Saturday to Monday) as a break, named after the bank holiday', () => {
    const found = breaks(
      schoolCalendar({ urn: URN, closures: LA_CLOSURES, bankHolidays: BANK_HOLIDAYS }),
      '2026-05-01',
      '2026-05-05',
    );
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      start: '2026-05-02',
      end: '2026-05-04',
      days: 3,
      label: 'Early May bank holiday',
    });
  });

  it('counts a Friday closure plus the weekend as a break (3 days with a weekday)', () => {
    const found = breaks(withClosure('2025-11-14', '2025-11-14'), '2025-11-13', '2025-11-17');
    expect(found.map((b) => [b.start, b.end])).toEqual([['2025-11-14', '2025-11-16']]);
  });

  it('reports a break with its full extent even when the range covers only part of it', () => {
    const found = breaks(
      schoolCalendar({ urn: URN, closures: LA_CLOSURES, bankHolidays: BANK_HOLIDAYS }),
      '2025-12-30',
      '2025-12-30',
    );
    expect(found[0]).toMatchObject({ start: '2025-12-20', end: '2026-01-04', label: 'Christmas holiday' });
  });
});

describe('holiday-adjacent days', () => {
  const cal = schoolCalendar({ urn: URN, closures: LA_CLOSURES, bankHolidays: BANK_HOLIDAYS });

  it('are the 2 school days immediately before and after a break; the 3rd school day before is not', () => {
    const days = holidayAdjacentDays(cal, '2025-10-20', '2025-11-07', 2);
    expect(days.map((d) => [d.date, d.side, d.distance])).toEqual([
      ['2025-10-23', 'before', 2],
      ['2025-10-24', 'before', 1],
      ['2025-11-03', 'after', 1],
      ['2025-11-04', 'after', 2],
    ]);
  });

  it('follow K (LaSettings.holidayAdjacentDays)', () => {
    expect(holidayAdjacentDays(cal, '2025-10-20', '2025-10-26', 3).map((d) => d.date)).toEqual([
      '2025-10-22',
      '2025-10-23',
      '2025-10-24',
    ]);
    expect(holidayAdjacentDays(cal, '2025-10-20', '2025-10-26', 1).map((d) => d.date)).toEqual(['2025-10-24']);
  });

  it('skip non-school days when counting (the Friday before a bank-holiday Monday is adjacent, and so is the Tuesday after)', () => {
    const days = holidayAdjacentDays(cal, '2026-04-27', '2026-05-08', 2).map((d) => d.date);
    expect(days).toEqual([...ADJ.mayDayBefore, ...ADJ.mayDayAfter]);
  });

  it('tag a day between two close breaks for both, never counting across the other break', () => {
    // A 3-day closure Wed–Fri in the week after October half term leaves Mon 3 and Tue 4 Nov between two breaks.
    const c = schoolCalendar({
      urn: URN,
      closures: [...LA_CLOSURES, { start: '2025-11-05', end: '2025-11-07', label: 'Closure' }],
      bankHolidays: BANK_HOLIDAYS,
    });
    const days = holidayAdjacentDays(c, '2025-11-03', '2025-11-04', 2).map((d) => [d.date, d.side, d.break.start]);
    expect(days).toEqual([
      ['2025-11-03', 'after', '2025-10-25'],
      ['2025-11-03', 'before', '2025-11-05'],
      ['2025-11-04', 'after', '2025-10-25'],
      ['2025-11-04', 'before', '2025-11-05'],
    ]);
  });

  it('by day slot: mark each adjacent day with its break (the nearer of two), and nothing else', () => {
    const a = schoolYearAdjacency(cal, 2025, 2);
    const adjacent = Object.values(ADJ).flat();
    for (const d of adjacent) expect(a.breakOfDay[dayOfAcademicYear(d)], d).toBeGreaterThanOrEqual(0);
    let count = 0;
    for (let i = 0; i < a.breakOfDay.length; i++) if (a.breakOfDay[i] >= 0) count++;
    expect(count).toBe(adjacent.length);
    expect(a.breakOfDay[dayOfAcademicYear('2025-10-22')]).toBe(-1);
    expect(a.breaks[a.breakOfDay[dayOfAcademicYear('2025-10-24')]]).toMatchObject({
      label: 'October half term',
      start: '2025-10-25',
      end: '2025-11-02',
    });
    expect(a.distanceOfDay[dayOfAcademicYear('2025-10-24')]).toBe(1);
    expect(a.distanceOfDay[dayOfAcademicYear('2025-10-23')]).toBe(2);
    expect(a.breaks.map((b) => b.start)).toEqual([...a.breaks.map((b) => b.start)].sort());
  });

  it("follow a register's own closures: a school shut for 3 days midweek has adjacent days either side", () => {
    const register = registerDays(DAYS.filter((d) => d < '2025-11-18' || d > '2025-11-20'));
    const c = schoolCalendar({ urn: URN, registers: [register], closures: LA_CLOSURES, bankHolidays: BANK_HOLIDAYS });
    expect(holidayAdjacentDays(c, '2025-11-13', '2025-11-25', 2).map((d) => d.date)).toEqual([
      '2025-11-14',
      '2025-11-17',
      '2025-11-21',
      '2025-11-24',
    ]);
  });

  it('are the same for a register that marks the same days as the LA calendar', () => {
    const c = schoolCalendar({
      urn: URN,
      registers: [registerDays(DAYS, on(['2025-10-08'], 'I'))],
      closures: LA_CLOSURES,
      bankHolidays: BANK_HOLIDAYS,
    });
    expect(holidayAdjacentDays(c, '2025-08-01', '2026-07-31').map((d) => d.date)).toEqual(
      holidayAdjacentDays(cal, '2025-08-01', '2026-07-31').map((d) => d.date),
    );
  });
});
