import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  academicYearEnd,
  academicYearLabel,
  academicYearLength,
  academicYearOf,
  academicYearStart,
  addDays,
  ageOn,
  dateOfAcademicDay,
  dayNumber,
  dayOfAcademicYear,
  DAYS_PER_YEAR_SLOT,
  fromDayNumber,
  isIsoDate,
  isWeekend,
  SESSIONS_PER_YEAR_SLOT,
  sessionIndex,
  sessionOfIndex,
  startOfDayInEngland,
  todayInEngland,
  weekdayIndex,
  weekStart,
} from '../../../shared/domain/dates.js';

describe('ISO dates', () => {
  it('accepts real YYYY-MM-DD dates, including 29 February in a leap year', () => {
    for (const d of ['2024-02-29', '2025-01-31', '2000-02-29', '2025-12-31']) expect(isIsoDate(d)).toBe(true);
  });

  it('rejects impossible or differently written dates', () => {
    for (const d of [
      '2025-02-29',
      '1900-02-29',
      '2025-04-31',
      '2025-13-01',
      '2025-00-10',
      '2025-01-00',
      '2025-1-5',
      '01/09/2025',
      '2025-09-01T00:00',
      '',
    ]) {
      expect(isIsoDate(d)).toBe(false);
    }
  });

  it('round-trips day numbers for any date', () => {
    fc.assert(fc.property(fc.integer({ min: -3650, max: 40_000 }), (n) => dayNumber(fromDayNumber(n)) === n));
  });

  it('adds days across month, year and leap-day boundaries', () => {
    expect(addDays('2024-02-28', 1)).toBe('2024-02-29');
    expect(addDays('2025-02-28', 1)).toBe('2025-03-01');
    expect(addDays('2025-12-31', 1)).toBe('2026-01-01');
    expect(addDays('2026-01-01', -1)).toBe('2025-12-31');
  });

  it('reads years before 100 as written, not as 19xx', () => {
    expect(addDays('0025-09-01', 1)).toBe('0025-09-02');
    expect(fromDayNumber(dayNumber('0025-09-01'))).toBe('0025-09-01');
    expect(isIsoDate('0004-02-29')).toBe(true);
    expect(isIsoDate('0100-02-29')).toBe(false);
  });

  it('is unaffected by the clocks changing (UK BST ends 2025-10-26)', () => {
    expect(addDays('2025-10-25', 2)).toBe('2025-10-27');
    expect(dayNumber('2025-10-27') - dayNumber('2025-10-26')).toBe(1);
  });
});

describe('weeks (Monday–Sunday)', () => {
  it('numbers weekdays from Monday = 0 to Sunday = 6', () => {
    expect(weekdayIndex('2025-09-01')).toBe(0); // a Monday
    expect(weekdayIndex('2025-09-07')).toBe(6);
    expect(weekdayIndex('1970-01-01')).toBe(3); // a Thursday
    expect(weekdayIndex('1969-12-29')).toBe(0); // before day 0
  });

  it('treats Saturday and Sunday as the weekend', () => {
    expect(['2025-09-05', '2025-09-06', '2025-09-07'].map(isWeekend)).toEqual([false, true, true]);
  });

  it('starts each week on its Monday', () => {
    expect(weekStart('2025-09-07')).toBe('2025-09-01');
    expect(weekStart('2025-09-01')).toBe('2025-09-01');
    expect(weekStart('2026-01-01')).toBe('2025-12-29');
  });
});

