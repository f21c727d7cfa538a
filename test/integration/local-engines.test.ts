/**
 * The embedded engines' work-arounds (local/engine-fixes.mjs), each on the condition that failed
 * before it: a listing longer than one page (s3rver's DES continuation token, a 500 on every retry
 * under OpenSSL 3: the 600-school bench's stop); reads of an object being overwritten (s3rver wrote
 * in place: torn bodies and 500s); and dynalite's LevelDB iterators, one left open by every Query
 * and Scan (the data directory grew with every byte written: 32 GB in a week at 600 schools); and
 * dynalite's read of the table's description for every item a request names.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  ResourceNotFoundException,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startEngines, type Engines } from '../../local/engines.js';
import { DEFAULT_NAMES } from '../../shared/config.js';

const dirs: string[] = [];
const running: Engines[] = [];
async function engines(inProcess: boolean): Promise<Engines> {
  const dir = mkdtempSync(join(tmpdir(), 'attendance-hub-engines-'));
  dirs.push(dir);
  const e = await startEngines(dir, { inProcess });
  running.push(e);
  return e;
}
afterAll(async () => {
  for (const e of running) await e.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A client of the engines' S3 that shows a 500 rather than retrying it away. */
const s3Of = (e: Engines) =>
  new S3Client({
    endpoint: e.s3Endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    forcePathStyle: true,
    maxAttempts: 1,
  });

