/**
 * The audit log (docs/design.md §4): every read of pupil-level data and every write, with who, role, what,
 * when and outcome. Append-only: entries are only ever put with a fresh key (conditional on the key
 * not existing), never updated or deleted, and no route can change them. Entries about one pupil are
 * written twice — under the day and under the pupil — so "who looked at this child" is one query.
 */
import { randomBytes } from 'node:crypto';
import type { Principal } from '../domain/access.js';
import { addDays, startOfDayInEngland } from '../domain/dates.js';
import { k } from './keys.js';
import {
  decodeCursor,
  encodeCursor,
  inParallel,
  InvalidCursorError,
  queryAll,
  queryFromKey,
  queryPage,
  putTogether,
} from './table.js';

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
 * stand in for the condition a batch cannot carry. An entry about no one pupil is one item, put the
 * same way. Written with the other entries of the same turn (`putTogether`, issue 17: concurrent
 * requests share a batch write instead of making one each); each request still waits for its own.
 */
export async function recordAudit(
  p: Pick<Principal, 'sub' | 'role'>,
  e: Omit<AuditEntry, 'at' | 'sub' | 'role'>,
): Promise<void> {
  const at = new Date().toISOString();
  const id = randomBytes(6).toString('hex');
  const entry: AuditEntry = { at, sub: p.sub, role: p.role, ...e };
  const byDay = { ...k.audit(at.slice(0, 10), at, id), gsi1pk: k.auditByUser(p.sub), gsi1sk: `${at}#${id}`, ...entry };
  await putTogether(entry.upn ? [byDay, { ...k.auditOfPupil(entry.upn, at, id), ...entry }] : [byDay]);
}

/** At most this many pupils in one item of a list read's membership (about 14 KB, under DynamoDB's 400 KB item limit). */
export const AUDIT_LIST_PART = 1000;
/** How many (user, day, pupil) marks a process remembers having written before it starts again. */
const MARKS_HELD = 200_000;
const marksWritten = new Set<string>();

/**
 * A read of a list of pupils (issue 15; the cost per page, issue 17): the entry for the read (with the
 * count, under the day and the user, as any entry), the pupils it returned (one item a thousand pupils,
 * under the user and day), and under each pupil a mark that this user's list reads of this day
 * returned them — so "who looked at this child" finds every list and CSV read, with its time and
 * target, by the mark and then the day's membership items (queryAudit). A mark says only user and
 * day, so it is the same item for every read of that day: written the first time, and again only by
 * a process that does not remember writing it (a put of the same item; nothing it said changes).
 * Everything goes in one batch write; the keys are fresh (time and random bits) or the same mark,
 * which stands in for the condition a batch write cannot carry. Marks are remembered only once written.
 */
export async function recordAuditOfPupils(
  p: Pick<Principal, 'sub' | 'role'>,
  e: Omit<AuditEntry, 'at' | 'sub' | 'role' | 'upn' | 'count'>,
  upns: Iterable<string>,
): Promise<void> {
  const unique = [...new Set(upns)];
  const at = new Date().toISOString();
  const day = at.slice(0, 10);
  const entry: AuditEntry = { at, sub: p.sub, role: p.role, ...e, count: unique.length };
  const id = randomBytes(6).toString('hex');
  const items: Array<Record<string, unknown> & { pk: string; sk: string }> = [
    { ...k.audit(day, at, id), gsi1pk: k.auditByUser(p.sub), gsi1sk: `${at}#${id}`, ...entry },
  ];
  for (let i = 0, part = 0; i < unique.length; i += AUDIT_LIST_PART, part++)
    items.push({
      ...k.auditListRead(p.sub, day, at, id, part),
      ...entry,
      // Space-delimited so that contains(upns, ' <upn> ') matches one whole UPN only.
      upns: ` ${unique.slice(i, i + AUDIT_LIST_PART).join(' ')} `,
    });
  const marks = unique.filter((upn) => !marksWritten.has(`${p.sub}\u0000${day}\u0000${upn}`));
  for (const upn of marks) items.push({ ...k.auditListMark(upn, day, p.sub), mark: 'list', day, sub: p.sub, upn });
  await putTogether(items);
  if (marksWritten.size + marks.length > MARKS_HELD) marksWritten.clear();
  for (const upn of marks) marksWritten.add(`${p.sub}\u0000${day}\u0000${upn}`);
}

