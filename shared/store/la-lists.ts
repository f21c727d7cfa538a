/**
 * The LA lists as DynamoDB items (docs/design.md §7): one item per pupil per list partition, sorted
 * worst first, so "worst first, 50 a page" is one Query whatever the size of the LA. A list is a flag
 * type or `vs` (the Virtual School's roll); each has a
 * partition for the whole LA and one per school, cohort (ever in it this year), year group and for
 * the Virtual School's children, so every filter the list routes take is a key, not a scan.
 *
 * A day's writes follow what changed for the reader. The pupil's row (figures, flags) is held once, in
 * its LAROW item, and only while the pupil is listed somewhere: a pupil listed nowhere has no LAROW.
 * A list item holds the keys and the few attributes a filter left over reads, not the row; its sort key
 * is the absence rate as shown (one decimal place), so it is rewritten only when the pupil's place as
 * shown, its partitions or those attributes change. A page reads its rows' LAROWs in one batch.
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
    ...(row.yearGroup ? [{ kind: 'YG', value: row.yearGroup } as const] : []),
    ...(vs ? [{ kind: 'VS', value: 'all' } as const] : []),
  ];
  return lists.flatMap((list) => scopes.map((scope) => k.laList(year, list, scope)));
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
    const keep = new Set(parts.map((pk) => `${pk}\u0000${rowSk}`));
    // What may be listed: the held item's partitions, and (after a crash between the two) the earlier ones.
    const stale = new Map<string, Key>();
    if (old?.rowSk) for (const pk of old.parts) stale.set(`${pk}\u0000${old.rowSk}`, { pk, sk: old.rowSk });
    if (before.sk) for (const pk of before.parts) stale.set(`${pk}\u0000${before.sk}`, { pk, sk: before.sk });
    for (const [id, key] of stale) if (!keep.has(id)) deletes.push(key);
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
    // A list item the held LAROW claims, with the same sort key and filter attributes, is there already.
    const was = old?.row && old.rowSk === rowSk ? rowOf(old.row) : undefined;
    const unchanged = was && sameFilterAttributes(was, row) ? new Set(old!.parts) : new Set<string>();
    const attrs = filterAttributes(row);
    for (const pk of parts) if (!unchanged.has(pk)) puts.push({ pk, sk: rowSk, ...attrs });
    const json = JSON.stringify(row);
    if (old?.row === json && old.rowSk === rowSk && canonicalJson(old.parts) === canonicalJson(parts)) continue;
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
    });
  }
  await batchPut(puts);
  await batchPut(rowItems);
  await batchDelete([...deletes, ...dropNow]);
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
 * The partition that answers a filter (the narrowest key it names) and what is left to filter: one
 * school, else one cohort, else one year group, else the Virtual School's children, else the whole LA.
 */
export function laListQuery(
  year: number,
  list: string,
  f: LaListFilter,
): { pk: string; filter?: string; values: Record<string, unknown> } {
  const scope: LaListScope | undefined = f.urn
    ? { kind: 'URN', value: f.urn }
    : f.cohort
      ? { kind: 'COHORT', value: f.cohort }
      : f.yearGroup
        ? { kind: 'YG', value: f.yearGroup }
        : f.vs
          ? { kind: 'VS', value: 'all' }
          : undefined;
  const conditions: string[] = [];
  const values: Record<string, unknown> = { ':pk': k.laList(year, list, scope) };
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
  return {
    pk: k.laList(year, list, scope),
    ...(conditions.length ? { filter: conditions.join(' AND ') } : {}),
    values,
  };
}

/** What a page or a whole list reads of each item: its key and whose it is (the row is the pupil's LAROW). */
const KEY_ONLY = { ProjectionExpression: 'pk, sk, upn' } as const;

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
    return h && h.version === version && h.rowSk === i.sk && h.parts.includes(i.pk) ? h.row : undefined;
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
): Promise<{ rows: PupilRow[]; lastKey?: Record<string, unknown> }> {
  const q = laListQuery(year, list, f);
  const upns: Array<{ upn: string; pk: string; sk: string }> = [];
  let from = start;
  for (;;) {
    // One more than needed, so the last page says so. Without a filter left over this is one Query.
    const want = limit - upns.length + 1;
    const res = await queryFromKey<{ pk: string; sk: string; upn: string }>(
      {
        KeyConditionExpression: 'pk = :pk',
        ...(q.filter ? { FilterExpression: q.filter } : {}),
        ExpressionAttributeValues: q.values,
        ...KEY_ONLY,
        Limit: q.filter ? Math.max(want, 100) : want,
      },
      from,
    );
    for (const item of res.items) {
      if (upns.length === limit) return { rows: await pageRows(year, upns, await version), lastKey: from };
      upns.push(item);
      from = { pk: item.pk, sk: item.sk };
    }
    if (!res.lastKey) return { rows: await pageRows(year, upns, await version) };
    from = res.lastKey;
  }
}

/**
 * A whole list (a CSV export, or a list bounded by its nature: the Virtual School's roll), or several
 * lists as one (a pupil in two of them once, at its first place): each list's keys, then every row in
 * one batched read, so a pupil in several lists is read once.
 */
export async function laListAll(year: number, lists: string | readonly string[], f: LaListFilter): Promise<PupilRow[]> {
  const upns = new Set<string>();
  for (const list of typeof lists === 'string' ? [lists] : lists) {
    const q = laListQuery(year, list, f);
    const items = await queryAll<{ upn: string }>({
      KeyConditionExpression: 'pk = :pk',
      ...(q.filter ? { FilterExpression: q.filter } : {}),
      ExpressionAttributeValues: q.values,
      ...KEY_ONLY,
    });
    for (const i of items) upns.add(i.upn);
  }
  return rowsInOrder(year, [...upns], 'all');
}

/** How many rows a filtered list holds, when a filter is left over (two at once): reads the narrower partition. */
export async function laListCount(year: number, list: string, f: LaListFilter): Promise<number> {
  const q = laListQuery(year, list, f);
  let n = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const res = await queryFromKey<Record<string, unknown>>(
      {
        KeyConditionExpression: 'pk = :pk',
        ...(q.filter ? { FilterExpression: q.filter } : {}),
        ExpressionAttributeValues: q.values,
        ProjectionExpression: 'pk',
      },
      start,
    );
    n += res.items.length;
    start = res.lastKey;
  } while (start);
  return n;
}

/**
 * The page of a list after a client's cursor: the cursor is the signed key of the last row given,
 * bound to the query (`binding`: the query without its paging), so a cursor from another list,
 * another caller's partition or a forged one is refused (undefined). The total is `keptCount(pk)`
 * (the count the rollup keeps per partition) or, with a filter left over, a count of the partition.
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
  const { pk, filter: leftOver } = laListQuery(year, list, f);
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
  const held = version?.();
  // Awaited by the page after its Query; a failed read must not go unhandled until then.
  held?.catch(() => undefined);
  const [page, total] = await Promise.all([
    laListPage(year, list, f, limit, start, held),
    leftOver ? laListCount(year, list, f) : keptCount(pk),
  ]);
  return { rows: page.rows, nextCursor: page.lastKey ? encodeCursor({ pk, sk: page.lastKey.sk }, bound) : null, total };
}
