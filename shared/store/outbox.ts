/**
 * The notification outbox (issue 19): every notification is stored once under its key before it is
 * sent, so a job that runs twice sends nothing new; a send that fails stays in the outbox as failed
 * with its error and attempt count, is retried on the next run up to MAX_ATTEMPTS, and is visible
 * to the administrator (pageOutbox). A run reads only the pending and failed (listDue), never the
 * sent, which are kept for RETENTION_DAYS and then dropped by DynamoDB's TTL. The mailer is SES in
 * AWS and, locally, files that are exactly the messages SES would receive (shared/mail/mailer.ts).
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Notification } from '../domain/notifications.js';
import { k } from './keys.js';
import { TABLE_SCHEMA } from '../config.js';
import {
  decodeCursor,
  encodeCursor,
  getItem,
  InvalidCursorError,
  isConditionFailure,
  putItem,
  queryAll,
  queryCount,
  queryFromKey,
  updateItem,
} from './table.js';

const MAX_ATTEMPTS = 5;

/**
 * How long a sent (or failed) notification is kept before DynamoDB's TTL drops it: longer than a
 * school year, because a key is what stops a fact being sent again — a fact keyed by the first day of
 * a run (a continuous absence, a child on no register) must not come back while the run lasts.
 */
const RETENTION_DAYS = 400;

/** The administrator's page size (newest first). */
export const OUTBOX_PAGE = 50;

export type OutboxStatus = 'pending' | 'sent' | 'failed';
const STATUSES: readonly OutboxStatus[] = ['pending', 'sent', 'failed'];

export interface OutboxItem extends Notification {
  status: OutboxStatus;
  attempts: number;
  queuedAt: string;
  sentAt?: string;
  messageId?: string;
  lastError?: string;
}

type StoredItem = OutboxItem & { pk: string; sk: string; gsi1pk: string; gsi1sk: string; expiresAt?: number };

function strip(item: StoredItem): OutboxItem {
  const { pk: _pk, sk: _sk, gsi1pk: _g, gsi1sk: _s, expiresAt: _e, ...rest } = item;
  return rest;
}

const expiresAt = (at: string) => Math.floor(Date.parse(at) / 1000) + RETENTION_DAYS * 86_400;

/** Store a notification unless one with its key is already held. True when it is new. */
export async function enqueue(n: Notification, at: string): Promise<boolean> {
  try {
    await putItem(
      {
        ...k.outboxItem(n.key),
        gsi1pk: k.outboxByStatus('pending'),
        gsi1sk: k.outboxByStatusSk(at, n.key),
        ...n,
        status: 'pending',
        attempts: 0,
        queuedAt: at,
      },
      { expression: 'attribute_not_exists(pk)' },
    );
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw err;
  }
}

/** One notification, read consistently (the job's last look before it sends). */
export async function getOutboxItem(key: string): Promise<OutboxItem | undefined> {
  const item = await getItem<StoredItem>(k.outboxItem(key));
  return item ? strip(item) : undefined;
}

/**
 * What a run may send: the pending and the failed with attempts left, oldest first. Only those two
 * partitions of the status index are read — never the sent ones, however many the outbox keeps.
 * The index lags the table a little: the job reads each item again before sending it.
 */
export async function listDue(): Promise<OutboxItem[]> {
  const [pending, failed] = await Promise.all([
    queryAll<StoredItem>({
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': k.outboxByStatus('pending') },
    }),
    queryAll<StoredItem>({
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :pk',
      FilterExpression: 'attempts < :max',
      ExpressionAttributeValues: { ':pk': k.outboxByStatus('failed'), ':max': MAX_ATTEMPTS },
    }),
  ]);
  return [...pending, ...failed]
    .map(strip)
    .filter(isDue)
    .sort((a, b) => (a.queuedAt < b.queuedAt ? -1 : a.queuedAt > b.queuedAt ? 1 : a.key < b.key ? -1 : 1));
}

