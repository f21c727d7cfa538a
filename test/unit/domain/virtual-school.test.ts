import { describe, expect, it } from 'vitest';
import { MARK_CHAR, NO_MARK, UNMARKED } from '../../../shared/domain/codes.js';
import type { CareEpisodeSpan } from '../../../shared/domain/cohorts.js';
import { dayOfAcademicYear, SESSIONS_PER_YEAR_SLOT } from '../../../shared/domain/dates.js';
import type { Enrolment } from '../../../shared/domain/pupil-summary.js';
import { CHARACTERISTICS, NOT_STATED, type Characteristic } from '../../../shared/domain/register.js';
import {
  careEntries,
  careMasks,
  careCohortsOf,
  dailyAlerts,
  defaultAlertDate,
  inCohortFigures,
  pepSummary,
  rollEntry,
  type VirtualSchoolChild,
} from '../../../shared/domain/virtual-school.js';

const YEAR = 2025;

/** An enrolment from marks by date: `{ '2025-09-01': ['/', 'N'] }` ('-' = listed, not yet marked). */
function enrolment(
  upn: string,
  urn: string,
  days: Record<string, [string, string]>,
  stated: Partial<Record<Characteristic, Record<string, string>>> = {},
  academicYear = YEAR,
): Enrolment {
  const marks = NO_MARK.repeat(SESSIONS_PER_YEAR_SLOT).split('');
  for (const [date, [am, pm]] of Object.entries(days)) {
    const d = dayOfAcademicYear(date);
    marks[d * 2] = am === '-' ? UNMARKED : MARK_CHAR[am];
    marks[d * 2 + 1] = pm === '-' ? UNMARKED : MARK_CHAR[pm];
  }
  const st = {} as Record<Characteristic, string>;
  for (const c of CHARACTERISTICS) {
    const chars = NOT_STATED.repeat(366).split('');
    for (const [date, v] of Object.entries(stated[c] ?? {})) chars[dayOfAcademicYear(date)] = v;
    st[c] = chars.join('');
  }
  const dates = Object.keys(days).sort();
  return {
    upn,
    urn,
    academicYear,
    registration: 'C',
    firstListed: dates[0],
    lastListed: dates[dates.length - 1],
    marks: marks.join(''),
    stated: st,
  };
}

function child(upn: string, enrolments: Enrolment[], care: CareEpisodeSpan[] = []): VirtualSchoolChild {
  return { upn, enrolments, care };
}

/** Every weekday of a week as present, for filling a register. */
function presentDays(dates: string[]): Record<string, [string, string]> {
  return Object.fromEntries(dates.map((d) => [d, ['/', '/'] as [string, string]]));
}

describe('entering care', () => {
  it('counts the first day of a period of care as entering care', () => {
    expect(careEntries([{ cohort: 'cla', start: '2025-09-22' }], '2025-09-01', '2025-09-30')).toEqual(['2025-09-22']);
  });

  it('does not count a placement change (an episode starting the day after the last one ended) as entering care', () => {
    const care: CareEpisodeSpan[] = [
      { cohort: 'cla', start: '2025-06-01', end: '2025-09-21' },
      { cohort: 'cla', start: '2025-09-22' },
    ];
    expect(careEntries(care, '2025-09-01', '2025-09-30')).toEqual([]);
  });

  it('counts a return to care after a gap of one day as entering care again', () => {
    const care: CareEpisodeSpan[] = [
      { cohort: 'cla', start: '2025-06-01', end: '2025-09-20' },
      { cohort: 'cla', start: '2025-09-22' },
    ];
    expect(careEntries(care, '2025-09-01', '2025-09-30')).toEqual(['2025-09-22']);
  });

  it('ignores the start of a child-in-need or protection-plan episode', () => {
    expect(
      careEntries(
        [
          { cohort: 'cin', start: '2025-09-22' },
          { cohort: 'cpp', start: '2025-09-22' },
        ],
        '2025-09-01',
        '2025-09-30',
      ),
    ).toEqual([]);
  });
});

