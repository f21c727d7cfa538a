/**
 * Detector 4, school coding pattern (docs/design.md §2.6), per school and academic year, against the other
 * schools of the LA:
 * - illness next to breaks: the school's illness rate (I per possible session) on its own
 *   holiday-adjacent days relative to its other days, as a log ratio, is above the funnel's upper
 *   control limit (99.8 % by default) around the median of the other schools' ratios (issue 21: robust to one very large school and to other coding schools), and at least
 *   `minExcessRatio` (1.3) times that ratio — holidays coded as authorised illness; a school of fewer
 *   than `minPupils` (50) pupils raises neither illness signal (issue 21, ninth pass: chance alone
 *   reaches past the limits there);
 * - low unauthorised-holiday share: the illness ratio is above the warning limit (95 %; no minimum
 *   excess, the G share corroborates it) and the share
 *   of the school's absence on holiday-adjacent days coded G is below the lower control limit of its
 *   own funnel — the excess is there and the holidays are not being coded as holidays;
 * - not-possible share: the share of the school's sessions coded not possible (Q, Y1–Y7 by default;
 *   D and X are structural) is above the upper control limit, which shrinks the denominator of every
 *   rate. Reported as its own signal.
 * Limits widen with the between-school variance (funnel.ts). Each school is compared with the pooled
 * value of the OTHER schools, and the between-school variance is estimated from the other schools too,
 * so one outlier can neither move its own centre line nor widen its own limits. No funnel is drawn
 * with fewer than `minSchools` schools.
 */
import { CODE_CATEGORY, MARK_CHAR } from '../codes.js';
import { dateOfAcademicDay, DAYS_PER_YEAR_SLOT } from '../dates.js';
import type { SchoolYearAdjacency } from '../calendar.js';
import type { SchoolRegister } from '../register.js';
import type { FunnelComparison, SchoolCodingFinding, SchoolCodingSignal } from './findings.js';
import {
  expit,
  funnelPosition,
  logitShare,
  logitShareVariance,
  logRate,
  logRateVariance,
  overdispersion,
  type FunnelUnit,
} from './funnel.js';
import type { PatternSettings } from './settings.js';
import { about, percent } from './wording.js';

/** One school-year's counts for the coding funnels (compact: computed in the per-school pass). */
export interface SchoolCodingCounts {
  urn: string;
  academicYear: number;
  /** Possible sessions and illness (I) sessions on the school's holiday-adjacent days and on its other days. */
  adjacentPossible: number;
  adjacentIllness: number;
  otherPossible: number;
  otherIllness: number;
  /** Absence sessions on holiday-adjacent days, and of them coded G. */
  adjacentAbsence: number;
  adjacentG: number;
  /** Possible sessions in the year, not-possible sessions in the configured codes, and those by code. */
  possible: number;
  notPossible: number;
  notPossibleByCode: Record<string, number>;
  /** First and last date with a possible session. */
  firstDate: string | null;
  lastDate: string | null;
  adjacentDates: Array<{ date: string; breakStart: string; breakEnd: string }>;
  /**
   * Sums over the school's pupils for the illness ratio's cluster-robust variance (pupils as clusters):
   * absent, the ratio's variance is the plain binomial one.
   */
  pupilSums?: PupilSums;
}

/**
 * Per-pupil sums of squares and products of (a) capped adjacent illness, (na) adjacent possible, (o)
 * other illness and (no) other possible sessions: enough to compute the illness log ratio's variance
 * with pupils as clusters (illness comes in spells of several sessions, and some pupils are ill far
 * more than others, so a school's sessions are not independent draws).
 */
export interface PupilSums {
  pupils: number;
  aa: number;
  ana: number;
  nana: number;
  oo: number;
  ono: number;
  nono: number;
  ao: number;
  ano: number;
  nao: number;
  nano: number;
  /**
   * Sums of squares and products of (g) adjacent G and (d) adjacent absence sessions, for the G share's
   * cluster-robust variance (a holiday is a run of sessions of one pupil). Absent in counts stored
   * before issue 21's sixth pass: the G share's variance is then the plain binomial one.
   */
  gg?: number;
  gd?: number;
  dd?: number;
}

