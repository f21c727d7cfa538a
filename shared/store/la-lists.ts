/**
 * The LA lists as DynamoDB items (docs/design.md §7), so "worst first, 50 a page" costs the same
 * whatever the size of the LA. A list is a flag type or `vs` (the Virtual School's roll). A pupil's
 * memberships (its `parts`) are the list's partition for the whole LA and one per school, cohort (ever
 * in it this year), year group (a pupil without one: a year group of its own, `k.laListNoYearGroup`)
 * and the Virtual School's children; what each holds (issue 17: items written only where a page needs
 * them):
 * - the rarer cohorts, year groups and the Virtual School: an item per pupil, sorted worst first (the
 *   rate as shown, then the UPN), so a page is one Query;
 * - the LA: no items of its own (issue 17, 8 December 2026: they were the year groups' items again).
 *   Each year group's item carries the list's LA partition as its gsi1 keys, at the same place, so the
 *   LA partition is that gsi1 partition and its page is one Query of the index (eventually consistent,
 *   as the base table's Query of the pages is);
 * - a school: an item per pupil sorted by UPN, so it does not move when the rate does. A school's list
 *   is bounded by its roll: a page reads the school's listed pupils' rows and sorts them;
 * - the commoner cohorts (`COUNTED_COHORTS`, each holding a large share of every list): no items, only a
 *   count in the rollup's aggregate. A page filters the LA partition (a large share matches, so a page
 *   reads a few times its rows' keys); the count of each of them with a year group is kept too, so every
 *   total the routes give is a kept count or a count of a partition bounded by a school, a rarer cohort
 *   or the Virtual School.
 *
 * A day's writes follow what changed for the reader. The pupil's row (figures, flags) is held once, in
 * its LAROW item, and only while the pupil is listed somewhere: a pupil listed nowhere has no LAROW.
 * A list item holds the keys and the few attributes a filter left over reads, not the row; in a sorted
 * partition its sort key is the absence rate as shown (one decimal place), so it is rewritten only when
 * the pupil's place as shown, its partitions or those attributes change. A page reads its rows' LAROWs
 * in one batch.
 *
 * Written only by the rollup (one ordered writer per year, the rollup FIFO group), only for the pupils
 * whose row changed. A pupil's LAROW item records the partitions it is listed in; under a retry
 * (at-least-once delivery, no transactions) it also records those it was in before the rollup that
 * wrote it (`seq`), so the lists' totals move exactly once. A pupil who leaves every list keeps a LAROW
 * without a row (a tombstone: what a retry needs) until the rollup's aggregate is written.
 *
 * The rows are stored as JSON strings, not maps: a string costs the SDK's marshalling and the engine
 * a fraction of a deep map.
 */
import { TABLE_SCHEMA } from '../config.js';
import { inVirtualSchool } from '../domain/access.js';
import { LruCache } from '../lib/versioned-cache.js';
import { absenceRateOf } from '../domain/la-view.js';
import type { PupilRow } from '../domain/school-view.js';
import { k, type LaListScope } from './keys.js';
import {
  batchDelete,
  batchGet,
  batchPut,
  canonicalJson,
  decodeCursor,
  encodeCursor,
  getItem,
  queryAll,
  queryFromKey,
  type Key,
} from './table.js';

export interface LaRowItem {
  upn: string;
  /** The row while the pupil is listed (as stored, JSON); absent in a tombstone. */
  row?: string;
  /** The version of the row applied (the highest wins when schools disagree), and the school it came from. */
  v: number;
  src: string;
  /** The list partitions it is listed in, and its sort key in each. */
  parts: string[];
  rowSk?: string;
  /** The rollup (aggregate version) that wrote it, and the partitions it was in before that rollup. */
  seq: number;
  prevParts: string[];
  prevSk?: string;
  /**
   * Its year groups' items carry the LA index keys (written since 8 December 2026): items claimed by a
   * LAROW without it are not "unchanged", they are put again (with the keys) and the LAROW rewritten.
   */
  ix?: 1;
}

