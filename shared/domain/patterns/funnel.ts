/**
 * Funnel-plot control limits with an overdispersion adjustment (Spiegelhalter, "Funnel plots for
 * comparing institutional performance", Stat Med 2005, and "Handling over-dispersion of performance
 * indicators", Qual Saf Health Care 2005).
 *
 * Each school's indicator is on an analysis scale (a log ratio or a logit share) with its sampling
 * standard error, which shrinks as the school's sessions grow: the funnel. Schools differ for real
 * reasons beyond sampling (illness outbreaks, intake), and session counts are large, so plain
 * binomial limits would call most large schools outliers. The additive random-effects adjustment
 * widens every school's limits by the between-school variance τ², estimated from winsorised
 * z-scores so the outliers themselves cannot hide by inflating it.
 */
import { normalQuantile } from './binomial.js';

export interface FunnelUnit {
  id: string;
  /** The indicator on the analysis scale. */
  value: number;
  /** Its sampling standard error (> 0). */
  se: number;
  /** The centre line for this unit (the pooled value of the other units). */
  target: number;
}

export interface Overdispersion {
  /** Mean winsorised squared z-score (≈ 1 without overdispersion). */
  phi: number;
  /** Between-unit variance added to every unit's sampling variance (0 when phi ≤ (m − 1)/m). */
  tau2: number;
  units: number;
}

/** The z-score (two-sided) for a limit of the given coverage: 0.998 → 3.090, 0.95 → 1.960. */
export function limitZ(coverage: number): number {
  return normalQuantile(1 - (1 - coverage) / 2);
}

/** Spiegelhalter's additive overdispersion from z-scores winsorised at `winsor` (default 10 %) in each tail. */
export function overdispersion(units: readonly FunnelUnit[], winsor = 0.1): Overdispersion {
  const m = units.length;
  if (m < 2) return { phi: 1, tau2: 0, units: m };
  const z = units.map((u) => (u.value - u.target) / u.se);
  const sorted = [...z].sort((a, b) => a - b);
  const lowIndex = Math.floor(winsor * m);
  const highIndex = Math.ceil((1 - winsor) * m) - 1;
  const lo = sorted[Math.min(lowIndex, m - 1)];
  const hi = sorted[Math.max(highIndex, 0)];
  let sumZ2 = 0;
  for (const v of z) {
    const w = v < lo ? lo : v > hi ? hi : v;
    sumZ2 += w * w;
  }
  const phi = sumZ2 / m;
  let sw = 0;
  let sw2 = 0;
  for (const u of units) {
    const w = 1 / (u.se * u.se);
    sw += w;
    sw2 += w * w;
  }
  const denominator = sw - sw2 / sw;
  const tau2 = m * phi > m - 1 && denominator > 0 ? (m * phi - (m - 1)) / denominator : 0;
  return { phi, tau2, units: m };
}

/** Control limits on the analysis scale and the adjusted z-score for one unit. */
export function funnelPosition(
  unit: FunnelUnit,
  tau2: number,
  coverage: number,
): { lower: number; upper: number; z: number } {
  const sd = Math.sqrt(unit.se * unit.se + tau2);
  const zc = limitZ(coverage);
  return { lower: unit.target - zc * sd, upper: unit.target + zc * sd, z: (unit.value - unit.target) / sd };
}

/** log((x + ½) / (n + ½)): a rate on the log scale, continuity-corrected so zero counts stay finite. */
export function logRate(x: number, n: number): number {
  return Math.log((x + 0.5) / (n + 0.5));
}

/** Sampling variance of logRate (delta method, binomial). */
export function logRateVariance(x: number, n: number): number {
  return 1 / (x + 0.5) - 1 / (n + 0.5);
}

/** logit of a share x / n, continuity-corrected. */
export function logitShare(x: number, n: number): number {
  return Math.log((x + 0.5) / (n - x + 0.5));
}

export function logitShareVariance(x: number, n: number): number {
  return 1 / (x + 0.5) + 1 / (n - x + 0.5);
}

export function expit(x: number): number {
  return 1 / (1 + Math.exp(-x));
}
