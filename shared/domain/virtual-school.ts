/**
 * The Virtual School (docs/design.md §1, §2.4, §4): looked-after children, previously looked-after children
 * and children with a social worker seen as one school, wherever they are educated.
 *
 * Everything here is date-effective. A child is in a cohort on a date when an LA social-care episode
 * covers it, or when a school that lists the child (between the first and last dates its returns
 * list them) states the flag on that date (the statement holds until a later row says otherwise).
 * Across schools the child's membership is the union, so the Virtual School's figures for a child
 * count only the sessions while the child was in the cohort — a child's absence before entering care
 * is not the Virtual School's.
 *
 * Rules:
 * - Daily alerts for a date: every absence (authorised or unauthorised code) of a child looked after
 *   on that date, with its code and school; every exclusion (`E`) of a child in any Virtual School
 *   cohort (cla, plac, cin, cpp) on that date; every session listed but not yet marked for a child
 *   looked after on that date; and every child who entered care in the last N days (the first day of
 *   a period of care from the LA's lists, not a placement change inside one), is still looked after,
 *   and has no register row dated on or after the day care began (their school has not yet sent a
 *   return covering it, or they are on no register at all this year).
 * - The termly summary for a Personal Education Plan: per census term, only the sessions on days the
 *   child was in the cohort (looked after by default); PA/SA on those sessions combined across
 *   schools (docs/design.md §2.2 "Across schools").
 */
import { CODE_OF_CHAR, isAbsence, NO_MARK, UNMARKED } from './codes.js';
import { COHORT_BIT, cohortMasksByDay, type CareEpisodeSpan } from './cohorts.js';
import {
  academicYearEnd,
  academicYearOf,
  academicYearStart,
  addDays,
  dateOfAcademicDay,
  dayNumber,
  dayOfAcademicYear,
  DAYS_PER_YEAR_SLOT,
  isWeekend,
  type Session,
} from './dates.js';
import { termPeriods, type Period } from './periods.js';
import type { Enrolment } from './pupil-summary.js';
import { CHARACTERISTICS, NOT_STATED, type Characteristic } from './register.js';
import {
  emptyCounts,
  INDEX_OF_CHAR,
  isPersistentAbsence,
  isSevereAbsence,
  totalsOf,
  toStats,
  type Stats,
} from './stats.js';

/** The cohorts the Virtual School works with, as accepted by its routes. */
export const VIRTUAL_SCHOOL_GROUPS = ['cla', 'plac', 'cin', 'cpp', 'social_worker', 'any'] as const;
/** `any` = in at least one of cla, plac, cin, cpp (the Virtual School's whole scope). */
export type VirtualSchoolGroup = (typeof VIRTUAL_SCHOOL_GROUPS)[number];

const CARE_BITS = COHORT_BIT.cla | COHORT_BIT.plac | COHORT_BIT.cin | COHORT_BIT.cpp | COHORT_BIT.social_worker;

/** Cohort bits a group stands for (a day counts when the child's mask has any of them). */
export function groupBits(group: VirtualSchoolGroup): number {
  return group === 'any' ? COHORT_BIT.cla | COHORT_BIT.plac | COHORT_BIT.cin | COHORT_BIT.cpp : COHORT_BIT[group];
}

/** One child as the Virtual School sees them: every enrolment held (any school, any year) and the LA's episodes. */
export interface VirtualSchoolChild {
  upn: string;
  enrolments: readonly Enrolment[];
  care: readonly CareEpisodeSpan[];
}

const NOTHING_STATED: Record<Characteristic, string> = Object.fromEntries(
  CHARACTERISTICS.map((c) => [c, NOT_STATED.repeat(DAYS_PER_YEAR_SLOT)]),
) as Record<Characteristic, string>;

function enrolmentsOf(child: VirtualSchoolChild, academicYear: number): Enrolment[] {
  return child.enrolments
    .filter((e) => e.academicYear === academicYear)
    .sort((a, b) => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0));
}

