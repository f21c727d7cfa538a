/**
 * The referral API's vocabularies with what a person reads. The web app imports no service code, so
 * these are its own; test/unit/web/referral-labels.test.ts keeps them equal to the API's values.
 */
export const STATUS_LABELS: Record<string, string> = {
  submitted: 'Submitted',
  triaged: 'Triaged',
  allocated: 'Allocated',
  in_progress: 'In progress',
  closed: 'Closed',
  withdrawn: 'Withdrawn',
};
export const STATUS_COLOURS: Record<string, 'blue' | 'yellow' | 'purple' | 'orange' | 'green' | 'grey'> = {
  submitted: 'blue',
  triaged: 'yellow',
  allocated: 'purple',
  in_progress: 'orange',
  closed: 'green',
  withdrawn: 'grey',
};
export const TYPE_LABELS: Record<string, string> = {
  persistent_absence: 'Persistent absence',
  severe_absence: 'Severe absence',
  penalty_notice_request: 'Penalty notice request',
  ten_day_unauthorised: '10 days’ continuous unauthorised absence',
  children_missing_education: 'Children missing education',
  illness_15_days: '15 days’ illness',
  early_help: 'Early help',
  safeguarding: 'Safeguarding',
  other: 'Other',
};
export const PRIORITY_LABELS: Record<string, string> = { low: 'Low', normal: 'Normal', high: 'High', urgent: 'Urgent' };
export const ACTION_LABELS: Record<string, string> = {
  letter: 'Letter',
  meeting: 'Meeting',
  attendance_contract: 'Attendance contract',
  parenting_contract: 'Parenting contract',
  notice_to_improve: 'Notice to improve',
  penalty_notice_issued: 'Penalty notice issued',
  penalty_notice_paid: 'Penalty notice paid',
  penalty_notice_withdrawn: 'Penalty notice withdrawn',
  education_supervision_order: 'Education supervision order',
  prosecution: 'Prosecution',
};
export const OUTCOME_LABELS: Record<string, string> = {
  attendance_improved: 'Attendance improved',
  support_in_place: 'Support in place',
  penalty_notice_paid: 'Penalty notice paid',
  education_supervision_order: 'Education supervision order',
  prosecution: 'Prosecution',
  referred_to_other_service: 'Referred to another service',
  pupil_left: 'Pupil left',
  no_further_action: 'No further action',
  other: 'Other',
};
