import { describe, expect, it } from 'vitest';
import { isWeekend } from '../../../shared/domain/dates.js';
import type { PupilYearSummary } from '../../../shared/domain/pupil-summary.js';
import type { PenaltyNoticeRecord } from '../../../shared/domain/penalty-notices.js';
import {
  ACTION_STATUSES,
  ACTION_TYPES,
  addNote,
  allowedTransitions,
  closeWithOutcome,
  evidenceSnapshot,
  isChildMissingEducationRisk,
  isOverdue,
  mayWithdrawAsReferrer,
  newReferral,
  OPEN_STATUSES,
  parentIdOf,
  penaltyNoticesOf,
  recordAction,
  REFERRAL_STATUSES,
  referralSuggestions,
  referralView,
  ReferralRuleError,
  triageDueOn,
  updateReferral,
  workingDaysAfter,
  type ActionInput,
  type Evidence,
  type Referral,
  type ReferralPatch,
  type ReferralStatus,
  type SuggestionCandidate,
} from '../../../shared/domain/referrals.js';
import { englandAndWalesBankHolidays } from '../../../shared/formats/bank-holidays.js';
import { emptyCounts } from '../../../shared/domain/stats.js';

const UPN = 'A999400124001';
const officer = { sub: 'officer-1', role: 'la_officer' as const };
const school = { sub: 'school-1', role: 'school' as const, urn: '100001' };
const TODAY = '2025-06-30';
const ctx = { actor: officer, at: '2025-06-30T10:00:00.000Z', today: TODAY };
const actionCtx = (history: PenaltyNoticeRecord[] = []) => ({
  ...ctx,
  penaltyNoticeHistory: history,
  noticeToImprovePeriodDays: 15,
});

/** A Year 4 pupil in 2024/25: of compulsory school age on every date these cases use. */
const EVIDENCE = {
  takenAt: '2025-06-02T09:00:00.000Z',
  pupil: { forename: null, surname: null, dob: '2015-10-10', yearGroup: '4' },
} as unknown as Evidence;

function created(): Referral {
  return newReferral(
    {
      id: 'R1',
      upn: UPN,
      urn: '100001',
      type: 'penalty_notice_request',
      reason: '12 unauthorised sessions in 6 weeks',
      parents: [
        { id: 'mum', name: 'Ann Smith', relationship: 'mother' },
        { id: 'dad', name: 'Bob Smith', relationship: 'father' },
      ],
      evidence: EVIDENCE,
    },
    { actor: school, at: '2025-06-02T09:00:00.000Z', today: '2025-06-02', triageDueOn: '2025-06-09' },
  ).referral;
}

/** Walk a case to a status by the allowed path. */
function inStatus(status: ReferralStatus): Referral {
  let r = created();
  const path: Array<[ReferralStatus, ReferralPatch]> = [
    ['triaged', { status: 'triaged' }],
    ['allocated', { status: 'allocated', assignee: 'officer-2' }],
    ['in_progress', { status: 'in_progress' }],
    ['closed', { status: 'closed', outcome: { type: 'attendance_improved' } }],
  ];
  if (status === 'withdrawn')
    return updateReferral(r, { status: 'withdrawn', reason: 'pupil moved away' }, ctx).referral;
  for (const [s, patch] of path) {
    if (r.status === status) break;
    r = updateReferral(r, patch, ctx).referral;
    if (s === status) break;
  }
  expect(r.status).toBe(status);
  return r;
}

/** The extra fields a transition to `to` needs. */
function patchFor(to: ReferralStatus): ReferralPatch {
  if (to === 'allocated') return { status: to, assignee: 'officer-2' };
  if (to === 'closed') return { status: to, outcome: { type: 'attendance_improved' } };
  if (to === 'withdrawn') return { status: to, reason: 'no longer needed' };
  return { status: to };
}

function ruleError(fn: () => unknown): ReferralRuleError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ReferralRuleError) return err;
    throw err;
  }
  throw new Error('expected a ReferralRuleError');
}