describe('the local engines', () => {
  it('list a bucket page by page (the engine process, as npm start runs it)', async () => {
    const s3 = s3Of(await engines(false));
    try {
      const bucket = DEFAULT_NAMES.returnsBucket;
      const keys = ['returns/100001/a.csv', 'returns/100001/b.csv', 'returns/100002/c.csv'];
      for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: 'x' }));
      // Two keys a page: the first page carries a continuation token, as any listing over 1,000 keys does.
      const listed: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 2, ContinuationToken: token }));
        listed.push(...(page.Contents ?? []).map((o) => o.Key!));
        token = page.NextContinuationToken;
        pages++;
      } while (token);
      expect(pages).toBe(2);
      expect(listed).toEqual(keys);
    } finally {
      s3.destroy();
    }
  });

  it('replace an object whole: a read racing a write sees the old body or the new, never a mixture or a 500', async () => {
    const s3 = s3Of(await engines(false));
    try {
      const Bucket = DEFAULT_NAMES.registersBucket;
      const Key = 'views/2025/la.json.gz';
      const bodies = [Buffer.alloc(200_000, 'a'), Buffer.alloc(150_000, 'b')];
      await s3.send(new PutObjectCommand({ Bucket, Key, Body: bodies[0] }));
      const faults: string[] = [];
      let reads = 0;
      const until = Date.now() + 3_000;
      const writer = async (n: number) => {
        for (let i = n; Date.now() < until; i++)
          await s3.send(new PutObjectCommand({ Bucket, Key, Body: bodies[i % 2] }));
      };
      const reader = async () => {
        while (Date.now() < until) {
          try {
            const res = await s3.send(new GetObjectCommand({ Bucket, Key }));
            const body = Buffer.from(await res.Body!.transformToByteArray());
            reads++;
            if (!bodies.some((b) => b.equals(body)) || res.ContentLength !== body.length)
              faults.push(`a body of ${body.length} bytes that was never written`);
          } catch (err) {
            faults.push(`${(err as Error).name}: ${(err as Error).message}`);
          }
        }
      };
      await Promise.all([writer(0), writer(1), reader(), reader(), reader(), reader()]);
      expect(reads).toBeGreaterThan(20);
      expect(faults).toEqual([]);
    } finally {
      s3.destroy();
    }
  });

  it('close the LevelDB iterator of every Query and Scan', async () => {
    const e = await engines(true);
    // Count the iterators dynalite's LevelDB opens and closes (the abstract-level it loads).
    const fromDynalite = createRequire(createRequire(import.meta.url).resolve('dynalite'));
    const fromLevel = createRequire(fromDynalite.resolve('level'));
    const { ClassicLevel } = fromLevel('classic-level') as {
      ClassicLevel: { prototype: Record<string, (...a: unknown[]) => { close(): Promise<void> }> };
    };
    let open = 0;
    const originals = new Map<string, (...a: unknown[]) => { close(): Promise<void> }>();
    for (const name of ['iterator', 'keys', 'values']) {
      const original = ClassicLevel.prototype[name];
      originals.set(name, original);
      ClassicLevel.prototype[name] = function (this: unknown, ...a: unknown[]) {
        const it = original.apply(this, a);
        open++;
        const close = it.close.bind(it);
        let closed = false;
        it.close = async () => {
          if (!closed) open--;
          closed = true;
          return close();
        };
        return it;
      };
    }
    const ddb = new DynamoDBClient({
      endpoint: e.dynamoEndpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    try {
      const TableName = DEFAULT_NAMES.table;
      for (let i = 0; i < 5; i++) {
        await ddb.send(
          new PutItemCommand({
            TableName,
            Item: { pk: { S: 'ITER' }, sk: { S: String(i) }, gsi1pk: { S: 'ITER' }, gsi1sk: { S: String(i) } },
          }),
        );
      }
      const pk = { ':p': { S: 'ITER' } };
      const all = await ddb.send(
        new QueryCommand({ TableName, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: pk }),
      );
      const page = await ddb.send(
        new QueryCommand({ TableName, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: pk, Limit: 2 }),
      );
      const index = await ddb.send(
        new QueryCommand({
          TableName,
          IndexName: 'gsi1',
          KeyConditionExpression: 'gsi1pk = :p',
          ExpressionAttributeValues: pk,
          Limit: 3,
        }),
      );
      await ddb.send(new ScanCommand({ TableName, Limit: 1 }));
      await ddb.send(new ScanCommand({ TableName }));
      expect([all.Items?.length, page.Items?.length, index.Items?.length]).toEqual([5, 2, 3]);
      // Closing is asynchronous (the stream's destroy, after the answer is sent): wait for it a while.
      // Without the work-around every one of the ten stays open for the life of the process.
      await vi.waitFor(() => expect(open).toBe(0), { timeout: 5_000, interval: 20 });
    } finally {
      for (const [name, original] of originals) ClassicLevel.prototype[name] = original;
      ddb.destroy();
    }
  });

  it("read the table's description once for item requests, and afresh once the table changes", async () => {
    const e = await engines(true);
    const fromDynalite = createRequire(createRequire(import.meta.url).resolve('dynalite'));
    const fromLevel = createRequire(fromDynalite.resolve('level'));
    const { ClassicLevel } = fromLevel('classic-level') as {
      ClassicLevel: { prototype: Record<string, (...a: unknown[]) => unknown> };
    };
    let gets = 0;
    const original = ClassicLevel.prototype._get;
    ClassicLevel.prototype._get = function (this: unknown, ...a: unknown[]) {
      gets++;
      return original.apply(this, a);
    };
    const ddb = new DynamoDBClient({
      endpoint: e.dynamoEndpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    try {
      const TableName = 'table-held';
      const create = (index: string) =>
        ddb.send(
          new CreateTableCommand({
            TableName,
            BillingMode: 'PAY_PER_REQUEST',
            AttributeDefinitions: ['pk', 'sk', index].map((n) => ({ AttributeName: n, AttributeType: 'S' })),
            KeySchema: [
              { AttributeName: 'pk', KeyType: 'HASH' },
              { AttributeName: 'sk', KeyType: 'RANGE' },
            ],
            GlobalSecondaryIndexes: [
              {
                IndexName: index,
                KeySchema: [{ AttributeName: index, KeyType: 'HASH' }],
                Projection: { ProjectionType: 'ALL' },
              },
            ],
          }),
        );
      const batch = (attr: string) =>
        ddb.send(
          new BatchWriteItemCommand({
            RequestItems: {
              [TableName]: Array.from({ length: 25 }, (_, i) => ({
                PutRequest: { Item: { pk: { S: 'P' }, sk: { S: String(i) }, [attr]: { S: 'I' } } },
              })),
            },
          }),
        );
      await create('ixa');
      await vi.waitFor(
        async () => expect((await ddb.send(new DescribeTableCommand({ TableName }))).Table?.TableStatus).toBe('ACTIVE'),
        { timeout: 5_000, interval: 20 },
      );
      await batch('ixa');
      // Each of 25 puts reads its item (dynalite reads the item before it writes it); the table's
      // description is read once for them all (it was read before the fix for each item, and once more).
      gets = 0;
      await batch('ixa');
      expect(gets).toBeLessThanOrEqual(26);
      // The table deleted: an item request is refused, not answered from the description held.
      await ddb.send(new DeleteTableCommand({ TableName }));
      await expect(batch('ixa')).rejects.toBeInstanceOf(ResourceNotFoundException);
      // Made again with another index (once the deletion has finished): item writes maintain the new one.
      await vi.waitFor(
        () =>
          expect(ddb.send(new DescribeTableCommand({ TableName }))).rejects.toBeInstanceOf(ResourceNotFoundException),
        { timeout: 5_000, interval: 20 },
      );
      await create('ixb');
      await vi.waitFor(
        async () => expect((await ddb.send(new DescribeTableCommand({ TableName }))).Table?.TableStatus).toBe('ACTIVE'),
        { timeout: 5_000, interval: 20 },
      );
      await batch('ixb');
      const byIndex = await ddb.send(
        new QueryCommand({
          TableName,
          IndexName: 'ixb',
          KeyConditionExpression: 'ixb = :i',
          ExpressionAttributeValues: { ':i': { S: 'I' } },
        }),
      );
      expect(byIndex.Items?.length).toBe(25);
    } finally {
      ClassicLevel.prototype._get = original;
      ddb.destroy();
    }
  });
});
