/**
 * The published figures the synthetic LA is calibrated to, and the model parameters derived from
 * them. Sources (see docs/synthetic-la.md for the full citations):
 *
 * [EES-YTD] DfE "Pupil attendance in schools", 2025/26 year to date, national rows by phase:
 *   ../shared/data/dfe-statistics/EES_ytd_data.csv (github.com/dfe-analytical-services/
 *   attendance-data-dashboard, data/EES_ytd_data.csv at 8f4979c). Reason rates are the file's
 *   `*_perc` columns (percent of possible sessions); late L and approved activity are
 *   reason_l_present_late_before_registers_closed and approved_educational_activity over
 *   possible_sessions.
 * [EES-CHAR] DfE daily attendance data, autumn 2024/25 by characteristic (EES
 *   pupil-attendance-in-schools/2025-week-4; docs/design.md, Sources: DFE-METH): FSM 10.0% / PA 31.7%, not FSM
 *   5.2% / 14.4%, EHC plan 13.1% / 35.1%, SEN support 10.1% / 29.0%, no SEN 5.8% / 17.0%.
 * [CIN] DfE "Outcomes for children in need", 2022/23: CINO overall absence 17.6%, PA 48.8%,
 *   SA 10.4% (EES data set 9f3dd617-…); CPP severe absence 14.8% (communitycare.co.uk, 2024).
 * [SA] Severe absence 2.26% and PA 17.63%, autumn+spring 2024/25 (educationreport.co.uk citing DfE).
 * [SPC] DfE "Schools, pupils and their characteristics" 2024/25 (FSM eligibility 25.7%) and
 *   "Special educational needs in England" 2024/25 (EHC plan 5.3%, SEN support 14.2%).
 * [CLA] Children looked after ~0.6% of school-age children; CLA PA lower than all pupils
 *   (DfE "Outcomes for children looked after", 2018: PA 10.6%). UNCONFIRMED for 2024/25.
 */

export type Phase = 'primary' | 'secondary' | 'special' | 'pru';

/** Reason codes in the order the model keeps them. */
const REASON_CODES = ['I', 'M', 'G', 'O', 'U', 'N', 'R', 'S', 'T', 'E', 'C1', 'J1', 'C2', 'C'] as const;
export type ReasonCode = (typeof REASON_CODES)[number];

/** [EES-YTD] percent of possible sessions, national, 2025/26 year to date. */
export const DFE_REASON_PERCENT: Readonly<Record<Exclude<Phase, 'pru'>, Readonly<Record<ReasonCode, number>>>> = {
  primary: {
    I: 2.786,
    M: 0.272,
    G: 0.535,
    O: 0.794,
    U: 0.169,
    N: 0.049,
    R: 0.066,
    S: 0.0002,
    T: 0.014,
    E: 0.037,
    C1: 0.003,
    J1: 0.017,
    C2: 0.167,
    C: 0.367,
  },
  secondary: {
    I: 3.627,
    M: 0.376,
    G: 0.314,
    O: 2.608,
    U: 0.296,
    N: 0.049,
    R: 0.058,
    S: 0.1,
    T: 0.003,
    E: 0.289,
    C1: 0.005,
    J1: 0.016,
    C2: 0.321,
    C: 0.426,
  },
  special: {
    I: 5.019,
    M: 1.015,
    G: 0.407,
    O: 2.8,
    U: 0.323,
    N: 0.069,
    R: 0.053,
    S: 0.023,
    T: 0.007,
    E: 0.174,
    C1: 0.005,
    J1: 0.01,
    C2: 1.588,
    C: 1.675,
  },
};

/**
 * Pupil referral units / alternative provision are not in [EES-YTD]; AP absence runs at roughly
 * a third of sessions (UNCONFIRMED). Modelled as the special-school mix scaled to ~30%.
 */
const PRU_SCALE = 2.3;

export function reasonPercent(phase: Phase): Readonly<Record<ReasonCode, number>> {
  if (phase !== 'pru') return DFE_REASON_PERCENT[phase];
  const special = DFE_REASON_PERCENT.special;
  return Object.fromEntries(REASON_CODES.map((c) => [c, special[c] * PRU_SCALE])) as Record<ReasonCode, number>;
}

/** [EES-YTD] headline figures, percent. */
export const DFE_HEADLINES = {
  overallAbsence: { primary: 5.277, secondary: 8.49, special: 13.169, total: 6.883 },
  persistentAbsence: { primary: 13.77, secondary: 23.77, special: 36.06, total: 18.78 },
  /** Late before registers closed (L), percent of possible sessions. */
  lateL: { primary: 1.122, secondary: 2.79, special: 0.767, total: 1.861 },
  /** Approved educational activity, percent of possible sessions. */
  approvedActivity: { primary: 1.026, secondary: 1.558, special: 1.564, total: 1.276 },
  /** [SA] severe absence. */
  severeAbsence: { total: 2.26 },
} as const;