describe('referral state machine', () => {
  it('creates a case as submitted, version 1, with a created event by the referrer', () => {
    const { referral, event } = newReferral(
      { id: 'R9', upn: UPN, urn: '100001', type: 'severe_absence', reason: 'x', evidence: EVIDENCE },
      { actor: school, at: '2025-06-02T09:00:00.000Z', today: '2025-06-02', triageDueOn: '2025-06-09' },
    );
    expect(referral).toMatchObject({
      status: 'submitted',
      version: 1,
      priority: 'normal',
      assignee: null,
      outcome: null,
      actions: [],
      createdOn: '2025-06-02',
      triageDueOn: '2025-06-09',
    });
    expect(event).toMatchObject({
      seq: 1,
      kind: 'created',
      by: school,
      changes: [
        { field: 'status', from: null, to: 'submitted' },
        { field: 'type', from: null, to: 'severe_absence' },
        { field: 'priority', from: null, to: 'normal' },
      ],
    });
  });

  const allowed: Record<ReferralStatus, ReferralStatus[]> = {
    submitted: ['triaged', 'withdrawn'],
    triaged: ['allocated', 'withdrawn'],
    allocated: ['in_progress', 'withdrawn'],
    in_progress: ['closed', 'withdrawn'],
    closed: [],
    withdrawn: [],
  };

  for (const from of REFERRAL_STATUSES) {
    for (const to of REFERRAL_STATUSES) {
      if (from === to) continue;
      if (allowed[from].includes(to)) {
        it(`allows ${from} → ${to}, recording the status change in one event`, () => {
          const r = inStatus(from);
          const { referral, event } = updateReferral(r, patchFor(to), ctx);
          expect(referral.status).toBe(to);
          expect(referral.version).toBe(r.version + 1);
          expect(event.seq).toBe(referral.version);
          expect(event.changes[0]).toEqual({ field: 'status', from, to });
        });
      } else {
        it(`refuses ${from} → ${to}, listing the allowed transitions (${allowed[from].join(', ') || 'none'})`, () => {
          const err = ruleError(() => updateReferral(inStatus(from), patchFor(to), ctx));
          expect(err.code).toBe(allowed[from].length ? 'invalid_transition' : 'case_final');
          expect(err.details.allowed).toEqual(allowed[from]);
          expect(allowedTransitions(from)).toEqual(allowed[from]);
        });
      }
    }
  }

  for (const from of OPEN_STATUSES) {
    it(`withdraws from ${from} with a reason, kept on the case and the event`, () => {
      const { referral, event } = updateReferral(
        inStatus(from),
        { status: 'withdrawn', reason: 'family moved out of area' },
        ctx,
      );
      expect(referral).toMatchObject({
        status: 'withdrawn',
        withdrawalReason: 'family moved out of area',
        withdrawnAt: ctx.at,
      });
      expect(event.changes).toContainEqual({ field: 'withdrawalReason', from: null, to: 'family moved out of area' });
    });
  }

  it('never withdraws a closed case', () => {
    const err = ruleError(() => updateReferral(inStatus('closed'), { status: 'withdrawn', reason: 'x' }, ctx));
    expect(err.code).toBe('case_final');
    expect(err.details.allowed).toEqual([]);
  });

  it('refuses withdrawal without a reason', () => {
    expect(ruleError(() => updateReferral(inStatus('triaged'), { status: 'withdrawn' }, ctx)).code).toBe(
      'missing_reason',
    );
    expect(ruleError(() => updateReferral(inStatus('triaged'), { status: 'withdrawn', reason: '  ' }, ctx)).code).toBe(
      'missing_reason',
    );
  });

  it('refuses allocation without an assignee, and accepts one given in the same update', () => {
    expect(ruleError(() => updateReferral(inStatus('triaged'), { status: 'allocated' }, ctx)).code).toBe(
      'missing_assignee',
    );
    const { referral, event } = updateReferral(
      inStatus('triaged'),
      { status: 'allocated', assignee: 'officer-7' },
      ctx,
    );
    expect(referral.assignee).toBe('officer-7');
    expect(event.changes).toEqual([
      { field: 'status', from: 'triaged', to: 'allocated' },
      { field: 'assignee', from: null, to: 'officer-7' },
    ]);
  });

  it('refuses an assignee before allocation, and removing the assignee of an allocated case', () => {
    expect(ruleError(() => updateReferral(inStatus('submitted'), { assignee: 'officer-7' }, ctx)).code).toBe(
      'assignee_before_allocation',
    );
    expect(ruleError(() => updateReferral(inStatus('allocated'), { assignee: null }, ctx)).code).toBe(
      'missing_assignee',
    );
  });

  it('re-allocates an in-progress case to another officer without a status change', () => {
    const { referral, event } = updateReferral(inStatus('in_progress'), { assignee: 'officer-9' }, ctx);
    expect(referral).toMatchObject({ status: 'in_progress', assignee: 'officer-9' });
    expect(event.changes).toEqual([{ field: 'assignee', from: 'officer-2', to: 'officer-9' }]);
  });

  it('refuses closing without an outcome, and an outcome without closing', () => {
    expect(ruleError(() => updateReferral(inStatus('in_progress'), { status: 'closed' }, ctx)).code).toBe(
      'missing_outcome',
    );
    expect(
      ruleError(() => updateReferral(inStatus('in_progress'), { outcome: { type: 'prosecution' } }, ctx)).code,
    ).toBe('outcome_without_close');
  });

  it('closes with the outcome dated today unless given, through PATCH or the outcome event alike', () => {
    const a = updateReferral(
      inStatus('in_progress'),
      { status: 'closed', outcome: { type: 'prosecution', summary: 'Magistrates 2025-06-20' } },
      ctx,
    ).referral;
    const b = closeWithOutcome(
      inStatus('in_progress'),
      { type: 'prosecution', summary: 'Magistrates 2025-06-20' },
      ctx,
    ).referral;
    expect(a.outcome).toEqual({ type: 'prosecution', summary: 'Magistrates 2025-06-20', date: TODAY });
    expect(b.outcome).toEqual(a.outcome);
    expect(a.closedAt).toBe(ctx.at);
  });

  it('refuses a change of priority or parents on a closed or withdrawn case', () => {
    for (const s of ['closed', 'withdrawn'] as const) {
      expect(ruleError(() => updateReferral(inStatus(s), { priority: 'high' }, ctx)).code).toBe('case_final');
      expect(ruleError(() => updateReferral(inStatus(s), { parents: [] }, ctx)).code).toBe('case_final');
    }
  });

  it('refuses an update that changes nothing', () => {
    expect(ruleError(() => updateReferral(inStatus('submitted'), { priority: 'normal' }, ctx)).code).toBe('no_change');
  });

  it('changes priority in any open state and records old and new values', () => {
    const { event } = updateReferral(inStatus('submitted'), { priority: 'urgent' }, ctx);
    expect(event.changes).toEqual([{ field: 'priority', from: 'normal', to: 'urgent' }]);
  });

  it('lets the referrer withdraw only a submitted case, and only withdraw it', () => {
    const bySchool = (r: Referral): Referral => ({
      ...r,
      createdBy: { sub: 'head@100001', role: 'school', urn: '100001' },
    });
    const school = { sub: 'deputy@100001', role: 'school' as const, urn: '100001' };
    expect(
      mayWithdrawAsReferrer(bySchool(inStatus('submitted')), { status: 'withdrawn', reason: 'sent in error' }, school),
    ).toBe(true);
    expect(
      mayWithdrawAsReferrer(bySchool(inStatus('triaged')), { status: 'withdrawn', reason: 'sent in error' }, school),
    ).toBe(false);
    expect(
      mayWithdrawAsReferrer(
        bySchool(inStatus('submitted')),
        { status: 'withdrawn', reason: 'x', priority: 'high' },
        school,
      ),
    ).toBe(false);
    expect(mayWithdrawAsReferrer(bySchool(inStatus('submitted')), { status: 'triaged' }, school)).toBe(false);
  });

  it("lets a referrer withdraw only a case it raised: never the LA's, another school's or the Virtual School's", () => {
    const withdraw = { status: 'withdrawn' as const, reason: 'sent in error' };
    const byOfficer: Referral = { ...inStatus('submitted'), createdBy: officer };
    const byVsh: Referral = { ...byOfficer, createdBy: { sub: 'vsh-1', role: 'vsh' } };
    const bySchool: Referral = { ...byOfficer, createdBy: { sub: 'head', role: 'school', urn: '100001' } };
    expect(mayWithdrawAsReferrer(byOfficer, withdraw, { sub: 'head', role: 'school', urn: '100001' })).toBe(false);
    expect(mayWithdrawAsReferrer(byOfficer, withdraw, { sub: 'vsh-1', role: 'vsh' })).toBe(false);
    expect(mayWithdrawAsReferrer(bySchool, withdraw, { sub: 'head', role: 'school', urn: '100002' })).toBe(false);
    expect(mayWithdrawAsReferrer(bySchool, withdraw, { sub: 'vsh-1', role: 'vsh' })).toBe(false);
    expect(mayWithdrawAsReferrer(byVsh, withdraw, { sub: 'head', role: 'school', urn: '100001' })).toBe(false);
    expect(mayWithdrawAsReferrer(byVsh, withdraw, { sub: 'vsh-2', role: 'vsh' })).toBe(true);
  });
});

