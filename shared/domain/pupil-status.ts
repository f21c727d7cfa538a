/**
 * A pupil's status for an academic year across all schools: attendance figures and PA/SA/at-risk/
 * emerging flags (pupil-summary.ts) plus the National Framework's statutory triggers
 * (national-framework.ts: penalty-notice threshold, 10 and 20 days' continuous unauthorised absence,
 * 15 days' illness) for the sessions of compulsory school age by the date of birth the schools state
 * (docs/design.md §2.5), all recomputed from the marks whenever they change. Figures, PA and SA are for every
 * session, whatever the pupil's age (the DfE reports them for all pupils).
 */
import type { LaSettings } from '../config.js';
import type { CareEpisodeSpan } from './cohorts.js';
import { academicYearEnd, academicYearStart } from './dates.js';
import { nationalFrameworkFlags, pupilDateOfBirth, statutoryAgeOf } from './national-framework.js';
import { summarisePupilYear, type Enrolment, type PupilYearSummary } from './pupil-summary.js';
import { pupilTimeline, schoolWeekDates } from './school-weeks.js';

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
  // One timeline over every enrolment: school weeks and the statutory triggers span schools and years.
  const timeline = pupilTimeline(input.enrolments, input.sessionDays);
  const summary = summarisePupilYear(input.upn, input.academicYear, input.enrolments, input.care, {
    atRiskLowerPercent: input.settings.atRiskLowerPercent,
    emergingWeeks: input.settings.emergingWeeks,
    schoolWeeks: schoolWeekDates(timeline, academicYearStart(input.academicYear), academicYearEnd(input.academicYear)),
  });
  const age = statutoryAgeOf(pupilDateOfBirth(input.enrolments));
  summary.flags.push(...nationalFrameworkFlags(timeline, input.academicYear, input.settings, age));
  return summary;
}
