/** How many ingest workers the local runtime's tools start (local/ingest-workers.ts). */
import { availableParallelism } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultIngestWorkers, envIngestWorkers } from '../../../local/ingest-workers.js';

const saved = process.env.INGEST_WORKERS;
afterEach(() => {
  if (saved === undefined) delete process.env.INGEST_WORKERS;
  else process.env.INGEST_WORKERS = saved;
});

describe('the number of ingest workers', () => {
  it('is one per core but one, between 1 and 4, unless INGEST_WORKERS says', () => {
    delete process.env.INGEST_WORKERS;
    expect(envIngestWorkers()).toBeUndefined();
    expect(defaultIngestWorkers()).toBe(Math.max(1, Math.min(4, availableParallelism() - 1)));
    process.env.INGEST_WORKERS = '0';
    expect([envIngestWorkers(), defaultIngestWorkers()]).toEqual([0, 0]);
    process.env.INGEST_WORKERS = '6';
    expect(defaultIngestWorkers()).toBe(6);
    process.env.INGEST_WORKERS = ' ';
    expect(envIngestWorkers()).toBeUndefined();
  });

  it('refuses an INGEST_WORKERS that is not a whole number', () => {
    for (const bad of ['two', '-1', '1.5']) {
      process.env.INGEST_WORKERS = bad;
      expect(() => defaultIngestWorkers()).toThrow(/INGEST_WORKERS/);
    }
  });
});
