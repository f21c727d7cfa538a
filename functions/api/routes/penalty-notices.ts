/**
 * Penalty notices not paid (issue 22; docs/design.md §2.5 escalation, §5 referrals): an LA-wide list of the
 * notices past their payment date (28 days after issue) with no payment or withdrawal recorded, each
 * with its parent and child, awaiting the LA's decision — prosecution or withdrawal — as the schools'
 * policies describe the escalation. The rule is `unpaidPenaltyNotices` in shared/domain/referrals.ts.
 * LA officers only (`read_enforcement`): it names parents.
 */
import * as z from 'zod';
import { listUnpaidPenaltyNotices } from '../../../shared/app/penalty-notices.js';
import type { UnpaidPenaltyNotice } from '../../../shared/domain/referrals.js';
import { page, Urn } from '../../../shared/schemas/common.js';
import { app } from '../app.js';
import { csvResponse, defineRoute, json, pageOf, pageQuery, wantsCsv } from '../http.js';

const UnpaidPenaltyNoticeSchema = z
  .object({
    noticeId: z.string().describe('<referral id>/<action id> of the penalty_notice_issued action'),
    referralId: z.string(),
    caseStatus: z.enum(['submitted', 'triaged', 'allocated', 'in_progress', 'closed', 'withdrawn']),
    urn: z.string(),
    child: z.object({
      upn: z.string(),
      forename: z.string().nullable(),
      surname: z.string().nullable(),
      dob: z.string().nullable(),
    }),
    parent: z.object({ id: z.string(), name: z.string(), relationship: z.string() }),
    issuedOn: z.string(),
    sequence: z.number().int().describe('1st or 2nd notice to this parent for this child in its 3-year period'),
    amount: z.number().describe('pounds payable within 28 days'),
    payableUntil: z.string().describe('last day it could be paid (28 days after issue)'),
    daysUnpaid: z.number().int().describe('days since payableUntil'),
    awaiting: z.literal('prosecution_or_withdrawal'),
  })
  .meta({ id: 'UnpaidPenaltyNotice' });

const CSV_COLUMNS = [
  'noticeId',
  'referralId',
  'caseStatus',
  'urn',
  'upn',
  'forename',
  'surname',
  'dob',
  'parentId',
  'parentName',
  'relationship',
  'issuedOn',
  'sequence',
  'amount',
  'payableUntil',
  'daysUnpaid',
  'awaiting',
];

const csvRow = (n: UnpaidPenaltyNotice) => ({
  ...n,
  upn: n.child.upn,
  forename: n.child.forename,
  surname: n.child.surname,
  dob: n.child.dob,
  parentId: n.parent.id,
  parentName: n.parent.name,
  relationship: n.parent.relationship,
});

export const penaltyNoticeRoutes = [
  defineRoute({
    method: 'GET',
    path: '/v1/penalty-notices/unpaid',
    access: 'read_enforcement',
    audit: { action: 'list_unpaid_penalty_notices' },
    tags: ['referrals'],
    summary:
      'Penalty notices past their payment date with no payment or withdrawal recorded, awaiting a decision (prosecution or withdrawal), with parent and child; longest unpaid first',
    query: z.object({ urn: Urn.optional(), ...pageQuery }),
    response: page(UnpaidPenaltyNoticeSchema, 'UnpaidPenaltyNoticeList'),
    csv: true,
    handler: async ({ audit, query, event }) => {
      const { today, items } = await listUnpaidPenaltyNotices(app, query);
      audit.pupils(
        { target: 'penalty-notices:unpaid', outcome: 'ok', urn: query.urn },
        items.map((n) => n.child.upn),
      );
      if (wantsCsv(event)) return csvResponse(`unpaid-penalty-notices-${today}.csv`, CSV_COLUMNS, items.map(csvRow));
      const paged = pageOf(items, query, `unpaid:${today}:${items.length}`);
      return json(200, { items: paged.items, nextCursor: paged.nextCursor });
    },
  }),
];