export function isDue(i: OutboxItem): boolean {
  return i.status === 'pending' || (i.status === 'failed' && i.attempts < MAX_ATTEMPTS);
}

/** The whole outbox, oldest first: for tests and tools only (a run reads listDue, the page pageOutbox). */
export async function listOutbox(filter: { status?: OutboxStatus } = {}): Promise<OutboxItem[]> {
  const items = await queryAll<StoredItem>({
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: { ':pk': k.outboxPk },
  });
  return items
    .map(strip)
    .filter((i) => !filter.status || i.status === filter.status)
    .sort((a, b) => (a.queuedAt < b.queuedAt ? -1 : a.queuedAt > b.queuedAt ? 1 : a.key < b.key ? -1 : 1));
}

/** How many are held of each status (a count query per status: nothing is returned, though DynamoDB reads the partition). */
export async function countOutbox(): Promise<Record<OutboxStatus, number>> {
  const counts = await Promise.all(
    STATUSES.map((s) =>
      queryCount({
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': k.outboxByStatus(s) },
      }),
    ),
  );
  return { pending: counts[0], sent: counts[1], failed: counts[2] };
}

/**
 * One page of the outbox, newest first, of one status or all. Each status is its own partition of
 * the index, sorted by queuing time; a page reads at most `limit + 1` from each and merges them. The
 * cursor is the last item's sort key, signed and bound to the status asked for (a forged or foreign
 * cursor is InvalidCursorError, a 400).
 */
export async function pageOutbox(input: {
  status?: OutboxStatus;
  limit?: number;
  cursor?: string;
}): Promise<{ items: OutboxItem[]; nextCursor: string | null }> {
  const limit = input.limit ?? OUTBOX_PAGE;
  const binding = `outbox:${input.status ?? 'all'}`;
  let before: string | undefined;
  if (input.cursor) {
    const parsed = decodeCursor(input.cursor, binding);
    if (typeof parsed.before !== 'string') throw new InvalidCursorError();
    before = parsed.before;
  }
  const pages = await Promise.all(
    (input.status ? [input.status] : STATUSES).map(
      async (status) =>
        (
          await queryFromKey<StoredItem>({
            IndexName: 'gsi1',
            KeyConditionExpression: before ? 'gsi1pk = :pk AND gsi1sk < :before' : 'gsi1pk = :pk',
            ExpressionAttributeValues: { ':pk': k.outboxByStatus(status), ...(before ? { ':before': before } : {}) },
            ScanIndexForward: false,
            Limit: limit + 1,
          })
        ).items,
    ),
  );
  const merged = pages.flat().sort((a, b) => (a.gsi1sk < b.gsi1sk ? 1 : a.gsi1sk > b.gsi1sk ? -1 : 0));
  const page = merged.slice(0, limit);
  const nextCursor = merged.length > limit ? encodeCursor({ before: page[page.length - 1].gsi1sk }, binding) : null;
  return { items: page.map(strip), nextCursor };
}

/**
 * Mark sent, only if not already sent (two senders racing record one send). False when it already was.
 * The item moves to the sent partition (no run reads it again) and expires after RETENTION_DAYS.
 */
export async function markSent(key: string, at: string, messageId: string): Promise<boolean> {
  try {
    await updateItem({
      key: k.outboxItem(key),
      update:
        'SET #s = :sent, sentAt = :at, messageId = :id, attempts = attempts + :one, #g = :g, #x = :x REMOVE lastError',
      condition: '#s <> :sent',
      names: { '#s': 'status', '#g': 'gsi1pk', '#x': TABLE_SCHEMA.ttlAttribute },
      values: {
        ':sent': 'sent',
        ':at': at,
        ':id': messageId,
        ':one': 1,
        ':g': k.outboxByStatus('sent'),
        ':x': expiresAt(at),
      },
    });
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw err;
  }
}

