import { describe, expect, it } from 'vitest';
import { weekdayIndex } from '../../../../shared/domain/dates.js';
import {
  analyseHolidayAdjacency,
  DEFAULT_PATTERN_SETTINGS,
  detectPatterns,
  patternSettings,
  pupilPatternContext,
  schoolPatternDigest,
  type HolidayAdjacentFinding,
  type PatternSettingsOverrides,
} from '../../../../shared/domain/patterns/index.js';
import { netAbsencesBeside } from '../../../../shared/domain/patterns/holiday-adjacent.js';
import { pupilTimeline } from '../../../../shared/domain/school-weeks.js';
import { DEFAULT_LA_SETTINGS } from '../../../../shared/config.js';
import {
  ADJ,
  MID_TERM,
  PERIOD,
  academyClosures,
  marksFor,
  on,
  schoolOf,
  termDays,
  type Codes,
  type HandPupil,
} from './fixtures.js';

const URN = '100001';
const DAYS = termDays();
/** One adjacent day at each of five different breaks. */
const FIVE_BREAKS = [ADJ.octBefore[1], ADJ.xmasAfter[0], ADJ.febBefore[1], ADJ.easterAfter[0], ADJ.mayBefore[1]];

function pupil(codes: Codes, upn = 'P1'): HandPupil {
  return { upn, marks: marksFor(DAYS, codes) };
}

function holidayFindings(
  pupils: HandPupil[],
  overrides: PatternSettingsOverrides = {},
  closures?: Parameters<typeof schoolOf>[2],
): HolidayAdjacentFinding[] {
  const result = detectPatterns({
    schools: [schoolOf(URN, pupils, closures)],
    period: PERIOD,
    settings: patternSettings(DEFAULT_LA_SETTINGS, overrides),
  });
  return result.findings.filter((f): f is HolidayAdjacentFinding => f.type === 'holiday_adjacent_absence');
}

/** Every condition off but the one under test. */
const ONLY = {
  minSessions: (n: number): PatternSettingsOverrides => ({
    holidayAdjacent: { alpha: 1, minRatio: 0, minBreaks: 1, minAbsencesBeside: 0, minSessions: n },
  }),
  minBreaks: (n: number): PatternSettingsOverrides => ({
    holidayAdjacent: { alpha: 1, minRatio: 0, minBreaks: n, minAbsencesBeside: 0, minSessions: 1 },
  }),
  /** The count alone, a lone school day counting `singleDay` (1 unless given: the count's other rules in isolation). */
  minAbsencesBeside: (n: number, singleDay = 1): PatternSettingsOverrides => ({
    holidayAdjacent: {
      alpha: 1,
      minRatio: 0,
      minBreaks: 1,
      minAbsencesBeside: n,
      minSessions: 1,
      singleDayCounts: singleDay,
    },
  }),
};

function analyse(codes: Codes, closures?: Parameters<typeof schoolOf>[2], days = DAYS) {
  const school = schoolOf(URN, [{ upn: 'P1', marks: marksFor(days, codes) }], closures);
  const ctx = pupilPatternContext([schoolPatternDigest(school, PERIOD)], PERIOD);
  const p = school.registers[0].pupils.get('P1');
  if (!p) throw new Error('no pupil');
  const t = pupilTimeline(
    [
      {
        urn: URN,
        academicYear: 2025,
        registration: 'C',
        firstListed: p.firstListed,
        lastListed: p.lastListed,
        marks: p.marks,
      },
    ],
    ctx.sessionDays,
  );
  return analyseHolidayAdjacency(t, ctx.adjacency, PERIOD);
}

