/**
 * What the service would cost in AWS (issue 17): the bench counts what each operation asks of AWS
 * (DynamoDB read and write units, S3 requests by price class and bytes, SQS requests in 64 KB
 * chunks, API requests, Lambda invocations) and turns the counts into a monthly bill for a
 * 230,000-pupil, 600-school LA at the London prices in bench/aws-prices.ts.
 *
 * Counting is SDK middleware on the shared clients (shared/store/clients.ts), added by the bench
 * only (`installCostMeter`); the service's own code is untouched and pays nothing for it. DynamoDB
 * units are dynalite's ConsumedCapacity (ReturnConsumedCapacity TOTAL, added to each request by the
 * middleware; dynalite applies DynamoDB's rules: 1 unit per 1 KB written, per 4 KB read strongly
 * consistent, half that eventually consistent, a query by the total size it read), plus what
 * dynalite leaves out: writes to the global secondary index (an item written with gsi1pk costs its
 * write units again; an LA list's year-group item deleted, its index entry's unit) and conditional
 * writes that fail (still charged), computed here from the item's size by the same rules.
 */
import { AWS_PRICES_LONDON, priceOf, type Price, type PriceName } from './aws-prices.js';
import type { InstrumentInWorker } from '../local/ingest-workers.js';

// ---------------------------------------------------------------------------------------------
// DynamoDB and SQS billing rules (pure).

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');

/** Bytes of one DynamoDB attribute value in the wire (marshalled) form, by DynamoDB's size rules. */
function attributeValueBytes(v: Record<string, unknown>): number {
  const [type, val] = Object.entries(v)[0] ?? ['NULL', true];
  switch (type) {
    case 'S':
      return utf8(val as string);
    case 'N':
      return numberBytes(val as string);
    case 'B':
      return typeof val === 'string' ? Buffer.from(val, 'base64').length : (val as Uint8Array).length;
    case 'BOOL':
    case 'NULL':
      return 1;
    case 'SS':
      return (val as string[]).reduce((s, x) => s + utf8(x), 0);
    case 'NS':
      return (val as string[]).reduce((s, x) => s + numberBytes(x), 0);
    case 'BS':
      return (val as string[]).reduce((s, x) => s + Buffer.from(x, 'base64').length, 0);
    case 'L':
      return 3 + (val as Array<Record<string, unknown>>).reduce((s, x) => s + 1 + attributeValueBytes(x), 0);
    case 'M':
      return (
        3 +
        Object.entries(val as Record<string, Record<string, unknown>>).reduce(
          (s, [k, x]) => s + 1 + utf8(k) + attributeValueBytes(x),
          0,
        )
      );
    default:
      return 0;
  }
}

/** A number's size: about one byte per two significant digits, plus one. */
function numberBytes(n: string): number {
  const digits = n.replace(/^-/, '').replace(/e.*$/i, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

/** Bytes of a marshalled item: attribute names plus values (what capacity units are computed from). */
export function itemBytes(item: Record<string, Record<string, unknown>>): number {
  return Object.entries(item).reduce((s, [k, v]) => s + utf8(k) + attributeValueBytes(v), 0);
}

/** Bytes of a plain (unmarshalled) JS value, by the same rules (for items the document client returns). */
export function plainValueBytes(v: unknown): number {
  if (v === null || v === undefined || typeof v === 'boolean') return 1;
  if (typeof v === 'string') return utf8(v);
  if (typeof v === 'number' || typeof v === 'bigint') return numberBytes(String(v));
  if (v instanceof Uint8Array) return v.length;
  if (v instanceof Set) return [...v].reduce((s: number, x) => s + plainValueBytes(x), 0);
  if (Array.isArray(v)) return 3 + v.reduce((s: number, x) => s + 1 + plainValueBytes(x), 0);
  return (
    3 + Object.entries(v as Record<string, unknown>).reduce((s, [k, x]) => s + 1 + utf8(k) + plainValueBytes(x), 0)
  );
}

/** Write request units of one item write: 1 per KB, at least 1. */
export function writeUnits(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / 1024));
}

/** Read request units of one read (or one query's total): 1 per 4 KB strongly consistent, half eventually consistent. */
export function readUnits(bytes: number, consistent: boolean): number {
  return Math.max(1, Math.ceil(bytes / 4096)) * (consistent ? 1 : 0.5);
}

