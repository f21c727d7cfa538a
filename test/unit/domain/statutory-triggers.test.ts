/**
 * The statutory triggers exactly as the law and the schools' policies define them (docs/design.md §2.5,
 * issue 22): only sessions of compulsory school age count, the threshold counts G, O and U (not N),
 * a pupil of unknown age is flagged but marked so, and each flag says which route applies.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_LA_SETTINGS } from '../../../shared/config.js';
import {
  compulsoryAgeTimeline,
  nationalFrameworkFlags,
  penaltyNoticeRoute,
  pupilDateOfBirth,
  statutoryAgeOf,
  type PenaltyNoticeFinding,
} from '../../../shared/domain/national-framework.js';
import {
  escalationPeriods,
  nextPenaltyNotice,
  type PenaltyNoticeRecord,
} from '../../../shared/domain/penalty-notices.js';
import { summarisePupil } from '../../../shared/domain/pupil-status.js';
import {
  referralSuggestions,
  unpaidPenaltyNotices,
  type Referral,
  type ReferralAction,
  type SuggestionCandidate,
} from '../../../shared/domain/referrals.js';
import type { Enrolment, PupilFlag } from '../../../shared/domain/pupil-summary.js';
import { pupilTimeline } from '../../../shared/domain/school-weeks.js';
import { onRoll, school, sessionDaysOf, type OnRoll } from './registers-by-hand.js';

const A = school('100001');

function enrolmentsOf(roll: OnRoll, dob?: string): Enrolment[] {
  return roll.enrolments().map((e) => (dob === undefined ? e : { ...e, dob }));
}

function flagsFor(
  roll: OnRoll,
  dob: string | undefined,
  academicYear = 2024,
  settings = DEFAULT_LA_SETTINGS,
): PupilFlag[] {
  const enrolments = enrolmentsOf(roll, dob);
  return nationalFrameworkFlags(
    pupilTimeline(enrolments, sessionDaysOf(A)),
    academicYear,
    settings,
    statutoryAgeOf(pupilDateOfBirth(enrolments)),
  );
}

const types = (flags: PupilFlag[]) => flags.map((f) => f.type);
const penalty = (flags: PupilFlag[]) => flags.find((f) => f.type === 'penalty_notice_threshold');

/** A Year 3 pupil: of compulsory school age throughout 2024/25 and 2025/26. */
const YEAR_3 = '2016-10-10';

