/**
 * The LA lists as DynamoDB items (docs/design.md §7): one item per pupil per list partition, sorted
 * worst first, so "worst first, 50 a page" is one Query whatever the size of the LA. A list is a flag
 * type, `suggest` (a flag that can make a referral suggestion) or `vs` (the Virtual School's roll); each has a
 * partition for the whole LA and one per school, cohort (ever in it this year), year group and for
 * the Virtual School's children, so every filter the list routes take is a key, not a scan.
 *
 * Written only by the rollup (one ordered writer per year, the rollup FIFO group), only for the pupils
 * whose row changed. A pupil's LAROW item records the partitions it is listed in; under a retry
 * (at-least-once delivery, no transactions) it also records those it was in before the rollup that
 * wrote it (`seq`), so the lists' totals move exactly once.
 *
 * The row copies are stored as JSON strings, not maps: every changed row is written to several
 * items a day, and a string costs the SDK's marshalling and the engine a fraction of a deep map.
 */
import { inVirtualSchool } from '../domain/access.js';
import { absenceRateOf } from '../domain/la-view.js';
import { SUGGESTION_FLAGS } from '../domain/referrals.js';
import type { PupilRow } from '../domain/school-view.js';
import { k, type LaListScope } from './keys.js';
import {
  batchDelete,
  batchGet,
  batchPut,
  canonicalJson,
  decodeCursor,
  encodeCursor,
  queryAll,
  queryFromKey,
  type Key,
} from './table.js';

export interface LaRowItem {
  upn: string;
  row: PupilRow;
  /** The school whose view the row came from (rows of equal version from the same school replace). */
  src: string;
  /** The list partitions it is listed in, and its sort key in each. */
  parts: string[];
  rowSk: string;
  /** The rollup (aggregate version) that wrote it, and the partitions it was in before that rollup. */
  seq: number;
  prevParts: string[];
  prevSk?: string;
}

