/**
 * Referral cases (docs/design.md §5): the state machine, what may be recorded in which state, the append-only
 * event each change produces, the triage service level, the evidence snapshot and the suggestions.
 * Pure: the API loads and stores; this decides.
 *
 * Lifecycle
 *   submitted → triaged → allocated → in_progress → closed
 *   any open state (submitted, triaged, allocated, in_progress) → withdrawn
 *   closed and withdrawn are final: nothing about the case changes any more except that notes and
 *   payments/withdrawals of notices it issued may still be appended (see below).
 * - `allocated` needs an assignee (set in the same update or before); an assignee can only be given
 *   with or after allocation, and never removed from an allocated case (re-allocation replaces it).
 * - `closed` needs an outcome, given in the same update; an outcome is given only by closing.
 * - `withdrawn` needs a reason.
 * - Priority and parents may change in any open state. A parent to whom this case issued a penalty
 *   notice cannot be removed.
 *
 * Actions (letter, meeting, contracts, notice to improve, penalty notice issued, education
 * supervision order, prosecution) are recorded only once the case is allocated or in progress: the
 * first action on an allocated case moves it to in_progress in the same event. Penalty notices are
 * issued to one of the case's named parents and are decided by `nextPenaltyNotice` over every notice
 * recorded for the pupil (all cases); a refused notice is not recorded. `penalty_notice_paid` and
 * `penalty_notice_withdrawn` refer to a notice issued on this case and may be recorded in any state,
 * closed and withdrawn included: the payment or withdrawal of a notice often comes after the case
 * closes, and the escalation count depends on it (withdrawn notices do not count). Notes may be
 * appended in any state.
 *
 * Events: every change is one event, numbered by the case version it produced (creation = 1), with
 * who (sub, role), when, and each changed field's old and new value (plus the action or note). Events
 * are never changed or removed.
 *
 * Overdue: a case still `submitted` after its triage due date. The due date is fixed at creation:
 * the `referralTriageDays`-th working day after the day the case was created, where working days are
 * the caller's choice (the API counts weekdays that are not bank holidays in England and Wales).
 * Created on Monday with 5 days: due the next Monday, overdue from Tuesday.
 *
 * Public API: constants and types below; `allowedTransitions`, `isOpen`, `newReferral`,
 * `updateReferral`, `recordAction`, `addNote`, `closeWithOutcome`, `penaltyNoticesOf`,
 * `triageDueOn`, `workingDaysAfter`, `isOverdue`, `referralView`, `parentIdOf`, `evidenceSnapshot`,
 * `referralSuggestions`, `mayWithdrawAsReferrer`, `raisedBy`, `ReferralRuleError`.
 */
import { flagsForSchool, type Role } from './access.js';
import { ALL_CODES } from './codes.js';
import { addDays, dayNumber } from './dates.js';
import { statutoryAgeOf } from './national-framework.js';
import type { PupilFlag, PupilYearSummary } from './pupil-summary.js';
import { CODE_COUNT, isPersistentAbsence, isSevereAbsence, toStats, type Stats } from './stats.js';
import {
  amountDue,
  nextPenaltyNotice,
  type PenaltyNoticeAmount,
  type PenaltyNoticeDecision,
  type PenaltyNoticeRecord,
} from './penalty-notices.js';

export const REFERRAL_TYPES = [
  'persistent_absence',
  'severe_absence',
  'penalty_notice_request',
  'ten_day_unauthorised',
  'children_missing_education',
  'illness_15_days',
  'early_help',
  'safeguarding',
  'other',
] as const;
export type ReferralType = (typeof REFERRAL_TYPES)[number];

export const REFERRAL_STATUSES = ['submitted', 'triaged', 'allocated', 'in_progress', 'closed', 'withdrawn'] as const;
export type ReferralStatus = (typeof REFERRAL_STATUSES)[number];
export const OPEN_STATUSES: readonly ReferralStatus[] = ['submitted', 'triaged', 'allocated', 'in_progress'];

export const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export type Priority = (typeof PRIORITIES)[number];

export const ACTION_TYPES = [
  'letter',
  'meeting',
  'attendance_contract',
  'parenting_contract',
  'notice_to_improve',
  'penalty_notice_issued',
  'penalty_notice_paid',
  'penalty_notice_withdrawn',
  'education_supervision_order',
  'prosecution',
] as const;
export type ActionType = (typeof ACTION_TYPES)[number];

export const OUTCOMES = [
  'attendance_improved',
  'support_in_place',
  'penalty_notice_paid',
  'education_supervision_order',
  'prosecution',
  'referred_to_other_service',
  'pupil_left',
  'no_further_action',
  'other',
] as const;
export type OutcomeType = (typeof OUTCOMES)[number];

/** Statuses in which each kind of action may be recorded. */
export const ACTION_STATUSES: Readonly<Record<ActionType, readonly ReferralStatus[]>> = {
  letter: ['allocated', 'in_progress'],
  meeting: ['allocated', 'in_progress'],
  attendance_contract: ['allocated', 'in_progress'],
  parenting_contract: ['allocated', 'in_progress'],
  notice_to_improve: ['allocated', 'in_progress'],
  penalty_notice_issued: ['allocated', 'in_progress'],
  education_supervision_order: ['allocated', 'in_progress'],
  prosecution: ['allocated', 'in_progress'],
  penalty_notice_paid: REFERRAL_STATUSES,
  penalty_notice_withdrawn: REFERRAL_STATUSES,
};