/** Mark failed (unless sent meanwhile); kept, and retried while attempts are left, for RETENTION_DAYS from the last failure. */
export async function markFailed(key: string, error: string, at = new Date().toISOString()): Promise<void> {
  await updateItem({
    key: k.outboxItem(key),
    update: 'SET #s = :failed, lastError = :e, attempts = attempts + :one, #g = :g, #x = :x',
    condition: '#s <> :sent',
    names: { '#s': 'status', '#g': 'gsi1pk', '#x': TABLE_SCHEMA.ttlAttribute },
    values: {
      ':failed': 'failed',
      ':sent': 'sent',
      ':e': error.slice(0, 500),
      ':one': 1,
      ':g': k.outboxByStatus('failed'),
      ':x': expiresAt(at),
    },
  }).catch((err: unknown) => {
    if (!isConditionFailure(err)) throw err;
  });
}

/**
 * Once per table: give notifications stored before the status index (no gsi1pk) their entry and, if
 * sent or failed, their expiry, so none is left unsent or kept for ever. Afterwards a marker makes
 * each call one read; the scheduled run calls it first (runScheduledNotifications). An item whose
 * status changes meanwhile is left to the update that changed it (markSent and markFailed set the index).
 */
export async function ensureOutboxIndexed(at = new Date().toISOString()): Promise<number> {
  if (await getItem(k.outboxIndexed)) return 0;
  let start: Record<string, unknown> | undefined;
  let given = 0;
  do {
    const page = await queryFromKey<StoredItem>(
      {
        KeyConditionExpression: 'pk = :pk',
        FilterExpression: 'attribute_not_exists(gsi1pk)',
        ExpressionAttributeValues: { ':pk': k.outboxPk },
      },
      start,
    );
    for (const item of page.items) {
      const expires = item.status === 'pending' ? undefined : expiresAt(item.sentAt ?? item.queuedAt);
      try {
        await updateItem({
          key: k.outboxItem(item.key),
          update: `SET #g = :g, #gs = :gs${expires === undefined ? '' : ', #x = :x'}`,
          condition: 'attribute_not_exists(#g) AND #s = :s',
          names: {
            '#g': 'gsi1pk',
            '#gs': 'gsi1sk',
            '#s': 'status',
            ...(expires === undefined ? {} : { '#x': TABLE_SCHEMA.ttlAttribute }),
          },
          values: {
            ':g': k.outboxByStatus(item.status),
            ':gs': k.outboxByStatusSk(item.queuedAt, item.key),
            ':s': item.status,
            ...(expires === undefined ? {} : { ':x': expires }),
          },
        });
        given++;
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
      }
    }
    start = page.lastKey;
  } while (start);
  await putItem({ ...k.outboxIndexed, at });
  return given;
}

let pseudonymKey: Promise<Buffer> | undefined;

/**
 * A child's stable pseudonym for notification keys: HMAC-SHA256 of the UPN under a random key
 * created once per table. A key names its fact so that it is sent once, but the outbox is read by
 * the administrator (who holds no pupil data) and the key travels as a mail header: a UPN, or a
 * plain hash of one (UPNs are few enough to enumerate), must not.
 */
export async function childPseudonym(upn: string): Promise<string> {
  pseudonymKey ??= (async () => {
    let key = (await getItem<{ key: string }>(k.notificationKey))?.key;
    if (!key) {
      try {
        await putItem(
          { ...k.notificationKey, key: randomBytes(32).toString('base64url') },
          { expression: 'attribute_not_exists(pk)' },
        );
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
      }
      key = (await getItem<{ key: string }>(k.notificationKey))?.key;
    }
    if (!key) throw new Error('the notification key could not be read');
    return Buffer.from(key, 'utf8');
  })().catch((err: unknown) => {
    pseudonymKey = undefined;
    throw err;
  });
  return createHmac('sha256', await pseudonymKey)
    .update(upn)
    .digest('base64url')
    .slice(0, 16);
}

/** For tests that start a new store in the same process. */
export function resetPseudonymKey(): void {
  pseudonymKey = undefined;
}