/** SQS requests billed for one request carrying these payloads: each 64 KB chunk of the total is one request. */
export function sqsBilledRequests(payloadBytes: number): number {
  return Math.max(1, Math.ceil(payloadBytes / 65_536));
}

/** Bytes DynamoDB bills for storing an item: its size plus 100 bytes of index overhead. */
const DYNAMO_ITEM_OVERHEAD_BYTES = 100;

// ---------------------------------------------------------------------------------------------
// The counters.

export interface CostCounts {
  dynamo: {
    requests: Record<string, number>;
    readUnits: number;
    writeUnits: number;
    indexWriteUnits: number;
    failedWriteUnits: number;
  };
  s3: {
    requests: Record<string, number>;
    putClass: number;
    getClass: number;
    free: number;
    bytesUp: number;
    bytesDown: number;
    putBytesByBucket: Record<string, number>;
    putsByBucket: Record<string, number>;
  };
  sqs: { messagesByQueue: Record<string, number>; sendRequestsBilled: number; bytes: number };
  /** HTTP requests to the API (API Gateway requests and api Lambda invocations). */
  api: { requests: number };
}

export function emptyCounts(): CostCounts {
  return {
    dynamo: { requests: {}, readUnits: 0, writeUnits: 0, indexWriteUnits: 0, failedWriteUnits: 0 },
    s3: {
      requests: {},
      putClass: 0,
      getClass: 0,
      free: 0,
      bytesUp: 0,
      bytesDown: 0,
      putBytesByBucket: {},
      putsByBucket: {},
    },
    sqs: { messagesByQueue: {}, sendRequestsBilled: 0, bytes: 0 },
    api: { requests: 0 },
  };
}

/** `after - before`, field by field. */
export function diffCounts(after: CostCounts, before: CostCounts): CostCounts {
  const sub = (a: unknown, b: unknown): unknown => {
    if (typeof a === 'number') return a - ((b as number) ?? 0);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(a as Record<string, unknown>))
      out[k] = sub(v, (b as Record<string, unknown> | undefined)?.[k] ?? (typeof v === 'number' ? 0 : {}));
    return out;
  };
  return sub(after, before) as CostCounts;
}

/** Add `delta` into `into`, field by field (an ingest worker's counts into the main thread's meter). */
export function addCounts(into: CostCounts, delta: CostCounts): void {
  const add = (a: Record<string, unknown>, b: Record<string, unknown>): void => {
    for (const [k, v] of Object.entries(b)) {
      if (typeof v === 'number') a[k] = ((a[k] as number | undefined) ?? 0) + v;
      else add((a[k] ??= {}) as Record<string, unknown>, v as Record<string, unknown>);
    }
  };
  add(into as unknown as Record<string, unknown>, delta as unknown as Record<string, unknown>);
}

const S3_PUT_CLASS = new Set([
  'PutObject',
  'CopyObject',
  'PostObject',
  'ListObjects',
  'ListObjectsV2',
  'ListObjectVersions',
  'CreateMultipartUpload',
  'UploadPart',
  'UploadPartCopy',
  'CompleteMultipartUpload',
  'ListMultipartUploads',
  'ListParts',
]);
const S3_FREE = new Set(['DeleteObject', 'DeleteObjects', 'AbortMultipartUpload']);

type Stack = { add(mw: unknown, options: Record<string, unknown>): void; remove(name: string): boolean };
type Ctx = { commandName?: string };
type Args = { input: Record<string, unknown>; request?: { headers: Record<string, string>; body?: unknown } };
type Result = { output: Record<string, unknown>; response?: { headers?: Record<string, string> } };

const NAME = 'benchCostMeter';
const sizeOfBody = (b: unknown): number => (typeof b === 'string' ? utf8(b) : b instanceof Uint8Array ? b.length : 0);

export class CostMeter {
  counts: CostCounts = emptyCounts();

  snapshot(): CostCounts {
    return structuredClone(this.counts);
  }

  /** Since `before` (a snapshot). */
  since(before: CostCounts): CostCounts {
    return diffCounts(this.snapshot(), before);
  }

  private bump(map: Record<string, number>, key: string, by = 1): void {
    map[key] = (map[key] ?? 0) + by;
  }

  /** DynamoDB, before the request is built: ask for ConsumedCapacity in the input (no re-serialising of the body). */
  dynamoCapacityMiddleware() {
    return (next: (a: Args) => Promise<Result>) =>
      async (args: Args): Promise<Result> => {
        args.input.ReturnConsumedCapacity = 'TOTAL';
        return next(args);
      };
  }