describe('actions on a case', () => {
  const letter: ActionInput = { type: 'letter', date: '2025-06-10', notes: 'first warning letter' };

  for (const status of ['submitted', 'triaged'] as const) {
    it(`refuses a work action on a ${status} case, listing the allowed transitions`, () => {
      const err = ruleError(() => recordAction(inStatus(status), letter, actionCtx()));
      expect(err.code).toBe('action_not_allowed');
      expect(err.details.allowed).toEqual(allowedTransitions(status));
      expect(err.details.actionStatuses).toEqual(['allocated', 'in_progress']);
    });
  }

  for (const status of ['closed', 'withdrawn'] as const) {
    it(`refuses a work action on a ${status} case`, () => {
      expect(ruleError(() => recordAction(inStatus(status), letter, actionCtx())).code).toBe('action_not_allowed');
    });
  }

  it('moves an allocated case to in_progress with its first action, in the same event', () => {
    const { referral, event } = recordAction(inStatus('allocated'), letter, actionCtx());
    expect(referral.status).toBe('in_progress');
    expect(referral.actions).toHaveLength(1);
    expect(referral.actions[0]).toMatchObject({
      id: 'A1',
      type: 'letter',
      date: '2025-06-10',
      recordedBy: officer,
      notes: 'first warning letter',
    });
    expect(event).toMatchObject({
      kind: 'action',
      seq: referral.version,
      changes: [
        { field: 'status', from: 'allocated', to: 'in_progress' },
        { field: 'actions', from: null, to: 'A1' },
      ],
    });
  });

  it('records further actions on an in-progress case without a status change', () => {
    const { referral, event } = recordAction(
      inStatus('in_progress'),
      { type: 'meeting', date: '2025-06-11' },
      actionCtx(),
    );
    expect(referral.status).toBe('in_progress');
    expect(event.changes).toEqual([{ field: 'actions', from: null, to: 'A1' }]);
  });

  it('refuses an action dated after today', () => {
    expect(
      ruleError(() => recordAction(inStatus('in_progress'), { type: 'meeting', date: '2025-07-01' }, actionCtx())).code,
    ).toBe('future_date');
  });

  it("records a notice to improve with its start and period, defaulting to the LA's period from the action date", () => {
    const a = recordAction(inStatus('in_progress'), { type: 'notice_to_improve', date: '2025-06-02' }, actionCtx())
      .referral.actions[0];
    expect(a.noticeToImprove).toEqual({ startDate: '2025-06-02', periodDays: 15 });
    const b = recordAction(
      inStatus('in_progress'),
      { type: 'notice_to_improve', date: '2025-06-02', startDate: '2025-06-09', periodDays: 30 },
      actionCtx(),
    ).referral.actions[0];
    expect(b.noticeToImprove).toEqual({ startDate: '2025-06-09', periodDays: 30 });
  });

  it('accepts a note in every state, closed and withdrawn included', () => {
    for (const s of REFERRAL_STATUSES) {
      const r = inStatus(s);
      const { referral, event } = addNote(r, 'Parent phoned', ctx);
      expect(referral.status).toBe(s);
      expect(event).toMatchObject({ kind: 'note', note: 'Parent phoned', changes: [], seq: r.version + 1 });
    }
  });

  it('allows work actions only on allocated or in-progress cases, and notice payments or withdrawals in every state', () => {
    for (const type of ACTION_TYPES) {
      const expected =
        type === 'penalty_notice_paid' || type === 'penalty_notice_withdrawn'
          ? REFERRAL_STATUSES
          : ['allocated', 'in_progress'];
      expect([type, ACTION_STATUSES[type]]).toEqual([type, expected]);
    }
  });
});