describe('compulsory school age gates the statutory triggers (fifth birthday)', () => {
  // Ten O sessions on 6–10 January 2025 (the week after the Christmas holiday).
  const january = () => onRoll(A).sessions('2025-01-06', 10, 'O');

  it('counts sessions from 31 August for a child whose fifth birthday is on 31 August (a prescribed day)', () => {
    const flags = flagsFor(onRoll(A).sessions('2024-09-16', 10, 'O'), '2019-08-31');
    expect(penalty(flags)?.since).toBe('2024-09-20');
    expect(penalty(flags)?.detail).toMatchObject({ compulsorySchoolAge: { from: '2024-08-31' }, ageUnknown: false });
  });

  it('does not count the autumn term for a child whose fifth birthday is on 1 September (compulsory from 31 December)', () => {
    expect(penalty(flagsFor(onRoll(A).sessions('2024-09-16', 12, 'O'), '2019-09-01'))).toBeUndefined();
    expect(penalty(flagsFor(january(), '2019-09-01'))?.since).toBe('2025-01-10');
  });

  it('counts from 31 December for a child whose fifth birthday is on 31 December, and not the sessions before it', () => {
    // Six O sessions on 16–18 December and four on 6–7 January: ten in one window of school weeks.
    const roll = onRoll(A).sessions('2024-12-16', 6, 'O').sessions('2025-01-06', 4, 'O');
    expect(penalty(flagsFor(roll, YEAR_3))?.since).toBe('2025-01-07');
    expect(penalty(flagsFor(roll, '2019-12-31'))).toBeUndefined();
    expect(penalty(flagsFor(january(), '2019-12-31'))?.since).toBe('2025-01-10');
  });

  it('does not count January for a child whose fifth birthday is on 1 January (compulsory from 31 March)', () => {
    expect(penalty(flagsFor(january(), '2020-01-01'))).toBeUndefined();
    expect(penalty(flagsFor(onRoll(A).sessions('2025-04-22', 10, 'O'), '2020-01-01'))?.since).toBe('2025-04-28');
  });

  it('never flags a four-year-old in Reception, while PA and SA are still reported', () => {
    const roll = onRoll(A).sessions('2024-09-16', 40, 'O').sessions('2025-01-06', 30, 'I');
    const dob = '2020-06-01'; // four in September 2024; compulsory from 31 August 2025
    const summary = summarisePupil({
      upn: 'A999400124001',
      academicYear: 2024,
      enrolments: enrolmentsOf(roll, dob),
      care: [],
      sessionDays: sessionDaysOf(A),
      settings: DEFAULT_LA_SETTINGS,
      today: '2025-07-31',
    });
    expect(types(summary.flags)).not.toContain('penalty_notice_threshold');
    expect(types(summary.flags)).not.toContain('ten_day_unauthorised');
    expect(types(summary.flags)).not.toContain('twenty_day_unauthorised');
    expect(types(summary.flags)).not.toContain('illness_15_days');
    expect(types(summary.flags)).toContain('persistent_absence');
    expect(summary.persistentAbsence).toBe(true);
    // The same marks for a pupil of compulsory school age raise every statutory flag.
    expect(types(flagsFor(roll, YEAR_3))).toEqual([
      'penalty_notice_threshold',
      'ten_day_unauthorised',
      'twenty_day_unauthorised',
      'illness_15_days',
    ]);
  });
});

describe('compulsory school age ends on the last Friday in June of Year 11', () => {
  // Sixteen on 15 May 2025: compulsory school age ends on Friday 27 June 2025.
  const dob = '2009-05-15';

  it('counts a session on the last Friday in June and not one on the Monday after', () => {
    const onFriday = onRoll(A).sessions('2025-06-23', 9, 'O').code('2025-06-27', 'O', 'PM');
    expect(penalty(flagsFor(onFriday, dob))?.since).toBe('2025-06-27');
    const onMonday = onRoll(A).sessions('2025-06-23', 9, 'O').code('2025-06-30', 'O', 'AM');
    expect(penalty(flagsFor(onMonday, dob))).toBeUndefined();
    expect(penalty(flagsFor(onMonday, YEAR_3))?.since).toBe('2025-06-30');
  });

  it('ends a run of continuous unauthorised absence at the leaving date: 20 sessions to Friday, 19 when the 20th is on Monday', () => {
    const toFriday = onRoll(A).sessions('2025-06-16', 20, 'N');
    expect(types(flagsFor(toFriday, dob))).toContain('ten_day_unauthorised');
    const toMonday = onRoll(A).sessions('2025-06-17', 20, 'N');
    expect(types(flagsFor(toMonday, dob))).not.toContain('ten_day_unauthorised');
    expect(types(flagsFor(toMonday, YEAR_3))).toContain('ten_day_unauthorised');
  });

  it('never flags a Year 12 student, and does not carry a Year 11 window over into Year 12', () => {
    const year12 = onRoll(A, { from: '2025-09-03' }).sessions('2025-09-08', 12, 'O');
    expect(flagsFor(year12, dob, 2025)).toEqual([]);
    // Met in June of Year 11 and still inside the window in September: flagged for 2024/25 only.
    const june = onRoll(A, { to: '2025-09-19' }).sessions('2025-06-16', 10, 'O');
    expect(penalty(flagsFor(june, dob, 2024))?.detail).toMatchObject({ currentlyMet: false });
    expect(penalty(flagsFor(june, dob, 2025))).toBeUndefined();
    expect(penalty(flagsFor(june, YEAR_3, 2025))?.detail).toMatchObject({ currentlyMet: true });
  });

  it('does not count illness after the leaving date towards 15 days', () => {
    const ill = onRoll(A).sessions('2025-06-16', 30, 'I'); // 16 June – 4 July
    expect(types(flagsFor(ill, dob))).not.toContain('illness_15_days');
    expect(types(flagsFor(ill, YEAR_3))).toContain('illness_15_days');
  });
});

