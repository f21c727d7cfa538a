/**
 * Rollup Lambda: rebuilds the LA-wide figures and pupil lists from the schools' materialised views.
 * School views are cached per process by version, so a warm instance re-reads only the schools that
 * changed since its last run.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { mergePupilRows, rollupLa, absenceRateOf } from '../../shared/domain/la-view.js';
import type { SchoolView } from '../../shared/domain/school-view.js';
import { errorSummary, logger, METRIC, recordMetric, withLambdaContext } from '../../shared/observability.js';
import type { RollupMessage } from '../../shared/store/queues.js';
import { listSchools } from '../../shared/store/schools.js';
import { inParallel } from '../../shared/store/table.js';
import { getLaViewPointer, getSchoolView, listSchoolViewPointers, putLaView } from '../../shared/store/views.js';

const cache = new Map<string, { version: number; view: SchoolView }>();

/** Drop the held school views, so the next rollup reads every school again (a cold instance). */
export function forgetSchoolViews(): void {
  cache.clear();
}

export async function rollup(academicYear: number): Promise<{ schools: number; pupils: number; version: number } | undefined> {
  const pointers = await listSchoolViewPointers(academicYear);
  const stale = pointers.filter((p) => cache.get(`${academicYear}#${p.urn}`)?.version !== p.version);
  await inParallel(stale, 8, async (p) => {
    const view = await getSchoolView(p.urn as string, academicYear);
    if (view) cache.set(`${academicYear}#${p.urn}`, { version: view.version, view });
  });
  const registry = new Map((await listSchools()).map((s) => [s.urn, s]));
  const schools = pointers
    .map((p) => cache.get(`${academicYear}#${p.urn}`))
    .filter((x): x is { version: number; view: SchoolView } => x !== undefined)
    .map((x) => ({ ...x, phase: registry.get(x.view.urn)?.phase, outOfArea: registry.get(x.view.urn)?.outOfArea === true }));
  const la = rollupLa(academicYear, schools);
  const pupils = mergePupilRows(schools).sort((a, b) => absenceRateOf(b) - absenceRateOf(a) || (a.upn < b.upn ? -1 : 1));
  const previous = await getLaViewPointer(academicYear);
  const version = (previous?.version ?? 0) + 1;
  await putLaView(la, pupils, version);
  return { schools: schools.length, pupils: pupils.length, version };
}

export const handler = withLambdaContext(async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    try {
      const message = JSON.parse(record.body) as RollupMessage;
      const result = await rollup(message.academicYear);
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
