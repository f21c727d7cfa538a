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
 *
 * Searches read list entries (issue 17): a small copy of what a list page shows, one per facet a
 * search keys on (the case's school, pupil, status, type and assignee, and its outstanding penalty
 * notices), each partition newest first, so a search reads about as many entries as it answers
 * rather than every case of the LA. The event is the commit point, so the entries follow it:
 *
 * 1. the event (the lock, as above);
 * 2. the entries of the new state, each put only over an older version of itself, and the entries of
 *    partitions the case left, each deleted only while it holds an older version;
 * 3. the case, conditionally, as above.
 *
 * A writer whose case put succeeded wrote its entries before anyone could read that version, so
 * before anyone could write the next one. Any other writer of entries (a repairer, a writer that lost
 * the case put to a repairer, the back-fill) then reads the case's latest event and, while it is ahead
 * of the state it wrote, moves the entries on to it (`followEvents`): an entry it put after a later
 * writer had removed it is removed again. A writer that stops after its event leaves the entries to
 * the repair that rolls the case forward (`getReferral`).
 */
import type { Change, Referral, ReferralEvent, ReferralStatus, ReferralType } from '../domain/referrals.js';
import { optionalSetting } from '../config.js';
import { OPEN_STATUSES, hasOutstandingNotice } from '../domain/referrals.js';
import { documentClient } from './clients.js';
import { k, type ReferralListFacet } from './keys.js';
import {
  batchGet,
  decodeCursor,
  deleteItem,
  encodeCursor,
  getItem,
  inParallel,
  isConditionFailure,
  putItem,
  queryAll,
  queryBinding,
  queryFromKey,
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

// ---- List entries --------------------------------------------------------------------------------

/** The fields a list page shows (and a search filters on), copied into each entry. */
const ENTRY_FIELDS = [
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
] as const;

/** The list partitions a case is in: one per facet a search keys on. */
export function referralFacets(r: Pick<Referral, 'id' | 'upn' | 'urn' | 'status' | 'type' | 'assignee' | 'actions'>) {
  const out: Array<[ReferralListFacet, string]> = [
    ['UPN', r.upn],
    ['URN', r.urn],
    ['STATUS', r.status],
    ['TYPE', r.type],
  ];
  if (r.assignee) out.push(['ASSIGNEE', r.assignee]);
  if (hasOutstandingNotice(r)) out.push(['NOTICES', 'outstanding']);
  return out;
}

function entryOf(r: Referral, facet: ReferralListFacet, value: string): Key & Record<string, unknown> {
  const entry: Key & Record<string, unknown> = { ...k.referralListEntry(facet, value, r.createdAt, r.id) };
  for (const f of ENTRY_FIELDS) entry[f] = r[f];
  entry.evidence = { pupil: r.evidence?.pupil };
  // The unpaid-notice list needs the case's parents and actions (and nothing more).
  if (facet === 'NOTICES') Object.assign(entry, { parents: r.parents, actions: r.actions });
  return entry;
}

async function unlessNewer(write: Promise<void>): Promise<void> {
  try {
    await write;
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
  }
}

/**
 * Move a case's entries from `prev` (the state they may hold, if any) to `next`: put next's entries
 * over older versions of themselves, delete prev's entries in partitions next is not in while they
 * hold an older version. A newer version already written by someone else is left as it is.
 */
export async function writeEntries(prev: Referral | undefined, next: Referral): Promise<void> {
  const wanted = referralFacets(next).map(([facet, value]) => entryOf(next, facet, value));
  const keep = new Set(wanted.map((e) => e.pk));
  const gone = (prev ? referralFacets(prev) : [])
    .map(([facet, value]) => k.referralListEntry(facet, value, next.createdAt, next.id))
    .filter((key) => !keep.has(key.pk));
  const guard = { names: { '#v': 'version' }, values: { ':v': next.version } };
  await Promise.all([
    ...wanted.map((e) => unlessNewer(putItem(e, { expression: 'attribute_not_exists(pk) OR #v <= :v', ...guard }))),
    ...gone.map((key) => unlessNewer(deleteItem(key, { expression: '#v <= :v', ...guard }))),
  ]);
}

/** The case's latest event (its seq and resulting state), read strongly. */
async function latestEvent(id: string): Promise<EventItem | undefined> {
  const { items } = await queryFromKey<EventItem>({
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sk)',
    ExpressionAttributeValues: { ':pk': k.referral(id).pk, ':sk': k.referralEventPrefix },
    ScanIndexForward: false,
    Limit: 1,
    ConsistentRead: true,
  });
  return items[0];
}

/**
 * After writing the entries of `written` without owning that version's case put: while the case's
 * latest event is ahead of what the entries hold, move them on to its state. (This and writeEntries
 * are the steps of a write, exported for the tests that interleave two writers step by step.)
 */