describe('penalty notices on a case', () => {
  const issue = (parentId: string | undefined, date: string): ActionInput => ({
    type: 'penalty_notice_issued',
    date,
    parentId,
  });

  /** Notices from other cases plus this one's, as the API gathers them. */
  function historyOf(r: Referral, other: PenaltyNoticeRecord[] = []): PenaltyNoticeRecord[] {
    return [...other, ...penaltyNoticesOf(r)];
  }

  function issueOn(r: Referral, parentId: string, date: string, other: PenaltyNoticeRecord[] = []): Referral {
    return recordAction(r, issue(parentId, date), actionCtx(historyOf(r, other))).referral;
  }

  it('issues a first notice to a named parent with its sequence and amounts', () => {
    const r = issueOn(inStatus('in_progress'), 'mum', '2025-01-06');
    expect(r.actions[0].penaltyNotice).toEqual({
      sequence: 1,
      amount: { full: 160, fullPayableWithinDays: 28, reduced: 80, reducedIfPaidWithinDays: 21 },
      period: { start: '2025-01-06', end: '2028-01-05' },
    });
    expect(penaltyNoticesOf(r)).toEqual([
      expect.objectContaining({
        id: 'R1/A1',
        actionId: 'A1',
        parentId: 'mum',
        upn: UPN,
        status: 'issued',
        sequence: 1,
        payableUntil: '2025-02-03',
      }),
    ]);
  });

  it('refuses a notice without a parent or to a parent not on the case', () => {
    expect(
      ruleError(() => recordAction(inStatus('in_progress'), issue(undefined, '2025-01-06'), actionCtx())).code,
    ).toBe('unknown_parent');
    expect(ruleError(() => recordAction(inStatus('in_progress'), issue('aunt', '2025-01-06'), actionCtx())).code).toBe(
      'unknown_parent',
    );
  });

  it('issues first and second notices to two parents, then refuses a third to one of them with the reason and alternatives', () => {
    let r = inStatus('in_progress');
    r = issueOn(r, 'mum', '2025-01-06');
    r = issueOn(r, 'dad', '2025-01-06');
    r = issueOn(r, 'mum', '2025-03-03');
    r = issueOn(r, 'dad', '2025-03-03');
    expect(penaltyNoticesOf(r).map((n) => [n.parentId, n.sequence, n.amount.reduced])).toEqual([
      ['mum', 1, 80],
      ['dad', 1, 80],
      ['mum', 2, null],
      ['dad', 2, null],
    ]);
    const err = ruleError(() => recordAction(r, issue('mum', '2025-06-02'), actionCtx(historyOf(r))));
    expect(err.code).toBe('penalty_notice_refused');
    expect(err.message).toContain('third penalty notice cannot be issued');
    expect(err.details).toMatchObject({
      refusal: 'third_within_period',
      alternatives: ['prosecution', 'education_supervision_order'],
      nextAllowedOn: '2028-01-06',
      previous: ['R1/A1', 'R1/A3'],
    });
  });

  it("counts notices issued on the pupil's other cases", () => {
    const earlier: PenaltyNoticeRecord[] = [
      { id: 'R0/A1', parentId: 'mum', upn: UPN, issuedOn: '2024-10-01', status: 'paid', paidOn: '2024-10-10' },
      { id: 'R0/A2', parentId: 'mum', upn: UPN, issuedOn: '2024-12-02', status: 'issued' },
    ];
    expect(
      ruleError(() => recordAction(inStatus('in_progress'), issue('mum', '2025-01-06'), actionCtx(earlier))).code,
    ).toBe('penalty_notice_refused');
  });

  it('records a payment on the 21st day as £80 and on the 22nd as £160', () => {
    const base = issueOn(inStatus('in_progress'), 'mum', '2025-01-06');
    const on21 = recordAction(
      base,
      { type: 'penalty_notice_paid', date: '2025-01-27', noticeId: 'A1' },
      actionCtx(),
    ).referral;
    const on22 = recordAction(
      base,
      { type: 'penalty_notice_paid', date: '2025-01-28', noticeId: 'A1' },
      actionCtx(),
    ).referral;
    expect(penaltyNoticesOf(on21)[0]).toMatchObject({ status: 'paid', paidOn: '2025-01-27', amountPaid: 80 });
    expect(penaltyNoticesOf(on22)[0]).toMatchObject({ status: 'paid', amountPaid: 160 });
    expect(on21.actions[1]).toMatchObject({
      parentId: 'mum',
      noticeId: 'A1',
      payment: { amount: 80, band: 'reduced', daysAfterIssue: 21 },
    });
  });

  it('refuses a payment after 28 days, a second payment, and a payment of a withdrawn notice', () => {
    const base = issueOn(inStatus('in_progress'), 'mum', '2025-01-06');
    expect(
      ruleError(() =>
        recordAction(base, { type: 'penalty_notice_paid', date: '2025-02-04', noticeId: 'A1' }, actionCtx()),
      ).code,
    ).toBe('payment_refused');
    const paid = recordAction(
      base,
      { type: 'penalty_notice_paid', date: '2025-01-20', noticeId: 'A1' },
      actionCtx(),
    ).referral;
    expect(
      ruleError(() =>
        recordAction(paid, { type: 'penalty_notice_paid', date: '2025-01-21', noticeId: 'A1' }, actionCtx()),
      ).code,
    ).toBe('notice_not_outstanding');
    const withdrawn = recordAction(
      base,
      { type: 'penalty_notice_withdrawn', date: '2025-01-20', noticeId: 'A1' },
      actionCtx(),
    ).referral;
    expect(
      ruleError(() =>
        recordAction(withdrawn, { type: 'penalty_notice_paid', date: '2025-01-21', noticeId: 'A1' }, actionCtx()),
      ).code,
    ).toBe('notice_not_outstanding');
  });

  it('refuses a payment or withdrawal that names no notice issued on the case', () => {
    expect(
      ruleError(() =>
        recordAction(
          inStatus('in_progress'),
          { type: 'penalty_notice_paid', date: '2025-01-20', noticeId: 'A1' },
          actionCtx(),
        ),
      ).code,
    ).toBe('unknown_notice');
  });

  it('does not count a withdrawn notice: after withdrawing one of two, a further notice is allowed as the second', () => {
    let r = issueOn(inStatus('in_progress'), 'mum', '2025-01-06');
    r = issueOn(r, 'mum', '2025-02-03');
    r = recordAction(
      r,
      { type: 'penalty_notice_withdrawn', date: '2025-02-10', noticeId: 'A2', notes: 'issued in error' },
      actionCtx(),
    ).referral;
    r = issueOn(r, 'mum', '2025-03-03');
    expect(penaltyNoticesOf(r).map((n) => [n.actionId, n.status, n.sequence])).toEqual([
      ['A1', 'issued', 1],
      ['A2', 'withdrawn', 2],
      ['A4', 'issued', 2],
    ]);
  });

  it('records payment and withdrawal of its notices after the case is closed', () => {
    let r = issueOn(inStatus('in_progress'), 'mum', '2025-06-02');
    r = closeWithOutcome(r, { type: 'no_further_action' }, ctx).referral;
    const { referral } = recordAction(
      r,
      { type: 'penalty_notice_paid', date: '2025-06-20', noticeId: 'A1' },
      actionCtx(),
    );
    expect(referral.status).toBe('closed');
    expect(penaltyNoticesOf(referral)[0]).toMatchObject({ status: 'paid', amountPaid: 80 });
  });

  it('keeps a parent with a notice on the case: removing them is refused, renaming is allowed', () => {
    const r = issueOn(inStatus('in_progress'), 'mum', '2025-06-02');
    expect(
      ruleError(() => updateReferral(r, { parents: [{ id: 'dad', name: 'Bob Smith', relationship: 'father' }] }, ctx))
        .code,
    ).toBe('parent_in_use');
    const renamed = updateReferral(
      r,
      {
        parents: [
          { id: 'mum', name: 'Ann Jones', relationship: 'mother' },
          { id: 'dad', name: 'Bob Smith', relationship: 'father' },
        ],
      },
      ctx,
    );
    expect(renamed.referral.parents[0].name).toBe('Ann Jones');
  });
});

