/**
 * Applying a received return against in-memory stores (shared/app/apply-return.ts; docs/design.md §3
 * "Idempotent", "Corrections"; decisions.md "A school's waiting returns apply as one batch"): no
 * engines, faults injected through the ports.
 */
import { describe, expect, it } from 'vitest';
import { processReturn } from '../../../shared/app/apply-return.js';
import { returnCsv, upnFor, weekdays, type ReturnRowInput } from '../../support/returns.js';
import { memoryIngest, type MemoryIngest } from './memory-ingest.js';

const URN = '100001';
const BUCKET = 'returns-bucket';
const DAYS = weekdays('2025-09-08', '2025-09-12');
const upn = (p: number) => upnFor(p + 1, '999', '1001');

function day(d: number, pupils = 6): ReturnRowInput[] {
  return Array.from({ length: pupils }, (_, p) => ({
    urn: URN,
    upn: upn(p),
    date: DAYS[d],
    am: (p + d) % 5 === 0 ? 'I' : '/',
    pm: p === 2 ? 'O' : '/',
    forename: `P${p}`,
    surname: 'Test',
    year_group: '7',
  }));
}

const idOf = (i: number) => `r${String(i).padStart(4, '0')}`;
const keyOf = (i: number) => `returns/${URN}/${idOf(i)}.csv`;

/** Record and keep file i as received, as the API does (the ingest's message is then sent). */
async function receive(d: MemoryIngest, i: number, csv: string): Promise<void> {
  d.files.put(BUCKET, keyOf(i), csv);
  await d.returns.create({
    returnId: idOf(i),
    urn: URN,
    status: 'received',
    format: 'csv',
    receivedAt: new Date(Date.UTC(2025, 8, 12, 16, i)).toISOString(),
    uploadedBy: { sub: `school-${URN}`, role: 'school', urn: URN },
    objectKey: keyOf(i),
  });
}

const deliver = (d: MemoryIngest, i: number, options: { batch?: boolean } = {}) =>
  processReturn(d, idOf(i), BUCKET, keyOf(i), options);

/** What the returns decided: the register's marks and applied ids, the view's rows, the pupils' heads and the returns' outcomes. */
async function stateOf(d: MemoryIngest) {
  const register = await d.registers.load(URN, 2025);
  const view = await d.derived.view(URN, 2025);
  return {
    applied: [...register.appliedReturns].sort(),
    marks: [...register.pupils.values()].map((p) => [p.upn, p.marks]),
    view: view && {
      pupils: view.pupils.map(({ v: _v, ...row }) => row),
      periods: view.periods,
      latestDate: view.latestDate,
    },
    heads: [...d.pupilStore.headItems.values()].map((h) => [h.upn, h.owner, h.enrolmentKeys]).sort(),
    summaries: [...(await d.pupilStore.summaries([0, 1, 2, 3, 4, 5].map(upn))).values()].map((r) => r.years),
    returns: [...d.returns.items.values()]
      .sort((a, b) => (a.returnId < b.returnId ? -1 : 1))
      .map((r) => [r.returnId, r.status, r.counts, r.errors, r.dates]),
    duties: await d.duties
      .get(URN, 2025)
      .then((doc) => doc && { notices: doc.notices, entries: doc.entries, deletions: doc.deletions }),
  };
}

