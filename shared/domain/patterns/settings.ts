/**
 * Settings of the threshold-gaming detectors (docs/design.md §2.6). The LA-configurable rules (K, the
 * penalty-notice code set, sessions and weeks) come from LaSettings; the statistical thresholds are
 * detector defaults chosen for precision: a flag sends an officer to a family, so each default keeps
 * the expected number of false flags across a 230,000-pupil LA in single figures (the reasoning is in
 * each detector's module comment).
 */
import { DEFAULT_LA_SETTINGS, type LaSettings } from '../../config.js';

export interface HolidayAdjacentSettings {
  /**
   * Largest p-value flagged under the uniform null (no LA rise fitted; `fittedAlpha` otherwise). The
   * test is exact under its null (the pupil's separate absences placed at random among their own
   * school sessions). Absence really is higher before holidays for everyone, so this null is a little
   * optimistic: half `fittedAlpha`, 7.5 × 10⁻⁴ since issue 21's fourth pass (1.5 × 10⁻³ in the third,
   * 5 × 10⁻⁴ before). The count of evidence beside breaks (`minAbsencesBeside`) carries most of the
   * precision; on the tuned varied LAs under the uniform null no threshold met the April precision
   * target (docs/patterns.md), and 7.5 × 10⁻⁴ came nearest while keeping recall.
   */
  alpha: number;
  /** Fewest absence sessions on holiday-adjacent days (a sick day is 2 sessions: never enough alone). */
  minSessions: number;
  /**
   * Fewest different breaks with at least 2 such sessions each: 2, docs/design.md §2.6's "repeatedly" (one
   * illness spanning a half term is one break: never a flag). The evidence decides beyond that, not a
   * count of breaks: the exact test's p-value scores each absence by how close it sits to the break,
   * so two breaks each taken on both sides are strong evidence by January, while a few sick days that
   * happen to fall near holidays are not (docs/patterns.md, issue 21). Was 3, which meant nobody
   * could be flagged before the spring.
   */
  minBreaks: number;
  /**
   * Fewest times the expected count the observed count must be (effect size, not only significance):
   * 3 (issue 21, sixth pass; was 4). Over the 12-month window about a fifth of school days are beside a
   * break, so no pupil can exceed about 5, and a family taking three days at a break (the third day
   * outside the K) sits at 3.4–4: at 4 the ratio stopped the clearest patterns, not chance ones.
   */
  minRatio: number;
  /**
   * Fewest pieces of evidence beside breaks, net of the pupil's other separate absences (each absence
   * away from the breaks cancels one): 4 by default (issue 21, third and fourth passes). Each separate
   * absence beside a break counts 1; one that fills the K school days on both sides of a break counts 2
   * (a holiday taken both sides: the register holds it as one unbroken absence); a lone half day 0.
   * One illness spanning a break is therefore at most 2, never a finding alone, while two breaks each
   * taken both sides are 4. The test's evidence is the number of independent events beside breaks,
   * not sessions; over 12 months a pupil with 2–3 short absences that all happen to fall beside breaks
   * reaches p 1–9 × 10⁻⁴ by chance, as often as a family extending its holidays does, so the p-value
   * cannot separate them (docs/patterns.md). A fixed count, not one scaled by absence lengths: the
   * exact test already weighs each absence by its length, and a length-weighted count measured worse.
   */
  minAbsencesBeside: number;
  /**
   * What a separate absence of exactly one school day (2 sessions) beside a break counts for in
   * `minAbsencesBeside`: 0.8 since issue 21's seventh pass (was 1), so four single days beside breaks
   * and nothing else are 3.2, not a finding, and five are 4. A single day is the commonest chance
   * event beside a break (absence starts more often there for everyone) and the weakest evidence:
   * the claim's own measure puts four lone days beside breaks at about 1 in 500 and five at about 1
   * in 2,500 — never claimed — yet at 1 each they were in most false flags on the seen varied LAs
   * (32 of 42 had exactly 4 pieces; at 0.8, 30 of the 42 go; docs/patterns.md, "Seventh pass").
   * Longer absences and a holiday taken both sides count as before, so the issue's case (two breaks
   * taken 2–3 days each side, nothing else) is unchanged.
   */
  singleDayCounts: number;
  /**
   * Fit the test's null to the LA's own rise in absence before breaks (rise.ts; issue 21): absence
   * starts more often on the days before a break for everyone, so the uniform null is optimistic.
   * The rise is the median over schools, floored at 1 (never less cautious than uniform); false: the
   * uniform null.
   */
  fitLaRise: boolean;
  /**
   * Largest p-value flagged when the null is fitted to the LA's rise (`fitLaRise` and enough schools
   * to fit it): 1.5 × 10⁻³ since issue 21's fourth pass (3 × 10⁻³ in the third, 10⁻³ before). `alpha`
   * applies to the uniform null, whose optimism about absence before breaks it has to absorb. Counting
   * an absence that fills both sides of a break twice admits chance look-alikes the third pass's
   * count kept out (one such illness plus two or three short absences beside other breaks, at p 4 ×
   * 10⁻⁵ to 1.7 × 10⁻³); on the tuned varied LAs 1.5 × 10⁻³ met every target, 2–3 × 10⁻³ gave one
   * false flag too many in April (docs/patterns.md).
   */
  fittedAlpha: number;
  /**
   * Months of registers the holiday-adjacent test (and the family pass, which reads its analysis) looks
   * at, ending on the run's last day: 12 by default (issue 21, second year), so by January a family's
   * October and Christmas sit beside last year's February, Easter, May and summer. A family that
   * extends its holidays does it every year; ordinary illness that happened to fall beside two breaks
   * does not repeat. Never less than the run's own period; 0 = the run's period only (the academic
   * year to date). A pupil with no registers before this academic year is judged on this year alone,
   * and the finding says so.
   */
  windowMonths: number;
}

