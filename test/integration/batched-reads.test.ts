/**
 * Reads asked for together go to DynamoDB together (shared/store/table.ts `getItem`): one
 * BatchGetItem of the distinct keys, each caller its own answer and its own copy, an error only for
 * the read it belongs to. On the real engine, counted by the cost meter.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CostMeter, installCostMeter } from '../../bench/cost.js';
import { startTestService, type TestService } from './harness.js';

let svc: TestService;
let table: typeof import('../../shared/store/table.js');

beforeAll(async () => {
  svc = await startTestService();
  table = await import('../../shared/store/table.js');
  await table.putItem({ pk: 'BATCHED#1', sk: 'A', n: 1, tags: ['x'] });
  await table.putItem({ pk: 'BATCHED#1', sk: 'B', n: 2 });
});
afterAll(async () => {
  await svc?.stop();
});

async function counted<T>(work: () => Promise<T>): Promise<{ result: T; requests: Record<string, number> }> {
  const meter = new CostMeter();
  const remove = await installCostMeter(meter, { api: svc.url, s3: svc.runtime.engines.s3Endpoint });
  try {
    return { result: await work(), requests: meter.counts.dynamo.requests };
  } finally {
    remove();
  }
}

describe('reads asked together', () => {
  it('go as one batch of the distinct keys, each caller with its own copy, a missing item undefined', async () => {
    const { result, requests } = await counted(() =>
      Promise.all([
        table.getItem<{ n: number; tags?: string[] }>({ pk: 'BATCHED#1', sk: 'A' }),
        table.getItem<{ n: number }>({ pk: 'BATCHED#1', sk: 'B' }, false),
        table.getItem({ pk: 'BATCHED#1', sk: 'NONE' }),
        table.getItem<{ n: number; tags?: string[] }>({ pk: 'BATCHED#1', sk: 'A' }),
      ]),
    );
    const [a, b, none, again] = result;
    expect(requests).toEqual({ BatchGetItem: 1 });
    expect([a?.n, b?.n, none, again?.n]).toEqual([1, 2, undefined, 1]);
    expect(again).not.toBe(a);
    again!.tags!.push('changed by one caller');
    expect(a!.tags).toEqual(['x']);
  });

  it("getTogether's reads join the turn's batch: two callers' items and a getItem, one BatchGetItem (issue 17)", async () => {
    const { result, requests } = await counted(() =>
      Promise.all([
        table.getTogether<{ n: number }>([
          { pk: 'BATCHED#1', sk: 'A' },
          { pk: 'BATCHED#1', sk: 'NONE' },
          { pk: 'BATCHED#1', sk: 'A' },
        ]),
        table.getTogether<{ n: number }>([{ pk: 'BATCHED#1', sk: 'B' }]),
        table.getItem<{ n: number }>({ pk: 'BATCHED#1', sk: 'A' }, false),
      ]),
    );
    expect(requests).toEqual({ BatchGetItem: 1 });
    const [first, second, single] = result;
    expect(first.map((i) => i.n)).toEqual([1]);
    expect(second.map((i) => i.n)).toEqual([2]);
    expect(single?.n).toBe(1);
  });

  it('a read on its own is one GetItem', async () => {
    const { result, requests } = await counted(() => table.getItem<{ n: number }>({ pk: 'BATCHED#1', sk: 'B' }));
    expect(result?.n).toBe(2);
    expect(requests).toEqual({ GetItem: 1 });
  });

  it('an invalid key fails its own read only', async () => {
    const [good, bad] = await Promise.allSettled([
      table.getItem<{ n: number }>({ pk: 'BATCHED#1', sk: 'A' }),
      table.getItem({ pk: 'BATCHED#1', sk: '' }),
    ]);
    expect(good.status === 'fulfilled' && good.value?.n).toBe(1);
    expect(bad.status).toBe('rejected');
  });
});

describe("writes put together (issue 17: the API's audit entries)", () => {
  const read = (sk: string) => table.getItem<{ n: number }>({ pk: 'TOGETHER#1', sk });

  it("go as one BatchWriteItem for every caller of the turn, each caller's items written when it resolves", async () => {
    const { requests } = await counted(() =>
      Promise.all([
        table.putTogether([
          { pk: 'TOGETHER#1', sk: 'A', n: 1 },
          { pk: 'TOGETHER#1', sk: 'B', n: 2 },
        ]),
        table.putTogether([{ pk: 'TOGETHER#1', sk: 'C', n: 3 }]),
        table.putTogether([{ pk: 'TOGETHER#1', sk: 'D', n: 4 }]),
      ]),
    );
    expect(requests).toEqual({ BatchWriteItem: 1 });
    expect((await Promise.all(['A', 'B', 'C', 'D'].map(read))).map((x) => x?.n)).toEqual([1, 2, 3, 4]);
  });

  it('start another batch past 25 items or at a key the batch already holds', async () => {
    const many = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => ({ pk: 'TOGETHER#2', sk: `K${from + i}`, n: from + i }));
    const { requests } = await counted(() =>
      Promise.all([
        table.putTogether(many(0, 20)),
        table.putTogether(many(20, 5)),
        // Would make 26: the next batch.
        table.putTogether(many(25, 1)),
        // The same key as the last caller's: another batch again (a batch may not repeat a key).
        table.putTogether([{ pk: 'TOGETHER#2', sk: 'K25', n: 99 }]),
      ]),
    );
    expect(requests).toEqual({ BatchWriteItem: 3 });
    expect((await table.getItem<{ n: number }>({ pk: 'TOGETHER#2', sk: 'K19' }))?.n).toBe(19);
    expect((await table.getItem<{ n: number }>({ pk: 'TOGETHER#2', sk: 'K25' }))?.n).toBe(99);
  });

  it("an invalid item fails its own caller's write only; the others' are written", async () => {
    const [good, bad, other] = await Promise.allSettled([
      table.putTogether([{ pk: 'TOGETHER#3', sk: 'A', n: 1 }]),
      table.putTogether([{ pk: 'TOGETHER#3', sk: '', n: 2 }]),
      table.putTogether([{ pk: 'TOGETHER#3', sk: 'C', n: 3 }]),
    ]);
    expect([good.status, bad.status, other.status]).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((await table.getItem<{ n: number }>({ pk: 'TOGETHER#3', sk: 'A' }))?.n).toBe(1);
    expect((await table.getItem<{ n: number }>({ pk: 'TOGETHER#3', sk: 'C' }))?.n).toBe(3);
  });
});