describe('parents', () => {
  it("keeps the caller's parent id and derives one from the name otherwise, ignoring case and punctuation", () => {
    expect(parentIdOf({ id: 'LA-123', name: 'x', relationship: 'mother' })).toBe('LA-123');
    const a = parentIdOf({ name: 'Ann  Smith', relationship: 'mother' });
    expect(a).toMatch(/^P[0-9a-f]{8}$/);
    expect(parentIdOf({ name: 'ann smith.', relationship: 'carer' })).toBe(a);
    expect(parentIdOf({ name: 'Ann Smyth', relationship: 'mother' })).not.toBe(a);
  });

  it('refuses the same parent listed twice', () => {
    expect(
      ruleError(() =>
        newReferral(
          {
            id: 'R2',
            upn: UPN,
            urn: '100001',
            type: 'other',
            reason: 'x',
            evidence: EVIDENCE,
            parents: [
              { name: 'Ann Smith', relationship: 'mother' },
              { name: 'ANN SMITH', relationship: 'mother' },
            ],
          },
          { ...ctx, triageDueOn: TODAY },
        ),
      ).code,
    ).toBe('duplicate_parent');
  });
});

describe('triage service level (overdue)', () => {
  const bankHolidays = englandAndWalesBankHolidays();
  const working = (d: string) => !isWeekend(d) && !bankHolidays.has(d);

  it('makes a case created on a Monday due on the next Monday with 5 working days', () => {
    expect(triageDueOn('2025-03-03', 5, working)).toBe('2025-03-10');
  });

  it('is not overdue after 5 working days across a weekend and overdue after 6', () => {
    // Created Thursday 6 March: Fri 7, Mon 10, Tue 11, Wed 12, Thu 13 = 5; Fri 14 = 6.
    expect(workingDaysAfter('2025-03-06', '2025-03-13', working)).toBe(5);
    expect(workingDaysAfter('2025-03-06', '2025-03-14', working)).toBe(6);
    const due = triageDueOn('2025-03-06', 5, working);
    expect(due).toBe('2025-03-13');
    expect(isOverdue({ status: 'submitted', triageDueOn: due }, '2025-03-13')).toBe(false);
    expect(isOverdue({ status: 'submitted', triageDueOn: due }, '2025-03-14')).toBe(true);
  });

  it('skips a bank holiday: created Wednesday before the August bank holiday, due the next Thursday', () => {
    // Thu 21, Fri 22, (Mon 25 August 2025 bank holiday), Tue 26, Wed 27, Thu 28 = 5; Fri 29 = 6.
    expect(workingDaysAfter('2025-08-20', '2025-08-28', working)).toBe(5);
    expect(workingDaysAfter('2025-08-20', '2025-08-29', working)).toBe(6);
    const due = triageDueOn('2025-08-20', 5, working);
    expect(due).toBe('2025-08-28');
    expect(isOverdue({ status: 'submitted', triageDueOn: due }, '2025-08-28')).toBe(false);
    expect(isOverdue({ status: 'submitted', triageDueOn: due }, '2025-08-29')).toBe(true);
  });

  it('counts from the next working day for a case created at a weekend', () => {
    expect(triageDueOn('2025-03-08', 5, working)).toBe('2025-03-14');
  });

  it("follows the LA's service level (3 days)", () => {
    expect(triageDueOn('2025-03-03', 3, working)).toBe('2025-03-06');
  });

  it('is never overdue once triaged or withdrawn, however late', () => {
    for (const status of ['triaged', 'allocated', 'in_progress', 'closed', 'withdrawn'] as const) {
      expect(isOverdue({ status, triageDueOn: '2025-03-10' }, '2025-12-01')).toBe(false);
    }
  });

  it('shows a case triaged after its due date as triaged late', () => {
    const r = created(); // due 2025-06-09
    const late = updateReferral(r, { status: 'triaged' }, { ...ctx, at: '2025-06-10T08:00:00.000Z' }).referral;
    const onTime = updateReferral(r, { status: 'triaged' }, { ...ctx, at: '2025-06-09T16:00:00.000Z' }).referral;
    expect(referralView(late, '2025-06-30')).toMatchObject({
      overdue: false,
      triagedLate: true,
      open: true,
      allowedTransitions: ['allocated', 'withdrawn'],
    });
    expect(referralView(onTime, '2025-06-30').triagedLate).toBe(false);
    expect(referralView(r, '2025-06-10')).toMatchObject({ overdue: true, triagedLate: null });
  });
});