/**
 * The child's care-cohort bits (cla, plac, cin, cpp, social_worker) for each day slot of the year:
 * the LA's episodes on every day, plus each school's statements on the days that school lists the
 * child (a school's "cla = Y" says nothing about the months after the child left it).
 */
export function careMasks(child: VirtualSchoolChild, academicYear: number): Int32Array {
  const out = cohortMasksByDay(academicYear, NOTHING_STATED, child.care).map((m) => m & CARE_BITS);
  for (const e of enrolmentsOf(child, academicYear)) {
    const masks = cohortMasksByDay(academicYear, e.stated, child.care);
    const first = Math.max(0, dayOfAcademicYear(e.firstListed));
    const last = Math.min(DAYS_PER_YEAR_SLOT - 1, dayOfAcademicYear(e.lastListed));
    for (let d = first; d <= last; d++) out[d] |= masks[d] & CARE_BITS;
  }
  return out;
}

/** Positive care cohorts in a mask, in a stable order. */
export function careCohortsOf(mask: number): string[] {
  return (['cla', 'plac', 'cin', 'cpp'] as const).filter((c) => (mask & COHORT_BIT[c]) !== 0);
}

// ---- Entering care ----------------------------------------------------------------------------------

function coveredBy(spans: readonly CareEpisodeSpan[], date: string): boolean {
  return spans.some((e) => e.start <= date && (e.end === undefined || e.end >= date));
}

/**
 * Dates in [from, to] on which the child began a period of care (cla) in the LA's lists: an
 * episode's start on a day after one not covered by any cla episode. A placement change (a new
 * episode starting the day after the previous one ends, or overlapping it) is not entering care.
 */
export function careEntries(care: readonly CareEpisodeSpan[], from: string, to: string): string[] {
  const cla = care.filter((e) => e.cohort === 'cla' && (e.end === undefined || e.end >= e.start));
  const starts = new Set<string>();
  for (const e of cla) {
    if (e.start < from || e.start > to) continue;
    if (!coveredBy(cla, addDays(e.start, -1))) starts.add(e.start);
  }
  return [...starts].sort();
}

// ---- Daily alerts -----------------------------------------------------------------------------------

export const ALERT_TYPES = ['exclusion', 'absence', 'unmarked', 'new_in_care'] as const;
export type AlertType = (typeof ALERT_TYPES)[number];

export interface VirtualSchoolAlert {
  type: AlertType;
  upn: string;
  /** The alert date (for new_in_care: the date asked about). */
  date: string;
  session?: Session;
  code?: string;
  /** The school whose register holds the mark; for new_in_care the school that last listed the child, if any. */
  urn?: string;
  /** Care cohorts the child was in on the date. */
  cohorts: string[];
  /** new_in_care: the day care began. */
  careStart?: string;
  /** new_in_care: why no return covers the child since care began. */
  reason?: 'not_on_any_register' | 'no_return_since_care_began';
  /** new_in_care: the last date any school listed the child, if ever. */
  lastListed?: string;
}

export interface AlertOptions {
  /** A care period starting in the last N days (the alert date and the N − 1 days before it) is "new". */
  newInCareDays: number;
}

export const DEFAULT_NEW_IN_CARE_DAYS = 14;

/**
 * The day the alerts are about when none is asked for: the latest weekday before `today` that is
 * not a bank holiday (on a Monday, the previous Friday).
 */
export function defaultAlertDate(
  today: string,
  bankHolidays: ReadonlyMap<string, string> | ReadonlySet<string> = new Set(),
): string {
  let d = addDays(today, -1);
  for (let i = 0; i < 30 && (isWeekend(d) || bankHolidays.has(d)); i++) d = addDays(d, -1);
  return d;
}

const ORDER: Record<AlertType, number> = { exclusion: 0, absence: 1, unmarked: 2, new_in_care: 3 };

