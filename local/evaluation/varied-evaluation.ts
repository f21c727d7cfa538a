/**
 * Scoring the threshold-gaming detectors on the varied LA (varied-la.ts) as of several dates in the
 * year (issue 21). Called by `npm run evaluate` (bin/commands/evaluate.ts).
 *
 * As of each date the registers hold only the sessions up to it (as the nightly run would), with
 * last year's registers beside them; the detectors run over 1 August to that date at their default
 * settings (the holiday test and the family pass over the 12 months to it), and each planted behaviour
 * is judged by what it had become by then, over the same window (a pupil new to the LA this year has
 * only this year's planting). What each detector CLAIMS to find (its positives; any other planted
 * behaviour is "may": found or not, it is neither TP nor FP):
 * - holiday_adjacent_absence: a pupil whose planted absence (I, M, G, O, N; any mixture) fell within
 *   K school days of at least 2 different breaks in the window, strong as evidence (the chance of as
 *   many sessions beside breaks with their absences placed at random at most 10⁻⁴:
 *   `plantedEvidenceChance`), with at least 4 more pieces of planted evidence (each absence 1, 2 when
 *   it covers the K days on both sides of a break, 0.8 when it is one school day) than other separate
 *   absences (`claimsHoliday`);
 * - family_pattern: a planted family (children at 2 or 3 different schools, the same days off) with
 *   two children at different schools, each absent within K school days of at least 2 breaks with
 *   that absence at least half their counted absence, sharing at least 3 such days, their planted
 *   evidence multiplied (each child's `chance`) at most 10⁻⁴ (`claimsFamily`);
 * - school_coding (this academic year): a coding school of at least 100 pupils once at least 2 breaks
 *   have passed with extensions, whose extensions coded I within K school days total at least 4 % of its
 *   pupils' adjacent sessions and at least 60 sessions (`claimsSchoolCoding`: below 100 pupils chance
 *   alone gives the ratios coding gives);
 * - near_threshold_unauthorised (this academic year): a planted holiday holding an unbroken run of 8 or 9 sessions in the
 *   LA's threshold codes (G, O, U since issue 22; at least half G), or a split holiday (an unbroken
 *   run of 6–7 such sessions and illness after it that would take it to 10), over by the date, whose
 *   pupil's rolling 10-school-week count of threshold-code sessions (an independent count here) never
 *   reached 10 (`claimsNearThreshold`).
 * FP: a flag on a pupil, family or school with nothing planted (pure background), or a family finding
 * naming children of no planted cross-school family. Controls: R, E, C2 beside breaks, one illness
 * spanning a break, ordinary illness spread through the year, three scattered sick days (never a
 * pupil flag); siblings at one school off together beside breaks and siblings at different schools
 * ill together through the year (never a family flag).
 */
import { schoolSourcesAsOf } from './as-of.js';
import { DEFAULT_LA_SETTINGS } from '../../shared/config.js';
import { dayNumber } from '../../shared/domain/dates.js';
import {
  analysisWindow,
  detectPatterns,
  DEFAULT_PATTERN_SETTINGS,
  type PatternSettings,
  type PatternsResult,
} from '../../shared/domain/patterns/index.js';
import {
  COUNTED,
  CURRENT_YEAR_START_DAY,
  generateVariedLa,
  K,
  VARIED_YEAR,
  type PlantedMark,
  type VariedBehaviour,
  type VariedLa,
  type VariedOptions,
  type VariedSchool,
} from './varied-la.js';

export const VARIED_FLAGS = [
  'holiday_adjacent_absence',
  'near_threshold_unauthorised',
  'family_pattern',
  'school_coding',
] as const;
export type VariedFlag = (typeof VARIED_FLAGS)[number];

/** The scoring dates by default: end of January, after the February half term, after Easter, end of the summer term. */
export const VARIED_DATES = ['2026-01-31', '2026-02-28', '2026-04-30', '2026-07-21'] as const;
export const VARIED_DEFAULTS = { seeds: ['varied-1', 'varied-2', 'varied-3'], schools: 24, pupils: 8_000 } as const;
export const VARIED_TARGETS = { precision: 0.9, recall: 0.8 } as const;

export interface VariedScore {
  seed: string;
  date: string;
  flag: VariedFlag;
  tp: number;
  fp: number;
  fn: number;
  may: number;
  controls: number;
  precision: number | null;
  recall: number | null;
  examples: string[];
}

export interface VariedEvaluation {
  seeds: string[];
  dates: string[];
  schools: number;
  pupils: number;
  scores: VariedScore[];
  /** Pupils analysed per seed (for false flags per 10,000 pupils). */
  pupilsBySeed: Record<string, number>;
  pass: boolean;
}

