import { describe, expect, it } from 'vitest';
import { DEFAULT_LA_SETTINGS } from '../../../../shared/config.js';
import {
  detectPatterns,
  patternSettings,
  type HolidayAdjacentFinding,
} from '../../../../shared/domain/patterns/index.js';
import { placementTest, spellsOf } from '../../../../shared/domain/patterns/placement.js';
import { laAdjacencyRise, MIN_SCHOOLS, type AdjacencyRiseCounts } from '../../../../shared/domain/patterns/rise.js';
import { ADJ, BESIDE_FOUR_BREAKS, PERIOD, marksFor, on, schoolOf, termDays, type Codes } from './fixtures.js';

const DAYS = termDays();
const ADJACENT: string[] = Object.values(ADJ).flat();
const MID = DAYS.filter((d) => !ADJACENT.includes(d));

/** A school-year's counts: 1,000 sessions per position, `other` starts on other days, `before`/`after` at distances 1 and 2. */
function school(urn: string, other: number, before: [number, number], after: [number, number]): AdjacencyRiseCounts {
  return {
    academicYear: 2025,
    urn,
    sessions: [10_000, 1_000, 1_000, 1_000, 1_000],
    starts: [other, before[0], before[1], after[0], after[1]],
  };
}

describe("the LA's rise in absence beside breaks (the holiday-adjacent test's fitted null)", () => {
  it("is the median over schools of each position's start rate relative to other days", () => {
    // Other days: 1 start per 100 sessions; 1.4 times that on the 2 days before a break, no rise after.
    const counts = ['1', '2', '3', '4', '5'].map((u) => school(u, 100, [14, 14], [10, 10]));
    expect(laAdjacencyRise(counts)).toEqual([1, 1.4, 1.4, 1, 1]);
  });

  it('is not moved by a school coding holidays as illness (the median)', () => {
    const counts = [
      ...['1', '2', '3', '4'].map((u) => school(u, 100, [14, 14], [10, 10])),
      school('coding', 100, [60, 60], [60, 60]),
    ];
    expect(laAdjacencyRise(counts)).toEqual([1, 1.4, 1.4, 1, 1]);
  });

  it('is floored at 1: the fitted null is never less cautious than the uniform one', () => {
    const counts = ['1', '2', '3', '4', '5'].map((u) => school(u, 100, [8, 8], [5, 5]));
    expect(laAdjacencyRise(counts)).toEqual([1, 1, 1, 1, 1]);
  });

  it(`is not fitted with fewer than ${MIN_SCHOOLS} schools holding 50 or more spells on other days (the uniform null)`, () => {
    expect(laAdjacencyRise(['1', '2', '3', '4'].map((u) => school(u, 100, [14, 14], [10, 10])))).toBeNull();
    expect(
      laAdjacencyRise(['1', '2', '3', '4', '5'].map((u, i) => school(u, i === 0 ? 49 : 100, [14, 14], [10, 10]))),
    ).toBeNull();
  });
});

describe('the placement test with start weights', () => {
  const n = 380;
  const adjacent = new Uint8Array(n);
  for (let b = 0; b < 6; b++) for (let j = 0; j < 4; j++) adjacent[30 + b * 60 + j] = 1; // 6 blocks of 4 sessions before breaks
  const absent = new Uint8Array(n);
  for (const b of [0, 2, 4]) for (let j = 2; j < 4; j++) absent[30 + b * 60 + j] = 1; // the day next to three breaks

  it('equals the uniform test when every start weighs the same', () => {
    const ones = new Float64Array(n).fill(1);
    const uniform = placementTest(adjacent, n, spellsOf(absent, n));
    const weighted = placementTest(adjacent, n, spellsOf(absent, n), undefined, ones);
    expect(weighted.pValue).toBeCloseTo(uniform.pValue, 14);
    expect(weighted.expected).toBeCloseTo(uniform.expected, 12);
  });

  it('makes absence where it starts more often anyway less surprising: a higher p-value and expectation', () => {
    const rise = new Float64Array(n).fill(1);
    for (let i = 0; i < n; i++) if (adjacent[i]) rise[i] = 1.4;
    const uniform = placementTest(adjacent, n, spellsOf(absent, n));
    const fitted = placementTest(adjacent, n, spellsOf(absent, n), undefined, rise);
    expect(fitted.observed).toBe(uniform.observed);
    expect(fitted.expected).toBeGreaterThan(uniform.expected);
    expect(fitted.pValue).toBeGreaterThan(uniform.pValue * 1.4 ** 3 * 0.9);
  });
});

describe('holiday-adjacent absence under the LA-fitted null', () => {
  /** Both sides of the October and February half terms, the day after Christmas and after Easter. */
  const HOLIDAYS = BESIDE_FOUR_BREAKS;
  /**
   * Six schools of 60 pupils with ordinary illness, a third of them also ill on the school day before
   * the October half term; P1 at the first takes both sides of two half terms and the day after
   * Christmas and Easter (four separate absences beside breaks).
   */
  function la(extra: Codes = {}) {
    const pupils = (urn: string) =>
      Array.from({ length: 60 }, (_, i) => {
        const codes: Codes = on(
          [MID[(i * 7) % MID.length], MID[(i * 11 + 3) % MID.length], MID[(i * 13 + 5) % MID.length]],
          'I',
        );
        if (i % 3 === 0) Object.assign(codes, on([ADJ.octBefore[1]], 'I'));
        return { upn: `${urn}-${i}`, marks: marksFor(DAYS, codes) };
      });
    const schools = ['600001', '600002', '600003', '600004', '600005', '600006'].map((urn, i) =>
      schoolOf(urn, [
        ...pupils(urn),
        ...(i === 0
          ? [
              {
                upn: 'P1',
                marks: marksFor(DAYS, {
                  ...on(HOLIDAYS, 'I'),
                  ...extra,
                }),
              },
            ]
          : []),
      ]),
    );
    return detectPatterns({ schools, period: PERIOD, settings: patternSettings(DEFAULT_LA_SETTINGS) });
  }

  it("flags at the fitted threshold (1.5 × 10⁻³) and says how the LA's rise before holidays was allowed for", () => {
    const found = la().findings.filter((f): f is HolidayAdjacentFinding => f.type === 'holiday_adjacent_absence');
    expect(found.map((f) => f.upn)).toEqual(['P1']);
    expect(found[0].statistic.threshold).toBe(1.5e-3);
    expect(found[0].explanation).toMatch(
      /how much more often absence starts just before a holiday across the LA \(\d\.\d times as often on the 2 school days before a break as on other days\)/,
    );
  });

  it('does not flag the same two breaks when they are only a third of the absence (16 more days off spread through the year)', () => {
    const spread = MID.filter((_, i) => i % 10 === 5).slice(0, 16);
    const found = la(on(spread, 'I')).findings.filter((f) => f.type === 'holiday_adjacent_absence');
    expect(found).toEqual([]);
  });

  it('uses the uniform null and its threshold (7.5 × 10⁻⁴) when too few schools hold absence to fit it', () => {
    const schools = [schoolOf('100001', [{ upn: 'P1', marks: marksFor(DAYS, on(HOLIDAYS, 'I')) }])];
    const [f] = detectPatterns({ schools, period: PERIOD, settings: patternSettings(DEFAULT_LA_SETTINGS) })
      .findings as HolidayAdjacentFinding[];
    expect(f.statistic.threshold).toBe(7.5e-4);
    expect(f.explanation).not.toMatch(/across the LA/);
  });
});