/** Whether any enrolment of the child holds a row (a mark or "not yet marked") on a date in [from, to]. */
function listedBetween(enrolments: readonly Enrolment[], from: string, to: string): boolean {
  for (const e of enrolments) {
    const yFrom = from > academicYearStart(e.academicYear) ? from : academicYearStart(e.academicYear);
    const yTo = to < academicYearEnd(e.academicYear) ? to : academicYearEnd(e.academicYear);
    if (yFrom > yTo) continue;
    const start = dayOfAcademicYear(yFrom) * 2;
    const end = dayOfAcademicYear(yTo) * 2 + 1;
    for (let s = start; s <= end; s++) if (e.marks[s] !== NO_MARK) return true;
  }
  return false;
}

export function dailyAlerts(
  date: string,
  children: Iterable<VirtualSchoolChild>,
  options: AlertOptions,
): VirtualSchoolAlert[] {
  const year = academicYearOf(date);
  const day = dayOfAcademicYear(date);
  const windowFrom = addDays(date, -(Math.max(1, options.newInCareDays) - 1));
  const alerts: VirtualSchoolAlert[] = [];
  for (const child of children) {
    const entries = careEntries(child.care, windowFrom, date);
    const thisYear = enrolmentsOf(child, year);
    // Most children have nothing that day: skip the cohort arithmetic for them.
    if (entries.length === 0 && !thisYear.some((e) => e.marks[day * 2] !== NO_MARK || e.marks[day * 2 + 1] !== NO_MARK))
      continue;
    const mask = careMasks(child, year)[day];
    const cohorts = careCohortsOf(mask);
    const lookedAfter = (mask & COHORT_BIT.cla) !== 0;
    const inVirtualSchool = (mask & groupBits('any')) !== 0;
    for (const e of thisYear) {
      for (const [offset, session] of [
        [0, 'AM'],
        [1, 'PM'],
      ] as const) {
        const ch = e.marks[day * 2 + offset];
        if (ch === UNMARKED) {
          if (lookedAfter) alerts.push({ type: 'unmarked', upn: child.upn, date, session, urn: e.urn, cohorts });
          continue;
        }
        const code = CODE_OF_CHAR[ch];
        if (code === undefined) continue;
        if (code === 'E') {
          if (inVirtualSchool)
            alerts.push({ type: 'exclusion', upn: child.upn, date, session, code, urn: e.urn, cohorts });
        } else if (lookedAfter && isAbsence(code)) {
          alerts.push({ type: 'absence', upn: child.upn, date, session, code, urn: e.urn, cohorts });
        }
      }
    }
    // Entering care: only the LA's lists say when care began; the child must still be looked after.
    const careNow = coveredBy(
      child.care.filter((e) => e.cohort === 'cla'),
      date,
    );
    if (entries.length > 0 && careNow) {
      const careStart = entries[entries.length - 1];
      if (!listedBetween(child.enrolments, careStart, date)) {
        const latest = [...child.enrolments].sort((a, b) =>
          a.lastListed < b.lastListed ? 1 : a.lastListed > b.lastListed ? -1 : a.urn < b.urn ? -1 : 1,
        )[0];
        alerts.push({
          type: 'new_in_care',
          upn: child.upn,
          date,
          cohorts,
          careStart,
          reason: thisYear.length === 0 ? 'not_on_any_register' : 'no_return_since_care_began',
          ...(latest ? { urn: latest.urn, lastListed: latest.lastListed } : {}),
        });
      }
    }
  }
  return alerts.sort(
    (a, b) =>
      ORDER[a.type] - ORDER[b.type] ||
      cmp(a.urn ?? '', b.urn ?? '') ||
      cmp(a.upn, b.upn) ||
      cmp(a.session ?? '', b.session ?? ''),
  );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---- Figures while in the cohort ----------------------------------------------------------------------

export interface InCohortFigures {
  /** Per-code session counts on the days in the cohort, all schools. */
  counts: number[];
  /** Per school, in URN order: only schools with a row on a day in the cohort. */
  bySchool: Array<{ urn: string; counts: number[] }>;
  /** Calendar days in [from, to] on which the child was in the cohort. */
  daysInCohort: number;
  /** The in-cohort days as date ranges (inclusive). */
  spans: Array<{ from: string; to: string }>;
  /** Sessions coded E, with date, session and school. */
  exclusions: Array<{ date: string; session: Session; urn: string }>;
  /** Sessions listed but not yet marked on days in the cohort. */
  unmarkedSessions: number;
}

/**
 * The child's sessions in [from, to] (within one academic year) on the days they were in `group`,
 * across all their schools that year.
 */
export function inCohortFigures(
  child: VirtualSchoolChild,
  academicYear: number,
  group: VirtualSchoolGroup,
  from: string,
  to: string,
  masks: Int32Array = careMasks(child, academicYear),
): InCohortFigures {
  const bits = groupBits(group);
  const yStart = academicYearStart(academicYear);
  const yEnd = academicYearEnd(academicYear);
  const fromDay = dayNumber(from < yStart ? yStart : from) - dayNumber(yStart);
  const toDay = dayNumber(to > yEnd ? yEnd : to) - dayNumber(yStart);
  const inDay = (d: number) => (masks[d] & bits) !== 0;

  const spans: Array<{ from: string; to: string }> = [];
  let daysInCohort = 0;
  for (let d = fromDay; d <= toDay; d++) {
    if (!inDay(d)) continue;
    daysInCohort++;
    const date = dateOfAcademicDay(academicYear, d);
    const last = spans[spans.length - 1];
    if (last && last.to === addDays(date, -1)) last.to = date;
    else spans.push({ from: date, to: date });
  }

  const counts = Array.from(emptyCounts());
  const bySchool: InCohortFigures['bySchool'] = [];
  const exclusions: InCohortFigures['exclusions'] = [];
  let unmarkedSessions = 0;
  for (const e of enrolmentsOf(child, academicYear)) {
    const own = Array.from(emptyCounts());
    let listed = false;
    for (let d = fromDay; d <= toDay; d++) {
      if (!inDay(d)) continue;
      for (let s = d * 2; s <= d * 2 + 1; s++) {
        const ch = e.marks[s];
        if (ch === NO_MARK) continue;
        listed = true;
        if (ch === UNMARKED) {
          unmarkedSessions++;
          continue;
        }
        const ix = INDEX_OF_CHAR[ch.charCodeAt(0)];
        if (ix < 0) continue;
        own[ix]++;
        counts[ix]++;
        if (CODE_OF_CHAR[ch] === 'E')
          exclusions.push({ date: dateOfAcademicDay(academicYear, d), session: s & 1 ? 'PM' : 'AM', urn: e.urn });
      }
    }
    if (listed) bySchool.push({ urn: e.urn, counts: own });
  }
  exclusions.sort((a, b) => cmp(a.date, b.date) || cmp(a.session, b.session) || cmp(a.urn, b.urn));
  return { counts, bySchool, daysInCohort, spans, exclusions, unmarkedSessions };
}

/** Absence and possible sessions of per-code counts, and the PA/SA thresholds on them. */
function absenceThresholds(counts: readonly number[]): { persistentAbsence: boolean; severeAbsence: boolean } {
  const t = totalsOf(counts as number[]);
  const absence = t.authorised + t.unauthorised;
  return {
    persistentAbsence: isPersistentAbsence(absence, t.possible),
    severeAbsence: isSevereAbsence(absence, t.possible),
  };
}

// ---- Personal Education Plan: the termly summary ---------------------------------------------------------

export interface PepSchoolFigures {
  urn: string;
  stats: Stats;
  persistentAbsence: boolean;
  severeAbsence: boolean;
}

export interface PepTerm {
  term: string;
  label: string;
  from: string;
  to: string;
  /** Calendar days of the term in the cohort, and those days as ranges. */
  daysInCohort: number;
  inCohort: Array<{ from: string; to: string }>;
  stats: Stats;
  persistentAbsence: boolean;
  severeAbsence: boolean;
  exclusionSessions: number;
  exclusions: Array<{ date: string; session: Session; urn: string }>;
  unmarkedSessions: number;
  schools: PepSchoolFigures[];
}

export interface PepSummary {
  upn: string;
  academicYear: number;
  cohort: VirtualSchoolGroup;
  terms: PepTerm[];
}

/** Census terms of the year (all, or the one named). */
function pepTerms(academicYear: number, term?: string): Period[] {
  const all = termPeriods(academicYear);
  return term ? all.filter((p) => p.id === term) : all;
}

export function pepSummary(
  child: VirtualSchoolChild,
  academicYear: number,
  options: { cohort?: VirtualSchoolGroup; term?: string } = {},
): PepSummary {
  const cohort = options.cohort ?? 'cla';
  const masks = careMasks(child, academicYear);
  const terms = pepTerms(academicYear, options.term).map((p): PepTerm => {
    const f = inCohortFigures(child, academicYear, cohort, p.from, p.to, masks);
    const stats = toStats(f.counts);
    return {
      term: p.id,
      label: p.label,
      from: p.from,
      to: p.to,
      daysInCohort: f.daysInCohort,
      inCohort: f.spans,
      stats,
      ...absenceThresholds(f.counts),
      exclusionSessions: f.exclusions.length,
      exclusions: f.exclusions,
      unmarkedSessions: f.unmarkedSessions,
      schools: f.bySchool.map((s) => ({ urn: s.urn, stats: toStats(s.counts), ...absenceThresholds(s.counts) })),
    };
  });
  return { upn: child.upn, academicYear, cohort, terms };
}

// ---- The Virtual School's roll -----------------------------------------------------------------------

export interface RollEntry {
  upn: string;
  /** Care cohorts at any time in the period, and on its last day. */
  everCohorts: string[];
  cohortsAtEnd: string[];
  /** Whether any school's register lists the child this academic year. */
  onRegister: boolean;
  /** Schools with a row for the child while in the group in the period. */
  urns: string[];
  counts: number[];
  persistentAbsence: boolean;
  severeAbsence: boolean;
  daysInCohort: number;
}

/**
 * The child's line on the Virtual School's roll for [from, to] and a group, or undefined when the
 * child was not in the group on any day of the period.
 */
export function rollEntry(
  child: VirtualSchoolChild,
  academicYear: number,
  group: VirtualSchoolGroup,
  from: string,
  to: string,
): RollEntry | undefined {
  const masks = careMasks(child, academicYear);
  const f = inCohortFigures(child, academicYear, group, from, to, masks);
  if (f.daysInCohort === 0) return undefined;
  const yStart = academicYearStart(academicYear);
  const fromDay = Math.max(0, dayNumber(from) - dayNumber(yStart));
  const toDay = Math.min(
    DAYS_PER_YEAR_SLOT - 1,
    dayNumber(to > academicYearEnd(academicYear) ? academicYearEnd(academicYear) : to) - dayNumber(yStart),
  );
  let ever = 0;
  for (let d = fromDay; d <= toDay; d++) ever |= masks[d];
  return {
    upn: child.upn,
    everCohorts: careCohortsOf(ever),
    cohortsAtEnd: careCohortsOf(masks[toDay]),
    onRegister: enrolmentsOf(child, academicYear).length > 0,
    urns: f.bySchool.map((s) => s.urn),
    counts: f.counts,
    ...absenceThresholds(f.counts),
    daysInCohort: f.daysInCohort,
  };
}

// ---- Schools know their looked-after pupils (issue 20) -------------------------------------------

/**
 * The date on which "does the LA look after this child" is asked for an academic year: today for the
 * current year, else the year's last day (a past year's list says who was looked after as it ended).
 */
export function lookedAfterAsOf(academicYear: number, today: string): string {
  return academicYear === academicYearOf(today) ? today : academicYearEnd(academicYear);
}

/** Whether the LA's own lists (SSDA903 or cohort CSV episodes) say it looks after the child on `date`. */
export function isLookedAfterOn(care: readonly CareEpisodeSpan[], date: string): boolean {
  return care.some((e) => e.cohort === 'cla' && e.start <= date && (e.end === undefined || e.end >= date));
}