describe('holiday-adjacent absence: the pattern', () => {
  it('flags illness on a day next to each of five different breaks, with the evidence an officer reads', () => {
    const [f] = holidayFindings([pupil(on(FIVE_BREAKS, 'I'))]);
    expect(f).toBeDefined();
    expect(f).toMatchObject({ upn: 'P1', urn: URN, observed: 10, absenceSessions: 10, spells: 5, adjacentSpells: 5 });
    expect(f.breaks.map((b) => b.label)).toEqual([
      'October half term',
      'Christmas holiday',
      'February half term',
      'Easter holiday',
      'May half term',
    ]);
    expect(f.breaks[0].sessions).toEqual([
      { date: '2025-10-24', session: 'AM', code: 'I', urn: URN },
      { date: '2025-10-24', session: 'PM', code: 'I', urn: URN },
    ]);
    // 56 of the pupil's 388 sessions (194 school days) are holiday-adjacent (28 days × 2).
    expect(f.adjacentSessions).toBe(56);
    expect(f.possibleSessions).toBe(388);
    expect(f.expected).toBeCloseTo((10 * 56) / 388, 0);
    expect(f.statistic.value).toBeLessThanOrEqual(5e-4);
    expect(f.statistic).toMatchObject({ threshold: 7.5e-4, flaggedWhen: 'at_most' });
    expect(f.explanation).toMatch(
      /^10 of this pupil's 10 absence sessions between 3 September 2025 and 21 July 2026 fell on the 2 school days either side of a school holiday, next to 5 different holidays \(October half term, .* and May half term\), when about 1\.\d would be expected .*; the chance of so many by coincidence is 1 in [\d,]+\.$/,
    );
    expect(f.explanation.split('. ').length).toBe(1);
  });

  it('flags a day next to each of four breaks and no other absence when lone days count 1 (p 7.1e-6; at the default 0.8 they are 3.2, seventh pass), but not with four more days off mid-term (p 1.1e-3: four other absences cancel the four beside breaks)', () => {
    const four = on(FIVE_BREAKS.slice(0, 4), 'I');
    expect(holidayFindings([pupil(four)])).toEqual([]);
    const [f] = holidayFindings([pupil(four)], { holidayAdjacent: { singleDayCounts: 1 } });
    expect(f).toMatchObject({ observed: 8, spells: 4, adjacentSpells: 4 });
    expect(f.statistic.value).toBeCloseTo(7.13e-6, 7);
    // With four more separate days off mid-term the ratio is still 3.5, the p-value is past 5e-4, and
    // the four absences beside breaks are no more than the four elsewhere.
    const more = analyse({ ...four, ...on(MID_TERM.slice(0, 4), 'I') });
    expect(more.test).toMatchObject({ observed: 8, spells: 8 });
    expect(more.test!.pValue).toBeGreaterThan(5e-4);
    expect(holidayFindings([pupil({ ...four, ...on(MID_TERM.slice(0, 4), 'I') })])).toEqual([]);
  });

  it('weighs the school day next to a break more than the one before it: three days each next to a break p 1.4e-4, with one more day off mid-term p 7.0e-4', () => {
    // Until issue 21 every adjacent session weighed the same (this was p 1.9e-3) and three breaks were needed.
    expect(analyse(on(FIVE_BREAKS.slice(0, 3), 'I')).test!.pValue).toBeCloseTo(1.38e-4, 6);
    expect(
      analyse({ ...on(FIVE_BREAKS.slice(0, 3), 'I'), ...on(MID_TERM.slice(0, 1), 'I') }).test!.pValue,
    ).toBeGreaterThan(5e-4);
    // The second day before each break instead: the same three absences, weaker evidence.
    expect(analyse(on([ADJ.octBefore[0], ADJ.xmasBefore[0], ADJ.febBefore[0]], 'I')).test!.pValue).toBeGreaterThan(
      1.38e-4,
    );
  });

  it('needs two different breaks by default (was three until issue 21): the October and February half terms each taken both sides are a finding, the evidence decides', () => {
    // The 2 school days before and after each of the two half terms: two unbroken absences, each two pieces.
    const two = on([...ADJ.octBefore, ...ADJ.octAfter, ...ADJ.febBefore, ...ADJ.febAfter], 'I');
    const a = analyse(two);
    expect(a.breaksWithAbsence).toBe(2);
    expect(a.besideBreaks.map((b) => b.counts)).toEqual([2, 2]);
    expect(a.test!.pValue).toBeLessThan(1.5e-3);
    expect(holidayFindings([pupil(two)])).toHaveLength(1);
    expect(holidayFindings([pupil(two)], { holidayAdjacent: { minBreaks: 3 } })).toEqual([]);
    // Until the seventh pass four lone days beside the same two breaks (present in between) were one too;
    // a lone day counts 0.8 now, and four are 3.2.
    const lone = on([ADJ.octBefore[0], ADJ.octAfter[0], ADJ.febBefore[0], ADJ.febAfter[0]], 'I');
    expect(analyse(lone).besideBreaks).toHaveLength(4);
    expect(holidayFindings([pupil(lone)])).toEqual([]);
    expect(holidayFindings([pupil(lone)], { holidayAdjacent: { singleDayCounts: 1 } })).toHaveLength(1);
  });

  it('counts M, G, N and O like illness', () => {
    const codes: Codes = {
      [FIVE_BREAKS[0]]: 'M',
      [FIVE_BREAKS[1]]: 'G',
      [FIVE_BREAKS[2]]: 'N',
      [FIVE_BREAKS[3]]: 'O',
      [FIVE_BREAKS[4]]: 'I',
    };
    expect(holidayFindings([pupil(codes)])).toHaveLength(1);
  });
});

