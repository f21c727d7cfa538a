/**
 * Detector 3, family pattern (docs/design.md §2.6): children of one household at DIFFERENT schools absent on
 * the same holiday-adjacent dates. No school can see it; the LA can. Penalty notices are per parent
 * per child, so the finding names every child in the pattern.
 *
 * Household key: the LA's family id when it has one for the child, else the UPRN on the child's
 * latest return. The cross-school pass needs only a compact record per child (`HouseholdMember`):
 * the child's own holiday-adjacent test and their counted absence sessions on holiday-adjacent days —
 * and only for children who could be part of a finding.
 *
 * The rule (decided here, precision first; checked against the synthetic LA's planted families):
 * two children with no school in common
 * - were both absent (a counted absence session each: I, M, G, N, O) on at least `minSharedDays`
 *   school days that are holiday-adjacent at both their schools,
 * - next to at least `minBreaks` different breaks (siblings catch the same illness: one shared
 *   illness, even one spanning a half term, is one break and never a flag),
 * - on more such days than chance explains if their absences next to holidays were unrelated (or, the
 *   second way in since issue 21's sixth pass, the two children's own tests multiply to at most
 *   `jointChildAlpha`, 10⁻⁴: children off on most of a few adjacent days share them nearly by force,
 *   so only their own patterns can speak; `PairResult.basis`): each
 *   child's adjacent absence days placed at random among the holiday-adjacent days, the exact
 *   (hypergeometric) chance of so many shared days at most `alpha` (10⁻³), and at least `minRatio`
 *   (1.5) times the expected number (two children often off next to holidays share a day or two by
 *   chance; two off on most such days share many — a plain ratio of 4, the rule until issue 21, could
 *   never be met by a family taking every break, whose ratio can be at most 2),
 * - the days both children were absent at all are concentrated next to breaks: of all their shared
 *   absence days, the adjacent ones at most a `sharedDaysAlpha` (0.01) binomial chance given the share
 *   of days that are adjacent — siblings ill together through the year share ordinary days too, and
 *   those the shared days next to breaks are then no evidence of (since issue 21's eighth pass the days
 *   against are those of shared absences elsewhere: a shared absence beside a break running at most K
 *   days past the adjacent ones, the third day of a three-day extension, is judged beside the break),
 * - judged on separate shared absences rather than days, the breaks with a shared absence beside them
 *   outnumber the shared absences elsewhere by at least `minNetSharedBreaks` (2; issue 21, fifth pass):
 *   each shared absence away from the breaks cancels one break (`sharedBreaksNet`). Shared illness
 *   elsewhere is evidence against a holiday, so siblings ill together through the year, whose shared
 *   illnesses fall beside breaks only by chance, are held out unless chance puts most of them beside breaks; the day test alone
 *   passed two illnesses that happened to span half terms among four elsewhere, and
 * - each child's own absence leans towards holiday-adjacent days: their own exact placement test
 *   (holiday-adjacent.ts) at p ≤ `childAlpha` (0.2: a loose filter, the joint evidence carries the
 *   finding). Children absent together all year (a family in difficulty) are not absent next to
 *   holidays more than elsewhere, and fail it.
 */
import type { PupilTimeline } from '../school-weeks.js';
import { sessionEvidence } from '../school-weeks.js';
import type { FamilyChild, FamilyFinding, SessionEvidence } from './findings.js';
import { dayNumber } from '../dates.js';
import { binomialUpperTail, hypergeometricUpperTail, oneIn } from './binomial.js';
import { distinctBreaks, thisYearOnly, type HolidayAdjacencyAnalysis } from './holiday-adjacent.js';
import type { PatternSettings } from './settings.js';
import { about, breakNames, listOf, spokenDate } from './wording.js';

/** A counted absence session on a holiday-adjacent day, with the break at the child's school. */
export interface MemberAbsence extends SessionEvidence {
  breakStart: string;
  breakEnd: string;
  breakLabel: string | null;
}