/** What one rollup carries per pupil across its schools (shared/app/rollup.ts turns it into count changes). */
export interface LaRowBaseline {
  /** The partitions (and sort key) before this rollup. */
  parts: string[];
  sk?: string;
  /** The partitions now. */
  now: string[];
  /** The version and school of the row applied in this rollup (a pupil listed nowhere has no LAROW to say so). */
  v?: number;
  src?: string;
  /** A tombstone was written: delete the LAROW once the rollup's aggregate is written. */
  tombstone?: boolean;
}

/** The partitions a row belongs in. */
export function laListPartitions(year: number, row: PupilRow): string[] {
  // (Empty exactly when listedInLaLists(row) is false: shared/app/rollup.ts relies on it.)
  const lists = [...new Set(row.flags.map((f) => f.type as string))];
  const vs = inVirtualSchool(row.everCohorts);
  if (vs) lists.push('vs');
  const scopes: Array<LaListScope | undefined> = [
    undefined,
    ...row.urns.map((u) => ({ kind: 'URN', value: u }) as const),
    ...row.everCohorts.map((c) => ({ kind: 'COHORT', value: c }) as const),
    // Every pupil is in one year group's partition (its items are the LA partition's, gsi1).
    { kind: 'YG', value: row.yearGroup || k.laListNoYearGroup },
    ...(vs ? [{ kind: 'VS', value: 'all' } as const] : []),
  ];
  return lists.flatMap((list) => scopes.map((scope) => k.laList(year, list, scope)));
}

/**
 * The cohorts whose partitions would hold a large share of every list (docs/decisions.md, issue 17):
 * counted, not written. The others (EHCP, children in need, on a protection plan, looked after,
 * previously looked after, with a social worker) keep partitions, so their pages stay one Query.
 */
export const COUNTED_COHORTS: ReadonlySet<string> = new Set(['fsm', 'sen_support', 'sen_none']);

/**
 * Whether a partition holds items, and in which order: none (a count only), by UPN (a school), worst
 * first, or none of its own but its year groups' items by gsi1 (the LA's), worst first.
 */
export function partitionKind(pk: string): 'counted' | 'byUpn' | 'worstFirst' | 'indexed' {
  const { scope } = k.parseLaList(pk);
  if (!scope) return 'indexed';
  if (scope.kind === 'URN') return 'byUpn';
  if (scope.kind === 'COHORT' && COUNTED_COHORTS.has(scope.value)) return 'counted';
  return 'worstFirst';
}

/** The item a pupil has in partition `pk` (none in a counted one, nor in the LA's: its year group's is indexed). */
function listItemKey(pk: string, rowSk: string, upn: string): Key | undefined {
  const kind = partitionKind(pk);
  if (kind === 'counted' || kind === 'indexed') return undefined;
  return { pk, sk: kind === 'byUpn' ? k.laListSchoolSort(upn) : rowSk };
}

/** A year group's item: the one that carries the list's LA partition as its gsi1 keys. */
const isYearGroupItem = (key: Key) => k.parseLaList(key.pk).scope?.kind === 'YG';

/** The index keys an item is written with: a year group's, its list's LA partition at its own place. */
const indexKeysOf = (key: Key) => (isYearGroupItem(key) ? k.laListIndexKeys(key.pk, key.sk) : {});

/**
 * The counts a pupil's partitions move in the aggregate: each partition, and each counted cohort with
 * the year group, of the same list (the total of a page filtered by both).
 */
