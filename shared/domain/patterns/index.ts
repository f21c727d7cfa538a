/**
 * Threshold gaming around holidays (docs/design.md §2.6): the four detectors and the passes that run them
 * over a whole LA.
 *
 * Three passes, so the nightly run can be partitioned by school for a 230,000-pupil LA:
 * 1. per school (`schoolPatternDigest`): from the school's registers and calendar, its holiday
 *    adjacency and session days per academic year (a few hundred bytes each), its coding counts and
 *    its spell starts beside breaks (rise.ts; the context fits the LA's rise from them);
 * 2. per pupil (`pupilPatterns`): from the pupil's enrolments at every school (the same marks strings
 *    the registers hold) and the adjacency of those schools, the pupil's holiday-adjacent and
 *    near-threshold findings, and the compact household record the family pass needs (only for a
 *    child who could be part of a family finding);
 * 3. LA-wide (`laPatterns`): family findings over the household records and school coding findings
 *    over the coding counts, less the shares of pupils whose own pattern is reported — all small.
 * `detectPatterns` runs all three in one call (the evaluation against the synthetic LA's ground
 * truth, and a single-invocation nightly run when the LA fits in memory).
 */
import { schoolYearAdjacency, type SchoolCalendar, type SchoolYearAdjacency } from '../calendar.js';
import { academicYearOf } from '../dates.js';
import { pupilTimeline, type SessionDaysByKey, type TimelineEnrolment } from '../school-weeks.js';
import { sessionDays, type SchoolRegister } from '../register.js';
import { familyFindings, householdKey, householdMember, type HouseholdMember } from './family.js';
import type {
  FamilyFinding,
  HolidayAdjacentFinding,
  NearThresholdFinding,
  PatternFinding,
  PatternType,
  SchoolCodingFinding,
} from './findings.js';
import {
  adjacencyKey,
  analyseHolidayAdjacency,
  analysisWindow,
  holidayAdjacentFinding,
  type AdjacencyByKey,
  type Period,
} from './holiday-adjacent.js';
import { nearThresholdFinding } from './near-threshold.js';
import {
  schoolCodingCounts,
  schoolCodingExclusion,
  schoolCodingFindings,
  type SchoolCodingCounts,
  type SchoolCodingExclusion,
} from './school-coding.js';
import { adjacencyRiseCounts, laAdjacencyRise, type AdjacencyRiseCounts } from './rise.js';
import { DEFAULT_PATTERN_SETTINGS, type PatternSettings } from './settings.js';

export * from './findings.js';
export * from './settings.js';
export { adjacencyKey, analyseHolidayAdjacency, analysisWindow, thisYearOnly } from './holiday-adjacent.js';
export type {
  AdjacencyByKey,
  AdjacentAbsence,
  BesideBreak,
  HolidayAdjacencyAnalysis,
  Period,
} from './holiday-adjacent.js';

export { householdKey } from './family.js';
export type { HouseholdMember, MemberAbsence } from './family.js';
export { schoolCodingComparisons, schoolCodingCounts, schoolCodingFindings } from './school-coding.js';
export type { PupilSums, SchoolCodingComparison, SchoolCodingCounts, SchoolCodingExclusion } from './school-coding.js';

export type { AdjacencyRiseCounts } from './rise.js';
export type { PlacementTest, Spell } from './placement.js';

// ---- Pass 1: per school ------------------------------------------------------------------------

export interface SchoolPatternSource {
  urn: string;
  /** The school's registers, one per academic year held (include the year before the period: windows reach back). */
  registers: readonly SchoolRegister[];
  /** The school's calendar: calendar.ts `schoolCalendar` from its registers' session days, closures and bank holidays. */
  calendar: SchoolCalendar;
}

export interface SchoolPatternDigest {
  urn: string;
  /** Holiday adjacency per academic year held. */
  adjacency: SchoolYearAdjacency[];
  /** Session days per academic year held (register.ts `sessionDays`), for the pupils' school weeks. */
  sessionDays: Array<{ academicYear: number; days: Uint8Array }>;
  /** Coding counts for each academic year that overlaps the period. */
  coding: SchoolCodingCounts[];
  /** Spell starts beside breaks for each academic year that overlaps the holiday test's window (rise.ts: the LA's rise in absence before breaks). */
  rise?: AdjacencyRiseCounts[];
}

/** The academic years a period overlaps. */
function academicYearsOf(period: Period): number[] {
  const out: number[] = [];
  for (let y = academicYearOf(period.from); y <= academicYearOf(period.to); y++) out.push(y);
  return out;
}

