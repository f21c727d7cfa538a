/**
 * The LA's view of one pupil across all their schools (docs/design.md §2.2 "Across schools"): counts are
 * summed over the pupil's enrolments in the academic year, then the PA/SA thresholds are applied to
 * the combined figures. `D` (dual registration) is not a possible session, so a dual-registered pupil
 * is never double-counted.
 */
import { cohortMasksByDay, type CareEpisodeSpan, positiveCohortsOf, cohortsEver } from './cohorts.js';
import { dayOfAcademicYear, dateOfAcademicDay, DAYS_PER_YEAR_SLOT } from './dates.js';
import { rowSpanOf, type Characteristic, type Registration } from './register.js';
import {
  absenceOf,
  emptyCounts,
  INDEX_OF_CHAR,
  isAtRiskOfPersistentAbsence,
  isEmergingPersistentAbsence,
  isPersistentAbsence,
  isSevereAbsence,
  type CodeCounts,
} from './stats.js';
import { CODE_CATEGORY, ALL_CODES } from './codes.js';

/**
 * One enrolment as stored for a pupil: a school, an academic year, the marks and what the school
 * stated. The one enrolment shape: a register's pupil, an enrolment's summary, a CME listing and the
 * timeline's enrolment are derived from it (Omit/Pick), so a field is named and typed once.
 */
export interface Enrolment {
  upn: string;
  urn: string;
  academicYear: number;
  registration: Registration;
  admissionDate?: string;
  leavingDate?: string;
  /** First and last dates this school's returns list the pupil (on roll when no admission/leaving date). */
  firstListed: string;
  lastListed: string;
  /** SESSIONS_PER_YEAR_SLOT stored mark characters (NO_MARK where no row). */
  marks: string;
  /** Per characteristic, DAYS_PER_YEAR_SLOT characters: Y/N (sen: N/K/E) where stated that day, else NOT_STATED. */
  stated: Record<Characteristic, string>;
  forename?: string;
  surname?: string;
  dob?: string;
  sex?: 'M' | 'F';
  ethnicity?: string;
  yearGroup?: string;
  uprn?: string;
}

/** The flags an LA may share with schools (and shares by default, shared/config.ts): the statutory and pattern flags. */
export const FLAGS_SHAREABLE_WITH_SCHOOLS = [
  'penalty_notice_threshold',
  'ten_day_unauthorised',
  'twenty_day_unauthorised',
  'illness_15_days',
  'holiday_adjacent_absence',
  'near_threshold_unauthorised',
  'family_pattern',
] as const;

/** Every flag a pupil can carry (in the order the API lists them). */
export const FLAG_TYPES = [
  'persistent_absence',
  'severe_absence',
  'at_risk_pa',
  'emerging_pa',
  ...FLAGS_SHAREABLE_WITH_SCHOOLS,
  'lateness_warning',
] as const;
export type FlagType = (typeof FLAG_TYPES)[number];

export interface PupilFlag {
  type: FlagType;
  /** The date the condition began (for thresholds: the date first met). */
  since: string;
  detail: Record<string, unknown>;
}

/** Which enrolment: a pupil at a school in an academic year. */
export type EnrolmentKey = Pick<Enrolment, 'upn' | 'academicYear' | 'urn'>;

export interface EnrolmentSummary extends Pick<
  Enrolment,
  'urn' | 'academicYear' | 'registration' | 'admissionDate' | 'leavingDate' | 'firstListed' | 'lastListed'
> {
  counts: number[];
  persistentAbsence: boolean;
  severeAbsence: boolean;
}

export interface PupilYearSummary {
  upn: string;
  academicYear: number;
  forename?: string;
  surname?: string;
  dob?: string;
  sex?: 'M' | 'F';
  yearGroup?: string;
  uprn?: string;
  /** Cohorts on the latest date the pupil was listed. */
  cohorts: string[];
  /** Cohorts at any time in the academic year (the Virtual School's scope test). */
  everCohorts: string[];
  enrolments: EnrolmentSummary[];
  counts: number[];
  absence: number;
  possible: number;
  persistentAbsence: boolean;
  severeAbsence: boolean;
  flags: PupilFlag[];
  /** Last date with any mark across schools. */
  lastDate?: string;
}