describe('applying a return', () => {
  it('applies a daily return once: a second delivery of the same message changes nothing', async () => {
    const d = memoryIngest();
    await receive(d, 1, returnCsv(day(0)));
    expect(await deliver(d, 1)).toEqual({ returnId: idOf(1), status: 'accepted' });
    const once = await stateOf(d);
    const writes = { registers: d.registers.saves, views: d.derived.viewWrites };
    expect(once.marks).toHaveLength(6);
    expect(once.view?.pupils).toHaveLength(6);
    expect(d.derived.rollups).toEqual([2025]);

    expect(await deliver(d, 1)).toEqual({ returnId: idOf(1), status: 'accepted', skipped: true });
    expect(await stateOf(d)).toEqual(once);
    expect({ registers: d.registers.saves, views: d.derived.viewWrites }).toEqual(writes);
  });

  it('completes a return whose processing crashed half-way (register written, view not) without applying it twice', async () => {
    const clean = memoryIngest();
    const crashed = memoryIngest();
    const second = returnCsv([...day(1), { urn: URN, upn: upn(3), date: DAYS[0], am: 'O', pm: 'O' }]); // corrects day 0
    for (const d of [clean, crashed]) {
      await receive(d, 1, returnCsv(day(0)));
      await deliver(d, 1);
      await receive(d, 2, second);
    }
    await deliver(clean, 2);

    // The process dies after the second return's register is saved, before its view is written.
    const putView = crashed.derived.putView.bind(crashed.derived);
    let failures = 0;
    crashed.derived.putView = async (view, version) => {
      if (failures++ === 0) throw new Error('process died');
      return putView(view, version);
    };
    await expect(deliver(crashed, 2)).rejects.toThrow('process died');
    expect((await crashed.returns.get(idOf(2)))?.status).toBe('processing');
    expect((await crashed.registers.load(URN, 2025)).appliedReturns).toContain(idOf(2));

    // The queue redelivers the message: the return is completed, its rows not applied again.
    expect(await deliver(crashed, 2, { batch: false })).toEqual({ returnId: idOf(2), status: 'accepted' });
    expect(await stateOf(crashed)).toEqual(await stateOf(clean));
    const pupil3 = (await crashed.registers.load(URN, 2025)).pupils.get(upn(3));
    expect(pupil3?.marks).toBe((await clean.registers.load(URN, 2025)).pupils.get(upn(3))?.marks);
  });

  it('rejects a file that is not a return: kept in quarantine with its report, nothing applied', async () => {
    const d = memoryIngest();
    await receive(d, 1, 'urn,upn,date\nnot,a,return\n');
    expect(await deliver(d, 1)).toEqual({ returnId: idOf(1), status: 'rejected' });
    const record = await d.returns.get(idOf(1));
    expect(record).toMatchObject({ status: 'rejected', counts: { rows: 0, accepted: 0, rejected: 0 } });
    expect(record?.rejection?.title).toBeTruthy();
    const kept = d.files.quarantined.get(`${URN}/${idOf(1)}`);
    expect(kept?.file?.toString()).toBe('urn,upn,date\nnot,a,return\n');
    expect(kept?.report).toMatchObject({ returnId: idOf(1), error: { status: expect.any(Number) } });
    expect(d.registers.saves).toBe(0);
    expect(d.derived.viewWrites).toBe(0);
  });

  it('rejects a return whose every row is refused, with its row errors, and applies none of it', async () => {
    const d = memoryIngest();
    await receive(
      d,
      1,
      returnCsv([
        { urn: URN, upn: upn(0), date: DAYS[0], am: 'ZZ', pm: '/' },
        { urn: URN, upn: upn(1), date: DAYS[0], am: '/', pm: 'QQ' },
      ]),
    );
    expect(await deliver(d, 1)).toEqual({ returnId: idOf(1), status: 'rejected' });
    const record = await d.returns.get(idOf(1));
    expect(record?.counts).toEqual({ rows: 2, accepted: 0, rejected: 2 });
    expect(record?.errors?.map((e) => e.line)).toEqual([2, 3]);
    expect((await d.registers.load(URN, 2025)).pupils.size).toBe(0);
  });

  it("applies a school's waiting returns as one batch, in the order received: one register write, the same end state as one at a time", async () => {
    const batch = memoryIngest();
    const oneByOne = memoryIngest();
    const files = [
      returnCsv(day(0)),
      returnCsv(day(1)),
      'not a return\n',
      returnCsv([{ urn: URN, upn: upn(4), date: DAYS[0], am: 'N', pm: 'N' }]),
      returnCsv(day(2)),
    ];
    for (const d of [batch, oneByOne]) for (const [i, csv] of files.entries()) await receive(d, i + 1, csv);

    for (let i = 1; i <= files.length; i++) await deliver(oneByOne, i, { batch: false });
    const first = await deliver(batch, 1);
    expect(first).toEqual({ returnId: idOf(1), status: 'accepted', batched: [idOf(2), idOf(3), idOf(4), idOf(5)] });
    expect(batch.registers.saves).toBe(1);
    expect(batch.derived.viewWrites).toBe(1);
    expect(oneByOne.registers.saves).toBe(4);
    // The others' own messages find them finished.
    for (let i = 2; i <= files.length; i++) expect((await deliver(batch, i)).skipped).toBe(true);

    expect(await stateOf(batch)).toEqual(await stateOf(oneByOne));
    expect((await batch.returns.get(idOf(3)))?.status).toBe('rejected');
    // The correction (received after day 0) won.
    expect((await batch.registers.load(URN, 2025)).pupils.get(upn(4))?.marks).toBe(
      (await oneByOne.registers.load(URN, 2025)).pupils.get(upn(4))?.marks,
    );
  });

  it('a fault in a store fails the delivery (the queue retries it) and leaves the return unfinished, never accepted', async () => {
    const d = memoryIngest();
    await receive(d, 1, returnCsv(day(0)));
    d.registers.save = async () => Promise.reject(new Error('store unavailable'));
    await expect(deliver(d, 1)).rejects.toThrow('store unavailable');
    expect((await d.returns.get(idOf(1)))?.status).toBe('processing');
  });
});