describe('evidence snapshot', () => {
  it('keeps the stats, flags, cohorts and the penalty-notice window of the pupil summary', () => {
    const counts = Array.from(emptyCounts());
    const year = {
      upn: UPN,
      academicYear: 2024,
      forename: 'Sam',
      surname: 'Smith',
      yearGroup: '8',
      cohorts: ['fsm'],
      everCohorts: ['fsm', 'cin'],
      enrolments: [
        {
          urn: '100001',
          academicYear: 2024,
          registration: 'C',
          firstListed: '2024-09-02',
          lastListed: '2025-06-27',
          counts,
          persistentAbsence: true,
          severeAbsence: false,
        },
      ],
      counts,
      absence: 0,
      possible: 0,
      persistentAbsence: true,
      severeAbsence: false,
      flags: [
        {
          type: 'penalty_notice_threshold',
          since: '2025-03-14',
          detail: { firstWeek: '2025-01-06', lastWeek: '2025-03-10', sessionCount: 10 },
        },
      ],
    } as unknown as PupilYearSummary;
    const e = evidenceSnapshot(year, { takenAt: '2025-06-02T09:00:00.000Z', summaryVersion: 7 });
    expect(e).toMatchObject({
      academicYear: 2024,
      summaryVersion: 7,
      pupil: { forename: 'Sam', surname: 'Smith', dob: null, yearGroup: '8' },
      cohorts: ['fsm'],
      everCohorts: ['fsm', 'cin'],
      persistentAbsence: true,
      thresholdWindow: { since: '2025-03-14', firstWeek: '2025-01-06', lastWeek: '2025-03-10', sessionCount: 10 },
    });
    expect(e.enrolments[0]).toMatchObject({ urn: '100001', admissionDate: null, stats: { possibleSessions: 0 } });
  });
});

