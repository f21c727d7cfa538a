/**
 * Referral cases in DynamoDB (keys in keys.ts): the case item, its append-only events, the pupil's
 * pointers to their cases, and create-once records for Idempotency-Key. dynalite has no
 * transactions, so every change is two conditional puts in an order that survives a crash:
 *
 * 1. the event `EVENT#<version+1>` is put only if that key is free (attribute_not_exists). Whoever
 *    puts it owns the next version; a writer who finds it taken read a stale case (→ 412). The event
 *    carries the case's resulting state, so the change is recorded before the case moves;
 * 2. the case item is put only if its version is still the one read (`version = :v`).
 *
 * A crash between the two leaves an event one version ahead of the case. Any later read notices
 * (the latest event's seq > the case's version) and rolls the case forward from that event's state,
 * conditionally, so two readers repairing at once do no harm. Events are never updated or deleted;
 * their stored state is internal and is not returned by the API.
 */
import type { Change, Referral, ReferralEvent, ReferralStatus, ReferralType } from '../domain/referrals.js';
import { OPEN_STATUSES } from '../domain/referrals.js';
import { documentClient } from './clients.js';
import { k } from './keys.js';
import {
  batchGet,
  decodeCursor,
  encodeCursor,
  getItem,
  isConditionFailure,
  putItem,
  queryAll,
  queryBinding,
  tableName,
  type Key,
} from './table.js';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';

type CaseItem = Referral & { pk: string; sk: string; gsi1pk: string; gsi1sk: string };
/** An event as stored: what the API shows, plus the case state it produced (internal). */
type EventItem = ReferralEvent & {
  pk: string;
  sk: string;
  referralId: string;
  state: Omit<Referral, 'evidence'> & { evidence?: Referral['evidence'] };
};

const IDEMPOTENCY_SCOPE = 'referral-create';

const asItem = (x: CaseItem | EventItem) => x as unknown as Key & Record<string, unknown>;

/** Thrown when the case changed since the caller read it. */
export class StaleReferralError extends Error {
  constructor(readonly currentVersion: number | undefined) {
    super('the referral changed since it was read');
    this.name = 'StaleReferralError';
  }
}

function caseItem(r: Referral): CaseItem {
  return { ...k.referral(r.id), gsi1pk: k.referralsIndex, gsi1sk: `${r.createdAt}#${r.id}`, ...r };
}

function fromCaseItem(item: CaseItem): Referral {
  const { pk: _pk, sk: _sk, gsi1pk: _g, gsi1sk: _s, ...rest } = item;
  return rest;
}

function eventItem(r: Referral, event: ReferralEvent, withEvidence: boolean): EventItem {
  const { evidence, ...state } = r;
  return {
    ...k.referralEvent(r.id, event.seq),
    referralId: r.id,
    ...event,
    state: withEvidence ? { ...state, evidence } : state,
  };
}

/** The event as the API shows it. */
function publicEvent(item: EventItem | ReferralEvent): ReferralEvent {
  const { pk: _pk, sk: _sk, referralId: _r, state: _state, ...event } = item as EventItem;
  return event;
}

// ---- Idempotency ---------------------------------------------------------------------------------

export type IdempotencyClaim = { claimed: true } | { claimed: false; referralId: string; bodyHash: string };

/**
 * Claim an Idempotency-Key for a create: the first claim maps caller + key to the new case id; a
 * repeat learns the case id and the hash of the body first sent with the key.
 */
export async function claimCreateKey(
  caller: string,
  key: string,
  record: { referralId: string; bodyHash: string; at: string },
): Promise<IdempotencyClaim> {
  const itemKey = k.idempotency(IDEMPOTENCY_SCOPE, `${caller}#${key}`);
  try {
    await putItem({ ...itemKey, ...record }, { expression: 'attribute_not_exists(pk)' });
    return { claimed: true };
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
  }
  const held = await getItem<{ referralId: string; bodyHash: string }>(itemKey);
  if (!held) throw new Error('idempotency record vanished');
  return { claimed: false, referralId: held.referralId, bodyHash: held.bodyHash };
}