  /** DynamoDB: count the request and read back the ConsumedCapacity asked for (dynamoCapacityMiddleware). */
  dynamoMiddleware() {
    return (next: (a: Args) => Promise<Result>, context: Ctx) =>
      async (args: Args): Promise<Result> => {
        const op = (context.commandName ?? 'unknown').replace(/Command$/, '');
        this.bump(this.counts.dynamo.requests, op);
        const written = writtenItems(op, args.input);
        const unindexed = deletedIndexEntries(op, args.input);
        try {
          const result = await next(args);
          const cc = result.output.ConsumedCapacity as
            { CapacityUnits?: number } | Array<{ CapacityUnits?: number }> | undefined;
          const units = (Array.isArray(cc) ? cc : cc ? [cc] : []).reduce((s, c) => s + (c.CapacityUnits ?? 0), 0);
          if (READS.has(op)) this.counts.dynamo.readUnits += units;
          else this.counts.dynamo.writeUnits += units;
          // The index: an item written carrying gsi1pk is written to the GSI as well (projection ALL).
          for (const item of written)
            if (item.gsi1pk) this.counts.dynamo.indexWriteUnits += writeUnits(itemBytes(item));
          this.counts.dynamo.indexWriteUnits += unindexed;
          if (op === 'Update') {
            const attrs = result.output.Attributes as Record<string, unknown> | undefined;
            if (attrs?.gsi1pk)
              this.counts.dynamo.indexWriteUnits += writeUnits(plainValueBytes(attrs) - 3 - Object.keys(attrs).length);
          }
          return result;
        } catch (err) {
          // A conditional write that fails still consumes write units (its item's size, at least 1).
          if ((err as { name?: string }).name === 'ConditionalCheckFailedException') {
            this.counts.dynamo.failedWriteUnits += written.length
              ? written.reduce((s, i) => s + writeUnits(itemBytes(i)), 0)
              : 1;
          }
          throw err;
        }
      };
  }

  s3Middleware() {
    return (next: (a: Args) => Promise<Result>, context: Ctx) =>
      async (args: Args): Promise<Result> => {
        const op = (context.commandName ?? 'unknown').replace(/Command$/, '');
        this.countS3(op, String(args.input.Bucket ?? ''), sizeOfBody(args.input.Body));
        let result: Result;
        try {
          result = await next(args);
        } catch (err) {
          // An engine's 500 names no call in its stack (the 600-school cold rollup): say which one.
          if (err instanceof Error)
            err.message += ` (S3 ${op} ${String(args.input.Bucket ?? '')}/${String(args.input.Key ?? '')})`;
          throw err;
        }
        if (op === 'GetObject') this.counts.s3.bytesDown += Number(result.response?.headers?.['content-length'] ?? 0);
        return result;
      };
  }

  countS3(op: string, bucket: string, bytesUp: number): void {
    this.bump(this.counts.s3.requests, op);
    if (S3_PUT_CLASS.has(op)) this.counts.s3.putClass++;
    else if (S3_FREE.has(op)) this.counts.s3.free++;
    else this.counts.s3.getClass++;
    this.counts.s3.bytesUp += bytesUp;
    if (op === 'PutObject' || op === 'UploadPart') this.bump(this.counts.s3.putBytesByBucket, bucket, bytesUp);
    if (op === 'PutObject' || op === 'CompleteMultipartUpload') this.bump(this.counts.s3.putsByBucket, bucket);
  }

  sqsMiddleware() {
    return (next: (a: Args) => Promise<Result>, context: Ctx) =>
      async (args: Args): Promise<Result> => {
        const op = (context.commandName ?? '').replace(/Command$/, '');
        const queue =
          String(args.input.QueueUrl ?? '')
            .split('/')
            .pop() ?? '';
        if (op === 'SendMessage' || op === 'SendMessageBatch') {
          const bodies =
            op === 'SendMessage' ? [args.input] : ((args.input.Entries as Array<Record<string, unknown>>) ?? []);
          const bytes = bodies.reduce((s, m) => s + utf8(String(m.MessageBody ?? '')), 0);
          this.bump(this.counts.sqs.messagesByQueue, queue, bodies.length);
          this.counts.sqs.bytes += bytes;
          this.counts.sqs.sendRequestsBilled += sqsBilledRequests(bytes);
        }
        return next(args);
      };
  }
}

