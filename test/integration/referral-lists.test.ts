/**
 * Referral searches as Queries of their own key (issue 17), on the embedded engines: a search reads
 * the entries of the partition it keys on and nothing else (a school's search only its own cases'
 * entries, the same count however many cases the LA holds), the entries follow each change (status,
 * reassignment, a penalty notice issued then paid), pages through a partition never skip or repeat,
 * a cursor of one search is refused by another, and cases stored before the partitions are found
 * before and after the one-off back-fill — including a case whose writer stopped after its event.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticCase } from '../../bench/referral-search.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startEngines, type Engines } from '../../local/engines.js';
import { DEFAULT_NAMES, ENV } from '../../shared/config.js';
import {
  newReferral,
  recordAction,
  updateReferral,
  type ChangeContext,
  type Referral,
} from '../../shared/domain/referrals.js';
import { documentClient, resetClients } from '../../shared/store/clients.js';
import { k, type ReferralListFacet } from '../../shared/store/keys.js';
import {
  appendChange,
  casesWithOutstandingNotices,
  followEvents,
  getReferral,
  indexReferralLists,
  listReferrals,
  putNewReferral,
  referralListsReady,
  upnsWithOpenReferrals,
  writeEntries,
} from '../../shared/store/referrals.js';
import { batchPut, InvalidCursorError, putItem, queryAll } from '../../shared/store/table.js';

const TODAY = '2026-12-07';
const dirs: string[] = [];
const running: Engines[] = [];

/** Fresh engines (a table of its own: the lists' readiness is remembered per table). */
async function freshTable(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'attendance-hub-reflists-'));
  dirs.push(dir);
  const engines = await startEngines(dir, { inProcess: true });
  running.push(engines);
  process.env.AWS_REGION = LOCAL_REGION;
  process.env.AWS_ACCESS_KEY_ID = LOCAL_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = LOCAL_CREDENTIALS.secretAccessKey;
  process.env.AWS_ENDPOINT_URL_DYNAMODB = engines.dynamoEndpoint;
  process.env[ENV.table] = DEFAULT_NAMES.table;
  resetClients();
}

