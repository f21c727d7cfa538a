/**
 * Detector 4, school coding pattern (DESIGN §2.6), per school and academic year, against the other
 * schools of the LA:
 * - illness next to breaks: the school's illness rate (I per possible session) on its own
 *   holiday-adjacent days relative to its other days, as a log ratio, is above the funnel's upper
 *   control limit (99.8 % by default) around the other schools' pooled ratio — holidays coded as
 *   authorised illness;
 * - low unauthorised-holiday share: the illness ratio is above the warning limit (95 %) and the share
 *   of the school's absence on holiday-adjacent days coded G is below the lower control limit of its
 *   own funnel — the excess is there and the holidays are not being coded as holidays;
 * - not-possible share: the share of the school's sessions coded not possible (Q, Y1–Y7 by default;
 *   D and X are structural) is above the upper control limit, which shrinks the denominator of every
 *   rate. Reported as its own signal.
 * Limits widen with the between-school variance (funnel.ts), and each school is compared with the
 * pooled value of the OTHER schools, so one outlier cannot move its own centre line. No funnel is
 * drawn with fewer than `minSchools` schools.
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
export function schoolCodingCounts(register: SchoolRegister, adjacency: SchoolYearAdjacency, settings: PatternSettings): SchoolCodingCounts {
  const notPossibleIndex = new Int8Array(128).fill(-1);
  const npCodes = settings.schoolCoding.notPossibleCodes.filter((c) => MARK_CHAR[c] !== undefined);
  npCodes.forEach((c, i) => { notPossibleIndex[MARK_CHAR[c].charCodeAt(0)] = i; });
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
  for (const pupil of register.pupils.values()) {
    const m = pupil.marks;
    const n = Math.min(m.length, DAYS_PER_YEAR_SLOT * 2);
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
        if (ch === ILLNESS) adjacentIllness++;
        if (cls === 2) {
          adjacentAbsence++;
          if (ch === G) adjacentG++;
        }
      } else {
        otherPossible++;
        if (ch === ILLNESS) otherIllness++;
      }
    }
  }
  const notPossibleByCode: Record<string, number> = {};
  npCodes.forEach((c, i) => { if (npCounts[i] > 0) notPossibleByCode[c] = npCounts[i]; });
  const adjacentDates: SchoolCodingCounts['adjacentDates'] = [];
  for (let d = 0; d < DAYS_PER_YEAR_SLOT; d++) {
    const b = breakOfDay[d];
    if (b < 0) continue;
    adjacentDates.push({ date: dateOfAcademicDay(register.academicYear, d), breakStart: adjacency.breaks[b].start, breakEnd: adjacency.breaks[b].end });
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
  };
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
}

/** Illness ratio on the log scale: log(adjacent rate) − log(other rate). */
function illnessLogRatio(ia: number, pa: number, io: number, po: number): { value: number; variance: number } {
  return {
    value: logRate(ia, pa) - logRate(io, po),
    variance: Math.max(1e-12, logRateVariance(ia, pa) + logRateVariance(io, po)),
  };
}

function comparison(unit: FunnelUnit, tau2: number, control: number, back: (x: number) => number, outlier: boolean, warning?: number): FunnelComparison {
  const c = funnelPosition(unit, tau2, control);
  const out: FunnelComparison = { value: back(unit.value), laValue: back(unit.target), lower: back(c.lower), upper: back(c.upper), z: c.z, outlier };
  if (warning !== undefined) {
    const w = funnelPosition(unit, tau2, warning);
    out.warningLower = back(w.lower);
    out.warningUpper = back(w.upper);
  }
  return out;
}

/** School coding findings for every school-year in `counts` (each academic year is its own funnel). */
export function schoolCodingFindings(counts: readonly SchoolCodingCounts[], settings: PatternSettings): SchoolCodingFinding[] {
  const byYear = new Map<number, SchoolCodingCounts[]>();
  for (const c of counts) {
    const list = byYear.get(c.academicYear);
    if (list) list.push(c);
    else byYear.set(c.academicYear, [c]);
  }
  const out: SchoolCodingFinding[] = [];
  for (const [, list] of [...byYear].sort(([a], [b]) => a - b)) out.push(...findingsForYear(list, settings));
  return out;
}