// ---- Truth as of a date ---------------------------------------------------------------------------

/** Codes the holiday test leaves out (neither absence nor attendance): they do not break a run of absence. */
const LEFT_OUT = new Set(['R', 'E', 'C2']);
const HOLIDAY_KINDS = new Set(['holiday_pupil', 'family', 'coding_extension']);
const PUPIL_CONTROLS = new Set([
  'control_r',
  'control_e',
  'control_c2',
  'control_spanning_illness',
  'control_spread_illness',
  'control_scattered_days',
]);
const FAMILY_CONTROLS = new Set(['control_same_school_siblings', 'control_siblings_ill_together']);

export interface PupilTruth {
  /** Planted counted-absence sessions within K school days of a break, up to the date. */
  plantedAdjacent: number;
  /** Breaks with such sessions. */
  breaks: Set<string>;
  /**
   * Units of evidence: one per side of a break the pupil was absent on (before, after), so an absence
   * straddling a break counts two — it is one absence in the pupil's own sequence of sessions, but one
   * that sits on both sides of the break.
   */
  sides: number;
  /** All the pupil's counted absence sessions (I, M, G, O, N) up to the date, planted or not. */
  counted: number;
  adjacentDays: Set<number>;
  /**
   * The pupil's other separate absences in the window: unbroken runs of counted absence (R, E, C2 and
   * other codes left out of the test skipped, as the test skips them) holding no planted session beside
   * a break. The holiday test's evidence is in separate absences (placement.ts), not sessions.
   */
  otherSpells?: number;
  /**
   * The strength of the planted evidence (`plantedEvidenceChance`): the chance that the pupil's
   * separate absences in the window, their lengths kept, placed uniformly at random over the window's
   * school sessions, would put at least as many sessions within K school days of a break as the
   * planted ones do. Undefined when the pupil cannot be claimed anyway (fewer than 2 breaks).
   */
  chance?: number;
  /**
   * The planted absences as pieces of evidence (`evidencePieces`): each 1, or 2 when it covers the K
   * school days on both sides of a break (a holiday taken both sides). Undefined with `chance`.
   */
  pieces?: number;
}

/**
 * A pupil's window as the claim reads it: per session of the window's school days in order, the side
 * of a break it lies within K school days of (an id per break and side), or −1; and the pupil's
 * separate absences (unbroken runs of counted absence; codes the test leaves out skipped), each with
 * its first session, the sessions it spans, and whether it holds planted absence beside a break.
 */
export interface EvidenceRecord {
  side: Int32Array;
  absences: Array<{ start: number; length: number; planted: boolean }>;
}

/**
 * The claim's own measure of evidence (issue 21, sixth pass), computed here apart from the detector:
 * P(S ≥ s), where s is the number of the planted absences' sessions that lie within K school days of
 * a break, and S the same count when each of the pupil's separate absences in the window — planted
 * and other — is placed uniformly at random among the window's sessions, independently, its length
 * kept. Exact: each absence's distribution over its possible starts, convolved. A holiday extension
 * fills the days next to the break; an illness that happens to fall there usually only grazes them.
 * Other absences add nothing to s but spread S: ordinary illness dilutes the evidence.
 */
export function plantedEvidenceChance(r: EvidenceRecord): number {
  const n = r.side.length;
  // Adjacent sessions before each session, for a window's count in O(1) per start.
  const before = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) before[i + 1] = before[i] + (r.side[i] >= 0 ? 1 : 0);
  const byLength = new Map<number, number[]>();
  const distribution = (length: number): number[] => {
    let d = byLength.get(length);
    if (d) return d;
    const starts = n - length + 1;
    d = new Array<number>(length + 1).fill(0);
    if (starts <= 0) d[0] = 1;
    for (let s = 0; s < starts; s++) d[before[s + length] - before[s]] += 1 / starts;
    byLength.set(length, d);
    return d;
  };
  let observed = 0;
  let dist = [1];
  for (const a of r.absences) {
    if (a.planted) observed += before[a.start + a.length] - before[a.start];
    const d = distribution(Math.min(a.length, n));
    const next = new Array<number>(dist.length + d.length - 1).fill(0);
    for (let x = 0; x < dist.length; x++)
      if (dist[x] > 0) for (let y = 0; y < d.length; y++) next[x + y] += dist[x] * d[y];
    dist = next;
  }
  let p = 0;
  for (let x = observed; x < dist.length; x++) p += dist[x];
  return Math.min(1, p);
}