// ---- Cases and events ----------------------------------------------------------------------------

/**
 * Store a new case: its creation event (with the full state), then the case, then the pupil's
 * pointer. Safe to repeat with the same id: an existing creation event wins, so concurrent or
 * retried creates with one idempotency key end with one case.
 */
export async function putNewReferral(change: Change): Promise<{ referral: Referral; events: ReferralEvent[] }> {
  let referral = change.referral;
  try {
    await putItem(asItem(eventItem(referral, change.event, true)), { expression: 'attribute_not_exists(pk)' });
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
    const first = await getItem<EventItem>(k.referralEvent(referral.id, 1));
    if (!first?.state?.evidence) throw err;
    referral = first.state as Referral;
  }
  try {
    await putItem(asItem(caseItem(referral)), { expression: 'attribute_not_exists(pk)' });
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
  }
  await putItem({
    ...k.pupilReferral(referral.upn, referral.id),
    referralId: referral.id,
    createdAt: referral.createdAt,
  });
  const loaded = await getReferral(referral.id);
  if (!loaded) throw new Error('referral not found after create');
  return loaded;
}

async function eventsOf(id: string): Promise<EventItem[]> {
  const items = await queryAll<EventItem>({
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sk)',
    ExpressionAttributeValues: { ':pk': k.referral(id).pk, ':sk': k.referralEventPrefix },
  });
  return items.sort((a, b) => a.seq - b.seq);
}

/** Roll the case forward to the state of events written by a writer that stopped half-way. */
async function repair(item: CaseItem | undefined, events: EventItem[]): Promise<boolean> {
  const latest = events[events.length - 1];
  if (!latest) return false;
  if (!item) {
    if (!latest.state.evidence && !events[0]?.state?.evidence) return false;
    const state = { ...latest.state, evidence: latest.state.evidence ?? events[0].state.evidence } as Referral;
    try {
      await putItem(asItem(caseItem(state)), { expression: 'attribute_not_exists(pk)' });
      await putItem({ ...k.pupilReferral(state.upn, state.id), referralId: state.id, createdAt: state.createdAt });
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
    return true;
  }
  if (latest.seq <= item.version) return false;
  const state = { ...latest.state, evidence: item.evidence };
  try {
    await putItem(asItem(caseItem(state)), {
      expression: '#v = :v',
      names: { '#v': 'version' },
      values: { ':v': item.version },
    });
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
  }
  return true;
}

/** A case and its full history (oldest first), repaired if a writer stopped half-way. */
export async function getReferral(id: string): Promise<{ referral: Referral; events: ReferralEvent[] } | undefined> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const [item, events] = await Promise.all([getItem<CaseItem>(k.referral(id)), eventsOf(id)]);
    if ((!item || events.length === 0 || events[events.length - 1].seq > item.version) && (await repair(item, events)))
      continue;
    if (!item) return undefined;
    return { referral: fromCaseItem(item), events: events.filter((e) => e.seq <= item.version).map(publicEvent) };
  }
  throw new Error('referral could not be repaired');
}

/**
 * Append a change made to the case read at `expectedVersion`: the event first (owning the next
 * version), then the case. Throws StaleReferralError when someone else changed it first.
 */
export async function appendChange(change: Change, expectedVersion: number): Promise<void> {
  const { referral, event } = change;
  if (event.seq !== expectedVersion + 1 || referral.version !== event.seq)
    throw new Error('a change must produce the next version');
  try {
    await putItem(asItem(eventItem(referral, event, false)), { expression: 'attribute_not_exists(pk)' });
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
    const current = await getReferral(referral.id); // also rolls forward a half-written change
    throw new StaleReferralError(current?.referral.version);
  }
  try {
    await putItem(asItem(caseItem(referral)), {
      expression: '#v = :v',
      names: { '#v': 'version' },
      values: { ':v': expectedVersion },
    });
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
    // Only a reader repairing from our own event can have moved the case to our version.
    const item = await getItem<CaseItem>(k.referral(referral.id));
    if (item?.version !== referral.version) throw new StaleReferralError(item?.version);
  }
}