describe('threshold codes G, O and U (N is not an offence)', () => {
  it('is met by ten G/O/U sessions and not by nine plus one N', () => {
    const ten = onRoll(A).sessions('2024-09-16', 4, 'G').sessions('2024-09-18', 4, 'O').sessions('2024-09-20', 2, 'U');
    expect(penalty(flagsFor(ten, YEAR_3))?.since).toBe('2024-09-20');
    const nineAndN = onRoll(A)
      .sessions('2024-09-16', 4, 'G')
      .sessions('2024-09-18', 4, 'O')
      .code('2024-09-20', 'U', 'AM')
      .code('2024-09-20', 'N', 'PM');
    expect(penalty(flagsFor(nineAndN, YEAR_3))).toBeUndefined();
  });

  it('counts N when the LA configures it', () => {
    const nineAndN = onRoll(A).sessions('2024-09-16', 9, 'O').code('2024-09-20', 'N', 'PM');
    const settings = { ...DEFAULT_LA_SETTINGS, penaltyNoticeCodes: ['G', 'N', 'O', 'U'] };
    expect(penalty(flagsFor(nineAndN, YEAR_3, 2024, settings))?.since).toBe('2024-09-20');
  });

  it('still counts N towards continuous unauthorised absence, as a children-missing-education risk', () => {
    const f = flagsFor(onRoll(A).sessions('2024-09-16', 20, 'N'), YEAR_3).find(
      (x) => x.type === 'ten_day_unauthorised',
    );
    expect(f?.detail).toMatchObject({ missingEducationRisk: true, runs: [{ codes: { N: 20 } }] });
  });
});

describe('a pupil with no date of birth', () => {
  it('is flagged as before and marked "age unknown" on every statutory flag', () => {
    const flags = flagsFor(onRoll(A).sessions('2024-09-16', 40, 'O').sessions('2025-01-06', 30, 'I'), undefined);
    expect(types(flags)).toEqual([
      'penalty_notice_threshold',
      'ten_day_unauthorised',
      'twenty_day_unauthorised',
      'illness_15_days',
    ]);
    for (const f of flags) expect(f.detail).toMatchObject({ ageUnknown: true, compulsorySchoolAge: null });
  });

  it('treats an invalid date of birth as unknown and uses the latest valid one the schools state', () => {
    expect(statutoryAgeOf('2019-02-30').ageUnknown).toBe(true);
    expect(
      pupilDateOfBirth([
        { dob: '2016-01-01', lastListed: '2024-07-01' },
        { dob: 'not a date', lastListed: '2025-07-01' },
        { dob: '2016-02-02', lastListed: '2024-12-01' },
      ]),
    ).toBe('2016-02-02');
  });
});

describe('compulsoryAgeTimeline', () => {
  it('removes the sessions outside compulsory school age and keeps the school weeks', () => {
    const enrolments = enrolmentsOf(onRoll(A).sessions('2024-09-16', 10, 'O'));
    const t = pupilTimeline(enrolments, sessionDaysOf(A));
    const gated = compulsoryAgeTimeline(t, { from: '2024-12-31', to: '2030-06-28' });
    expect(gated.weeks).toEqual(t.weeks);
    expect(gated.marks.slice(0, 300).every((m) => m === 0)).toBe(true);
    expect(gated.lastPossibleSlot).toBe(t.lastPossibleSlot);
    expect(compulsoryAgeTimeline(t, { from: '2020-01-01', to: '2030-06-28' })).toBe(t);
  });
});