describe('holiday-adjacent absence: minimum count', () => {
  it('needs 6 adjacent absence sessions: 5 are not enough, 6 are', () => {
    const five: Codes = { ...on([ADJ.octBefore[1], ADJ.xmasAfter[0]], 'I'), [ADJ.febBefore[1]]: ['I', '/'] };
    const six: Codes = on([ADJ.octBefore[1], ADJ.xmasAfter[0], ADJ.febBefore[1]], 'I');
    expect(holidayFindings([pupil(five)], ONLY.minSessions(6))).toEqual([]);
    expect(holidayFindings([pupil(six)], ONLY.minSessions(6))).toHaveLength(1);
  });

  it('never flags one sick day, however it falls', () => {
    expect(holidayFindings([pupil(on([ADJ.octBefore[1]], 'I'))])).toEqual([]);
  });
});

describe('holiday-adjacent absence: separate absences beside breaks (issue 21, third pass)', () => {
  it('needs 4 separate absences beside breaks: one fewer is not enough, 4 are (every other condition off)', () => {
    expect(holidayFindings([pupil(on(FIVE_BREAKS.slice(0, 3), 'I'))], ONLY.minAbsencesBeside(4))).toEqual([]);
    expect(holidayFindings([pupil(on(FIVE_BREAKS.slice(0, 4), 'I'))], ONLY.minAbsencesBeside(4))).toHaveLength(1);
    // At the defaults too: three days next to three breaks are p 1.4e-4, under alpha, and still not a finding.
    expect(holidayFindings([pupil(on(FIVE_BREAKS.slice(0, 3), 'I'))])).toEqual([]);
    // At the default 0.8 a lone day (issue 21, seventh pass): four are 3.2, not a finding; five are 4.
    expect(holidayFindings([pupil(on(FIVE_BREAKS.slice(0, 4), 'I'))])).toEqual([]);
    expect(holidayFindings([pupil(on(FIVE_BREAKS.slice(0, 4), 'I'))], ONLY.minAbsencesBeside(4, 0.8))).toEqual([]);
    expect(holidayFindings([pupil(on(FIVE_BREAKS, 'I'))], ONLY.minAbsencesBeside(4, 0.8))).toHaveLength(1);
    expect(holidayFindings([pupil(on(FIVE_BREAKS, 'I'))])).toHaveLength(1);
  });

  it('counts a lone school day beside a break 0.8 (seventh pass): four lone days and a two-day absence beside five breaks are 4.2, three and one 3.4', () => {
    // The school day before October and the two before Christmas (one absence), then lone days at February, Easter and May.
    const codes = on(
      [ADJ.octBefore[1], ...ADJ.xmasBefore, ADJ.febBefore[1], ADJ.easterAfter[0], ADJ.mayBefore[1]],
      'I',
    );
    const a = analyse(codes);
    expect(a.besideBreaks.map((b) => b.sessions)).toEqual([2, 4, 2, 2, 2]);
    expect(netAbsencesBeside(a, 0.8)).toBeCloseTo(4.2, 9);
    expect(netAbsencesBeside(a)).toBe(5); // lone days at 1: the rule before the seventh pass
    expect(holidayFindings([pupil(codes)], ONLY.minAbsencesBeside(4, 0.8))).toHaveLength(1);
    const fewer = on([ADJ.octBefore[1], ...ADJ.xmasBefore, ADJ.febBefore[1], ADJ.easterAfter[0]], 'I');
    expect(netAbsencesBeside(analyse(fewer), 0.8)).toBeCloseTo(3.4, 9);
    expect(holidayFindings([pupil(fewer)], ONLY.minAbsencesBeside(4, 0.8))).toEqual([]);
    expect(DEFAULT_PATTERN_SETTINGS.holidayAdjacent.singleDayCounts).toBe(0.8);
  });

  it('counts each other absence against one beside a break: five beside and one elsewhere flag, five and two do not', () => {
    const five = on(FIVE_BREAKS, 'I');
    const a = analyse({ ...five, ...on(MID_TERM.slice(0, 2), 'I') });
    expect(a.besideBreaks).toHaveLength(5);
    expect(a.test).toMatchObject({ spells: 7 });
    expect(
      holidayFindings([pupil({ ...five, ...on(MID_TERM.slice(0, 1), 'I') })], ONLY.minAbsencesBeside(4)),
    ).toHaveLength(1);
    // At the default 0.8 a lone day the five are 4, and one day elsewhere takes them to 3.
    expect(holidayFindings([pupil({ ...five, ...on(MID_TERM.slice(0, 1), 'I') })])).toEqual([]);
    expect(holidayFindings([pupil({ ...five, ...on(MID_TERM.slice(0, 2), 'I') })], ONLY.minAbsencesBeside(4))).toEqual(
      [],
    );
  });

  it('counts an absence touching both sides of a break without filling them once: a day either side of October is one', () => {
    // A day either side of the October half term (one unbroken absence), the day next to Christmas and February: three.
    const spanning = on([ADJ.octBefore[1], ADJ.octAfter[0], ADJ.xmasAfter[0], ADJ.febBefore[1]], 'I');
    const a = analyse(spanning);
    expect(a.besideBreaks).toEqual([
      { sessions: 4, sides: 2, counts: 1 },
      { sessions: 2, sides: 1, counts: 1 },
      { sessions: 2, sides: 1, counts: 1 },
    ]);
    expect(holidayFindings([pupil(spanning)], ONLY.minAbsencesBeside(4))).toEqual([]);
    // A fourth separate absence, the day after Easter, makes four.
    expect(
      holidayFindings([pupil({ ...spanning, ...on([ADJ.easterAfter[0]], 'I') })], ONLY.minAbsencesBeside(4)),
    ).toHaveLength(1);
  });

  it('counts an absence filling the 2 school days on both sides of a break as two (a holiday taken both sides; fourth pass)', () => {
    const both = on([...ADJ.octBefore, ...ADJ.octAfter, ADJ.xmasAfter[0], ADJ.febBefore[1]], 'I');
    const a = analyse(both);
    expect(a.besideBreaks).toEqual([
      { sessions: 8, sides: 2, counts: 2 },
      { sessions: 2, sides: 1, counts: 1 },
      { sessions: 2, sides: 1, counts: 1 },
    ]);
    expect(holidayFindings([pupil(both)], ONLY.minAbsencesBeside(4))).toHaveLength(1);
    expect(holidayFindings([pupil(both)], ONLY.minAbsencesBeside(5))).toEqual([]);
    // Two school days before and only one after: not filled, one.
    expect(analyse(on([...ADJ.octBefore, ADJ.octAfter[0]], 'I')).besideBreaks).toEqual([
      { sessions: 6, sides: 2, counts: 1 },
    ]);
    // Present the morning of the second school day before: three sessions of that side's four, one.
    const halfDay = analyse({ ...on([...ADJ.octBefore, ...ADJ.octAfter], 'I'), [ADJ.octBefore[0]]: ['/', 'I'] });
    expect(halfDay.besideBreaks).toEqual([{ sessions: 7, sides: 2, counts: 1 }]);
  });

  it('never flags one illness spanning a break on its own, however long: it counts two at most (every other condition off)', () => {
    const around = DAYS.filter((d) => d >= '2025-10-13' && d <= '2025-11-14');
    for (const days of [
      [...ADJ.octBefore, ...ADJ.octAfter],
      ['2025-10-22', ...ADJ.octBefore, ...ADJ.octAfter],
      around,
    ]) {
      const a = analyse(on(days, 'I'));
      expect(a.besideBreaks.map((b) => b.counts)).toEqual([2]);
      expect(holidayFindings([pupil(on(days, 'I'))], ONLY.minAbsencesBeside(4))).toEqual([]);
      expect(holidayFindings([pupil(on(days, 'I'))])).toEqual([]);
    }
  });

  it('counts a lone half day beside a break as nothing: one illness spanning a break, a day beside Christmas and a half day beside February are three', () => {
    const codes: Codes = {
      ...on([...ADJ.octBefore, ...ADJ.octAfter, ADJ.xmasAfter[0]], 'I'),
      [ADJ.febBefore[1]]: ['/', 'M'],
    };
    const a = analyse(codes);
    expect(a.besideBreaks.map((b) => b.counts)).toEqual([2, 1, 0]);
    expect(holidayFindings([pupil(codes)], ONLY.minAbsencesBeside(4))).toEqual([]);
    expect(holidayFindings([pupil(codes)])).toEqual([]);
    // A whole day beside February instead: four.
    expect(holidayFindings([pupil({ ...codes, [ADJ.febBefore[1]]: 'M' })], ONLY.minAbsencesBeside(4))).toHaveLength(1);
  });

  it('does not split an absence at R, E or C2 (left out of the test): illness either side of an R day is one absence', () => {
    const a = analyse({ ...on([ADJ.octBefore[0], ADJ.octAfter[0]], 'I'), [ADJ.octBefore[1]]: 'R' });
    expect(a.besideBreaks).toEqual([{ sessions: 4, sides: 2, counts: 1 }]);
  });
});