const READS = new Set(['Get', 'GetItem', 'BatchGet', 'BatchGetItem', 'Query', 'Scan']);

/** The marshalled items a write request writes (Put, BatchWrite puts). */
function writtenItems(op: string, body: Record<string, unknown>): Array<Record<string, Record<string, unknown>>> {
  if (op === 'Put' || op === 'PutItem') return [body.Item as Record<string, Record<string, unknown>>];
  if (op === 'BatchWrite' || op === 'BatchWriteItem') {
    const out: Array<Record<string, Record<string, unknown>>> = [];
    for (const reqs of Object.values(
      (body.RequestItems ?? {}) as Record<
        string,
        Array<{ PutRequest?: { Item: Record<string, Record<string, unknown>> } }>
      >,
    )) {
      for (const r of reqs) if (r.PutRequest) out.push(r.PutRequest.Item);
    }
    return out;
  }
  return [];
}

/**
 * Index entries a write deletes, which dynalite does not count either: a deleted item that carried
 * gsi1 keys has its index entry deleted too, and AWS bills that as a write to the index (one unit: an
 * entry of under 1 KB). A delete names keys only, so this counts the deletes of the one kind of
 * indexed item the service deletes in bulk: an LA list's year-group item (it carries its list's LA
 * partition as gsi1 keys, shared/store/keys.ts laListIndexKeys; 8 December 2026). A person's deletion,
 * the only other delete of an indexed item, is left out (rare).
 */
export function deletedIndexEntries(op: string, body: Record<string, unknown>): number {
  const yearGroupItem = (key: Record<string, unknown> | undefined) => {
    const pk = key?.pk as { S?: string } | string | undefined;
    return /^LALIST#\d+#[^#]+#YG#/.test(typeof pk === 'string' ? pk : (pk?.S ?? ''));
  };
  if (op === 'Delete' || op === 'DeleteItem') return yearGroupItem(body.Key as Record<string, unknown>) ? 1 : 0;
  if (op !== 'BatchWrite' && op !== 'BatchWriteItem') return 0;
  let n = 0;
  for (const reqs of Object.values(
    (body.RequestItems ?? {}) as Record<string, Array<{ DeleteRequest?: { Key: Record<string, unknown> } }>>,
  ))
    for (const r of reqs) if (r.DeleteRequest && yearGroupItem(r.DeleteRequest.Key)) n++;
  return n;
}

/**
 * Put the meter on the shared clients (the document client shares its DynamoDB client's middleware
 * stack) and count the process's fetches to the API and to S3 (presigned uploads). The local
 * runtime's ingest workers (local/ingest-workers.ts), which have clients of their own, each get a
 * meter too (`meterInWorker`), whose counts are added to this one as each invocation returns.
 * Returns the way to take it off again.
 */
export async function installCostMeter(
  meter: CostMeter,
  endpoints: { api: string; s3: string },
  options: { workers?: boolean } = {},
): Promise<() => void> {
  const { documentClient, s3Client, sqsClient } = await import('../shared/store/clients.js');
  const offWorkers =
    options.workers === false
      ? () => {}
      : (await import('../local/ingest-workers.js')).instrumentIngestWorkers({
          module: import.meta.url,
          name: 'meterInWorker',
          options: endpoints,
          merge: (counts) => addCounts(meter.counts, counts as CostCounts),
        });
  const stacks: Array<[Stack, unknown]> = [
    [documentClient().middlewareStack, meter.dynamoMiddleware()],
    [s3Client().middlewareStack, meter.s3Middleware()],
    [sqsClient().middlewareStack, meter.sqsMiddleware()],
  ];
  for (const [stack, mw] of stacks) stack.add(mw, { step: 'build', priority: 'high', name: NAME, override: true });
  (documentClient().middlewareStack as unknown as Stack).add(meter.dynamoCapacityMiddleware(), {
    step: 'initialize',
    name: `${NAME}-capacity`,
    override: true,
  });
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (url.startsWith(endpoints.api)) meter.counts.api.requests++;
    else if (url.startsWith(endpoints.s3) && (init?.method ?? 'GET').toUpperCase() === 'PUT') {
      meter.countS3('PutObject', new URL(url).pathname.split('/')[1] ?? '', sizeOfBody(init?.body));
    }
    return realFetch(input, init);
  };
  return () => {
    offWorkers();
    for (const [stack] of stacks) stack.remove(NAME);
    documentClient().middlewareStack.remove(`${NAME}-capacity`);
    globalThis.fetch = realFetch;
  };
}

