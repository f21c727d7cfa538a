/**
 * Dead-letter consumer: a return whose processing failed on every attempt (a poison file, or a fault
 * that outlived the retries) must not sit at "processing" for ever. It is marked `rejected` with the
 * reason, and the file stays where it was received (returns/), so nothing is lost and the school
 * can see what happened and send it again.
 */
import type { SQSEvent } from 'aws-lambda';
import { logger } from '../../shared/observability.js';
import type { IngestMessage } from '../../shared/store/queues.js';
import { getReturn, setReturnStatus } from '../../shared/store/returns.js';

const FINAL = new Set(['accepted', 'accepted_with_errors', 'rejected']);

export async function rejectDeadLetter(body: string, reason: string): Promise<void> {
  let message: IngestMessage;
  try {
    message = JSON.parse(body) as IngestMessage;
  } catch {
    logger.error('dead letter that is not an ingest message');
    return;
  }
  if (message.kind === 'identity_review') {
    logger.error('accepted identity review failed on every attempt', { urn: message.urn, reviewId: message.reviewId });
    return;
  }
  if (message.kind !== 'return') {
    logger.error('school refresh failed on every attempt', { urn: message.urn, academicYear: message.academicYear });
    return;
  }
  const record = await getReturn(message.returnId);
  if (!record || FINAL.has(record.status)) return;
  await setReturnStatus(message.returnId, 'rejected', {
    processedAt: new Date().toISOString(),
    deadLettered: true,
    rejection: {
      title: 'Processing failed',
      detail: `The file could not be processed after repeated attempts (${reason.slice(0, 200)}). It has been kept; the LA's support team has been alerted. Send it again, or contact the LA if it fails again.`,
    },
  });
  logger.error('return moved to dead letters', { returnId: message.returnId, urn: message.urn });
}

/** Lambda entry for the ingest dead-letter queue. */
export const handler = async (event: SQSEvent): Promise<void> => {
  for (const record of event.Records) {
    await rejectDeadLetter(record.body, 'processing failed repeatedly');
  }
};