/** What the cross-school pass needs of one child. */
export interface HouseholdMember {
  upn: string;
  household: string;
  /** Schools whose marks are in the child's analysis. */
  urns: string[];
  observed: number;
  expected: number;
  pValue: number;
  /** Sessions in the child's test that were holiday-adjacent (for the expected count of shared days), and all sessions tested. */
  adjacentSessions: number;
  possibleSessions?: number;
  /** Day numbers of the child's counted absence on days that are not holiday-adjacent. */
  otherAbsenceDays?: number[];
  absences: MemberAbsence[];
  /** The child is on no register before this date although the window reaches into last year (holiday-adjacent.ts `thisYearOnly`). */
  registersFrom?: string;
}

/** The household key: the LA's family id, else the UPRN; undefined when neither is known. */
export function householdKey(familyId: string | undefined, uprn: string | undefined): string | undefined {
  if (familyId && familyId.trim()) return `family:${familyId.trim()}`;
  if (uprn && uprn.trim()) return `uprn:${uprn.trim()}`;
  return undefined;
}

/**
 * The child's record for the cross-school pass, or null when the child cannot be part of a family
 * finding (no household key, or their own absence is not concentrated next to holidays).
 */
export function householdMember(
  upn: string,
  household: string | undefined,
  t: PupilTimeline,
  analysis: HolidayAdjacencyAnalysis,
  settings: PatternSettings,
): HouseholdMember | null {
  if (!household || !analysis.test) return null;
  if (analysis.test.pValue > settings.family.childAlpha) return null;
  if (analysis.breaksTouched < settings.family.minBreaks) return null;
  const absences = analysis.adjacentAbsences.map((a) => ({
    ...sessionEvidence(t, a.slot),
    breakStart: a.breakStart,
    breakEnd: a.breakEnd,
    breakLabel: a.breakLabel,
  }));
  const registersFrom = thisYearOnly(t, analysis);
  return {
    upn,
    household,
    ...(registersFrom ? { registersFrom } : {}),
    urns: [...t.urns],
    observed: analysis.test.observed,
    expected: analysis.test.expected,
    pValue: analysis.test.pValue,
    adjacentSessions: analysis.adjacentSessions,
    possibleSessions: analysis.possibleSessions,
    otherAbsenceDays: analysis.otherAbsenceDays,
    absences,
  };
}

export interface PairResult {
  a: HouseholdMember;
  b: HouseholdMember;
  dates: string[];
  expected: number;
  /** Chance of at least this many shared days if the two children's adjacent absences were unrelated. */
  pValue: number;
  /**
   * What carries the pair: 'shared', more shared days than chance explains; 'each', the two children's
   * own tests together (their p-values' product at most `jointChildAlpha`), the shared days then fewer
   * than a coincidence test can tell from chance (e.g. children new to the LA off on most of this
   * year's adjacent days).
   */
  basis: 'shared' | 'each';
  breaks: Array<{ start: string; end: string; label: string | null }>;
}

/** A child's adjacent absence sessions by date. */
export function absenceDays(m: HouseholdMember): Map<string, MemberAbsence[]> {
  const out = new Map<string, MemberAbsence[]>();
  for (const a of m.absences) {
    const list = out.get(a.date);
    if (list) list.push(a);
    else out.set(a.date, [a]);
  }
  return out;
}

/** Why a pair of children is not a finding: the first condition it fails, with the figures so far. */
export interface PairRejection {
  failed: 'same_school' | 'shared_days' | 'breaks' | 'ratio' | 'chance' | 'net_breaks' | 'shared_days_elsewhere';
  sharedDays: number;
  expected?: number;
  pValue?: number;
  netBreaks?: number;
  /** The binomial chance of the shared days' concentration beside breaks (`sharedDaysAlpha`), when that failed. */
  concentration?: number;
}

function comparePair(a: HouseholdMember, b: HouseholdMember, settings: PatternSettings): PairResult | null {
  const r = pairEvidence(a, b, settings);
  return 'failed' in r ? null : r;
}

