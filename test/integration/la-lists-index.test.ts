/**
 * The LA partition of each list served from the year groups' items (issue 17, 8 December 2026;
 * docs/decisions.md): no item of its own, each year group's item carrying the list's LA partition as
 * its gsi1 keys at its own place, a pupil without a year group in a year group of its own. The LA's
 * pages (plain and a counted cohort's), its cursor walk and its CSV give the rows worst first, equal
 * rates as shown by UPN, with the kept totals; a year group's pages the same rows of that year group;
 * a rollup retried after a crash between its writes leaves the items and totals exact; a year group's
 * item written before the index keys is put again with them.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../../shared/store/clients.js';
import { k } from '../../shared/store/keys.js';
import { forgetHeldLaRows, partitionKind } from '../../shared/store/la-lists.js';
import * as table from '../../shared/store/table.js';
import { startTestService, type TestService } from './harness.js';
import { returnCsv, upnFor, weekdays, type ReturnRowInput } from '../support/returns.js';

const [A, B] = ['178201', '178202'];
const YEAR = 2025;
const YEAR_RANGE = 'from=2025-08-01&to=2026-07-31';
const DAYS = weekdays('2025-09-01', '2025-09-30');
const TEN = DAYS.slice(0, 10);
const PUPILS = Array.from({ length: 12 }, (_, i) => upnFor(i + 1, '999', '7821'));
/** Pupils 3 and 8 have no year group. */
const NO_YEAR_GROUP = new Set([3, 8]);
let svc: TestService;

/** Pupil i: absent 2 + ⌊i / 3⌋ of 20 sessions (10 % to 25 %, all persistently absent): three at each rate, a tie. */
function rowsOf(i: number, dates: string[], absent: number): ReturnRowInput[] {
  const urn = i % 2 ? B : A;
  return dates.map((date, d) => ({
    urn,
    upn: PUPILS[i],
    date,
    am: d < absent ? 'I' : '/',
    pm: d + dates.length < absent ? 'I' : '/',
    year_group: NO_YEAR_GROUP.has(i) ? '' : ['5', '6', '7'][i % 3],
    fsm: i % 4 < 2 ? 'Y' : 'N',
    forename: 'Pupil',
    surname: `P${i}`,
    dob: '2015-03-04',
  }));
}

async function send(urn: string, rows: ReturnRowInput[]) {
  const res = await svc.request('POST', '/v1/returns', {
    token: await svc.token('school', { urn }),
    body: returnCsv(rows),
  });
  expect(res.status).toBe(202);
}

type Item = { upn: string; yearGroup: string | null; cohorts: string[]; stats: { absenceRate: number } };