/** The meter in an ingest worker: installed there on its clients; `take` hands over what it counted since last asked. */
export async function meterInWorker(endpoints: { api: string; s3: string }): Promise<InstrumentInWorker> {
  const meter = new CostMeter();
  const remove = await installCostMeter(meter, endpoints, { workers: false });
  return {
    take() {
      const counts = meter.counts;
      meter.counts = emptyCounts();
      return counts;
    },
    remove,
  };
}

// ---------------------------------------------------------------------------------------------
// From counts to a monthly bill (pure).

/** Memory of each function, as configured in lib/ (checked against lib/ by test/unit/bench-cost.test.ts). */
export const LAMBDA_MEMORY_MB = { api: 1024, receive: 256, ingest: 4096, rollup: 2048, patterns: 8192 } as const;
export type FunctionName = keyof typeof LAMBDA_MEMORY_MB;

/**
 * Lambda durations, from the figures docs/benchmarks.md records for 23 November 2026 (the quiet
 * 2-core machine), not from this run: Lambda bills handler time, which the loaded machine here
 * cannot measure fairly.
 */
export const DOCUMENTED_DURATIONS = {
  /** One whole LA day at 120 schools, 46,392 pupils: 29.6 s wall, every upload, receive, ingest and rollup, all billed here at ingest's 4 GB (an upper bound: 2 cores busy, more than the work). */
  laDaySecondsPerPupil: 29.6 / 46_392,
  /** receive: not measured on its own (part of the 356 ms received → processed of a school day); taken as 100 ms. */
  receiveSeconds: 0.1,
  /** The patterns run: 19.0 s over 231,976 pupils with 13 school days of marks; taken as proportional to pupils × days of marks. */
  patternsSecondsPerPupilDay: 19.0 / (231_976 * 13),
  /** API p50 at concurrency 1, full size (600 schools), in seconds. */
  api: { pupil_view: 0.015, pa_list: 0.037, la_metrics_by_cohort: 0.051, referral_search: 0.139 } as Record<
    string,
    number
  >,
} as const;

/** The LA and the use the bill is for. */
export interface CostAssumptions {
  pupils: number;
  schools: number;
  schoolDaysPerYear: number;
  /** School days of marks held on average across the year (the patterns run and register sizes grow with it). */
  averageDaysOfMarks: number;
  /** School days in the 35 days old register versions are kept (lib/storage.ts). */
  schoolDaysInRegisterVersionWindow: number;
  /** API requests per school day, by kind. */
  apiRequestsPerSchoolDay: Record<string, number>;
  apiAssumption: string;
  /** Not measured: CloudWatch Logs bytes per Lambda invocation and per API access-log line. */
  logBytesPerInvocation: number;
  logBytesPerApiRequest: number;
  /** Not measured: KMS requests a month (table, bucket keys and SQS data keys are all cached for minutes). */
  kmsRequestsPerMonth: number;
  /** Not measured: empty ReceiveMessage polls of the two FIFO queues' event source mappings a month. */
  sqsIdlePollsPerMonth: number;
}

const SCHOOL_DAYS = 190;
export const DEFAULT_ASSUMPTIONS: CostAssumptions = {
  pupils: 230_000,
  schools: 600,
  schoolDaysPerYear: SCHOOL_DAYS,
  averageDaysOfMarks: SCHOOL_DAYS / 2,
  schoolDaysInRegisterVersionWindow: 25,
  // 50 LA users × 200 requests a school day, and each of 600 schools 20 requests a school day (its own pupils' pages).
  apiRequestsPerSchoolDay: {
    pupil_view: 0.5 * 50 * 200 + 0.7 * 600 * 20,
    pa_list: 0.2 * 50 * 200 + 0.2 * 600 * 20,
    la_metrics_by_cohort: 0.15 * 50 * 200 + 0.1 * 600 * 20,
    referral_search: 0.15 * 50 * 200,
  },
  apiAssumption:
    '50 LA users × 200 requests a school day (pupil views 50 %, PA list pages 20 %, LA metrics 15 %, referral searches 15 %) and 600 schools × 20 a school day (pupil views 70 %, PA list pages 20 %, metrics 10 %, counted as LA metrics by cohort)',
  logBytesPerInvocation: 1024,
  logBytesPerApiRequest: 512,
  kmsRequestsPerMonth: 100_000,
  // 2 queues × 5 pollers × one 20-second long poll each = 3 a minute, every minute of a month.
  sqsIdlePollsPerMonth: 2 * 5 * 3 * 60 * 24 * 30.4,
};