/**
 * The planted absences as pieces of evidence (issue 21, sixth pass, after fresh-16..18): each counts
 * 1, or 2 when it covers every session of the `k` school days on both sides of one break (a holiday
 * taken whole on both sides), or 0.8 when it is exactly one school day (`SINGLE_DAY_PIECE`; seventh
 * pass). An absence that only touches both sides — a day either side — counts 1:
 * that is what one illness spanning the break looks like, and no register can tell the two apart.
 * Sides are ids in pairs (2b before break b, 2b + 1 after it).
 */
export function evidencePieces(r: EvidenceRecord, k: number): number {
  let pieces = 0;
  let singleDays = 0;
  for (const a of r.absences) {
    if (!a.planted) continue;
    const perSide = new Map<number, number>();
    for (let i = a.start; i < a.start + a.length; i++)
      if (r.side[i] >= 0) perSide.set(r.side[i], (perSide.get(r.side[i]) ?? 0) + 1);
    let both = false;
    for (const [id, n] of perSide) if (id % 2 === 0 && n >= 2 * k && (perSide.get(id + 1) ?? 0) >= 2 * k) both = true;
    if (both) pieces += 2;
    else if (a.length === 2) singleDays++;
    else pieces += 1;
  }
  // In fifths, so that five single days make exactly 4.
  return (5 * pieces + Math.round(5 * SINGLE_DAY_PIECE) * singleDays) / 5;
}

/**
 * What a planted absence of exactly one school day (2 sessions) counts for as evidence (issue 21,
 * seventh pass; was 1): four lone days beside breaks are by the claim's own measure about 1 in 500 by
 * chance — never claimed on strength — and the commonest chance look-alike; five are 4 pieces.
 */
export const SINGLE_DAY_PIECE = 0.8;

/**
 * Per day number, the side of a break it is within K school days of, on the pupil's own sequence of
 * school days over both years (`days` in date order): the K days before each break's first day and
 * the K after its last day. Ids are per break and side.
 */
function sideOfDays(
  days: readonly number[],
  breaks: ReadonlyArray<{ start: string; end: string }>,
): Map<number, number> {
  const out = new Map<number, number>();
  const seen = new Set<string>();
  let id = 0;
  for (const b of breaks) {
    if (seen.has(b.start)) continue;
    seen.add(b.start);
    const start = dayNumber(b.start);
    const end = dayNumber(b.end);
    const before = days.filter((d) => d < start).slice(-K);
    const after = days.filter((d) => d > end).slice(0, K);
    for (const d of before) out.set(d, id);
    for (const d of after) out.set(d, id + 1);
    id += 2;
  }
  return out;
}

/**
 * The pupils planted as pupil-level controls, less those who also carry a holiday-type plant: a
 * coding school draws its pupils afresh at each break, so a control there can also have had real
 * holiday extensions, and a flag on those is no breach of the control (it is "may").
 */
export function pupilControls(la: VariedLa): Set<string> {
  const holiday = new Set(la.behaviours.filter((b) => HOLIDAY_KINDS.has(b.kind)).flatMap((b) => [...b.planted.keys()]));
  return new Set(
    la.behaviours
      .filter((b) => PUPIL_CONTROLS.has(b.kind))
      .flatMap((b) => b.upns)
      .filter((u) => !holiday.has(u)),
  );
}

/** The year a planted day belongs to, for naming breaks apart across years ("previous:february"). */
const yearTag = (day: number) => (day < CURRENT_YEAR_START_DAY ? 'previous' : 'current');

/**
 * Each planted pupil's holiday-type planting from `from` (default: the start of this academic year) up
 * to `date`: the detectors' window. A pupil new to the LA this year has only this year's marks, so
 * they are claimed only once this year's planting meets the claim on its own.
 */
