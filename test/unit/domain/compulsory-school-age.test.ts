import { describe, expect, it } from 'vitest';
import {
  compulsorySchoolAge,
  isOfCompulsorySchoolAge,
  schoolLeavingDate,
} from '../../../shared/domain/compulsory-school-age.js';

describe('compulsory school age starts on the prescribed day on or after the fifth birthday', () => {
  it('starts on the fifth birthday itself when it is 31 August', () => {
    expect(compulsorySchoolAge('2020-08-31')?.from).toBe('2025-08-31');
    expect(isOfCompulsorySchoolAge('2020-08-31', '2025-08-30')).toBe(false);
    expect(isOfCompulsorySchoolAge('2020-08-31', '2025-08-31')).toBe(true);
  });

  it('starts on 31 December for a fifth birthday on 1 September', () => {
    expect(compulsorySchoolAge('2020-09-01')?.from).toBe('2025-12-31');
    // In Reception all autumn, not yet of compulsory school age.
    expect(isOfCompulsorySchoolAge('2020-09-01', '2025-12-19')).toBe(false);
    expect(isOfCompulsorySchoolAge('2020-09-01', '2026-01-05')).toBe(true);
  });

  it('starts on the fifth birthday itself when it is 31 December', () => {
    expect(compulsorySchoolAge('2020-12-31')?.from).toBe('2025-12-31');
  });

  it('starts on 31 March for a fifth birthday on 1 January', () => {
    expect(compulsorySchoolAge('2021-01-01')?.from).toBe('2026-03-31');
    expect(isOfCompulsorySchoolAge('2021-01-01', '2026-03-30')).toBe(false);
    expect(isOfCompulsorySchoolAge('2021-01-01', '2026-03-31')).toBe(true);
  });

  it('starts on 31 March for a fifth birthday on 31 March and on 31 August for one on 1 April', () => {
    expect(compulsorySchoolAge('2021-03-31')?.from).toBe('2026-03-31');
    expect(compulsorySchoolAge('2021-04-01')?.from).toBe('2026-08-31');
  });

  it('treats a 29 February birth like any February birth (31 March)', () => {
    expect(compulsorySchoolAge('2020-02-29')?.from).toBe('2025-03-31');
  });
});

describe('compulsory school age ends at the end of the last Friday in June of the school year the child turns 16', () => {
  it('finds the last Friday in June', () => {
    expect(schoolLeavingDate(2026)).toBe('2026-06-26');
    expect(schoolLeavingDate(2027)).toBe('2027-06-25');
    expect(schoolLeavingDate(2029)).toBe('2029-06-29');
    expect(schoolLeavingDate(2035)).toBe('2035-06-29');
    expect(schoolLeavingDate(2040)).toBe('2040-06-29');
    expect(schoolLeavingDate(2018)).toBe('2018-06-29');
    expect(schoolLeavingDate(2012)).toBe('2012-06-29');
    expect(schoolLeavingDate(2007)).toBe('2007-06-29');
    expect(schoolLeavingDate(2001)).toBe('2001-06-29');
    expect(schoolLeavingDate(2028)).toBe('2028-06-30');
  });

  it('includes the last Friday in June of Year 11 and excludes the Monday after', () => {
    // Born 2010-01-15: turns 16 on 2026-01-15, in the school year 2025/26 (Year 11).
    expect(compulsorySchoolAge('2010-01-15')?.to).toBe('2026-06-26');
    expect(isOfCompulsorySchoolAge('2010-01-15', '2026-06-26')).toBe(true);
    expect(isOfCompulsorySchoolAge('2010-01-15', '2026-06-29')).toBe(false);
  });

  it('leaves in the June before a sixteenth birthday in July or August (the oldest and youngest of Year 11)', () => {
    expect(compulsorySchoolAge('2009-09-01')?.to).toBe('2026-06-26');
    expect(compulsorySchoolAge('2010-08-31')?.to).toBe('2026-06-26');
    expect(isOfCompulsorySchoolAge('2010-08-31', '2026-06-26')).toBe(true);
  });

  it('keeps a child turning 16 on 1 September of compulsory school age for one more year', () => {
    expect(compulsorySchoolAge('2010-09-01')?.to).toBe('2027-06-25');
  });

  it('never includes a Year 12 student', () => {
    // Born 2009-05-10: turned 16 in Year 11 (2024/25), so in Year 12 in 2025/26.
    expect(isOfCompulsorySchoolAge('2009-05-10', '2025-09-08')).toBe(false);
  });
});

describe('an unknown age', () => {
  it('answers undefined (not false) when the date of birth is missing or invalid', () => {
    expect(isOfCompulsorySchoolAge(undefined, '2025-09-08')).toBeUndefined();
    expect(isOfCompulsorySchoolAge('', '2025-09-08')).toBeUndefined();
    expect(isOfCompulsorySchoolAge('2015-02-30', '2025-09-08')).toBeUndefined();
    expect(compulsorySchoolAge('not-a-date')).toBeUndefined();
  });
});