function emptySums(): PupilSums {
  return {
    pupils: 0,
    aa: 0,
    ana: 0,
    nana: 0,
    oo: 0,
    ono: 0,
    nono: 0,
    ao: 0,
    ano: 0,
    nao: 0,
    nano: 0,
    gg: 0,
    gd: 0,
    dd: 0,
  };
}

/** Add (sign 1) or take out (sign −1) one pupil's figures (g, d: adjacent G and adjacent absence). */
function addPupil(sums: PupilSums, a: number, na: number, o: number, no: number, g: number, d: number, sign = 1): void {
  if (na + no === 0) return;
  sums.pupils += sign;
  if (sums.gg !== undefined && sums.gd !== undefined && sums.dd !== undefined) {
    sums.gg += sign * g * g;
    sums.gd += sign * g * d;
    sums.dd += sign * d * d;
  }
  sums.aa += sign * a * a;
  sums.ana += sign * a * na;
  sums.nana += sign * na * na;
  sums.oo += sign * o * o;
  sums.ono += sign * o * no;
  sums.nono += sign * no * no;
  sums.ao += sign * a * o;
  sums.ano += sign * a * no;
  sums.nao += sign * na * o;
  sums.nano += sign * na * no;
}

/**
 * The cluster-robust (sandwich) variance of log(Ia/Pa) − log(Io/Po) with pupils as clusters: each
 * pupil's influence u = (a − ra·na)/Ia − (o − ro·no)/Io, variance m/(m − 1)·Σu². Null without sums or
 * with fewer than 2 pupils.
 */
function clusterVariance(c: SchoolCodingCounts): number | null {
  const s = c.pupilSums;
  if (!s || s.pupils < 2 || c.adjacentPossible <= 0 || c.otherPossible <= 0) return null;
  const ra = c.adjacentIllness / c.adjacentPossible;
  const ro = c.otherIllness / c.otherPossible;
  const A = c.adjacentIllness + 0.5;
  const O = c.otherIllness + 0.5;
  const xx = s.aa - 2 * ra * s.ana + ra * ra * s.nana;
  const yy = s.oo - 2 * ro * s.ono + ro * ro * s.nono;
  const xy = s.ao - ro * s.ano - ra * s.nao + ra * ro * s.nano;
  const sum = xx / (A * A) - (2 * xy) / (A * O) + yy / (O * O);
  return Math.max(0, (sum * s.pupils) / (s.pupils - 1));
}

/**
 * The cluster-robust variance of the G share's logit, log(G) − log(D − G), with pupils as clusters:
 * each pupil's influence (g − p·d)·(1/(G + ½) + 1/(D − G + ½)), p = G/D, variance m/(m − 1)·Σ. Null
 * without the G sums, with fewer than 2 pupils or with no G (no holiday to measure the clustering on).
 */
function gShareClusterVariance(c: SchoolCodingCounts): number | null {
  const s = c.pupilSums;
  if (!s || s.gg === undefined || s.gd === undefined || s.dd === undefined) return null;
  if (s.pupils < 2 || c.adjacentG <= 0 || c.adjacentAbsence <= 0) return null;
  const p = c.adjacentG / c.adjacentAbsence;
  const spread = s.gg - 2 * p * s.gd + p * p * s.dd;
  const scale = 1 / (c.adjacentG + 0.5) + 1 / (c.adjacentAbsence - c.adjacentG + 0.5);
  return Math.max(0, (spread * scale * scale * s.pupils) / (s.pupils - 1));
}

const ILLNESS = MARK_CHAR.I.charCodeAt(0);
const G = MARK_CHAR.G.charCodeAt(0);
/** Per char code: 1 possible, 2 absence (authorised or unauthorised, also possible). */
const POSSIBLE_CLASS: Uint8Array = (() => {
  const t = new Uint8Array(128);
  for (const [code, cat] of Object.entries(CODE_CATEGORY)) {
    const ch = MARK_CHAR[code].charCodeAt(0);
    if (cat === 'present' || cat === 'approved_activity') t[ch] = 1;
    if (cat === 'authorised' || cat === 'unauthorised') t[ch] = 2;
  }
  return t;
})();