const ABSENT = ALL_CODES.map((c) => CODE_CATEGORY[c] === 'authorised' || CODE_CATEGORY[c] === 'unauthorised');
const POSSIBLE = ALL_CODES.map((c) =>
  ['present', 'approved_activity', 'authorised', 'unauthorised'].includes(CODE_CATEGORY[c]),
);

export interface SummaryOptions {
  atRiskLowerPercent: number;
  emergingWeeks: number;
  /** The pupil's school weeks (Monday dates, ascending) in the year, for the emerging-PA look-back. */
  schoolWeeks?: readonly string[];
}

/**
 * Summarise a pupil's academic year across all their enrolments in that year. Statutory-trigger
 * flags (penalty-notice threshold, continuous absence, illness) are added by the caller from
 * their own rules; this computes PA, SA, at risk and emerging PA.
 */
export function summarisePupilYear(
  upn: string,
  academicYear: number,
  enrolments: readonly Enrolment[],
  care: readonly CareEpisodeSpan[],
  options: SummaryOptions,
): PupilYearSummary {
  const mine = enrolments
    .filter((e) => e.academicYear === academicYear)
    .sort((a, b) => (a.lastListed < b.lastListed ? -1 : a.lastListed > b.lastListed ? 1 : a.urn < b.urn ? -1 : 1));
  const total = emptyCounts();
  // Cohorts: union over the pupil's schools (school statements) and the LA's care episodes.
  let everMask = 0;
  let currentMask = 0;
  let lastDay = -1;
  // Per day across the pupil's schools: possible and absent sessions (scratch space, cleared first).
  const dailyAbsent = DAILY_ABSENT.fill(0);
  const dailyPossible = DAILY_POSSIBLE.fill(0);
  let fromDay = DAYS_PER_YEAR_SLOT;
  let toDay = -1;
  const enrolmentSummaries: EnrolmentSummary[] = [];
  for (const e of mine) {
    // One pass over the slots that hold anything: the code counts and the daily figures.
    const counts = emptyCounts();
    const m = e.marks;
    const { lo, hi } = rowSpanOf(m);
    for (let s = lo; s <= hi; s++) {
      const ix = INDEX_OF_CHAR[m.charCodeAt(s)];
      if (!(ix >= 0)) continue;
      counts[ix]++;
      if (POSSIBLE[ix]) dailyPossible[s >> 1]++;
      if (ABSENT[ix]) dailyAbsent[s >> 1]++;
    }
    if (lo <= hi) {
      fromDay = Math.min(fromDay, lo >> 1);
      toDay = Math.max(toDay, Math.min(hi >> 1, DAYS_PER_YEAR_SLOT - 1));
    }
    for (let i = 0; i < counts.length; i++) total[i] += counts[i];
    const own = absenceOf(counts);
    enrolmentSummaries.push({
      urn: e.urn,
      academicYear: e.academicYear,
      registration: e.registration,
      admissionDate: e.admissionDate,
      leavingDate: e.leavingDate,
      firstListed: e.firstListed,
      lastListed: e.lastListed,
      counts: Array.from(counts),
      persistentAbsence: isPersistentAbsence(own.absence, own.possible),
      severeAbsence: isSevereAbsence(own.absence, own.possible),
    });

    const masks = cohortMasksByDay(academicYear, e.stated, care);
    const first = dayOf(e.firstListed);
    const last = dayOf(e.lastListed);
    everMask |= cohortsEver(masks, first, last);
    if (last >= lastDay) {
      currentMask = last > lastDay ? masks[last] : currentMask | masks[last];
      lastDay = last;
    }
  }
  const { absence, possible } = absenceOf(total);
  const latest = mine[mine.length - 1];

  // Days outside [fromDay, toDay] hold nothing, so the running figures only need that range.
  const flags: PupilFlag[] = [];
  if (isPersistentAbsence(absence, possible)) {
    flags.push({
      type: 'persistent_absence',
      since: sinceDate(academicYear, fromDay, toDay, isPersistentAbsence, 0),
      detail: { absenceSessions: absence, possibleSessions: possible },
    });
  }
  if (isSevereAbsence(absence, possible)) {
    flags.push({
      type: 'severe_absence',
      since: sinceDate(academicYear, fromDay, toDay, isSevereAbsence, 0),
      detail: { absenceSessions: absence, possibleSessions: possible },
    });
  }
  if (isAtRiskOfPersistentAbsence(absence, possible, options.atRiskLowerPercent)) {
    flags.push({
      type: 'at_risk_pa',
      since: sinceDate(academicYear, fromDay, toDay, isAtRiskOfPersistentAbsence, options.atRiskLowerPercent),
      detail: { absenceSessions: absence, possibleSessions: possible, lowerPercent: options.atRiskLowerPercent },
    });
  }
  const weeks = options.schoolWeeks ?? [];
  if (weeks.length > 0) {
    const recentWeeks = weeks.slice(-options.emergingWeeks);
    const recentFrom = Math.max(
      0,
      dayOf(recentWeeks[0] < `${academicYear}-08-01` ? `${academicYear}-08-01` : recentWeeks[0]),
    );
    let ra = 0;
    let rp = 0;
    for (let d = Math.max(recentFrom, fromDay); d <= toDay; d++) {
      ra += dailyAbsent[d];
      rp += dailyPossible[d];
    }
    if (isEmergingPersistentAbsence({ absence: ra, possible: rp }, { absence, possible })) {
      flags.push({
        type: 'emerging_pa',
        since: dateOf(academicYear, recentFrom),
        detail: {
          recentAbsenceSessions: ra,
          recentPossibleSessions: rp,
          weeks: recentWeeks.length,
          absenceSessions: absence,
          possibleSessions: possible,
        },
      });
    }
  }

  return {
    upn,
    academicYear,
    forename: latest?.forename,
    surname: latest?.surname,
    dob: latest?.dob,
    sex: latest?.sex,
    yearGroup: latest?.yearGroup,
    uprn: latest?.uprn,
    cohorts: positiveCohortsOf(currentMask),
    everCohorts: positiveCohortsOf(everMask),
    enrolments: enrolmentSummaries,
    counts: Array.from(total as CodeCounts),
    absence,
    possible,
    persistentAbsence: isPersistentAbsence(absence, possible),
    severeAbsence: isSevereAbsence(absence, possible),
    flags,
    lastDate: lastDay >= 0 ? dateOf(academicYear, lastDay) : undefined,
  };
}

