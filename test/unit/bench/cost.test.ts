/** The cost arithmetic of the bench (bench/cost.ts): units from sizes, and the monthly scaling. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ASSUMPTIONS,
  LAMBDA_MEMORY_MB,
  addCounts,
  deletedIndexEntries,
  diffCounts,
  emptyCounts,
  itemBytes,
  monthlyBill,
  plainValueBytes,
  readUnits,
  sqsBilledRequests,
  writeUnits,
  type CostCounts,
  type CostMeasurements,
} from '../../../bench/cost.js';

describe("adding a worker's counts to the main thread's (addCounts)", () => {
  it('adds every field, nested maps included, and keys only one side has', () => {
    const main = emptyCounts();
    main.dynamo.requests.GetItem = 2;
    main.dynamo.readUnits = 1.5;
    main.s3.putsByBucket.a = 1;
    const worker = emptyCounts();
    worker.dynamo.requests.GetItem = 3;
    worker.dynamo.requests.PutItem = 4;
    worker.dynamo.readUnits = 0.5;
    worker.dynamo.writeUnits = 7;
    worker.s3.putsByBucket.b = 2;
    worker.sqs.messagesByQueue['q.fifo'] = 1;
    addCounts(main, worker);
    expect(main.dynamo.requests).toEqual({ GetItem: 5, PutItem: 4 });
    expect([main.dynamo.readUnits, main.dynamo.writeUnits]).toEqual([2, 7]);
    expect(main.s3.putsByBucket).toEqual({ a: 1, b: 2 });
    expect(main.sqs.messagesByQueue).toEqual({ 'q.fifo': 1 });
    // The worker's counts are left as they were.
    expect(worker.dynamo.requests).toEqual({ GetItem: 3, PutItem: 4 });
  });
});

describe('units from sizes (DynamoDB and SQS billing rules)', () => {
  it('writes 1 unit per KB, reads 1 per 4 KB, half when eventually consistent, at least one', () => {
    expect([writeUnits(0), writeUnits(1024), writeUnits(1025), writeUnits(10 * 1024)]).toEqual([1, 1, 2, 10]);
    expect([
      readUnits(100, true),
      readUnits(4096, true),
      readUnits(4097, true),
      readUnits(4097, false),
      readUnits(100, false),
    ]).toEqual([1, 1, 2, 1, 0.5]);
  });

  it('bills SQS per 64 KB chunk of a request', () => {
    expect([
      sqsBilledRequests(10),
      sqsBilledRequests(65_536),
      sqsBilledRequests(65_537),
      sqsBilledRequests(256 * 1024),
    ]).toEqual([1, 1, 2, 4]);
  });

  it('sizes an item as names plus values, marshalled or not', () => {
    // pk: 2 + 7; n: 1 + (2 digits' pair + 1) = 4; b: 1 + 1; m: 1 + (3 + 1 + 1 + 2).
    expect(itemBytes({ pk: { S: 'PUPIL#1' }, n: { N: '123' }, b: { BOOL: true } })).toBe(15);
    expect(itemBytes({ m: { M: { a: { S: 'xy' } } } })).toBe(8);
    const plain = { pk: 'PUPIL#1', n: 123, b: true };
    expect(plainValueBytes(plain) - 3 - Object.keys(plain).length).toBe(15);
  });

  it("counts an LA list year group's item deleted as an index write (it carries gsi1 keys); other deletes not", () => {
    const del = (pk: string) => ({ DeleteRequest: { Key: { pk: { S: pk }, sk: { S: '090.0#A999' } } } });
    const batch = {
      RequestItems: {
        t: [
          del('LALIST#2025#persistent_absence#YG#7'),
          del('LALIST#2025#vs#YG#(none)'),
          del('LALIST#2025#persistent_absence#URN#100001'),
          del('LALIST#2025#persistent_absence#COHORT#cla'),
          del('LALIST#2025#persistent_absence'),
          { PutRequest: { Item: { pk: { S: 'LALIST#2025#persistent_absence#YG#7' } } } },
        ],
      },
    };
    expect(deletedIndexEntries('BatchWriteItem', batch)).toBe(2);
    expect(deletedIndexEntries('DeleteItem', { Key: { pk: { S: 'LALIST#2025#severe_absence#YG#R' } } })).toBe(1);
    expect(deletedIndexEntries('DeleteItem', { Key: { pk: { S: 'PERSON#x' } } })).toBe(0);
    expect(deletedIndexEntries('PutItem', { Item: { pk: { S: 'LALIST#2025#severe_absence#YG#R' } } })).toBe(0);
  });

  it('takes one snapshot of the counters from another, nested maps included', () => {
    const a = emptyCounts();
    const b = emptyCounts();
    b.dynamo.writeUnits = 7;
    b.dynamo.requests.Put = 3;
    b.s3.putsByBucket.x = 2;
    a.dynamo.requests.Put = 1;
    const d = diffCounts(b, a);
    expect(d.dynamo.writeUnits).toBe(7);
    expect(d.dynamo.requests.Put).toBe(2);
    expect(d.s3.putsByBucket.x).toBe(2);
  });
});

describe('the monthly bill', () => {
  const counts = (f: (c: CostCounts) => void): CostCounts => {
    const c = emptyCounts();
    f(c);
    return c;
  };
  const measured: CostMeasurements = {
    benchPupils: 1_000,
    benchSchools: 10,
    daysOfMarks: 5,
    laDay: counts((c) => {
      c.dynamo.writeUnits = 10_000;
      c.dynamo.readUnits = 4_000;
      c.s3.putClass = 30;
      c.s3.getClass = 50;
      c.s3.putsByBucket.returns = 10;
      c.sqs.sendRequestsBilled = 20;
      c.sqs.messagesByQueue['ingest.fifo'] = 20;
      c.api.requests = 20;
    }),
    patterns: counts((c) => {
      c.dynamo.writeUnits = 2_000;
      c.s3.getClass = 10;
    }),
    api: {
      pupil_view: {
        requests: 10,
        counts: counts((c) => {
          c.dynamo.readUnits = 30;
          c.api.requests = 10;
        }),
      },
    },
    storage: { dynamoBytes: 1024 ** 3, dynamoItems: 1, s3BytesByBucket: { returns: 1024 ** 3 } },
    buckets: { returns: 'returns', registers: 'registers', ingestQueue: 'ingest.fifo', rollupQueue: 'rollup.fifo' },
  };
  // 20 school days a month; 230,000 pupils (×230) and 600 schools (×60); 100 pupil views a school day.
  const bill = monthlyBill(measured, {
    ...DEFAULT_ASSUMPTIONS,
    schoolDaysPerYear: 240,
    averageDaysOfMarks: 5,
    apiRequestsPerSchoolDay: { pupil_view: 100 },
    sqsIdlePollsPerMonth: 1_000_000,
  });
  const line = (name: string) => bill.lines.find((l) => l.line.startsWith(name))!;

  it('scales DynamoDB units by pupils and days, requests by schools', () => {
    expect(line('DynamoDB writes').usd.returns).toBeCloseTo(46 * 0.7068, 9); // 10,000 × 230 × 20 = 46 m WRU
    expect(line('DynamoDB writes').quantity).toBeCloseTo(46_000_000 + 2_000 * 230 * (365 / 12), 3);
    expect(line('DynamoDB reads').quantity).toBe(18_400_000 + 6_000); // 4,000 × 230 × 20, and 3 per pupil view × 2,000 views
    expect(line('DynamoDB reads').total).toBeCloseTo(18.406 * 0.1415, 9);
    expect(line('S3 PUT').quantity).toBe(36_000); // 30 × 60 × 20
    expect(line('S3 PUT').total).toBeCloseTo(36 * 0.0053, 9);
    expect(line('S3 GET').quantity).toBeCloseTo(60_000 + 10 * 60 * (365 / 12), 6);
    // (20 sends + a receive and a delete for each of 20 messages) × 60 × 20, plus a million idle polls.
    expect(line('SQS').quantity).toBe(72_000 + 1_000_000);
    expect(line('SQS').total).toBeCloseTo(1.072 * 0.5, 9);
    // 20 API uploads + 10 receives + 20 ingests, × 60 × 20; one patterns run a night; 2,000 API requests.
    expect(line('Lambda requests').usd.returns).toBeCloseTo(0.06 * 0.2, 9);
    expect(line('Lambda requests').quantity).toBeCloseTo(60_000 + 365 / 12 + 2_000, 6);
    expect(line('API Gateway').quantity).toBe(24_000 + 2_000);
  });

  it('derives Lambda time from the documented durations at the configured memory', () => {
    const l = line('Lambda duration');
    expect(l.usd.returns / 0.0000133334).toBeCloseTo(20 * ((29.6 / 46_392) * 230_000 * 4 + 600 * 0.1 * 0.25), 6);
    expect(l.usd.api / 0.0000133334).toBeCloseTo(2_000 * 0.015 * 1, 9);
    expect(l.usd.patterns / 0.0000133334).toBeCloseTo((365 / 12) * (19 / (231_976 * 13)) * 230_000 * 5 * 8, 6);
  });

  it('stores per pupil (DynamoDB) and per pupil and day of marks (S3), and names the largest line', () => {
    expect(line('DynamoDB storage').quantity).toBe(230);
    expect(line('DynamoDB storage').total).toBeCloseTo(230 * 0.29, 9);
    expect(line('S3 storage').quantity).toBeCloseTo(230, 9); // 1 GiB per 1,000 pupils × 5 days, at 230,000 pupils × 5 days
    expect(bill.dominant).toBe('DynamoDB storage');
    expect(bill.total).toBeCloseTo(
      bill.lines.reduce((s, x) => s + x.total, 0),
      9,
    );
  });
});

describe('the memory sizes the bill uses', () => {
  it('are those configured in lib/', () => {
    const lib = ['api', 'ingest-pipeline', 'schedules']
      .map((f) => readFileSync(new URL(`../../../lib/${f}.ts`, import.meta.url), 'utf8'))
      .join('\n');
    for (const [name, mb] of Object.entries(LAMBDA_MEMORY_MB)) {
      const m = new RegExp(`name: '${name}',[\\s\\S]*?memorySize: (\\d+)`).exec(lib);
      expect(Number(m?.[1]), name).toBe(mb);
    }
  });
});
