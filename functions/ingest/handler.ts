/**
 * Ingest Lambda: consumes the FIFO ingest queue (one message group per school), one message at a
 * time per school. A failed message is reported back so SQS retries it (and, after the retry limit,
 * moves it to the dead-letter queue) without holding up other schools. Parse the message, call the
 * use case (shared/app/apply-return.ts), report.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { errorSummary, logger, METRIC, recordMetrics, withLambdaContext } from '../../shared/observability.js';
import type { IngestMessage } from '../../shared/store/queues.js';
import { applyAcceptedReview, processReturn, refreshSchool } from '../../shared/app/apply-return.js';
import { storedIngest } from '../../shared/app/wiring.js';
import { rejectDeadLetter } from './dead-letter.js';
import { MAX_RECEIVE_COUNT } from '../../shared/config.js';

/** The ingest's stores, wired once. */
const app = storedIngest;

/**
 * `attempt` is the message's delivery count. A redelivered return is applied without the school's
 * later returns: should one of them make the batch fail every time, only its own message fails
 * (the crash a redelivery follows is completed just the same; shared/app/apply-return.ts).
 */
export async function handleIngestMessage(message: IngestMessage, attempt = 1): Promise<void> {
  if (message.kind === 'return') {
    const outcome = await processReturn(app, message.returnId, message.bucket, message.key, { batch: attempt <= 1 });
    logger.info('return processed', {
      returnId: outcome.returnId,
      urn: message.urn,
      status: outcome.status,
      skipped: outcome.skipped ?? false,
      batched: outcome.batched?.length ?? 0,
    });
    if (!outcome.skipped) await recordReturnMetrics(outcome.returnId);
    // Returns applied in the same batch: their own messages will find them finished and skip.
    for (const id of outcome.batched ?? []) await recordReturnMetrics(id);
    return;
  }
  if (message.kind === 'identity_review') {
    const outcome = await applyAcceptedReview(app, message.reviewId);
    logger.info('identity review applied', { urn: message.urn, reviewId: message.reviewId, status: outcome });
    return;
  }
  const result = await refreshSchool(app, message.urn, message.academicYear, message.upns ?? 'all');
  logger.info('school refreshed', {
    urn: message.urn,
    academicYear: message.academicYear,
    reason: message.reason,
    pupils: result.pupils,
  });
}

/** Accepted or rejected, rows rejected, and the ingest lag (received → processed) of a return just processed. */
async function recordReturnMetrics(returnId: string): Promise<void> {
  const record = await app.returns.get(returnId);
  if (!record) return;
  const lag = record.processedAt ? (Date.parse(record.processedAt) - Date.parse(record.receivedAt)) / 1000 : NaN;
  recordMetrics([
    [record.status === 'rejected' ? METRIC.returnsRejected : METRIC.returnsAccepted, 1],
    [METRIC.rowsRejected, record.counts?.rejected ?? 0],
    ...(Number.isFinite(lag) ? [[METRIC.ingestLag, Math.max(0, lag)] as const] : []),
  ]);
}

export const handler = withLambdaContext(async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    // After one failure in a FIFO group, later messages of the batch must not overtake it.
    if (batchItemFailures.length > 0) {
      batchItemFailures.push({ itemIdentifier: record.messageId });
      continue;
    }
    let message: IngestMessage | undefined;
    try {
      message = JSON.parse(record.body) as IngestMessage;
      await handleIngestMessage(message, Number(record.attributes?.ApproximateReceiveCount ?? 1) || 1);
    } catch (err) {
      // Identifiers of the return and school only, and the error with any quoted text masked.
      const ids = message
        ? {
            urn: message.urn,
            ...(message.kind === 'return'
              ? { returnId: message.returnId }
              : message.kind === 'refresh'
                ? { academicYear: message.academicYear }
                : { reviewId: message.reviewId }),
          }
        : {};
      logger.error('ingest message failed', { messageId: record.messageId, ...ids, error: errorSummary(err) });
      // On the last delivery the message goes to the dead-letter queue (kept there for a redrive and
      // an alarm); the return must not sit at "processing" meanwhile, so it is marked rejected now.
      if (Number(record.attributes?.ApproximateReceiveCount ?? 0) >= MAX_RECEIVE_COUNT) {
        await rejectDeadLetter(record.body, errorSummary(err).name).catch(() => undefined);
      }
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
});

/** Error class and masked message only: a stack trace or payload could carry pupil data. */
export { errorSummary };
