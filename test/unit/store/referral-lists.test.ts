/**
 * The referral list partitions' pure parts (issue 17): which partitions a case is in, which one a
 * search keys on, and the state a change was made from as far as the partitions go (a writer deletes
 * the entries of the partitions the case left from it): for every kind of change the domain makes.
 */
import { describe, expect, it } from 'vitest';
import { syntheticCase } from '../../../bench/referral-search.js';
import {
  addNote,
  closeWithOutcome,
  recordAction,
  updateReferral,
  type Change,
  type Referral,
} from '../../../shared/domain/referrals.js';
import { referralFacets, searchFacet, stateBefore } from '../../../shared/store/referrals.js';

const ctx = {
  actor: { sub: 'officer-1', role: 'la_officer' as const },
  at: '2026-12-07T10:00:00.000Z',
  today: '2026-12-07',
};
const actionCtx = { ...ctx, penaltyNoticeHistory: [], noticeToImprovePeriodDays: 15 };

/** A submitted case with a named parent. */
function submitted(): Referral {
  return {
    ...syntheticCase(1, 1000, 10),
    status: 'submitted',
    assignee: null,
    actions: [],
    outcome: null,
    closedAt: null,
    version: 1,
  };
}

describe('referral list partitions', () => {
  it('puts a case under its pupil, school, status and type, and its assignee and outstanding notice when it has them', () => {
    const r = submitted();
    expect(referralFacets(r)).toEqual([
      ['UPN', r.upn],
      ['URN', r.urn],
      ['STATUS', 'submitted'],
      ['TYPE', r.type],
    ]);
    const allocated = updateReferral(
      updateReferral(r, { status: 'triaged' }, ctx).referral,
      { status: 'allocated', assignee: 'o-2' },
      ctx,
    ).referral;
    const issued = recordAction(
      allocated,
      { type: 'penalty_notice_issued', date: '2026-11-02', parentId: r.parents[0].id },
      actionCtx,
    ).referral;
    expect(referralFacets(issued)).toContainEqual(['ASSIGNEE', 'o-2']);
    expect(referralFacets(issued)).toContainEqual(['NOTICES', 'outstanding']);
    const paid = recordAction(
      issued,
      { type: 'penalty_notice_paid', date: '2026-11-10', noticeId: 'A1' },
      actionCtx,
    ).referral;
    expect(referralFacets(paid).map(([f]) => f)).not.toContain('NOTICES');
  });

  it('keys a search on its most selective facet: pupil, school, assignee, status (overdue: submitted), type; else none', () => {
    const today = '2026-12-07';
    expect(searchFacet({ today, upn: 'U', urn: '1', assignee: 'a', status: 'closed', type: 'other' })).toEqual([
      'UPN',
      'U',
    ]);
    expect(searchFacet({ today, urn: '1', assignee: 'a', status: 'closed' })).toEqual(['URN', '1']);
    expect(searchFacet({ today, assignee: 'a', status: 'closed', type: 'other' })).toEqual(['ASSIGNEE', 'a']);
    expect(searchFacet({ today, status: 'closed', type: 'other', overdue: true })).toEqual(['STATUS', 'closed']);
    expect(searchFacet({ today, overdue: true, type: 'other' })).toEqual(['STATUS', 'submitted']);
    expect(searchFacet({ today, type: 'other', overdue: false })).toEqual(['TYPE', 'other']);
    expect(searchFacet({ today, overdue: false })).toBeUndefined();
    expect(searchFacet({ today })).toBeUndefined();
  });

  it('recovers the partitions a case was in before each kind of change from the change itself', () => {
    const steps: Array<(r: Referral) => Change> = [
      (r) => updateReferral(r, { status: 'triaged', priority: 'high' }, ctx),
      (r) => updateReferral(r, { status: 'allocated', assignee: 'o-2' }, ctx),
      (r) => updateReferral(r, { assignee: 'o-3' }, ctx),
      (r) => addNote(r, 'rang the family', ctx),
      (r) =>
        recordAction(r, { type: 'penalty_notice_issued', date: '2026-11-02', parentId: r.parents[0].id }, actionCtx),
      (r) => recordAction(r, { type: 'letter', date: '2026-11-03' }, actionCtx),
      (r) => recordAction(r, { type: 'penalty_notice_paid', date: '2026-11-10', noticeId: 'A1' }, actionCtx),
      (r) => closeWithOutcome(r, { type: 'penalty_notice_paid' }, ctx),
    ];
    let r = submitted();
    const moved: string[] = [];
    for (const step of steps) {
      const change = step(r);
      expect(referralFacets(stateBefore(change))).toEqual(referralFacets(r));
      if (JSON.stringify(referralFacets(r)) !== JSON.stringify(referralFacets(change.referral)))
        moved.push(change.event.kind);
      r = change.referral;
    }
    // Status, assignee and the notice's issue and payment each moved the case between partitions.
    expect(moved).toEqual(['updated', 'updated', 'updated', 'action', 'action', 'updated']);
    // A withdrawal from submitted, too.
    const w = updateReferral(submitted(), { status: 'withdrawn', reason: 'moved away' }, ctx);
    expect(referralFacets(stateBefore(w))).toEqual(referralFacets(submitted()));
  });
});
