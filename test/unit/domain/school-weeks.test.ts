import { describe, expect, it } from 'vitest';
import { fromDayNumber } from '../../../shared/domain/dates.js';
import {
  pupilSchoolWeeks,
  pupilTimeline,
  schoolWeekDates,
  sessionEvidence,
  sessionSlotOfDay,
} from '../../../shared/domain/school-weeks.js';
import { dayNumber } from '../../../shared/domain/dates.js';
import { onRoll, school, schoolWeeks, sessionDaysOf } from './registers-by-hand.js';

const A = school('100001');
const B = school('100002');

describe('school weeks of a pupil', () => {
  it("are the calendar weeks with a school session at the pupil's school; holiday weeks are skipped", () => {
    const pupil = onRoll(A);
    const weeks = pupilSchoolWeeks(pupil.enrolments(), sessionDaysOf(A), 2024);
    expect(weeks).toEqual(schoolWeeks(A).filter((w) => w < '2025-08-01'));
    expect(weeks).toContain('2024-10-21');
    expect(weeks).not.toContain('2024-10-28'); // half term
    expect(weeks).toContain('2024-11-04');
    expect(weeks).not.toContain('2024-12-23'); // Christmas
    expect(weeks).not.toContain('2025-07-28'); // summer
  });

  it('count a week with a single school day (a term starting on Wednesday, a bank holiday Monday only)', () => {
    const weeks = pupilSchoolWeeks(onRoll(A).enrolments(), sessionDaysOf(A), 2024);
    expect(weeks[0]).toBe('2024-09-02');
    expect(weeks).toContain('2025-04-21'); // Easter Monday closed, school from Tuesday 22 April
  });

  it('run across academic years, skipping the summer holiday', () => {
    const weeks = pupilSchoolWeeks(onRoll(A).enrolments(), sessionDaysOf(A));
    const i = weeks.indexOf('2025-07-21');
    expect(weeks[i + 1]).toBe('2025-09-01');
  });

  it('include a week in which the school held sessions while the pupil was on roll but had no row', () => {
    const pupil = onRoll(A).codes(['2024-10-14', '2024-10-15', '2024-10-16', '2024-10-17', '2024-10-18'], '.');
    expect(pupilSchoolWeeks(pupil.enrolments(), sessionDaysOf(A), 2024)).toContain('2024-10-14');
  });

  it('exclude weeks before the admission date and after the leaving date', () => {
    // Listed (coded Z, not on roll) from 4 Sep to 20 Dec; admitted 16 Sep, left 8 Nov.
    const pupil = onRoll(A, {
      from: '2024-09-04',
      to: '2024-12-20',
      admissionDate: '2024-09-16',
      leavingDate: '2024-11-08',
      code: 'Z',
    }).codes(
      A.days.filter((d) => d >= '2024-09-16' && d <= '2024-11-08'),
      '/',
    );
    const weeks = pupilSchoolWeeks(pupil.enrolments(), sessionDaysOf(A), 2024);
    expect(weeks[0]).toBe('2024-09-16');
    expect(weeks[weeks.length - 1]).toBe('2024-11-04');
  });

  it('are bounded by the first and last dates the school listed the pupil when no admission or leaving date is given', () => {
    const pupil = onRoll(A, { from: '2024-09-23', to: '2024-10-09' });
    expect(pupilSchoolWeeks(pupil.enrolments(), sessionDaysOf(A), 2024)).toEqual([
      '2024-09-23',
      '2024-09-30',
      '2024-10-07',
    ]);
  });

  it('combine every school the pupil is on roll at, each within its own dates', () => {
    const atA = onRoll(A, { to: '2024-09-27', leavingDate: '2024-09-27' });
    const atB = onRoll(B, { from: '2024-10-14', to: '2024-10-25', admissionDate: '2024-10-14' });
    const weeks = pupilSchoolWeeks([...atA.enrolments(), ...atB.enrolments()], sessionDaysOf(A, B), 2024);
    expect(weeks).toEqual(['2024-09-02', '2024-09-09', '2024-09-16', '2024-09-23', '2024-10-14', '2024-10-21']);
  });

  it("fall back to the pupil's own marks when the school's session days are not supplied; # is no session", () => {
    const pupil = onRoll(A, { from: '2024-09-04', to: '2024-09-20' }).codes(
      ['2024-09-16', '2024-09-17', '2024-09-18', '2024-09-19', '2024-09-20'],
      '#',
    );
    expect(pupilSchoolWeeks(pupil.enrolments(), new Map(), 2024)).toEqual(['2024-09-02', '2024-09-09']);
  });

  it('always include a week in which the pupil holds a possible mark', () => {
    // Session days say nothing for that week (stale); the pupil's N proves a session was held.
    const days = sessionDaysOf(A);
    const stale = new Uint8Array(days.get(`2024#${A.urn}`) as Uint8Array);
    for (let d = 0; d < 366; d++) if (fromDayNumber(dayNumber('2024-08-01') + d) >= '2024-10-14') stale[d] = 0;
    const pupil = onRoll(A, { to: '2024-10-18' }).code('2024-10-15', 'N', 'AM');
    const weeks = pupilSchoolWeeks(pupil.enrolments(), new Map([[`2024#${A.urn}`, stale]]), 2024);
    expect(weeks[weeks.length - 1]).toBe('2024-10-14');
  });
});

describe('one mark per session across schools', () => {
  const effective = (marksA: string, marksB: string, regA: 'C' | 'M' | 'S' = 'M', regB: 'C' | 'M' | 'S' = 'S') => {
    const atA = onRoll(A, { registration: regA, to: '2024-09-20' }).code('2024-09-16', marksA, 'AM');
    const atB = onRoll(B, { registration: regB, to: '2024-09-20' }).code('2024-09-16', marksB, 'AM');
    const t = pupilTimeline([...atA.enrolments(), ...atB.enrolments()], sessionDaysOf(A, B));
    return sessionEvidence(t, sessionSlotOfDay(t, dayNumber('2024-09-16')));
  };

  it('prefers attendance over absence: a pupil present at one school was not absent from the other', () => {
    expect(effective('N', '/')).toMatchObject({ code: '/', urn: B.urn });
    expect(effective('G', 'B')).toMatchObject({ code: 'B', urn: B.urn });
  });

  it('prefers authorised over unauthorised absence, and any possible mark over D', () => {
    expect(effective('N', 'I')).toMatchObject({ code: 'I', urn: B.urn });
    expect(effective('D', 'N')).toMatchObject({ code: 'N', urn: B.urn });
    expect(effective('N', '#')).toMatchObject({ code: 'N', urn: A.urn });
  });

  it('breaks a tie in favour of the main registration, then the lower URN', () => {
    expect(effective('N', 'G', 'S', 'M')).toMatchObject({ code: 'G', urn: B.urn });
    expect(effective('N', 'G', 'C', 'C')).toMatchObject({ code: 'N', urn: A.urn });
  });

  it("lists the timeline's school weeks as Monday dates", () => {
    const t = pupilTimeline(onRoll(A, { to: '2024-09-20' }).enrolments(), sessionDaysOf(A));
    expect(schoolWeekDates(t)).toEqual(['2024-09-02', '2024-09-09', '2024-09-16']);
  });
});
