/**
 * Messages between the Lambdas. The ingest queue is FIFO with one message group per school, so all
 * writes to one school's register are applied in order by one consumer at a time (docs/design.md §3).
 */
import { randomBytes } from 'node:crypto';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { sqsClient } from './clients.js';
import { optionalSetting, resourceName, ROLLUP_DELAY_SECONDS } from '../config.js';

export type IngestMessage =
  | { kind: 'return'; returnId: string; urn: string; bucket: string; key: string }
  | { kind: 'refresh'; urn: string; academicYear: number; upns?: string[]; reason: string }
  /** Rows an LA officer accepted from the identity review list, applied in the school's queue. */
  | { kind: 'identity_review'; urn: string; reviewId: string };

export interface RollupMessage {
  kind: 'rollup';
  academicYear: number;
}

function url(name: 'INGEST_QUEUE_URL' | 'ROLLUP_QUEUE_URL'): string {
  return resourceName(name === 'INGEST_QUEUE_URL' ? 'ingestQueueUrl' : 'rollupQueueUrl');
}

export async function sendIngest(message: IngestMessage, deduplicationId: string): Promise<void> {
  await sqsClient().send(
    new SendMessageCommand({
      QueueUrl: url('INGEST_QUEUE_URL'),
      MessageBody: JSON.stringify(message),
      MessageGroupId: message.urn,
      MessageDeduplicationId: deduplicationId.slice(0, 128),
    }),
  );
}

/**
 * Ask for an LA-wide rollup. Requests within one delay window share a deduplication id, and the
 * queue delays delivery by that window, so one rollup follows a burst of ingests and sees them all.
 */
export async function requestRollup(academicYear: number, now = Date.now()): Promise<void> {
  const delay = Number(optionalSetting('ROLLUP_DELAY_SECONDS') ?? ROLLUP_DELAY_SECONDS);
  // No delay means no window to share: each request is its own rollup (a delay of 0 would make every
  // id "Infinity" and deduplicate every rollup after the first for the queue's 5-minute window).
  const bucket = delay > 0 ? String(Math.floor(now / 1000 / delay)) : `${now}-${randomBytes(4).toString('hex')}`;
  await sqsClient().send(
    new SendMessageCommand({
      QueueUrl: url('ROLLUP_QUEUE_URL'),
      MessageBody: JSON.stringify({ kind: 'rollup', academicYear } satisfies RollupMessage),
      MessageGroupId: `rollup-${academicYear}`,
      MessageDeduplicationId: `rollup-${academicYear}-${bucket}`,
    }),
  );
}