export async function followEvents(written: Referral): Promise<void> {
  let at = written;
  for (let round = 0; round < 50; round++) {
    const latest = await latestEvent(at.id);
    if (!latest || latest.seq <= at.version) return;
    const next = { ...latest.state, evidence: latest.state.evidence ?? at.evidence };
    await writeEntries(at, next);
    at = next;
  }
  throw new Error('referral list entries did not settle');
}

/**
 * The state a change was made from, as far as the list partitions go (status, assignee, actions):
 * from the event's recorded changes (field, from, to).
 */
export function stateBefore(change: Change): Referral {
  const prev = { ...change.referral };
  for (const c of change.event.changes) {
    if (c.field === 'status') prev.status = c.from as ReferralStatus;
    else if (c.field === 'assignee') prev.assignee = c.from as string | null;
    else if (c.field === 'actions') prev.actions = prev.actions.filter((a) => a.id !== c.to);
  }
  return prev;
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
  await writeEntries(undefined, referral);
  try {
    await putItem(asItem(caseItem(referral)), { expression: 'attribute_not_exists(pk)' });
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
    // A retry, or a repairer created it first: the case may have moved on since.
    await followEvents(referral);
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
    await writeEntries(undefined, state);
    try {
      await putItem(asItem(caseItem(state)), { expression: 'attribute_not_exists(pk)' });
      await putItem({ ...k.pupilReferral(state.upn, state.id), referralId: state.id, createdAt: state.createdAt });
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      await followEvents(state);
    }
    return true;
  }
  if (latest.seq <= item.version) return false;
  const state = { ...latest.state, evidence: item.evidence };
  await writeEntries(fromCaseItem(item), state);
  try {
    await putItem(asItem(caseItem(state)), {
      expression: '#v = :v',
      names: { '#v': 'version' },
      values: { ':v': item.version },
    });
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
    await followEvents(state);
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
  await writeEntries(stateBefore(change), referral);
  try {
    await putItem(asItem(caseItem(referral)), {
      expression: '#v = :v',
      names: { '#v': 'version' },
      values: { ':v': expectedVersion },
    });
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
    // Only a reader repairing from our own event can have moved the case to our version; it, or a
    // writer after it, may have moved the entries on while ours were being written.
    await followEvents(referral);
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

/** The fields an entry copies, and the case's keys (a gsi1 page's cursor is made from them). */
const LIST_FIELDS: string[] = [...ENTRY_FIELDS, 'pk', 'sk', 'gsi1pk', 'gsi1sk'];

/**
 * The partition a search reads: the most selective facet it names (a pupil, then a school, an
 * assignee, a status — overdue means still submitted — then a type), the rest filtered; with none, the
 * LA's newest-first list (gsi1). Until every older case has its entries (`indexReferralLists`), gsi1.
 */
export function searchFacet(filter: ReferralFilter): [ReferralListFacet, string] | undefined {
  if (filter.upn) return ['UPN', filter.upn];
  if (filter.urn) return ['URN', filter.urn];
  if (filter.assignee) return ['ASSIGNEE', filter.assignee];
  if (filter.status) return ['STATUS', filter.status];
  if (filter.overdue === true) return ['STATUS', 'submitted'];
  if (filter.type) return ['TYPE', filter.type];
  return undefined;
}

const FACET_FIELD: Record<ReferralListFacet, string> = {
  UPN: 'upn',
  URN: 'urn',
  ASSIGNEE: 'assignee',
  STATUS: 'status',
  TYPE: 'type',
  NOTICES: '',
};

function listQuery(filter: ReferralFilter, limit: number, indexed: boolean) {
  const facet = indexed ? searchFacet(filter) : undefined;
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const conditions: string[] = [];
  const eq = (field: string, value: unknown) => {
    // The partition's own facet needs no filter (the key says it).
    if (facet && FACET_FIELD[facet[0]] === field && facet[1] === value) return;
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
  // Unfiltered, one more than the page tells whether another page follows; filtered, read in hundreds.
  const common = {
    ...(conditions.length ? { FilterExpression: conditions.join(' AND ') } : {}),
    ScanIndexForward: false,
    Limit: conditions.length ? Math.max(limit, 100) : limit + 1,
  };
  if (facet) {
    // An entry holds only what a page shows (and, in NOTICES, parents and actions: never searched).
    return {
      input: {
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeNames: Object.keys(names).length ? names : undefined,
        ExpressionAttributeValues: { ...values, ':pk': k.referralList(facet[0], facet[1]) },
        ...common,
      },
      onIndex: false,
    };
  }
  names['#ev'] = 'evidence';
  names['#pu'] = 'pupil';
  for (const f of LIST_FIELDS) names[`#f_${f}`] = f;
  return {
    input: {
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: { ...values, ':pk': k.referralsIndex },
      ProjectionExpression: [...LIST_FIELDS.map((f) => `#f_${f}`), '#ev.#pu'].join(', '),
      ...common,
    },
    onIndex: true,
  };
}

function stripList(item: ReferralListItem & Partial<CaseItem>): ReferralListItem {
  const { pk: _pk, sk: _sk, gsi1pk: _g, gsi1sk: _s, ...rest } = item;
  return rest;
}

/** Tables (by endpoint and name) seen to have every case's list entries: read once per process. */
const indexedTables = new Set<string>();
const tableId = () => `${optionalSetting('AWS_ENDPOINT_URL_DYNAMODB') ?? ''}|${tableName()}`;

/** Whether every case stored before the list partitions has its entries (one read until it has). */
export async function referralListsReady(): Promise<boolean> {
  if (indexedTables.has(tableId())) return true;
  if (!(await getItem(k.referralListsIndexed))) return false;
  indexedTables.add(tableId());
  return true;
}

/**
 * One page of cases, newest first, matching the filter and `keep` (a scope check applied to each
 * batch read). The cursor is the key of the last case returned (bound to the partition and filter
 * it came from), so pages never skip or repeat.
 */
export async function listReferrals(
  filter: ReferralFilter,
  limit: number,
  cursor?: string,
  keep?: (items: ReferralListItem[]) => Promise<ReferralListItem[]>,
): Promise<{ items: ReferralListItem[]; nextCursor: string | null }> {
  const { input, onIndex } = listQuery(filter, limit, await referralListsReady());
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
  const key = last && { pk: last.pk, sk: last.sk, ...(onIndex ? { gsi1pk: last.gsi1pk, gsi1sk: last.gsi1sk } : {}) };
  const nextCursor = key && (leftOver || start) ? encodeCursor(key, binding) : null;
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

/** UPNs of pupils with at least one open case: the open statuses' partitions, nothing else. */
export async function upnsWithOpenReferrals(): Promise<Set<string>> {
  if (await referralListsReady()) {
    const parts = await Promise.all(
      OPEN_STATUSES.map((status) =>
        queryAll<{ upn: string }>({
          KeyConditionExpression: 'pk = :pk',
          ProjectionExpression: '#upn',
          ExpressionAttributeNames: { '#upn': 'upn' },
          ExpressionAttributeValues: { ':pk': k.referralList('STATUS', status) },
        }),
      ),
    );
    return new Set(parts.flat().map((i) => i.upn));
  }
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

/**
 * Every case holding a penalty notice still outstanding (issued, neither paid nor withdrawn, its
 * parent not prosecuted since): the only cases an unpaid notice can be on. Their own partition.
 */
export async function casesWithOutstandingNotices(): Promise<CaseWithActions[]> {
  const fields = ['id', 'upn', 'urn', 'status', 'parents', 'actions'];
  const names: Record<string, string> = { '#ev': 'evidence', '#pu': 'pupil' };
  for (const f of fields) names[`#f_${f}`] = f;
  const projection = [...fields.map((f) => `#f_${f}`), '#ev.#pu'].join(', ');
  const items = (await referralListsReady())
    ? await queryAll<CaseWithActions>({
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ':pk': k.referralList('NOTICES', 'outstanding') },
        ProjectionExpression: projection,
      })
    : await queryAll<CaseWithActions>({
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :pk',
        FilterExpression: 'size(#f_actions) > :none',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ':pk': k.referralsIndex, ':none': 0 },
        ProjectionExpression: projection,
      });
  return items
    .map((i) => ({ ...i, parents: i.parents ?? [], actions: i.actions ?? [] }))
    .filter((i) => hasOutstandingNotice(i));
}

/**
 * Give every case stored before the list partitions its entries (once per table: a marker records
 * it, and searches read gsi1 until then). Safe to run again, beside the service and beside another
 * run: each entry is written over older versions only, and each case's latest event is read after
 * its entries are written, moving them on if a change was being made meanwhile (`followEvents`).
 */
export async function indexReferralLists(
  options: { force?: boolean; onProgress?: (cases: number) => void } = {},
): Promise<{ cases: number; alreadyIndexed: boolean }> {
  if (!options.force && (await getItem(k.referralListsIndexed))) return { cases: 0, alreadyIndexed: true };
  let cases = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await queryFromKey<CaseItem>(
      {
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': k.referralsIndex },
        Limit: 100,
      },
      start,
    );
    await inParallel(page.items, 8, async (item) => {
      const referral = fromCaseItem(item);
      await writeEntries(undefined, referral);
      await followEvents(referral);
    });
    cases += page.items.length;
    options.onProgress?.(cases);
    start = page.lastKey;
  } while (start);
  await putItem({ ...k.referralListsIndexed, at: new Date().toISOString(), cases });
  return { cases, alreadyIndexed: false };
}
