import { describe, expect, it } from 'vitest';
import { DEFAULT_LA_SETTINGS } from '../../../shared/config.js';
import {
  continuousUnauthorisedRuns,
  illnessThreshold,
  nationalFrameworkFlags,
  noticeToImprove,
  penaltyNoticeThreshold,
  penaltyNoticeWindowCounts,
  rollingWindowCounts,
  schoolWeeksOfYear,
  type PenaltyNoticeFinding,
  type UnauthorisedRun,
} from '../../../shared/domain/national-framework.js';
import { summarisePupil } from '../../../shared/domain/pupil-status.js';
import type { PupilFlag } from '../../../shared/domain/pupil-summary.js';
import { fromDayNumber } from '../../../shared/domain/dates.js';
import { pupilTimeline } from '../../../shared/domain/school-weeks.js';
import {
  BANK_HOLIDAYS,
  daysOfSchoolWeek,
  onRoll,
  school,
  schoolUntil,
  sessionDaysOf,
  type HandSchool,
  type OnRoll,
} from './registers-by-hand.js';

const A = school('100001');
const B = school('100002');
/** A school with one long term and no half term (4 Sep – 20 Dec 2024): 16 school weeks in a row. */
const LONG_TERM = school('100009', [['2024-09-02', '2024-12-20']]);

function timelineOf(rolls: OnRoll[], schools: HandSchool[] = [A, B, LONG_TERM]) {
  return pupilTimeline(
    rolls.flatMap((r) => r.enrolments()),
    sessionDaysOf(...schools),
  );
}

function flagsOf(rolls: OnRoll[], year = 2024, settings = DEFAULT_LA_SETTINGS, schools?: HandSchool[]): PupilFlag[] {
  return nationalFrameworkFlags(timelineOf(rolls, schools), year, settings);
}

function flag(flags: PupilFlag[], type: PupilFlag['type']): PupilFlag | undefined {
  return flags.find((f) => f.type === type);
}