export function laListCountKeys(parts: readonly string[]): string[] {
  const byList = new Map<string, { year: string; cohorts: string[]; yg?: string }>();
  for (const pk of parts) {
    const { list, scope } = k.parseLaList(pk);
    const at = byList.get(list) ?? { year: pk.split('#')[1], cohorts: [] };
    byList.set(list, at);
    if (scope?.kind === 'COHORT' && COUNTED_COHORTS.has(scope.value)) at.cohorts.push(scope.value);
    // (A pupil without a year group has no pair: no filter names its year group.)
    if (scope?.kind === 'YG' && scope.value !== k.laListNoYearGroup) at.yg = scope.value;
  }
  const pairs: string[] = [];
  for (const [list, { year, cohorts, yg }] of byList)
    if (yg) for (const c of cohorts) pairs.push(k.laListPairCount(Number(year), list, c, yg));
  return [...parts, ...pairs];
}

/**
 * A LAROW item as stored: `prevParts` only when they differ from `parts` (mostly they do not, and they
 * are most of the item's bytes: under 1 KB it is one write unit); items written before tombstones have
 * no `v` (their row's).
 */
type StoredLaRow = Omit<LaRowItem, 'v' | 'prevParts'> & { v?: number; prevParts?: string[] };

const rowOf = (stored: string): PupilRow => JSON.parse(stored) as PupilRow;

function laRowOf(item: StoredLaRow): LaRowItem {
  return {
    ...item,
    v: item.v ?? (item.row ? rowOf(item.row).v : 0),
    prevParts: item.prevParts ?? item.parts,
  };
}

/** The partitions before, as stored: only when they differ from those now. */
const prevPartsOf = (before: string[], parts: string[]) =>
  canonicalJson(before) === canonicalJson(parts) ? {} : { prevParts: before };

/** What a filter left over (two at once) reads of a list item: the same for every partition of a pupil. */
function filterAttributes(row: PupilRow) {
  return {
    upn: row.upn,
    everCohorts: row.everCohorts,
    ...(row.yearGroup ? { yearGroup: row.yearGroup } : {}),
    vs: inVirtualSchool(row.everCohorts),
  };
}

/** Whether a list item written from `before` reads the same as one written from `row` under a filter. */
const sameFilterAttributes = (before: PupilRow, row: PupilRow) =>
  canonicalJson(filterAttributes(before)) === canonicalJson(filterAttributes(row));

/**
 * Whether `row` from school `urn` replaces the row held (the highest version wins, as in the merge it
 * replaces): the one applied earlier in this rollup, else the LAROW (a tombstone too).
 */
function replaces(held: { v?: number; src?: string } | undefined, row: PupilRow, urn: string): boolean {
  return held?.v === undefined || row.v > held.v || (row.v === held.v && held.src === urn);
}

/**
 * Apply one school's changed rows to the LA lists. `baselines` carries, across the schools of one
 * rollup, each pupil's partitions as they stood before it; the caller turns them into count changes,
 * and deletes the tombstones once its aggregate is written.
 *
 * Order: list items put, then the LAROWs that record them, then the items they no longer claim
 * deleted. So the items a LAROW claims always exist (an item it claims unchanged is not written
 * again), and a retry finds each LAROW as it was or as written.
 */
