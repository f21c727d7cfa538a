/**
 * A school's materialised figures for one academic year: metric cells for every standard period
 * (docs/design.md §3 "Periods and PA") and one row per pupil for the cross-school flag lists. Rebuilt from
 * the register on every change, so it is always exactly what the marks say.
 */
import { aggregateCells, type AggregationEnrolment, type PeriodCells } from './metrics.js';
import { cohortMasksByDay, inCompulsoryAgePopulation, type CareEpisodeSpan } from './cohorts.js';
import { standardPeriods, type Period } from './periods.js';
import { rowSpanOf, type SchoolRegister } from './register.js';
import type { FlagType, PupilYearSummary } from './pupil-summary.js';
import type { NSession } from './data-quality.js';
import { INDEX_OF_CHAR, totalsOf } from './stats.js';
import { DAYS_PER_YEAR_SLOT } from './dates.js';

/** A pupil's line in the LA-wide lists: combined figures across schools, and current flags. */
export interface PupilRow {
  upn: string;
  /** Version of the pupil summary it came from: the highest wins when schools disagree. */
  v: number;
  forename?: string;
  surname?: string;
  yearGroup?: string;
  sex?: string;
  urns: string[];
  cohorts: string[];
  everCohorts: string[];
  possible: number;
  present: number;
  approvedActivity: number;
  authorised: number;
  unauthorised: number;
  late: number;
  flags: Array<{ type: FlagType; since: string }>;
}

export interface SchoolView {
  urn: string;
  academicYear: number;
  registerVersion: number;
  periods: PeriodCells[];
  pupils: PupilRow[];
  /** Sessions listed but not yet marked. */
  unmarkedSessions: number;
  /** Sessions the register holds coded N (reason not yet provided), for the unresolved-N list (data-quality.ts). */
  nSessions?: NSession[];
  /** '0'/'1' per day slot: any code recorded that day (decides when a period equals a materialised one). */
  markedDays: string;
  latestDate?: string;
}

export function pupilRow(summary: PupilYearSummary, version: number, extraFlags: PupilRow['flags'] = []): PupilRow {
  const t = totalsOf(summary.counts);
  return {
    upn: summary.upn,
    v: version,
    forename: summary.forename,
    surname: summary.surname,
    yearGroup: summary.yearGroup,
    sex: summary.sex,
    urns: [...new Set(summary.enrolments.map((e) => e.urn))],
    cohorts: summary.cohorts,
    everCohorts: summary.everCohorts,
    possible: t.possible,
    present: t.present,
    approvedActivity: t.approvedActivity,
    authorised: t.authorised,
    unauthorised: t.unauthorised,
    late: t.late,
    flags: [...summary.flags.map((f) => ({ type: f.type, since: f.since })), ...extraFlags],
  };
}

/** The enrolments of a register, ready for aggregation (cohort masks applied per day). */
export function* aggregationEnrolments(
  register: SchoolRegister,
  careOf: (upn: string) => readonly CareEpisodeSpan[],
): Generator<AggregationEnrolment> {
  for (const p of register.pupils.values()) {
    yield {
      marks: p.marks,
      masks: cohortMasksByDay(register.academicYear, p.stated, careOf(p.upn)),
      yearGroup: p.yearGroup ?? 'unknown',
      sex: p.sex ?? 'unknown',
      compulsory: inCompulsoryAgePopulation(p, register.academicYear),
    };
  }
}

export function schoolCells(
  register: SchoolRegister,
  careOf: (upn: string) => readonly CareEpisodeSpan[],
  periods: readonly Period[] = standardPeriods(register.academicYear),
): PeriodCells[] {
  return aggregateCells(aggregationEnrolments(register, careOf), periods);
}

/** '0'/'1' per day slot of the year: whether any pupil has any code that day (including '#'). */
export function markedDaysOf(register: SchoolRegister): string {
  const days = new Uint8Array(DAYS_PER_YEAR_SLOT);
  for (const p of register.pupils.values()) {
    const m = p.marks;
    // Slots with no row hold no code: skip the runs of them at either end of the year.
    const { lo, hi } = rowSpanOf(m);
    for (let i = lo; i <= hi; i++) {
      // A day already marked needs no more reading (most are, after the first pupils).
      if (days[i >> 1] === 1) i |= 1;
      else if (INDEX_OF_CHAR[m.charCodeAt(i)] >= 0) days[i >> 1] = 1;
    }
  }
  return Array.from(days).join('');
}
