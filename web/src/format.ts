/** Rates as the DfE publishes them: one decimal place and a % sign. The API's rates are percentages. */
export function pct(rate: number | null | undefined): string {
  if (rate === null || rate === undefined || !Number.isFinite(rate)) return '–';
  return `${rate.toFixed(1)}%`;
}

export function num(n: number | null | undefined): string {
  return n === null || n === undefined ? '–' : n.toLocaleString('en-GB');
}

/** A count of sessions in words: "1 session", "12 sessions". */
export function sessionCount(n: number | null | undefined): string {
  return `${num(n)} ${n === 1 ? 'session' : 'sessions'}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** 2026-09-07 → 7 Sep 2026 */
export function date(iso: string | null | undefined): string {
  if (!iso) return '–';
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso);
  if (!m) return iso;
  return `${Number(m[3])} ${MONTHS[Number(m[2]) - 1]} ${m[1]}`;
}

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '–';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${date(iso.slice(0, 10))} ${d.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', timeZone: 'Europe/London' })}`;
}

export const COHORT_LABELS: Record<string, string> = {
  all: 'All pupils',
  fsm: 'Free school meals',
  non_fsm: 'Not free school meals',
  sen_support: 'SEN support',
  non_sen_support: 'Not SEN support',
  sen_ehcp: 'EHC plan',
  non_sen_ehcp: 'No EHC plan',
  sen_none: 'No SEN',
  non_sen_none: 'Any SEN',
  cin: 'Child in need',
  non_cin: 'Not child in need',
  cpp: 'Child protection plan',
  non_cpp: 'No child protection plan',
  cla: 'Looked after',
  non_cla: 'Not looked after',
  plac: 'Previously looked after',
  non_plac: 'Not previously looked after',
  social_worker: 'Has a social worker',
  non_social_worker: 'No social worker',
};

/** The cohorts the overview sets beside their complements (issue 18), in order. */
export const GAP_COHORTS = ['fsm', 'sen_support', 'sen_ehcp', 'cin', 'cpp', 'cla'] as const;

export const FLAG_LABELS: Record<string, string> = {
  persistent_absence: 'Persistent absence',
  severe_absence: 'Severe absence',
  at_risk_pa: 'At risk of persistent absence',
  emerging_pa: 'Emerging persistent absence',
  penalty_notice_threshold: 'Penalty notice threshold',
  ten_day_unauthorised: '10 days’ continuous unauthorised absence',
  twenty_day_unauthorised: '20 days’ continuous unauthorised absence',
  illness_15_days: '15 days’ illness',
  holiday_adjacent_absence: 'Absence next to holidays',
  near_threshold_unauthorised: 'Unauthorised absence just under the threshold',
  family_pattern: 'Family pattern',
};

export const FLAG_EXPLANATIONS: Record<string, string> = {
  persistent_absence: 'Missed 10% or more of possible sessions this year (DfE definition).',
  severe_absence: 'Missed 50% or more of possible sessions this year (DfE definition).',
  at_risk_pa: 'Absence just below the persistent absence line.',
  emerging_pa: 'Absence rising towards persistent absence in recent weeks.',
  penalty_notice_threshold:
    'National Framework: 10 unauthorised sessions within a rolling 10 school weeks, across schools.',
  ten_day_unauthorised: 'National Framework: 10 school days of continuous unauthorised absence.',
  twenty_day_unauthorised: 'National Framework: 20 school days of continuous unauthorised absence.',
  illness_15_days: 'National Framework: 15 school days of illness absence in the year.',
  holiday_adjacent_absence: 'Absence repeatedly next to school holidays.',
  near_threshold_unauthorised: 'Unauthorised absence repeatedly stopping just short of the penalty-notice threshold.',
  family_pattern: 'Siblings absent on the same days.',
};

export const PHASE_LABELS: Record<string, string> = {
  primary: 'Primary',
  secondary: 'Secondary',
  special: 'Special',
  all: 'All',
};

export function cohortLabel(c: string | undefined): string {
  return (c && COHORT_LABELS[c]) || c || '';
}

export function flagLabel(f: string): string {
  return FLAG_LABELS[f] ?? f.replace(/_/g, ' ');
}
