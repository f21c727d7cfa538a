/**
 * Diagnostics for the school-coding detector on the varied LAs (issue 21, sixth pass): per school and
 * scoring date, its pupils, its illness on and off holiday-adjacent days (sessions, pupils, and
 * separate illnesses beside a break), the funnel's figures (ratio, centre line, limit, z, τ²), what
 * the ground truth says (coding share, the claim) and why it was flagged or not. For settling the
 * rule on the tuned and already-seen seeds only; never run it on an unseen seed before the rule is
 * fixed.
 *
 *   npx tsx local/evaluation/school-diagnostics.ts --seeds varied-1 [--dates 2026-01-31,...] [--all] [--out FILE]
 *
 * Prints every coding school, and every school flagged or with z ≥ 2 (`--all`: every school);
 * `--out` writes each school's figures and its pupils' (adjacent illness sessions, adjacent possible
 * sessions, other illness, other possible, sides of breaks with illness, sides of breaks on roll) as
 * JSON lines, for trying rules offline.
 */
import { CODE_CATEGORY, MARK_CHAR } from '../../shared/domain/codes.js';
import { dayNumber, DAYS_PER_YEAR_SLOT } from '../../shared/domain/dates.js';
import type { SchoolYearAdjacency } from '../../shared/domain/calendar.js';
import {
  DEFAULT_PATTERN_SETTINGS,
  schoolCodingComparisons,
  schoolPatternDigest,
  type SchoolCodingComparison,
  type SchoolPatternSource,
} from '../../shared/domain/patterns/index.js';
import { limitZ, logRateVariance } from '../../shared/domain/patterns/funnel.js';
import type { SchoolRegister } from '../../shared/domain/register.js';
import { runDiagnostics } from './run-diagnostics.js';
import { claimsSchoolCoding } from './varied-evaluation.js';
import { registerAsOf, VARIED_YEAR, variedCalendar, type VariedLa } from './varied-la.js';

/**
 * One pupil's figures: [adjacent I, adjacent possible, other I, other possible, sides with I, sides on
 * roll, other windows of K school days on roll, of them with I, adjacent G, adjacent absence].
 */
export type PupilFigures = [number, number, number, number, number, number, number, number, number, number];

export interface SchoolDiagnosis {
  seed: string;
  date: string;
  urn: string;
  size: number;
  codingShare: number;
  claim: { claimed: boolean; sessions: number; breaks: number; share: number } | null;
  signals: string[];
  counts: SchoolCodingComparison['counts'];
  illness: SchoolCodingComparison['illness'];
  tau2: number | null;
  pupilsOnRoll: number;
  pupilsWithAdjacentIllness: number;
  sidesWithIllness: number;
  sidesOnRoll: number;
  pupils?: PupilFigures[];
}

const ILLNESS = MARK_CHAR.I.charCodeAt(0);
const G = MARK_CHAR.G.charCodeAt(0);
const ABSENCE: Uint8Array = (() => {
  const t = new Uint8Array(128);
  for (const [code, cat] of Object.entries(CODE_CATEGORY))
    if (cat === 'authorised' || cat === 'unauthorised') t[MARK_CHAR[code].charCodeAt(0)] = 1;
  return t;
})();
const POSSIBLE: Uint8Array = (() => {
  const t = new Uint8Array(128);
  for (const [code, cat] of Object.entries(CODE_CATEGORY)) {
    if (['present', 'approved_activity', 'authorised', 'unauthorised'].includes(cat))
      t[MARK_CHAR[code].charCodeAt(0)] = 1;
  }
  return t;
})();

/** Each pupil's figures at one school-year (a side of a break: the K days before it, or after it). */
function pupilFigures(register: SchoolRegister, adj: SchoolYearAdjacency): PupilFigures[] {
  const out: PupilFigures[] = [];
  const sideOf = (day: number) => {
    const b = adj.breakOfDay[day];
    const start = dayNumber(adj.breaks[b].start) - dayNumber(`${adj.academicYear}-08-01`);
    return b * 2 + (day < start ? 0 : 1);
  };
  for (const p of register.pupils.values()) {
    const f: PupilFigures = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    const ill = new Set<number>();
    const roll = new Set<number>();
    const n = Math.min(p.marks.length, DAYS_PER_YEAR_SLOT * 2);
    // Other days cut into windows of K school days on roll (as long as a side of a break), broken by adjacent days.
    let windowDays = 0;
    let windowIll = false;
    for (let day = 0; day * 2 < n; day++) {
      let possible = false;
      let illDay = false;
      for (const i of [day * 2, day * 2 + 1]) {
        const ch = p.marks.charCodeAt(i);
        if (ch >= 128 || POSSIBLE[ch] === 0) continue;
        possible = true;
        if (adj.breakOfDay[day] >= 0) {
          f[1]++;
          roll.add(sideOf(day));
          if (ABSENCE[ch]) f[9]++;
          if (ch === G) f[8]++;
          if (ch === ILLNESS) {
            f[0]++;
            ill.add(sideOf(day));
          }
        } else {
          f[3]++;
          if (ch === ILLNESS) {
            f[2]++;
            illDay = true;
          }
        }
      }
      if (adj.breakOfDay[day] >= 0) {
        windowDays = 0;
        windowIll = false;
      } else if (possible) {
        windowDays++;
        windowIll ||= illDay;
        if (windowDays === adj.k) {
          f[6]++;
          if (windowIll) f[7]++;
          windowDays = 0;
          windowIll = false;
        }
      }
    }
    if (f[1] + f[3] === 0) continue;
    f[4] = ill.size;
    f[5] = roll.size;
    out.push(f);
  }
  return out;
}

