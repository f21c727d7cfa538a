/**
 * The LA lists' partitions that move less (issue 17, docs/decisions.md): a school's partition is by
 * UPN (its page sorts the school's rows), the commoner cohorts have no partition (a filter on the LA's
 * and a count kept per cohort, and per cohort and year group), the rarer ones keep theirs. Every filter
 * and pair of filters the list route takes still pages worst first with exact totals, the same as the
 * whole list filtered; no item is left behind when a pupil changes cohort, school or year group, or
 * when a rollup is retried after a crash between its writes.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../../shared/store/clients.js';
import { k } from '../../shared/store/keys.js';
import { partitionKind } from '../../shared/store/la-lists.js';
import * as table from '../../shared/store/table.js';
import { startTestService, type TestService } from './harness.js';
import { returnCsv, upnFor, weekdays, type ReturnRowInput } from '../support/returns.js';

const [A, B] = ['178101', '178102'];
const YEAR_RANGE = 'from=2025-08-01&to=2026-07-31';
const DAYS = weekdays('2025-09-01', '2025-09-30');
const TEN = DAYS.slice(0, 10);
const PUPILS = Array.from({ length: 8 }, (_, i) => upnFor(i + 1, '999', '7811'));
let svc: TestService;

interface Who {
  urn: string;
  fsm: 'Y' | 'N';
  sen: 'N' | 'K' | 'E';
  yg: string;
}
/** Pupil i: absent i + 2 of 20 sessions (10 % to 45 %, all persistently absent), spread over both schools. */
const who = (i: number): Who => ({
  urn: i % 2 ? B : A,
  fsm: i % 3 === 0 ? 'Y' : 'N',
  sen: i % 4 === 0 ? 'E' : i % 4 === 1 ? 'K' : 'N',
  yg: i < 4 ? '5' : '6',
});

