/**
 * The LA's identity review list (issue 15; LA officers only): a school's rows for a pupil another
 * school holds that did not agree with the record (`identity_mismatch`). Accepting applies the rows
 * (through the school's ingest queue, so in order with its returns); rejecting leaves them unapplied.
 * Either is final. Reading the list is a read of pupil-level data and is audited per pupil.
 */
import * as z from 'zod';
import {
  decideIdentityReview,
  getIdentityReview,
  listIdentityReviews,
} from '../../../shared/store/identity-reviews.js';
import { sendIngest } from '../../../shared/store/queues.js';
import { page } from '../../../shared/schemas/common.js';
import { actorOf } from '../../../shared/domain/access.js';
import { defineRoute, json, jsonBody, pageQuery, problem } from '../http.js';

const REVIEW_ID = /^idr[0-9a-f]{24}$/;

const Identity = z.object({
  forename: z.string().optional(),
  surname: z.string().optional(),
  dob: z.string().optional(),
});

const IdentityReviewSchema = z
  .object({
    reviewId: z.string(),
    status: z.enum(['pending', 'accepted', 'rejected']),
    returnId: z.string(),
    urn: z.string(),
    upn: z.string(),
    createdAt: z.string(),
    lines: z.array(z.number().int()),
    dates: z.object({ from: z.string(), to: z.string() }),
    sent: Identity,
    held: z.array(Identity),
    decidedBy: z.object({ sub: z.string(), role: z.string() }).optional(),
    decidedAt: z.string().optional(),
    note: z.string().optional(),
  })
  .meta({ id: 'IdentityReview' });

const DecisionBody = z
  .object({ decision: z.enum(['accept', 'reject']), note: z.string().trim().min(1).max(2000).optional() })
  .strict();

export const identityReviewRoutes = [
  defineRoute({
    method: 'GET',
    path: '/v1/identity-reviews',
    access: 'review_identities',
    audit: { action: 'list_identity_reviews' },
    tags: ['identity reviews'],
    summary:
      'Rows schools sent for a pupil another school holds that did not agree with the record (identity_mismatch), newest first',
    query: z.object({ status: z.enum(['pending', 'accepted', 'rejected']).optional(), ...pageQuery }),
    response: page(IdentityReviewSchema, 'IdentityReviewList'),
    handler: async ({ audit, query }) => {
      const result = await listIdentityReviews(query.status, query.limit ?? 50, query.cursor);
      audit.pupils(
        { target: `identity_reviews:${query.status ?? 'all'}`, outcome: 'ok' },
        result.items.map((r) => r.upn),
      );
      return json(200, result);
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/identity-reviews/{reviewId}',
    access: 'review_identities',
    audit: { action: 'decide_identity_review' },
    tags: ['identity reviews'],
    summary: 'Accept (the rows are applied) or reject a pending review; a decided review answers 409',
    body: DecisionBody,
    response: IdentityReviewSchema,
    successStatus: 200,
    handler: async ({ audit, event, principal, params }) => {
      const body = jsonBody(event, DecisionBody);
      const id = params.reviewId ?? '';
      const found = REVIEW_ID.test(id) ? await getIdentityReview(id) : undefined;
      if (!found) throw problem(404, 'No such identity review.');
      const status = body.decision === 'accept' ? 'accepted' : 'rejected';
      if (!(await decideIdentityReview(id, status, actorOf(principal), body.note))) {
        audit.record({
          target: `identity_review:${id}`,
          outcome: 'refused:decided',
          upn: found.review.upn,
          urn: found.review.urn,
        });
        throw problem(
          409,
          `This review was already decided (${(await getIdentityReview(id))?.review.status ?? found.review.status}); a decision is final.`,
        );
      }
      if (status === 'accepted') {
        await sendIngest({ kind: 'identity_review', urn: found.review.urn, reviewId: id }, `identity-review-${id}`);
      }
      audit.record({ target: `identity_review:${id}`, outcome: status, upn: found.review.upn, urn: found.review.urn });
      return json(200, (await getIdentityReview(id))?.review ?? found.review);
    },
  }),
];