export async function applyLaRows(
  year: number,
  urn: string,
  rows: readonly PupilRow[],
  seq: number,
  baselines: Map<string, LaRowBaseline>,
): Promise<void> {
  if (rows.length === 0) return;
  const held = new Map(
    (await batchGet<StoredLaRow & Key>(rows.map((r) => k.laRow(r.upn, year)))).map((i) => [i.upn, laRowOf(i)]),
  );
  const puts: Array<Key & object> = [];
  const deletes: Key[] = [];
  const rowItems: Array<Key & StoredLaRow> = [];
  const dropNow: Key[] = [];
  for (const row of rows) {
    const old = held.get(row.upn);
    const seen = baselines.get(row.upn);
    if (!replaces(seen ?? old, row, urn)) continue;
    const parts = laListPartitions(year, row);
    const rowSk = parts.length ? k.laListSort(absenceRateOf(row), row.upn) : undefined;
    // Before this rollup: from an earlier school in it, or from the item a crashed attempt of it wrote.
    const before =
      seen ??
      (old && old.seq === seq ? { parts: old.prevParts, sk: old.prevSk } : { parts: old?.parts ?? [], sk: old?.rowSk });
    const baseline: LaRowBaseline = { parts: before.parts, sk: before.sk, now: parts, v: row.v, src: urn };
    baselines.set(row.upn, baseline);
    const items = rowSk ? itemsOf(parts, rowSk, row.upn) : new Map<string, Key>();
    // What may be listed: the held item's partitions, and (after a crash between the two) the earlier ones.
    const stale = new Map<string, Key>();
    if (old?.rowSk) for (const [id, key] of itemsOf(old.parts, old.rowSk, row.upn)) stale.set(id, key);
    if (before.sk) for (const [id, key] of itemsOf(before.parts, before.sk, row.upn)) stale.set(id, key);
    // A LAROW written before the LA partition was gsi1 (no `ix`) claims items in it too: deleted.
    if (old?.rowSk && !old.ix)
      for (const pk of old.parts)
        if (partitionKind(pk) === 'indexed') stale.set(`${pk}\u0000${old.rowSk}`, { pk, sk: old.rowSk });
    for (const [id, key] of stale) if (!items.has(id)) deletes.push(key);
    if (!rowSk) {
      // Listed nowhere: no LAROW, except a tombstone while a retry of this rollup may need what it records.
      if (old && (old.parts.length > 0 || old.seq === seq || before.parts.length > 0)) {
        rowItems.push({
          ...k.laRow(row.upn, year),
          upn: row.upn,
          v: row.v,
          src: urn,
          parts: [],
          seq,
          ...prevPartsOf(before.parts, []),
          ...(before.sk ? { prevSk: before.sk } : {}),
        });
        baseline.tombstone = true;
      } else if (old) {
        // A tombstone of an earlier rollup (its aggregate is written: nothing in it is needed now).
        dropNow.push(k.laRow(row.upn, year));
      }
      continue;
    }
    // A list item the held LAROW claims, with the same key and filter attributes, is there already (a
    // school's item whatever the rate: its key is the UPN).
    // A year group's item written before the index keys (a LAROW without `ix`) is put again with them.
    const was = old?.row && old.rowSk ? rowOf(old.row) : undefined;
    const unchanged = was && sameFilterAttributes(was, row) ? itemsOf(old!.parts, old!.rowSk!, row.upn) : new Map();
    if (!old?.ix) for (const [id, key] of unchanged) if (isYearGroupItem(key)) unchanged.delete(id);
    const attrs = filterAttributes(row);
    for (const [id, key] of items) if (!unchanged.has(id)) puts.push({ ...key, ...attrs, ...indexKeysOf(key) });
    const json = JSON.stringify(row);
    if (old?.row === json && old.rowSk === rowSk && old.ix && canonicalJson(old.parts) === canonicalJson(parts))
      continue;
    rowItems.push({
      ...k.laRow(row.upn, year),
      upn: row.upn,
      row: json,
      v: row.v,
      src: urn,
      parts,
      rowSk,
      seq,
      ...prevPartsOf(before.parts, parts),
      ...(before.sk ? { prevSk: before.sk } : {}),
      ix: 1,
    });
  }
  await batchPut(puts);
  await batchPut(rowItems);
  await batchDelete([...deletes, ...dropNow]);
}

/** The items of a pupil's partitions, by an id of their key. */
function itemsOf(parts: readonly string[], rowSk: string, upn: string): Map<string, Key> {
  const out = new Map<string, Key>();
  for (const pk of parts) {
    const key = listItemKey(pk, rowSk, upn);
    if (key) out.set(`${key.pk}\u0000${key.sk}`, key);
  }
  return out;
}