/**
 * The first date from which the running year-to-date figures have met `test` on every day since
 * (so "PA since 3 October" means the pupil has been PA on every school day from 3 October on).
 * Reads the daily scratch figures over [fromDay, toDay], outside which they are all zero.
 */
function sinceDate(
  academicYear: number,
  fromDay: number,
  toDay: number,
  test: (a: number, p: number, lowerPercent: number) => boolean,
  lowerPercent: number,
): string {
  const absent = DAILY_ABSENT;
  const possible = DAILY_POSSIBLE;
  let a = 0;
  let p = 0;
  let since = -1;
  for (let d = fromDay; d <= toDay; d++) {
    if (possible[d] === 0 && absent[d] === 0) continue;
    a += absent[d];
    p += possible[d];
    if (test(a, p, lowerPercent)) {
      if (since < 0) since = d;
    } else {
      since = -1;
    }
  }
  return dateOf(academicYear, Math.max(0, since));
}

const DAILY_ABSENT = new Int32Array(DAYS_PER_YEAR_SLOT);
const DAILY_POSSIBLE = new Int32Array(DAYS_PER_YEAR_SLOT);

/** Day slots and dates, which repeat across a school's pupils (the same first and last dates listed). */
const dayCache = new Map<string, number>();
function dayOf(iso: string): number {
  let d = dayCache.get(iso);
  if (d === undefined) {
    if (dayCache.size >= 4096) dayCache.clear();
    dayCache.set(iso, (d = dayOfAcademicYear(iso)));
  }
  return d;
}
const dateCache = new Map<number, string>();
function dateOf(academicYear: number, day: number): string {
  if (!(day >= 0 && day < 1000)) return dateOfAcademicDay(academicYear, day);
  const key = academicYear * 1000 + day;
  let date = dateCache.get(key);
  if (date === undefined) {
    if (dateCache.size >= 4096) dateCache.clear();
    dateCache.set(key, (date = dateOfAcademicDay(academicYear, day)));
  }
  return date;
}
