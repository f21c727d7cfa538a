import { describe, expect, it } from 'vitest';
import {
  binomialPmf,
  binomialUpperTail,
  logFactorial,
  normalCdf,
  normalQuantile,
  oneIn,
} from '../../../../shared/domain/patterns/binomial.js';
import { funnelPosition, limitZ, overdispersion, type FunnelUnit } from '../../../../shared/domain/patterns/funnel.js';
import { placementTest, spellsOf } from '../../../../shared/domain/patterns/placement.js';

describe('binomial upper tail', () => {
  it('matches hand-computed values', () => {
    expect(binomialUpperTail(3, 5, 0.5)).toBeCloseTo(0.5, 12);
    expect(binomialUpperTail(10, 10, 0.1)).toBeCloseTo(1e-10, 20);
    expect(binomialUpperTail(1, 4, 0.25)).toBeCloseTo(1 - 0.75 ** 4, 12);
  });

  it('is 1 for at least 0 and 0 beyond n', () => {
    expect(binomialUpperTail(0, 7, 0.3)).toBe(1);
    expect(binomialUpperTail(8, 7, 0.3)).toBe(0);
  });

  it('stays accurate in the far tail (no cancellation)', () => {
    // P(X ≥ 40 | n = 40, p = 0.15) = 0.15^40
    expect(binomialUpperTail(40, 40, 0.15) / 0.15 ** 40).toBeCloseTo(1, 9);
  });

  it('has probabilities that sum to 1', () => {
    let s = 0;
    for (let k = 0; k <= 50; k++) s += binomialPmf(k, 50, 0.37);
    expect(s).toBeCloseTo(1, 12);
  });

  it('computes log factorials exactly where the table reaches and by Stirling beyond', () => {
    expect(logFactorial(5)).toBeCloseTo(Math.log(120), 12);
    expect(logFactorial(20_000) - logFactorial(19_999)).toBeCloseTo(Math.log(20_000), 6);
  });
});

describe('normal quantile', () => {
  it('gives the z of the usual control limits', () => {
    expect(limitZ(0.95)).toBeCloseTo(1.959964, 5);
    expect(limitZ(0.998)).toBeCloseTo(3.090232, 5);
    expect(normalQuantile(0.5)).toBeCloseTo(0, 7);
  });

  it('inverts the normal CDF', () => {
    for (const p of [1e-6, 0.01, 0.3, 0.9, 0.999]) expect(normalCdf(normalQuantile(p))).toBeCloseTo(p, 6);
  });
});

describe('odds in words', () => {
  it('rounds to two significant figures', () => {
    expect(oneIn(1 / 12_345)).toBe('1 in 12,000');
    expect(oneIn(0.002)).toBe('1 in 500');
    expect(oneIn(1e-12)).toBe('less than 1 in a billion');
  });
});

describe('spell placement test', () => {
  it('equals the binomial test when every absence is a single session', () => {
    const n = 100;
    const adjacent = new Uint8Array(n);
    for (let i = 0; i < n; i += 5) adjacent[i] = 1; // 20 % adjacent
    const absent = new Uint8Array(n);
    for (const i of [0, 5, 10, 15, 22, 48]) absent[i] = 1; // 4 of 6 single-session absences adjacent
    const t = placementTest(adjacent, n, spellsOf(absent, n));
    expect(t.observed).toBe(4);
    expect(t.expected).toBeCloseTo(6 * 0.2, 10);
    expect(t.pValue).toBeCloseTo(binomialUpperTail(4, 6, 0.2), 12);
  });

  it('gives one long absence the weight of one event, not of its many sessions', () => {
    const n = 380;
    const adjacent = new Uint8Array(n);
    for (let b = 0; b < 7; b++) for (let j = 0; j < 8; j++) adjacent[20 + b * 50 + j] = 1; // 7 blocks of 8
    const absent = new Uint8Array(n);
    for (let j = 0; j < 8; j++) absent[20 + j] = 1; // one 8-session absence, wholly adjacent
    const t = placementTest(adjacent, n, spellsOf(absent, n));
    expect(t.observed).toBe(8);
    expect(t.spells).toBe(1);
    // Chance: the 7 starting positions of 373 that land the spell exactly on a block.
    expect(t.pValue).toBeCloseTo(7 / 373, 12);
    expect(binomialUpperTail(8, 8, 56 / 380)).toBeLessThan(1e-6); // what a session binomial would claim
  });

  it('finds the spells of an absence sequence', () => {
    const absent = Uint8Array.from([1, 1, 0, 1, 0, 0, 1, 1, 1]);
    expect(spellsOf(absent, absent.length)).toEqual([
      { start: 0, length: 2 },
      { start: 3, length: 1 },
      { start: 6, length: 3 },
    ]);
  });
  it("expects separate absences touching an adjacent unit from each one's chance of touching one (issue 21, fifth pass)", () => {
    // 10 units, the first 2 adjacent: a 1-unit spell touches them at 2 of 10 starts, a 2-unit spell at 2 of 9.
    const adjacent = new Uint8Array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    const t = placementTest(adjacent, 10, [
      { start: 0, length: 1 },
      { start: 5, length: 2 },
    ]);
    expect(t.adjacentSpells).toBe(1);
    expect(t.expectedAdjacentSpells).toBeCloseTo(2 / 10 + 2 / 9, 10);
  });
});

describe('funnel with overdispersion', () => {
  const unit = (id: string, value: number, se: number): FunnelUnit => ({ id, value, se, target: 0 });

  it('adds no between-school variance when schools differ only by chance', () => {
    const units = [-1, -0.5, 0, 0.5, 1, -0.8, 0.8, 0.2, -0.2, 0].map((z, i) => unit(String(i), z * 0.1, 0.1));
    expect(overdispersion(units).tau2).toBe(0);
  });

  it('estimates between-school variance when schools differ by more than chance, unmoved by one extreme outlier', () => {
    const spread = [-3, -2, -1, 0, 1, 2, 3, -2.5, 2.5, 0.5].map((z, i) => unit(String(i), z * 0.1, 0.05));
    const fit = overdispersion(spread);
    expect(fit.tau2).toBeGreaterThan(0);
    const withOutlier = overdispersion([...spread.slice(0, 9), unit('x', 50 * 0.1, 0.05)]);
    // Winsorising at 10 % keeps the outlier from inflating the limits it is judged against.
    expect(withOutlier.tau2).toBeLessThan(fit.tau2 * 1.5);
  });

  it('draws control limits at z × √(se² + τ²) around the centre line', () => {
    const p = funnelPosition({ id: 'a', value: 0.5, se: 0.3, target: 0.1 }, 0.16, 0.998);
    expect(p.upper).toBeCloseTo(0.1 + 3.090232 * 0.5, 5);
    expect(p.lower).toBeCloseTo(0.1 - 3.090232 * 0.5, 5);
    expect(p.z).toBeCloseTo(0.8, 10);
  });
});