function rowsOf(i: number, w: Who, dates: string[], absent: number): ReturnRowInput[] {
  return dates.map((date, d) => ({
    urn: w.urn,
    upn: PUPILS[i],
    date,
    am: d < absent ? 'I' : '/',
    pm: d + dates.length < absent ? 'I' : '/',
    year_group: w.yg,
    fsm: w.fsm,
    sen: w.sen,
    // The same child at both schools (names and date of birth agree): no identity clash.
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

type Item = {
  upn: string;
  yearGroup: string | null;
  urns: string[];
  cohorts: string[];
  stats: { absenceRate: number };
};

async function get(query: string, cursor?: string) {
  const res = await svc.request(
    'GET',
    `/v1/pupils?flag=persistent_absence&${YEAR_RANGE}${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    { token: await svc.token('la_officer') },
  );
  expect(res.status).toBe(200);
  return res.json<{ total: number; items: Item[]; nextCursor: string | null }>();
}

/** Every page of a filtered list, 2 at a time: the rows in order and each page's total. */
async function paged(query: string): Promise<{ upns: string[]; totals: number[] }> {
  const upns: string[] = [];
  const totals: number[] = [];
  let cursor: string | undefined;
  do {
    const page = await get(`&limit=2${query}`, cursor);
    expect(page.items.length).toBeLessThanOrEqual(2);
    upns.push(...page.items.map((i) => i.upn));
    totals.push(page.total);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return { upns, totals };
}

/** The cohorts each pupil was ever in this year, as seen in the lists so far (a filter is on those; an item shows today's). */
const ever = new Map<string, Set<string>>();
const everIn = (i: Item, cohort: string) => ever.get(i.upn)?.has(cohort) === true;

const FILTERS: Array<[string, (i: Item) => boolean]> = [
  [`&urn=${A}`, (i) => i.urns.includes(A)],
  [`&urn=${B}`, (i) => i.urns.includes(B)],
  ['&cohort=fsm', (i) => everIn(i, 'fsm')],
  ['&cohort=sen_support', (i) => everIn(i, 'sen_support')],
  ['&cohort=sen_none', (i) => everIn(i, 'sen_none')],
  ['&cohort=sen_ehcp', (i) => everIn(i, 'sen_ehcp')],
  ['&yearGroup=5', (i) => i.yearGroup === '5'],
  ['&yearGroup=6', (i) => i.yearGroup === '6'],
  ['&cohort=fsm&yearGroup=6', (i) => everIn(i, 'fsm') && i.yearGroup === '6'],
  ['&cohort=sen_none&yearGroup=5', (i) => everIn(i, 'sen_none') && i.yearGroup === '5'],
  ['&cohort=sen_ehcp&yearGroup=5', (i) => everIn(i, 'sen_ehcp') && i.yearGroup === '5'],
  [`&urn=${A}&cohort=fsm`, (i) => i.urns.includes(A) && everIn(i, 'fsm')],
  [`&urn=${B}&yearGroup=6`, (i) => i.urns.includes(B) && i.yearGroup === '6'],
];

/** Every filter's pages (2 a page) against the whole list filtered here: the same rows, in order, with exact totals. */
async function expectFiltersAgree() {
  const whole = await get('&limit=200');
  for (const i of whole.items) ever.set(i.upn, new Set([...(ever.get(i.upn) ?? []), ...i.cohorts]));
  const rates = whole.items.map((i) => i.stats.absenceRate);
  expect(rates).toEqual([...rates].sort((a, b) => b - a));
  expect(whole.total).toBe(whole.items.length);
  for (const [query, keep] of FILTERS) {
    const want = whole.items.filter(keep).map((i) => i.upn);
    const got = await paged(query);
    expect({ query, upns: got.upns }).toEqual({ query, upns: want });
    expect({ query, totals: new Set(got.totals) }).toEqual({ query, totals: new Set([want.length]) });
    // The whole list as CSV, filtered the same way: the same rows in the same order.
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
    expect({ query, csv: csvUpns }).toEqual({ query, csv: want });
  }
  return whole;
}

/** Every LA list item and LA row in the table. */
async function scanLists() {
  const items: Array<{ pk: string; sk: string; upn?: string; row?: string; parts?: string[]; rowSk?: string }> = [];
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
    items.push(...((res.Items ?? []) as typeof items));
    start = res.LastEvaluatedKey;
  } while (start);
  return items;
}

/**
 * The list items are exactly those the LA rows claim: none in a counted cohort's partition nor in the
 * LA's (its year groups' items are its gsi1 partition), a school's by UPN.
 */
async function expectItemsAsClaimed() {
  const all = await scanLists();
  const rows = all.filter((i) => i.sk.startsWith('LAROW#') && i.row);
  const want = new Set<string>();
  for (const r of rows)
    for (const pk of r.parts ?? []) {
      const kind = partitionKind(pk);
      if (kind === 'counted' || kind === 'indexed') continue;
      expect(k.parseLaList(pk).scope).toBeDefined();
      want.add(`${pk} ${kind === 'byUpn' ? r.upn : r.rowSk}`);
    }
  const got = all.filter((i) => i.pk.startsWith('LALIST#')).map((i) => `${i.pk} ${i.sk}`);
  expect(got.sort()).toEqual([...want].sort());
  return { rows: rows.length, items: got.length };
}

beforeAll(async () => {
  svc = await startTestService();
});
afterAll(async () => svc?.stop());

describe('LA list partitions that move less', () => {
  it('pages every filter and pair of filters worst first with exact totals, as the whole list filtered', async () => {
    for (const urn of [A, B])
      await send(
        urn,
        PUPILS.flatMap((_, i) => (who(i).urn === urn ? rowsOf(i, who(i), TEN, i + 2) : [])),
      );
    await svc.settle();
    const whole = await expectFiltersAgree();
    expect(whole.items.map((i) => i.upn)).toEqual([...PUPILS].reverse());
    const { items } = await expectItemsAsClaimed();
    // No item in a counted cohort's partition; the rarer one (EHCP) has its own.
    expect(items).toBeGreaterThan(0);
  }, 120_000);

  it('keeps pages, totals and items exact when a pupil changes cohort, school and year group', async () => {
    // Pupil 2 (school A, not FSM, SEN none, year 5) now at school B, FSM, SEN support, year 6, absent more.
    const moved: Who = { urn: B, fsm: 'Y', sen: 'K', yg: '6' };
    await send(B, rowsOf(2, moved, DAYS.slice(10, 20), 12));
    await svc.settle();
    const whole = await expectFiltersAgree();
    const item = whole.items.find((i) => i.upn === PUPILS[2])!;
    expect(item.urns.sort()).toEqual([A, B]);
    expect(item.yearGroup).toBe('6');
    // Today FSM and SEN support; ever SEN none too (the cohort filters are on the cohorts ever held).
    expect(item.cohorts.sort()).toEqual(['fsm', 'sen_support']);
    expect([...ever.get(PUPILS[2])!].sort()).toEqual(['fsm', 'sen_none', 'sen_support']);
    await expectItemsAsClaimed();
  }, 120_000);

  it('moves the totals once and leaves no stale item when a rollup is retried after a crash between its writes', async () => {
    // Every pupil at school A absent more (their rates, so their sort keys, move); the first rollup to
    // write the lists crashes after its puts and LA rows, before deleting the items they replace.
    const original = table.batchDelete;
    let crashed = false;
    const deletes = vi.spyOn(table, 'batchDelete').mockImplementation(async (keys) => {
      if (!crashed && keys.some((key) => String(key.pk).startsWith('LALIST#'))) {
        crashed = true;
        throw new Error('lost connection');
      }
      return original(keys);
    });
    await send(
      A,
      PUPILS.flatMap((_, i) => (who(i).urn === A && i !== 2 ? rowsOf(i, who(i), DAYS.slice(10, 20), 6) : [])),
    );
    await svc.settle();
    expect(crashed).toBe(true);
    deletes.mockRestore();
    await expectFiltersAgree();
    await expectItemsAsClaimed();
  }, 120_000);

  it('empties every page and total once the pupils leave the list', async () => {
    // Corrections: every pupil present on every day sent.
    for (const urn of [A, B])
      await send(
        urn,
        PUPILS.flatMap((_, i) =>
          [who(i), ...(i === 2 ? [{ urn: B, fsm: 'Y', sen: 'K', yg: '6' } as Who] : [])]
            .filter((w) => w.urn === urn)
            .flatMap((w) => rowsOf(i, w, DAYS.slice(0, 20), 0)),
        ),
      );
    await svc.settle();
    const whole = await expectFiltersAgree();
    expect(whole.items).toEqual([]);
    expect(await scanLists()).toEqual([]);
  }, 120_000);
});
