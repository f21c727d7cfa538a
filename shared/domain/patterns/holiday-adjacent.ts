/**
 * Detector 1, holiday-adjacent absence (docs/design.md §2.6): a pupil whose absence sessions fall on the
 * K school days either side of their school's breaks far more than chance predicts, repeatedly.
 *
 * Sessions in the test (decided here; the design names R, E, C2 and not-possible codes):
 * - counted absence: I (illness), M (medical), G (holiday), N (no reason yet), O (other unauthorised)
 *   — the codes a holiday can hide behind;
 * - in the test but never absence: attendance, approved activity and U (late after registers closed:
 *   the pupil was in school);
 * - left out entirely (neither a trial nor a hit): R, E, C2 (docs/design.md), the other authorised reasons the
 *   school itself granted or that are no parent's choice (C, C1, J1, S, T, legacy H and F), and every
 *   not-possible or administrative code.
 * The test looks at the 12 months to the run's last day (`analysisWindow`, settings `windowMonths`;
 * issue 21): last year's breaks count, and a pupil with no register before this academic year is
 * tested on this year alone, which the finding states (`registersFrom`).
 * Holiday-adjacency comes from the school whose mark it is (each school's own breaks, from its own
 * register, enriched by the LA calendar and bank holidays: calendar.ts), so academies keep their dates.
 *
 * A finding needs all of:
 * - at least `minSessions` counted sessions on adjacent days (one sick day is 2: never a flag alone);
 * - at least `minBreaks` different breaks each with at least 2 such sessions (one illness spanning a
 *   half term touches one break: never a flag); a break seen from two schools counts once;
 * - observed ≥ `minRatio` × expected (the excess must be large, not only significant — absence rises
 *   before half terms for everyone);
 * - at least `minAbsencesBeside` (4) separate absences beside breaks more than the pupil's other
 *   separate absences (`netAbsencesBeside`; issue 21, third pass): an absence that fills the K school
 *   days on both sides of a break counts two (a holiday taken both sides; fourth pass), one of exactly
 *   one school day 0.8 (`singleDayCounts`; seventh pass: four lone days beside breaks are not a
 *   finding, five are), any other absence beside breaks one (a lone half day none), so one illness
 *   spanning a break is at most two; a pupil with two or
 *   three short absences in 12 months that all happen to fall beside breaks is as common by chance as
 *   a family that extends its holidays — no p-value can tell them apart;
 * - the exact spell-placement test (placement.ts) at p ≤ `fittedAlpha` when its null is fitted to the
 *   LA's own rise in absence before breaks (rise.ts: each absence placed with the LA's start rates
 *   beside breaks, never less cautious than uniform), else at p ≤ `alpha` (the uniform null).
 */
import { CODE_CATEGORY, MARK_CHAR } from '../codes.js';
import {
  academicYearOf,
  academicYearStart,
  addDays,
  dayNumber,
  fromDayNumber,
  minDate,
  SESSIONS_PER_YEAR_SLOT,
} from '../dates.js';
import type { SchoolYearAdjacency } from '../calendar.js';
import { sessionEvidence, type PupilTimeline } from '../school-weeks.js';
import { oneIn } from './binomial.js';
import type { BreakEvidence, HolidayAdjacentFinding, SessionEvidence } from './findings.js';
import { placementTest, spellsOf, type PlacementTest, type Spell } from './placement.js';
import { positionOfDay } from './rise.js';
import type { PatternSettings } from './settings.js';
import { about, breakNames, listOf, plural, spokenDate } from './wording.js';

/** Codes whose sessions count as absence that could hide a holiday. */
export const HOLIDAY_SIGNAL_CODES: readonly string[] = ['I', 'M', 'G', 'N', 'O'];
/** Possible sessions that are in the test but are never counted absence. */
const NEUTRAL_CODES: readonly string[] = Object.entries(CODE_CATEGORY)
  .filter(([code, cat]) => cat === 'present' || cat === 'approved_activity' || code === 'U')
  .map(([code]) => code);

/** Per stored mark char code: 2 counted absence, 1 in the test, 0 left out. */
export const HOLIDAY_TEST_CLASS: Uint8Array = (() => {
  const t = new Uint8Array(128);
  for (const c of NEUTRAL_CODES) t[MARK_CHAR[c].charCodeAt(0)] = 1;
  for (const c of HOLIDAY_SIGNAL_CODES) t[MARK_CHAR[c].charCodeAt(0)] = 2;
  return t;
})();