describe('default alert date', () => {
  it('is yesterday on a Tuesday to Friday', () => {
    expect(defaultAlertDate('2025-09-24')).toBe('2025-09-23');
  });

  it('is the previous Friday on a Monday (and on a Sunday)', () => {
    expect(defaultAlertDate('2025-09-22')).toBe('2025-09-19');
    expect(defaultAlertDate('2025-09-21')).toBe('2025-09-19');
  });

  it('skips a bank holiday', () => {
    expect(defaultAlertDate('2025-08-26', new Set(['2025-08-25']))).toBe('2025-08-22');
  });
});

describe('care cohorts by day', () => {
  it("takes a school's looked-after flag only on the days that school lists the child", () => {
    const e = enrolment(
      'A',
      '100001',
      { '2025-09-10': ['/', '/'], '2025-09-12': ['/', '/'] },
      { cla: { '2025-09-10': 'Y' } },
    );
    const masks = careMasks(child('A', [e]), YEAR);
    expect(careCohortsOf(masks[dayOfAcademicYear('2025-09-09')])).toEqual([]);
    expect(careCohortsOf(masks[dayOfAcademicYear('2025-09-10')])).toEqual(['cla']);
    expect(careCohortsOf(masks[dayOfAcademicYear('2025-09-12')])).toEqual(['cla']);
    expect(careCohortsOf(masks[dayOfAcademicYear('2025-09-13')])).toEqual([]);
  });

  it("takes the LA's episodes on every day they cover, listed or not", () => {
    const masks = careMasks(child('A', [], [{ cohort: 'cin', start: '2025-09-10', end: '2025-09-11' }]), YEAR);
    expect(careCohortsOf(masks[dayOfAcademicYear('2025-09-09')])).toEqual([]);
    expect(careCohortsOf(masks[dayOfAcademicYear('2025-09-10')])).toEqual(['cin']);
    expect(careCohortsOf(masks[dayOfAcademicYear('2025-09-11')])).toEqual(['cin']);
    expect(careCohortsOf(masks[dayOfAcademicYear('2025-09-12')])).toEqual([]);
  });
});