export function pupilTruth(la: VariedLa, date: string, from = `${VARIED_YEAR}-08-01`): Map<string, PupilTruth> {
  const cut = dayNumber(date);
  const start = dayNumber(from);
  const out = new Map<string, PupilTruth>();
  const sides = new Map<string, Set<string>>();
  for (const b of la.behaviours) {
    if (!HOLIDAY_KINDS.has(b.kind)) continue;
    for (const [upn, marks] of b.planted) {
      let t = out.get(upn);
      if (!t)
        out.set(upn, (t = { plantedAdjacent: 0, breaks: new Set(), sides: 0, counted: 0, adjacentDays: new Set() }));
      let set = sides.get(upn);
      if (!set) sides.set(upn, (set = new Set()));
      for (const m of marks) {
        if (
          m.day > cut ||
          m.day < start ||
          !m.adjacent ||
          !COUNTED.has(m.code) ||
          t.adjacentDays.has(m.day * 2 + m.session)
        )
          continue;
        t.plantedAdjacent++;
        t.adjacentDays.add(m.day * 2 + m.session);
        if (m.breakName) {
          t.breaks.add(`${yearTag(m.day)}:${m.breakName}`);
          set.add(`${yearTag(m.day)}:${m.breakName}:${m.side}`);
        }
      }
    }
  }
  const schoolOf = new Map(la.schools.map((s) => [s.urn, s]));
  for (const [upn, t] of out) {
    t.sides = sides.get(upn)?.size ?? 0;
    const p = la.pupils.get(upn);
    if (!p) continue;
    let counted = 0;
    let otherSpells = 0;
    const current = schoolOf.get(p.urn);
    const years = [
      { y: p.previousUrn ? schoolOf.get(p.previousUrn)?.previous : undefined, marks: p.previousMarks },
      { y: current, marks: p.marks },
    ];
    // The claim's record (plantedEvidenceChance): sides per session, the separate absences.
    const allDays = years.flatMap(({ y, marks }) => (y && marks ? y.days.map(dayNumber) : []));
    const breaks = [
      ...(current?.previous.breaks ?? []),
      ...years.flatMap(({ y, marks }) => (y && marks ? y.breaks : [])),
    ];
    const sideOf = sideOfDays(allDays, breaks);
    const side: number[] = [];
    const absences: EvidenceRecord['absences'] = [];
    for (const { y, marks } of years) {
      if (!y || !marks) continue;
      let inSpell = false;
      let holiday = false;
      const close = () => {
        if (inSpell && !holiday) otherSpells++;
        if (inSpell) absences[absences.length - 1].planted = holiday;
        inSpell = holiday = false;
      };
      for (let j = 0; j < y.days.length; j++) {
        const n = dayNumber(y.days[j]);
        if (n < start) continue;
        if (n > cut) break;
        for (const session of [0, 1]) {
          const code = marks[j * 2 + session];
          if (COUNTED.has(code)) {
            counted++;
            if (!inSpell) absences.push({ start: side.length, length: 1, planted: false });
            inSpell = true;
            if (t.adjacentDays.has(n * 2 + session)) holiday = true;
            absences[absences.length - 1].length = side.length + 1 - absences[absences.length - 1].start;
          } else if (!LEFT_OUT.has(code)) close();
          side.push(sideOf.get(n) ?? -1);
        }
      }
      close();
    }
    t.counted = counted;
    t.otherSpells = otherSpells;
    if (t.breaks.size >= 2) {
      const record = { side: Int32Array.from(side), absences };
      t.chance = plantedEvidenceChance(record);
      t.pieces = evidencePieces(record, K);
    }
  }
  return out;
}

/**
 * The level under which the planted evidence is claimed (`PupilTruth.chance`; issue 21, sixth pass):
 * one pupil in 10,000 would show evidence this strong by chance — 15 times under the detector's own
 * threshold (1.5 × 10⁻³ on its more cautious p-value), so a claimed pupil is one the registers
 * clearly tell from chance, whatever the count or length of their absences (docs/patterns.md).
 */
export const HOLIDAY_CLAIM_LEVEL = 1e-4;

/**
 * What the holiday-adjacent detector claims (docs/patterns.md, "Sixth pass"), over its window (the 12
 * months to the date): planted absence beside at least 2 different breaks, whose strength as evidence
 * (`plantedEvidenceChance`: the chance of as many sessions beside breaks with the pupil's absences,
 * their lengths kept, placed at random) is at most HOLIDAY_CLAIM_LEVEL, and with at least 4 more
 * pieces of planted evidence (`evidencePieces`: each planted absence 1, or 2 when it covers the K
 * school days on both sides of a break) than other separate absences — ordinary
 * absence elsewhere counts against a holiday pattern, as the LA asked (a pupil who is often ill is
 * not claimed for a few days that also fall beside breaks). Until the sixth pass the claim was in
 * counts alone (5 sides, 8 sessions, 75 % of the absence, at most sides − 5 others), which claimed
 * weak patterns (five 3-day absences beside breaks happen by chance about 1 in 100) and left out
 * strong ones (six single days beside six breaks).
 */
export function claimsHoliday(t: PupilTruth | undefined): boolean {
  if (!t || t.chance === undefined) return false;
  return (
    t.breaks.size >= 2 && t.chance <= HOLIDAY_CLAIM_LEVEL && (t.pieces ?? t.sides) - (t.otherSpells ?? 0) >= 4 - 1e-9
  );
}