/** Holiday adjacency per `${academicYear}#${urn}` (calendar.ts `schoolYearAdjacency`). */
export type AdjacencyByKey = ReadonlyMap<string, SchoolYearAdjacency>;

export function adjacencyKey(academicYear: number, urn: string): string {
  return `${academicYear}#${urn}`;
}

/** A period of dates, inclusive. */
export interface Period {
  from: string;
  to: string;
}

/**
 * The dates the holiday-adjacent test looks at for a run over `period`: the `months` months ending on
 * its last day (`windowMonths`; issue 21), never less than the period itself; 0 months: the period.
 */
export function analysisWindow(period: Period, months: number): Period {
  if (months <= 0) return period;
  const [y, m, d] = period.to.split('-').map(Number);
  const back = y * 12 + (m - 1) - months;
  const year = Math.floor(back / 12);
  const month = (back % 12) + 1;
  const lastOfMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const sameDay = `${year}-${String(month).padStart(2, '0')}-${String(Math.min(d, lastOfMonth)).padStart(2, '0')}`;
  return { from: minDate(period.from, addDays(sameDay, 1)), to: period.to };
}

/** One counted absence session on a holiday-adjacent day, with its break. */
export interface AdjacentAbsence {
  slot: number;
  /** Index of the session among the pupil's tested sessions (the test's sequence), to find its separate absence. */
  unit?: number;
  day: number;
  urn: string;
  breakStart: string;
  breakEnd: string;
  breakLabel: string | null;
}

/** One separate absence touching a break (HolidayAdjacencyAnalysis.besideBreaks). */
export interface BesideBreak {
  sessions: number;
  sides: number;
  /** Evidence it counts for: 2 fills both sides of a break, 1 any other absence of a day or more, 0 a half day. */
  counts: 0 | 1 | 2;
}

/** A pupil's holiday-adjacency figures for a period, whether or not they make a finding. */
export interface HolidayAdjacencyAnalysis {
  /** Sessions in the test, of which holiday-adjacent, and counted absence sessions. */
  possibleSessions: number;
  adjacentSessions: number;
  absenceSessions: number;
  /** Counted absence sessions on adjacent days, in date order. */
  adjacentAbsences: AdjacentAbsence[];
  /** Different breaks with at least 2 adjacent absence sessions (overlapping breaks at two schools count once). */
  breaksWithAbsence: number;
  /** Different breaks with any adjacent absence session. */
  breaksTouched: number;
  /** Day numbers with a counted absence session that is NOT holiday-adjacent (for the family pass's shared-days test). */
  otherAbsenceDays: number[];
  /**
   * The pupil's separate absences (runs of counted absence in their own tested sessions) that touch a
   * break, one entry each: its length in sessions, the sides of breaks it sits on (before, after; a
   * run on both sides of one break — an illness spanning it or an extension both ways — has two), and
   * the evidence it counts for (`counts`): 2 when it fills the K school days on both sides of a break
   * (every session of them: the shape of a holiday taken both sides), else 1.
   */
  besideBreaks: BesideBreak[];
  /** The exact test; null when the pupil cannot matter (fewer than 3 adjacent sessions or one break). */
  test: PlacementTest | null;
  /** The LA's rise in absence starts beside breaks the test's null allowed for (rise.ts), or null (uniform). */
  rise?: readonly number[] | null;
  firstDay: number;
  lastDay: number;
  /** The dates tested (the run's window: analysisWindow). */
  window?: Period;
}

/** Number of groups of overlapping [start, end] ranges (ISO dates compare as strings). */
export function distinctBreaks(ranges: ReadonlyArray<{ start: string; end: string }>): number {
  const sorted = [...ranges].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  let groups = 0;
  let end = '';
  for (const r of sorted) {
    if (groups === 0 || r.start > end) {
      groups++;
      end = r.end;
    } else if (r.end > end) {
      end = r.end;
    }
  }
  return groups;
}

/** Reused buffers: the analysis runs for every pupil of the LA. */
let unitAdjacent = new Uint8Array(4 * SESSIONS_PER_YEAR_SLOT);
let unitAbsent = new Uint8Array(4 * SESSIONS_PER_YEAR_SLOT);
let unitWeight = new Uint8Array(4 * SESSIONS_PER_YEAR_SLOT);
let unitStart = new Float64Array(4 * SESSIONS_PER_YEAR_SLOT);

/**
 * The pupil's holiday-adjacency figures over `period` from their merged timeline (all schools).
 * `rise` (rise.ts `laAdjacencyRise`): the LA's start rate of absence per position beside a break,
 * relative to other days; the test's null places absences with those rates (null: uniformly).
 */
