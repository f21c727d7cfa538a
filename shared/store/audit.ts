/**
 * The audit log (docs/design.md §4): every read of pupil-level data and every write, with who, role, what,
 * when and outcome. Append-only: entries are only ever put with a fresh key (conditional on the key
 * not existing), never updated or deleted, and no route can change them. Entries about one pupil are
 * written twice — under the day and under the pupil — so "who looked at this child" is one query.
 */
import { randomBytes } from 'node:crypto';
import type { Principal } from '../domain/access.js';
import { addDays } from '../domain/dates.js';
import { k } from './keys.js';
import { batchPut, decodeCursor, encodeCursor, InvalidCursorError, putItem, queryFromKey, queryPage } from './table.js';

export interface AuditEntry {
  at: string;
  sub: string;
  role: string;
  action: string;
  target: string;
  outcome: string;
  urn?: string;
  upn?: string;
  /** How many pupils a list read returned. */
  count?: number;
}

/**
 * One entry. An entry about one pupil (a pupil view) is its two copies in one batch write: one
 * request instead of two; like the list entries below, their fresh keys (time and 48 random bits)
 * stand in for the condition a batch cannot carry. An entry about no one pupil is one conditional put.
 */
export async function recordAudit(
  p: Pick<Principal, 'sub' | 'role'>,
  e: Omit<AuditEntry, 'at' | 'sub' | 'role'>,
): Promise<void> {
  const at = new Date().toISOString();
  const id = randomBytes(6).toString('hex');
  const entry: AuditEntry = { at, sub: p.sub, role: p.role, ...e };
  const byDay = { ...k.audit(at.slice(0, 10), at, id), gsi1pk: k.auditByUser(p.sub), gsi1sk: `${at}#${id}`, ...entry };
  if (entry.upn) await batchPut([byDay, { ...k.auditOfPupil(entry.upn, at, id), ...entry }]);
  else await putItem(byDay, { expression: 'attribute_not_exists(pk)' });
}

/**
 * A read of a list of pupils: the entry for the read (with the count), and one entry per pupil
 * returned filed under that pupil, so "who looked at this child" finds list and CSV reads too
 * (issue 15). The per-pupil entries go in batches of 25; their keys are fresh (time and a random
 * id), which stands in for the condition a batch write cannot carry.
 */
export async function recordAuditOfPupils(
  p: Pick<Principal, 'sub' | 'role'>,
  e: Omit<AuditEntry, 'at' | 'sub' | 'role' | 'upn' | 'count'>,
  upns: Iterable<string>,
): Promise<void> {
  const unique = [...new Set(upns)];
  const at = new Date().toISOString();
  const entry: AuditEntry = { at, sub: p.sub, role: p.role, ...e, count: unique.length };
  const id = randomBytes(6).toString('hex');
  // Each pupil's entry its own 32 random bits, drawn in one call (one call each was 4 % of a page's CPU).
  const random = randomBytes(4 * unique.length).toString('hex');
  await Promise.all([
    putItem(
      { ...k.audit(at.slice(0, 10), at, id), gsi1pk: k.auditByUser(p.sub), gsi1sk: `${at}#${id}`, ...entry },
      { expression: 'attribute_not_exists(pk)' },
    ),
    batchPut(
      unique.map((upn, i) => ({ ...k.auditOfPupil(upn, at, `${id}${random.slice(8 * i, 8 * i + 8)}`), ...entry, upn })),
    ),
  ]);
}

export interface AuditQuery {
  /** Inclusive ISO dates. */
  from: string;
  to: string;
  upn?: string;
  user?: string;
  limit: number;
  cursor?: string;
}

function strip(item: Record<string, unknown>): AuditEntry {
  const { pk: _pk, sk: _sk, gsi1pk: _g, gsi1sk: _s, ...rest } = item;
  return rest as unknown as AuditEntry;
}

/** Entries newest first, by pupil, by user, or by day; a pupil or user query may also filter by the other. */
export async function queryAudit(q: AuditQuery): Promise<{ items: AuditEntry[]; nextCursor: string | null }> {
  const range = { ':from': q.from, ':to': `${q.to}~` };
  if (q.upn || q.user) {
    const byPupil = Boolean(q.upn);
    const page = await queryPage<Record<string, unknown>>(
      {
        ...(byPupil ? {} : { IndexName: 'gsi1' }),
        KeyConditionExpression: byPupil
          ? 'pk = :pk AND sk BETWEEN :from AND :to'
          : 'gsi1pk = :pk AND gsi1sk BETWEEN :from AND :to',
        ExpressionAttributeValues: {
          ':pk': byPupil ? k.auditOfPupilPk(q.upn as string) : k.auditByUser(q.user as string),
          ...range,
          ...(byPupil && q.user ? { ':sub': q.user } : {}),
        },
        ...(byPupil && q.user ? { FilterExpression: '#sub = :sub', ExpressionAttributeNames: { '#sub': 'sub' } } : {}),
        ScanIndexForward: false,
        Limit: q.limit,
      },
      q.cursor,
    );
    return { items: page.items.map(strip), nextCursor: page.nextCursor };
  }
  // By day: walk the day partitions from `to` back to `from`; the cursor names the day and the key,
  // signed and bound to the dates asked for.
  const binding = `audit:${q.from}:${q.to}`;
  let day = q.to;
  let start: Record<string, unknown> | undefined;
  if (q.cursor) {
    const c = decodeCursor(q.cursor, binding) as { day?: unknown; key?: unknown };
    if (typeof c.day !== 'string' || c.day > q.to || c.day < q.from) throw new InvalidCursorError();
    day = c.day;
    start = c.key && typeof c.key === 'object' ? (c.key as Record<string, unknown>) : undefined;
  }
  const items: AuditEntry[] = [];
  while (day >= q.from && items.length < q.limit) {
    const page = await queryFromKey<Record<string, unknown>>(
      {
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': k.auditDayPk(day) },
        ScanIndexForward: false,
        Limit: q.limit - items.length,
      },
      start,
    );
    items.push(...page.items.map(strip));
    if (page.lastKey) {
      start = page.lastKey;
      if (items.length >= q.limit) return { items, nextCursor: encodeCursor({ day, key: start }, binding) };
    } else {
      start = undefined;
      day = addDays(day, -1);
    }
  }
  return { items, nextCursor: day >= q.from ? encodeCursor({ day }, binding) : null };
}