describe('referral suggestions', () => {
  const row = (
    upn: string,
    flags: SuggestionCandidate['flags'],
    absence = 10,
    possible = 100,
  ): SuggestionCandidate => ({
    upn,
    urns: ['100001'],
    possible,
    authorised: absence / 2,
    unauthorised: absence / 2,
    flags,
  });

  it('suggests every SA pupil, threshold met, CME risk and 15 days of illness, but not PA alone', () => {
    const s = referralSuggestions(
      [
        row('U1', [{ type: 'persistent_absence', since: '2025-01-01' }]),
        row('U2', [{ type: 'severe_absence', since: '2025-01-01' }]),
        row('U3', [{ type: 'penalty_notice_threshold', since: '2025-01-01' }]),
        row('U4', [{ type: 'ten_day_unauthorised', since: '2025-01-01', detail: { missingEducationRisk: true } }]),
        row('U5', [{ type: 'illness_15_days', since: '2025-01-01' }]),
        row('U6', [{ type: 'ten_day_unauthorised', since: '2025-01-01', detail: { missingEducationRisk: false } }]),
      ],
      () => false,
    );
    expect(s.map((x) => [x.upn, x.suggestedType])).toEqual([
      ['U4', 'children_missing_education'],
      ['U2', 'severe_absence'],
      ['U6', 'ten_day_unauthorised'],
      ['U3', 'penalty_notice_request'],
      ['U5', 'illness_15_days'],
    ]);
  });

  it('leaves out pupils with an open case', () => {
    const s = referralSuggestions(
      [row('U2', [{ type: 'severe_absence', since: '2025-01-01' }])],
      (upn) => upn === 'U2',
    );
    expect(s).toEqual([]);
  });

  it('orders pupils with the same most serious reason by number of reasons, then absence rate', () => {
    const s = referralSuggestions(
      [
        row('U1', [{ type: 'severe_absence', since: '2025-01-01' }], 60),
        row('U2', [{ type: 'severe_absence', since: '2025-01-01' }], 80),
        row(
          'U3',
          [
            { type: 'severe_absence', since: '2025-01-01' },
            { type: 'penalty_notice_threshold', since: '2025-02-01' },
          ],
          55,
        ),
      ],
      () => false,
    );
    expect(s.map((x) => x.upn)).toEqual(['U3', 'U2', 'U1']);
    expect(s[0].reasons.map((r) => r.referralType)).toEqual(['severe_absence', 'penalty_notice_request']);
    expect(s[1].absenceRate).toBe(80);
  });

  it("reads a CME risk from N or O in a run's codes when the flag does not state it", () => {
    expect(isChildMissingEducationRisk({ codes: { G: 18, N: 2 } })).toBe(true);
    expect(isChildMissingEducationRisk({ codes: { G: 20 } })).toBe(false);
    expect(isChildMissingEducationRisk({ sessions: [{ code: 'O' }] })).toBe(true);
    expect(isChildMissingEducationRisk(undefined)).toBe(false);
  });
});