/** The partitions a row belongs in. */
export function laListPartitions(year: number, row: PupilRow): string[] {
  const lists = [...new Set(row.flags.map((f) => f.type as string))];
  if (row.flags.some((f) => SUGGESTION_FLAGS.has(f.type))) lists.push('suggest');
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

/** A LAROW item as stored: the row as JSON. */
type StoredLaRow = Omit<LaRowItem, 'row'> & { row: string };

const rowOf = (stored: string): PupilRow => JSON.parse(stored) as PupilRow;

function laRowOf(item: StoredLaRow): LaRowItem {
  return { ...item, row: rowOf(item.row) };
}

/** A list item: the row as JSON, and beside it what a filter left over (two at once) reads. */
function listItem(pk: string, sk: string, row: PupilRow, json: string) {
  return {
    pk,
    sk,
    upn: row.upn,
    urns: row.urns,
    everCohorts: row.everCohorts,
    yearGroup: row.yearGroup,
    vs: inVirtualSchool(row.everCohorts),
    row: json,
  };
}

/** Whether `row` from school `urn` replaces the row held (the highest version wins, as in the merge it replaces). */
function replaces(held: LaRowItem | undefined, row: PupilRow, urn: string): boolean {
  return !held || row.v > held.row.v || (row.v === held.row.v && held.src === urn);
}

/**
 * Apply one school's changed rows to the LA lists. `baselines` carries, across the schools of one
 * rollup, each pupil's partitions as they stood before it; the caller turns them into count changes.
 */
export async function applyLaRows(
  year: number,
  urn: string,
  rows: readonly PupilRow[],
  seq: number,
  baselines: Map<string, { parts: string[]; sk?: string; now: string[] }>,
): Promise<void> {
  if (rows.length === 0) return;
  const held = new Map(
    (await batchGet<StoredLaRow & Key>(rows.map((r) => k.laRow(r.upn, year)))).map((i) => [i.upn, laRowOf(i)]),
  );
  const puts: Array<Key & object> = [];
  const deletes: Key[] = [];
  const rowItems: Array<Key & StoredLaRow> = [];
  for (const row of rows) {
    const old = held.get(row.upn);
    if (!replaces(old, row, urn)) continue;
    const parts = laListPartitions(year, row);
    const rowSk = k.laListSort(absenceRateOf(row), row.upn);
    // Before this rollup: from an earlier school in it, or from the item a crashed attempt of it wrote.
    const before =
      baselines.get(row.upn) ??
      (old && old.seq === seq ? { parts: old.prevParts, sk: old.prevSk } : { parts: old?.parts ?? [], sk: old?.rowSk });
    baselines.set(row.upn, { parts: before.parts, sk: before.sk, now: parts });
    const keep = new Set(parts.map((pk) => `${pk}\u0000${rowSk}`));
    // What may be listed: the held item's partitions, and (after a crash between the two) the earlier ones.
    const stale = new Map<string, Key>();
    for (const pk of old?.parts ?? []) stale.set(`${pk}\u0000${old!.rowSk}`, { pk, sk: old!.rowSk });
    if (before.sk) for (const pk of before.parts) stale.set(`${pk}\u0000${before.sk}`, { pk, sk: before.sk });
    for (const [id, key] of stale) if (!keep.has(id)) deletes.push(key);
    const json = JSON.stringify(row);
    for (const pk of parts) puts.push(listItem(pk, rowSk, row, json));
    rowItems.push({
      ...k.laRow(row.upn, year),
      upn: row.upn,
      row: json,
      src: urn,
      parts,
      rowSk,
      seq,
      prevParts: before.parts,
      ...(before.sk ? { prevSk: before.sk } : {}),
    });
  }
  // The list items first, then the rows that record them: a retry finds the row as it was, or as written.
  await batchDelete(deletes);
  await batchPut(puts);
  await batchPut(rowItems);
}

/** The LA rows of these pupils (absent: in no school's view this year). */
export async function getLaRows(year: number, upns: readonly string[]): Promise<Map<string, PupilRow>> {
  const items = await batchGet<StoredLaRow & Key>(upns.map((u) => k.laRow(u, year)));
  return new Map(items.map((i) => [i.upn, rowOf(i.row)]));
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

/**
 * What a page or a whole list reads of each item: its key and the row. The filter attributes the
 * item also carries are left in DynamoDB (the units are the same; half the attributes to decode).
 */
const ROW_ONLY = { ProjectionExpression: 'pk, sk, #row', ExpressionAttributeNames: { '#row': 'row' } } as const;

/** One page of a list, worst first: `limit` rows (fewer only at the end) and the key after them, if more follow. */
export async function laListPage(
  year: number,
  list: string,
  f: LaListFilter,
  limit: number,
  start?: Record<string, unknown>,
): Promise<{ rows: PupilRow[]; lastKey?: Record<string, unknown> }> {
  const q = laListQuery(year, list, f);
  const rows: PupilRow[] = [];
  let from = start;
  for (;;) {
    // One more than needed, so the last page says so. Without a filter left over this is one Query.
    const want = limit - rows.length + 1;
    const res = await queryFromKey<{ pk: string; sk: string; row: string }>(
      {
        KeyConditionExpression: 'pk = :pk',
        ...(q.filter ? { FilterExpression: q.filter } : {}),
        ExpressionAttributeValues: q.values,
        ...ROW_ONLY,
        Limit: q.filter ? Math.max(want, 100) : want,
      },
      from,
    );
    for (const item of res.items) {
      if (rows.length === limit) return { rows, lastKey: from };
      rows.push(rowOf(item.row));
      from = { pk: item.pk, sk: item.sk };
    }
    if (!res.lastKey) return { rows };
    from = res.lastKey;
  }
}

/** A whole list (a CSV export, or a list bounded by its nature: the Virtual School's roll). */
export async function laListAll(year: number, list: string, f: LaListFilter): Promise<PupilRow[]> {
  const q = laListQuery(year, list, f);
  const items = await queryAll<{ row: string }>({
    KeyConditionExpression: 'pk = :pk',
    ...(q.filter ? { FilterExpression: q.filter } : {}),
    ExpressionAttributeValues: q.values,
    ...ROW_ONLY,
  });
  return items.map((i) => rowOf(i.row));
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
  const [page, total] = await Promise.all([
    laListPage(year, list, f, limit, start),
    leftOver ? laListCount(year, list, f) : keptCount(pk),
  ]);
  return { rows: page.rows, nextCursor: page.lastKey ? encodeCursor({ pk, sk: page.lastKey.sk }, bound) : null, total };
}