/** What the bench measured, at its own size. */
export interface CostMeasurements {
  /** The bench's LA as asked for (its generator adds out-of-area placements to both). */
  benchPupils: number;
  benchSchools: number;
  /** School days of marks held when the storage was measured. */
  daysOfMarks: number;
  /** One whole LA day: every school's return, the Virtual School's returns and the week's corrections. */
  laDay: CostCounts;
  /** The patterns run over the whole LA. */
  patterns: CostCounts;
  /** Per API request kind: the counts and the number of requests they are for. */
  api: Record<string, { requests: number; counts: CostCounts }>;
  /** Stored bytes at the end: DynamoDB items (with their 100-byte overhead) and S3 objects by bucket. */
  storage: { dynamoBytes: number; dynamoItems: number; s3BytesByBucket: Record<string, number> };
  buckets: { returns: string; registers: string; ingestQueue: string; rollupQueue: string };
}

export interface BillLine {
  line: string;
  quantity: number;
  unit: string;
  /** Monthly dollars by source. */
  usd: { returns: number; patterns: number; api: number; fixed: number };
  total: number;
  measured: boolean;
}

export interface MonthlyBill {
  lines: BillLine[];
  total: number;
  dominant: string;
  /** Per-unit counts the bill is built from. */
  perUnit: Record<string, Record<string, number>>;
  monthly: { schoolDays: number; nights: number; pupilDays: number; apiRequests: number };
}

/** Per-pupil (DynamoDB, storage) and per-school (S3, SQS, invocations) request counts of one operation. */
function scaled(c: CostCounts, pupilScale: number, schoolScale: number, m: CostMeasurements) {
  const q = (name: string) => c.sqs.messagesByQueue[name] ?? 0;
  const messages = q(m.buckets.ingestQueue) + q(m.buckets.rollupQueue);
  return {
    readUnits: c.dynamo.readUnits * pupilScale,
    writeUnits: (c.dynamo.writeUnits + c.dynamo.indexWriteUnits + c.dynamo.failedWriteUnits) * pupilScale,
    s3Put: c.s3.putClass * schoolScale,
    s3Get: c.s3.getClass * schoolScale,
    // Sent in 64 KB chunks, then one receive and one delete per message (ingest takes one at a time).
    sqs: (c.sqs.sendRequestsBilled + 2 * messages) * schoolScale,
    apiRequests: c.api.requests * schoolScale,
    // Every object stored in the returns bucket is one receive invocation (its S3 notification).
    receiveInvocations: (c.s3.putsByBucket[m.buckets.returns] ?? 0) * schoolScale,
    ingestInvocations: q(m.buckets.ingestQueue) * schoolScale,
    rollupInvocations: q(m.buckets.rollupQueue) * schoolScale,
    registerPutBytes: (c.s3.putBytesByBucket[m.buckets.registers] ?? 0) * pupilScale,
    returnsPutBytes: (c.s3.putBytesByBucket[m.buckets.returns] ?? 0) * pupilScale,
  };
}