export interface NearThresholdSettings {
  /** A window "peaks just under" when its count is at least threshold − margin (default 10 − 2 = 8). */
  margin: number;
  /**
   * Separate near-threshold windows (no session shared) that make a finding. docs/design.md §2.6 defines the
   * pattern as a window peaking at 8 or 9 ("especially when repeated"), so one is enough by default;
   * the finding's reasons say `repeated` or `peaked_under` so a caseload can be ordered. 2 = only repeated.
   */
  minEpisodes: number;
  /**
   * Fewest sessions in the longest unbroken run of unauthorised sessions in a near-threshold window
   * (default 8 = threshold − margin): the count just under the threshold is one holiday kept there,
   * not scattered late marks or odd days added to a shorter absence.
   */
  minRunSessions: number;
  /** Fewest sessions in the unauthorised run of a holiday split into unauthorised days plus illness. */
  splitMinRunSessions: number;
  /**
   * Codes that make a run of unauthorised sessions a holiday, for both triggers: at least half its
   * sessions must be one of them (default G, the unauthorised-holiday code). Runs of O or N alone are
   * too often a child who stopped attending (and then fell ill), not a family keeping a holiday short.
   */
  holidayCodes: string[];
}

export interface FamilySettings {
  /** Largest p-value of EACH child's own holiday-adjacent test: a loose filter (each child's absence leans to holidays). */
  childAlpha: number;
  /** Fewest school days on which two children at different schools were both absent next to a break. */
  minSharedDays: number;
  /** Fewest different breaks those shared days sit next to. */
  minBreaks: number;
  /**
   * Fewest times the shared days must exceed the number expected if the two children's absences next
   * to holidays were unrelated (each child's adjacent absence days placed at random among the
   * holiday-adjacent days): two children often off next to holidays share some days by chance.
   */
  minRatio: number;
  /**
   * Largest exact (hypergeometric) chance of the shared days if the two children's adjacent absences
   * were unrelated.
   */
  alpha: number;
  /**
   * Largest binomial chance that so many of the days both children were absent (anywhere) are
   * holiday-adjacent, given the share of days that are: siblings ill together share ordinary days too.
   * The days against are those of shared absences elsewhere: since issue 21's eighth pass a shared
   * absence beside a break that runs at most K school days past the adjacent ones (the third day of a
   * three-day extension) is judged beside the break, its further days neither for nor against; a longer
   * one (a fortnight's illness across a half term) keeps all its days as elsewhere.
   */
  sharedDaysAlpha: number;
  /**
   * Fewest breaks with a shared absence beside them, net of the two children's shared absences
   * elsewhere (each cancels one; family.ts `sharedAbsences`): 2 by default (issue 21, fifth pass).
   * Shared illness away from the breaks is evidence against a holiday, so siblings ill together
   * through the year are held out unless most of their shared illnesses fall beside breaks; the test
   * on days alone passed two illnesses that happened to span half terms among four elsewhere.
   */
  minNetSharedBreaks: number;
  /**
   * The second way in (issue 21, sixth pass): a pair whose two children's own holiday-adjacent p-values
   * MULTIPLY to at most this (each still within `childAlpha`) needs no coincidence beyond chance (the
   * ratio and `alpha` are waived); every other condition holds (3 shared days, 2 breaks, the net shared
   * breaks, the concentration of the shared days). 10⁻⁴: two children whose patterns were unrelated
   * would be this extreme together 1 time in 10,000 (the holiday claim's level). Children off on most
   * of a few adjacent days (new to the LA: two breaks of data) share them nearly by force, so the pair
   * test cannot tell; the children's own patterns can.
   */
  jointChildAlpha: number;
}