const TRANSITIONS: Readonly<Record<ReferralStatus, readonly ReferralStatus[]>> = {
  submitted: ['triaged', 'withdrawn'],
  triaged: ['allocated', 'withdrawn'],
  allocated: ['in_progress', 'withdrawn'],
  in_progress: ['closed', 'withdrawn'],
  closed: [],
  withdrawn: [],
};

export function allowedTransitions(from: ReferralStatus): ReferralStatus[] {
  return [...TRANSITIONS[from]];
}

function isOpen(status: ReferralStatus): boolean {
  return OPEN_STATUSES.includes(status);
}

// ---- Types -----------------------------------------------------------------------------------------

export interface Actor {
  sub: string;
  role: Role;
  urn?: string;
}

export interface Parent {
  id: string;
  name: string;
  relationship: string;
}

export interface ParentInput {
  id?: string;
  name: string;
  relationship: string;
}

export interface Outcome {
  type: OutcomeType;
  summary?: string;
  /** The date the outcome was reached (defaults to the closing day). */
  date: string;
}

export interface ReferralAction {
  /** A1, A2 … in the order recorded on this case. */
  id: string;
  type: ActionType;
  /** The day the action took place (a letter sent, a meeting held, a notice issued or paid). */
  date: string;
  recordedAt: string;
  recordedBy: Actor;
  notes?: string;
  /** The parent it concerns: required for penalty notices, optional for contracts, letters, meetings. */
  parentId?: string;
  /** penalty_notice_paid / _withdrawn: the id of the penalty_notice_issued action on this case. */
  noticeId?: string;
  /** penalty_notice_issued: what `nextPenaltyNotice` decided. */
  penaltyNotice?: {
    sequence: 1 | 2;
    amount: PenaltyNoticeAmount;
    period: { start: string; end: string };
    ageUnknown?: true;
  };
  /** penalty_notice_paid: what was due on the payment day. */
  payment?: { amount: number; band: 'reduced' | 'full'; daysAfterIssue: number };
  /** notice_to_improve: the improvement period. */
  noticeToImprove?: { startDate: string; periodDays: number };
}

export interface Referral {
  id: string;
  upn: string;
  /** The school the case is about (the referring school for a school's referral). */
  urn: string;
  type: ReferralType;
  reason: string;
  priority: Priority;
  status: ReferralStatus;
  assignee: string | null;
  parents: Parent[];
  evidence: Evidence;
  actions: ReferralAction[];
  outcome: Outcome | null;
  createdAt: string;
  createdBy: Actor;
  /** Date (England) the case was created, and the last day it may be triaged within the service level. */
  createdOn: string;
  triageDueOn: string;
  triagedAt: string | null;
  closedAt: string | null;
  withdrawnAt: string | null;
  withdrawalReason: string | null;
  updatedAt: string;
  version: number;
}

export interface FieldChange {
  field: string;
  from: unknown;
  to: unknown;
}

export type EventKind = 'created' | 'updated' | 'action' | 'note';

export interface ReferralEvent {
  /** The case version this event produced. */
  seq: number;
  at: string;
  by: Actor;
  kind: EventKind;
  changes: FieldChange[];
  action?: ReferralAction;
  note?: string;
}

export interface Change {
  referral: Referral;
  event: ReferralEvent;
}

export type ReferralErrorCode =
  | 'invalid_transition'
  | 'case_final'
  | 'action_not_allowed'
  | 'missing_assignee'
  | 'assignee_before_allocation'
  | 'missing_outcome'
  | 'outcome_without_close'
  | 'missing_reason'
  | 'unknown_parent'
  | 'parent_in_use'
  | 'duplicate_parent'
  | 'unknown_notice'
  | 'notice_not_outstanding'
  | 'penalty_notice_refused'
  | 'payment_refused'
  | 'future_date'
  | 'invalid_date'
  | 'no_change';

/** A change the rules refuse. `details.allowed` lists the allowed transitions where that helps. */
export class ReferralRuleError extends Error {
  constructor(
    readonly code: ReferralErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ReferralRuleError';
  }
}

// ---- Parents ---------------------------------------------------------------------------------------

/**
 * A parent's id: the caller's own (the LA's person id) when given, otherwise derived from the name
 * (case, spacing and punctuation ignored) so that the same parent named on another referral about
 * the same child is the same parent for penalty-notice counting.
 */
export function parentIdOf(p: ParentInput): string {
  if (p.id && p.id.trim()) return p.id.trim();
  const normalised = p.name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z]+/g, ' ')
    .trim();
  let h = 0x811c9dc5;
  for (let i = 0; i < normalised.length; i++) {
    h ^= normalised.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `P${h.toString(16).padStart(8, '0')}`;
}

function toParents(inputs: readonly ParentInput[]): Parent[] {
  const out: Parent[] = [];
  for (const p of inputs) {
    const parent = { id: parentIdOf(p), name: p.name.trim(), relationship: p.relationship.trim() };
    if (out.some((o) => o.id === parent.id))
      throw new ReferralRuleError('duplicate_parent', `Parent ${parent.id} is listed twice.`, { parentId: parent.id });
    out.push(parent);
  }
  return out;
}