afterAll(async () => {
  resetClients();
  for (const e of running) await e.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Items DynamoDB read (Query ScannedCount, Get and BatchGet items) while `fn` ran. */
async function itemsRead<T>(fn: () => Promise<T>): Promise<{ out: T; read: number; queries: number }> {
  let read = 0;
  let queries = 0;
  const name = 'referralListsTestMeter';
  documentClient().middlewareStack.add(
    ((next: (a: unknown) => Promise<{ output: Record<string, unknown> }>, context: { commandName?: string }) =>
      async (args: unknown) => {
        const result = await next(args);
        if (context.commandName === 'QueryCommand') {
          queries++;
          read += (result.output.ScannedCount as number) ?? 0;
        } else if (context.commandName === 'GetCommand' && result.output.Item) read++;
        else if (context.commandName === 'BatchGetCommand')
          read += Object.values((result.output.Responses ?? {}) as Record<string, unknown[]>).reduce(
            (s, r) => s + r.length,
            0,
          );
        return result;
      }) as never,
    { step: 'build', priority: 'high', name, override: true },
  );
  try {
    const out = await fn();
    return { out, read, queries };
  } finally {
    documentClient().middlewareStack.remove(name);
  }
}

let seq = 0;
const ctx = (
  at = `2026-11-${String(10 + (seq % 18)).padStart(2, '0')}T09:${String(seq % 60).padStart(2, '0')}:00.000Z`,
) => ({ actor: { sub: 'officer-1', role: 'la_officer' }, at, today: TODAY }) satisfies ChangeContext;

/** A new case through the store, as the service creates one. */
async function create(urn: string, upn: string, over: { type?: Referral['type'] } = {}): Promise<Referral> {
  seq++;
  const template = syntheticCase(seq, 1000, 10);
  const change = newReferral(
    {
      id: `ref${String(seq).padStart(21, '0')}`,
      upn,
      urn,
      type: over.type ?? 'persistent_absence',
      reason: 'test',
      parents: [{ id: 'mum-1', name: 'Ann Smith', relationship: 'mother' }],
      evidence: template.evidence,
    },
    { ...ctx(), triageDueOn: '2026-12-01' },
  );
  return (await putNewReferral(change)).referral;
}

async function change(r: Referral, make: (r: Referral) => ReturnType<typeof updateReferral>): Promise<Referral> {
  const c = make(r);
  await appendChange(c, r.version);
  return c.referral;
}

/** The ids in one list partition, newest first. */
async function partition(facet: ReferralListFacet, value: string): Promise<string[]> {
  const items = await queryAll<{ id: string }>({
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: { ':pk': k.referralList(facet, value) },
    ScanIndexForward: false,
  });
  return items.map((i) => i.id);
}

describe('referral searches read their own partition', () => {
  beforeAll(async () => {
    await freshTable();
    expect(await indexReferralLists()).toEqual({ cases: 0, alreadyIndexed: false });
    expect(await referralListsReady()).toBe(true);
  }, 60_000);

  it("reads only a school's own entries, the same count at three times the cases", async () => {
    // School 100001: 6 cases about 3 pupils; then 12, then 36 cases elsewhere in the LA.
    const own: string[] = [];
    for (let i = 0; i < 6; i++) own.push((await create('100001', `A90000000000${i % 3}`)).id);
    const counted = async () => {
      const bySchool = await itemsRead(() => listReferrals({ today: TODAY, urn: '100001' }, 50));
      const byPupil = await itemsRead(() => listReferrals({ today: TODAY, upn: 'A900000000001' }, 50));
      return { bySchool, byPupil };
    };
    for (const others of [12, 36]) {
      while (seq < 6 + others) await create(String(100002 + (seq % 5)), `A9100000000${String(seq).padStart(2, '0')}`);
      const { bySchool, byPupil } = await counted();
      expect(bySchool.out.items.map((i) => i.id)).toEqual([...own].reverse());
      expect(bySchool.out.nextCursor).toBeNull();
      expect({ read: bySchool.read, queries: bySchool.queries }).toEqual({ read: 6, queries: 1 });
      expect(byPupil.out.items.map((i) => i.upn)).toEqual(['A900000000001', 'A900000000001']);
      expect({ read: byPupil.read, queries: byPupil.queries }).toEqual({ read: 2, queries: 1 });
    }
    // A school's search filtered further (status) still reads only the school's entries.
    const submitted = await itemsRead(() => listReferrals({ today: TODAY, urn: '100001', status: 'submitted' }, 50));
    expect(submitted.out.items).toHaveLength(6);
    expect(submitted.read).toBe(6);
    // The LA-wide page without filters reads one more case than it shows (to know a page follows).
    const la = await itemsRead(() => listReferrals({ today: TODAY }, 10));
    expect(la.out.items).toHaveLength(10);
    expect(la.read).toBe(11);
    expect(la.out.nextCursor).not.toBeNull();
  }, 60_000);

  it('moves the entries as the case changes: status, assignee, a notice issued then paid, closing', async () => {
    let r = await create('100009', 'A920000000001');
    expect(await partition('STATUS', 'submitted')).toContain(r.id);
    r = await change(r, (x) => updateReferral(x, { status: 'triaged' }, ctx()));
    expect(await partition('STATUS', 'submitted')).not.toContain(r.id);
    expect(await partition('STATUS', 'triaged')).toContain(r.id);
    r = await change(r, (x) => updateReferral(x, { status: 'allocated', assignee: 'officer-2' }, ctx()));
    expect(await partition('ASSIGNEE', 'officer-2')).toEqual([r.id]);
    r = await change(r, (x) => updateReferral(x, { assignee: 'officer-3' }, ctx()));
    expect(await partition('ASSIGNEE', 'officer-2')).toEqual([]);
    expect(await partition('ASSIGNEE', 'officer-3')).toEqual([r.id]);
    const actionCtx = { ...ctx(), penaltyNoticeHistory: [], noticeToImprovePeriodDays: 15 };
    r = await change(r, (x) =>
      recordAction(x, { type: 'penalty_notice_issued', date: '2026-10-01', parentId: 'mum-1' }, actionCtx),
    );
    expect(r.status).toBe('in_progress');
    expect(await partition('NOTICES', 'outstanding')).toEqual([r.id]);
    expect((await casesWithOutstandingNotices()).map((c) => [c.id, c.actions.length, c.parents[0]?.id])).toEqual([
      [r.id, 1, 'mum-1'],
    ]);
    r = await change(r, (x) =>
      recordAction(x, { type: 'penalty_notice_paid', date: '2026-10-10', noticeId: 'A1' }, actionCtx),
    );
    expect(await partition('NOTICES', 'outstanding')).toEqual([]);
    expect(await upnsWithOpenReferrals()).toContain('A920000000001');
    r = await change(r, (x) =>
      updateReferral(x, { status: 'closed', outcome: { type: 'penalty_notice_paid' } }, ctx()),
    );
    expect(await upnsWithOpenReferrals()).not.toContain('A920000000001');
    expect(await partition('STATUS', 'closed')).toEqual([r.id]);
    // Every entry of the case holds its latest version; none is left in a partition it left.
    for (const [facet, value] of [
      ['UPN', 'A920000000001'],
      ['URN', '100009'],
      ['STATUS', 'closed'],
      ['TYPE', 'persistent_absence'],
      ['ASSIGNEE', 'officer-3'],
    ] as Array<[ReferralListFacet, string]>) {
      const entries = await queryAll<{ id: string; version: number; status: string }>({
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': k.referralList(facet, value) },
      });
      expect(entries.find((e) => e.id === r.id)).toMatchObject({ version: r.version, status: 'closed' });
    }
    for (const status of ['submitted', 'triaged', 'allocated', 'in_progress'])
      expect(await partition('STATUS', status)).not.toContain(r.id);
  }, 60_000);

  it('removes an entry a slow writer put back after a later change had moved the case on', async () => {
    const r1 = await create('100011', 'A940000000001');
    // Writer A records triaged (its event) and stalls; a reader rolls the case forward from that event.
    const a = updateReferral(r1, { status: 'triaged' }, ctx());
    const { evidence: _e, ...state } = a.referral;
    await putItem({ ...k.referralEvent(r1.id, 2), referralId: r1.id, ...a.event, state });
    expect((await getReferral(r1.id))?.referral.status).toBe('triaged');
    expect(await partition('STATUS', 'triaged')).toContain(r1.id);
    // Writer B withdraws it from version 2: its entry leaves STATUS#triaged.
    const b = updateReferral(a.referral, { status: 'withdrawn', reason: 'moved away' }, ctx());
    await appendChange(b, 2);
    expect(await partition('STATUS', 'triaged')).not.toContain(r1.id);
    // A wakes: its entries for version 2 go in (STATUS#triaged again, as B had left it), its case put
    // fails (the case is at 3), and it follows the events on.
    await writeEntries(r1, a.referral);
    expect(await partition('STATUS', 'triaged')).toContain(r1.id);
    await followEvents(a.referral);
    expect(await partition('STATUS', 'triaged')).not.toContain(r1.id);
    expect(await partition('STATUS', 'withdrawn')).toContain(r1.id);
    expect(await upnsWithOpenReferrals()).not.toContain('A940000000001');
    const entries = await queryAll<{ id: string; version: number }>({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': k.referralList('UPN', 'A940000000001') },
    });
    expect(entries).toMatchObject([{ id: r1.id, version: 3, status: 'withdrawn' }]);
  }, 60_000);

  it('pages through a partition without skipping or repeating, and refuses a cursor from another search', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await create('100010', `A93000000000${i}`)).id);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await listReferrals({ today: TODAY, urn: '100010' }, 2, cursor);
      seen.push(...page.items.map((i) => i.id));
      cursor = page.nextCursor ?? undefined;
      pages++;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
    expect(pages).toBe(4);
    const first = await listReferrals({ today: TODAY, urn: '100010' }, 2);
    const other = (cursorOf: string) => listReferrals({ today: TODAY, urn: '100001' }, 2, cursorOf);
    await expect(other(first.nextCursor!)).rejects.toBeInstanceOf(InvalidCursorError);
    // The same school, another facet key (a status): refused too.
    await expect(
      listReferrals({ today: TODAY, urn: '100010', status: 'submitted' }, 2, first.nextCursor!),
    ).rejects.toBeInstanceOf(InvalidCursorError);
  }, 60_000);
});