export interface SchoolCodingSettings {
  /** Two-sided coverage of the funnel's control limits (0.998: z = 3.09). */
  controlLimit: number;
  /** Coverage of the warning limits, used when a low G share corroborates the illness excess. */
  warningLimit: number;
  /** Fewest schools in the LA (including the school) for a funnel to mean anything. */
  minSchools: number;
  /**
   * Smallest illness ratio, as a multiple of the other schools' ratio, for an illness signal: a large
   * school can be a statistical outlier for an excess no head teacher could act on, and a few families
   * with their own pattern can push a school past the limit. 1.3 since issue 21's sixth pass (1.5
   * before): with each pupil's adjacent illness capped, coding for 10–12 % of a large school's pupils
   * gives 1.44–1.5 by July, and the limits now allow for illness coming in spells per pupil.
   */
  minExcessRatio: number;
  /** Fewest illness sessions on the school's holiday-adjacent days for an illness finding. */
  minAdjacentIllness: number;
  /**
   * Fewest pupils on the school's registers this year for an illness finding (either illness signal;
   * the not-possible share is not affected). 50 since issue 21's ninth pass: under 50 pupils a school's
   * holiday-adjacent days hold a score of separate illnesses, and chance reaches past the funnel's
   * normal limits (on the 33 seen varied seeds, of the non-coding schools under 50 pupils 1 in 123 was
   * past the 99.8 % limit and 3 past z 2.33 at some date; from 50 pupils none of 504 past the limit
   * and 1 past z 2.33; the chance flags on illness next to breaks read since the sixth pass were at
   * schools of 30, 62 and 37 pupils).
   * Counts stored without per-pupil sums (before issue 21's sixth pass) do not say how many pupils
   * they hold and are not held back.
   */
  minPupils: number;
  /** Fewest not-possible sessions for a not-possible finding. */
  minNotPossible: number;
  /**
   * Pupils whose own holiday-adjacent test is at or below this p-value are left out of their school's
   * counts; 0 (the default) leaves nobody out. Leaving such pupils out removed exactly the pupils a
   * coding school produces (issue 21), so the default instead caps each pupil's share
   * (`maxAdjacentIllnessPerPupil`).
   */
  excludePupilAlpha: number;
  /**
   * Most illness sessions on holiday-adjacent days one pupil adds to their school's count (per school
   * and year; default 6, three days). Coding holidays as illness is a practice across many pupils, each
   * adding a few sessions; a few families with their own pattern (reported per pupil and per family)
   * add at most this many each, so they cannot make a school an outlier by themselves.
   */
  maxAdjacentIllnessPerPupil: number;
  /**
   * Not-possible codes counted as "shrinking the denominator". D (dual registration) and X
   * (non-compulsory school age) are structural, so they are left out.
   */
  notPossibleCodes: string[];
}

