/**
 * The ingest on worker threads (local/ingest-workers.ts): two schools' returns applied by two workers
 * come out exactly as when the main thread applies them — returns accepted, the same pupil view and
 * LA metrics — and ask exactly the same of DynamoDB, S3 and SQS (the bench's cost meter, whose
 * workers' counts are merged into the main thread's). A worker that crashes mid-invocation is
 * replaced and the return retried by the queue.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CostMeter, installCostMeter, type CostCounts } from '../../bench/cost.js';
import { instrumentIngestWorkers } from '../../local/ingest-workers.js';
import { DEFAULT_NAMES } from '../../shared/config.js';
import { startTestService, type TestService } from './harness.js';
import { returnCsv, upnFor, weekdays } from '../support/returns.js';

const SCHOOLS = [
  { urn: '131001', estab: '3001' },
  { urn: '131002', estab: '3002' },
];
const PUPILS = 12;
const DAYS = weekdays('2025-09-08', '2025-09-10');
const scratch = mkdtempSync(join(tmpdir(), 'attendance-hub-workers-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A school's return for one day: a few pupils absent, more as the week goes on. */
function dayOf(school: (typeof SCHOOLS)[number], day: number): string {
  return returnCsv(
    Array.from({ length: PUPILS }, (_, i) => ({
      urn: school.urn,
      upn: upnFor(i + 1, '999', school.estab),
      date: DAYS[day],
      am: i < 2 + day ? 'I' : '/',
      pm: i < 1 + day ? 'O' : '/',
      forename: `F${i}`,
      surname: `S${i}`,
      year_group: String(7 + (i % 5)),
    })),
  );
}

async function upload(svc: TestService, school: (typeof SCHOOLS)[number], day: number): Promise<string> {
  const token = await svc.token('school', { urn: school.urn });
  const res = await svc.request('POST', '/v1/returns', { token, body: dayOf(school, day) });
  expect(res.status).toBe(202);
  await svc.settle();
  return res.json().returnId as string;
}

interface Outcome {
  statuses: string[];
  counts: CostCounts;
  pupil: unknown;
  metrics: unknown;
  stats?: Array<{ groups: number; invocations: number }>;
}

/** Day 1 for both schools (every cache warm), then days 2 and 3 under the meter; then what the API shows. */
async function run(ingestWorkers: number): Promise<Outcome> {
  const svc = await startTestService({ ingestWorkers });
  try {
    const ids: string[] = [];
    for (const school of SCHOOLS) ids.push(await upload(svc, school, 0));
    const meter = new CostMeter();
    const remove = await installCostMeter(meter, { api: svc.url, s3: svc.runtime.engines.s3Endpoint });
    try {
      for (const day of [1, 2]) for (const school of SCHOOLS) ids.push(await upload(svc, school, day));
    } finally {
      remove();
    }
    const officer = await svc.token('la_officer');
    const statuses = [];
    for (const id of ids)
      statuses.push((await svc.request('GET', `/v1/returns/${id}`, { token: officer })).json().status as string);
    const view = (
      await svc.request('GET', `/v1/pupils/${upnFor(2, '999', SCHOOLS[1].estab)}?academicYear=2025`, {
        token: officer,
      })
    ).json();
    const metrics = await svc.request(
      'GET',
      '/v1/metrics?scope=la&groupBy=cohort&from=2025-08-01&to=2026-07-31&population=all',
      { token: officer },
    );
    expect(metrics.status).toBe(200);
    return {
      statuses,
      counts: meter.counts,
      pupil: { totals: view.totals, persistentAbsence: view.persistentAbsence, enrolments: view.enrolments.length },
      metrics: metrics.json().items,
      stats: svc.runtime.ingestWorkers?.stats(),
    };
  } finally {
    await svc.stop();
  }
}

describe('the ingest on worker threads', () => {
  it('applies returns as the main thread does, asking the same of DynamoDB, S3 and SQS', async () => {
    const inMain = await run(0);
    const inWorkers = await run(2);
    expect(inMain.stats).toBeUndefined();
    // Each school kept to one worker, and each worker had one school's three returns.
    expect(inWorkers.stats).toEqual([
      { groups: 1, invocations: 3 },
      { groups: 1, invocations: 3 },
    ]);
    expect(inWorkers.statuses).toEqual(Array(6).fill('accepted'));
    expect(inMain.statuses).toEqual(inWorkers.statuses);
    expect(inWorkers.pupil).toMatchObject({ totals: { possibleSessions: 6, absenceSessions: 5 }, enrolments: 1 });
    expect(inWorkers.pupil).toEqual(inMain.pupil);
    expect((inWorkers.metrics as unknown[]).length).toBeGreaterThan(0);
    expect(inWorkers.metrics).toEqual(inMain.metrics);
    // The workers' requests are counted: 4 returns' ingest (their registers written to S3, their
    // pupils to DynamoDB, their rollup requests to SQS) are in the meter, as in the main thread.
    expect(inWorkers.counts.s3.putsByBucket[DEFAULT_NAMES.registersBucket]).toBeGreaterThanOrEqual(4);
    expect(inWorkers.counts.sqs.messagesByQueue[DEFAULT_NAMES.rollupQueue]).toBeGreaterThanOrEqual(4);
    // Exactly, but for the bytes of the compressed objects (registers, views), which carry random
    // return ids and times and so differ by a few bytes from any run to the next, workers or none.
    const exact = (c: CostCounts) => ({
      ...c,
      s3: { ...c.s3, bytesUp: 0, bytesDown: 0, putBytesByBucket: Object.keys(c.s3.putBytesByBucket).sort() },
    });
    expect(exact(inWorkers.counts)).toEqual(exact(inMain.counts));
    const close = (a: number, b: number) => expect(Math.abs(a - b)).toBeLessThanOrEqual(0.005 * b);
    close(inWorkers.counts.s3.bytesUp, inMain.counts.s3.bytesUp);
    close(inWorkers.counts.s3.bytesDown, inMain.counts.s3.bytesDown);
    for (const [bucket, bytes] of Object.entries(inMain.counts.s3.putBytesByBucket))
      close(inWorkers.counts.s3.putBytesByBucket[bucket], bytes);
  }, 120_000);

  it('replaces a worker that crashes, and the queue retries its return', async () => {
    const svc = await startTestService({ ingestWorkers: 2 });
    const flag = join(scratch, 'crashed');
    const off = instrumentIngestWorkers({
      module: new URL('../support/crash-ingest-worker.ts', import.meta.url).href,
      name: 'crashOnce',
      options: { flag },
      merge: () => undefined,
    });
    try {
      const id = await upload(svc, SCHOOLS[0], 0);
      const officer = await svc.token('la_officer');
      expect((await svc.request('GET', `/v1/returns/${id}`, { token: officer })).json().status).toBe('accepted');
      expect(svc.runtime.ingestWorkers?.replaced()).toBe(1);
      // The one return: delivered twice (the crash, then the retry) to the same worker's place.
      expect(svc.runtime.ingestWorkers?.stats()).toEqual([
        { groups: 1, invocations: 2 },
        { groups: 0, invocations: 0 },
      ]);
      expect(svc.runtime.queues.deadLetters(DEFAULT_NAMES.ingestQueue)).toEqual([]);
      // The replacement applies the next return as usual.
      const next = await upload(svc, SCHOOLS[0], 1);
      expect((await svc.request('GET', `/v1/returns/${next}`, { token: officer })).json().status).toBe('accepted');
    } finally {
      off();
      await svc.stop();
    }
  }, 120_000);
});
