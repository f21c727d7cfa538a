/**
 * Penalty notices not paid (issue 22; docs/design.md §2.5 escalation, §5 referrals): the notices past
 * their payment date (28 days after issue) with no payment or withdrawal recorded, each with its
 * parent and child, awaiting the LA's decision — prosecution or withdrawal. The rule is
 * `unpaidPenaltyNotices` in shared/domain/referrals.ts; the route's permission keeps it to LA officers.
 */
import { todayInEngland } from '../domain/dates.js';
import { unpaidPenaltyNotices, type UnpaidPenaltyNotice } from '../domain/referrals.js';
import type { Referrals } from './ports.js';

export type PenaltyNoticeDeps = { referrals: Pick<Referrals, 'withOutstandingNotices'> };

/** Every unpaid notice as at today (at one school's cases when `urn` is given), longest unpaid first. */
export async function listUnpaidPenaltyNotices(
  deps: PenaltyNoticeDeps,
  query: { urn?: string },
): Promise<{ today: string; items: UnpaidPenaltyNotice[] }> {
  const today = todayInEngland();
  const items = unpaidPenaltyNotices(await deps.referrals.withOutstandingNotices(), today).filter(
    (n) => !query.urn || n.urn === query.urn,
  );
  return { today, items };
}