export function schoolPatternDigest(
  source: SchoolPatternSource,
  period: Period,
  settings: PatternSettings = DEFAULT_PATTERN_SETTINGS,
): SchoolPatternDigest {
  const years = new Set(academicYearsOf(period));
  // The holiday test looks at the 12 months to the period's end (settings.holidayAdjacent.windowMonths): its null is fitted on them.
  const window = analysisWindow(period, settings.holidayAdjacent.windowMonths);
  const windowYears = new Set(academicYearsOf(window));
  const adjacency: SchoolYearAdjacency[] = [];
  const days: SchoolPatternDigest['sessionDays'] = [];
  const coding: SchoolCodingCounts[] = [];
  const rise: AdjacencyRiseCounts[] = [];
  for (const register of source.registers) {
    const adj = schoolYearAdjacency(source.calendar, register.academicYear, settings.holidayAdjacentDays);
    adjacency.push(adj);
    days.push({ academicYear: register.academicYear, days: sessionDays(register) });
    if (years.has(register.academicYear)) coding.push(schoolCodingCounts(register, adj, settings));
    if (windowYears.has(register.academicYear) && settings.holidayAdjacent.fitLaRise)
      rise.push(adjacencyRiseCounts(register, adj, period.to));
  }
  return { urn: source.urn, adjacency, sessionDays: days, coding, rise };
}

/** Lookups over every school's digest, shared by all the pupils of a pass. */
export interface PupilPatternContext {
  adjacency: AdjacencyByKey;
  sessionDays: SessionDaysByKey;
  /** The run's period: near-threshold findings and school coding (per academic year) cover it. */
  period: Period;
  /** The holiday-adjacent test's dates (and so the family pass's): the 12 months to the period's end (analysisWindow). */
  window: Period;
  settings: PatternSettings;
  /** The LA's rise in absence starts beside breaks (rise.ts), for the holiday-adjacent test's null; null or absent: uniform. */
  rise?: number[] | null;
}

export function pupilPatternContext(
  digests: readonly SchoolPatternDigest[],
  period: Period,
  settings: PatternSettings = DEFAULT_PATTERN_SETTINGS,
): PupilPatternContext {
  const adjacency = new Map<string, SchoolYearAdjacency>();
  const days = new Map<string, Uint8Array>();
  for (const d of digests) {
    for (const a of d.adjacency) adjacency.set(adjacencyKey(a.academicYear, d.urn), a);
    for (const s of d.sessionDays) days.set(adjacencyKey(s.academicYear, d.urn), s.days);
  }
  const rise = settings.holidayAdjacent.fitLaRise ? laAdjacencyRise(digests.flatMap((d) => d.rise ?? [])) : null;
  return {
    adjacency,
    sessionDays: days,
    period,
    window: analysisWindow(period, settings.holidayAdjacent.windowMonths),
    settings,
    rise,
  };
}

// ---- Pass 2: per pupil -------------------------------------------------------------------------

/** One enrolment as the detectors read it: the timeline's fields plus the household key on the return. */
export type PatternEnrolment = TimelineEnrolment & { uprn?: string };

export interface PupilPatternInput {
  upn: string;
  /** Every enrolment held for the pupil (all schools; the period's years and the one before). */
  enrolments: readonly PatternEnrolment[];
  /** The LA's family id for the pupil, if any (takes precedence over the UPRN). */
  familyId?: string;
}

export interface PupilPatternResult {
  findings: Array<HolidayAdjacentFinding | NearThresholdFinding>;
  /** The pupil's record for the family pass, or null when they cannot be part of a family finding. */
  household: HouseholdMember | null;
  /** The pupil's shares of their schools' coding counts, to leave out (empty unless their own p ≤ excludePupilAlpha). */
  codingExclusions: SchoolCodingExclusion[];
}

/** The UPRN on the pupil's latest enrolment that states one. */
function latestUprn(enrolments: readonly PatternEnrolment[]): string | undefined {
  let best: PatternEnrolment | undefined;
  for (const e of enrolments) {
    if (!e.uprn) continue;
    if (
      !best ||
      e.academicYear > best.academicYear ||
      (e.academicYear === best.academicYear && e.lastListed > best.lastListed)
    )
      best = e;
  }
  return best?.uprn;
}