export function analyseHolidayAdjacency(
  t: PupilTimeline,
  adjacency: AdjacencyByKey,
  period: Period,
  rise: readonly number[] | null = null,
): HolidayAdjacencyAnalysis {
  const fromDay = dayNumber(period.from);
  const toDay = dayNumber(period.to);
  const size = t.years * SESSIONS_PER_YEAR_SLOT;
  if (unitAdjacent.length < size) {
    unitAdjacent = new Uint8Array(size);
    unitAbsent = new Uint8Array(size);
    unitWeight = new Uint8Array(size);
    unitStart = new Float64Array(size);
  }
  // Adjacency per (year, school index), looked up once.
  const lookups: Array<SchoolYearAdjacency | null | undefined> = new Array(t.years * Math.max(1, t.urns.length));
  const lookup = (y: number, s: number): SchoolYearAdjacency | null => {
    const i = y * t.urns.length + s;
    let a = lookups[i];
    if (a === undefined) {
      a = adjacency.get(adjacencyKey(t.firstYear + y, t.urns[s])) ?? null;
      lookups[i] = a;
    }
    return a;
  };

  // Positions beside breaks (rise.ts) per (year, school index), for the fitted null only.
  const positions: Array<Uint8Array | undefined> = rise ? new Array(lookups.length) : [];
  const positionsOf = (y: number, s: number): Uint8Array => {
    const i = y * t.urns.length + s;
    let p = positions[i];
    if (!p) {
      p = positionOfDay(lookup(y, s) as SchoolYearAdjacency);
      positions[i] = p;
    }
    return p;
  };

  let n = 0;
  let adjacentSessions = 0;
  let absenceSessions = 0;
  let firstDay = -1;
  let lastDay = -1;
  const adjacentAbsences: AdjacentAbsence[] = [];
  const otherAbsenceDays: number[] = [];
  // K of the schools' adjacency (the LA's setting, the same for every school).
  let k = 0;
  for (let y = 0; y < t.years; y++) {
    const base = y * SESSIONS_PER_YEAR_SLOT;
    const len = t.yearLength[y];
    const startDay = t.yearStartDay[y];
    const lo = Math.max(0, fromDay - startDay);
    const hi = Math.min(len - 1, toDay - startDay);
    for (let d = lo; d <= hi; d++) {
      for (let s = base + d * 2; s <= base + d * 2 + 1; s++) {
        const cls = HOLIDAY_TEST_CLASS[t.marks[s]];
        if (cls === 0) continue;
        const adj = lookup(y, t.school[s]);
        const b = adj ? adj.breakOfDay[d] : -1;
        unitAdjacent[n] = b >= 0 ? 1 : 0;
        // Closer to the break scores more: K + 1 − distance (K = 2: the day next to it 2, the one before 1).
        unitWeight[n] = b >= 0 && adj ? adj.k + 1 - adj.distanceOfDay[d] : 0;
        unitAbsent[n] = cls === 2 ? 1 : 0;
        if (rise) unitStart[n] = b >= 0 && adj ? (rise[positionsOf(y, t.school[s])[d]] ?? 1) : 1;
        n++;
        if (b >= 0) adjacentSessions++;
        if (cls === 2) {
          absenceSessions++;
          if (b >= 0 && adj) {
            const br = adj.breaks[b];
            k = adj.k;
            adjacentAbsences.push({
              slot: s,
              unit: n - 1,
              day: startDay + d,
              urn: adj.urn,
              breakStart: br.start,
              breakEnd: br.end,
              breakLabel: br.label,
            });
          } else if (otherAbsenceDays[otherAbsenceDays.length - 1] !== startDay + d) {
            otherAbsenceDays.push(startDay + d);
          }
        }
        if (firstDay < 0) firstDay = startDay + d;
        lastDay = startDay + d;
      }
    }
  }

  const perBreak = new Map<string, { start: string; end: string; sessions: number }>();
  for (const a of adjacentAbsences) {
    const key = `${a.urn}#${a.breakStart}`;
    const e = perBreak.get(key);
    if (e) e.sessions++;
    else perBreak.set(key, { start: a.breakStart, end: a.breakEnd, sessions: 1 });
  }
  const breaksTouched = distinctBreaks([...perBreak.values()]);
  const breaksWithAbsence = distinctBreaks([...perBreak.values()].filter((b) => b.sessions >= 2));
  const spells = spellsOf(unitAbsent, n);
  const test =
    adjacentAbsences.length >= 3 && breaksTouched >= 2
      ? placementTest(unitAdjacent, n, spells, unitWeight, rise ? unitStart : undefined)
      : null;
  return {
    possibleSessions: n,
    adjacentSessions,
    absenceSessions,
    adjacentAbsences,
    otherAbsenceDays,
    breaksWithAbsence,
    breaksTouched,
    besideBreaks: absencesBesideBreaks(spells, adjacentAbsences, k),
    test,
    rise,
    firstDay,
    lastDay,
    window: period,
  };
}

