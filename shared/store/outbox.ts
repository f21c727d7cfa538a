/**
 * The notification outbox (issue 19): every notification is stored once under its key before it is
 * sent, so a job that runs twice sends nothing new; a send that fails stays in the outbox as failed
 * with its error and attempt count, is retried on the next run up to MAX_ATTEMPTS, and is visible
 * to the administrator (listOutbox). The mailer is SES in AWS and, locally, files that are exactly
 * the messages SES would receive (functions/notifications/mailer.ts).
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Notification } from '../domain/notifications.js';
import { k } from './keys.js';
import { getItem, isConditionFailure, putItem, queryAll, updateItem } from './table.js';

export const MAX_ATTEMPTS = 5;

export type OutboxStatus = 'pending' | 'sent' | 'failed';

export interface OutboxItem extends Notification {
  status: OutboxStatus;
  attempts: number;
  queuedAt: string;
  sentAt?: string;
  messageId?: string;
  lastError?: string;
}

/** Store a notification unless one with its key is already held. True when it is new. */
export async function enqueue(n: Notification, at: string): Promise<boolean> {
  try {
    await putItem({ ...k.outboxItem(n.key), ...n, status: 'pending', attempts: 0, queuedAt: at }, { expression: 'attribute_not_exists(pk)' });
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw err;
  }
}

export async function listOutbox(filter: { status?: OutboxStatus } = {}): Promise<OutboxItem[]> {
  const items = await queryAll<OutboxItem & { pk: string; sk: string }>({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': k.outboxPk } });
  return items
    .map(({ pk: _pk, sk: _sk, ...rest }) => rest)
    .filter((i) => !filter.status || i.status === filter.status)
    .sort((a, b) => (a.queuedAt < b.queuedAt ? -1 : a.queuedAt > b.queuedAt ? 1 : a.key < b.key ? -1 : 1));
}

/** Mark sent, only if not already sent (two senders racing record one send). False when it already was. */
export async function markSent(key: string, at: string, messageId: string): Promise<boolean> {
  try {
    await updateItem({
      key: k.outboxItem(key),
      update: 'SET #s = :sent, sentAt = :at, messageId = :id, attempts = attempts + :one REMOVE lastError',
      condition: '#s <> :sent',
      names: { '#s': 'status' },
      values: { ':sent': 'sent', ':at': at, ':id': messageId, ':one': 1 },
    });
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw err;
  }
}

export async function markFailed(key: string, error: string): Promise<void> {
  await updateItem({
    key: k.outboxItem(key),
    update: 'SET #s = :failed, lastError = :e, attempts = attempts + :one',
    condition: '#s <> :sent',
    names: { '#s': 'status' },
    values: { ':failed': 'failed', ':sent': 'sent', ':e': error.slice(0, 500), ':one': 1 },
  }).catch((err: unknown) => {
    if (!isConditionFailure(err)) throw err;
  });
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
        await putItem({ ...k.notificationKey, key: randomBytes(32).toString('base64url') }, { expression: 'attribute_not_exists(pk)' });
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
  return createHmac('sha256', await pseudonymKey).update(upn).digest('base64url').slice(0, 16);
}

/** For tests that start a new store in the same process. */
export function resetPseudonymKey(): void {
  pseudonymKey = undefined;
}