/** Two children of one household: the pair's evidence, or the first condition it fails (for diagnostics too). */
export function pairEvidence(
  a: HouseholdMember,
  b: HouseholdMember,
  settings: PatternSettings,
): PairResult | PairRejection {
  if (a.urns.some((u) => b.urns.includes(u))) return { failed: 'same_school', sharedDays: 0 }; // the school sees it itself
  const da = absenceDays(a);
  const db = absenceDays(b);
  const dates = [...da.keys()].filter((d) => db.has(d)).sort();
  if (dates.length < settings.family.minSharedDays) return { failed: 'shared_days', sharedDays: dates.length };
  const ranges: Array<{ start: string; end: string; label: string | null }> = [];
  for (const d of dates) {
    for (const x of [...(da.get(d) ?? []), ...(db.get(d) ?? [])]) {
      if (!ranges.some((r) => r.start === x.breakStart && r.end === x.breakEnd))
        ranges.push({ start: x.breakStart, end: x.breakEnd, label: x.breakLabel });
    }
  }
  if (distinctBreaks(ranges) < settings.family.minBreaks) return { failed: 'breaks', sharedDays: dates.length };
  // Shared days expected if the two children's adjacent absences were unrelated: each child's adjacent
  // absence days placed at random among the holiday-adjacent days (hypergeometric, exact tail).
  const n = Math.max(da.size, db.size, Math.round(Math.max(a.adjacentSessions, b.adjacentSessions) / 2));
  const expected = (da.size * db.size) / Math.max(1, n);
  const pValue = hypergeometricUpperTail(dates.length, n, da.size, db.size);
  // Two ways in (issue 21, sixth pass): the shared days are more than chance explains, or each child's
  // own absence is strong evidence by itself. Children new to the LA, off on most of this year's few
  // adjacent days, share them nearly by force: the coincidence test cannot speak, each child's test can.
  const eachStrong = a.pValue * b.pValue <= settings.family.jointChildAlpha;
  if (!eachStrong) {
    if (dates.length < settings.family.minRatio * expected)
      return { failed: 'ratio', sharedDays: dates.length, expected };
    if (pValue > settings.family.alpha) return { failed: 'chance', sharedDays: dates.length, expected, pValue };
  }
  const basis: PairResult['basis'] =
    dates.length >= settings.family.minRatio * expected && pValue <= settings.family.alpha ? 'shared' : 'each';
  // Children ill together (siblings catch the same illnesses) share absence on ordinary days too: the
  // shared days must themselves sit next to breaks far more than the share of days that do.
  if (a.otherAbsenceDays && b.otherAbsenceDays) {
    const other = new Set(a.otherAbsenceDays);
    const sharedOtherDays = b.otherAbsenceDays.filter((d) => other.has(d));
    // And on the evidence, not on days: each shared absence away from the breaks is evidence AGAINST a
    // holiday and cancels one break with shared absence beside it. Siblings ill together through the
    // year share several illnesses, only some of them (by chance) beside breaks; a family taking its
    // holidays together shares absences beside breaks and next to nothing elsewhere.
    const spells = sharedAbsences(dates, sharedOtherDays, da, db);
    const netBreaks = spells.breaks.size - spells.elsewhere;
    if (netBreaks < settings.family.minNetSharedBreaks)
      return { failed: 'net_breaks', sharedDays: dates.length, expected, pValue, netBreaks };
    // A shared absence beside a break is judged beside it, as the net above judges it (issue 21, eighth
    // pass): its days beyond the K adjacent ones, when they are at most K more (an extension of up to
    // 2K school days on that side: the third day of a three-day extension), are neither for nor against
    // and leave the days "elsewhere". Until then they counted as shared illness elsewhere, and three
    // shared days at two breaks, one a three-day extension, failed this test (3 of 4 days beside breaks:
    // 0.011–0.012) however strong the children. A longer absence touching a break (a fortnight's illness
    // across a half term) keeps all its days: touching a break is no evidence for an absence that long.
    const K = settings.holidayAdjacentDays;
    const extensionTails = spells.tails.reduce((n, t) => n + (t.length <= K ? t.length : 0), 0);
    const sharedElsewhere = sharedOtherDays.length - extensionTails;
    const share = Math.max(
      a.adjacentSessions / Math.max(1, a.possibleSessions ?? 1),
      b.adjacentSessions / Math.max(1, b.possibleSessions ?? 1),
    );
    const concentration = binomialUpperTail(dates.length, dates.length + sharedElsewhere, Math.min(1, share));
    if (concentration > settings.family.sharedDaysAlpha)
      return { failed: 'shared_days_elsewhere', sharedDays: dates.length, expected, pValue, netBreaks, concentration };
  }
  return { a, b, dates, expected, pValue, basis, breaks: ranges.sort((x, y) => (x.start < y.start ? -1 : 1)) };
}

