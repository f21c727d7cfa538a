/** Low-level DynamoDB access for the one table: batches with retry of unprocessed items, paging. */
import { optionalSetting, resourceName } from '../config.js';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { documentClient as sharedDocumentClient } from './clients.js';
import { k } from './keys.js';

/**
 * The SDK's logger middleware runs on every request, and with the default no-op logger it still walks
 * the whole input and output through the schema to mask sensitive fields — for a batch of pupil
 * items that was several per cent of ingest CPU, for log lines nobody writes. Taken off each client
 * once (by name; the SDK resolves the stack per request, so it takes effect at once).
 */
const withoutLogger = new WeakSet<object>();
export function withoutSdkLogger<C extends { middlewareStack: { remove(name: string): boolean } }>(client: C): C {
  if (!withoutLogger.has(client)) {
    client.middlewareStack.remove('loggerMiddleware');
    withoutLogger.add(client);
  }
  return client;
}

function documentClient(): ReturnType<typeof sharedDocumentClient> {
  return withoutSdkLogger(sharedDocumentClient());
}

export type Item = Record<string, unknown>;
export interface Key {
  pk: string;
  sk: string;
}

export function tableName(): string {
  return resourceName('table');
}

export function isConditionFailure(err: unknown): boolean {
  return (
    err instanceof ConditionalCheckFailedException ||
    (err as { name?: string })?.name === 'ConditionalCheckFailedException'
  );
}

/**
 * One item. Reads asked for in the same turn of the event loop — a request's reads made together,
 * and under load other requests' reads of the same pointers — go to DynamoDB as one BatchGetItem of
 * the distinct keys: one round trip and one SDK call (about a millisecond of CPU each) for all of
 * them. A read is sent no earlier than it was asked for, so it is at least as fresh; each caller gets
 * its own copy of an item; a batch that fails is asked again key by key, so an error reaches only the
 * read it belongs to.
 */
export function getItem<T extends object>(key: Key, consistent = true): Promise<T | undefined> {
  return new Promise<Item | undefined>((resolve, reject) => {
    const group = consistent ? pendingGets.consistent : pendingGets.eventual;
    const id = `${key.pk}\u0000${key.sk}`;
    let wanted = group.get(id);
    if (!wanted) group.set(id, (wanted = { key, waiters: [] }));
    wanted.waiters.push({ resolve, reject });
    if (!pendingGets.scheduled) {
      pendingGets.scheduled = true;
      soon(sendPendingGets);
    }
  }) as Promise<T | undefined>;
}

interface WantedItem {
  key: Key;
  waiters: Array<{ resolve: (item: Item | undefined) => void; reject: (err: unknown) => void }>;
}

/** After the I/O callbacks of this turn of the event loop (taken at load, so a test's fake timers do not hold reads back). */
const soon = globalThis.setImmediate;

const pendingGets = {
  scheduled: false,
  consistent: new Map<string, WantedItem>(),
  eventual: new Map<string, WantedItem>(),
};

function sendPendingGets(): void {
  pendingGets.scheduled = false;
  // Reads that may be eventually consistent ride along with strongly consistent ones when there are
  // any: fresher, half a read unit more each, and one round trip instead of two.
  if (pendingGets.consistent.size > 0) {
    for (const [id, w] of pendingGets.eventual) {
      const held = pendingGets.consistent.get(id);
      if (held) held.waiters.push(...w.waiters);
      else pendingGets.consistent.set(id, w);
    }
    pendingGets.eventual.clear();
  }
  for (const consistent of [true, false]) {
    const group = consistent ? pendingGets.consistent : pendingGets.eventual;
    if (group.size === 0) continue;
    const wanted = [...group.values()];
    group.clear();
    for (let i = 0; i < wanted.length; i += 100) void sendWanted(wanted.slice(i, i + 100), consistent);
  }
}

function answer(w: WantedItem, item: Item | undefined): void {
  w.waiters.forEach((x, i) => x.resolve(i === 0 || !item ? item : structuredClone(item)));
}

async function getOne(w: WantedItem, consistent: boolean): Promise<void> {
  try {
    const res = await documentClient().send(
      new GetCommand({ TableName: tableName(), Key: w.key, ConsistentRead: consistent }),
    );
    answer(w, res.Item);
  } catch (err) {
    for (const x of w.waiters) x.reject(err);
  }
}