function findingsForYear(list: readonly SchoolCodingCounts[], settings: PatternSettings): SchoolCodingFinding[] {
  const s = settings.schoolCoding;
  const withIllness = list.filter((c) => c.adjacentPossible > 0 && c.otherPossible > 0);
  const withAbsence = list.filter((c) => c.adjacentAbsence > 0);
  const withSessions = list.filter((c) => c.possible > 0);
  if (withSessions.length < s.minSchools) return [];

  const tIa = sum(withIllness, 'adjacentIllness');
  const tPa = sum(withIllness, 'adjacentPossible');
  const tIo = sum(withIllness, 'otherIllness');
  const tPo = sum(withIllness, 'otherPossible');
  const illness: Indicator[] = withIllness.map((c) => {
    const own = illnessLogRatio(c.adjacentIllness, c.adjacentPossible, c.otherIllness, c.otherPossible);
    const others = illnessLogRatio(tIa - c.adjacentIllness, tPa - c.adjacentPossible, tIo - c.otherIllness, tPo - c.otherPossible);
    return { counts: c, unit: { id: c.urn, value: own.value, se: Math.sqrt(own.variance), target: others.value } };
  });
  const tG = sum(withAbsence, 'adjacentG');
  const tA = sum(withAbsence, 'adjacentAbsence');
  const gShare: Indicator[] = withAbsence.map((c) => ({
    counts: c,
    unit: {
      id: c.urn,
      value: logitShare(c.adjacentG, c.adjacentAbsence),
      se: Math.sqrt(logitShareVariance(c.adjacentG, c.adjacentAbsence)),
      target: logitShare(tG - c.adjacentG, tA - c.adjacentAbsence),
    },
  }));
  const tNp = sum(withSessions, 'notPossible');
  const tAll = sum(withSessions, 'possible') + tNp;
  const notPossible: Indicator[] = withSessions.map((c) => {
    const n = c.possible + c.notPossible;
    return {
      counts: c,
      unit: { id: c.urn, value: logitShare(c.notPossible, n), se: Math.sqrt(logitShareVariance(c.notPossible, n)), target: logitShare(tNp - c.notPossible, tAll - n) },
    };
  });

  const illnessFit = illness.length >= s.minSchools ? overdispersion(illness.map((i) => i.unit)) : null;
  const gFit = gShare.length >= s.minSchools ? overdispersion(gShare.map((i) => i.unit)) : null;
  const npFit = overdispersion(notPossible.map((i) => i.unit));
  const illnessOf = new Map(illness.map((i) => [i.counts.urn, i]));
  const gOf = new Map(gShare.map((i) => [i.counts.urn, i]));

  const findings: SchoolCodingFinding[] = [];
  for (const np of notPossible) {
    const c = np.counts;
    const ill = illnessOf.get(c.urn);
    const g = gOf.get(c.urn);
    const signals: SchoolCodingSignal[] = [];
    const illnessPos = ill && illnessFit ? funnelPosition(ill.unit, illnessFit.tau2, s.controlLimit) : null;
    const illnessWarn = ill && illnessFit ? funnelPosition(ill.unit, illnessFit.tau2, s.warningLimit) : null;
    const gPos = g && gFit ? funnelPosition(g.unit, gFit.tau2, s.controlLimit) : null;
    const npPos = funnelPosition(np.unit, npFit.tau2, s.controlLimit);
    const enoughIllness = c.adjacentIllness >= s.minAdjacentIllness;
    const illnessOutlier = !!(ill && illnessPos && enoughIllness && ill.unit.value > illnessPos.upper);
    const lowG = !!(ill && illnessWarn && g && gPos && enoughIllness && ill.unit.value > illnessWarn.upper && g.unit.value < gPos.lower);
    const npOutlier = c.notPossible >= s.minNotPossible && np.unit.value > npPos.upper;
    if (illnessOutlier) signals.push('illness_next_to_breaks');
    if (lowG) signals.push('low_unauthorised_holiday_share');
    if (npOutlier) signals.push('not_possible_share');
    if (signals.length === 0) continue;
    findings.push(schoolFinding(c, signals, ill, g, np, illnessFit?.tau2 ?? 0, gFit?.tau2 ?? 0, npFit.tau2, settings));
  }
  return findings.sort((a, b) => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0));
}