const isFriday = (day: number): boolean => (day + 4) % 7 === 5; // day 0, 1 January 1970, was a Thursday

/** The two children's shared absences (`sharedAbsences`): breaks beside, absences elsewhere, and the tails. */
export interface SharedAbsences {
  /** Breaks (their start) with a shared absence beside them. */
  breaks: Set<string>;
  /** Shared absences touching no holiday-adjacent day. */
  elsewhere: number;
  /**
   * Per shared absence beside a break, its days that are not holiday-adjacent (the third day of a
   * three-day extension with K = 2; the far days of a long illness touching a break): day numbers.
   */
  tails: number[][];
}

/**
 * The two children's shared days (beside breaks and elsewhere) joined into separate absences
 * (consecutive school days, a weekend bridged); one touching a holiday-adjacent day is beside that
 * break (however many such absences one break has, it is one break: an illness spanning a half term
 * stays one), any other is one absence elsewhere.
 */
export function sharedAbsences(
  adjacentDates: readonly string[],
  otherDays: readonly number[],
  da: ReadonlyMap<string, MemberAbsence[]>,
  db: ReadonlyMap<string, MemberAbsence[]>,
): SharedAbsences {
  const breakOf = new Map<number, string>();
  for (const d of adjacentDates) {
    const x = (da.get(d) ?? db.get(d) ?? [])[0];
    breakOf.set(dayNumber(d), x ? x.breakStart : d);
  }
  const days = [...new Set([...breakOf.keys(), ...otherDays])].sort((x, y) => x - y);
  const breaks = new Set<string>();
  const tails: number[][] = [];
  let elsewhere = 0;
  let spell: number[] = [];
  const close = () => {
    if (spell.length === 0) return;
    const beside = spell.filter((d) => breakOf.has(d)).map((d) => breakOf.get(d) as string);
    if (beside.length > 0) {
      for (const b of beside) breaks.add(b);
      tails.push(spell.filter((d) => !breakOf.has(d)));
    } else elsewhere++;
    spell = [];
  };
  for (const d of days) {
    const prev = spell[spell.length - 1];
    if (prev !== undefined && !(d - prev === 1 || (d - prev === 3 && isFriday(prev)))) close();
    spell.push(d);
  }
  close();
  return { breaks, elsewhere, tails };
}

/** Family findings from the members of every household (any order). */
export function familyFindings(members: readonly HouseholdMember[], settings: PatternSettings): FamilyFinding[] {
  const households = new Map<string, HouseholdMember[]>();
  for (const m of members) {
    const list = households.get(m.household);
    if (list) list.push(m);
    else households.set(m.household, [m]);
  }
  const findings: FamilyFinding[] = [];
  for (const [household, list] of [...households].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (list.length < 2) continue;
    const sorted = [...list].sort((x, y) => (x.upn < y.upn ? -1 : 1));
    const pairs: PairResult[] = [];
    for (let i = 0; i < sorted.length; i++) {
      for (let j = i + 1; j < sorted.length; j++) {
        const p = comparePair(sorted[i], sorted[j], settings);
        if (p) pairs.push(p);
      }
    }
    if (pairs.length === 0) continue;
    findings.push(familyFinding(household, pairs, settings));
  }
  return findings;
}

/** The sentence for children new to the LA this year (no register before it, though the window reaches back), or ''. */
function newToLa(children: readonly FamilyChild[]): string {
  const fresh = children.filter((c) => c.registersFrom);
  if (fresh.length === 0) return '';
  const since = fresh.map((c) => c.registersFrom as string).sort()[0];
  return fresh.length === children.length
    ? ` The LA holds no register for these children before ${spokenDate(since)}, so only this school year's absence was tested.`
    : ` The LA holds no register for ${fresh.length === 1 ? 'one of the children' : `${fresh.length} of the children`} before ${spokenDate(since)}, so only this school year's absence was tested for ${fresh.length === 1 ? 'that child' : 'them'}.`;
}