async function sendWanted(wanted: WantedItem[], consistent: boolean): Promise<void> {
  if (wanted.length === 1) return getOne(wanted[0], consistent);
  const byId = new Map(wanted.map((w) => [`${w.key.pk}\u0000${w.key.sk}`, w]));
  try {
    let keys: Key[] = wanted.map((w) => w.key);
    for (let attempt = 0; keys.length > 0; attempt++) {
      const res = await documentClient().send(
        new BatchGetCommand({ RequestItems: { [tableName()]: { Keys: keys, ConsistentRead: consistent } } }),
      );
      for (const item of (res.Responses?.[tableName()] ?? []) as Array<Item & Key>) {
        const id = `${item.pk}\u0000${item.sk}`;
        const w = byId.get(id);
        if (w) answer(w, item);
        byId.delete(id);
      }
      keys = (res.UnprocessedKeys?.[tableName()]?.Keys ?? []) as Key[];
      if (keys.length > 0 && attempt > 0) await sleep(Math.min(1000, 25 * 2 ** attempt));
    }
    // Every key asked for and not returned does not exist.
    for (const w of byId.values()) answer(w, undefined);
  } catch {
    // Each read on its own: its own answer, or its own error.
    await Promise.all([...byId.values()].map((w) => getOne(w, consistent)));
  }
}

export async function putItem(
  item: Key & Record<string, unknown>,
  condition?: { expression: string; names?: Record<string, string>; values?: Record<string, unknown> },
): Promise<void> {
  await documentClient().send(
    new PutCommand({
      TableName: tableName(),
      Item: item,
      ConditionExpression: condition?.expression,
      ExpressionAttributeNames: condition?.names,
      ExpressionAttributeValues: condition?.values,
    }),
  );
}

export async function deleteItem(
  key: Key,
  condition?: { expression: string; names?: Record<string, string>; values?: Record<string, unknown> },
): Promise<void> {
  await documentClient().send(
    new DeleteCommand({
      TableName: tableName(),
      Key: key,
      ConditionExpression: condition?.expression,
      ExpressionAttributeNames: condition?.names,
      ExpressionAttributeValues: condition?.values,
    }),
  );
}

export async function updateItem(input: {
  key: Key;
  update: string;
  names?: Record<string, string>;
  values?: Record<string, unknown>;
  condition?: string;
}): Promise<Item | undefined> {
  const res = await documentClient().send(
    new UpdateCommand({
      TableName: tableName(),
      Key: input.key,
      UpdateExpression: input.update,
      ConditionExpression: input.condition,
      ExpressionAttributeNames: input.names,
      ExpressionAttributeValues: input.values,
      ReturnValues: 'ALL_NEW',
    }),
  );
  return res.Attributes;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Write items 25 at a time, retrying unprocessed items with backoff; `concurrency` batches in flight. */
export async function batchPut(items: Array<object & Key>, concurrency = 4): Promise<void> {
  const chunks: Array<Array<object & Key>> = [];
  for (let i = 0; i < items.length; i += 25) chunks.push(items.slice(i, i + 25));
  await inParallel(chunks, concurrency, async (chunk) => {
    let requests: Array<Record<string, unknown>> = chunk.map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; requests.length > 0; attempt++) {
      const res = await documentClient().send(new BatchWriteCommand({ RequestItems: { [tableName()]: requests } }));
      requests = res.UnprocessedItems?.[tableName()] ?? [];
      if (requests.length > 0) await sleep(Math.min(1000, 25 * 2 ** attempt));
    }
  });
}

/**
 * Put items (no condition) as batchPut does, with every other write asked for this way in the same
 * turn of the event loop: one BatchWriteItem of up to 25 items for all of them, not one each. For
 * the API's audit entries (issue 17: concurrent requests each wrote their own batch, about a
 * millisecond of CPU a call whatever it carries). Resolves when every one of the caller's items is
 * written; a batch that fails is written again caller by caller, so an error reaches only the
 * writes it belongs to. A caller's items may go in more than one batch, never with a condition.
 */
export function putTogether<T extends Key>(items: T[]): Promise<void> {
  if (items.length === 0) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    pendingPuts.writes.push({ items, resolve, reject });
    if (!pendingPuts.scheduled) {
      pendingPuts.scheduled = true;
      soon(sendPendingPuts);
    }
  });
}