/**
 * What the school-coding detector claims (this academic year, up to day `cut`): a school of at least
 * **100 pupils** whose extensions coded I sit within K school days of at least 2 breaks, at least 60
 * such sessions, and at least 4 % of the school's pupils' adjacent sessions so far (K days each side
 * of each break with an extension). A school of 30 pupils coding for 5 % of them produces one or two
 * pupils' extensions: no school-level test can tell that from chance. Below 100 pupils (issue 21,
 * sixth pass) chance alone gives schools with nothing planted the ratios coding gives (a 30-pupil
 * school 1.92 times the others' median, a 62-pupil one 1.67, while schools of 30–95 pupils coding for
 * 10–17 % range 1.26–2.1): such a school is "may". Read from the planted marks and the school's size,
 * never from the detector's counts.
 */
/** The smallest school whose coding the school-coding detector claims to find. */
export const MIN_CLAIMED_SCHOOL_SIZE = 100;

export function claimsSchoolCoding(
  school: VariedSchool,
  coding: VariedBehaviour,
  cut: number,
): { claimed: boolean; sessions: number; breaks: number; share: number } {
  let sessions = 0;
  const breaks = new Set<string>();
  for (const marks of coding.planted.values()) {
    for (const m of marks) {
      if (m.day > cut || m.day < CURRENT_YEAR_START_DAY || !m.adjacent) continue;
      sessions++;
      if (m.breakName) breaks.add(m.breakName);
    }
  }
  const schoolDaysSoFar = school.days.filter((d) => dayNumber(d) <= cut).length;
  const adjacentSessions = school.size * 2 * Math.min(schoolDaysSoFar, 2 * K * Math.max(1, breaks.size));
  const share = sessions / Math.max(1, adjacentSessions);
  return {
    claimed: school.size >= MIN_CLAIMED_SCHOOL_SIZE && breaks.size >= 2 && sessions >= 60 && share >= 0.04,
    sessions,
    breaks: breaks.size,
    share,
  };
}

/**
 * What the family detector claims, over its window (`truth` from `pupilTruth`): a planted family with
 * two children at different schools, each absent within K school days of at least 2 breaks with that
 * absence at least half their counted absence, sharing at least 3 such days, whose planted evidence
 * together is strong: the product of the two children's `chance` (the holiday claim's measure) at
 * most FAMILY_CLAIM_LEVEL (issue 21, sixth pass, family; computed here, apart from the detector).
 */
export function claimsFamily(la: VariedLa, b: VariedBehaviour, truth: ReadonlyMap<string, PupilTruth>): boolean {
  const kids = b.upns.filter((u) => {
    const t = truth.get(u);
    return t !== undefined && t.breaks.size >= 2 && t.plantedAdjacent >= 0.5 * t.counted;
  });
  const days = new Map(kids.map((u) => [u, new Set([...(truth.get(u)?.adjacentDays ?? [])].map((x) => x >> 1))]));
  for (let i = 0; i < kids.length; i++)
    for (let j = i + 1; j < kids.length; j++) {
      const [x, y] = [kids[i], kids[j]];
      if (la.pupils.get(x)?.urn === la.pupils.get(y)?.urn) continue;
      const shared = [...(days.get(x) as Set<number>)].filter((d) => days.get(y)?.has(d)).length;
      // The family's evidence: two unrelated children would show planted evidence this strong together
      // (the holiday claim's own measure, each child's chance multiplied) at most 1 time in 10,000.
      const joint = (truth.get(x)?.chance ?? 1) * (truth.get(y)?.chance ?? 1);
      if (shared >= 3 && joint <= FAMILY_CLAIM_LEVEL) return true;
    }
  return false;
}

/**
 * The level under which a family's planted evidence is claimed (issue 21, sixth pass, family): the
 * product of two children's `PupilTruth.chance` (their own planted evidence, measured as the holiday
 * claim measures it, each child's absences placed at random). Until then any two children sharing 3
 * planted days at 2 breaks were claimed, however weak: three shared days, one of them at Christmas and
 * two at February (each child's chance about 0.05), are as often two children's chance as a habit.
 */
export const FAMILY_CLAIM_LEVEL = 1e-4;

/** The LA's penalty-notice codes (G, O, U by default since issue 22: N, no reason yet, is not counted). */
const THRESHOLD_CODES: readonly string[] = DEFAULT_LA_SETTINGS.penaltyNoticeCodes;

/**
 * Whether a planted near-threshold or split holiday is what the detector claims, judged on its planted
 * marks (in session order): an unbroken run of threshold-code sessions, at least half G, of at least 8
 * (a holiday kept just under), or of at least 6 directly followed by planted illness that takes it to
 * 10 or more (a split holiday). A planted N inside the holiday breaks the run: N is not a threshold
 * code, so the LA's own count never sees a holiday of 8 there.
 */