function familyFinding(household: string, pairs: PairResult[], settings: PatternSettings): FamilyFinding {
  const childDates = new Map<string, Set<string>>();
  const byUpn = new Map<string, HouseholdMember>();
  for (const p of pairs) {
    for (const m of [p.a, p.b]) {
      byUpn.set(m.upn, m);
      const set = childDates.get(m.upn) ?? new Set<string>();
      for (const d of p.dates) set.add(d);
      childDates.set(m.upn, set);
    }
  }
  const sharedDates = [...new Set(pairs.flatMap((p) => p.dates))].sort();
  const breaks: PairResult['breaks'] = [];
  for (const p of pairs)
    for (const b of p.breaks) if (!breaks.some((x) => x.start === b.start && x.end === b.end)) breaks.push(b);
  breaks.sort((x, y) => (x.start < y.start ? -1 : 1));
  const children: FamilyChild[] = [...byUpn.values()]
    .sort((x, y) => (x.upn < y.upn ? -1 : 1))
    .map((m) => {
      const dates = childDates.get(m.upn) as Set<string>;
      const sessions = m.absences
        .filter((a) => dates.has(a.date))
        .map(({ date, session, code, urn }) => ({ date, session, code, urn }));
      return {
        upn: m.upn,
        urn: sessions[sessions.length - 1]?.urn ?? m.urns[0],
        observed: m.observed,
        expected: m.expected,
        pValue: m.pValue,
        sessions,
        ...(m.registersFrom ? { registersFrom: m.registersFrom } : {}),
      };
    });
  const urns = [...new Set(children.flatMap((c) => c.sessions.map((s) => s.urn)))].sort();
  // The pair the finding is stated by: one whose shared days are beyond chance if any (the most shared
  // days), else one carried by each child's own evidence.
  const byShared = pairs.filter((p) => p.basis === 'shared');
  const best = (byShared.length > 0 ? byShared : pairs).reduce((x, y) => (y.dates.length > x.dates.length ? y : x));
  const ratio = best.dates.length / Math.max(best.expected, 1e-9);
  const eachP = best.a.pValue * best.b.pValue;
  const breakCount = distinctBreaks(breaks);
  const names = breakNames(breaks);
  const from = sharedDates[0];
  const to = sharedDates[sharedDates.length - 1];
  const together =
    `${children.length} children in this household, at ${urns.length} different schools, were absent together on ${sharedDates.length} school days ` +
    `next to ${breakCount} different holidays (${listOf(names)}) between ${spokenDate(from)} and ${spokenDate(to)}`;
  const explanation =
    (best.basis === 'shared'
      ? `${together}, when about ${about(best.expected)} such shared days would be expected if their absences next to holidays were unrelated (the chance of so many is ${oneIn(best.pValue)}).`
      : `${together}. Each child's own absence sits next to holidays more than chance explains (chances of ${oneIn(best.a.pValue)} and ${oneIn(best.b.pValue)}; ` +
        `both by chance, ${oneIn(eachP)}); they were off on so many of the days next to these holidays that about ${about(best.expected)} shared days would be expected anyway, so it is the children's own patterns, kept together, that are the evidence.`) +
    newToLa(children);
  return {
    type: 'family_pattern',
    urn: children[0].urn,
    from,
    to,
    observed: sharedDates.length,
    expected: best.expected,
    statistic:
      best.basis === 'shared'
        ? {
            name: 'school days two children at different schools were both absent next to a break, as a multiple of the number expected if their absences next to holidays were unrelated',
            value: ratio,
            threshold: settings.family.minRatio,
            flaggedWhen: 'at_least',
          }
        : {
            name: "the two children's own chances of so much absence next to holidays (each child's holiday-adjacent test), multiplied, for two children at different schools absent together next to breaks",
            value: eachP,
            threshold: settings.family.jointChildAlpha,
            flaggedWhen: 'at_most',
          },
    explanation,
    household,
    children,
    urns,
    sharedDates,
    breaks,
  };
}