/** Delete the tombstones of pupils who left every list, once the rollup that wrote them has written its aggregate. */
export async function dropLaRows(year: number, upns: readonly string[]): Promise<void> {
  await batchDelete(upns.map((u) => k.laRow(u, year)));
}

/** The LA rows of these pupils (absent: listed in no LA list this year). */
export async function getLaRows(year: number, upns: readonly string[]): Promise<Map<string, PupilRow>> {
  const items = await batchGet<StoredLaRow & Key>(upns.map((u) => k.laRow(u, year)));
  return new Map(items.flatMap((i) => (i.row ? [[i.upn, rowOf(i.row)] as const] : [])));
}

export interface LaListFilter {
  urn?: string;
  cohort?: string;
  yearGroup?: string;
  /** Only the Virtual School's children. */
  vs?: boolean;
}

/**
 * The partition that answers a filter and what is left to filter: one school, else one of the rarer
 * cohorts, else the Virtual School's children, else one year group, else the whole LA (a counted
 * cohort is always a filter left over). `count` is the key of the count the rollup keeps for exactly
 * this filter, when there is one (else the total is a count of the partition, which is then bounded:
 * a school's, a rarer cohort's or the Virtual School's). `byUpn`: the partition is a school's, by UPN.
 */
export function laListQuery(
  year: number,
  list: string,
  f: LaListFilter,
): { pk: string; filter?: string; values: Record<string, unknown>; count?: string; byUpn?: boolean } {
  const counted = f.cohort !== undefined && COUNTED_COHORTS.has(f.cohort);
  const scope: LaListScope | undefined = f.urn
    ? { kind: 'URN', value: f.urn }
    : f.cohort && !counted
      ? { kind: 'COHORT', value: f.cohort }
      : f.vs
        ? { kind: 'VS', value: 'all' }
        : f.yearGroup
          ? { kind: 'YG', value: f.yearGroup }
          : undefined;
  const pk = k.laList(year, list, scope);
  const conditions: string[] = [];
  const values: Record<string, unknown> = { ':pk': pk };
  if (f.cohort && scope?.kind !== 'COHORT') {
    conditions.push('contains(everCohorts, :cohort)');
    values[':cohort'] = f.cohort;
  }
  if (f.yearGroup && scope?.kind !== 'YG') {
    conditions.push('yearGroup = :yg');
    values[':yg'] = f.yearGroup;
  }
  if (f.vs && scope?.kind !== 'VS') {
    conditions.push('vs = :vs');
    values[':vs'] = true;
  }
  const count =
    conditions.length === 0
      ? pk
      : counted && !f.urn && !f.vs
        ? f.yearGroup
          ? k.laListPairCount(year, list, f.cohort!, f.yearGroup)
          : k.laList(year, list, { kind: 'COHORT', value: f.cohort! })
        : undefined;
  return {
    pk,
    ...(conditions.length ? { filter: conditions.join(' AND ') } : {}),
    values,
    ...(count ? { count } : {}),
    ...(scope?.kind === 'URN' ? { byUpn: true } : {}),
  };
}

/** What a page or a whole list reads of each item: its key and whose it is (the row is the pupil's LAROW). */
const KEY_ONLY = { ProjectionExpression: 'pk, sk, upn' } as const;

/**
 * How a partition is read, from its start or after a place (its sort key, unique in the partition: it
 * ends with the UPN): the LA's is gsi1 (its year groups' items, whose gsi1 sort key is their own sort
 * key), every other the table. An item read from the index is its year group's (`pk`, `sk` as stored).
 */
function partitionQuery(q: ReturnType<typeof laListQuery>, after?: string) {
  const indexed = partitionKind(q.pk) === 'indexed';
  const { partitionKey, sortKey } = indexed ? TABLE_SCHEMA.gsi1 : { partitionKey: 'pk', sortKey: 'sk' };
  return {
    ...(indexed ? { IndexName: TABLE_SCHEMA.gsi1.name } : {}),
    KeyConditionExpression:
      after === undefined ? `${partitionKey} = :pk` : `${partitionKey} = :pk AND ${sortKey} > :after`,
    ...(q.filter ? { FilterExpression: q.filter } : {}),
    ExpressionAttributeValues: after === undefined ? q.values : { ...q.values, ':after': after },
  };
}