/** The first school day of each of the school's school weeks k (0-based) in `ks`. */
function firstDaysOfWeeks(s: HandSchool, ks: number[]): string[] {
  return ks.map((k) => daysOfSchoolWeek(s, k)[0]);
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('penalty-notice threshold (10 sessions of G/O/U in a rolling 10 school weeks)', () => {
  it('is not met by 9 sessions in the window', () => {
    const pupil = onRoll(A).sessions('2024-09-16', 9, 'O');
    expect(flag(flagsOf([pupil]), 'penalty_notice_threshold')).toBeUndefined();
    expect(penaltyNoticeThreshold(timelineOf([pupil]), DEFAULT_LA_SETTINGS, 2024)).toBeNull();
  });

  it('is met by the 10th session, on the date of that session', () => {
    const pupil = onRoll(A).sessions('2024-09-16', 10, 'O'); // 16–20 Sep, AM and PM
    const f = flag(flagsOf([pupil]), 'penalty_notice_threshold');
    expect(f?.since).toBe('2024-09-20');
    const d = f?.detail as unknown as PenaltyNoticeFinding;
    expect(d.metOn).toBe('2024-09-20');
    expect(d.window.sessionCount).toBe(10);
    expect(d.window.sessions[0]).toEqual({ date: '2024-09-16', session: 'AM', code: 'O', urn: A.urn });
    expect(d.window.sessions[9]).toEqual({ date: '2024-09-20', session: 'PM', code: 'O', urn: A.urn });
    expect(d.window.lastWeek).toBe('2024-09-16');
    expect(d.window.firstWeek).toBe('2024-09-02'); // the pupil's first school week: fewer than 10 before
    expect(d.codes).toEqual(['G', 'O', 'U']);
  });

  it('counts any mix of G, O and U, not necessarily consecutive', () => {
    const pupil = onRoll(A)
      .code('2024-09-16', 'G', 'AM')
      .code('2024-09-17', 'O', 'PM')
      .code('2024-09-24', 'O', 'both')
      .code('2024-10-01', 'U', 'AM')
      .codes(['2024-10-08', '2024-10-09'], 'G', 'both')
      .code('2024-10-10', 'O', 'AM');
    const d = flag(flagsOf([pupil]), 'penalty_notice_threshold')?.detail as unknown as PenaltyNoticeFinding;
    expect(d.metOn).toBe('2024-10-10');
    expect(d.window.sessions.map((s) => s.code)).toEqual(['G', 'O', 'O', 'O', 'U', 'G', 'G', 'G', 'G', 'O']);
    expect(d.window.sessionsByCode).toEqual({ G: 5, O: 4, U: 1 });
  });

  it('counts U (late after registers closed) and not L (late before registers closed)', () => {
    expect(flag(flagsOf([onRoll(A).sessions('2024-09-16', 10, 'U')]), 'penalty_notice_threshold')?.since).toBe(
      '2024-09-20',
    );
    expect(flag(flagsOf([onRoll(A).sessions('2024-09-16', 10, 'L')]), 'penalty_notice_threshold')).toBeUndefined();
    expect(
      flag(
        flagsOf([onRoll(A).sessions('2024-09-16', 9, 'L').code('2024-09-20', 'U', 'PM')]),
        'penalty_notice_threshold',
      ),
    ).toBeUndefined();
  });

  it('does not count authorised absence or not-possible sessions', () => {
    const pupil = onRoll(A)
      .sessions('2024-09-16', 4, 'I')
      .sessions('2024-09-18', 2, 'D')
      .sessions('2024-09-19', 4, 'M');
    expect(penaltyNoticeThreshold(timelineOf([pupil]), DEFAULT_LA_SETTINGS, 2024)).toBeNull();
  });

  it('is met by 10 sessions spread over exactly 10 school weeks', () => {
    const dates = firstDaysOfWeeks(LONG_TERM, range(0, 9));
    const pupil = onRoll(LONG_TERM).codes(dates, 'G', 'AM');
    const d = penaltyNoticeThreshold(timelineOf([pupil]), DEFAULT_LA_SETTINGS, 2024);
    expect(d?.metOn).toBe(dates[9]);
    expect(d?.window).toMatchObject({
      firstWeek: '2024-09-02',
      lastWeek: '2024-11-04',
      schoolWeeks: 10,
      sessionCount: 10,
    });
  });

  it('is not met by 10 sessions spread over 11 school weeks', () => {
    const pupil = onRoll(LONG_TERM).codes(firstDaysOfWeeks(LONG_TERM, [0, ...range(2, 10)]), 'G', 'AM');
    const t = timelineOf([pupil]);
    expect(penaltyNoticeThreshold(t, DEFAULT_LA_SETTINGS, 2024)).toBeNull();
    expect(rollingWindowCounts(t, ['G'], 10).peak).toBe(9);
  });

  it('skips a half-term week: 10 sessions over 11 calendar weeks around half term is 10 school weeks', () => {
    // A's school weeks 0–9 are 2 Sep … 11 Nov; half term (28 Oct) is not a school week.
    const dates = firstDaysOfWeeks(A, range(0, 9));
    expect(dates[9]).toBe('2024-11-11');
    const d = penaltyNoticeThreshold(timelineOf([onRoll(A).codes(dates, 'O', 'PM')]), DEFAULT_LA_SETTINGS, 2024);
    expect(d?.window).toMatchObject({
      firstWeek: '2024-09-02',
      lastWeek: '2024-11-11',
      schoolWeeks: 10,
      sessionCount: 10,
    });
    // The same dates at a school open in the half-term week span 11 school weeks.
    const sameDates = onRoll(LONG_TERM).codes(dates, 'O', 'PM');
    expect(penaltyNoticeThreshold(timelineOf([sameDates]), DEFAULT_LA_SETTINGS, 2024)).toBeNull();
  });

  it('spans the summer holiday across academic years and flags the year in which it was met', () => {
    // Last 5 school weeks of 2024/25 (23 Jun – 21 Jul) and first 5 of 2025/26 (1 – 29 Sep).
    const dates = firstDaysOfWeeks(A, range(35, 44));
    expect(dates[0]).toBe('2025-06-23');
    expect(dates[9]).toBe('2025-09-29');
    const pupil = onRoll(A).codes(dates, 'G', 'AM');
    expect(flag(flagsOf([pupil], 2024), 'penalty_notice_threshold')).toBeUndefined();
    const f = flag(flagsOf([pupil], 2025), 'penalty_notice_threshold');
    expect(f?.since).toBe('2025-09-29');
    const d = f?.detail as unknown as PenaltyNoticeFinding;
    expect(d.window).toMatchObject({
      firstWeek: '2025-06-23',
      lastWeek: '2025-09-29',
      schoolWeeks: 10,
      sessionCount: 10,
    });
    expect(d.window.sessions.slice(4, 6).map((s) => s.date)).toEqual(['2025-07-21', '2025-09-03']);
  });

  it('carries a window met in July into the new academic year while it is still met, and says whether it still is', () => {
    const pupil = onRoll(A, { to: '2025-09-12' }).sessions('2025-07-14', 10, 'O'); // met on Fri 18 Jul
    expect(flag(flagsOf([pupil], 2024), 'penalty_notice_threshold')?.since).toBe('2025-07-18');
    const f = flag(flagsOf([pupil], 2025), 'penalty_notice_threshold');
    expect(f?.since).toBe('2025-09-03'); // the first school day of 2025/26, still within the window
    const d = f?.detail as unknown as PenaltyNoticeFinding;
    expect(d.metOn).toBe('2025-07-18');
    expect(d.currentlyMet).toBe(true);
    expect(d.currentWindow).toMatchObject({ lastWeek: '2025-09-08', sessionCount: 10 });
    expect(d.asAt).toBe('2025-09-12');

    // Later in the autumn the July sessions have left the window: still flagged for 2025/26 (it was
    // met this year, until the window ending 20 Oct), but no longer currently met.
    const later = onRoll(A, { to: '2025-11-28' }).sessions('2025-07-14', 10, 'O');
    const d2025 = flag(flagsOf([later], 2025), 'penalty_notice_threshold')?.detail as unknown as PenaltyNoticeFinding;
    expect(d2025).toMatchObject({
      metOn: '2025-07-18',
      lastMetWeek: '2025-10-20',
      currentlyMet: false,
      currentWindow: { sessionCount: 0 },
    });

    // Sessions in mid-May leave the window (10 school weeks) before the summer holiday ends.
    const may = onRoll(A).sessions('2025-05-12', 10, 'O');
    expect(flag(flagsOf([may], 2024), 'penalty_notice_threshold')?.since).toBe('2025-05-16');
    expect(flag(flagsOf([may], 2025), 'penalty_notice_threshold')).toBeUndefined();
  });

  it('counts a pupil who moves school mid-window across both schools, skipping weeks on roll at neither', () => {
    // At A until Fri 4 Oct (school weeks 2 Sep – 30 Sep); at B from Mon 21 Oct. A and B both hold
    // sessions on 7–18 Oct, but the pupil is on roll at neither, so those weeks are not school weeks.
    const atA = onRoll(A, { to: '2024-10-04', leavingDate: '2024-10-04' }).codes(
      firstDaysOfWeeks(A, range(0, 4)),
      'G',
      'AM',
    );
    const atB = onRoll(B, { from: '2024-10-21', admissionDate: '2024-10-21' }).codes(
      ['2024-10-21', '2024-11-04', '2024-11-11', '2024-11-18', '2024-11-25'],
      'O',
      'AM',
    );
    const d = penaltyNoticeThreshold(timelineOf([atA, atB]), DEFAULT_LA_SETTINGS, 2024);
    expect(d?.metOn).toBe('2024-11-25');
    expect(d?.window).toMatchObject({
      firstWeek: '2024-09-02',
      lastWeek: '2024-11-25',
      schoolWeeks: 10,
      sessionCount: 10,
    });
    expect(new Set(d?.window.sessions.map((s) => s.urn))).toEqual(new Set([A.urn, B.urn]));

    // Still on roll at A until 18 Oct: two more school weeks, so the 10 sessions span 12 school weeks.
    const stayed = onRoll(A, { to: '2024-10-18', leavingDate: '2024-10-18' }).codes(
      firstDaysOfWeeks(A, range(0, 4)),
      'G',
      'AM',
    );
    expect(penaltyNoticeThreshold(timelineOf([stayed, atB]), DEFAULT_LA_SETTINGS, 2024)).toBeNull();
  });

  it('counts a dual-registered pupil once: O at the main school with D at the subsidiary', () => {
    const main = onRoll(A, { registration: 'M' }).sessions('2024-09-16', 10, 'O');
    const subsidiary = onRoll(B, { registration: 'S', code: 'D' });
    const d = penaltyNoticeThreshold(timelineOf([main, subsidiary]), DEFAULT_LA_SETTINGS, 2024);
    expect(d?.window.sessionCount).toBe(10);
    expect(d?.window.sessions.every((s) => s.urn === A.urn)).toBe(true);
  });

  it('counts a session both dual-registration schools mark unauthorised once, not twice', () => {
    const main = onRoll(A, { registration: 'M' }).sessions('2024-09-16', 5, 'O');
    const subsidiary = onRoll(B, { registration: 'S', code: 'D' }).sessions('2024-09-16', 5, 'G');
    const t = timelineOf([main, subsidiary]);
    expect(rollingWindowCounts(t, DEFAULT_LA_SETTINGS.penaltyNoticeCodes, 10).peak).toBe(5);
  });

  it('does not count a session marked unauthorised at one school when the other records the pupil attending', () => {
    const main = onRoll(A, { registration: 'M' }).sessions('2024-09-16', 10, 'O');
    const subsidiary = onRoll(B, { registration: 'S', code: 'D' }).sessions('2024-09-16', 10, '/');
    expect(penaltyNoticeThreshold(timelineOf([main, subsidiary]), DEFAULT_LA_SETTINGS, 2024)).toBeNull();
  });

  it('clears the flag when an O is later corrected to I', () => {
    const pupil = onRoll(A).sessions('2024-09-16', 10, 'O');
    expect(flag(flagsOf([pupil]), 'penalty_notice_threshold')).toBeDefined();
    pupil.code('2024-09-20', 'I', 'PM');
    expect(flag(flagsOf([pupil]), 'penalty_notice_threshold')).toBeUndefined();
  });

  it('uses the LA-configured code set, session count and window', () => {
    const pupil = onRoll(A).sessions('2024-09-16', 6, 'G').sessions('2024-09-19', 4, 'O');
    expect(
      flag(flagsOf([pupil], 2024, { ...DEFAULT_LA_SETTINGS, penaltyNoticeCodes: ['G'] }), 'penalty_notice_threshold'),
    ).toBeUndefined();
    const six = flag(
      flagsOf([pupil], 2024, { ...DEFAULT_LA_SETTINGS, penaltyNoticeCodes: ['G'], penaltyNoticeSessions: 6 }),
      'penalty_notice_threshold',
    );
    expect(six?.since).toBe('2024-09-18');
    // A window of 1 school week: 10 sessions in one week meet it, 10 over two weeks do not.
    const twoWeeks = onRoll(A).sessions('2024-09-20', 10, 'G'); // Fri 20 Sep, then 23–26 Sep
    expect(
      flag(flagsOf([twoWeeks], 2024, { ...DEFAULT_LA_SETTINGS, penaltyNoticeWeeks: 1 }), 'penalty_notice_threshold'),
    ).toBeUndefined();
  });

  it('reports separate episodes, the peak and the last week met in the year', () => {
    const pupil = onRoll(A).sessions('2024-09-16', 10, 'O').sessions('2025-03-03', 12, 'G');
    const d = penaltyNoticeThreshold(timelineOf([pupil]), DEFAULT_LA_SETTINGS, 2024);
    expect(d?.episodes).toBe(2);
    expect(d?.peakSessions).toBe(12);
    expect(d?.metOn).toBe('2024-09-20');
    // Met from the week of 3 Mar (10th session on Fri 7 Mar) to the 10th school week counting it
    // (the Easter holiday is skipped): the week of 19 May.
    expect(d?.lastMetWeek).toBe('2025-05-19');
    expect(d?.currentlyMet).toBe(false);
  });
});

describe('rolling window counts (shared with the near-threshold detector)', () => {
  it('gives sessions per school week and per window of 10 school weeks, skipping holiday weeks', () => {
    const pupil = onRoll(A)
      .codes(['2024-10-21', '2024-10-22'], 'G', 'both')
      .codes(['2024-11-04', '2024-11-05'], 'O', 'AM');
    const counts = penaltyNoticeWindowCounts(pupil.enrolments(), sessionDaysOf(A));
    const week = (monday: string) => Array.from(counts.weeks).map(fromDayNumber).indexOf(monday);
    expect(week('2024-10-28')).toBe(-1); // half term is not a school week
    expect(counts.weekSessions[week('2024-10-21')]).toBe(4);
    expect(counts.weekSessions[week('2024-11-04')]).toBe(2);
    expect(counts.windowSessions[week('2024-11-04')]).toBe(6);
    expect(counts.peak).toBe(6);
    expect(counts.peakWeek).toBe(week('2024-11-04'));
    // The 10-week window ending with school week 2024-10-21 + 9 still holds the 21 Oct sessions; the next does not.
    const k = week('2024-10-21');
    expect(counts.windowSessions[k + 9]).toBe(6);
    expect(counts.windowSessions[k + 10]).toBe(2);
  });

  it('peaks at 9 for a pupil just under the threshold', () => {
    const counts = rollingWindowCounts(
      timelineOf([onRoll(A).sessions('2024-09-16', 9, 'O')]),
      ['G', 'N', 'O', 'U'],
      10,
    );
    expect(counts.peak).toBe(9);
    expect(fromDayNumber(counts.weeks[counts.peakWeek])).toBe('2024-09-16');
  });

  it('finds the school weeks of an academic year', () => {
    const t = timelineOf([onRoll(A)]);
    const y2025 = schoolWeeksOfYear(t.weeks, 2025);
    expect(fromDayNumber(t.weeks[y2025.from])).toBe('2025-09-01');
    expect(y2025.to).toBe(t.weeks.length);
    expect(schoolWeeksOfYear(t.weeks, 2024)).toEqual({ from: 0, to: y2025.from });
  });
});

describe('continuous unauthorised absence (10 and 20 school days)', () => {
  const runOf = (f: PupilFlag | undefined) => (f?.detail.runs as UnauthorisedRun[] | undefined)?.[0];

  it('is not met by 19 consecutive unauthorised sessions', () => {
    expect(flag(flagsOf([onRoll(A).sessions('2024-09-16', 19, 'N')]), 'ten_day_unauthorised')).toBeUndefined();
  });

  it('is met by 20 consecutive unauthorised sessions, on the date of the 20th', () => {
    const f = flag(flagsOf([onRoll(A).sessions('2024-09-16', 20, 'N')]), 'ten_day_unauthorised');
    expect(f?.since).toBe('2024-09-27');
    expect(runOf(f)).toEqual({
      firstDate: '2024-09-16',
      firstSession: 'AM',
      lastDate: '2024-09-27',
      lastSession: 'PM',
      sessionCount: 20,
      tenDaysOn: '2024-09-27',
      twentyDaysOn: null,
      ongoing: false,
      missingEducationRisk: true,
      codes: { N: 20 },
      urns: [A.urn],
    });
    expect(f?.detail.missingEducationRisk).toBe(true);
  });

  it('is broken by one present session', () => {
    const pupil = onRoll(A).sessions('2024-09-16', 21, 'G').code('2024-09-20', '/', 'PM'); // 9, present, 11
    expect(flag(flagsOf([pupil]), 'ten_day_unauthorised')).toBeUndefined();
    expect(continuousUnauthorisedRuns(timelineOf([pupil]), 1).map((r) => r.sessionCount)).toEqual([9, 11]);
  });

  it('is broken by an authorised absence or an approved activity', () => {
    for (const code of ['I', 'M', 'B']) {
      const pupil = onRoll(A).sessions('2024-09-16', 21, 'G').code('2024-09-20', code, 'PM');
      expect(flag(flagsOf([pupil]), 'ten_day_unauthorised')).toBeUndefined();
    }
  });

  it('is neither broken nor extended by not-possible sessions, unmarked sessions, missing rows or holidays', () => {
    // 10 G sessions 21–25 Oct, half term, then D, X, Q, Y1, Z, #, unmarked and no row on 4–7 Nov, then 10 G.
    const pupil = onRoll(A)
      .sessions('2024-10-21', 10, 'G')
      .code('2024-11-04', 'D', 'AM')
      .code('2024-11-04', 'X', 'PM')
      .code('2024-11-05', 'Q', 'AM')
      .code('2024-11-05', 'Y1', 'PM')
      .code('2024-11-06', 'Z', 'AM')
      .code('2024-11-06', '#', 'PM')
      .code('2024-11-07', '-', 'both')
      .code('2024-11-08', '.', 'both')
      .sessions('2024-11-11', 10, 'G');
    const f = flag(flagsOf([pupil]), 'ten_day_unauthorised');
    expect(f?.since).toBe('2024-11-15');
    expect(runOf(f)).toMatchObject({
      firstDate: '2024-10-21',
      lastDate: '2024-11-15',
      sessionCount: 20,
      missingEducationRisk: false,
      codes: { G: 20 },
    });
  });

  it("runs across the pupil's schools in date order", () => {
    const atA = onRoll(A, { to: '2024-10-04', leavingDate: '2024-10-04' }).sessions('2024-09-30', 10, 'N');
    const atB = onRoll(B, { from: '2024-10-07', admissionDate: '2024-10-07' }).sessions('2024-10-07', 10, 'O');
    const f = flag(flagsOf([atA, atB]), 'ten_day_unauthorised');
    expect(runOf(f)).toMatchObject({
      firstDate: '2024-09-30',
      lastDate: '2024-10-11',
      sessionCount: 20,
      urns: [A.urn, B.urn],
      codes: { N: 10, O: 10 },
    });
  });

  it('reports a run that continues to the latest marked session as ongoing', () => {
    const pupil = onRoll(A, { to: '2024-10-11' }).sessions('2024-09-30', 20, 'G'); // to the last day held
    const run = runOf(flag(flagsOf([pupil]), 'ten_day_unauthorised'));
    expect(run?.ongoing).toBe(true);
    expect(run?.missingEducationRisk).toBe(false);
    // A trailing not-possible session does not end it.
    pupil.code('2024-10-11', 'X', 'PM').code('2024-10-14', 'G', 'AM');
    expect(runOf(flag(flagsOf([pupil], 2024, DEFAULT_LA_SETTINGS, [A]), 'ten_day_unauthorised'))?.ongoing).toBe(true);
  });

  it('carries a run met in July into the new academic year while it continues', () => {
    // 20 N sessions 9–22 July (met on the 22nd), then N on the morning of 3 September, present that afternoon.
    const pupil = onRoll(A, { to: '2025-09-12' }).sessions('2025-07-09', 20, 'N').code('2025-09-03', 'N', 'AM');
    expect(flag(flagsOf([pupil], 2024), 'ten_day_unauthorised')?.since).toBe('2025-07-22');
    const f = flag(flagsOf([pupil], 2025), 'ten_day_unauthorised');
    expect(f?.since).toBe('2025-09-03');
    expect(f?.detail).toMatchObject({ metOn: '2025-07-22', ongoing: false });
    expect(runOf(f)).toMatchObject({ firstDate: '2025-07-09', lastDate: '2025-09-03', sessionCount: 21 });
    // Ended before the summer: not on 2025/26.
    const ended = onRoll(A, { to: '2025-09-12' }).sessions('2025-07-09', 20, 'N');
    expect(flag(flagsOf([ended], 2025), 'ten_day_unauthorised')).toBeUndefined();
  });

  it('gives twenty_day_unauthorised at 40 sessions and not at 39', () => {
    expect(flag(flagsOf([onRoll(A).sessions('2024-09-16', 39, 'N')]), 'twenty_day_unauthorised')).toBeUndefined();
    const flags = flagsOf([onRoll(A).sessions('2024-09-16', 40, 'N')]);
    expect(flag(flags, 'twenty_day_unauthorised')?.since).toBe('2024-10-11');
    expect(flag(flags, 'ten_day_unauthorised')?.since).toBe('2024-09-27');
    expect(runOf(flag(flags, 'twenty_day_unauthorised'))).toMatchObject({
      sessionCount: 40,
      tenDaysOn: '2024-09-27',
      twentyDaysOn: '2024-10-11',
    });
  });

  it('clears when a code in the run is corrected to an authorised absence', () => {
    const pupil = onRoll(A).sessions('2024-09-16', 20, 'N');
    pupil.code('2024-09-20', 'I', 'AM');
    expect(flag(flagsOf([pupil]), 'ten_day_unauthorised')).toBeUndefined();
  });
});

describe('illness (30 sessions coded I in the academic year)', () => {
  it('is not met by 29 sessions and is met by the 30th', () => {
    expect(flag(flagsOf([onRoll(A).sessions('2024-09-16', 29, 'I')]), 'illness_15_days')).toBeUndefined();
    const f = flag(flagsOf([onRoll(A).sessions('2024-09-16', 30, 'I')]), 'illness_15_days');
    expect(f?.since).toBe('2024-10-04');
    expect(f?.detail).toMatchObject({
      sessionCount: 30,
      sessionsThreshold: 30,
      firstDate: '2024-09-16',
      lastDate: '2024-10-04',
    });
  });

  it('counts cumulative sessions across terms and schools in the year', () => {
    const atA = onRoll(A, { to: '2024-12-20', leavingDate: '2024-12-20' }).codes(
      firstDaysOfWeeks(A, range(0, 14)),
      'I',
      'AM',
    );
    const atB = onRoll(B, { from: '2025-01-06', admissionDate: '2025-01-06' }).codes(
      firstDaysOfWeeks(B, range(15, 29)),
      'I',
      'PM',
    );
    const t = timelineOf([atA, atB]);
    expect(illnessThreshold(t, 2024)).toMatchObject({
      sessionCount: 30,
      metOn: daysOfSchoolWeek(B, 29)[0],
      urns: [A.urn, B.urn],
    });
  });

  it('does not carry illness over from the previous academic year', () => {
    const pupil = onRoll(A).sessions('2025-07-07', 20, 'I').sessions('2025-09-03', 10, 'I');
    const t = timelineOf([pupil]);
    expect(illnessThreshold(t, 2024)).toBeNull();
    expect(illnessThreshold(t, 2025)).toBeNull();
  });
});

describe('notice to improve (15 school days)', () => {
  const evaluate = (pupil: OnRoll, start: string, schools: HandSchool[] = [A], periodDays?: number) =>
    noticeToImprove({
      start,
      periodDays,
      enrolments: pupil.enrolments(),
      sessionDays: sessionDaysOf(...schools),
      bankHolidays: BANK_HOLIDAYS,
    });

  it('is met when the whole period is marked without unauthorised absence', () => {
    const r = evaluate(onRoll(A).code('2024-11-01', 'N').code('2024-11-11', 'I', 'AM'), '2024-11-04');
    expect(r.status).toBe('met');
    expect(r.schoolDays).toHaveLength(15);
    expect(r).toMatchObject({
      firstDay: '2024-11-04',
      lastDay: '2024-11-22',
      projectedFrom: null,
      unauthorisedSessions: [],
    });
  });

  it('counts only school days: a half term inside the period lengthens it', () => {
    const r = evaluate(onRoll(A), '2024-10-21');
    expect(r.schoolDays.slice(4, 6)).toEqual(['2024-10-25', '2024-11-04']);
    expect(r.lastDay).toBe('2024-11-15');
    expect(r.status).toBe('met');
  });

  it('is not met when unauthorised absence occurs in the period, and reports the sessions', () => {
    const r = evaluate(onRoll(A).code('2024-10-25', 'N').code('2024-11-12', 'G', 'PM'), '2024-11-04');
    expect(r.status).toBe('not_met');
    expect(r.unauthorisedSessions).toEqual([{ date: '2024-11-12', session: 'PM', code: 'G', urn: A.urn }]);
  });

  it('is in progress while the period runs beyond the registers, projecting weekdays that are not bank holidays', () => {
    const soFar = schoolUntil(A, '2024-12-20');
    const r = evaluate(onRoll(soFar), '2024-12-16', [soFar]);
    expect(r.status).toBe('in_progress');
    expect(r.projectedFrom).toBe('2024-12-23');
    expect(r.schoolDays.slice(5)).toEqual([
      '2024-12-23',
      '2024-12-24',
      '2024-12-27',
      '2024-12-30',
      '2024-12-31',
      '2025-01-02',
      '2025-01-03',
      '2025-01-06',
      '2025-01-07',
      '2025-01-08',
    ]);
  });

  it('is not met as soon as unauthorised absence occurs, even while in progress', () => {
    const soFar = schoolUntil(A, '2024-11-08');
    expect(evaluate(onRoll(soFar).code('2024-11-06', 'U', 'AM'), '2024-11-04', [soFar]).status).toBe('not_met');
  });

  it("stays in progress until the pupil's marks reach the last day of the period", () => {
    // The school has sessions on the period's last day (22 Nov); the pupil is listed but not yet marked.
    const pupil = onRoll(A, { to: '2024-11-22' }).code('2024-11-22', '-', 'both');
    expect(evaluate(pupil, '2024-11-04').status).toBe('in_progress');
  });

  it('uses the LA-configured period length', () => {
    const r = noticeToImprove({
      start: '2024-11-04',
      enrolments: onRoll(A).enrolments(),
      sessionDays: sessionDaysOf(A),
      settings: { ...DEFAULT_LA_SETTINGS, noticeToImprovePeriodDays: 5 },
    });
    expect(r).toMatchObject({ periodDays: 5, lastDay: '2024-11-08', status: 'met' });
  });
});

describe('flags on the pupil summary (summarisePupil)', () => {
  const summarise = (rolls: OnRoll[], academicYear = 2024) =>
    summarisePupil({
      upn: 'A999400124001',
      academicYear,
      enrolments: rolls.flatMap((r) => r.enrolments()),
      care: [],
      sessionDays: sessionDaysOf(A, B),
      settings: DEFAULT_LA_SETTINGS,
      today: '2025-07-31',
    });

  it('adds the statutory-trigger flags with their dates and evidence, as plain data', () => {
    const pupil = onRoll(A).sessions('2024-09-16', 40, 'O').sessions('2025-01-06', 30, 'I');
    const summary = summarise([pupil]);
    const byType = Object.fromEntries(summary.flags.map((f) => [f.type, f.since]));
    expect(byType).toMatchObject({
      penalty_notice_threshold: '2024-09-20',
      ten_day_unauthorised: '2024-09-27',
      twenty_day_unauthorised: '2024-10-11',
      illness_15_days: '2025-01-24',
    });
    const penalty = flag(summary.flags, 'penalty_notice_threshold');
    expect(penalty?.detail).toMatchObject({ metOn: '2024-09-20', currentlyMet: false, window: { sessionCount: 10 } });
    // Stored as JSON in the pupil summary: the detail must survive a round trip unchanged.
    expect(JSON.parse(JSON.stringify(summary.flags))).toEqual(summary.flags);
  });

  it('recomputes from the marks: correcting O to I clears the penalty-notice flag', () => {
    const pupil = onRoll(A).sessions('2024-09-16', 10, 'O');
    expect(summarise([pupil]).flags.map((f) => f.type)).toContain('penalty_notice_threshold');
    pupil.sessions('2024-09-16', 10, 'I');
    expect(summarise([pupil]).flags.map((f) => f.type)).not.toContain('penalty_notice_threshold');
  });

  it("uses sessions from the previous academic year's enrolment at another school", () => {
    const lastYear = onRoll(A, { to: '2025-07-22' }).codes(firstDaysOfWeeks(A, range(35, 39)), 'G', 'AM');
    const thisYear = onRoll(B, { from: '2025-09-03' }).codes(firstDaysOfWeeks(B, range(40, 44)), 'G', 'AM');
    const summary = summarise([lastYear, thisYear], 2025);
    expect(flag(summary.flags, 'penalty_notice_threshold')?.since).toBe('2025-09-29');
  });
});