/** Every case about a pupil (for penalty-notice history across cases). */
export async function getReferralsOfPupil(upn: string): Promise<Referral[]> {
  const pointers = await queryAll<{ referralId: string }>({
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sk)',
    ExpressionAttributeValues: { ':pk': k.pupilPk(upn), ':sk': k.pupilReferralPrefix },
  });
  if (pointers.length === 0) return [];
  const items = await batchGet<CaseItem>(pointers.map((p) => k.referral(p.referralId)));
  return items.map(fromCaseItem);
}

// ---- Lists ---------------------------------------------------------------------------------------

export interface ReferralFilter {
  status?: ReferralStatus;
  type?: ReferralType;
  urn?: string;
  assignee?: string;
  upn?: string;
  /** true: still submitted after the due date (as of `today`); false: not overdue. */
  overdue?: boolean;
  today: string;
}

export type ReferralListItem = Pick<
  Referral,
  | 'id'
  | 'upn'
  | 'urn'
  | 'type'
  | 'status'
  | 'priority'
  | 'assignee'
  | 'reason'
  | 'createdAt'
  | 'updatedAt'
  | 'triageDueOn'
  | 'triagedAt'
  | 'closedAt'
  | 'version'
> & { evidence?: { pupil?: Referral['evidence']['pupil'] }; outcome?: Referral['outcome'] };

const LIST_FIELDS = [
  'id',
  'upn',
  'urn',
  'type',
  'status',
  'priority',
  'assignee',
  'reason',
  'createdAt',
  'updatedAt',
  'triageDueOn',
  'triagedAt',
  'closedAt',
  'version',
  'outcome',
  'pk',
  'sk',
  'gsi1pk',
  'gsi1sk',
];

function listQuery(filter: ReferralFilter, limit: number) {
  const names: Record<string, string> = { '#ev': 'evidence', '#pu': 'pupil' };
  const values: Record<string, unknown> = { ':pk': k.referralsIndex };
  const conditions: string[] = [];
  const eq = (field: string, value: unknown) => {
    names[`#${field}`] = field;
    values[`:${field}`] = value;
    conditions.push(`#${field} = :${field}`);
  };
  if (filter.status) eq('status', filter.status);
  if (filter.type) eq('type', filter.type);
  if (filter.urn) eq('urn', filter.urn);
  if (filter.assignee) eq('assignee', filter.assignee);
  if (filter.upn) eq('upn', filter.upn);
  if (filter.overdue !== undefined) {
    names['#st'] = 'status';
    names['#due'] = 'triageDueOn';
    values[':submitted'] = 'submitted';
    values[':today'] = filter.today;
    const overdue = '(#st = :submitted AND #due < :today)';
    conditions.push(filter.overdue ? overdue : `NOT ${overdue}`);
  }
  for (const f of LIST_FIELDS) names[`#f_${f}`] = f;
  return {
    IndexName: 'gsi1',
    KeyConditionExpression: 'gsi1pk = :pk',
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
    ...(conditions.length ? { FilterExpression: conditions.join(' AND ') } : {}),
    ProjectionExpression: [...LIST_FIELDS.map((f) => `#f_${f}`), '#ev.#pu'].join(', '),
    ScanIndexForward: false,
    Limit: Math.max(limit, 100),
  };
}

function stripList(item: ReferralListItem & Partial<CaseItem>): ReferralListItem {
  const { pk: _pk, sk: _sk, gsi1pk: _g, gsi1sk: _s, ...rest } = item;
  return rest;
}

/**
 * One page of cases, newest first, matching the filter and `keep` (a scope check applied to each
 * batch read). The cursor is the index key of the last case returned, so pages never skip or repeat.
 */