describe('academic years (1 August – 31 July)', () => {
  it('names the year by its first calendar year: 31 July belongs to the year before, 1 August to the new one', () => {
    expect(academicYearOf('2025-07-31')).toBe(2024);
    expect(academicYearOf('2025-08-01')).toBe(2025);
    expect(academicYearOf('2026-07-31')).toBe(2025);
  });

  it('runs from 1 August to 31 July with a label like 2025/26', () => {
    expect([academicYearStart(2025), academicYearEnd(2025), academicYearLabel(2025)]).toEqual([
      '2025-08-01',
      '2026-07-31',
      '2025/26',
    ]);
    expect(academicYearLabel(2099)).toBe('2099/00');
  });

  it('has 366 days when it contains 29 February, else 365', () => {
    expect(academicYearLength(2023)).toBe(366); // contains 2024-02-29
    expect(academicYearLength(2024)).toBe(365);
  });

  it('reserves 366 day slots and 732 session slots for every year', () => {
    expect(DAYS_PER_YEAR_SLOT).toBe(366);
    expect(SESSIONS_PER_YEAR_SLOT).toBe(732);
  });

  it('indexes days from 1 August = 0 to 31 July = 364 or 365', () => {
    expect(dayOfAcademicYear('2025-08-01')).toBe(0);
    expect(dayOfAcademicYear('2026-07-31')).toBe(364);
    expect(dayOfAcademicYear('2024-07-31')).toBe(365);
    expect(dateOfAcademicDay(2025, 0)).toBe('2025-08-01');
    expect(dateOfAcademicDay(2023, 365)).toBe('2024-07-31');
  });

  it('puts AM at day × 2 and PM at day × 2 + 1, and back', () => {
    expect(sessionIndex('2025-08-01', 'AM')).toBe(0);
    expect(sessionIndex('2025-08-01', 'PM')).toBe(1);
    expect(sessionIndex('2025-09-01', 'PM')).toBe(63);
    expect(sessionOfIndex(2025, 63)).toEqual({ date: '2025-09-01', session: 'PM' });
    expect(sessionOfIndex(2025, 62)).toEqual({ date: '2025-09-01', session: 'AM' });
  });
});

describe('ageOn', () => {
  it('counts a birthday on the day itself', () => {
    expect(ageOn('2020-08-31', '2025-08-31')).toBe(5);
    expect(ageOn('2020-09-01', '2025-08-31')).toBe(4);
  });

  it('ages a 29 February birthday on 1 March in other years', () => {
    expect(ageOn('2016-02-29', '2025-02-28')).toBe(8);
    expect(ageOn('2016-02-29', '2025-03-01')).toBe(9);
  });
});

describe('todayInEngland', () => {
  it('uses the UK date, so 00:30 BST is already the next day while UTC is still on the previous one', () => {
    expect(todayInEngland(new Date('2025-09-01T23:30:00Z'))).toBe('2025-09-02');
  });

  it('uses GMT in winter', () => {
    expect(todayInEngland(new Date('2025-12-01T23:30:00Z'))).toBe('2025-12-01');
  });
});

describe('startOfDayInEngland', () => {
  it('is 23:00 UTC the day before in summer time and 00:00 UTC in winter, on each side of both clock changes', () => {
    // Clocks go forward at 01:00 UTC on 29 March 2026 and back at 01:00 UTC on 25 October 2026.
    expect(startOfDayInEngland('2026-03-29')).toBe('2026-03-29T00:00:00.000Z');
    expect(startOfDayInEngland('2026-03-30')).toBe('2026-03-29T23:00:00.000Z');
    expect(startOfDayInEngland('2026-10-25')).toBe('2026-10-24T23:00:00.000Z');
    expect(startOfDayInEngland('2026-10-26')).toBe('2026-10-26T00:00:00.000Z');
    expect(startOfDayInEngland('2026-06-01')).toBe('2026-05-31T23:00:00.000Z');
    expect(startOfDayInEngland('2026-01-01')).toBe('2026-01-01T00:00:00.000Z');
  });

  it('is the first instant todayInEngland calls that day', () => {
    for (const day of ['2026-03-29', '2026-03-30', '2026-10-25', '2026-10-26', '2026-07-01']) {
      const start = new Date(startOfDayInEngland(day));
      expect(todayInEngland(start)).toBe(day);
      expect(todayInEngland(new Date(start.getTime() - 1))).toBe(addDays(day, -1));
    }
  });
});
