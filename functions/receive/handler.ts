/**
 * Receive Lambda: S3 "object created" events for raw returns → the FIFO ingest queue, grouped by
 * school. (S3 cannot notify a FIFO queue directly.) The deduplication id is the object's identity,
 * so a re-delivered event within SQS's window is dropped; later duplicates are harmless because
 * ingest skips a return already processed.
 */
import type { S3Event } from 'aws-lambda';
import { logger, withLambdaContext } from '../../shared/observability.js';
import { paths } from '../../shared/store/keys.js';
import { sendIngest } from '../../shared/store/queues.js';
import { getReturn, setReturnStatus } from '../../shared/store/returns.js';

export const handler = withLambdaContext(async (event: S3Event): Promise<void> => {
  for (const record of event.Records) {
    const bucket = record.s3.bucket.name;
    // S3 URL-encodes keys in events (spaces as '+').
    const key = decodeURIComponent(record.s3.object.key.replace(/\+/g, ' '));
    const parsed = paths.parseRawReturn(key);
    if (!parsed) {
      logger.warn('object outside the returns layout ignored', { bucket });
      continue;
    }
    const existing = await getReturn(parsed.returnId);
    if (!existing) {
      logger.warn('object with no return record; kept but not processed', { returnId: parsed.returnId });
      continue;
    }
    if (existing.status === 'awaiting_upload')
      await setReturnStatus(parsed.returnId, 'received', { bytes: record.s3.object.size });
    await sendIngest(
      { kind: 'return', returnId: parsed.returnId, urn: parsed.urn, bucket, key },
      `${parsed.returnId}-${record.s3.object.eTag ?? record.s3.object.sequencer ?? ''}`,
    );
    logger.info('return queued', { returnId: parsed.returnId, urn: parsed.urn });
  }
});