interface WantedWrite {
  items: Array<object & Key>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

const pendingPuts = { scheduled: false, writes: [] as WantedWrite[] };

function sendPendingPuts(): void {
  pendingPuts.scheduled = false;
  const writes = pendingPuts.writes.splice(0);
  // Whole callers to a batch while they fit and repeat no key already in it (a batch may not hold
  // one key twice: two reads of a list by one user mark the same pupils); a caller with more than
  // fits goes on its own.
  const batches: WantedWrite[][] = [];
  let current: WantedWrite[] = [];
  let keys = new Set<string>();
  const idOf = (item: Key) => `${item.pk}\u0000${item.sk}`;
  for (const w of writes) {
    if (w.items.length > 25) {
      batches.push([w]);
      continue;
    }
    if (keys.size + w.items.length > 25 || w.items.some((item) => keys.has(idOf(item)))) {
      batches.push(current);
      current = [];
      keys = new Set();
    }
    current.push(w);
    for (const item of w.items) keys.add(idOf(item));
  }
  if (current.length > 0) batches.push(current);
  // In order: a later batch may hold a key an earlier one wrote (the later write must win).
  void (async () => {
    for (const batch of batches) await sendWrites(batch);
  })();
}

async function sendWrites(batch: WantedWrite[]): Promise<void> {
  if (batch.length === 1) {
    await batchPut(batch[0].items).then(batch[0].resolve, batch[0].reject);
    return;
  }
  try {
    await batchPut(batch.flatMap((w) => w.items));
  } catch {
    // Each caller's items on their own: its own success, or its own error (the puts are idempotent).
    await Promise.all(batch.map((w) => batchPut(w.items).then(w.resolve, w.reject)));
    return;
  }
  for (const w of batch) w.resolve();
}

export async function batchDelete(keys: Key[], concurrency = 4): Promise<void> {
  const chunks: Key[][] = [];
  for (let i = 0; i < keys.length; i += 25) chunks.push(keys.slice(i, i + 25));
  await inParallel(chunks, concurrency, async (chunk) => {
    let requests: Array<Record<string, unknown>> = chunk.map((Key) => ({ DeleteRequest: { Key } }));
    for (let attempt = 0; requests.length > 0; attempt++) {
      const res = await documentClient().send(new BatchWriteCommand({ RequestItems: { [tableName()]: requests } }));
      requests = res.UnprocessedItems?.[tableName()] ?? [];
      if (requests.length > 0) await sleep(Math.min(1000, 25 * 2 ** attempt));
    }
  });
}

/**
 * Get items (consistent reads) as getItem does: with every other read asked for in this turn of the
 * event loop, as one BatchGetItem. For the API's small reads (a pupil's head, then the items holding
 * their enrolments): concurrent requests share a round trip instead of each making its own. In any
 * order; missing keys are simply absent.
 */
export async function getTogether<T extends object>(keys: readonly Key[]): Promise<T[]> {
  const unique = [...new Map(keys.map((key) => [`${key.pk}\u0000${key.sk}`, key])).values()];
  const items: Array<T | undefined> = await Promise.all(unique.map((key) => getItem<T>(key, true)));
  return items.filter((item): item is T => item !== undefined);
}

/** Get items 100 at a time (consistent reads), in any order; missing keys are simply absent. */
export async function batchGet<T extends object>(keys: Key[], concurrency = 4): Promise<T[]> {
  const unique = [...new Map(keys.map((key) => [`${key.pk}\u0000${key.sk}`, key])).values()];
  const chunks: Key[][] = [];
  for (let i = 0; i < unique.length; i += 100) chunks.push(unique.slice(i, i + 100));
  const out: T[] = [];
  await inParallel(chunks, concurrency, async (chunk) => {
    let pending: Key[] = chunk;
    for (let attempt = 0; pending.length > 0; attempt++) {
      const res = await documentClient().send(
        new BatchGetCommand({ RequestItems: { [tableName()]: { Keys: pending, ConsistentRead: true } } }),
      );
      out.push(...((res.Responses?.[tableName()] ?? []) as T[]));
      pending = (res.UnprocessedKeys?.[tableName()]?.Keys ?? []) as Key[];
      if (pending.length > 0) await sleep(Math.min(1000, 25 * 2 ** attempt));
    }
  });
  return out;
}

/** Query every page (use for bounded partitions only). */
export async function queryAll<T extends object>(input: Omit<QueryCommandInput, 'TableName'>): Promise<T[]> {
  const out: T[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const res = await documentClient().send(
      new QueryCommand({ ...input, TableName: tableName(), ExclusiveStartKey: start }),
    );
    out.push(...((res.Items ?? []) as T[]));
    start = res.LastEvaluatedKey;
  } while (start);
  return out;
}

/** How many items a query matches (Select COUNT, every page): nothing is returned, though DynamoDB still reads them. */
export async function queryCount(
  input: Omit<QueryCommandInput, 'TableName' | 'Select' | 'ExclusiveStartKey'>,
): Promise<number> {
  let count = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const res = await documentClient().send(
      new QueryCommand({ ...input, TableName: tableName(), Select: 'COUNT', ExclusiveStartKey: start }),
    );
    count += res.Count ?? 0;
    start = res.LastEvaluatedKey;
  } while (start);
  return count;
}

