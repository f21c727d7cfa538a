/**
 * Unresolved N (issue 22): a session still coded N (reason not yet provided) more than the LA's limit
 * of school days after it (default 5) is a data-quality fact for the school, not an offence.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_LA_SETTINGS } from '../../../shared/config.js';
import { schoolCalendar } from '../../../shared/domain/calendar.js';
import { MARK_CHAR } from '../../../shared/domain/codes.js';
import {
  countUnresolvedN,
  nSessionsByDate,
  schoolDaysSince,
  sessionsCodedN,
  unresolvedNSessions,
} from '../../../shared/domain/data-quality.js';
import { dayOfAcademicYear } from '../../../shared/domain/dates.js';
import { EMPTY_MARKS, type RegisterPupil, type SchoolRegister } from '../../../shared/domain/register.js';

const URN = '100001';
const LIMIT = DEFAULT_LA_SETTINGS.unresolvedNSchoolDays;
/** Weekdays are school days, bank holidays are not; the LA's half term 28 Oct – 1 Nov 2024 is closed. */
const cal = schoolCalendar({
  urn: URN,
  closures: [{ start: '2024-10-28', end: '2024-11-01', label: 'Half term' }],
  bankHolidays: new Map([['2024-12-25', 'Christmas Day']]),
});

function pupil(upn: string, codes: Record<string, [string, string]>): RegisterPupil {
  const m = EMPTY_MARKS.split('');
  for (const [date, [am, pm]] of Object.entries(codes)) {
    const d = dayOfAcademicYear(date);
    m[d * 2] = MARK_CHAR[am];
    m[d * 2 + 1] = MARK_CHAR[pm];
  }
  const dates = Object.keys(codes).sort();
  return {
    upn,
    registration: 'C',
    firstListed: dates[0],
    lastListed: dates[dates.length - 1],
    marks: m.join(''),
    stated: { fsm: '', sen: '', cla: '', plac: '', cin: '', cpp: '' },
  };
}

function register(...pupils: RegisterPupil[]): SchoolRegister {
  return {
    urn: URN,
    academicYear: 2024,
    version: 1,
    appliedReturns: [],
    pupils: new Map(pupils.map((p) => [p.upn, p])),
  };
}

describe('unresolved N (limit 5 school days)', () => {
  // N on Monday 16 September 2024: the fifth school day after it is Monday 23, the sixth Tuesday 24.
  const withN = () => register(pupil('A999400124001', { '2024-09-16': ['N', '/'], '2024-09-17': ['/', '/'] }));
  const resolved = () => register(pupil('A999400124001', { '2024-09-16': ['I', '/'], '2024-09-17': ['/', '/'] }));

  it('is not unresolved on the fifth school day after the session', () => {
    expect(schoolDaysSince(cal, '2024-09-16', '2024-09-23')).toBe(5);
    expect(unresolvedNSessions(sessionsCodedN(withN()), cal, '2024-09-23', LIMIT)).toEqual([]);
  });

  it('is unresolved on the sixth school day after the session, with the school days since', () => {
    expect(unresolvedNSessions(sessionsCodedN(withN()), cal, '2024-09-24', LIMIT)).toEqual([
      { upn: 'A999400124001', date: '2024-09-16', session: 'AM', schoolDaysSince: 6 },
    ]);
  });

  it('is never listed when resolved to I on the fifth school day, and leaves the list when resolved on the sixth', () => {
    expect(unresolvedNSessions(sessionsCodedN(resolved()), cal, '2024-09-23', LIMIT)).toEqual([]);
    expect(unresolvedNSessions(sessionsCodedN(withN()), cal, '2024-09-24', LIMIT)).toHaveLength(1);
    expect(unresolvedNSessions(sessionsCodedN(resolved()), cal, '2024-09-24', LIMIT)).toEqual([]);
  });

  it('counts school days only: weekends, the half term and bank holidays do not use up the limit', () => {
    // N on Thursday 24 October: Fri 25, then half term, then Mon 4 – Thu 7 November are school days 2–5.
    const n = sessionsCodedN(register(pupil('A999400124002', { '2024-10-24': ['N', 'N'] })));
    expect(unresolvedNSessions(n, cal, '2024-11-07', LIMIT)).toEqual([]);
    expect(unresolvedNSessions(n, cal, '2024-11-08', LIMIT).map((s) => s.session)).toEqual(['AM', 'PM']);
    expect(schoolDaysSince(cal, '2024-12-20', '2024-12-27')).toBe(4); // 23, 24, 26, 27 December (25th a bank holiday)
  });

  it('uses the LA-configured limit', () => {
    expect(unresolvedNSessions(sessionsCodedN(withN()), cal, '2024-09-19', 2)).toHaveLength(1);
    expect(unresolvedNSessions(sessionsCodedN(withN()), cal, '2024-09-18', 2)).toEqual([]);
  });

  it("counts a school's unresolved sessions from its N sessions by date", () => {
    const reg = register(
      pupil('A999400124001', { '2024-09-16': ['N', 'N'], '2024-09-23': ['N', '/'] }),
      pupil('A999400124002', { '2024-09-16': ['/', 'N'] }),
    );
    const byDate = nSessionsByDate(sessionsCodedN(reg));
    expect(byDate).toEqual({ '2024-09-16': 3, '2024-09-23': 1 });
    expect(countUnresolvedN(byDate, cal, '2024-09-24', LIMIT)).toBe(3);
    expect(countUnresolvedN(byDate, cal, '2024-10-01', LIMIT)).toBe(4);
  });
});
