/**
 * The LA's view of one pupil across all their schools (DESIGN §2.2 "Across schools"): counts are
 * summed over the pupil's enrolments in the academic year, then the PA/SA thresholds are applied to
 * the combined figures. `D` (dual registration) is not a possible session, so a dual-registered pupil
 * is never double-counted.
 */
import { cohortMasksByDay, type CareEpisodeSpan, positiveCohortsOf, cohortsEver } from './cohorts.js';
import { dayOfAcademicYear, dateOfAcademicDay, DAYS_PER_YEAR_SLOT } from './dates.js';
import type { Characteristic, Registration } from './register.js';
import {
  absenceOf,
  countMarks,
  emptyCounts,
  INDEX_OF_CHAR,
  isAtRiskOfPersistentAbsence,
  isEmergingPersistentAbsence,
  isPersistentAbsence,
  isSevereAbsence,
  type CodeCounts,
} from './stats.js';
import { CODE_CATEGORY, ALL_CODES } from './codes.js';

/** One enrolment as stored for a pupil: a school, an academic year, the marks and what the school stated. */
export interface Enrolment {
  upn: string;
  urn: string;
  academicYear: number;
  registration: Registration;
  admissionDate?: string;
  leavingDate?: string;
  firstListed: string;
  lastListed: string;
  marks: string;
  stated: Record<Characteristic, string>;
  forename?: string;
  surname?: string;
  dob?: string;
  sex?: 'M' | 'F';
  ethnicity?: string;
  yearGroup?: string;
  uprn?: string;
}

export type FlagType =
  | 'persistent_absence'
  | 'severe_absence'
  | 'at_risk_pa'
  | 'emerging_pa'
  | 'penalty_notice_threshold'
  | 'ten_day_unauthorised'
  | 'twenty_day_unauthorised'
  | 'illness_15_days'
  | 'holiday_adjacent_absence'
  | 'near_threshold_unauthorised'
  | 'family_pattern';

export interface PupilFlag {
  type: FlagType;
  /** The date the condition began (for thresholds: the date first met). */
  since: string;
  detail: Record<string, unknown>;
}

export interface EnrolmentSummary {
  urn: string;
  academicYear: number;
  registration: Registration;
  admissionDate?: string;
  leavingDate?: string;
  firstListed: string;
  lastListed: string;
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
const POSSIBLE = ALL_CODES.map((c) => ['present', 'approved_activity', 'authorised', 'unauthorised'].includes(CODE_CATEGORY[c]));

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
  const mine = enrolments.filter((e) => e.academicYear === academicYear).sort((a, b) => (a.lastListed < b.lastListed ? -1 : a.lastListed > b.lastListed ? 1 : a.urn < b.urn ? -1 : 1));
  const total = emptyCounts();
  const enrolmentSummaries: EnrolmentSummary[] = mine.map((e) => {
    const counts = countMarks(e.marks, emptyCounts());
    for (let i = 0; i < counts.length; i++) total[i] += counts[i];
    const { absence, possible } = absenceOf(counts);
    return {
      urn: e.urn, academicYear: e.academicYear, registration: e.registration,
      admissionDate: e.admissionDate, leavingDate: e.leavingDate, firstListed: e.firstListed, lastListed: e.lastListed,
      counts: Array.from(counts),
      persistentAbsence: isPersistentAbsence(absence, possible),
      severeAbsence: isSevereAbsence(absence, possible),
    };
  });
  const { absence, possible } = absenceOf(total);
  const latest = mine[mine.length - 1];