describe('the two routes to a penalty notice and lateness in the evidence', () => {
  it('routes leave in term time (G alone meets the threshold) to a penalty-notice request', () => {
    const d = penalty(flagsFor(onRoll(A).sessions('2024-09-16', 10, 'G'), YEAR_3))
      ?.detail as unknown as PenaltyNoticeFinding;
    expect(d.route).toMatchObject({ route: 'leave_in_term_time', firstStep: 'penalty_notice_request' });
    expect(d.route.why).toContain('10 sessions coded G');
  });

  it('routes irregular attendance (O, U, or G that alone is under the threshold) to a notice to improve first', () => {
    const mixed = onRoll(A).sessions('2024-09-16', 9, 'G').code('2024-09-20', 'O', 'PM');
    const d = penalty(flagsFor(mixed, YEAR_3))?.detail as unknown as PenaltyNoticeFinding;
    expect(d.route).toMatchObject({ route: 'irregular_attendance', firstStep: 'notice_to_improve' });
    expect(penaltyNoticeRoute({ sessionsByCode: { O: 6, U: 4 }, sessionCount: 10, lateSessions: 4 }, 10).why).toContain(
      '4 of them U (late after the register closed) are lateness',
    );
  });

  it('shows U sessions as lateness in the threshold window', () => {
    const d = penalty(flagsFor(onRoll(A).sessions('2024-09-16', 6, 'O').sessions('2024-09-19', 4, 'U'), YEAR_3))
      ?.detail as unknown as PenaltyNoticeFinding;
    expect(d.window.lateSessions).toBe(4);
    expect(d.window.sessions.filter((s) => s.lateness).map((s) => s.code)).toEqual(['U', 'U', 'U', 'U']);
    expect(d.window.sessions.find((s) => s.code === 'O')?.lateness).toBeUndefined();
  });
});

describe('referral suggestions from the statutory flags', () => {
  const candidate = (roll: OnRoll, dob: string | undefined): SuggestionCandidate => ({
    upn: 'A999400124001',
    urns: [A.urn],
    possible: 100,
    authorised: 0,
    unauthorised: 12,
    flags: flagsFor(roll, dob).map((f) => ({ type: f.type, since: f.since, detail: f.detail })),
  });

  it('suggests no penalty-notice request for a four-year-old or a pupil whose sessions are all N', () => {
    expect(
      referralSuggestions([candidate(onRoll(A).sessions('2024-09-16', 12, 'O'), '2020-06-01')], () => false),
    ).toEqual([]);
    expect(referralSuggestions([candidate(onRoll(A).sessions('2024-09-16', 12, 'N'), YEAR_3)], () => false)).toEqual(
      [],
    );
  });

  it('names the route and why on a threshold suggestion: irregular attendance means a notice to improve first', () => {
    const [s] = referralSuggestions([candidate(onRoll(A).sessions('2024-09-16', 12, 'O'), YEAR_3)], () => false);
    expect(s.suggestedType).toBe('penalty_notice_request');
    expect(s.reasons[0]).toMatchObject({
      flag: 'penalty_notice_threshold',
      route: 'irregular_attendance',
      firstStep: 'notice_to_improve',
    });
    expect(s.reasons[0].why).toMatch(/notice to improve first/);
    expect(s.ageUnknown).toBe(false);
  });

  it('marks a suggestion for a pupil with no date of birth as age unknown', () => {
    const [s] = referralSuggestions([candidate(onRoll(A).sessions('2024-09-16', 12, 'G'), undefined)], () => false);
    expect(s.reasons[0]).toMatchObject({
      route: 'leave_in_term_time',
      firstStep: 'penalty_notice_request',
      ageUnknown: true,
    });
    expect(s.ageUnknown).toBe(true);
  });
});