/** The coding counts of one school-year from its register and its holiday adjacency. */
export function schoolCodingCounts(
  register: SchoolRegister,
  adjacency: SchoolYearAdjacency,
  settings: PatternSettings,
): SchoolCodingCounts {
  const notPossibleIndex = new Int8Array(128).fill(-1);
  const npCodes = settings.schoolCoding.notPossibleCodes.filter((c) => MARK_CHAR[c] !== undefined);
  npCodes.forEach((c, i) => {
    notPossibleIndex[MARK_CHAR[c].charCodeAt(0)] = i;
  });
  const npCounts = new Int32Array(npCodes.length);
  let adjacentPossible = 0;
  let adjacentIllness = 0;
  let otherPossible = 0;
  let otherIllness = 0;
  let adjacentAbsence = 0;
  let adjacentG = 0;
  let firstDay = -1;
  let lastDay = -1;
  const breakOfDay = adjacency.breakOfDay;
  const cap = settings.schoolCoding.maxAdjacentIllnessPerPupil ?? Number.POSITIVE_INFINITY;
  const pupilSums = emptySums();
  for (const pupil of register.pupils.values()) {
    const m = pupil.marks;
    const n = Math.min(m.length, DAYS_PER_YEAR_SLOT * 2);
    let pupilAdjacentIllness = 0;
    const before = [adjacentPossible, otherIllness, otherPossible, adjacentG, adjacentAbsence];
    for (let i = 0; i < n; i++) {
      const ch = m.charCodeAt(i);
      if (ch >= 128) continue;
      const cls = POSSIBLE_CLASS[ch];
      if (cls === 0) {
        const np = notPossibleIndex[ch];
        if (np >= 0) npCounts[np]++;
        continue;
      }
      const day = i >> 1;
      if (firstDay < 0 || day < firstDay) firstDay = day;
      if (day > lastDay) lastDay = day;
      if (breakOfDay[day] >= 0) {
        adjacentPossible++;
        if (ch === ILLNESS && pupilAdjacentIllness < cap) {
          adjacentIllness++;
          pupilAdjacentIllness++;
        }
        if (cls === 2) {
          adjacentAbsence++;
          if (ch === G) adjacentG++;
        }
      } else {
        otherPossible++;
        if (ch === ILLNESS) otherIllness++;
      }
    }
    addPupil(
      pupilSums,
      pupilAdjacentIllness,
      adjacentPossible - before[0],
      otherIllness - before[1],
      otherPossible - before[2],
      adjacentG - before[3],
      adjacentAbsence - before[4],
    );
  }
  const notPossibleByCode: Record<string, number> = {};
  npCodes.forEach((c, i) => {
    if (npCounts[i] > 0) notPossibleByCode[c] = npCounts[i];
  });
  const adjacentDates: SchoolCodingCounts['adjacentDates'] = [];
  for (let d = 0; d < DAYS_PER_YEAR_SLOT; d++) {
    const b = breakOfDay[d];
    if (b < 0) continue;
    adjacentDates.push({
      date: dateOfAcademicDay(register.academicYear, d),
      breakStart: adjacency.breaks[b].start,
      breakEnd: adjacency.breaks[b].end,
    });
  }
  return {
    urn: register.urn,
    academicYear: register.academicYear,
    adjacentPossible,
    adjacentIllness,
    otherPossible,
    otherIllness,
    adjacentAbsence,
    adjacentG,
    possible: adjacentPossible + otherPossible,
    notPossible: npCounts.reduce((a, b) => a + b, 0),
    notPossibleByCode,
    firstDate: firstDay >= 0 ? dateOfAcademicDay(register.academicYear, firstDay) : null,
    lastDate: lastDay >= 0 ? dateOfAcademicDay(register.academicYear, lastDay) : null,
    adjacentDates,
    pupilSums,
  };
}

/**
 * One pupil's share of a school-year's illness counts: left out of the school's funnel when the
 * pupil's own absence is concentrated next to holidays (p ≤ `excludePupilAlpha`). Their pattern is
 * reported per pupil (or per family); a handful of such families must not make a school look as if
 * it codes holidays as illness, which is a practice across many pupils.
 */
export interface SchoolCodingExclusion {
  upn: string;
  urn: string;
  academicYear: number;
  adjacentPossible: number;
  adjacentIllness: number;
  otherPossible: number;
  otherIllness: number;
  adjacentAbsence: number;
  adjacentG: number;
}