/** The place (sort key) of the last item a query of the partition evaluated. */
const placeOfKey = (q: ReturnType<typeof laListQuery>, key: Record<string, unknown>) =>
  String(partitionKind(q.pk) === 'indexed' ? key[TABLE_SCHEMA.gsi1.sortKey] : key.sk);

/**
 * The rows of listed pupils, in the order given: one batch of their LAROWs. A pupil whose LAROW holds
 * no row (a rollup between writing its list items and its LAROW) is left out.
 */
async function rowsInOrder(year: number, upns: readonly string[], read: 'page' | 'all'): Promise<PupilRow[]> {
  const keys = upns.map((u) => k.laRow(u, year));
  // A page's reads go with whatever else is being read in the same turn (shared/store/table.ts getItem);
  // a whole list in batches of 100, a few at a time.
  const items =
    read === 'page'
      ? await Promise.all(keys.map((key) => getItem<StoredLaRow>(key, false)))
      : await batchGet<StoredLaRow>(keys).then((got) => {
          const byUpn = new Map(got.map((i) => [i.upn, i]));
          return upns.map((u) => byUpn.get(u));
        });
  return items.flatMap((i) => (i?.row ? [rowOf(i.row)] : []));
}

/** A row's place in a list sorted worst first (the sort key its items have there). */
const placeOf = (row: PupilRow) => k.laListSort(absenceRateOf(row), row.upn);

/** Rows worst first, as the sorted partitions hold them. */
const worstFirst = (rows: PupilRow[]) =>
  rows
    .map((r) => [placeOf(r), r] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, r]) => r);

/** Every item of a partition that passes the filter left over (its keys and UPNs, in the partition's order). */
function partitionItems(q: ReturnType<typeof laListQuery>): Promise<Array<{ upn: string; pk: string; sk: string }>> {
  return queryAll<{ upn: string; pk: string; sk: string }>({ ...partitionQuery(q), ...KEY_ONLY });
}

/** The UPNs of every item of a partition that passes the filter left over, in the partition's order. */
async function partitionUpns(q: ReturnType<typeof laListQuery>): Promise<string[]> {
  return (await partitionItems(q)).map((i) => i.upn);
}

/**
 * A page's rows held per process (issue 17): a LAROW read (strongly consistent) after the LA figures'
 * pointer said version V, and written by a rollup no later than V (its `seq`), is V's row. It answers
 * a later page while the pointer still says V and the list item just read is one the LAROW claims
 * (its partition, its sort key), without reading it again. A rollup writes the list items and LAROWs
 * before it moves the pointer, so a row it is still writing has a later `seq` and is not held. The
 * rows held are shared: not to be changed by their readers.
 */
const HELD_ROWS = 20_000;
const heldRows = new LruCache<string, { version: number; parts: readonly string[]; rowSk?: string; row: PupilRow }>(
  HELD_ROWS,
);

/** Forget the rows held (tests: a process started afresh). */
export function forgetHeldLaRows(): void {
  heldRows.clear();
}

