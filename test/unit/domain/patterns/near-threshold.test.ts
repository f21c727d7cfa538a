import { describe, expect, it } from 'vitest';
import { DEFAULT_LA_SETTINGS } from '../../../../shared/config.js';
import {
  detectPatterns,
  patternSettings,
  type NearThresholdFinding,
  type PatternSettingsOverrides,
} from '../../../../shared/domain/patterns/index.js';
import { PERIOD, marksFor, on, schoolOf, termDays, type Codes } from './fixtures.js';

const URN = '100001';
const DAYS = termDays();

function nearFindings(codes: Codes, overrides: PatternSettingsOverrides = {}): NearThresholdFinding[] {
  const result = detectPatterns({
    schools: [schoolOf(URN, [{ upn: 'P1', marks: marksFor(DAYS, codes) }])],
    period: PERIOD,
    settings: patternSettings(DEFAULT_LA_SETTINGS, overrides),
  });
  return result.findings.filter((f): f is NearThresholdFinding => f.type === 'near_threshold_unauthorised');
}

/** 9 G sessions: Monday afternoon to Friday of the week before October half term. */
const NINE_BEFORE_OCTOBER: Codes = {
  '2025-10-20': ['/', 'G'],
  ...on(['2025-10-21', '2025-10-22', '2025-10-23', '2025-10-24'], 'G'),
};
/** 8 G sessions: Monday to Thursday of the week after Easter. */
const EIGHT_AFTER_EASTER: Codes = on(['2026-04-13', '2026-04-14', '2026-04-15', '2026-04-16'], 'G');
const SINGLE = { nearThreshold: { minEpisodes: 1 } };
/** Only repeated kept-under windows, so the illness trigger is tested on its own. */
const REPEATED_ONLY = { nearThreshold: { minEpisodes: 2 } };