/** A pupil's contribution to their school-year's coding counts (the same rules as `schoolCodingCounts`). */
export function schoolCodingExclusion(
  upn: string,
  urn: string,
  academicYear: number,
  marks: string,
  adjacency: SchoolYearAdjacency,
  maxAdjacentIllness: number = Number.POSITIVE_INFINITY,
): SchoolCodingExclusion {
  const out: SchoolCodingExclusion = {
    upn,
    urn,
    academicYear,
    adjacentPossible: 0,
    adjacentIllness: 0,
    otherPossible: 0,
    otherIllness: 0,
    adjacentAbsence: 0,
    adjacentG: 0,
  };
  const n = Math.min(marks.length, DAYS_PER_YEAR_SLOT * 2);
  for (let i = 0; i < n; i++) {
    const ch = marks.charCodeAt(i);
    if (ch >= 128) continue;
    const cls = POSSIBLE_CLASS[ch];
    if (cls === 0) continue;
    if (adjacency.breakOfDay[i >> 1] >= 0) {
      out.adjacentPossible++;
      if (ch === ILLNESS && out.adjacentIllness < maxAdjacentIllness) out.adjacentIllness++;
      if (cls === 2) {
        out.adjacentAbsence++;
        if (ch === G) out.adjacentG++;
      }
    } else {
      out.otherPossible++;
      if (ch === ILLNESS) out.otherIllness++;
    }
  }
  return out;
}

/** The counts with the excluded pupils' shares taken out, and how many pupils were taken out of each. */
export function withoutExcludedPupils(
  counts: readonly SchoolCodingCounts[],
  exclusions: readonly SchoolCodingExclusion[],
): Array<SchoolCodingCounts & { excludedPupils: number }> {
  const byKey = new Map<string, SchoolCodingExclusion[]>();
  for (const x of exclusions) {
    const key = `${x.academicYear}#${x.urn}`;
    const list = byKey.get(key);
    if (list) list.push(x);
    else byKey.set(key, [x]);
  }
  return counts.map((c) => {
    const list = byKey.get(`${c.academicYear}#${c.urn}`) ?? [];
    const minus = (k: keyof SchoolCodingExclusion) => list.reduce((a, x) => a + (x[k] as number), 0);
    const adjacentPossible = c.adjacentPossible - minus('adjacentPossible');
    const otherPossible = c.otherPossible - minus('otherPossible');
    let pupilSums = c.pupilSums;
    if (pupilSums && list.length > 0) {
      pupilSums = { ...pupilSums };
      for (const x of list)
        addPupil(
          pupilSums,
          x.adjacentIllness,
          x.adjacentPossible,
          x.otherIllness,
          x.otherPossible,
          x.adjacentG,
          x.adjacentAbsence,
          -1,
        );
    }
    return {
      ...c,
      pupilSums,
      adjacentPossible,
      adjacentIllness: c.adjacentIllness - minus('adjacentIllness'),
      otherPossible,
      otherIllness: c.otherIllness - minus('otherIllness'),
      adjacentAbsence: c.adjacentAbsence - minus('adjacentAbsence'),
      adjacentG: c.adjacentG - minus('adjacentG'),
      possible: adjacentPossible + otherPossible,
      excludedPupils: new Set(list.map((x) => x.upn)).size,
    };
  });
}

/** Add two schools' counts (e.g. a school's registers held in parts). */
function sum(list: readonly SchoolCodingCounts[], key: keyof SchoolCodingCounts): number {
  let s = 0;
  for (const c of list) s += c[key] as number;
  return s;
}

interface Indicator {
  counts: SchoolCodingCounts;
  unit: FunnelUnit;
  /** Between-school variance estimated from the OTHER schools (so an outlier cannot widen its own limits). */
  tau2: number;
}

/**
 * Each school's indicator against the pooled value of the other schools, with the between-school
 * variance estimated leaving the school out: in a small LA, winsorising alone cannot stop one extreme
 * school from inflating τ² enough to hide itself. Quadratic in schools (600 → 360,000 small steps).
 */
function indicators(
  list: readonly SchoolCodingCounts[],
  own: (c: SchoolCodingCounts) => { value: number; se: number },
  targetWithout: (...out: SchoolCodingCounts[]) => number,
  winsor = 0.1,
): Indicator[] {
  const values = list.map(own);
  return list.map((c, i) => {
    const others: FunnelUnit[] = [];
    list.forEach((d, j) => {
      if (j !== i) others.push({ id: d.urn, value: values[j].value, se: values[j].se, target: targetWithout(d, c) });
    });
    return {
      counts: c,
      unit: { id: c.urn, value: values[i].value, se: values[i].se, target: targetWithout(c) },
      tau2: overdispersion(others, winsor).tau2,
    };
  });
}