/**
 * Each separate absence touching a break: its length, the sides of breaks it sits on, and what it
 * counts for (both in unit order). It counts 2 only when it holds every session of the K school days
 * before a break and of the K after it (2K sessions each side): an extension taken whole on both sides.
 * A run that merely touches both sides (a day before and a day after, or one side interrupted by a
 * session left out of the test) counts 1, as one illness spanning the break does; a single session
 * (half a day) counts 0 — neither evidence beside a break nor another absence.
 */
function absencesBesideBreaks(
  spells: readonly Spell[],
  absences: readonly AdjacentAbsence[],
  k: number,
): BesideBreak[] {
  const out: BesideBreak[] = [];
  let i = 0;
  for (const spell of spells) {
    const end = spell.start + spell.length;
    while (i < absences.length && (absences[i].unit ?? 0) < spell.start) i++;
    // Sessions per side of each break (`${urn}#${breakStart}` → [before, after]).
    const sides = new Map<string, [number, number]>();
    for (; i < absences.length && (absences[i].unit ?? 0) < end; i++) {
      const a = absences[i];
      const key = `${a.urn}#${a.breakStart}`;
      const s = sides.get(key) ?? [0, 0];
      s[a.day < dayNumber(a.breakStart) ? 0 : 1]++;
      sides.set(key, s);
    }
    if (sides.size === 0) continue;
    let sideCount = 0;
    let filled = false;
    for (const [before, after] of sides.values()) {
      sideCount += (before > 0 ? 1 : 0) + (after > 0 ? 1 : 0);
      if (k > 0 && before >= 2 * k && after >= 2 * k) filled = true;
    }
    // A lone session (half a day: an appointment) is no evidence either way; an extension is whole days.
    out.push({ sessions: spell.length, sides: sideCount, counts: filled ? 2 : spell.length > 1 ? 1 : 0 });
  }
  return out;
}

/** Whether the analysis meets every condition of a holiday-adjacent finding. */
export function isHolidayAdjacentPattern(a: HolidayAdjacencyAnalysis, settings: PatternSettings): boolean {
  const s = settings.holidayAdjacent;
  if (!a.test) return false;
  return (
    a.test.observed >= s.minSessions &&
    a.breaksWithAbsence >= s.minBreaks &&
    a.test.observed >= s.minRatio * a.test.expected &&
    // A tolerance: single days count 0.8 each, and five of them must reach 4.
    netAbsencesBeside(a, s.singleDayCounts) >= s.minAbsencesBeside - 1e-9 &&
    a.test.pValue <= holidayAdjacentAlpha(a, settings)
  );
}

/**
 * The evidence beside breaks less the pupil's other separate absences (each absence away from the
 * breaks cancels one beside them): each separate absence beside a break counts 1, 2 when it fills
 * the K school days on both sides of one (`counts`: a holiday taken both sides is two sides of
 * evidence; one illness spanning a break counts at most 2, never the 4 a finding needs), 0 when it
 * is a single session (a half-day appointment beside a break is not an extension). An absence of
 * exactly one school day counts `singleDayCounts` (0.8 by default; 1 when not given): four lone days
 * beside breaks and nothing else are as common by chance as a habit (issue 21, seventh pass).
 */
export function netAbsencesBeside(a: HolidayAdjacencyAnalysis, singleDayCounts = 1): number {
  const spells = a.test?.spells ?? a.besideBreaks.length;
  const beside = a.besideBreaks.reduce((sum, b) => sum + (isSingleDay(b) ? singleDayCounts : b.counts), 0);
  return beside - (spells - a.besideBreaks.length);
}

/**
 * A separate absence of exactly one school day (2 sessions) that counts 1: the weakest evidence beside
 * a break and the commonest by chance (`singleDayCounts`; issue 21, seventh pass).
 */
export function isSingleDay(b: BesideBreak): boolean {
  return b.counts === 1 && b.sessions === 2;
}

/** The p-value threshold that applies to the analysis: `fittedAlpha` when its null allowed for the LA's rise, else `alpha`. */
function holidayAdjacentAlpha(a: HolidayAdjacencyAnalysis, settings: PatternSettings): number {
  return a.rise ? settings.holidayAdjacent.fittedAlpha : settings.holidayAdjacent.alpha;
}