function schoolFinding(
  c: SchoolCodingCounts,
  signals: SchoolCodingSignal[],
  ill: Indicator | undefined,
  g: Indicator | undefined,
  np: Indicator,
  illnessTau2: number,
  gTau2: number,
  npTau2: number,
  settings: PatternSettings,
): SchoolCodingFinding {
  const s = settings.schoolCoding;
  const blank: FunnelComparison = { value: null, laValue: null, lower: null, upper: null, z: null, outlier: false };
  const illness = ill
    ? comparison(ill.unit, illnessTau2, s.controlLimit, Math.exp, signals.includes('illness_next_to_breaks'), s.warningLimit)
    : { ...blank };
  const gShare = g ? comparison(g.unit, gTau2, s.controlLimit, expit, signals.includes('low_unauthorised_holiday_share')) : { ...blank };
  const notPossible = comparison(np.unit, npTau2, s.controlLimit, expit, signals.includes('not_possible_share'));

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
        `${fixed(illness.value)} times its rate on other days (${percent(otherRate)}), against ${fixed(illness.laValue)} times across the LA's other schools ` +
        `(${c.adjacentIllness} illness sessions where about ${about(expectedIllness)} would be expected; ` +
        `${signals.includes('illness_next_to_breaks') ? `control limit ${fixed(illness.upper)}` : `warning limit ${fixed(illness.warningUpper)}`} for a school of its size)`,
    );
  }
  if (signals.includes('low_unauthorised_holiday_share')) {
    parts.push(
      `only ${pct(gShare.value)} of its absence on those days was coded as an unauthorised holiday (G), against ${pct(gShare.laValue)} ` +
        `at the other schools (lower limit ${pct(gShare.lower)})`,
    );
  }
  if (signals.includes('not_possible_share')) {
    const codes = Object.entries(c.notPossibleByCode).map(([code, n]) => `${code} ${n}`).join(', ');
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
    statistic = { name: 'z-score of the illness ratio (holiday-adjacent days vs other days) against the other schools, overdispersion-adjusted', value: illness.z ?? 0, threshold: zc(s.controlLimit), flaggedWhen: 'at_least' };
    observed = c.adjacentIllness;
    expected = expectedIllness;
  } else if (primary === 'low_unauthorised_holiday_share') {
    statistic = { name: 'z-score of the G share of absence on holiday-adjacent days against the other schools, overdispersion-adjusted', value: gShare.z ?? 0, threshold: -zc(s.controlLimit), flaggedWhen: 'at_most' };
    observed = c.adjacentG;
    expected = c.adjacentAbsence * (gShare.laValue ?? 0);
  } else {
    statistic = { name: 'z-score of the share of not-possible sessions against the other schools, overdispersion-adjusted', value: notPossible.z ?? 0, threshold: zc(s.controlLimit), flaggedWhen: 'at_least' };
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
    illness: { ...illness, adjacentIllness: c.adjacentIllness, adjacentPossible: c.adjacentPossible, otherIllness: c.otherIllness, otherPossible: c.otherPossible },
    unauthorisedHolidayShare: { ...gShare, gSessions: c.adjacentG, absenceSessions: c.adjacentAbsence },
    notPossible: { ...notPossible, sessions: c.notPossible, ofSessions: c.possible + c.notPossible, codes: c.notPossibleByCode },
    adjacentDates: c.adjacentDates,
  };
}