/**
 * The median of the schools' values leaving out the given schools, in O(k) per call from one sort
 * (the funnel asks for it once per pair of schools).
 */
function medianExcluding(
  list: readonly SchoolCodingCounts[],
  values: readonly number[],
): (...out: SchoolCodingCounts[]) => number {
  const order = values.map((_, i) => i).sort((a, b) => values[a] - values[b]);
  const rank = new Map<SchoolCodingCounts, number>();
  order.forEach((i, r) => rank.set(list[i], r));
  const sorted = order.map((i) => values[i]);
  return (...out) => {
    const removed = [...new Set(out.map((c) => rank.get(c)).filter((r): r is number => r !== undefined))].sort(
      (a, b) => a - b,
    );
    const m = sorted.length - removed.length;
    if (m <= 0) return 0;
    const at = (k: number) => {
      let idx = k;
      for (const r of removed) if (r <= idx) idx++;
      return sorted[idx];
    };
    return m % 2 === 1 ? at((m - 1) / 2) : (at(m / 2 - 1) + at(m / 2)) / 2;
  };
}

/** The median of a list (null when empty). */
function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const v = [...values].sort((a, b) => a - b);
  const m = v.length;
  return m % 2 === 1 ? v[(m - 1) / 2] : (v[m / 2 - 1] + v[m / 2]) / 2;
}

/** Illness ratio on the log scale: log(adjacent rate) − log(other rate). */
function illnessLogRatio(ia: number, pa: number, io: number, po: number): { value: number; variance: number } {
  return {
    value: logRate(ia, pa) - logRate(io, po),
    variance: Math.max(1e-12, logRateVariance(ia, pa) + logRateVariance(io, po)),
  };
}

function comparison(
  unit: FunnelUnit,
  tau2: number,
  control: number,
  back: (x: number) => number,
  outlier: boolean,
  warning?: number,
): FunnelComparison {
  const c = funnelPosition(unit, tau2, control);
  const out: FunnelComparison = {
    value: back(unit.value),
    laValue: back(unit.target),
    lower: back(c.lower),
    upper: back(c.upper),
    z: c.z,
    outlier,
  };
  if (warning !== undefined) {
    const w = funnelPosition(unit, tau2, warning);
    out.warningLower = back(w.lower);
    out.warningUpper = back(w.upper);
  }
  return out;
}

/** Where one school-year sits in the LA's three funnels, and which signals it raises (none for most schools). */
export interface SchoolCodingComparison {
  /** The counts the funnels used (excluded pupils' shares taken out). */
  counts: SchoolCodingCounts & { excludedPupils?: number };
  signals: SchoolCodingSignal[];
  illness: FunnelComparison;
  unauthorisedHolidayShare: FunnelComparison;
  notPossible: FunnelComparison;
}

function byAcademicYear<T extends SchoolCodingCounts>(counts: readonly T[]): T[][] {
  const byYear = new Map<number, T[]>();
  for (const c of counts) {
    const list = byYear.get(c.academicYear);
    if (list) list.push(c);
    else byYear.set(c.academicYear, [c]);
  }
  return [...byYear].sort(([a], [b]) => a - b).map(([, list]) => list);
}

/** Every school-year against its LA funnels (each academic year is its own funnel); empty with too few schools. */
export function schoolCodingComparisons(
  counts: readonly SchoolCodingCounts[],
  settings: PatternSettings,
  exclusions: readonly SchoolCodingExclusion[] = [],
): SchoolCodingComparison[] {
  return byAcademicYear(withoutExcludedPupils(counts, exclusions)).flatMap((list) =>
    comparisonsForYear(list, settings),
  );
}

/** School coding findings for every school-year in `counts`: the comparisons that raise a signal. */
export function schoolCodingFindings(
  counts: readonly SchoolCodingCounts[],
  settings: PatternSettings,
  exclusions: readonly SchoolCodingExclusion[] = [],
): SchoolCodingFinding[] {
  return schoolCodingComparisons(counts, settings, exclusions)
    .filter((c) => c.signals.length > 0)
    .map((c) => schoolFinding(c, settings))
    .sort((a, b) => a.academicYear - b.academicYear || (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0));
}