export function claimsNearThreshold(kind: 'near_threshold' | 'split_holiday', marks: readonly PlantedMark[]): boolean {
  let best = 0;
  let run = 0;
  let g = 0;
  let i = 0;
  for (; i < marks.length && marks[i].code !== 'I'; i++) {
    if (THRESHOLD_CODES.includes(marks[i].code)) {
      run++;
      if (marks[i].code === 'G') g++;
      if (g * 2 >= run) best = Math.max(best, run);
    } else {
      run = 0;
      g = 0;
    }
  }
  if (kind === 'near_threshold') return best >= 8;
  const illness = marks.length - i;
  return run >= 6 && g * 2 >= run && run + illness >= 10;
}

/** An independent count: the pupil's largest number of threshold-code sessions (G, O, U) in any 10 consecutive school weeks up to `date`. */
function windowPeak(la: VariedLa, upn: string, date: string): number {
  const p = la.pupils.get(upn);
  const s = p && la.schools.find((x) => x.urn === p.urn);
  if (!p || !s) return 0;
  const weeks = new Map<number, number>();
  for (let j = 0; j < s.days.length && s.days[j] <= date; j++) {
    const n = dayNumber(s.days[j]);
    const monday = n - ((new Date(`${s.days[j]}T00:00:00Z`).getUTCDay() + 6) % 7);
    const c =
      (THRESHOLD_CODES.includes(p.marks[j * 2]) ? 1 : 0) + (THRESHOLD_CODES.includes(p.marks[j * 2 + 1]) ? 1 : 0);
    weeks.set(monday, (weeks.get(monday) ?? 0) + c);
  }
  const list = [...weeks.keys()].sort((a, b) => a - b).map((w) => weeks.get(w) as number);
  let best = 0;
  for (let i = 0; i < list.length; i++) {
    let sum = 0;
    for (let j = i; j < Math.min(list.length, i + 10); j++) sum += list[j];
    best = Math.max(best, sum);
  }
  return best;
}

// ---- Scoring one date -----------------------------------------------------------------------------

function ratio(a: number, b: number): number | null {
  return a + b > 0 ? a / (a + b) : null;
}

function blank(seed: string, date: string, flag: VariedFlag): VariedScore {
  return { seed, date, flag, tp: 0, fp: 0, fn: 0, may: 0, controls: 0, precision: null, recall: null, examples: [] };
}

/**
 * Score the detectors' result as of `date`. The pupil and family claims are judged over the window the
 * detectors looked at (settings.holidayAdjacent.windowMonths: the 12 months to the date by default);
 * near-threshold and school coding over this academic year, as the detectors report them.
 */