  // Cohorts: union over the pupil's schools (school statements) and the LA's care episodes.
  let everMask = 0;
  let currentMask = 0;
  let lastDay = -1;
  const dailyAbsent = new Int32Array(DAYS_PER_YEAR_SLOT);
  const dailyPossible = new Int32Array(DAYS_PER_YEAR_SLOT);
  for (const e of mine) {
    const masks = cohortMasksByDay(academicYear, e.stated, care);
    const first = dayOfAcademicYear(e.firstListed);
    const last = dayOfAcademicYear(e.lastListed);
    everMask |= cohortsEver(masks, first, last);
    if (last >= lastDay) {
      currentMask = last > lastDay ? masks[last] : currentMask | masks[last];
      lastDay = last;
    }
    for (let s = 0; s < e.marks.length; s++) {
      const ix = INDEX_OF_CHAR[e.marks.charCodeAt(s)];
      if (ix < 0) continue;
      if (POSSIBLE[ix]) dailyPossible[s >> 1]++;
      if (ABSENT[ix]) dailyAbsent[s >> 1]++;
    }
  }

  const flags: PupilFlag[] = [];
  const since = (test: (a: number, p: number) => boolean) => sinceDate(academicYear, dailyAbsent, dailyPossible, test);
  if (isPersistentAbsence(absence, possible)) {
    flags.push({ type: 'persistent_absence', since: since(isPersistentAbsence), detail: { absenceSessions: absence, possibleSessions: possible } });
  }
  if (isSevereAbsence(absence, possible)) {
    flags.push({ type: 'severe_absence', since: since(isSevereAbsence), detail: { absenceSessions: absence, possibleSessions: possible } });
  }
  if (isAtRiskOfPersistentAbsence(absence, possible, options.atRiskLowerPercent)) {
    flags.push({
      type: 'at_risk_pa',
      since: since((a, p) => isAtRiskOfPersistentAbsence(a, p, options.atRiskLowerPercent)),
      detail: { absenceSessions: absence, possibleSessions: possible, lowerPercent: options.atRiskLowerPercent },
    });
  }
  const weeks = options.schoolWeeks ?? [];
  if (weeks.length > 0) {
    const recentWeeks = weeks.slice(-options.emergingWeeks);
    const fromDay = Math.max(0, dayOfAcademicYear(recentWeeks[0] < `${academicYear}-08-01` ? `${academicYear}-08-01` : recentWeeks[0]));
    let ra = 0;
    let rp = 0;
    for (let d = fromDay; d < DAYS_PER_YEAR_SLOT; d++) {
      ra += dailyAbsent[d];
      rp += dailyPossible[d];
    }
    if (isEmergingPersistentAbsence({ absence: ra, possible: rp }, { absence, possible })) {
      flags.push({
        type: 'emerging_pa',
        since: dateOfAcademicDay(academicYear, fromDay),
        detail: { recentAbsenceSessions: ra, recentPossibleSessions: rp, weeks: recentWeeks.length, absenceSessions: absence, possibleSessions: possible },
      });
    }
  }

  return {
    upn, academicYear,
    forename: latest?.forename, surname: latest?.surname, dob: latest?.dob, sex: latest?.sex, yearGroup: latest?.yearGroup, uprn: latest?.uprn,
    cohorts: positiveCohortsOf(currentMask),
    everCohorts: positiveCohortsOf(everMask),
    enrolments: enrolmentSummaries,
    counts: Array.from(total as CodeCounts),
    absence, possible,
    persistentAbsence: isPersistentAbsence(absence, possible),
    severeAbsence: isSevereAbsence(absence, possible),
    flags,
    lastDate: lastDay >= 0 ? dateOfAcademicDay(academicYear, lastDay) : undefined,
  };
}

/**
 * The first date from which the running year-to-date figures have met `test` on every day since
 * (so "PA since 3 October" means the pupil has been PA on every school day from 3 October on).
 */
function sinceDate(academicYear: number, absent: Int32Array, possible: Int32Array, test: (a: number, p: number) => boolean): string {
  let a = 0;
  let p = 0;
  let since = -1;
  for (let d = 0; d < DAYS_PER_YEAR_SLOT; d++) {
    if (possible[d] === 0 && absent[d] === 0) continue;
    a += absent[d];
    p += possible[d];
    if (test(a, p)) {
      if (since < 0) since = d;
    } else {
      since = -1;
    }
  }
  return dateOfAcademicDay(academicYear, Math.max(0, since));
}