export function monthlyBill(
  m: CostMeasurements,
  a: CostAssumptions = DEFAULT_ASSUMPTIONS,
  prices: Record<PriceName, Price> = AWS_PRICES_LONDON,
): MonthlyBill {
  const pupilScale = a.pupils / m.benchPupils;
  const schoolScale = a.schools / m.benchSchools;
  const schoolDays = a.schoolDaysPerYear / 12;
  const nights = 365 / 12;
  const day = scaled(m.laDay, pupilScale, schoolScale, m);
  // The patterns run reads every school's register (S3, per school) and writes per-pupil flags (DynamoDB, per pupil).
  const pat = scaled(m.patterns, pupilScale, schoolScale, m);
  const apiPerRequest: Record<string, ReturnType<typeof scaled>> = {};
  for (const [kind, x] of Object.entries(m.api))
    apiPerRequest[kind] = scaled(x.counts, 1 / x.requests, 1 / x.requests, m);
  const apiMonthly: Record<string, number> = Object.fromEntries(
    Object.entries(a.apiRequestsPerSchoolDay).map(([k, v]) => [k, v * schoolDays]),
  );
  const apiRequests = Object.values(apiMonthly).reduce((s, x) => s + x, 0);
  const apiSum = (f: (x: ReturnType<typeof scaled>) => number) =>
    Object.entries(apiMonthly).reduce((s, [k, n]) => s + (apiPerRequest[k] ? f(apiPerRequest[k]) * n : 0), 0);

  const gbSeconds = {
    returns:
      schoolDays *
      (DOCUMENTED_DURATIONS.laDaySecondsPerPupil * a.pupils * (LAMBDA_MEMORY_MB.ingest / 1024) +
        day.receiveInvocations * DOCUMENTED_DURATIONS.receiveSeconds * (LAMBDA_MEMORY_MB.receive / 1024)),
    patterns:
      nights *
      DOCUMENTED_DURATIONS.patternsSecondsPerPupilDay *
      a.pupils *
      a.averageDaysOfMarks *
      (LAMBDA_MEMORY_MB.patterns / 1024),
    api: Object.entries(apiMonthly).reduce(
      (s, [k, n]) => s + n * (DOCUMENTED_DURATIONS.api[k] ?? 0.05) * (LAMBDA_MEMORY_MB.api / 1024),
      0,
    ),
  };
  const invocations = {
    returns: schoolDays * (day.apiRequests + day.receiveInvocations + day.ingestInvocations + day.rollupInvocations),
    patterns: nights * (1 + pat.rollupInvocations + pat.ingestInvocations),
    api: apiRequests,
  };

  // Storage, at the year's average: DynamoDB as measured, per pupil; S3 objects per pupil and day of marks held.
  const gb = 1024 ** 3;
  const dynamoGb = (m.storage.dynamoBytes * pupilScale) / gb;
  const perPupilDay = (bytes: number) => bytes / m.benchPupils / m.daysOfMarks;
  const s3CurrentGb =
    ((perPupilDay(m.storage.s3BytesByBucket[m.buckets.returns] ?? 0) +
      perPupilDay(m.storage.s3BytesByBucket[m.buckets.registers] ?? 0)) *
      a.pupils *
      a.averageDaysOfMarks) /
    gb;
  // Old register versions: every register PUT of a day is kept 35 days; a register's size grows with the days it holds.
  const registerVersionsGb =
    ((day.registerPutBytes / m.daysOfMarks) * a.averageDaysOfMarks * a.schoolDaysInRegisterVersionWindow) / gb;

  const lines: BillLine[] = [];
  const line = (
    name: string,
    price: PriceName,
    q: { returns?: number; patterns?: number; api?: number; fixed?: number },
    measured = true,
  ) => {
    const usd = {
      returns: priceOf(price, q.returns ?? 0, prices),
      patterns: priceOf(price, q.patterns ?? 0, prices),
      api: priceOf(price, q.api ?? 0, prices),
      fixed: priceOf(price, q.fixed ?? 0, prices),
    };
    const quantity = (q.returns ?? 0) + (q.patterns ?? 0) + (q.api ?? 0) + (q.fixed ?? 0);
    lines.push({
      line: name,
      quantity,
      unit: prices[price].unit,
      usd,
      total: usd.returns + usd.patterns + usd.api + usd.fixed,
      measured,
    });
  };
  line('DynamoDB writes', 'dynamoWriteRequestUnits', {
    returns: day.writeUnits * schoolDays,
    patterns: pat.writeUnits * nights,
    api: apiSum((x) => x.writeUnits),
  });
  line('DynamoDB reads', 'dynamoReadRequestUnits', {
    returns: day.readUnits * schoolDays,
    patterns: pat.readUnits * nights,
    api: apiSum((x) => x.readUnits),
  });
  line('DynamoDB storage', 'dynamoStorage', { fixed: dynamoGb });
  line('DynamoDB point-in-time recovery', 'dynamoPitr', { fixed: dynamoGb });
  line('S3 PUT/COPY/POST/LIST', 's3PutCopyPostList', {
    returns: day.s3Put * schoolDays,
    patterns: pat.s3Put * nights,
    api: apiSum((x) => x.s3Put),
  });
  line('S3 GET and other', 's3GetAndOther', {
    returns: day.s3Get * schoolDays,
    patterns: pat.s3Get * nights,
    api: apiSum((x) => x.s3Get),
  });
  line('S3 storage (current objects and 35 days of register versions)', 's3Storage', {
    fixed: s3CurrentGb + registerVersionsGb,
  });
  line('Lambda duration (arm64)', 'lambdaArmGbSecond', gbSeconds, false);
  line('Lambda requests', 'lambdaRequests', invocations);
  line('SQS FIFO requests (idle polling assumed)', 'sqsFifoRequests', {
    returns: day.sqs * schoolDays,
    patterns: pat.sqs * nights,
    fixed: a.sqsIdlePollsPerMonth,
  });
  line('API Gateway HTTP API requests', 'apiGatewayHttpRequests', {
    returns: day.apiRequests * schoolDays,
    api: apiRequests,
  });
  const logGb = (n: { returns: number; patterns: number; api: number }) => ({
    returns: n.returns / gb,
    patterns: n.patterns / gb,
    api: n.api / gb,
  });
  line(
    'CloudWatch Logs ingestion',
    'cloudWatchLogsIngestion',
    logGb({
      returns: invocations.returns * a.logBytesPerInvocation + day.apiRequests * schoolDays * a.logBytesPerApiRequest,
      patterns: invocations.patterns * a.logBytesPerInvocation,
      api: apiRequests * (a.logBytesPerInvocation + a.logBytesPerApiRequest),
    }),
    false,
  );
  line('KMS requests', 'kmsRequests', { fixed: a.kmsRequestsPerMonth }, false);
  line('KMS keys (data key, alarm topic key)', 'kmsKey', { fixed: 2 }, false);

  const total = lines.reduce((s, l) => s + l.total, 0);
  const dominant = [...lines].sort((x, y) => y.total - x.total)[0].line;
  const perUnitOf = (x: ReturnType<typeof scaled>, by: number) =>
    Object.fromEntries(Object.entries(x).map(([k, v]) => [k, v / by]));
  return {
    lines,
    total,
    dominant,
    perUnit: {
      'LA day, per 230,000-pupil LA': perUnitOf(day, 1),
      'patterns run, per 230,000-pupil LA': perUnitOf(pat, 1),
      ...Object.fromEntries(Object.entries(apiPerRequest).map(([k, x]) => [`API ${k}, per request`, perUnitOf(x, 1)])),
    },
    monthly: { schoolDays, nights, pupilDays: a.pupils * schoolDays, apiRequests },
  };
}