describe('daily alerts', () => {
  const D = '2025-09-24';
  const opts = { newInCareDays: 14 };

  it('lists each absence of a looked-after child on the date, with its code, session and school', () => {
    const c = child(
      'A',
      [enrolment('A', '100001', { [D]: ['N', 'I'], '2025-09-23': ['G', 'G'] })],
      [{ cohort: 'cla', start: '2025-06-01' }],
    );
    expect(dailyAlerts(D, [c], opts)).toEqual([
      { type: 'absence', upn: 'A', date: D, session: 'AM', code: 'N', urn: '100001', cohorts: ['cla'] },
      { type: 'absence', upn: 'A', date: D, session: 'PM', code: 'I', urn: '100001', cohorts: ['cla'] },
    ]);
  });

  it('does not alert on present, approved-activity or not-possible codes', () => {
    const c = child(
      'A',
      [enrolment('A', '100001', { [D]: ['/', 'X'] }), enrolment('A', '100002', { [D]: ['K', 'D'] })],
      [{ cohort: 'cla', start: '2025-06-01' }],
    );
    expect(dailyAlerts(D, [c], opts)).toEqual([]);
  });

  it('does not alert on the absence of a child whose care ended the day before', () => {
    const c = child(
      'A',
      [enrolment('A', '100001', { [D]: ['N', 'N'] })],
      [{ cohort: 'cla', start: '2025-06-01', end: '2025-09-23' }],
    );
    expect(dailyAlerts(D, [c], opts)).toEqual([]);
  });

  it('does not alert on the absence of a child in need who is not looked after', () => {
    const c = child('A', [enrolment('A', '100001', { [D]: ['N', 'N'] })], [{ cohort: 'cin', start: '2025-06-01' }]);
    expect(dailyAlerts(D, [c], opts)).toEqual([]);
  });

  it('alerts on the absence of a child the school itself reports as looked after', () => {
    const c = child('A', [
      enrolment('A', '100001', { '2025-09-22': ['/', '/'], [D]: ['G', '/'] }, { cla: { '2025-09-22': 'Y' } }),
    ]);
    expect(dailyAlerts(D, [c], opts)).toEqual([
      { type: 'absence', upn: 'A', date: D, session: 'AM', code: 'G', urn: '100001', cohorts: ['cla'] },
    ]);
  });

  it('lists an exclusion (E) of any child in a Virtual School cohort, once, as an exclusion', () => {
    const children = [
      child('A', [enrolment('A', '100001', { [D]: ['E', '/'] })], [{ cohort: 'cla', start: '2025-06-01' }]),
      child('B', [enrolment('B', '100002', { [D]: ['/', 'E'] })], [{ cohort: 'cpp', start: '2025-06-01' }]),
      child('C', [enrolment('C', '100002', { [D]: ['E', 'E'] })], [{ cohort: 'cin', start: '2025-09-25' }]),
    ];
    expect(dailyAlerts(D, children, opts)).toEqual([
      { type: 'exclusion', upn: 'A', date: D, session: 'AM', code: 'E', urn: '100001', cohorts: ['cla'] },
      { type: 'exclusion', upn: 'B', date: D, session: 'PM', code: 'E', urn: '100002', cohorts: ['cpp'] },
    ]);
  });

  it('lists sessions listed but not yet marked for a looked-after child, and not a day with no row', () => {
    const c = child(
      'A',
      [enrolment('A', '100001', { [D]: ['/', '-'] }), enrolment('A', '100002', { '2025-09-23': ['-', '-'] })],
      [{ cohort: 'cla', start: '2025-06-01' }],
    );
    expect(dailyAlerts(D, [c], opts)).toEqual([
      { type: 'unmarked', upn: 'A', date: D, session: 'PM', urn: '100001', cohorts: ['cla'] },
    ]);
  });

  it('alerts on a child who entered care in the last N days and has no register row since care began', () => {
    const c = child(
      'A',
      [enrolment('A', '100003', presentDays(['2025-09-18', '2025-09-19']))],
      [{ cohort: 'cla', start: '2025-09-22' }],
    );
    expect(dailyAlerts(D, [c], opts)).toEqual([
      {
        type: 'new_in_care',
        upn: 'A',
        date: D,
        cohorts: ['cla'],
        careStart: '2025-09-22',
        reason: 'no_return_since_care_began',
        urn: '100003',
        lastListed: '2025-09-19',
      },
    ]);
  });

  it('clears the entering-care alert once any school sends a row dated on or after the day care began', () => {
    const c = child(
      'A',
      [enrolment('A', '100003', presentDays(['2025-09-19', '2025-09-22']))],
      [{ cohort: 'cla', start: '2025-09-22' }],
    );
    expect(dailyAlerts(D, [c], opts)).toEqual([]);
    const unmarkedOnly = child(
      'A',
      [enrolment('A', '100003', { '2025-09-19': ['/', '/'], '2025-09-23': ['-', '-'] })],
      [{ cohort: 'cla', start: '2025-09-22' }],
    );
    expect(dailyAlerts(D, [unmarkedOnly], opts).map((a) => a.type)).toEqual([]);
  });

  it('says a newly looked-after child on no register this year is on no register', () => {
    const lastYear = enrolment('A', '100009', presentDays(['2025-07-10']), {}, 2024);
    expect(dailyAlerts(D, [child('A', [], [{ cohort: 'cla', start: '2025-09-23' }])], opts)).toEqual([
      {
        type: 'new_in_care',
        upn: 'A',
        date: D,
        cohorts: ['cla'],
        careStart: '2025-09-23',
        reason: 'not_on_any_register',
      },
    ]);
    expect(dailyAlerts(D, [child('A', [lastYear], [{ cohort: 'cla', start: '2025-09-23' }])], opts)).toEqual([
      {
        type: 'new_in_care',
        upn: 'A',
        date: D,
        cohorts: ['cla'],
        careStart: '2025-09-23',
        reason: 'not_on_any_register',
        urn: '100009',
        lastListed: '2025-07-10',
      },
    ]);
  });

  it('treats care that began N − 1 days before the date as new, and N days before as not', () => {
    const at = (start: string) =>
      dailyAlerts(D, [child('A', [], [{ cohort: 'cla', start }])], { newInCareDays: 14 }).length;
    expect(at('2025-09-11')).toBe(1); // 13 days before the 24th: the 14th day of the window
    expect(at('2025-09-10')).toBe(0); // 14 days before
    expect(at(D)).toBe(1);
    expect(at('2025-09-25')).toBe(0); // after the date asked about
  });

  it('does not treat a placement change as entering care', () => {
    const care: CareEpisodeSpan[] = [
      { cohort: 'cla', start: '2025-06-01', end: '2025-09-21' },
      { cohort: 'cla', start: '2025-09-22' },
    ];
    expect(dailyAlerts(D, [child('A', [], care)], opts)).toEqual([]);
  });

  it('does not alert on a short period of care that has already ended', () => {
    expect(dailyAlerts(D, [child('A', [], [{ cohort: 'cla', start: '2025-09-20', end: '2025-09-21' }])], opts)).toEqual(
      [],
    );
  });

  it('orders exclusions, absences, unmarked sessions, then children new in care', () => {
    const children = [
      child('Z', [], [{ cohort: 'cla', start: D }]),
      child('Y', [enrolment('Y', '100001', { [D]: ['-', 'N'] })], [{ cohort: 'cla', start: '2025-06-01' }]),
      child('X', [enrolment('X', '100001', { [D]: ['E', '/'] })], [{ cohort: 'cla', start: '2025-06-01' }]),
    ];
    expect(dailyAlerts(D, children, opts).map((a) => `${a.type}:${a.upn}`)).toEqual([
      'exclusion:X',
      'absence:Y',
      'unmarked:Y',
      'new_in_care:Z',
    ]);
  });
});

