/**
 * The exact test behind the holiday-adjacency detectors: are a pupil's absence sessions on
 * holiday-adjacent days far more than chance predicts?
 *
 * Why not a plain binomial over sessions: absence comes in spells (a two-day illness is four sessions,
 * all on the same side of the same break), so sessions are not independent trials. A binomial that
 * treats them as such badly overstates the evidence: simulated ordinary illness (spells of a few days,
 * more absence before half terms) gave hundreds of false flags per 230,000 pupils at p < 1e-6.
 *
 * The null here keeps the spells: each of the pupil's separate absences (a maximal run of absence
 * sessions in their own sequence of sessions) is placed at random among the pupil's own sessions,
 * independently, with its length kept. The statistic is the number of absence sessions that land on
 * holiday-adjacent sessions — exactly the "observed vs expected from the share of the pupil's
 * sessions that are holiday-adjacent" of docs/design.md §2.6 (the expectation is the same), with an exact
 * tail from the convolution of each spell's distribution. It is the binomial test's equivalent for
 * clustered absence: one spell of n sessions carries the evidence of one event, not n.
 */

export interface Spell {
  /** Index of the spell's first unit in the sequence. */
  start: number;
  /** Units in the spell. */
  length: number;
}

export interface PlacementTest {
  /** Absence units on holiday-adjacent units. */
  observed: number;
  /** Expected under the null (≈ absence units × share of units that are adjacent). */
  expected: number;
  /**
   * The statistic the tail is taken on: the absence units' scores (`weights`; the adjacent units
   * themselves when no weights are given), and its expectation under the null.
   */
  score: number;
  expectedScore: number;
  /** P(score at least the observed score) under the null. */
  pValue: number;
  spells: number;
  /** Spells with at least one adjacent unit. */
  adjacentSpells: number;
  /** Expected spells with at least one adjacent unit under the null (each spell's chance of touching one, summed). */
  expectedAdjacentSpells: number;
}

/** Maximal runs of `absent[i] = 1` in a sequence of n units. */
export function spellsOf(absent: Uint8Array, n: number): Spell[] {
  const out: Spell[] = [];
  for (let i = 0; i < n; i++) {
    if (!absent[i]) continue;
    let j = i;
    while (j < n && absent[j]) j++;
    out.push({ start: i, length: j - i });
    i = j;
  }
  return out;
}

/** The total score of a window of `length` units at each possible start (each start weighted by `startWeights`, else equally likely), as a distribution. */
function placementDistribution(
  prefix: Int32Array,
  n: number,
  length: number,
  maxWeight: number,
  startWeights?: Float64Array,
): Float64Array {
  const dist = new Float64Array(length * maxWeight + 1);
  const starts = n - length + 1;
  let total = 0;
  for (let s = 0; s < starts; s++) {
    const w = startWeights ? startWeights[s] : 1;
    dist[prefix[s + length] - prefix[s]] += w;
    total += w;
  }
  for (let i = 0; i < dist.length; i++) dist[i] /= total;
  return dist;
}

/** Mean number of adjacent units in a window of `length` units placed at random (starts weighted as above). */
function meanHits(prefix: Int32Array, n: number, length: number, startWeights?: Float64Array): number {
  const starts = n - length + 1;
  let total = 0;
  let weights = 0;
  for (let s = 0; s < starts; s++) {
    const w = startWeights ? startWeights[s] : 1;
    total += w * (prefix[s + length] - prefix[s]);
    weights += w;
  }
  return total / weights;
}

/**
 * Exact placement test. `adjacent[i]` = 1 when unit i (a session) is holiday-adjacent, for i < n;
 * `spells` are the pupil's absences in the same sequence. `weights` (optional, small non-negative
 * integers, 0 where not adjacent) score each unit: the tail is then on the total score of the
 * absence units under the same null (each spell placed at random, its length kept) — e.g. a session
 * on the school day next to the break scoring more than one two days away. Without weights the
 * score is the count of adjacent absence units. `startWeights` (optional, positive) make some starts
 * likelier than others under the null — the LA's rise in absence before breaks (rise.ts): a spell
 * starts at unit i with probability proportional to startWeights[i].
 */
export function placementTest(
  adjacent: Uint8Array,
  n: number,
  spells: readonly Spell[],
  weights?: Uint8Array,
  startWeights?: Float64Array,
): PlacementTest {
  const prefix = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i] + (adjacent[i] ? 1 : 0);
  let wPrefix = prefix;
  let maxWeight = 1;
  if (weights) {
    wPrefix = new Int32Array(n + 1);
    for (let i = 0; i < n; i++) {
      wPrefix[i + 1] = wPrefix[i] + weights[i];
      if (weights[i] > maxWeight) maxWeight = weights[i];
    }
  }
  let observed = 0;
  let score = 0;
  let adjacentSpells = 0;
  for (const s of spells) {
    const hits = prefix[s.start + s.length] - prefix[s.start];
    observed += hits;
    score += wPrefix[s.start + s.length] - wPrefix[s.start];
    if (hits > 0) adjacentSpells++;
  }
  const byLength = new Map<number, Float64Array>();
  const meanByLength = new Map<number, number>();
  let dist = new Float64Array([1]);
  let expected = 0;
  let expectedScore = 0;
  let expectedAdjacentSpells = 0;
  for (const s of spells) {
    const length = Math.min(s.length, n);
    let d = byLength.get(length);
    if (!d) {
      d = placementDistribution(wPrefix, n, length, maxWeight, startWeights);
      byLength.set(length, d);
    }
    let mean = meanByLength.get(length);
    if (mean === undefined) {
      mean = weights ? meanHits(prefix, n, length, startWeights) : 0;
      meanByLength.set(length, mean);
    }
    let m = 0;
    for (let i = 0; i < d.length; i++) m += i * d[i];
    expectedScore += m;
    expected += weights ? mean : m;
    // Score 0 exactly when the spell touches no adjacent unit (weights are positive on adjacent units).
    expectedAdjacentSpells += 1 - d[0];
    const next = new Float64Array(dist.length + d.length - 1);
    for (let a = 0; a < dist.length; a++) {
      const pa = dist[a];
      if (pa === 0) continue;
      for (let b = 0; b < d.length; b++) if (d[b] !== 0) next[a + b] += pa * d[b];
    }
    dist = next;
  }
  let pValue = 0;
  for (let x = dist.length - 1; x >= score; x--) pValue += dist[x];
  return {
    observed,
    expected,
    score,
    expectedScore,
    pValue: Math.min(1, pValue),
    spells: spells.length,
    adjacentSpells,
    expectedAdjacentSpells,
  };
}