describe('penalty-notice escalation for a child of compulsory school age', () => {
  const upn = 'A999400124001';
  const notice = (id: string, issuedOn: string): PenaltyNoticeRecord => ({
    id,
    parentId: 'P1',
    upn,
    issuedOn,
    status: 'issued',
  });
  const reception = statutoryAgeOf('2019-09-01'); // compulsory from 31 December 2024

  it('refuses a notice dated before the child reaches compulsory school age, and allows one on the first day', () => {
    expect(nextPenaltyNotice([], { parentId: 'P1', upn, on: '2024-12-30', age: reception })).toMatchObject({
      allowed: false,
      code: 'not_compulsory_school_age',
    });
    expect(nextPenaltyNotice([], { parentId: 'P1', upn, on: '2024-12-31', age: reception })).toMatchObject({
      allowed: true,
      sequence: 1,
    });
  });

  it('does not count a notice recorded for a date before compulsory school age towards the escalation', () => {
    const history = [notice('n1', '2024-10-01'), notice('n2', '2025-01-20')];
    expect(escalationPeriods(history, 'P1', upn, reception).map((p) => p.notices.map((n) => n.id))).toEqual([['n2']]);
    expect(nextPenaltyNotice(history, { parentId: 'P1', upn, on: '2025-03-03', age: reception })).toMatchObject({
      allowed: true,
      sequence: 2,
    });
    expect(nextPenaltyNotice(history, { parentId: 'P1', upn, on: '2025-03-03' })).toMatchObject({
      allowed: false,
      code: 'third_within_period',
    });
  });

  it('allows a notice after the school leaving date (absence before it) and marks one for a child of unknown age', () => {
    expect(
      nextPenaltyNotice([], { parentId: 'P1', upn, on: '2025-07-10', age: statutoryAgeOf('2009-05-15') }),
    ).toMatchObject({ allowed: true, sequence: 1 });
    expect(
      nextPenaltyNotice([], { parentId: 'P1', upn, on: '2025-07-10', age: statutoryAgeOf(undefined) }),
    ).toMatchObject({ allowed: true, ageUnknown: true });
  });
});

describe('persistent lateness (10 or more U in a term: the LA lateness-warning list)', () => {
  it('lists a pupil with 10 U in the autumn term, with the sessions as lateness and the date the tenth was reached', () => {
    const roll = onRoll(A).codes(
      [
        '2024-09-16',
        '2024-09-23',
        '2024-09-30',
        '2024-10-07',
        '2024-10-14',
        '2024-11-04',
        '2024-11-11',
        '2024-11-18',
        '2024-11-25',
        '2024-12-02',
      ],
      'U',
      'AM',
    );
    const f = flagsFor(roll, YEAR_3).find((x) => x.type === 'lateness_warning');
    expect(f?.since).toBe('2024-12-02');
    expect(f?.detail).toMatchObject({
      sessionsThreshold: 10,
      terms: [{ term: 'autumn', lateSessions: 10, metOn: '2024-12-02' }],
    });
    expect(
      (f?.detail.terms as Array<{ sessions: Array<{ lateness?: true }> }>)[0].sessions.every(
        (s) => s.lateness === true,
      ),
    ).toBe(true);
  });

  it('does not list 9 U in the autumn term and 1 in the spring term, nor L (late before the register closed)', () => {
    const split = onRoll(A).sessions('2024-12-02', 9, 'U').code('2025-01-06', 'U', 'AM');
    expect(types(flagsFor(split, YEAR_3))).not.toContain('lateness_warning');
    expect(types(flagsFor(onRoll(A).sessions('2024-09-16', 12, 'L'), YEAR_3))).not.toContain('lateness_warning');
  });

  it('uses the LA-configured number of sessions, and only sessions of compulsory school age', () => {
    const eight = onRoll(A).sessions('2024-09-16', 8, 'U');
    expect(types(flagsFor(eight, YEAR_3, 2024, { ...DEFAULT_LA_SETTINGS, latenessWarningSessions: 8 }))).toContain(
      'lateness_warning',
    );
    expect(types(flagsFor(onRoll(A).sessions('2024-09-16', 12, 'U'), '2019-09-01'))).not.toContain('lateness_warning');
  });
});