describe('holiday-adjacent absence: the 2-school-day adjacency', () => {
  it('counts the 2 school days before a break and not the 3rd', () => {
    expect(analyse(on([ADJ.octBefore[0], ADJ.octBefore[1]], 'I')).adjacentAbsences).toHaveLength(4);
    expect(analyse(on(['2025-10-22'], 'I')).adjacentAbsences).toHaveLength(0);
  });

  it('counts the 2 school days after a break and not the 3rd', () => {
    expect(analyse(on([...ADJ.octAfter], 'I')).adjacentAbsences).toHaveLength(4);
    expect(analyse(on(['2025-11-05'], 'I')).adjacentAbsences).toHaveLength(0);
  });

  it('counts the days either side of a bank-holiday weekend (Friday before, Tuesday after)', () => {
    const a = analyse(on([ADJ.mayDayBefore[1], ADJ.mayDayAfter[0]], 'I'));
    expect(a.adjacentAbsences.map((x) => [x.breakStart, x.breakLabel])).toEqual(
      Array(4).fill(['2026-05-02', 'Early May bank holiday']),
    );
  });

  it('does not count the days either side of an ordinary weekend', () => {
    expect(analyse(on(['2025-11-14', '2025-11-17'], 'I')).adjacentAbsences).toHaveLength(0);
  });

  it("uses an academy's own dates: the days next to its own half term, not the LA's", () => {
    const closures = academyClosures(URN);
    const academyDays = termDays(closures, URN);
    const a = analyse(on(['2025-10-17', '2025-10-27', ADJ.octAfter[0]], 'I'), closures, academyDays);
    // 17 Oct (before) and 27 Oct (after) are next to the academy's half term (20–24 Oct); 3 Nov, next to the LA's, is not.
    expect(a.adjacentAbsences.map((x) => x.breakStart)).toEqual(Array(4).fill('2025-10-18'));
  });
});