/** The adjacent absence sessions grouped by break (per school calendar), in date order. */
function breakEvidence(t: PupilTimeline, absences: readonly AdjacentAbsence[]): BreakEvidence[] {
  const byBreak = new Map<string, BreakEvidence>();
  for (const a of absences) {
    const key = `${a.urn}#${a.breakStart}`;
    let e = byBreak.get(key);
    if (!e) {
      e = { urn: a.urn, start: a.breakStart, end: a.breakEnd, label: a.breakLabel, sessions: [] };
      byBreak.set(key, e);
    }
    e.sessions.push(sessionEvidence(t, a.slot));
  }
  return [...byBreak.values()].sort((x, y) => (x.start < y.start ? -1 : x.start > y.start ? 1 : 0));
}

/** The fitted rise on the K school days before a break (their mean), for the explanation. */
function riseBefore(rise: readonly number[], k: number): number {
  const before = rise.slice(1, k + 1);
  return before.reduce((x, y) => x + y, 0) / Math.max(1, before.length);
}

/** The finding for a pupil, or null when the pattern is not there (every condition in the module comment). */
export function holidayAdjacentFinding(
  upn: string,
  t: PupilTimeline,
  analysis: HolidayAdjacencyAnalysis,
  settings: PatternSettings,
): HolidayAdjacentFinding | null {
  if (!isHolidayAdjacentPattern(analysis, settings)) return null;
  const test = analysis.test as PlacementTest;
  const breaks = breakEvidence(t, analysis.adjacentAbsences);
  const sessions: SessionEvidence[] = breaks.flatMap((b) => b.sessions);
  const urns = [...new Set(sessions.map((s) => s.urn))];
  const from = fromDayNumber(analysis.firstDay);
  const to = fromDayNumber(analysis.lastDay);
  const names = breakNames(breaks);
  const k = settings.holidayAdjacentDays;
  const onlySince = thisYearOnly(t, analysis);
  const explanation =
    `${test.observed} of this pupil's ${plural(analysis.absenceSessions, 'absence session')} between ${spokenDate(from)} and ${spokenDate(to)} ` +
    `fell on the ${k === 1 ? 'school day' : `${k} school days`} either side of a school holiday, next to ${analysis.breaksTouched} different holidays ` +
    `(${listOf(names)}), when about ${about(test.expected)} would be expected from how many of their school sessions fall on such days` +
    (analysis.rise && riseBefore(analysis.rise, k) >= 1.05
      ? ` and how much more often absence starts just before a holiday across the LA (${riseBefore(analysis.rise, k).toFixed(1)} times as often on the ${k === 1 ? 'school day' : `${k} school days`} before a break as on other days); `
      : '; ') +
    `the chance of so many by coincidence is ${oneIn(test.pValue)}.` +
    (onlySince
      ? ` The LA holds no register for this pupil before ${spokenDate(onlySince)}, so only this school year's absence was tested.`
      : '');
  return {
    type: 'holiday_adjacent_absence',
    upn,
    urn: sessions[sessions.length - 1]?.urn ?? t.urns[0],
    urns,
    from,
    to,
    observed: test.observed,
    expected: test.expected,
    statistic: {
      name: "exact p-value: chance of at least this many absence sessions next to holidays if the pupil's separate absences fell at random among their school sessions",
      value: test.pValue,
      threshold: holidayAdjacentAlpha(analysis, settings),
      flaggedWhen: 'at_most',
    },
    explanation,
    absenceSessions: analysis.absenceSessions,
    possibleSessions: analysis.possibleSessions,
    adjacentSessions: analysis.adjacentSessions,
    spells: test.spells,
    adjacentSpells: test.adjacentSpells,
    breaks,
    ...(analysis.window ? { window: analysis.window } : {}),
    ...(onlySince ? { registersFrom: onlySince } : {}),
  };
}

/**
 * When the window reaches back into last school year but the pupil has no register there (new to the
 * LA this year), the first date they are on a register; else null.
 */
export function thisYearOnly(t: PupilTimeline, analysis: HolidayAdjacencyAnalysis): string | null {
  const w = analysis.window;
  if (!w || analysis.firstDay < 0) return null;
  const yearStart = academicYearStart(academicYearOf(w.to));
  if (w.from >= yearStart || t.firstYear < academicYearOf(w.to)) return null;
  return fromDayNumber(analysis.firstDay);
}