const usd = (x: number) => (x >= 100 ? `$${Math.round(x).toLocaleString('en-GB')}` : `$${x.toFixed(2)}`);

/** The bill as a markdown table (the bench prints it; docs/benchmarks.md carries a copy). */
export function billTable(bill: MonthlyBill): string[] {
  const rows = [
    '| line | a month | daily returns | patterns | API | fixed / other | total |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const l of bill.lines) {
    rows.push(
      `| ${l.line}${l.measured ? '' : ' *'} | ${l.quantity.toLocaleString('en-GB', { maximumSignificantDigits: 3 })} ${l.unit} | ${usd(l.usd.returns)} | ${usd(l.usd.patterns)} | ${usd(l.usd.api)} | ${usd(l.usd.fixed)} | ${usd(l.total)} |`,
    );
  }
  const sum = (k: keyof BillLine['usd']) => bill.lines.reduce((s, l) => s + l.usd[k], 0);
  rows.push(
    `| **total** | | ${usd(sum('returns'))} | ${usd(sum('patterns'))} | ${usd(sum('api'))} | ${usd(sum('fixed'))} | **${usd(bill.total)}** |`,
  );
  return rows;
}

/** Bytes stored now: every DynamoDB item (size + 100 bytes) and every S3 object, by bucket. Not metered (the meter's diffs are taken before). */
export async function storedBytes(table: string, buckets: readonly string[]): Promise<CostMeasurements['storage']> {
  const { documentClient, s3Client } = await import('../shared/store/clients.js');
  const { ScanCommand } = await import('@aws-sdk/lib-dynamodb');
  const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
  let dynamoBytes = 0;
  let dynamoItems = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const res = await documentClient().send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
    for (const item of res.Items ?? []) {
      dynamoBytes += plainValueBytes(item) - 3 - Object.keys(item).length + DYNAMO_ITEM_OVERHEAD_BYTES;
      dynamoItems++;
    }
    start = res.LastEvaluatedKey;
  } while (start);
  const s3BytesByBucket: Record<string, number> = {};
  for (const bucket of buckets) {
    let token: string | undefined;
    let bytes = 0;
    do {
      const res = await s3Client().send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
      for (const o of res.Contents ?? []) bytes += o.Size ?? 0;
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
    s3BytesByBucket[bucket] = bytes;
  }
  return { dynamoBytes, dynamoItems, s3BytesByBucket };
}