function comparisonsForYear(list: readonly SchoolCodingCounts[], settings: PatternSettings): SchoolCodingComparison[] {
  const s = settings.schoolCoding;
  const withIllness = list.filter((c) => c.adjacentPossible > 0 && c.otherPossible > 0);
  const withAbsence = list.filter((c) => c.adjacentAbsence > 0);
  const withSessions = list.filter((c) => c.possible > 0);
  if (withSessions.length < s.minSchools) return [];

  const tIa = sum(withIllness, 'adjacentIllness');
  const tPa = sum(withIllness, 'adjacentPossible');
  const tIo = sum(withIllness, 'otherIllness');
  const tPo = sum(withIllness, 'otherPossible');
  // The pooled value of every school but those excluded: the centre line a school is judged against.
  const illnessTarget = (...out: SchoolCodingCounts[]) => {
    const f = (k: keyof SchoolCodingCounts) => out.reduce((a, c) => a - (c[k] as number), 0);
    return illnessLogRatio(
      tIa + f('adjacentIllness'),
      tPa + f('adjacentPossible'),
      tIo + f('otherIllness'),
      tPo + f('otherPossible'),
    ).value;
  };
  // The centre line is the MEDIAN of the other schools' ratios, not their pooled ratio: pooled, one
  // large school (a fifth of the LA's sessions) or a few coding schools move it, and with it every
  // limit (issue 21: a 2,000-pupil school coding for 22 % of its pupils raised the others' centre line
  // past its own ratio's reach). The pooled value is kept for the finding's wording.
  void illnessTarget;
  // The ratio's sampling variance allows for illness coming in spells, per pupil (issue 21, sixth
  // pass): a school's sessions are not independent draws, so the binomial variance understated a small
  // school's chance spread (a 30-pupil and a 62-pupil school with nothing planted were flagged). Each
  // school's variance is the larger of the LA's design effect (the median, over the schools, of the
  // cluster-robust variance with pupils as clusters over the binomial one; at least 1) times its binomial
  // variance, and its own cluster-robust variance (a school whose illness sits on a few pupils).
  const binomial = withIllness.map((c) =>
    illnessLogRatio(c.adjacentIllness, c.adjacentPossible, c.otherIllness, c.otherPossible),
  );
  const robust = withIllness.map(clusterVariance);
  const designEffect = Math.max(
    1,
    median(robust.flatMap((r, i) => (r === null ? [] : [r / binomial[i].variance]))) ?? 1,
  );
  const illnessOwn = binomial.map((own, i) => ({
    value: own.value,
    se: Math.sqrt(Math.max(designEffect * own.variance, robust[i] ?? 0)),
  }));
  const medianWithout = medianExcluding(
    withIllness,
    illnessOwn.map((o) => o.value),
  );
  // τ² from z-scores winsorised at 20 % in each tail: several coding schools among a few dozen must not
  // widen one another's limits (at 10 %, two others in a funnel of 16 hid a 2,000-pupil coding school).
  const illness = indicators(withIllness, (c) => illnessOwn[withIllness.indexOf(c)], medianWithout, 0.2);

  const tG = sum(withAbsence, 'adjacentG');
  const tA = sum(withAbsence, 'adjacentAbsence');
  // The G share's variance allows for holidays coming as runs of one pupil's sessions, as the illness
  // ratio's does (issue 21, sixth pass: an 852-pupil school with 10 G sessions, one or two holidays,
  // where 35 were expected, was flagged on the binomial variance). The LA's design effect is the
  // median over the schools with any G (a school without G says nothing about how G clusters).
  const gBinomial = withAbsence.map((c) => logitShareVariance(c.adjacentG, c.adjacentAbsence));
  const gRobust = withAbsence.map(gShareClusterVariance);
  const gDesignEffect = Math.max(1, median(gRobust.flatMap((r, i) => (r === null ? [] : [r / gBinomial[i]]))) ?? 1);
  const gOwn = new Map(
    withAbsence.map((c, i) => [
      c,
      {
        value: logitShare(c.adjacentG, c.adjacentAbsence),
        se: Math.sqrt(Math.max(gDesignEffect * gBinomial[i], gRobust[i] ?? 0)),
      },
    ]),
  );
  const gShare = indicators(
    withAbsence,
    (c) => gOwn.get(c) ?? { value: 0, se: 1 },
    (...out) =>
      logitShare(tG - out.reduce((a, c) => a + c.adjacentG, 0), tA - out.reduce((a, c) => a + c.adjacentAbsence, 0)),
  );

  const tNp = sum(withSessions, 'notPossible');
  const tAll = sum(withSessions, 'possible') + tNp;
  const notPossible = indicators(
    withSessions,
    (c) => ({
      value: logitShare(c.notPossible, c.possible + c.notPossible),
      se: Math.sqrt(logitShareVariance(c.notPossible, c.possible + c.notPossible)),
    }),
    (...out) =>
      logitShare(
        tNp - out.reduce((a, c) => a + c.notPossible, 0),
        tAll - out.reduce((a, c) => a + c.possible + c.notPossible, 0),
      ),
  );

  const enough = (list: Indicator[]) => list.length >= s.minSchools;
  const illnessOf = new Map(enough(illness) ? illness.map((i) => [i.counts.urn, i]) : []);
  const gOf = new Map(enough(gShare) ? gShare.map((i) => [i.counts.urn, i]) : []);
  const blank = (): FunnelComparison => ({
    value: null,
    laValue: null,
    lower: null,
    upper: null,
    z: null,
    outlier: false,
  });

  return notPossible.map((np) => {
    const c = np.counts;
    const ill = illnessOf.get(c.urn);
    const g = gOf.get(c.urn);
    const illnessCmp = ill ? comparison(ill.unit, ill.tau2, s.controlLimit, Math.exp, false, s.warningLimit) : blank();
    const gCmp = g ? comparison(g.unit, g.tau2, s.controlLimit, expit, false) : blank();
    const npCmp = comparison(np.unit, np.tau2, s.controlLimit, expit, false);
    // A school under `minPupils` pupils is on the funnels (its ratio is reported) but raises no illness
    // signal: with a score of separate illnesses beside its breaks, chance reaches past the normal
    // limits (issue 21, ninth pass). Counts without per-pupil sums do not say how many pupils they hold.
    const enoughPupils = c.pupilSums === undefined || c.pupilSums.pupils >= s.minPupils;
    const enoughIllness = enoughPupils && c.adjacentIllness >= s.minAdjacentIllness;
    const largeExcess =
      illnessCmp.value !== null &&
      illnessCmp.laValue !== null &&
      illnessCmp.value >= s.minExcessRatio * illnessCmp.laValue;
    const above = (x: FunnelComparison, limit: number | null | undefined) =>
      x.value !== null && limit !== null && limit !== undefined && x.value > limit;
    const below = (x: FunnelComparison, limit: number | null | undefined) =>
      x.value !== null && limit !== null && limit !== undefined && x.value < limit;
    const signals: SchoolCodingSignal[] = [];
    if (enoughIllness && largeExcess && above(illnessCmp, illnessCmp.upper)) {
      signals.push('illness_next_to_breaks');
      illnessCmp.outlier = true;
    }
    if (enoughIllness && above(illnessCmp, illnessCmp.warningUpper) && below(gCmp, gCmp.lower)) {
      signals.push('low_unauthorised_holiday_share');
      gCmp.outlier = true;
    }
    if (c.notPossible >= s.minNotPossible && above(npCmp, npCmp.upper)) {
      signals.push('not_possible_share');
      npCmp.outlier = true;
    }
    return { counts: c, signals, illness: illnessCmp, unauthorisedHolidayShare: gCmp, notPossible: npCmp };
  });
}