export function scoreVariedAsOf(
  la: VariedLa,
  date: string,
  result: PatternsResult,
  settings: PatternSettings = DEFAULT_PATTERN_SETTINGS,
): VariedScore[] {
  const window = analysisWindow({ from: `${VARIED_YEAR}-08-01`, to: date }, settings.holidayAdjacent.windowMonths);
  const truth = pupilTruth(la, date, window.from);
  const cut = dayNumber(date);
  const planted = new Set<string>();
  for (const b of la.behaviours) for (const u of b.upns) planted.add(u);
  for (const b of la.behaviours)
    for (const [u, marks] of b.planted) if (marks.some((m) => m.day <= cut)) planted.add(u);
  const note = (s: VariedScore, what: string) => {
    if (s.examples.length < 6) s.examples.push(what);
  };
  const flagged = (type: string) =>
    new Set(result.findings.filter((f) => f.type === type).map((f) => (f as { upn: string }).upn));
  const scores: VariedScore[] = [];

  // Holiday-adjacent absence.
  {
    const s = blank(la.seed, date, 'holiday_adjacent_absence');
    const got = flagged('holiday_adjacent_absence');
    const claimed = new Set([...truth].filter(([, t]) => claimsHoliday(t)).map(([u]) => u));
    for (const u of claimed) {
      if (got.has(u)) s.tp++;
      else {
        s.fn++;
        const t = truth.get(u) as PupilTruth;
        note(
          s,
          `FN ${u} (${la.pupils.get(u)?.previousMarks ? '' : 'new this year; '}${la.pupils.get(u)?.background}; ${t.plantedAdjacent} planted of ${t.counted}, ${t.breaks.size} breaks, ${t.sides} sides; ${la.pupils
            .get(u)
            ?.plants.map((x) => x.kind)
            .join('+')})`,
        );
      }
    }
    const controls = pupilControls(la);
    for (const u of got) {
      if (claimed.has(u)) continue;
      if (controls.has(u)) {
        s.controls++;
        note(
          s,
          `control ${u} ${la.pupils
            .get(u)
            ?.plants.map((x) => x.kind)
            .join('+')}`,
        );
      } else if (planted.has(u)) s.may++;
      else {
        s.fp++;
        note(s, `FP ${u} (${la.pupils.get(u)?.background}, nothing planted)`);
      }
    }
    scores.push(s);
  }

  // Near-threshold unauthorised absence.
  {
    const s = blank(la.seed, date, 'near_threshold_unauthorised');
    const got = flagged('near_threshold_unauthorised');
    const claimed = new Set<string>();
    for (const b of la.behaviours) {
      if (b.kind !== 'near_threshold' && b.kind !== 'split_holiday') continue;
      const u = b.upns[0];
      const marks = b.planted.get(u) ?? [];
      if (marks.length === 0 || Math.max(...marks.map((m) => m.day)) > cut) continue;
      if (!claimsNearThreshold(b.kind, marks) || windowPeak(la, u, date) >= 10) continue;
      claimed.add(u);
    }
    for (const u of claimed) {
      if (got.has(u)) s.tp++;
      else {
        s.fn++;
        note(
          s,
          `FN ${u} ${la.behaviours.find((b) => b.upns.includes(u) && (b.kind === 'near_threshold' || b.kind === 'split_holiday'))?.detail}`,
        );
      }
    }
    const controls = pupilControls(la);
    for (const u of got) {
      if (claimed.has(u)) continue;
      if (controls.has(u)) s.controls++;
      else if (planted.has(u)) s.may++;
      else {
        s.fp++;
        note(s, `FP ${u} (${la.pupils.get(u)?.background}, nothing planted)`);
      }
    }
    scores.push(s);
  }

  // Family pattern.
  {
    const s = blank(la.seed, date, 'family_pattern');
    const families = result.findings
      .filter((f) => f.type === 'family_pattern')
      .map((f) => new Set((f as { children: Array<{ upn: string }> }).children.map((c) => c.upn)));
    const names = (b: VariedBehaviour, f: Set<string>) => b.upns.filter((u) => f.has(u)).length >= 2;
    const claims = (b: VariedBehaviour) => claimsFamily(la, b, truth);
    const planted = la.behaviours.filter((b) => b.kind === 'family');
    const controls = la.behaviours.filter((b) => FAMILY_CONTROLS.has(b.kind));
    for (const b of planted) {
      if (!claims(b)) continue;
      if (families.some((f) => names(b, f))) s.tp++;
      else {
        s.fn++;
        note(s, `FN ${b.id} ${b.detail}`);
      }
    }
    for (const f of families) {
      const match = planted.find((b) => names(b, f));
      if (match) {
        if (!claims(match)) s.may++;
        continue;
      }
      const control = controls.find((b) => names(b, f));
      if (control) {
        s.controls++;
        note(s, `control ${control.id} ${control.detail}`);
      } else {
        s.fp++;
        note(s, `FP ${[...f].join('+')}`);
      }
    }
    scores.push(s);
  }

  // School coding.
  {
    const s = blank(la.seed, date, 'school_coding');
    const got = new Set(result.findings.filter((f) => f.type === 'school_coding').map((f) => f.urn));
    for (const school of la.schools) {
      const b = la.behaviours.find((x) => x.kind === 'coding_extension' && x.urn === school.urn);
      if (!b) {
        if (got.has(school.urn)) {
          s.fp++;
          note(s, `FP school ${school.urn} (size ${school.size})`);
        }
        continue;
      }
      const { claimed, sessions } = claimsSchoolCoding(school, b, cut);
      if (claimed && got.has(school.urn)) s.tp++;
      else if (claimed) {
        s.fn++;
        note(s, `FN school ${school.urn} (${b.detail}; ${sessions} coded sessions by then)`);
      } else if (got.has(school.urn)) s.may++;
    }
    scores.push(s);
  }
  for (const s of scores) {
    s.precision = ratio(s.tp, s.fp);
    s.recall = ratio(s.tp, s.fn);
  }
  return scores;
}

/** The LA as it stood at `date`, through the detectors: this year's registers to the date and last year's (as the nightly run loads them). */
export function detectAsOf(
  la: VariedLa,
  date: string,
  settings: PatternSettings = DEFAULT_PATTERN_SETTINGS,
): PatternsResult {
  const schools = schoolSourcesAsOf(la, date);
  return detectPatterns({ schools, period: { from: `${la.registers[0].academicYear}-08-01`, to: date }, settings });
}

/** Sum the scores of every seed for each (date, flag). */
export function pooled(scores: readonly VariedScore[]): VariedScore[] {
  const out = new Map<string, VariedScore>();
  for (const s of scores) {
    const key = `${s.date}#${s.flag}`;
    let p = out.get(key);
    if (!p) out.set(key, (p = blank('all', s.date, s.flag)));
    p.tp += s.tp;
    p.fp += s.fp;
    p.fn += s.fn;
    p.may += s.may;
    p.controls += s.controls;
    p.examples.push(...s.examples.map((e) => `${s.seed}: ${e}`));
  }
  for (const p of out.values()) {
    p.precision = ratio(p.tp, p.fp);
    p.recall = ratio(p.tp, p.fn);
  }
  return [...out.values()];
}