// ---- Creation ----------------------------------------------------------------------------------------

export interface NewReferralInput {
  id: string;
  upn: string;
  urn: string;
  type: ReferralType;
  reason: string;
  priority?: Priority;
  parents?: ParentInput[];
  evidence: Evidence;
}

export interface ChangeContext {
  actor: Actor;
  /** ISO timestamp of the change. */
  at: string;
  /** Today's date in England (actions cannot be dated after it). */
  today: string;
}

export function newReferral(input: NewReferralInput, ctx: ChangeContext & { triageDueOn: string }): Change {
  const referral: Referral = {
    id: input.id,
    upn: input.upn,
    urn: input.urn,
    type: input.type,
    reason: input.reason.trim(),
    priority: input.priority ?? 'normal',
    status: 'submitted',
    assignee: null,
    parents: toParents(input.parents ?? []),
    evidence: input.evidence,
    actions: [],
    outcome: null,
    createdAt: ctx.at,
    createdBy: ctx.actor,
    createdOn: ctx.today,
    triageDueOn: ctx.triageDueOn,
    triagedAt: null,
    closedAt: null,
    withdrawnAt: null,
    withdrawalReason: null,
    updatedAt: ctx.at,
    version: 1,
  };
  const changes: FieldChange[] = [
    { field: 'status', from: null, to: 'submitted' },
    { field: 'type', from: null, to: referral.type },
    { field: 'priority', from: null, to: referral.priority },
    ...(referral.parents.length ? [{ field: 'parents', from: null, to: referral.parents }] : []),
  ];
  return { referral, event: { seq: 1, at: ctx.at, by: ctx.actor, kind: 'created', changes } };
}

// ---- Updates -----------------------------------------------------------------------------------------

export interface ReferralPatch {
  status?: ReferralStatus;
  priority?: Priority;
  assignee?: string | null;
  parents?: ParentInput[];
  outcome?: { type: OutcomeType; summary?: string; date?: string };
  /** Why the case is withdrawn (required with status withdrawn). */
  reason?: string;
  /** A comment kept on the event. */
  note?: string;
}