function schoolFinding(cmp: SchoolCodingComparison, settings: PatternSettings): SchoolCodingFinding {
  const s = settings.schoolCoding;
  const { counts: c, signals, illness, unauthorisedHolidayShare: gShare, notPossible } = cmp;

  const adjacentRate = c.adjacentPossible > 0 ? c.adjacentIllness / c.adjacentPossible : 0;
  const otherRate = c.otherPossible > 0 ? c.otherIllness / c.otherPossible : 0;
  // Illness sessions the school would have on its adjacent days at the other schools' ratio.
  const expectedIllness = c.adjacentPossible * otherRate * (illness.laValue ?? 1);
  const fixed = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : x.toFixed(2));
  const pct = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : percent(x));
  const k = settings.holidayAdjacentDays;
  const days = k === 1 ? 'school day' : `${k} school days`;
  const parts: string[] = [];
  if (signals.includes('illness_next_to_breaks') || signals.includes('low_unauthorised_holiday_share')) {
    parts.push(
      `On the ${days} either side of its holidays this school recorded illness in ${percent(adjacentRate)} of sessions, ` +
        `${fixed(illness.value)} times its rate on other days (${percent(otherRate)}), against a median of ${fixed(illness.laValue)} times at the LA's other schools ` +
        `(${c.adjacentIllness} illness sessions where about ${about(expectedIllness)} would be expected; ` +
        `${signals.includes('illness_next_to_breaks') ? `control limit ${fixed(illness.upper)}` : `warning limit ${fixed(illness.warningUpper)}`} for a school of its size` +
        `${c.excludedPupils ? `, leaving out ${c.excludedPupils === 1 ? 'the 1 pupil' : `the ${c.excludedPupils} pupils`} whose own absence shows the pattern` : ''})`,
    );
  }
  if (signals.includes('low_unauthorised_holiday_share')) {
    parts.push(
      `only ${pct(gShare.value)} of its absence on those days was coded as an unauthorised holiday (G), against ${pct(gShare.laValue)} ` +
        `at the other schools (lower limit ${pct(gShare.lower)})`,
    );
  }
  if (signals.includes('not_possible_share')) {
    const codes = Object.entries(c.notPossibleByCode)
      .map(([code, n]) => `${code} ${n}`)
      .join(', ');
    parts.push(
      `${pct(notPossible.value)} of its sessions were coded as not possible (${codes}), against ${pct(notPossible.laValue)} at the other schools ` +
        `(upper limit ${pct(notPossible.upper)}), which shrinks the sessions its absence rates are measured against`,
    );
  }
  const explanation = `${parts.join('; and ')}.`.replace(/^./, (ch) => ch.toUpperCase());

  const primary = signals[0];
  const zc = (coverage: number) => funnelPosition({ id: '', value: 0, se: 1, target: 0 }, 0, coverage).upper;
  let statistic: SchoolCodingFinding['statistic'];
  let observed: number;
  let expected: number;
  if (primary === 'illness_next_to_breaks') {
    statistic = {
      name: 'z-score of the illness ratio (holiday-adjacent days vs other days) against the other schools, overdispersion-adjusted',
      value: illness.z ?? 0,
      threshold: zc(s.controlLimit),
      flaggedWhen: 'at_least',
    };
    observed = c.adjacentIllness;
    expected = expectedIllness;
  } else if (primary === 'low_unauthorised_holiday_share') {
    statistic = {
      name: 'z-score of the G share of absence on holiday-adjacent days against the other schools, overdispersion-adjusted',
      value: gShare.z ?? 0,
      threshold: -zc(s.controlLimit),
      flaggedWhen: 'at_most',
    };
    observed = c.adjacentG;
    expected = c.adjacentAbsence * (gShare.laValue ?? 0);
  } else {
    statistic = {
      name: 'z-score of the share of not-possible sessions against the other schools, overdispersion-adjusted',
      value: notPossible.z ?? 0,
      threshold: zc(s.controlLimit),
      flaggedWhen: 'at_least',
    };
    observed = c.notPossible;
    expected = (c.possible + c.notPossible) * (notPossible.laValue ?? 0);
  }
  return {
    type: 'school_coding',
    urn: c.urn,
    academicYear: c.academicYear,
    from: c.firstDate ?? dateOfAcademicDay(c.academicYear, 0),
    to: c.lastDate ?? dateOfAcademicDay(c.academicYear, 0),
    observed,
    expected,
    statistic,
    explanation,
    signals,
    illness: {
      ...illness,
      adjacentIllness: c.adjacentIllness,
      adjacentPossible: c.adjacentPossible,
      otherIllness: c.otherIllness,
      otherPossible: c.otherPossible,
    },
    unauthorisedHolidayShare: { ...gShare, gSessions: c.adjacentG, absenceSessions: c.adjacentAbsence },
    notPossible: {
      ...notPossible,
      sessions: c.notPossible,
      ofSessions: c.possible + c.notPossible,
      codes: c.notPossibleByCode,
    },
    adjacentDates: c.adjacentDates,
    excludedPupils: c.excludedPupils ?? 0,
  };
}