/**
 * One page of a query, with an opaque cursor for the next. The cursor is signed and bound to the
 * query it came from (key condition, index, filter, values): a forged key or a cursor of another
 * query is refused before DynamoDB sees it (issue 15).
 */
export async function queryPage<T extends object>(
  input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>,
  cursor?: string,
): Promise<{ items: T[]; nextCursor: string | null }> {
  const binding = queryBinding(input);
  const res = await documentClient().send(
    new QueryCommand({
      ...input,
      TableName: tableName(),
      ExclusiveStartKey: cursor ? decodeCursor(cursor, binding) : undefined,
    }),
  );
  return {
    items: (res.Items ?? []) as T[],
    nextCursor: res.LastEvaluatedKey ? encodeCursor(res.LastEvaluatedKey, binding) : null,
  };
}

/** One page of a query from a key this code holds (not from a client's cursor): the items and the key after them. */
export async function queryFromKey<T extends object>(
  input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>,
  start?: Record<string, unknown>,
): Promise<{ items: T[]; lastKey?: Record<string, unknown> }> {
  const res = await documentClient().send(
    new QueryCommand({ ...input, TableName: tableName(), ExclusiveStartKey: start }),
  );
  return { items: (res.Items ?? []) as T[], ...(res.LastEvaluatedKey ? { lastKey: res.LastEvaluatedKey } : {}) };
}

/** What a query's cursor is bound to: everything that says which items it pages over. */
export function queryBinding(input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>): string {
  const { Limit: _limit, ...rest } = input;
  return `query:${canonicalJson(rest)}`;
}

/** JSON with object keys sorted at every level, so equal queries bind equally. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

let cursorKey: { source: string; key: Buffer } | undefined;
let sharedKey: Promise<void> | undefined;

/**
 * The key cursors are signed with. Every API instance must share it, or a cursor issued by one is
 * refused by the next: CURSOR_SIGNING_KEY when set, otherwise a random key created once per table
 * (a conditional put, so concurrent cold starts agree) and read by `loadCursorSigningKey` at start.
 * Until that has run, a per-process random key: cursors still cannot be forged, but a cursor issued
 * by another instance is refused (the client starts the list again).
 */
function signingKey(): Buffer {
  const source = optionalSetting('CURSOR_SIGNING_KEY') ?? cursorKey?.source ?? '';
  if (!cursorKey || cursorKey.source !== source)
    cursorKey = { source, key: source ? Buffer.from(source, 'utf8') : randomBytes(32) };
  return cursorKey.key;
}

/** Reads (creating it the first time) the table's shared cursor key; once per process. */
export function loadCursorSigningKey(): Promise<void> {
  if (optionalSetting('CURSOR_SIGNING_KEY')) return Promise.resolve();
  sharedKey ??= (async () => {
    const stored = await getItem<{ key: string }>(k.cursorSigningKey);
    let key = stored?.key;
    if (!key) {
      try {
        await putItem(
          { ...k.cursorSigningKey, key: randomBytes(32).toString('base64url') },
          { expression: 'attribute_not_exists(pk)' },
        );
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
      }
      key = (await getItem<{ key: string }>(k.cursorSigningKey))?.key;
    }
    if (key) cursorKey = { source: `table:${key}`, key: Buffer.from(key, 'utf8') };
  })().catch((err: unknown) => {
    sharedKey = undefined; // try again on the next request
    throw err;
  });
  return sharedKey;
}

function macOf(body: string, binding: string): string {
  return createHmac('sha256', signingKey()).update(`${binding}\n${body}`).digest('base64url').slice(0, 32);
}

/** A signed cursor holding `payload`, valid only with the same `binding` (query and snapshot). */
export function encodeCursor(payload: Record<string, unknown>, binding = ''): string {
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${body}.${macOf(body, binding)}`;
}

/** The payload of a cursor this service signed for `binding`; anything else is InvalidCursorError. */
export function decodeCursor(cursor: string, binding = ''): Record<string, unknown> {
  const dot = cursor.lastIndexOf('.');
  if (dot > 0) {
    const body = cursor.slice(0, dot);
    const given = Buffer.from(cursor.slice(dot + 1));
    const expected = Buffer.from(macOf(body, binding));
    if (given.length === expected.length && timingSafeEqual(given, expected)) {
      try {
        const v = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as unknown;
        if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
      } catch {
        // fall through
      }
    }
  }
  throw new InvalidCursorError();
}

export class InvalidCursorError extends Error {
  constructor() {
    super('cursor is not one this service issued');
    this.name = 'InvalidCursorError';
  }
}

export async function inParallel<T>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  });
  await Promise.all(workers);
}