export function diagnoseSchools(la: VariedLa, date: string, settings = DEFAULT_PATTERN_SETTINGS): SchoolDiagnosis[] {
  const previous = new Map(la.previousRegisters.map((r) => [r.urn, r]));
  const period = { from: `${VARIED_YEAR}-08-01`, to: date };
  const current = new Map<string, { register: SchoolRegister; adj: SchoolYearAdjacency }>();
  const digests = la.registers.map((r) => {
    const asOf = registerAsOf(r, date);
    const registers = [previous.get(r.urn), asOf].filter((x) => x !== undefined);
    const source: SchoolPatternSource = {
      urn: r.urn,
      registers,
      calendar: variedCalendar(r.urn, registers, la.closures),
    };
    const d = schoolPatternDigest(source, period, settings);
    const adj = d.adjacency.find((a) => a.academicYear === VARIED_YEAR);
    if (adj) current.set(r.urn, { register: asOf, adj });
    return d;
  });
  const comparisons = schoolCodingComparisons(
    digests.flatMap((d) => d.coding),
    settings,
  );
  const cut = dayNumber(date);
  return comparisons.map((c) => {
    const school = la.schools.find((s) => s.urn === c.counts.urn);
    const b = la.behaviours.find((x) => x.kind === 'coding_extension' && x.urn === c.counts.urn);
    const cur = current.get(c.counts.urn);
    const pupils = cur ? pupilFigures(cur.register, cur.adj) : [];
    return {
      seed: la.seed,
      date,
      urn: c.counts.urn,
      size: school?.size ?? 0,
      codingShare: school?.codingShare ?? 0,
      claim: school && b ? claimsSchoolCoding(school, b, cut) : null,
      signals: c.signals,
      counts: { ...c.counts, adjacentDates: [] },
      illness: c.illness,
      tau2: tau2Of(c),
      pupilsOnRoll: pupils.length,
      pupilsWithAdjacentIllness: pupils.filter((p) => p[0] > 0).length,
      sidesWithIllness: pupils.reduce((a, p) => a + p[4], 0),
      sidesOnRoll: pupils.reduce((a, p) => a + p[5], 0),
      pupils,
    };
  });
}

/** The between-school variance the funnel used for this school, read back from its limit and counts. */
function tau2Of(c: SchoolCodingComparison): number | null {
  const { upper, laValue } = c.illness;
  if (upper === null || laValue === null) return null;
  const k = c.counts;
  const sd = (Math.log(upper) - Math.log(laValue)) / limitZ(DEFAULT_PATTERN_SETTINGS.schoolCoding.controlLimit);
  const se2 = logRateVariance(k.adjacentIllness, k.adjacentPossible) + logRateVariance(k.otherIllness, k.otherPossible);
  return sd * sd - se2;
}

const f2 = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : x.toFixed(2));

function line(d: SchoolDiagnosis): string {
  const truth = d.claim
    ? `coding ${Math.round(d.codingShare * 100)} %${d.claim.claimed ? ' CLAIMED' : ' not claimed'} (${d.claim.sessions} coded sessions, ${(d.claim.share * 100).toFixed(1)} %, ${d.claim.breaks} breaks)`
    : 'not coding';
  const verdict =
    d.signals.length > 0 ? (d.claim?.claimed ? 'TP' : d.claim ? 'may' : 'FP') : d.claim?.claimed ? 'FN' : '';
  const c = d.counts;
  return (
    `  ${verdict.padEnd(3)} ${d.urn} size ${d.size} (${d.pupilsOnRoll} on roll): ${truth}; ` +
    `adjacent I ${c.adjacentIllness}/${c.adjacentPossible} (${((100 * c.adjacentIllness) / Math.max(1, c.adjacentPossible)).toFixed(1)} %), ` +
    `other ${c.otherIllness}/${c.otherPossible} (${((100 * c.otherIllness) / Math.max(1, c.otherPossible)).toFixed(1)} %); ` +
    `pupils ill beside a break ${d.pupilsWithAdjacentIllness}, sides ${d.sidesWithIllness}/${d.sidesOnRoll}; ` +
    `ratio ${f2(d.illness.value)} vs ${f2(d.illness.laValue)} (×${f2((d.illness.value ?? 0) / (d.illness.laValue ?? 1))}), ` +
    `upper ${f2(d.illness.upper)}, z ${f2(d.illness.z)}, τ² ${d.tau2 === null ? 'n/a' : d.tau2.toFixed(4)}` +
    `${d.signals.length ? `; ${d.signals.join('+')}` : ''}`
  );
}

runDiagnostics(['all'], (la, date, { all }) => {
  const list = diagnoseSchools(la, date);
  process.stdout.write(`\n${la.seed} ${date}:\n`);
  for (const d of list)
    if (all || d.claim || d.signals.length > 0 || (d.illness.z ?? 0) >= 2) process.stdout.write(`${line(d)}\n`);
  return list.map((d) => JSON.stringify(d));
});