async function pageRows(
  year: number,
  listed: ReadonlyArray<{ upn: string; pk: string; sk: string }>,
  version: number | undefined,
): Promise<PupilRow[]> {
  if (version === undefined)
    return rowsInOrder(
      year,
      listed.map((i) => i.upn),
      'page',
    );
  const held = listed.map((i) => {
    const h = heldRows.get(`${year}#${i.upn}`);
    // A school's partition is by UPN: its items carry no place, so the partition alone is matched.
    const placed = partitionKind(i.pk) === 'byUpn' || h?.rowSk === i.sk;
    return h && h.version === version && placed && h.parts.includes(i.pk) ? h.row : undefined;
  });
  // The others: sent after the pointer was answered (so at least as new as it), strongly consistent.
  const read = await Promise.all(
    listed.map((i, n) => (held[n] ? Promise.resolve(undefined) : getItem<StoredLaRow>(k.laRow(i.upn, year), true))),
  );
  return listed.flatMap((i, n) => {
    if (held[n]) return [held[n]];
    const item = read[n];
    if (!item?.row) return [];
    const row = rowOf(item.row);
    if (item.seq <= version)
      heldRows.set(`${year}#${i.upn}`, {
        version,
        parts: item.parts,
        ...(item.rowSk ? { rowSk: item.rowSk } : {}),
        row,
      });
    return [row];
  });
}

/** One page of a list, worst first: `limit` rows (fewer only at the end) and the key after them, if more follow. */
export async function laListPage(
  year: number,
  list: string,
  f: LaListFilter,
  limit: number,
  start?: Record<string, unknown>,
  /** The LA figures' version, read beside the page's Query: rows held under it are not read again. */
  version?: Promise<number | undefined>,
): Promise<{ rows: PupilRow[]; lastKey?: Record<string, unknown>; matched?: number }> {
  const q = laListQuery(year, list, f);
  if (q.byUpn) {
    // A school's share of the list (bounded by its roll): every row it lists, sorted, cut after the key
    // given; rows held under the LA figures' version are not read again (issue 17, 7–8 December night:
    // each school page read every row its school lists).
    const listed = await partitionItems(q);
    const rows = worstFirst(
      version
        ? await pageRows(year, listed, await version)
        : await rowsInOrder(
            year,
            listed.map((i) => i.upn),
            'page',
          ),
    );
    const after = typeof start?.sk === 'string' ? start.sk : undefined;
    const rest = after === undefined ? rows : rows.filter((r) => placeOf(r) > after);
    const page = rest.slice(0, limit);
    return {
      rows: page,
      ...(rest.length > limit ? { lastKey: { pk: q.pk, sk: placeOf(page[page.length - 1]) } } : {}),
      matched: rows.length,
    };
  }
  const upns: Array<{ upn: string; pk: string; sk: string }> = [];
  // After a place, not from a key: the LA partition is gsi1, whose keys a cursor does not carry.
  let after = typeof start?.sk === 'string' ? start.sk : undefined;
  // The place of the last row given (the cursor's).
  let given = after;
  for (;;) {
    // One more than needed, so the last page says so. Without a filter left over this is one Query.
    const want = limit - upns.length + 1;
    const res = await queryFromKey<{ pk: string; sk: string; upn: string }>({
      ...partitionQuery(q, after),
      ...KEY_ONLY,
      Limit: q.filter ? Math.max(want, 100) : want,
    });
    for (const item of res.items) {
      if (upns.length === limit)
        return { rows: await pageRows(year, upns, await version), lastKey: { pk: q.pk, sk: given } };
      upns.push(item);
      // (An item's sort key is its place in the LA partition too: a year group's gsi1sk is its sk.)
      after = given = item.sk;
    }
    if (!res.lastKey) return { rows: await pageRows(year, upns, await version) };
    after = placeOfKey(q, res.lastKey);
  }
}

/**
 * A whole list (a CSV export, or a list bounded by its nature: the Virtual School's roll), or several
 * lists as one (a pupil in two of them once, at its first place): each list's keys, then every row in
 * one batched read, so a pupil in several lists is read once; each list worst first.
 */
