/**
 * Rollup Lambda: brings the LA figures and lists up to date with the schools' views
 * (shared/app/rollup.ts; docs/design.md §3 "LA-wide rollup"). Parse the message, call, report.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { rollup } from '../../shared/app/rollup.js';
import { storedLaFigures } from '../../shared/app/wiring.js';
import { errorSummary, logger, METRIC, recordMetric, withLambdaContext } from '../../shared/observability.js';
import type { RollupMessage } from '../../shared/store/queues.js';

/** The rollup's stores, wired once. */
const deps = { figures: storedLaFigures };

export const handler = withLambdaContext(async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    try {
      const message = JSON.parse(record.body) as RollupMessage;
      const result = await rollup(deps, message.academicYear);
      logger.info('LA rollup', { academicYear: message.academicYear, ...result });
      // Rollup age: how long the LA-wide figures trailed the return that asked for this rollup.
      const sent = Number(record.attributes?.SentTimestamp);
      if (Number.isFinite(sent) && sent > 0) recordMetric(METRIC.rollupAge, Math.max(0, (Date.now() - sent) / 1000));
    } catch (err) {
      logger.error('rollup failed', { messageId: record.messageId, error: errorSummary(err) });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
});