export interface PatternSettings {
  /** K: school days either side of a break that are holiday-adjacent (LaSettings.holidayAdjacentDays). */
  holidayAdjacentDays: number;
  penaltyNoticeCodes: string[];
  penaltyNoticeSessions: number;
  penaltyNoticeWeeks: number;
  holidayAdjacent: HolidayAdjacentSettings;
  nearThreshold: NearThresholdSettings;
  family: FamilySettings;
  schoolCoding: SchoolCodingSettings;
}

export const DEFAULT_PATTERN_SETTINGS: PatternSettings = {
  holidayAdjacentDays: DEFAULT_LA_SETTINGS.holidayAdjacentDays,
  penaltyNoticeCodes: [...DEFAULT_LA_SETTINGS.penaltyNoticeCodes],
  penaltyNoticeSessions: DEFAULT_LA_SETTINGS.penaltyNoticeSessions,
  penaltyNoticeWeeks: DEFAULT_LA_SETTINGS.penaltyNoticeWeeks,
  holidayAdjacent: {
    alpha: 7.5e-4,
    minSessions: 6,
    minBreaks: 2,
    minRatio: 3,
    minAbsencesBeside: 4,
    singleDayCounts: 0.8,
    fitLaRise: true,
    fittedAlpha: 1.5e-3,
    windowMonths: 12,
  },
  nearThreshold: { margin: 2, minEpisodes: 1, minRunSessions: 8, splitMinRunSessions: 6, holidayCodes: ['G'] },
  family: {
    childAlpha: 0.1,
    minSharedDays: 3,
    minBreaks: 2,
    minRatio: 1.5,
    alpha: 1e-2,
    sharedDaysAlpha: 1e-2,
    minNetSharedBreaks: 2,
    jointChildAlpha: 1e-4,
  },
  schoolCoding: {
    controlLimit: 0.998,
    warningLimit: 0.95,
    minSchools: 5,
    minExcessRatio: 1.3,
    minAdjacentIllness: 20,
    minPupils: 50,
    minNotPossible: 20,
    excludePupilAlpha: 0,
    maxAdjacentIllnessPerPupil: 6,
    notPossibleCodes: ['Q', 'Y1', 'Y2', 'Y3', 'Y4', 'Y5', 'Y6', 'Y7', 'Y'],
  },
};

export interface PatternSettingsOverrides {
  holidayAdjacent?: Partial<HolidayAdjacentSettings>;
  nearThreshold?: Partial<NearThresholdSettings>;
  family?: Partial<FamilySettings>;
  schoolCoding?: Partial<SchoolCodingSettings>;
}

/** The detectors' settings for an LA: its LaSettings plus any detector overrides. */
export function patternSettings(
  la: LaSettings = DEFAULT_LA_SETTINGS,
  overrides: PatternSettingsOverrides = {},
): PatternSettings {
  const d = DEFAULT_PATTERN_SETTINGS;
  return {
    holidayAdjacentDays: la.holidayAdjacentDays,
    penaltyNoticeCodes: [...la.penaltyNoticeCodes],
    penaltyNoticeSessions: la.penaltyNoticeSessions,
    penaltyNoticeWeeks: la.penaltyNoticeWeeks,
    holidayAdjacent: { ...d.holidayAdjacent, ...overrides.holidayAdjacent },
    nearThreshold: { ...d.nearThreshold, ...overrides.nearThreshold },
    family: { ...d.family, ...overrides.family },
    schoolCoding: { ...d.schoolCoding, ...overrides.schoolCoding },
  };
}