describe('penalty notices not paid within 28 days (awaiting prosecution or withdrawal)', () => {
  const by = { sub: 'officer', role: 'la_officer' as const };
  const issued = (id: string, parentId: string, date: string): ReferralAction => ({
    id,
    type: 'penalty_notice_issued',
    date,
    recordedAt: `${date}T10:00:00Z`,
    recordedBy: by,
    parentId,
    penaltyNotice: {
      sequence: 1,
      amount: { full: 160, fullPayableWithinDays: 28, reduced: 80, reducedIfPaidWithinDays: 21 },
      period: { start: date, end: '2028-01-05' },
    },
  });
  const then = (
    id: string,
    type: ReferralAction['type'],
    noticeId: string | undefined,
    date: string,
    parentId?: string,
  ): ReferralAction => ({
    id,
    type,
    date,
    recordedAt: `${date}T10:00:00Z`,
    recordedBy: by,
    ...(noticeId ? { noticeId } : {}),
    ...(parentId ? { parentId } : {}),
  });
  const theCase = (
    actions: ReferralAction[],
  ): Pick<Referral, 'id' | 'upn' | 'urn' | 'status' | 'parents' | 'actions' | 'evidence'> => ({
    id: 'R1',
    upn: 'A999400124001',
    urn: A.urn,
    status: 'in_progress',
    actions,
    parents: [
      { id: 'mum', name: 'Ann Smith', relationship: 'mother' },
      { id: 'dad', name: 'Bob Smith', relationship: 'father' },
    ],
    evidence: { pupil: { forename: 'Cara', surname: 'Smith', dob: YEAR_3, yearGroup: '3' } } as Referral['evidence'],
  });

  it('lists a notice from the day after its 28th day, with the parent and child, and not one that was paid', () => {
    const r = theCase([
      issued('A1', 'mum', '2025-01-06'),
      issued('A2', 'dad', '2025-01-06'),
      then('A3', 'penalty_notice_paid', 'A2', '2025-01-20'),
    ]);
    expect(unpaidPenaltyNotices([r], '2025-02-03')).toEqual([]); // day 28: still payable
    expect(unpaidPenaltyNotices([r], '2025-02-04')).toEqual([
      {
        noticeId: 'R1/A1',
        referralId: 'R1',
        caseStatus: 'in_progress',
        urn: A.urn,
        child: { upn: 'A999400124001', forename: 'Cara', surname: 'Smith', dob: YEAR_3 },
        parent: { id: 'mum', name: 'Ann Smith', relationship: 'mother' },
        issuedOn: '2025-01-06',
        sequence: 1,
        amount: 160,
        payableUntil: '2025-02-03',
        daysUnpaid: 1,
        awaiting: 'prosecution_or_withdrawal',
      },
    ]);
  });

  it('drops a notice once it is withdrawn or a prosecution of its parent is recorded', () => {
    expect(
      unpaidPenaltyNotices(
        [theCase([issued('A1', 'mum', '2025-01-06'), then('A2', 'penalty_notice_withdrawn', 'A1', '2025-02-10')])],
        '2025-02-11',
      ),
    ).toEqual([]);
    expect(
      unpaidPenaltyNotices(
        [theCase([issued('A1', 'mum', '2025-01-06'), then('A2', 'prosecution', undefined, '2025-02-10', 'mum')])],
        '2025-02-11',
      ),
    ).toEqual([]);
    expect(
      unpaidPenaltyNotices(
        [theCase([issued('A1', 'mum', '2025-01-06'), then('A2', 'prosecution', undefined, '2025-02-10', 'dad')])],
        '2025-02-11',
      ),
    ).toHaveLength(1);
  });
});