describe('sessions while in the cohort', () => {
  const days = (from: number, to: number) =>
    Array.from({ length: to - from + 1 }, (_, i) => `2025-09-${String(from + i).padStart(2, '0')}`);

  it('counts only the sessions on or after the day care began', () => {
    // Unauthorised absence the week before care; present after.
    const marks: Record<string, [string, string]> = {};
    for (const d of days(8, 12)) marks[d] = ['N', 'N'];
    for (const d of days(15, 19)) marks[d] = ['/', '/'];
    const c = child('A', [enrolment('A', '100001', marks)], [{ cohort: 'cla', start: '2025-09-15' }]);
    const f = inCohortFigures(c, YEAR, 'cla', '2025-09-01', '2025-09-30');
    expect(f.spans).toEqual([{ from: '2025-09-15', to: '2025-09-30' }]);
    expect(f.daysInCohort).toBe(16);
    expect(f.counts.reduce((a, b) => a + b, 0)).toBe(10);
    const roll = rollEntry(c, YEAR, 'cla', '2025-09-01', '2025-09-30');
    expect(roll).toMatchObject({ persistentAbsence: false, urns: ['100001'], everCohorts: ['cla'], onRegister: true });
  });

  it('leaves a child off the roll when they were not in the group on any day of the period', () => {
    const c = child('A', [enrolment('A', '100001', presentDays(days(1, 5)))], [{ cohort: 'cla', start: '2025-09-15' }]);
    expect(rollEntry(c, YEAR, 'cla', '2025-09-01', '2025-09-14')).toBeUndefined();
    expect(rollEntry(c, YEAR, 'cla', '2025-09-01', '2025-09-15')).toMatchObject({
      daysInCohort: 1,
      urns: [],
      onRegister: true,
    });
    expect(rollEntry(c, YEAR, 'cin', '2025-09-01', '2025-09-30')).toBeUndefined();
  });

  it('puts a looked-after child on no register on the roll with no sessions', () => {
    const c = child('A', [], [{ cohort: 'cla', start: '2025-09-01' }]);
    expect(rollEntry(c, YEAR, 'any', '2025-09-01', '2025-09-30')).toMatchObject({
      onRegister: false,
      urns: [],
      daysInCohort: 30,
      persistentAbsence: false,
    });
  });
});

