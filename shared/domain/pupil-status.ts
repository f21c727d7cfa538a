/**
 * A pupil's status for an academic year across all schools: attendance figures and PA/SA/at-risk/
 * emerging flags (pupil-summary.ts) plus the National Framework's statutory triggers.
 */
import type { LaSettings } from '../config.js';
import type { CareEpisodeSpan } from './cohorts.js';
import { summarisePupilYear, type Enrolment, type PupilYearSummary } from './pupil-summary.js';
import { dateOfAcademicDay, weekStart, DAYS_PER_YEAR_SLOT } from './dates.js';

export interface PupilStatusInput {
  upn: string;
  academicYear: number;
  /** Every enrolment held for the pupil, all schools and years (earlier years feed rolling windows). */
  enrolments: readonly Enrolment[];
  care: readonly CareEpisodeSpan[];
  /** Session days per "year#urn" (the schools' inferred calendars). */
  sessionDays: ReadonlyMap<string, Uint8Array>;
  settings: LaSettings;
  today: string;
}

export function summarisePupil(input: PupilStatusInput): PupilYearSummary {
  const weeks = pupilSchoolWeeks(input.enrolments, input.sessionDays, input.academicYear);
  return summarisePupilYear(input.upn, input.academicYear, input.enrolments, input.care, {
    atRiskLowerPercent: input.settings.atRiskLowerPercent,
    emergingWeeks: input.settings.emergingWeeks,
    schoolWeeks: weeks,
  });
}

/** Calendar weeks (Monday dates) of the year with a school session at a school where the pupil is on roll. */
function pupilSchoolWeeks(enrolments: readonly Enrolment[], sessionDays: ReadonlyMap<string, Uint8Array>, academicYear: number): string[] {
  const weeks = new Set<string>();
  for (const e of enrolments) {
    if (e.academicYear !== academicYear) continue;
    const days = sessionDays.get(`${e.academicYear}#${e.urn}`);
    if (!days) continue;
    const from = e.admissionDate ?? e.firstListed;
    const to = e.leavingDate ?? e.lastListed;
    for (let d = 0; d < DAYS_PER_YEAR_SLOT; d++) {
      if (!days[d]) continue;
      const date = dateOfAcademicDay(academicYear, d);
      if (date >= from && date <= to) weeks.add(weekStart(date));
    }
  }
  return [...weeks].sort();
}