export function pupilPatterns(pupil: PupilPatternInput, ctx: PupilPatternContext): PupilPatternResult {
  const t = pupilTimeline(pupil.enrolments, ctx.sessionDays);
  const findings: PupilPatternResult['findings'] = [];
  const analysis = analyseHolidayAdjacency(t, ctx.adjacency, ctx.window ?? ctx.period, ctx.rise ?? null);
  const holiday = holidayAdjacentFinding(pupil.upn, t, analysis, ctx.settings);
  if (holiday) findings.push(holiday);
  const near = nearThresholdFinding(pupil.upn, t, ctx.settings, ctx.period);
  if (near) findings.push(near);
  const household = householdMember(
    pupil.upn,
    householdKey(pupil.familyId, latestUprn(pupil.enrolments)),
    t,
    analysis,
    ctx.settings,
  );
  const codingExclusions: SchoolCodingExclusion[] = [];
  if (
    analysis.test &&
    ctx.settings.schoolCoding.excludePupilAlpha > 0 &&
    analysis.test.pValue <= ctx.settings.schoolCoding.excludePupilAlpha
  ) {
    const years = new Set(academicYearsOf(ctx.period));
    for (const e of pupil.enrolments) {
      const adj = ctx.adjacency.get(adjacencyKey(e.academicYear, e.urn));
      if (adj && years.has(e.academicYear))
        codingExclusions.push(
          schoolCodingExclusion(
            pupil.upn,
            e.urn,
            e.academicYear,
            e.marks,
            adj,
            ctx.settings.schoolCoding.maxAdjacentIllnessPerPupil,
          ),
        );
    }
  }
  return { findings, household, codingExclusions };
}

// ---- Pass 3: LA-wide ---------------------------------------------------------------------------

export function laPatterns(
  households: readonly HouseholdMember[],
  coding: readonly SchoolCodingCounts[],
  settings: PatternSettings = DEFAULT_PATTERN_SETTINGS,
  codingExclusions: readonly SchoolCodingExclusion[] = [],
): Array<FamilyFinding | SchoolCodingFinding> {
  return [...familyFindings(households, settings), ...schoolCodingFindings(coding, settings, codingExclusions)];
}

// ---- All in one --------------------------------------------------------------------------------

export interface PatternsInput {
  schools: readonly SchoolPatternSource[];
  /** Pupil findings cover this period; school findings each academic year it overlaps. */
  period: Period;
  settings?: PatternSettings;
  /** The LA's family ids by UPN. */
  familyIds?: ReadonlyMap<string, string>;
}

export interface PatternsResult {
  findings: PatternFinding[];
  counts: Record<PatternType, number>;
  pupilsAnalysed: number;
  schoolsAnalysed: number;
}

/** Run every detector over an LA's registers (see the module comment for the partitioned passes). */
/** Each pupil's enrolments on a register, as the detectors read them, added to `into` (by UPN); only `keep`'s pupils when given. */
export function addPatternEnrolments(
  register: SchoolRegister,
  into: Map<string, PatternEnrolment[]>,
  keep?: ReadonlySet<string>,
): void {
  for (const p of register.pupils.values()) {
    if (keep && !keep.has(p.upn)) continue;
    const e: PatternEnrolment = {
      urn: register.urn,
      academicYear: register.academicYear,
      registration: p.registration,
      admissionDate: p.admissionDate,
      leavingDate: p.leavingDate,
      firstListed: p.firstListed,
      lastListed: p.lastListed,
      marks: p.marks,
      uprn: p.uprn,
    };
    const list = into.get(p.upn);
    if (list) list.push(e);
    else into.set(p.upn, [e]);
  }
}

export function detectPatterns(input: PatternsInput): PatternsResult {
  const settings = input.settings ?? DEFAULT_PATTERN_SETTINGS;
  const digests = input.schools.map((s) => schoolPatternDigest(s, input.period, settings));
  const ctx = pupilPatternContext(digests, input.period, settings);
  const byUpn = new Map<string, PatternEnrolment[]>();
  for (const school of input.schools) for (const register of school.registers) addPatternEnrolments(register, byUpn);
  const findings: PatternFinding[] = [];
  const households: HouseholdMember[] = [];
  const exclusions: SchoolCodingExclusion[] = [];
  for (const upn of [...byUpn.keys()].sort()) {
    const r = pupilPatterns(
      { upn, enrolments: byUpn.get(upn) as PatternEnrolment[], familyId: input.familyIds?.get(upn) },
      ctx,
    );
    findings.push(...r.findings);
    if (r.household) households.push(r.household);
    exclusions.push(...r.codingExclusions);
  }
  findings.push(
    ...laPatterns(
      households,
      digests.flatMap((d) => d.coding),
      settings,
      exclusions,
    ),
  );
  const counts = {
    holiday_adjacent_absence: 0,
    near_threshold_unauthorised: 0,
    family_pattern: 0,
    school_coding: 0,
  } as Record<PatternType, number>;
  for (const f of findings) counts[f.type]++;
  return { findings, counts, pupilsAnalysed: byUpn.size, schoolsAnalysed: input.schools.length };
}