function refuseTransition(from: ReferralStatus, to: ReferralStatus): never {
  const allowed = allowedTransitions(from);
  throw new ReferralRuleError(
    allowed.length ? 'invalid_transition' : 'case_final',
    allowed.length
      ? `A ${from} case cannot become ${to}; allowed: ${allowed.join(', ')}.`
      : `The case is ${from}, which is final: only notes, and payments or withdrawals of its penalty notices, can still be recorded.`,
    { from, to, allowed },
  );
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function bump(r: Referral, at: string): Referral {
  return { ...r, version: r.version + 1, updatedAt: at };
}

/** A PATCH: status transition and/or priority, assignee, parents; one event listing every change. */
export function updateReferral(r: Referral, patch: ReferralPatch, ctx: ChangeContext): Change {
  const changes: FieldChange[] = [];
  const next: Referral = { ...r };
  const to = patch.status !== undefined && patch.status !== r.status ? patch.status : undefined;
  const finalState = !isOpen(r.status);

  if (patch.status !== undefined && patch.status === r.status && finalState) refuseTransition(r.status, patch.status);
  if (
    finalState &&
    (to ||
      patch.priority !== undefined ||
      patch.assignee !== undefined ||
      patch.parents !== undefined ||
      patch.outcome !== undefined)
  ) {
    refuseTransition(r.status, to ?? r.status);
  }
  if (to && !TRANSITIONS[r.status].includes(to)) refuseTransition(r.status, to);

  if (patch.outcome !== undefined && to !== 'closed') {
    throw new ReferralRuleError(
      'outcome_without_close',
      'An outcome is given when closing the case: send status "closed" with it.',
    );
  }

  if (patch.priority !== undefined && patch.priority !== r.priority) {
    changes.push({ field: 'priority', from: r.priority, to: patch.priority });
    next.priority = patch.priority;
  }

  if (patch.assignee !== undefined && patch.assignee !== r.assignee) {
    const allocatedAfter = to === 'allocated' || r.status === 'allocated' || r.status === 'in_progress';
    if (patch.assignee === null) {
      throw new ReferralRuleError(
        'missing_assignee',
        'An allocated case keeps an assignee; give the new assignee to re-allocate it.',
      );
    }
    if (!allocatedAfter) {
      throw new ReferralRuleError(
        'assignee_before_allocation',
        `Assign the case by allocating it (status "allocated" with an assignee); it is ${r.status}.`,
        { allowed: allowedTransitions(r.status) },
      );
    }
    changes.push({ field: 'assignee', from: r.assignee, to: patch.assignee });
    next.assignee = patch.assignee;
  }

  if (patch.parents !== undefined) {
    const parents = toParents(patch.parents);
    const noticeParents = new Set(r.actions.filter((a) => a.type === 'penalty_notice_issued').map((a) => a.parentId));
    const removed = r.parents.filter((p) => noticeParents.has(p.id) && !parents.some((q) => q.id === p.id));
    if (removed.length) {
      throw new ReferralRuleError(
        'parent_in_use',
        `A penalty notice was issued to ${removed.map((p) => p.id).join(', ')} on this case; that parent cannot be removed.`,
        { parentIds: removed.map((p) => p.id) },
      );
    }
    if (!same(parents, r.parents)) {
      changes.push({ field: 'parents', from: r.parents, to: parents });
      next.parents = parents;
    }
  }

  if (to) {
    if (to === 'allocated' && !next.assignee)
      throw new ReferralRuleError('missing_assignee', 'Allocating a case needs an assignee.');
    if (to === 'closed') {
      if (!patch.outcome)
        throw new ReferralRuleError(
          'missing_outcome',
          `Closing a case needs an outcome (one of ${OUTCOMES.join(', ')}).`,
        );
      const outcome: Outcome = {
        type: patch.outcome.type,
        date: patch.outcome.date ?? ctx.today,
        ...(patch.outcome.summary ? { summary: patch.outcome.summary } : {}),
      };
      if (outcome.date > ctx.today)
        throw new ReferralRuleError('future_date', `The outcome date ${outcome.date} is after today.`);
      changes.push({ field: 'outcome', from: null, to: outcome });
      next.outcome = outcome;
      next.closedAt = ctx.at;
    }
    if (to === 'withdrawn') {
      const reason = patch.reason?.trim();
      if (!reason) throw new ReferralRuleError('missing_reason', 'Withdrawing a case needs a reason.');
      changes.push({ field: 'withdrawalReason', from: null, to: reason });
      next.withdrawalReason = reason;
      next.withdrawnAt = ctx.at;
    }
    if (to === 'triaged') next.triagedAt = ctx.at;
    changes.unshift({ field: 'status', from: r.status, to });
    next.status = to;
  }

  const note = patch.note?.trim();
  if (changes.length === 0 && !note)
    throw new ReferralRuleError('no_change', 'The request changes nothing on the case.');
  const referral = bump(next, ctx.at);
  return {
    referral,
    event: {
      seq: referral.version,
      at: ctx.at,
      by: ctx.actor,
      kind: changes.length ? 'updated' : 'note',
      changes,
      ...(note ? { note } : {}),
    },
  };
}

/** Close an in-progress case with its outcome (the events route's `outcome` kind). */
export function closeWithOutcome(
  r: Referral,
  outcome: { type: OutcomeType; summary?: string; date?: string },
  ctx: ChangeContext,
): Change {
  return updateReferral(r, { status: 'closed', outcome }, ctx);
}

/** A note on the case, allowed in every state. */
export function addNote(r: Referral, text: string, ctx: ChangeContext): Change {
  const note = text.trim();
  if (!note) throw new ReferralRuleError('no_change', 'A note needs some text.');
  const referral = bump(r, ctx.at);
  return { referral, event: { seq: referral.version, at: ctx.at, by: ctx.actor, kind: 'note', changes: [], note } };
}

// ---- Actions -----------------------------------------------------------------------------------------

export interface ActionInput {
  type: ActionType;
  date: string;
  notes?: string;
  parentId?: string;
  noticeId?: string;
  /** notice_to_improve: first day of the improvement period (default: the action's date). */
  startDate?: string;
  /** notice_to_improve: length in school days (default: the LA's setting). */
  periodDays?: number;
}

export interface ActionContext extends ChangeContext {
  /** Every penalty notice recorded for this pupil, on all cases (this one included). */
  penaltyNoticeHistory: readonly PenaltyNoticeRecord[];
  /** LaSettings.noticeToImprovePeriodDays. */
  noticeToImprovePeriodDays: number;
}

/** Record an action; refuses it in the wrong state, for an unknown parent, or when escalation says no. */
export function recordAction(r: Referral, input: ActionInput, ctx: ActionContext): Change {
  if (!ACTION_STATUSES[input.type].includes(r.status)) {
    const statuses = ACTION_STATUSES[input.type];
    throw new ReferralRuleError(
      'action_not_allowed',
      `A ${input.type} action can be recorded only on a case that is ${statuses.join(' or ')}; this case is ${r.status}.` +
        (isOpen(r.status) ? ` Allowed transitions: ${allowedTransitions(r.status).join(', ')}.` : ''),
      { status: r.status, actionStatuses: statuses, allowed: allowedTransitions(r.status) },
    );
  }
  if (input.date > ctx.today)
    throw new ReferralRuleError('future_date', `The action date ${input.date} is after today (${ctx.today}).`);
  const id = `A${r.actions.length + 1}`;
  const action: ReferralAction = {
    id,
    type: input.type,
    date: input.date,
    recordedAt: ctx.at,
    recordedBy: ctx.actor,
    ...(input.notes ? { notes: input.notes.trim() } : {}),
  };
  const changes: FieldChange[] = [];

  if (input.parentId !== undefined || input.type === 'penalty_notice_issued') {
    const parent = r.parents.find((p) => p.id === input.parentId);
    if (!parent) {
      throw new ReferralRuleError(
        'unknown_parent',
        input.parentId === undefined
          ? "A penalty notice is issued to a named parent: give parentId (one of the case's parents)."
          : `No parent ${input.parentId} on this case; add the parent first (PATCH parents).`,
        { parentIds: r.parents.map((p) => p.id) },
      );
    }
    action.parentId = parent.id;
  }

  switch (input.type) {
    case 'penalty_notice_issued': {
      // The child's age from the date of birth in the case's evidence (docs/design.md §2.5).
      const age = statutoryAgeOf(r.evidence?.pupil?.dob);
      const decision: PenaltyNoticeDecision = nextPenaltyNotice(ctx.penaltyNoticeHistory, {
        parentId: action.parentId as string,
        upn: r.upn,
        on: input.date,
        age,
      });
      if (!decision.allowed) {
        throw new ReferralRuleError('penalty_notice_refused', decision.reason, {
          refusal: decision.code,
          alternatives: decision.alternatives,
          period: decision.period,
          nextAllowedOn: decision.nextAllowedOn,
          previous: decision.previous,
        });
      }
      action.penaltyNotice = {
        sequence: decision.sequence,
        amount: decision.amount,
        period: decision.period,
        ...(decision.ageUnknown ? { ageUnknown: true as const } : {}),
      };
      break;
    }
    case 'penalty_notice_paid':
    case 'penalty_notice_withdrawn': {
      const notice = penaltyNoticesOf(r).find((n) => n.actionId === input.noticeId);
      if (!notice) {
        throw new ReferralRuleError(
          'unknown_notice',
          `Give noticeId: the id of a penalty_notice_issued action on this case (${
            penaltyNoticesOf(r)
              .map((n) => n.actionId)
              .join(', ') || 'none issued'
          }).`,
        );
      }
      if (notice.status !== 'issued') {
        throw new ReferralRuleError(
          'notice_not_outstanding',
          `Notice ${notice.actionId} is already ${notice.status}.`,
          { noticeStatus: notice.status },
        );
      }
      if (input.date < notice.issuedOn) {
        throw new ReferralRuleError(
          'invalid_date',
          `The date ${input.date} is before the notice was issued (${notice.issuedOn}).`,
        );
      }
      if (input.type === 'penalty_notice_paid') {
        const due = amountDue(notice, input.date);
        if (!due.payable) throw new ReferralRuleError('payment_refused', due.reason, { refusal: due.code });
        action.payment = { amount: due.amount, band: due.band, daysAfterIssue: due.daysAfterIssue };
      }
      action.noticeId = notice.actionId;
      if (!action.parentId) action.parentId = notice.parentId;
      break;
    }
    case 'notice_to_improve': {
      action.noticeToImprove = {
        startDate: input.startDate ?? input.date,
        periodDays: input.periodDays ?? ctx.noticeToImprovePeriodDays,
      };
      break;
    }
    default:
      break;
  }

  const next: Referral = { ...r, actions: [...r.actions, action] };
  if (r.status === 'allocated') {
    changes.push({ field: 'status', from: 'allocated', to: 'in_progress' });
    next.status = 'in_progress';
  }
  changes.push({ field: 'actions', from: null, to: id });
  const referral = bump(next, ctx.at);
  return { referral, event: { seq: referral.version, at: ctx.at, by: ctx.actor, kind: 'action', changes, action } };
}

/** A notice as seen on a case: where it stands, what it costs, what was paid. */
export interface CasePenaltyNotice extends PenaltyNoticeRecord {
  referralId: string;
  actionId: string;
  amount: PenaltyNoticeAmount;
  period: { start: string; end: string };
  amountPaid?: number;
  /** Last day it can be paid (28 days after issue). */
  payableUntil: string;
}

/** The penalty notices issued on this case, folded from its actions. */
export function penaltyNoticesOf(r: Pick<Referral, 'id' | 'upn' | 'actions'>): CasePenaltyNotice[] {
  const notices: CasePenaltyNotice[] = [];
  for (const a of r.actions) {
    if (a.type === 'penalty_notice_issued' && a.penaltyNotice && a.parentId) {
      notices.push({
        id: `${r.id}/${a.id}`,
        referralId: r.id,
        actionId: a.id,
        parentId: a.parentId,
        upn: r.upn,
        issuedOn: a.date,
        status: 'issued',
        sequence: a.penaltyNotice.sequence,
        amount: a.penaltyNotice.amount,
        period: a.penaltyNotice.period,
        payableUntil: addDays(a.date, a.penaltyNotice.amount.fullPayableWithinDays),
      });
      continue;
    }
    const n = notices.find((x) => x.actionId === a.noticeId);
    if (!n) continue;
    if (a.type === 'penalty_notice_paid') {
      n.status = 'paid';
      n.paidOn = a.date;
      if (a.payment) n.amountPaid = a.payment.amount;
    } else if (a.type === 'penalty_notice_withdrawn') {
      n.status = 'withdrawn';
      n.withdrawnOn = a.date;
    }
  }
  return notices;
}

// ---- Notices not paid --------------------------------------------------------------------------------

/**
 * A penalty notice past its payment date (28 days after issue) with no payment or withdrawal recorded,
 * awaiting the LA's decision: prosecute for the offence (section 444) or withdraw the notice, as the
 * schools' policies describe the escalation. It leaves the list when the notice is withdrawn or a
 * prosecution action for its parent is recorded on the case.
 */
export interface UnpaidPenaltyNotice {
  noticeId: string;
  referralId: string;
  caseStatus: ReferralStatus;
  urn: string;
  child: { upn: string; forename: string | null; surname: string | null; dob: string | null };
  parent: Parent;
  issuedOn: string;
  sequence: number;
  amount: number;
  /** Last day it could be paid. */
  payableUntil: string;
  /** Days since the last day it could be paid. */
  daysUnpaid: number;
  awaiting: 'prosecution_or_withdrawal';
}

type NoticeCase = Pick<Referral, 'id' | 'upn' | 'urn' | 'status' | 'parents' | 'actions'> & {
  evidence?: { pupil?: Evidence['pupil'] };
};

/** A prosecution of the notice's parent recorded on the case on or after the notice was issued. */
function prosecutedFor(r: Pick<Referral, 'actions'>, n: CasePenaltyNotice): boolean {
  return r.actions.some(
    (a) => a.type === 'prosecution' && a.date >= n.issuedOn && (a.parentId === undefined || a.parentId === n.parentId),
  );
}

/**
 * Whether a case holds a notice still outstanding: issued, neither paid nor withdrawn, its parent not
 * prosecuted since. Only such a case can appear in `unpaidPenaltyNotices`, on any day: the cases the
 * store keeps in a list of their own for it.
 */
export function hasOutstandingNotice(r: Pick<Referral, 'id' | 'upn' | 'actions'>): boolean {
  return penaltyNoticesOf(r).some((n) => n.status === 'issued' && !prosecutedFor(r, n));
}

/** Every notice past its payment date awaiting a decision, as at `today`, longest unpaid first. */
export function unpaidPenaltyNotices(cases: ReadonlyArray<NoticeCase>, today: string): UnpaidPenaltyNotice[] {
  const out: UnpaidPenaltyNotice[] = [];
  for (const r of cases) {
    for (const n of penaltyNoticesOf(r)) {
      if (n.status !== 'issued' || today <= n.payableUntil) continue;
      if (prosecutedFor(r, n)) continue;
      const parent = r.parents.find((p) => p.id === n.parentId) ?? { id: n.parentId, name: '', relationship: '' };
      const pupil = r.evidence?.pupil;
      out.push({
        noticeId: n.id,
        referralId: r.id,
        caseStatus: r.status,
        urn: r.urn,
        child: {
          upn: r.upn,
          forename: pupil?.forename ?? null,
          surname: pupil?.surname ?? null,
          dob: pupil?.dob ?? null,
        },
        parent: { ...parent },
        issuedOn: n.issuedOn,
        sequence: n.sequence ?? 1,
        amount: n.amount.full,
        payableUntil: n.payableUntil,
        daysUnpaid: dayNumber(today) - dayNumber(n.payableUntil),
        awaiting: 'prosecution_or_withdrawal',
      });
    }
  }
  return out.sort((a, b) => b.daysUnpaid - a.daysUnpaid || (a.noticeId < b.noticeId ? -1 : 1));
}

// ---- Service level -----------------------------------------------------------------------------------

/** Working days strictly after `from`, up to and including `to`. */
export function workingDaysAfter(from: string, to: string, isWorkingDay: (date: string) => boolean): number {
  let n = 0;
  for (let d = addDays(from, 1); d <= to; d = addDays(d, 1)) if (isWorkingDay(d)) n++;
  return n;
}

/** The last day a case created on `createdOn` may be triaged: the `days`-th working day after it. */
export function triageDueOn(createdOn: string, days: number, isWorkingDay: (date: string) => boolean): string {
  let d = createdOn;
  // A calendar with no working days at all would loop for ever: stop after ten years.
  for (let found = 0, scanned = 0; found < days && scanned < 3660; scanned++) {
    d = addDays(d, 1);
    if (isWorkingDay(d)) found++;
  }
  return d;
}

/** Still awaiting triage after its due date. */
export function isOverdue(r: Pick<Referral, 'status' | 'triageDueOn'>, today: string): boolean {
  return r.status === 'submitted' && today > r.triageDueOn;
}

/** What the API shows on top of the stored case. */
export interface ReferralView extends Referral {
  open: boolean;
  overdue: boolean;
  /** Triaged after the due date (null until triaged). */
  triagedLate: boolean | null;
  allowedTransitions: ReferralStatus[];
  penaltyNotices: CasePenaltyNotice[];
}

export function referralView(r: Referral, today: string): ReferralView {
  return {
    ...r,
    open: isOpen(r.status),
    overdue: isOverdue(r, today),
    triagedLate: r.triagedAt ? r.triagedAt.slice(0, 10) > r.triageDueOn : null,
    allowedTransitions: allowedTransitions(r.status),
    penaltyNotices: penaltyNoticesOf(r),
  };
}

/**
 * Whether `by` raised the case. The referrer is the body that raised it, not one login: a school's
 * case is its school's (any of its staff), the Virtual School's the Virtual School's. A case an LA
 * officer raised is nobody else's, even when it is about a school's or the Virtual School's pupil.
 */
function raisedBy(r: Pick<Referral, 'createdBy'>, by: Pick<Actor, 'role' | 'urn' | 'sub'>): boolean {
  const c = r.createdBy;
  if (c.role !== by.role) return false;
  if (by.role === 'school') return c.urn !== undefined && c.urn === by.urn;
  if (by.role === 'vsh') return true;
  return c.sub === by.sub;
}

/**
 * A referrer who may not work cases (school, VSH) may still withdraw its own case before triage,
 * and only its own (docs/design.md §5; issue 15: never a case the LA or another referrer raised).
 */
export function mayWithdrawAsReferrer(
  r: Pick<Referral, 'status' | 'createdBy'>,
  patch: ReferralPatch,
  by: Pick<Actor, 'role' | 'urn' | 'sub'>,
): boolean {
  const keys = Object.entries(patch)
    .filter(([, v]) => v !== undefined)
    .map(([key]) => key);
  return (
    raisedBy(r, by) &&
    r.status === 'submitted' &&
    patch.status === 'withdrawn' &&
    keys.every((key) => ['status', 'reason', 'note'].includes(key))
  );
}

// ---- Evidence ----------------------------------------------------------------------------------------

export interface Evidence {
  takenAt: string;
  academicYear: number;
  /** Version of the pupil summary the snapshot was taken from. */
  summaryVersion: number;
  pupil: { forename: string | null; surname: string | null; dob: string | null; yearGroup: string | null };
  cohorts: string[];
  everCohorts: string[];
  totals: Stats;
  persistentAbsence: boolean;
  severeAbsence: boolean;
  enrolments: Array<{
    urn: string;
    academicYear: number;
    registration: string;
    admissionDate: string | null;
    leavingDate: string | null;
    stats: Stats;
    persistentAbsence: boolean;
    severeAbsence: boolean;
  }>;
  flags: PupilFlag[];
  /** The penalty-notice threshold flag's evidence (window, sessions by date and code), when met. */
  thresholdWindow: Record<string, unknown> | null;
}

/**
 * A case's evidence as a school reads it (issue 15): its own enrolments' figures only, PA and SA on
 * them, the flags the LA shares (type and date; evidence only its own), and no cohorts (the LA's
 * social-care lists are in them). When the school was the child's only school that year the
 * figures are its own already and stay as taken.
 */
export function evidenceForSchool(e: Evidence, urn: string, sharedFlags: readonly string[]): Evidence {
  const own = e.enrolments.filter((x) => x.urn === urn);
  const sole = own.length === e.enrolments.length;
  const threshold = sole && sharedFlags.includes('penalty_notice_threshold') ? e.thresholdWindow : null;
  if (sole)
    return {
      ...e,
      cohorts: [],
      everCohorts: [],
      flags: flagsForSchool(e.flags, urn, sharedFlags, true),
      thresholdWindow: threshold,
    };
  const counts = new Array<number>(CODE_COUNT).fill(0);
  for (const x of own)
    for (const [code, n] of Object.entries(x.stats.codes)) {
      const i = ALL_CODES.indexOf(code);
      if (i >= 0) counts[i] += n;
    }
  const totals = toStats(counts);
  return {
    ...e,
    cohorts: [],
    everCohorts: [],
    totals,
    enrolments: own,
    persistentAbsence: isPersistentAbsence(totals.absenceSessions, totals.possibleSessions),
    severeAbsence: isSevereAbsence(totals.absenceSessions, totals.possibleSessions),
    flags: flagsForSchool(e.flags, urn, sharedFlags),
    thresholdWindow: null,
  };
}

/** The pupil as the LA saw them when the case was opened: kept unchanged on the case for ever. */
export function evidenceSnapshot(
  year: PupilYearSummary,
  opts: { takenAt: string; summaryVersion: number; extraFlags?: readonly PupilFlag[] },
): Evidence {
  const flags = [...year.flags, ...(opts.extraFlags ?? [])];
  const threshold = flags.find((f) => f.type === 'penalty_notice_threshold');
  return {
    takenAt: opts.takenAt,
    academicYear: year.academicYear,
    summaryVersion: opts.summaryVersion,
    pupil: {
      forename: year.forename ?? null,
      surname: year.surname ?? null,
      dob: year.dob ?? null,
      yearGroup: year.yearGroup ?? null,
    },
    cohorts: [...year.cohorts],
    everCohorts: [...year.everCohorts],
    totals: toStats(year.counts),
    persistentAbsence: year.persistentAbsence,
    severeAbsence: year.severeAbsence,
    enrolments: year.enrolments.map((e) => ({
      urn: e.urn,
      academicYear: e.academicYear,
      registration: e.registration,
      admissionDate: e.admissionDate ?? null,
      leavingDate: e.leavingDate ?? null,
      stats: toStats(e.counts),
      persistentAbsence: e.persistentAbsence,
      severeAbsence: e.severeAbsence,
    })),
    flags,
    thresholdWindow: threshold ? { since: threshold.since, ...threshold.detail } : null,
  };
}

// ---- Suggestions -------------------------------------------------------------------------------------

/** A flagged pupil as the LA list holds them (PupilRow), with flag detail where known. */
export interface SuggestionCandidate {
  upn: string;
  forename?: string;
  surname?: string;
  yearGroup?: string;
  urns: string[];
  possible: number;
  authorised: number;
  unauthorised: number;
  flags: ReadonlyArray<{ type: string; since: string; detail?: Record<string, unknown> }>;
}

export interface SuggestionReason {
  flag: string;
  since: string;
  referralType: ReferralType;
  /**
   * penalty_notice_threshold: the policies' route (national-framework.ts PenaltyNoticeRoute) — leave in
   * term time → a penalty-notice request; irregular attendance → a notice to improve first — and why.
   */
  route?: string;
  firstStep?: string;
  why?: string;
  /** The pupil has no date of birth: whether they are of compulsory school age is for the officer to check. */
  ageUnknown?: true;
}

export interface Suggestion {
  upn: string;
  forename: string | null;
  surname: string | null;
  yearGroup: string | null;
  urns: string[];
  /** The type a referral should have: the most serious reason's. */
  suggestedType: ReferralType;
  reasons: SuggestionReason[];
  /** A statutory reason rests on a pupil with no date of birth: check they are of compulsory school age. */
  ageUnknown: boolean;
  absenceRate: number | null;
  unauthorisedSessions: number;
}

/** Most serious first: a child missing education is a safeguarding risk; illness is a support duty. */
const SUGGESTION_RANK: Partial<Record<ReferralType, number>> = {
  children_missing_education: 0,
  severe_absence: 1,
  ten_day_unauthorised: 2,
  penalty_notice_request: 3,
  illness_15_days: 4,
};

/**
 * Whether a continuous-absence flag's detail shows no contact (N or O), which makes it a
 * children-missing-education risk (docs/design.md §2.5). Reads `missingEducationRisk` (national-framework.ts
 * states it on ten/twenty-day flags) or `cmeRisk` when given, else the
 * codes of the run (`codes` as a code→count map or list, or `sessions` as [{code}]).
 */
export function isChildMissingEducationRisk(detail: Record<string, unknown> | undefined): boolean {
  if (!detail) return false;
  if (typeof detail.missingEducationRisk === 'boolean') return detail.missingEducationRisk;
  if (typeof detail.cmeRisk === 'boolean') return detail.cmeRisk;
  const noContact = (code: unknown) => code === 'N' || code === 'O';
  const codes = detail.codes;
  if (Array.isArray(codes)) return codes.some(noContact);
  if (codes && typeof codes === 'object')
    return Object.entries(codes as Record<string, unknown>).some(([c, n]) => noContact(c) && Number(n) > 0);
  if (Array.isArray(detail.sessions))
    return (detail.sessions as Array<{ code?: unknown }>).some((s) => noContact(s?.code));
  return false;
}

/** The flags that can make a suggestion (reasonsOf): a pupil with none of them is never suggested. */
export const SUGGESTION_FLAGS: ReadonlySet<string> = new Set([
  'severe_absence',
  'penalty_notice_threshold',
  'ten_day_unauthorised',
  'twenty_day_unauthorised',
  'illness_15_days',
]);

function reasonsOf(c: SuggestionCandidate): SuggestionReason[] {
  const out: SuggestionReason[] = [];
  for (const f of c.flags) {
    let type: ReferralType | undefined;
    if (f.type === 'severe_absence') type = 'severe_absence';
    else if (f.type === 'penalty_notice_threshold') type = 'penalty_notice_request';
    else if (f.type === 'ten_day_unauthorised' || f.type === 'twenty_day_unauthorised') {
      type = isChildMissingEducationRisk(f.detail) ? 'children_missing_education' : 'ten_day_unauthorised';
    } else if (f.type === 'illness_15_days') type = 'illness_15_days';
    if (!type) continue;
    const reason: SuggestionReason = { flag: f.type, since: f.since, referralType: type };
    const route = f.detail?.route as { route?: unknown; firstStep?: unknown; why?: unknown } | undefined;
    if (f.type === 'penalty_notice_threshold' && route && typeof route.route === 'string') {
      reason.route = route.route;
      if (typeof route.firstStep === 'string') reason.firstStep = route.firstStep;
      if (typeof route.why === 'string') reason.why = route.why;
    }
    if (f.detail?.ageUnknown === true) reason.ageUnknown = true;
    out.push(reason);
  }
  return out.sort(
    (a, b) =>
      (SUGGESTION_RANK[a.referralType] ?? 9) - (SUGGESTION_RANK[b.referralType] ?? 9) || (a.since < b.since ? -1 : 1),
  );
}

/**
 * Pupils whose flags call for a case (every SA pupil, every penalty-notice threshold met, CME risk,
 * 15 days' illness) and who have no open case. The statutory flags are raised only for sessions of
 * compulsory school age (national-framework.ts), so no suggestion but SA is made for a pupil under
 * or over it; a reason resting on a pupil of unknown age says so (`ageUnknown`), and a threshold
 * reason names its route to a penalty notice; worst first: by the most serious reason, then more
 * reasons, then higher absence rate, then UPN.
 */
export function referralSuggestions(
  candidates: readonly SuggestionCandidate[],
  hasOpenCase: (upn: string) => boolean,
): Suggestion[] {
  const out: Suggestion[] = [];
  for (const c of candidates) {
    const reasons = reasonsOf(c);
    if (reasons.length === 0 || hasOpenCase(c.upn)) continue;
    out.push({
      upn: c.upn,
      forename: c.forename ?? null,
      surname: c.surname ?? null,
      yearGroup: c.yearGroup ?? null,
      urns: [...c.urns],
      suggestedType: reasons[0].referralType,
      reasons,
      ageUnknown: reasons.some((r) => r.ageUnknown === true),
      absenceRate: c.possible > 0 ? ((c.authorised + c.unauthorised) / c.possible) * 100 : null,
      unauthorisedSessions: c.unauthorised,
    });
  }
  const rank = (s: Suggestion) => SUGGESTION_RANK[s.suggestedType] ?? 9;
  return out.sort(
    (a, b) =>
      rank(a) - rank(b) ||
      b.reasons.length - a.reasons.length ||
      (b.absenceRate ?? 0) - (a.absenceRate ?? 0) ||
      (a.upn < b.upn ? -1 : 1),
  );
}
