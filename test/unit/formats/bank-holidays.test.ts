import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isIsoDate, isWeekend } from '../../../shared/domain/dates.js';
import { bankHolidayCoverage, englandAndWalesBankHolidays } from '../../../shared/formats/bank-holidays.js';

const holidays = englandAndWalesBankHolidays();

describe('England and Wales bank holidays (gov.uk snapshot)', () => {
  it('holds the 2025 bank holidays of England and Wales with their titles', () => {
    const y2025 = [...holidays].filter(([d]) => d.startsWith('2025-'));
    expect(y2025).toEqual([
      ['2025-01-01', 'New Year’s Day'],
      ['2025-04-18', 'Good Friday'],
      ['2025-04-21', 'Easter Monday'],
      ['2025-05-05', 'Early May bank holiday'],
      ['2025-05-26', 'Spring bank holiday'],
      ['2025-08-25', 'Summer bank holiday'],
      ['2025-12-25', 'Christmas Day'],
      ['2025-12-26', 'Boxing Day'],
    ]);
  });

  it('excludes the Scottish and Northern Irish holidays', () => {
    expect(holidays.has('2025-08-04')).toBe(false); // Summer bank holiday, Scotland
    expect(holidays.has('2025-12-01')).toBe(false); // St Andrew's Day (substitute), Scotland
    expect(holidays.has('2025-01-02')).toBe(false); // 2nd January, Scotland
    expect(holidays.has('2025-03-17')).toBe(false); // St Patrick's Day, Northern Ireland
    expect(holidays.has('2025-07-14')).toBe(false); // Battle of the Boyne (substitute), Northern Ireland
  });

  it('lists substitute days, which fall on weekdays (Christmas 2027 falls at a weekend)', () => {
    expect(holidays.get('2027-12-27')).toBe('Christmas Day');
    expect(holidays.get('2027-12-28')).toBe('Boxing Day');
    for (const date of holidays.keys()) {
      expect(isIsoDate(date)).toBe(true);
      expect(isWeekend(date)).toBe(false);
    }
  });

  it('is in date order and covers 2012 to 2028', () => {
    const dates = [...holidays.keys()];
    expect(dates).toEqual([...dates].sort());
    expect(bankHolidayCoverage()).toEqual({ from: '2012-01-02', to: '2028-12-26' });
  });

  it('agrees with the bank holidays in the Sheffield term-dates fixture', () => {
    const json = JSON.parse(
      readFileSync(new URL('../../fixtures/formats/sheffield_term_dates.json', import.meta.url), 'utf8'),
    ) as {
      academic_years: Array<{ bank_holidays: string[] }>;
    };
    const listed = json.academic_years.flatMap((y) => y.bank_holidays);
    expect(listed.length).toBeGreaterThan(20);
    for (const d of listed) expect(holidays.has(d)).toBe(true);
  });
});