export function meetsVariedTargets(s: VariedScore): boolean {
  return (
    (s.precision === null || s.precision >= VARIED_TARGETS.precision) &&
    (s.recall === null || s.recall >= VARIED_TARGETS.recall) &&
    s.controls === 0
  );
}

export interface VariedRunOptions extends Partial<VariedOptions> {
  seeds?: string[];
  dates?: string[];
  settings?: PatternSettings;
  onProgress?: (message: string) => void;
}

/**
 * Generate each seed's LA, score it as of each date, and pool the seeds. Passes when, pooled over the
 * seeds, every detector meets the targets at every date from the end of January on, and no control
 * is flagged on any seed at any date.
 */
export function runVariedEvaluation(options: VariedRunOptions = {}): VariedEvaluation {
  const seeds = options.seeds ?? [...VARIED_DEFAULTS.seeds];
  const dates = options.dates ?? [...VARIED_DATES];
  const schools = options.schools ?? VARIED_DEFAULTS.schools;
  const pupils = options.pupils ?? VARIED_DEFAULTS.pupils;
  const scores: VariedScore[] = [];
  const pupilsBySeed: Record<string, number> = {};
  for (const seed of seeds) {
    options.onProgress?.(`varied LA ${seed}: generating (${schools} schools, about ${pupils} pupils)…`);
    const la = generateVariedLa({ seed, schools, pupils });
    pupilsBySeed[seed] = la.pupils.size;
    for (const date of dates) {
      options.onProgress?.(`varied LA ${seed}: detectors as of ${date}…`);
      scores.push(...scoreVariedAsOf(la, date, detectAsOf(la, date, options.settings), options.settings));
    }
  }
  const all = pooled(scores);
  const pass =
    all.every((s) => s.date < '2026-01-31' || meetsVariedTargets(s)) && scores.every((s) => s.controls === 0);
  return { seeds, dates, schools, pupils, scores, pupilsBySeed, pass };
}

const pct = (v: number | null) => (v === null ? '    —' : `${(v * 100).toFixed(1).padStart(5)}%`);

/** The per-date table (pooled over seeds), then each seed's line, then examples of errors. */
export function variedReport(e: VariedEvaluation): string {
  const totalPupils = Object.values(e.pupilsBySeed).reduce((a, b) => a + b, 0);
  const head = ['as of', 'flag', 'TP', 'FP', 'FN', 'may', 'controls', 'precision', 'recall', 'FP/10k', ''];
  const rows = pooled(e.scores).map((s) => [
    s.date,
    s.flag,
    String(s.tp),
    String(s.fp),
    String(s.fn),
    String(s.may),
    String(s.controls),
    pct(s.precision),
    pct(s.recall),
    ((s.fp * 10_000) / Math.max(1, totalPupils)).toFixed(2),
    s.date < '2026-01-31' ? '' : meetsVariedTargets(s) ? 'ok' : 'FAIL',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const out = [
    `Varied LAs (issue 21): seeds ${e.seeds.join(', ')}; ${e.schools} schools and about ${e.pupils} pupils each (${Object.entries(
      e.pupilsBySeed,
    )
      .map(([s, n]) => `${s}: ${n}`)
      .join(', ')})`,
    `Pooled over the seeds, per scoring date. Targets from 2026-01-31: precision >= ${VARIED_TARGETS.precision}, recall >= ${VARIED_TARGETS.recall}, no control flagged`,
    '',
    line(head),
    ...rows.map(line),
    '',
  ];
  const perSeed = e.scores.filter((s) => s.tp + s.fp + s.fn + s.controls > 0);
  out.push('Per seed (TP/FP/FN/controls):');
  for (const seed of e.seeds) {
    out.push(
      `  ${seed}: ${perSeed
        .filter((s) => s.seed === seed)
        .map((s) => `${s.date} ${s.flag.split('_')[0]} ${s.tp}/${s.fp}/${s.fn}/${s.controls}`)
        .join('; ')}`,
    );
  }
  for (const s of pooled(e.scores))
    if (s.examples.length > 0) out.push(`${s.date} ${s.flag}: ${s.examples.slice(0, 6).join('; ')}`);
  out.push(
    e.pass
      ? 'PASS (varied): every detector meets its targets at every date from the end of January.'
      : 'FAIL (varied): see the rows marked FAIL.',
    '',
  );
  return out.join('\n');
}
