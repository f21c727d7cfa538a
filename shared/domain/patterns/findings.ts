/**
 * What the threshold-gaming detectors report (docs/design.md §2.6, API `GET /v1/patterns`). Every finding
 * carries its evidence — the dates and codes, observed against expected, the statistic and the
 * threshold it crossed — and one plain-English sentence an officer can read to a parent or a head
 * teacher. No finding holds names: the API joins them when an authorised user reads it.
 */
import type { SessionEvidence } from '../school-weeks.js';

export type { SessionEvidence };

export type PatternType =
  'holiday_adjacent_absence' | 'near_threshold_unauthorised' | 'family_pattern' | 'school_coding';

export const PATTERN_TYPES: readonly PatternType[] = [
  'holiday_adjacent_absence',
  'near_threshold_unauthorised',
  'family_pattern',
  'school_coding',
];

/** The statistic behind a finding and the threshold it crossed. */
export interface PatternStatistic {
  /** What was computed, in words an analyst can check. */
  name: string;
  value: number;
  threshold: number;
  /** The finding stands because the value is at most (p-values) or at least (counts, z-scores) the threshold. */
  flaggedWhen: 'at_most' | 'at_least';
}

/** A school break and the counted sessions next to it. */
export interface BreakEvidence {
  /** The school whose calendar has this break. */
  urn: string;
  /** First and last calendar day of the break. */
  start: string;
  end: string;
  label: string | null;
  sessions: SessionEvidence[];
}

export interface FindingBase {
  type: PatternType;
  /** The school the finding is filed under (for a pupil: the school of the latest session in evidence). */
  urn: string;
  /** First and last date of the evidence period. */
  from: string;
  to: string;
  /** The count that makes the pattern, and what chance (or the rule) would give; null where no expectation applies. */
  observed: number;
  expected: number | null;
  statistic: PatternStatistic;
  /** One plain-English sentence. */
  explanation: string;
}

export interface HolidayAdjacentFinding extends FindingBase {
  type: 'holiday_adjacent_absence';
  upn: string;
  /** Every school whose marks are in the evidence. */
  urns: string[];
  /** Counted absence sessions (I, M, G, N, O) in the period; `observed` of them were holiday-adjacent. */
  absenceSessions: number;
  /** Sessions in the test: possible sessions less R, E, C2 and other authorised reasons (see holiday-adjacent.ts). */
  possibleSessions: number;
  /** Of which holiday-adjacent. */
  adjacentSessions: number;
  /** Separate absences (unbroken runs of counted absence sessions), and how many touch a holiday-adjacent day. */
  spells: number;
  adjacentSpells: number;
  /** The breaks, each with the pupil's counted absence sessions next to it. */
  breaks: BreakEvidence[];
  /** The dates the test looked at: the 12 months to the run's date (issue 21), or the run's period. */
  window?: { from: string; to: string };
  /** Set when the window reaches into last school year but the pupil is on no register before this date (new to the LA): this year's evidence alone. */
  registersFrom?: string;
}

export interface NearThresholdEpisode {
  /** Mondays of the first and last school week of the peak window. */
  firstWeek: string;
  lastWeek: string;
  schoolWeeks: number;
  /** Sessions in the penalty-notice code set in the peak window (just under the threshold). */
  unauthorisedSessions: number;
  /** Longest unbroken run of those sessions in the window. */
  longestRun: number;
  sessions: SessionEvidence[];
  /** Illness (I) sessions directly before or after the window's runs of unauthorised sessions. */
  contiguousIllness: SessionEvidence[];
}

export type NearThresholdReason = 'repeated' | 'peaked_under' | 'illness_tops_up';

export interface NearThresholdFinding extends FindingBase {
  type: 'near_threshold_unauthorised';
  upn: string;
  urns: string[];
  codes: string[];
  threshold: number;
  windowWeeks: number;
  reasons: NearThresholdReason[];
  /** Separate windows (no session shared) that peaked just under the threshold, in date order. */
  episodes: NearThresholdEpisode[];
}

export interface FamilyChild {
  upn: string;
  urn: string;
  /** The child's own holiday-adjacent test: observed and expected sessions, p-value. */
  observed: number;
  expected: number;
  pValue: number;
  /** The child's counted absence sessions on the shared dates. */
  sessions: SessionEvidence[];
  /** Set when the window reaches into last school year but the child is on no register before this date (new to the LA): this year's evidence alone. */
  registersFrom?: string;
}

export interface FamilyFinding extends FindingBase {
  type: 'family_pattern';
  /** The household key: `uprn:<UPRN>` or `family:<LA family id>`. */
  household: string;
  /** Every child in the pattern (penalty notices are per parent per child). */
  children: FamilyChild[];
  urns: string[];
  /** School days on which at least two of the children, at different schools, were absent next to a break. */
  sharedDates: string[];
  breaks: Array<{ start: string; end: string; label: string | null }>;
}

export type SchoolCodingSignal = 'illness_next_to_breaks' | 'low_unauthorised_holiday_share' | 'not_possible_share';

/**
 * One school's indicator against its funnel: the LA's value (the other schools) and control limits at
 * the school's precision. Null where the school has no such sessions or the LA too few schools.
 */
export interface FunnelComparison {
  /** The school's value (a ratio or a share). */
  value: number | null;
  /** The other schools' pooled value: the funnel's centre line. */
  laValue: number | null;
  lower: number | null;
  upper: number | null;
  /** Warning limits (only for the illness ratio). */
  warningLower?: number | null;
  warningUpper?: number | null;
  /** Standardised distance from the centre line, after the overdispersion adjustment. */
  z: number | null;
  outlier: boolean;
}

export interface SchoolCodingFinding extends FindingBase {
  type: 'school_coding';
  academicYear: number;
  signals: SchoolCodingSignal[];
  /** Illness (I) sessions per possible session on holiday-adjacent days vs other days. */
  illness: FunnelComparison & {
    adjacentIllness: number;
    adjacentPossible: number;
    otherIllness: number;
    otherPossible: number;
  };
  /** G sessions as a share of absence sessions on holiday-adjacent days. */
  unauthorisedHolidayShare: FunnelComparison & { gSessions: number; absenceSessions: number };
  /** Not-possible sessions (the configured codes) as a share of possible + those sessions. */
  notPossible: FunnelComparison & { sessions: number; ofSessions: number; codes: Record<string, number> };
  /** The school's holiday-adjacent days that year, with the break each is next to. */
  adjacentDates: Array<{ date: string; breakStart: string; breakEnd: string }>;
  /** Pupils left out of the counts because their own absence is concentrated next to holidays (reported per pupil). */
  excludedPupils: number;
}

export type PatternFinding = HolidayAdjacentFinding | NearThresholdFinding | FamilyFinding | SchoolCodingFinding;
