/**
 * The LA's identity review list (issue 15): a school's rows for a pupil another school holds that did
 * not agree with the record (`identity_mismatch`), kept whole until an LA officer accepts them (they
 * are then applied through the school's ingest queue) or rejects them. One item per return and pupil;
 * its id follows from both, so a retried ingest files the same item once.
 */
import { createHash } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { PupilIdentity } from '../domain/pupil-identity.js';
import type { RegisterRow } from '../domain/register.js';
import { k } from './keys.js';
import { getItem, isConditionFailure, putItem, queryPage, updateItem } from './table.js';

export type ReviewStatus = 'pending' | 'accepted' | 'rejected';

export interface IdentityReview {
  reviewId: string;
  status: ReviewStatus;
  returnId: string;
  /** The school that sent the rows. */
  urn: string;
  upn: string;
  createdAt: string;
  /** The lines of the return the rows were on. */
  lines: number[];
  dates: { from: string; to: string };
  /** What the rows said, and what the record holds (the other schools' details). */
  sent: PupilIdentity;
  held: PupilIdentity[];
  decidedBy?: { sub: string; role: string };
  decidedAt?: string;
  note?: string;
}

type ReviewItem = IdentityReview & { pk: string; sk: string; gsi1pk: string; gsi1sk: string; rows: Uint8Array };

function reviewIdOf(returnId: string, upn: string): string {
  return `idr${createHash('sha256').update(`${returnId}|${upn}`).digest('hex').slice(0, 24)}`;
}

function strip(item: ReviewItem): IdentityReview {
  const { pk: _pk, sk: _sk, gsi1pk: _g, gsi1sk: _s, rows: _rows, ...rest } = item;
  return rest;
}

/** File refused rows for review; filing the same return's pupil again (a retry) changes nothing. */
export async function fileIdentityReview(
  review: Omit<IdentityReview, 'reviewId' | 'status' | 'createdAt'>,
  rows: RegisterRow[],
): Promise<IdentityReview> {
  const reviewId = reviewIdOf(review.returnId, review.upn);
  const createdAt = new Date().toISOString();
  const item: ReviewItem = {
    ...k.identityReview(reviewId),
    gsi1pk: k.identityReviewsIndex,
    gsi1sk: `${createdAt}#${reviewId}`,
    ...review,
    reviewId,
    status: 'pending',
    createdAt,
    rows: deflateRawSync(JSON.stringify(rows)),
  };
  try {
    await putItem(item as ReviewItem & Record<string, unknown>, { expression: 'attribute_not_exists(pk)' });
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
  }
  return strip(item);
}

export async function getIdentityReview(
  reviewId: string,
): Promise<{ review: IdentityReview; rows: RegisterRow[] } | undefined> {
  const item = await getItem<ReviewItem>(k.identityReview(reviewId));
  if (!item) return undefined;
  return { review: strip(item), rows: JSON.parse(inflateRawSync(item.rows).toString('utf8')) as RegisterRow[] };
}

/** Reviews newest first, optionally of one status. */
export async function listIdentityReviews(
  status: ReviewStatus | undefined,
  limit: number,
  cursor?: string,
): Promise<{ items: IdentityReview[]; nextCursor: string | null }> {
  const page = await queryPage<ReviewItem>(
    {
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': k.identityReviewsIndex, ...(status ? { ':st': status } : {}) },
      ...(status ? { FilterExpression: '#st = :st', ExpressionAttributeNames: { '#st': 'status' } } : {}),
      ScanIndexForward: false,
      Limit: limit,
    },
    cursor,
  );
  return { items: page.items.map(strip), nextCursor: page.nextCursor };
}

/** Decide a pending review; false when it was already decided (by anyone). */
export async function decideIdentityReview(
  reviewId: string,
  status: 'accepted' | 'rejected',
  by: { sub: string; role: string },
  note?: string,
): Promise<boolean> {
  try {
    await updateItem({
      key: k.identityReview(reviewId),
      update: `SET #st = :st, decidedBy = :by, decidedAt = :at${note ? ', note = :note' : ''}`,
      names: { '#st': 'status' },
      values: {
        ':st': status,
        ':by': by,
        ':at': new Date().toISOString(),
        ':pending': 'pending',
        ...(note ? { ':note': note } : {}),
      },
      condition: '#st = :pending',
    });
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw err;
  }
}