/** [EES-CHAR], [CIN]: absence and PA by characteristic (percent). */
export const DFE_CHARACTERISTICS = {
  fsm: { absence: 10.0, persistentAbsence: 31.7 },
  nonFsm: { absence: 5.2, persistentAbsence: 14.4 },
  ehcp: { absence: 13.1, persistentAbsence: 35.1 },
  senSupport: { absence: 10.1, persistentAbsence: 29.0 },
  noSen: { absence: 5.8, persistentAbsence: 17.0 },
  cin: { absence: 17.6, persistentAbsence: 48.8, severeAbsence: 10.4 },
  cpp: { severeAbsence: 14.8 },
} as const;

/** [SPC], [CLA], [CIN]: shares of pupils. */
export const PREVALENCE = {
  fsm: 0.257,
  /** EHC plans in mainstream schools (the national 5.3% includes special schools, where almost all have one). */
  ehcpMainstream: 0.027,
  senSupport: 0.142,
  ehcpInSpecial: 0.96,
  /** Children in need other than CPP/CLA ("CINO"): 120,300 of ~8m pupils in [CIN]. */
  cin: 0.015,
  cpp: 0.0045,
  cla: 0.006,
  plac: 0.003,
  /** Share of the LA's looked-after children placed in schools outside the LA. */
  claOutOfArea: 0.2,
} as const;

/**
 * Model parameters, tuned so that the generated LA reproduces the figures above (measured in
 * test/unit/synthetic and docs/synthetic-la.md). Multipliers apply to a pupil's propensity to be
 * absent (the "risk"); severe absence is a separate class whose probability grows with risk.
 */
export const MODEL = {
  risk: { fsm: 1.9, senSupport: 1.35, ehcpMainstream: 1.9, cin: 2.0, cpp: 2.3, cla: 0.85, plac: 1.15, household: 0.35 },
  /** Spread (σ of the log) of the individual propensity: wider where most pupils are rarely absent. */
  individualSigma: { primary: 0.8, secondary: 0.8, special: 1.7, pru: 0.9 },
  /**
   * Probability of the persistent class (absence ~10–25%) = persistentBase × risk (capped): a
   * single log-normal cannot put enough pupils just above the 10% line at these means.
   */
  persistentBase: { primary: 0.07, secondary: 0.07, special: 0.02, pru: 0.3 },
  persistentRate: { median: 0.14, sigma: 0.3 },
  /** Probability of the severe class = severeBase × risk^severePower (capped). */
  severeBase: { primary: 0.008, secondary: 0.016, special: 0.012, pru: 0.25 },
  severePower: 1.5,
  /** Children in need and on plans are more often severely absent than their risk alone gives ([CIN]: SA 10.4%, CPP 14.8%). */
  severeSocial: { cin: 2, cpp: 2.5 },
  severeRate: { lo: 0.45, hi: 0.9 },
  /** Cap on an ordinary pupil's propensity (per session). */
  ordinaryCap: 0.42,
  /** How strongly unauthorised reasons concentrate in high-absence pupils (exponent of relative rate). */
  unauthorisedTilt: 0.75,
  illnessTilt: -0.25,
  /** Corrects for episodes overlapping, caps and guards (measured; see docs/synthetic-la.md). */
  realisation: { primary: 1.01, secondary: 1.04, special: 1.08, pru: 1.0 },
  /** Share of G sessions that come from holidays of 10+ sessions (the rest are 1–3 day extensions). */
  longHolidayShare: 0.55,
  /** Share of background absence episodes (I, M, O, C) first sent as N and corrected later. */
  initialN: 0.12,
} as const;

/** Relative absence by month (Sep … Jul), shaped on the DfE weekly series [EES-CHAR; docs/design.md, Sources: DFE-METH]. */
export const MONTH_FACTOR: Readonly<Record<number, number>> = {
  9: 0.78,
  10: 0.95,
  11: 1.0,
  12: 1.08,
  1: 1.08,
  2: 1.05,
  3: 1.0,
  4: 0.95,
  5: 0.95,
  6: 0.98,
  7: 1.05,
  8: 1.0,
};
/**
 * The week before a half term runs ~15% above its neighbours and the last week of the autumn and
 * summer terms ~40% above (7.0% and 9.4% against 4.7% at the start of autumn 2024/25: DfE weekly
 * data, docs/design.md, Sources: DFE-METH).
 */
export const PRE_BREAK_FACTOR = 1.15;
export const END_OF_TERM_FACTOR = 1.4;