describe('Personal Education Plan summary', () => {
  it('gives per census term only the sessions while looked after, across schools, with PA at exactly 10%', () => {
    // Autumn: 10 sessions at school 1 before care (all N, not the Virtual School's), then in care from
    // 15 Sept: 18 present + 2 absent (I, E) at school 1 = 10% → PA. Spring (after a move): school 2.
    const s1: Record<string, [string, string]> = {
      '2025-09-08': ['N', 'N'],
      '2025-09-09': ['N', 'N'],
      '2025-09-10': ['N', 'N'],
      '2025-09-11': ['N', 'N'],
      '2025-09-12': ['N', 'N'],
    };
    const after = [
      '2025-09-15',
      '2025-09-16',
      '2025-09-17',
      '2025-09-18',
      '2025-09-19',
      '2025-09-22',
      '2025-09-23',
      '2025-09-24',
      '2025-09-25',
      '2025-09-26',
    ];
    after.forEach((d, i) => (s1[d] = i === 0 ? ['I', '/'] : i === 1 ? ['/', 'E'] : ['/', '/']));
    const s2 = enrolment('A', '200002', { '2026-01-05': ['/', '/'], '2026-01-06': ['G', '/'] });
    const c = child('A', [enrolment('A', '100001', s1), s2], [{ cohort: 'cla', start: '2025-09-15' }]);

    const pep = pepSummary(c, YEAR);
    expect(pep.terms.map((t) => [t.term, t.from, t.to])).toEqual([
      ['autumn', '2025-08-01', '2025-12-31'],
      ['spring', '2026-01-01', '2026-04-05'], // Easter Sunday 2026
      ['summer', '2026-04-06', '2026-07-31'],
    ]);
    const [autumn, spring, summer] = pep.terms;
    expect(autumn.inCohort).toEqual([{ from: '2025-09-15', to: '2025-12-31' }]);
    expect(autumn.stats).toMatchObject({
      possibleSessions: 20,
      attendedSessions: 18,
      authorisedAbsenceSessions: 2,
      unauthorisedAbsenceSessions: 0,
      codes: { '/': 18, I: 1, E: 1 },
    });
    expect(autumn.persistentAbsence).toBe(true);
    expect(autumn.severeAbsence).toBe(false);
    expect(autumn.exclusions).toEqual([{ date: '2025-09-16', session: 'PM', urn: '100001' }]);
    expect(autumn.schools.map((s) => s.urn)).toEqual(['100001']);
    expect(spring.stats).toMatchObject({ possibleSessions: 4, unauthorisedAbsenceSessions: 1 });
    expect(spring.persistentAbsence).toBe(true);
    expect(spring.schools.map((s) => s.urn)).toEqual(['200002']);
    expect(summer.stats.possibleSessions).toBe(0);
    expect(summer.persistentAbsence).toBe(false);
  });

  it('gives one term when asked, and nothing for a child never looked after in it', () => {
    const c = child(
      'A',
      [enrolment('A', '100001', { '2025-09-08': ['N', 'N'] })],
      [{ cohort: 'cin', start: '2025-09-01' }],
    );
    const pep = pepSummary(c, YEAR, { term: 'autumn' });
    expect(pep.terms).toHaveLength(1);
    expect(pep.terms[0]).toMatchObject({
      term: 'autumn',
      daysInCohort: 0,
      inCohort: [],
      schools: [],
      persistentAbsence: false,
    });
    expect(pepSummary(c, YEAR, { term: 'autumn', cohort: 'cin' }).terms[0].stats.absenceSessions).toBe(2);
  });

  it('counts sessions listed but not yet marked while in care as unmarked, not as possible', () => {
    const c = child(
      'A',
      [enrolment('A', '100001', { '2025-09-15': ['-', '/'] })],
      [{ cohort: 'cla', start: '2025-09-15' }],
    );
    const [autumn] = pepSummary(c, YEAR, { term: 'autumn' }).terms;
    expect(autumn.unmarkedSessions).toBe(1);
    expect(autumn.stats.possibleSessions).toBe(1);
  });
});