describe('cases stored before the list partitions', () => {
  let seeded: Referral[];

  beforeAll(async () => {
    await freshTable();
    // Five cases as the service stored them before (case item and events, no entries); the last one's
    // writer stopped after recording its event (triaged) and before moving the case.
    seeded = Array.from({ length: 5 }, (_, i) => ({
      ...syntheticCase(i * 25, 1000, 2),
      status: 'submitted' as const,
      assignee: null,
      version: 1,
    }));
    const stopped = seeded[4];
    const triaged = updateReferral(stopped, { status: 'triaged' }, ctx('2026-11-30T10:00:00.000Z'));
    const { evidence: _e, ...triagedState } = triaged.referral;
    const items: Array<{ pk: string; sk: string } & Record<string, unknown>> = [
      ...seeded.flatMap((r) => [
        { ...k.referral(r.id), gsi1pk: k.referralsIndex, gsi1sk: `${r.createdAt}#${r.id}`, ...r },
        {
          ...k.referralEvent(r.id, 1),
          referralId: r.id,
          seq: 1,
          at: r.createdAt,
          by: r.createdBy,
          kind: 'created',
          changes: [],
          state: r,
        },
      ]),
      { ...k.referralEvent(stopped.id, 2), referralId: stopped.id, ...triaged.event, state: triagedState },
    ];
    await batchPut(items);
  }, 60_000);

  it('are found before the back-fill (the LA-wide list), and by their own partitions after it', async () => {
    const urn = seeded[0].urn;
    const mine = seeded
      .filter((r) => r.urn === urn)
      .map((r) => r.id)
      .reverse();
    expect(await referralListsReady()).toBe(false);
    const before = await listReferrals({ today: TODAY, urn }, 50);
    expect(before.items.map((i) => i.id)).toEqual(mine);
    expect(await upnsWithOpenReferrals()).toEqual(new Set(seeded.map((r) => r.upn)));

    expect(await indexReferralLists()).toEqual({ cases: 5, alreadyIndexed: false });
    expect(await referralListsReady()).toBe(true);
    const after = await itemsRead(() => listReferrals({ today: TODAY, urn }, 50));
    expect(after.out.items.map((i) => i.id)).toEqual(mine);
    expect(after.read).toBe(mine.length);
    expect(await indexReferralLists()).toEqual({ cases: 0, alreadyIndexed: true });
    // The stopped writer's change is in the lists as its event recorded it (and the case follows on read).
    const stopped = seeded[4];
    expect(await partition('STATUS', 'submitted')).not.toContain(stopped.id);
    expect(await partition('STATUS', 'triaged')).toEqual([stopped.id]);
    expect((await getReferral(stopped.id))?.referral).toMatchObject({ status: 'triaged', version: 2 });
    expect(await upnsWithOpenReferrals()).toEqual(new Set(seeded.map((r) => r.upn)));
  }, 60_000);
});