describe('holiday-adjacent absence: repeated next to at least two breaks', () => {
  it('never flags one illness spanning a half term (the 2 days before and after it)', () => {
    expect(holidayFindings([pupil(on([...ADJ.octBefore, ...ADJ.octAfter], 'I'))])).toEqual([]);
    expect(holidayFindings([pupil(on([...ADJ.octBefore, ...ADJ.octAfter], 'I'))], ONLY.minBreaks(2))).toEqual([]);
  });

  it('needs a second break with at least 2 sessions: 1 session there is not enough, 2 are', () => {
    const base = on([...ADJ.octBefore, ...ADJ.octAfter], 'I');
    expect(holidayFindings([pupil({ ...base, [ADJ.febBefore[1]]: ['I', '/'] })], ONLY.minBreaks(2))).toEqual([]);
    expect(holidayFindings([pupil({ ...base, [ADJ.febBefore[1]]: 'I' })], ONLY.minBreaks(2))).toHaveLength(1);
  });
});

describe('holiday-adjacent absence: controls never flagged', () => {
  for (const [code, what] of [
    ['R', 'religious observance'],
    ['E', 'exclusion'],
    ['C2', 'part-time timetable'],
    ['C', 'leave the school granted'],
  ] as const) {
    it(`never counts ${code} (${what}) next to breaks, and leaves it out of the sessions tested`, () => {
      expect(holidayFindings([pupil(on(FIVE_BREAKS, code))])).toEqual([]);
      expect(
        holidayFindings([pupil(on(FIVE_BREAKS, code))], {
          holidayAdjacent: { alpha: 1, minRatio: 0, minBreaks: 1, minSessions: 1 },
        }),
      ).toEqual([]);
      const a = analyse(on(FIVE_BREAKS, code));
      expect(a.absenceSessions).toBe(0);
      expect(a.possibleSessions).toBe(378);
    });
  }

  it('never counts not-possible codes (Y7, Q) next to breaks', () => {
    const a = analyse({ ...on(FIVE_BREAKS.slice(0, 3), 'Y7'), ...on(FIVE_BREAKS.slice(3), 'Q') });
    expect(a.absenceSessions).toBe(0);
    expect(a.possibleSessions).toBe(378);
  });

  it('does not count late after registers closed (U) as absence', () => {
    expect(analyse(on(FIVE_BREAKS, 'U')).absenceSessions).toBe(0);
  });

  it('never flags ordinary illness spread through the year, even when some of it falls next to a break', () => {
    const codes = { ...on(MID_TERM, 'I'), ...on([ADJ.octBefore[1], ADJ.febAfter[0]], 'I') };
    expect(holidayFindings([pupil(codes)])).toEqual([]);
  });

  it('never flags a pupil absent on most days, next to breaks no more than elsewhere', () => {
    const mostDays = DAYS.filter((d) => weekdayIndex(d) <= 2);
    expect(holidayFindings([pupil(on(mostDays, 'N'))])).toEqual([]);
  });
});