export async function laListAll(year: number, lists: string | readonly string[], f: LaListFilter): Promise<PupilRow[]> {
  const perList: Array<{ upns: string[]; byUpn: boolean }> = [];
  for (const list of typeof lists === 'string' ? [lists] : lists) {
    const q = laListQuery(year, list, f);
    perList.push({ upns: await partitionUpns(q), byUpn: q.byUpn === true });
  }
  const upns = new Set(perList.flatMap((l) => l.upns));
  const rows = await rowsInOrder(year, [...upns], 'all');
  if (!perList.some((l) => l.byUpn)) return rows;
  // A school's partitions are by UPN: each list's rows are put worst first here.
  const byUpn = new Map(rows.map((r) => [r.upn, r]));
  const out = new Map<string, PupilRow>();
  for (const l of perList) {
    const held = l.upns.flatMap((u) => (byUpn.has(u) ? [byUpn.get(u)!] : []));
    for (const r of l.byUpn ? worstFirst(held) : held) if (!out.has(r.upn)) out.set(r.upn, r);
  }
  return [...out.values()];
}

/** How many rows a filtered list holds, when no count is kept for the filter: reads the (bounded) partition. */
export async function laListCount(year: number, list: string, f: LaListFilter): Promise<number> {
  const q = laListQuery(year, list, f);
  let n = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const res = await queryFromKey<Record<string, unknown>>(
      { ...partitionQuery(q), ProjectionExpression: 'pk' },
      start,
    );
    n += res.items.length;
    start = res.lastKey;
  } while (start);
  return n;
}

/**
 * The page of a list after a client's cursor: the cursor is the signed key of the last row given
 * (its place worst first), bound to the query (`binding`: the query without its paging), so a cursor
 * from another list, another caller's partition or a forged one is refused (undefined). The total is
 * `keptCount` of the filter's count (the counts the rollup keeps), else a count of the bounded
 * partition (a school's page counts the rows it read). A filter whose kept count is 0 reads nothing:
 * a counted cohort's page filters the LA partition, which it must not scan for nothing.
 */
export async function laListPageAfter(
  year: number,
  list: string,
  f: LaListFilter,
  limit: number,
  cursor: string | undefined,
  binding: Record<string, unknown>,
  keptCount: (pk: string) => Promise<number>,
  /** The LA figures' version (its pointer), for the rows held per process; without it every row is read. */
  version?: () => Promise<number | undefined>,
): Promise<{ rows: PupilRow[]; nextCursor: string | null; total: number } | undefined> {
  const bound = `lalist:${year}|${canonicalJson(binding)}`;
  const { pk, count, byUpn } = laListQuery(year, list, f);
  let start: Record<string, unknown> | undefined;
  if (cursor) {
    let parsed: Record<string, unknown> | undefined;
    try {
      parsed = decodeCursor(cursor, bound);
    } catch {
      parsed = undefined;
    }
    if (!parsed || parsed.pk !== pk || typeof parsed.sk !== 'string') return undefined;
    start = { pk, sk: parsed.sk };
  }
  if (byUpn) {
    const held = version?.();
    held?.catch(() => undefined);
    const page = await laListPage(year, list, f, limit, start, held);
    const next = page.lastKey ? encodeCursor({ pk, sk: page.lastKey.sk }, bound) : null;
    return { rows: page.rows, nextCursor: next, total: page.matched ?? page.rows.length };
  }
  const held = version?.();
  // Awaited by the page after its Query; a failed read must not go unhandled until then.
  held?.catch(() => undefined);
  if (count && count !== pk) {
    // A counted cohort: the count first, so an empty one reads no list item.
    const total = await keptCount(count);
    if (total === 0) return { rows: [], nextCursor: null, total };
    const page = await laListPage(year, list, f, limit, start, held);
    return {
      rows: page.rows,
      nextCursor: page.lastKey ? encodeCursor({ pk, sk: page.lastKey.sk }, bound) : null,
      total,
    };
  }
  const [page, total] = await Promise.all([
    laListPage(year, list, f, limit, start, held),
    count ? keptCount(count) : laListCount(year, list, f),
  ]);
  return { rows: page.rows, nextCursor: page.lastKey ? encodeCursor({ pk, sk: page.lastKey.sk }, bound) : null, total };
}