async function get(query: string, cursor?: string) {
  const res = await svc.request(
    'GET',
    `/v1/pupils?flag=persistent_absence&${YEAR_RANGE}${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    { token: await svc.token('la_officer') },
  );
  expect(res.status, query).toBe(200);
  return res.json<{ total: number; items: Item[]; nextCursor: string | null }>();
}

/** Every page of a list, `limit` at a time: the rows in turn and each page's total. */
async function walk(query: string, limit: number): Promise<{ upns: string[]; totals: Set<number> }> {
  const upns: string[] = [];
  const totals = new Set<number>();
  let cursor: string | undefined;
  do {
    const page = await get(`&limit=${limit}${query}`, cursor);
    expect(page.items.length).toBeLessThanOrEqual(limit);
    upns.push(...page.items.map((i) => i.upn));
    totals.add(page.total);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return { upns, totals };
}

/** Worst first as the lists show it: the rate to one decimal place, then the UPN. */
const inListOrder = (items: Item[]) =>
  [...items]
    .sort(
      (x, y) =>
        Number(y.stats.absenceRate.toFixed(1)) - Number(x.stats.absenceRate.toFixed(1)) || (x.upn < y.upn ? -1 : 1),
    )
    .map((i) => i.upn);

/** The LA's list, each filter's pages (1, 2 and 5 at a time) and CSV: the same rows in the same order, exact totals. */
async function expectPagesAgree(): Promise<Item[]> {
  const whole = await get('&limit=200');
  const want = inListOrder(whole.items);
  expect(whole.items.map((i) => i.upn)).toEqual(want);
  expect(whole.total).toBe(want.length);
  const filters: Array<[string, (i: Item) => boolean]> = [
    ['', () => true],
    ['&yearGroup=5', (i) => i.yearGroup === '5'],
    ['&yearGroup=6', (i) => i.yearGroup === '6'],
    ['&yearGroup=7', (i) => i.yearGroup === '7'],
    // A counted cohort: the LA partition (gsi1) filtered, its total the kept count.
    ['&cohort=fsm', (i) => i.cohorts.includes('fsm')],
    ['&cohort=fsm&yearGroup=6', (i) => i.cohorts.includes('fsm') && i.yearGroup === '6'],
  ];
  for (const [query, keep] of filters) {
    const rows = whole.items.filter(keep).map((i) => i.upn);
    for (const limit of [1, 2, 5]) {
      const got = await walk(query, limit);
      // Neither skipped nor repeated, in order.
      expect({ query, limit, upns: got.upns }).toEqual({ query, limit, upns: rows });
      expect({ query, limit, totals: got.totals }).toEqual({ query, limit, totals: new Set([rows.length]) });
    }
    const csv = await svc.request('GET', `/v1/pupils?flag=persistent_absence&${YEAR_RANGE}${query}`, {
      token: await svc.token('la_officer'),
      headers: { accept: 'text/csv' },
    });
    expect(csv.status).toBe(200);
    const csvUpns = csv.text
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(',')[0]);
    expect({ query, csv: csvUpns }).toEqual({ query, csv: rows });
  }
  return whole.items;
}

type Stored = {
  pk: string;
  sk: string;
  upn?: string;
  row?: string;
  parts?: string[];
  rowSk?: string;
  gsi1pk?: string;
  gsi1sk?: string;
  ix?: number;
};

/** Every LA list item and LA row in the table. */
async function scanLists(): Promise<Stored[]> {
  const items: Stored[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const res = await documentClient().send(
      new ScanCommand({
        TableName: table.tableName(),
        FilterExpression: 'begins_with(pk, :list) OR begins_with(sk, :row)',
        ExpressionAttributeValues: { ':list': 'LALIST#', ':row': 'LAROW#' },
        ExclusiveStartKey: start,
      }),
    );
    items.push(...((res.Items ?? []) as Stored[]));
    start = res.LastEvaluatedKey;
  } while (start);
  return items;
}

/**
 * The list items are exactly those the LA rows claim: none in an LA partition (nor a counted cohort's),
 * each year group's carrying its list's LA partition as gsi1 keys at its own place, no other carrying any.
 */
async function expectItemsAsClaimed() {
  const all = await scanLists();
  const rows = all.filter((i) => i.sk.startsWith('LAROW#') && i.row);
  const want = new Set<string>();
  for (const r of rows) {
    expect(r.ix).toBe(1);
    for (const pk of r.parts ?? []) {
      const kind = partitionKind(pk);
      if (kind === 'worstFirst') want.add(`${pk} ${r.rowSk}`);
      if (kind === 'byUpn') want.add(`${pk} ${r.upn}`);
    }
  }
  const items = all.filter((i) => i.pk.startsWith('LALIST#'));
  expect(items.map((i) => `${i.pk} ${i.sk}`).sort()).toEqual([...want].sort());
  for (const i of items) {
    const { list, scope } = k.parseLaList(i.pk);
    expect(scope).toBeDefined();
    if (scope?.kind === 'YG') expect([i.gsi1pk, i.gsi1sk]).toEqual([k.laList(YEAR, list), i.sk]);
    else expect(i.gsi1pk).toBeUndefined();
  }
  return { rows, items };
}

beforeAll(async () => {
  svc = await startTestService();
});
afterAll(async () => svc?.stop());

describe('the LA partition as gsi1 of the year groups’ items', () => {
  it('pages the LA list worst first, equal rates by UPN, with pupils without a year group, as each year group pages its own', async () => {
    for (const urn of [A, B])
      await send(
        urn,
        PUPILS.flatMap((_, i) => ((i % 2 ? B : A) === urn ? rowsOf(i, TEN, 2 + Math.floor(i / 3)) : [])),
      );
    await svc.settle();
    const items = await expectPagesAgree();
    // Every pupil listed, three at each rate: worst first, a tie in UPN order.
    expect(items).toHaveLength(12);
    const rateOf = (i: number) => 2 + Math.floor(i / 3);
    const want = [...PUPILS.keys()]
      .sort((x, y) => rateOf(y) - rateOf(x) || (PUPILS[x] < PUPILS[y] ? -1 : 1))
      .map((i) => PUPILS[i]);
    expect(items.map((i) => i.upn)).toEqual(want);
    // The pupils without a year group are in the LA's list and in no year group's page.
    expect(items.filter((i) => i.yearGroup === null).map((i) => i.upn)).toEqual(
      want.filter((u) => NO_YEAR_GROUP.has(PUPILS.indexOf(u))),
    );
    // …and no filter names their year group (the API takes one of at most 3 characters).
    const none = await svc.request(
      'GET',
      `/v1/pupils?flag=persistent_absence&${YEAR_RANGE}&yearGroup=${encodeURIComponent(k.laListNoYearGroup)}`,
      { token: await svc.token('la_officer') },
    );
    expect(none.status).toBe(400);
    const { items: stored } = await expectItemsAsClaimed();
    // No LA partition of its own: its pupils' items are in their year groups' partitions, (none) too.
    expect(stored.filter((i) => i.pk === k.laList(YEAR, 'persistent_absence'))).toEqual([]);
    expect(
      stored
        .filter((i) => i.pk === k.laList(YEAR, 'persistent_absence', { kind: 'YG', value: k.laListNoYearGroup }))
        .map((i) => i.upn)
        .sort(),
    ).toEqual([PUPILS[3], PUPILS[8]].sort());
  }, 180_000);

  it('keeps pages, items and totals exact when a rollup is retried after a crash before its LA rows, and after them', async () => {
    // School A's pupils absent more (their places move, past school B's); the first rollup to write
    // the lists crashes after putting the list items, before the LA rows that claim them.
    const put = table.batchPut;
    let crashed = 0;
    const puts = vi.spyOn(table, 'batchPut').mockImplementation(async (items, concurrency) => {
      if (crashed === 0 && items.some((i) => String(i.sk).startsWith('LAROW#'))) {
        crashed++;
        throw new Error('lost connection');
      }
      return put(items, concurrency);
    });
    await send(
      A,
      PUPILS.flatMap((_, i) => (i % 2 ? [] : rowsOf(i, DAYS.slice(10, 20), 4 + (i % 5)))),
    );
    await svc.settle();
    expect(crashed).toBe(1);
    puts.mockRestore();
    await expectPagesAgree();
    await expectItemsAsClaimed();
    // School B's: the first rollup crashes after its LA rows, before deleting the items they replace.
    const del = table.batchDelete;
    const deletes = vi.spyOn(table, 'batchDelete').mockImplementation(async (keys, concurrency) => {
      if (crashed === 1 && keys.some((key) => String(key.pk).startsWith('LALIST#'))) {
        crashed++;
        throw new Error('lost connection');
      }
      return del(keys, concurrency);
    });
    await send(
      B,
      PUPILS.flatMap((_, i) => (i % 2 ? rowsOf(i, DAYS.slice(10, 20), 3 + (i % 7)) : [])),
    );
    await svc.settle();
    expect(crashed).toBe(2);
    deletes.mockRestore();
    const items = await expectPagesAgree();
    expect(items).toHaveLength(12);
    await expectItemsAsClaimed();
  }, 240_000);

  it("rewrites a pupil's items written before the index keys (the one-off rewrite of the lists): keyed, the LA's deleted", async () => {
    const upn = PUPILS[4];
    const key = { TableName: table.tableName(), Key: k.laRow(upn, YEAR) };
    const stored = (await documentClient().send(new GetCommand(key))).Item!;
    // As written before 8 December 2026: the LA row without `ix`, its year groups' items without index
    // keys, and an item of its own in each LA partition it is in.
    const { ix: _ix, ...legacy } = stored;
    await documentClient().send(new PutCommand({ TableName: table.tableName(), Item: legacy }));
    const ygItems = (await scanLists()).filter((i) => i.upn === upn && k.parseLaList(i.pk).scope?.kind === 'YG');
    expect(ygItems.length).toBeGreaterThan(0);
    for (const { gsi1pk: _p, gsi1sk: _s, ...item } of ygItems) {
      await documentClient().send(new PutCommand({ TableName: table.tableName(), Item: item }));
      await documentClient().send(
        new PutCommand({
          TableName: table.tableName(),
          Item: { ...item, pk: k.laList(YEAR, k.parseLaList(item.pk).list) },
        }),
      );
    }
    forgetHeldLaRows();
    // The LA's list is the index: without the keys, the pupil is not in it.
    const before = await get('&limit=200');
    expect(before.items.map((i) => i.upn)).not.toContain(upn);
    // A rollup of the rows as they are (the ordinary one sends none: nothing changed) leaves it so…
    const { rollup, forgetSchoolViews } = await import('../../shared/app/rollup.js');
    const { storedLaFigures } = await import('../../shared/app/wiring.js');
    forgetSchoolViews();
    expect((await rollup({ figures: storedLaFigures }, YEAR)).pupils).toBe(0);
    forgetHeldLaRows();
    expect((await get('&limit=200')).items.map((i) => i.upn)).not.toContain(upn);
    // …the one-off rewrite sends every row: this pupil's items put with the keys, its LA items deleted,
    // its LA row marked; every other pupil's items as they were.
    const others = async () =>
      (await scanLists())
        .filter((i) => i.upn !== upn && i.pk.startsWith('LALIST#'))
        .sort((x, y) => (`${x.pk} ${x.sk}` < `${y.pk} ${y.sk}` ? -1 : 1));
    const untouched = await others();
    forgetSchoolViews({ rewriteLists: true });
    const rewrite = await rollup({ figures: storedLaFigures }, YEAR);
    expect(rewrite.pupils).toBe(PUPILS.length);
    const after = (await documentClient().send(new GetCommand(key))).Item!;
    expect(after.ix).toBe(1);
    expect(after.row).toBe(stored.row);
    expect(await others()).toEqual(untouched);
    await expectItemsAsClaimed();
    forgetHeldLaRows();
    const items = await expectPagesAgree();
    // In its place again, every other row where it was.
    expect(items.map((i) => i.upn).filter((u) => u !== upn)).toEqual(before.items.map((i) => i.upn));
    expect(items).toHaveLength(12);
  }, 180_000);
});