describe('near-threshold unauthorised absence', () => {
  it('does not flag one holiday kept at 9 sessions when the LA asks for repeated episodes only (minEpisodes 2)', () => {
    expect(nearFindings(NINE_BEFORE_OCTOBER, { nearThreshold: { minEpisodes: 2 } })).toEqual([]);
  });

  it('flags one holiday kept at 9 sessions (a window peaking just under the threshold: docs/design.md §2.6)', () => {
    const [f] = nearFindings(NINE_BEFORE_OCTOBER);
    expect(f).toMatchObject({
      reasons: ['peaked_under'],
      observed: 1,
      threshold: 10,
      windowWeeks: 10,
      codes: ['G', 'O', 'U'],
    });
    // The pupil's record starts in September: the first windows hold fewer than 10 school weeks.
    expect(f.episodes[0]).toMatchObject({
      unauthorisedSessions: 9,
      longestRun: 9,
      firstWeek: '2025-09-01',
      lastWeek: '2025-10-20',
      schoolWeeks: 8,
    });
    expect(f.episodes[0].sessions[0]).toEqual({ date: '2025-10-20', session: 'PM', code: 'G', urn: URN });
    expect(f.explanation).toBe(
      "This pupil's unauthorised absence reached 9 sessions in the 8 school weeks from the week of 1 September 2025 to the week of 20 October 2025, just under the penalty-notice threshold of 10.",
    );
  });

  it('reads a run of O (no holiday code) as a holiday only when the LA widens the holiday codes', () => {
    const nineO: Codes = {
      '2025-10-20': ['/', 'O'],
      ...on(['2025-10-21', '2025-10-22', '2025-10-23', '2025-10-24'], 'O'),
    };
    expect(nearFindings(nineO, SINGLE)).toEqual([]);
    expect(nearFindings(nineO, { nearThreshold: { minEpisodes: 1, holidayCodes: ['G', 'N', 'O', 'U'] } })).toHaveLength(
      1,
    );
  });

  it('flags two holidays each kept just under the threshold, more than 10 school weeks apart', () => {
    const [f] = nearFindings({ ...NINE_BEFORE_OCTOBER, ...EIGHT_AFTER_EASTER }, REPEATED_ONLY);
    expect(f).toBeDefined();
    expect(f.reasons).toEqual(['repeated']);
    expect(f.episodes.map((e) => e.unauthorisedSessions)).toEqual([9, 8]);
    expect(f.statistic).toMatchObject({ value: 2, threshold: 2, flaggedWhen: 'at_least' });
    expect(f.expected).toBeNull();
    expect(f.from).toBe('2025-10-20');
    expect(f.to).toBe('2026-04-16');
    expect(f.explanation).toMatch(
      /^This pupil's unauthorised absence reached 9 and 8 sessions in 2 separate 10-school-week periods .*, each time just under the penalty-notice threshold of 10\.$/,
    );
  });

  it('does not flag two holidays within 10 school weeks: together they meet the threshold (flagged as such elsewhere)', () => {
    const afterChristmas = on(['2026-01-05', '2026-01-06', '2026-01-07', '2026-01-08'], 'G');
    expect(nearFindings({ ...NINE_BEFORE_OCTOBER, ...afterChristmas })).toEqual([]);
  });

  it('does not flag a window that peaks at 7', () => {
    const seven: Codes = { '2025-10-21': ['/', 'G'], ...on(['2025-10-22', '2025-10-23', '2025-10-24'], 'G') };
    expect(nearFindings(seven, SINGLE)).toEqual([]);
  });

  it('flags 8 unauthorised sessions with illness straight after that takes the window to 10', () => {
    const [f] = nearFindings(
      { ...on(['2026-02-09', '2026-02-10', '2026-02-11', '2026-02-12'], 'G'), '2026-02-13': 'I' },
      REPEATED_ONLY,
    );
    expect(f).toBeDefined();
    expect(f.reasons).toEqual(['illness_tops_up']);
    expect(f.observed).toBe(10);
    expect(f.statistic).toMatchObject({ value: 10, threshold: 10, flaggedWhen: 'at_least' });
    expect(f.episodes[0].contiguousIllness.map((s) => `${s.date} ${s.session} ${s.code}`)).toEqual([
      '2026-02-13 AM I',
      '2026-02-13 PM I',
    ]);
    expect(f.explanation).toBe(
      'In the 10 school weeks from the week of 24 November 2025 to the week of 9 February 2026 this pupil had 8 unauthorised sessions, under the penalty-notice threshold of 10, ' +
        'including 8 sessions of unauthorised holiday in a row, and the 2 illness sessions immediately before or after those days would take it to 10.',
    );
  });

  it('reports one episode with both reasons when a holiday kept at 8 is also topped up by illness', () => {
    const [f] = nearFindings({
      ...on(['2026-02-09', '2026-02-10', '2026-02-11', '2026-02-12'], 'G'),
      '2026-02-13': 'I',
    });
    expect(f.reasons).toEqual(['peaked_under', 'illness_tops_up']);
    expect(f.episodes).toHaveLength(1);
    expect(f.episodes[0].contiguousIllness).toHaveLength(2);
    expect(f.explanation).toMatch(
      /just under the penalty-notice threshold of 10, and the illness sessions immediately around the unauthorised days would take one of them to 10\.$/,
    );
  });

  it('does not flag when the contiguous illness takes the window only to 9', () => {
    expect(
      nearFindings(
        { ...on(['2026-02-09', '2026-02-10', '2026-02-11', '2026-02-12'], 'G'), '2026-02-13': ['I', '/'] },
        REPEATED_ONLY,
      ),
    ).toEqual([]);
  });

  it('counts illness on the first day after a half term as contiguous with unauthorised days before it', () => {
    const [f] = nearFindings(
      { ...on(['2026-02-10', '2026-02-11', '2026-02-12', '2026-02-13'], 'G'), '2026-02-23': 'I' },
      REPEATED_ONLY,
    );
    expect(f?.reasons).toEqual(['illness_tops_up']);
  });

  it('does not count illness separated from the unauthorised days by a day in school', () => {
    expect(
      nearFindings(
        { ...on(['2026-02-02', '2026-02-03', '2026-02-04', '2026-02-05'], 'G'), '2026-02-09': 'I' },
        REPEATED_ONLY,
      ),
    ).toEqual([]);
  });

  it('flags a 3-day unauthorised holiday with 2 days of illness straight after (6 + 4 sessions), though the window peaks at only 6', () => {
    const [f] = nearFindings({
      ...on(['2026-02-09', '2026-02-10', '2026-02-11'], 'G'),
      ...on(['2026-02-12', '2026-02-13'], 'I'),
    });
    expect(f?.reasons).toEqual(['illness_tops_up']);
    expect(f?.observed).toBe(10);
  });

  it('needs the unauthorised run of a split holiday to be a holiday (mostly G): O + illness is not flagged', () => {
    expect(
      nearFindings({
        ...on(['2026-02-09', '2026-02-10', '2026-02-11'], 'O'),
        ...on(['2026-02-12', '2026-02-13'], 'I'),
      }),
    ).toEqual([]);
  });

  it('needs a split holiday of at least 6 unauthorised sessions: 5 with 5 of illness are not flagged', () => {
    const five: Codes = {
      ...on(['2026-02-09', '2026-02-10'], 'G'),
      '2026-02-11': ['G', 'I'],
      ...on(['2026-02-12', '2026-02-13'], 'I'),
    };
    expect(nearFindings(five)).toEqual([]);
  });

  it('does not count a window kept at 8 by a 3-day absence plus scattered days (the 8 is not one holiday)', () => {
    const codes: Codes = {
      ...on(['2026-01-14', '2026-01-28'], ['N', '/']),
      ...on(['2026-02-09', '2026-02-10', '2026-02-11'], 'G'),
    };
    expect(nearFindings(codes, SINGLE)).toEqual([]);
  });

  it('does not flag scattered single unauthorised sessions (no holiday-like run), even when they reach 9', () => {
    const scattered = on(
      [
        '2025-10-06',
        '2025-10-07',
        '2025-10-08',
        '2025-10-09',
        '2025-10-10',
        '2025-10-13',
        '2025-10-14',
        '2025-10-15',
        '2025-10-16',
      ],
      ['N', '/'],
    );
    expect(nearFindings(scattered, SINGLE)).toEqual([]);
  });

  it('counts late after registers closed (U) in the window like the threshold does', () => {
    const [f] = nearFindings(
      { ...on(['2026-02-09', '2026-02-10', '2026-02-11'], 'G'), '2026-02-12': 'U', '2026-02-13': 'I' },
      SINGLE,
    );
    expect(f?.episodes[0].unauthorisedSessions).toBe(8);
  });
});