export interface AuditQuery {
  /**
   * Inclusive ISO dates in England (as `todayInEngland`): entries are keyed by their UTC instant and
   * filed under their UTC day, so a read at 00:30 BST is found on its own English day, not the day before.
   */
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
/** The entries' instants an English date range covers: [since, until) as ISO strings, and the UTC days they fall on. */
function instantsOf(q: Pick<AuditQuery, 'from' | 'to'>) {
  const since = startOfDayInEngland(q.from);
  const until = startOfDayInEngland(addDays(q.to, 1));
  // The last UTC day holding an instant before `until`.
  const lastDay = until.endsWith('T00:00:00.000Z') ? addDays(until.slice(0, 10), -1) : until.slice(0, 10);
  return { since, until, firstDay: since.slice(0, 10), lastDay };
}

/** Whether a key starting with its entry's instant (`<at>#…`) lies in [since, until). */
const within = (key: string, r: { since: string; until: string }) => key >= r.since && key < r.until;

export async function queryAudit(q: AuditQuery): Promise<{ items: AuditEntry[]; nextCursor: string | null }> {
  const r = instantsOf(q);
  // Keys are `<at>#<id>`: every one in [since, until) sorts between the two (`until#…` sorts after `until`).
  const range = { ':from': r.since, ':to': r.until };
  if (q.upn) return queryAuditOfPupil(q as AuditQuery & { upn: string });
  if (q.user) {
    const page = await queryPage<Record<string, unknown>>(
      {
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':pk': k.auditByUser(q.user), ...range },
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
  let day = r.lastDay;
  let start: Record<string, unknown> | undefined;
  if (q.cursor) {
    const c = decodeCursor(q.cursor, binding) as { day?: unknown; key?: unknown };
    if (typeof c.day !== 'string' || c.day > r.lastDay || c.day < r.firstDay) throw new InvalidCursorError();
    day = c.day;
    start = c.key && typeof c.key === 'object' ? (c.key as Record<string, unknown>) : undefined;
  }
  const items: AuditEntry[] = [];
  while (day >= r.firstDay && items.length < q.limit) {
    const page = await queryFromKey<Record<string, unknown>>(
      {
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':pk': k.auditDayPk(day), ...range },
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
  return { items, nextCursor: day >= r.firstDay ? encodeCursor({ day }, binding) : null };
}

/**
 * A pupil's entries, newest first: those filed under the pupil (a read of the pupil itself), and each
 * list read that returned them, found by the pupil's marks (a user and a day each) in that user's
 * list reads of that day. The span is at most 92 days (shared/app/audit-log.ts), so the pupil's
 * partition and the marked days are read whole and merged; the cursor is the key of the last entry
 * given, signed and bound to the query.
 */
async function queryAuditOfPupil(
  q: AuditQuery & { upn: string },
): Promise<{ items: AuditEntry[]; nextCursor: string | null }> {
  const binding = `audit-pupil:${q.upn}:${q.user ?? ''}:${q.from}:${q.to}`;
  let before: string | undefined;
  if (q.cursor) {
    const c = decodeCursor(q.cursor, binding) as { before?: unknown };
    if (typeof c.before !== 'string') throw new InvalidCursorError();
    before = c.before;
  }
  const r = instantsOf(q);
  // The whole UTC days: the list marks (`<day>#LIST#<sub>`) sort before that day's instants.
  const filed = await queryAll<Record<string, unknown> & { sk: string }>({
    KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
    ExpressionAttributeValues: {
      ':pk': k.auditOfPupilPk(q.upn),
      ':from': r.firstDay,
      ':to': `${r.lastDay}~`,
      ...(q.user ? { ':sub': q.user } : {}),
    },
    ...(q.user ? { FilterExpression: '#sub = :sub', ExpressionAttributeNames: { '#sub': 'sub' } } : {}),
  });
  const found: Array<{ key: string; entry: AuditEntry }> = [];
  const marks: Array<{ sub: string; day: string }> = [];
  for (const item of filed) {
    if (item.mark === 'list') marks.push({ sub: item.sub as string, day: item.day as string });
    else if (within(item.sk, r)) found.push({ key: item.sk, entry: strip(item) });
  }
  await inParallel(marks, 4, async ({ sub, day }) => {
    const reads = await queryAll<Record<string, unknown> & { sk: string }>({
      KeyConditionExpression: 'pk = :pk',
      FilterExpression: 'contains(#upns, :upn)',
      ExpressionAttributeNames: { '#upns': 'upns' },
      ExpressionAttributeValues: { ':pk': k.auditListReadPk(sub, day), ':upn': ` ${q.upn} ` },
    });
    for (const read of reads) {
      if (!within(read.sk, r)) continue;
      const { upns: _upns, ...entry } = strip(read) as AuditEntry & { upns?: string };
      found.push({ key: read.sk.slice(0, read.sk.lastIndexOf('#')), entry: { ...entry, upn: q.upn } });
    }
  });
  const newestFirst = found
    .filter((f) => before === undefined || f.key < before)
    .sort((a, b) => (a.key < b.key ? 1 : -1));
  const items = newestFirst.slice(0, q.limit);
  const more = newestFirst.length > q.limit;
  return {
    items: items.map((f) => f.entry),
    nextCursor: more ? encodeCursor({ before: items[items.length - 1].key }, binding) : null,
  };
}
