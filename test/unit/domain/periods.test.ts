import { describe, expect, it } from 'vitest';
import { addDays, dayOfAcademicYear, weekdayIndex } from '../../../shared/domain/dates.js';
import {
  customPeriod,
  dayRange,
  easterSunday,
  standardPeriods,
  termPeriods,
  weekOfPeriod,
  weekPeriods,
  yearPeriod,
} from '../../../shared/domain/periods.js';

describe('Easter Sunday', () => {
  it('matches published dates', () => {
    const known: Record<number, string> = {
      2019: '2019-04-21',
      2024: '2024-03-31',
      2025: '2025-04-20',
      2026: '2026-04-05',
      2027: '2027-03-28',
      2038: '2038-04-25',
      2285: '2285-03-22',
    };
    for (const [year, date] of Object.entries(known)) expect(easterSunday(Number(year))).toBe(date);
  });

  it('always falls on a Sunday between 22 March and 25 April', () => {
    for (let y = 2000; y <= 2100; y++) {
      const e = easterSunday(y);
      expect(weekdayIndex(e)).toBe(6);
      expect(e >= `${y}-03-22` && e <= `${y}-04-25`).toBe(true);
    }
  });
});

describe('census terms (DfE absence statistics)', () => {
  it('runs autumn to 31 December, spring to Easter Sunday, summer from Easter Monday to 31 July', () => {
    expect(termPeriods(2025).map((p) => [p.id, p.from, p.to])).toEqual([
      ['autumn', '2025-08-01', '2025-12-31'],
      ['spring', '2026-01-01', '2026-04-05'],
      ['summer', '2026-04-06', '2026-07-31'],
    ]);
  });

  it("uses the Easter of the academic year's second calendar year (early Easter 2024 in 2023/24)", () => {
    const [, spring, summer] = termPeriods(2023);
    expect(spring.to).toBe('2024-03-31');
    expect(summer.from).toBe('2024-04-01');
  });

  it('covers every day of the year exactly once', () => {
    for (const year of [2023, 2024, 2025]) {
      const terms = termPeriods(year);
      const y = yearPeriod(year);
      expect(terms[0].from).toBe(y.from);
      expect(terms[2].to).toBe(y.to);
      expect(addDays(terms[0].to, 1)).toBe(terms[1].from);
      expect(addDays(terms[1].to, 1)).toBe(terms[2].from);
    }
  });
});

describe('week periods', () => {
  it('runs Monday to Sunday, id = the Monday, clipped to the academic year', () => {
    const weeks = weekPeriods(2025);
    expect(weeks[0]).toMatchObject({ id: 'week:2025-07-28', from: '2025-08-01', to: '2025-08-03' });
    expect(weeks[1]).toMatchObject({ id: 'week:2025-08-04', from: '2025-08-04', to: '2025-08-10' });
    expect(weeks.at(-1)).toMatchObject({ id: 'week:2026-07-27', from: '2026-07-27', to: '2026-07-31' });
    expect(weekOfPeriod(weeks[1])).toBe('2025-08-04');
    expect(weekOfPeriod(yearPeriod(2025))).toBeUndefined();
  });

  it('tiles the year with no gap or overlap', () => {
    const weeks = weekPeriods(2025);
    for (let i = 1; i < weeks.length; i++) {
      expect(addDays(weeks[i - 1].to, 1)).toBe(weeks[i].from);
      expect(weekdayIndex(weeks[i].from)).toBe(0);
    }
    expect(weeks).toHaveLength(53);
  });
});

describe('period day ranges', () => {
  it('gives the year 0..364 in a 365-day year and 0..365 in a leap year', () => {
    expect(dayRange(yearPeriod(2025))).toEqual([0, 364]);
    expect(dayRange(yearPeriod(2023))).toEqual([0, 365]);
  });

  it('lists the year, its three terms and every week as the standard periods', () => {
    const p = standardPeriods(2025);
    expect(p.map((x) => x.kind).slice(0, 4)).toEqual(['year', 'term', 'term', 'term']);
    expect(p.filter((x) => x.kind === 'week')).toHaveLength(53);
  });

  it('clips a custom period to the academic year', () => {
    const p = customPeriod(2025, '2025-06-01', '2026-09-30');
    expect([p.from, p.to]).toEqual(['2025-08-01', '2026-07-31']);
    expect(dayRange(customPeriod(2025, '2025-09-01', '2025-09-07'))).toEqual([
      dayOfAcademicYear('2025-09-01'),
      dayOfAcademicYear('2025-09-07'),
    ]);
  });
});