export async function listReferrals(
  filter: ReferralFilter,
  limit: number,
  cursor?: string,
  keep?: (items: ReferralListItem[]) => Promise<ReferralListItem[]>,
): Promise<{ items: ReferralListItem[]; nextCursor: string | null }> {
  const input = listQuery(filter, limit);
  const out: Array<ReferralListItem & Partial<CaseItem>> = [];
  const binding = queryBinding(input);
  let start = cursor ? decodeCursor(cursor, binding) : undefined;
  // A matching case was read but did not fit on this page.
  let leftOver = false;
  for (;;) {
    const res = await documentClient().send(
      new QueryCommand({ ...input, TableName: tableName(), ExclusiveStartKey: start }),
    );
    let items = (res.Items ?? []) as Array<ReferralListItem & Partial<CaseItem>>;
    if (keep && items.length) {
      const kept = new Set((await keep(items)).map((i) => i.id));
      items = items.filter((i) => kept.has(i.id));
    }
    for (const item of items) {
      if (out.length < limit) out.push(item);
      else {
        leftOver = true;
        break;
      }
    }
    start = res.LastEvaluatedKey;
    if (leftOver || !start || out.length >= limit) break;
  }
  const last = out[out.length - 1];
  const nextCursor =
    last && (leftOver || start)
      ? encodeCursor({ pk: last.pk, sk: last.sk, gsi1pk: last.gsi1pk, gsi1sk: last.gsi1sk }, binding)
      : null;
  return { items: out.map(stripList), nextCursor };
}

/** Every matching case (for CSV export), newest first, up to `max`. */
export async function listAllReferrals(
  filter: ReferralFilter,
  keep?: (items: ReferralListItem[]) => Promise<ReferralListItem[]>,
  max = 20_000,
): Promise<ReferralListItem[]> {
  const out: ReferralListItem[] = [];
  let cursor: string | undefined;
  do {
    const page = await listReferrals(filter, Math.min(1000, max - out.length), cursor, keep);
    out.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && out.length < max);
  return out;
}

/** UPNs of pupils with at least one open case. */
export async function upnsWithOpenReferrals(): Promise<Set<string>> {
  const values: Record<string, unknown> = { ':pk': k.referralsIndex };
  OPEN_STATUSES.forEach((s, i) => (values[`:s${i}`] = s));
  const items = await queryAll<{ upn: string }>({
    IndexName: 'gsi1',
    KeyConditionExpression: 'gsi1pk = :pk',
    FilterExpression: `#st IN (${OPEN_STATUSES.map((_, i) => `:s${i}`).join(', ')})`,
    ProjectionExpression: '#upn',
    ExpressionAttributeNames: { '#st': 'status', '#upn': 'upn' },
    ExpressionAttributeValues: values,
  });
  return new Set(items.map((i) => i.upn));
}

/** A case as the penalty-notice lists need it: its parents, actions and the child's details. */
export type CaseWithActions = Pick<Referral, 'id' | 'upn' | 'urn' | 'status' | 'parents' | 'actions'> & {
  evidence?: { pupil?: Referral['evidence']['pupil'] };
};

/** Every case on which any action was recorded (penalty notices are actions), across the LA. */
export async function casesWithActions(): Promise<CaseWithActions[]> {
  const fields = ['id', 'upn', 'urn', 'status', 'parents', 'actions'];
  const names: Record<string, string> = { '#ev': 'evidence', '#pu': 'pupil' };
  for (const f of fields) names[`#f_${f}`] = f;
  const items = await queryAll<CaseWithActions>({
    IndexName: 'gsi1',
    KeyConditionExpression: 'gsi1pk = :pk',
    FilterExpression: 'size(#f_actions) > :none',
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: { ':pk': k.referralsIndex, ':none': 0 },
    ProjectionExpression: [...fields.map((f) => `#f_${f}`), '#ev.#pu'].join(', '),
  });
  return items.map((i) => ({ ...i, parents: i.parents ?? [], actions: i.actions ?? [] }));
}
