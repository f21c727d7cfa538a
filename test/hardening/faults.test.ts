/**
 * Faults (issue 10): each fault is injected into the real ingest path running against the embedded
 * engines, and the end state is compared with a clean run of the same returns on a second service.
 *
 *  - the ingest crashing part-way (after the register is saved, in the middle of the pupil records,
 *    after the view but before the school record, between the two academic years of one return,
 *    a read failing once) and then retried by the queue;
 *  - duplicate delivery: the same S3 event twice, the same message after it was processed, and the
 *    same message processed twice at once (an SQS visibility timeout running out mid-processing);
 *  - days arriving out of order; two returns for one school at once;
 *  - a poison file: failing on every attempt, it reaches the dead-letter path and shows `rejected`
 *    with its reason, the file still kept.
 *
 * "The same state" is what anyone can read — pupil views, sessions, school and LA metrics, flagged
 * pupils, the school record — and what is stored: the register (marks, details, version) and the
 * school's materialised view. Modules are reloaded between the two services so no per-process
 * cache (API view cache, rollup cache) carries one service's figures into the other.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { IngestMessage } from '../../shared/store/queues.js';
import { startTestService, type TestService } from '../integration/harness.js';
import { returnCsv, upnFor, weekdays, type ReturnRowInput } from '../support/returns.js';

const YEAR = 2025;
const PERIOD = 'from=2025-08-01&to=2026-07-31';

interface Scenario {
  urn: string;
  /** The returns, in their natural (clean-run) order. */
  returns: string[];
}

/** Four pupils at school `urn`, a week of marks per return; pupil 1 is often absent, pupil 2 late. */
function schoolReturns(urn: string, estab: string, weeks: Array<{ days: string[]; pupils?: number }>): string[] {
  return weeks.map(({ days, pupils = 4 }) => {
    const rows: ReturnRowInput[] = [];
    for (let p = 1; p <= pupils; p++) {
      for (const [i, date] of days.entries()) {
        const am = p === 1 && i % 2 === 0 ? 'N' : p === 2 && i === 1 ? 'L' : '/';
        const pm = p === 1 ? 'O' : p === 3 && i === 0 ? 'I' : '/';
        rows.push({
          urn,
          upn: upnFor(p, '999', estab),
          date,
          am,
          pm,
          forename: `F${p}`,
          surname: `S${urn}`,
          year_group: '7',
          cla: p === 4 ? 'Y' : 'N',
        });
      }
    }
    return returnCsv(rows);
  });
}

const wk = (from: string, to: string) => weekdays(from, to);
const SCENARIOS = {
  crashAfterRegister: {
    urn: '510001',
    returns: schoolReturns('510001', '5101', [{ days: wk('2025-09-15', '2025-09-19') }]),
  },
  crashInPupilRecords: {
    urn: '510002',
    returns: schoolReturns('510002', '5102', [{ days: wk('2025-09-15', '2025-09-19') }]),
  },
  crashBeforeSchoolRecord: {
    urn: '510003',
    returns: schoolReturns('510003', '5103', [{ days: wk('2025-09-15', '2025-09-19') }]),
  },
  crashBetweenYears: {
    urn: '510004',
    returns: schoolReturns('510004', '5104', [
      { days: [...wk('2025-07-14', '2025-07-18'), ...wk('2025-09-15', '2025-09-19')] },
    ]),
  },
  readFailsOnce: {
    urn: '510005',
    returns: schoolReturns('510005', '5105', [{ days: wk('2025-09-15', '2025-09-19') }]),
  },
  duplicateDelivery: {
    urn: '510006',
    returns: schoolReturns('510006', '5106', [{ days: wk('2025-09-15', '2025-09-19') }]),
  },
  processedTwiceAtOnce: {
    urn: '510007',
    returns: schoolReturns('510007', '5107', [{ days: wk('2025-09-15', '2025-09-19') }]),
  },
  outOfOrder: {
    urn: '510008',
    returns: schoolReturns('510008', '5108', [
      { days: wk('2025-09-15', '2025-09-16') },
      { days: wk('2025-09-17', '2025-09-17') },
      { days: wk('2025-09-18', '2025-09-19'), pupils: 5 },
    ]),
  },
  twoAtOnce: {
    urn: '510009',
    returns: schoolReturns('510009', '5109', [
      { days: wk('2025-09-15', '2025-09-17') },
      { days: wk('2025-09-18', '2025-09-19'), pupils: 5 },
    ]),
  },
} satisfies Record<string, Scenario>;
const POISON = { urn: '510010', returns: schoolReturns('510010', '5110', [{ days: wk('2025-09-15', '2025-09-19') }]) };

const upnsOf = (s: Scenario) =>
  [
    ...new Set(
      s.returns.flatMap((csv) =>
        csv
          .split('\n')
          .slice(1)
          .filter(Boolean)
          .map((l) => l.split(',')[1]),
      ),
    ),
  ].sort();

type Snapshot = Record<string, unknown>;

/** What anyone can read, and what is stored, about one school and its pupils. */
async function schoolSnapshot(svc: TestService, token: string, s: Scenario): Promise<Snapshot> {
  const get = async (path: string) => {
    const res = await svc.request('GET', path, { token });
    return { status: res.status, body: res.status === 200 ? res.json() : undefined };
  };
  const { loadRegister } = await import('../../shared/store/registers.js');
  const { serializeRegister } = await import('../../shared/domain/register.js');
  const { getSchoolView } = await import('../../shared/store/views.js');
  const out: Snapshot = {};
  await Promise.all(
    upnsOf(s).map(async (upn) => {
      out[`pupil ${upn}`] = await get(`/v1/pupils/${upn}?academicYear=${YEAR}`);
      out[`sessions ${upn}`] = await get(`/v1/pupils/${upn}/sessions?from=2024-08-01&to=2026-07-31`);
    }),
  );
  // The school's own rows (the LA comparison beside them is compared once every school is in).
  const schoolOnly = (r: { status: number; body?: { comparison?: unknown } }) => ({
    status: r.status,
    body: { ...r.body, comparison: undefined },
  });
  out.metrics = schoolOnly(await get(`/v1/metrics?scope=school&urn=${s.urn}&${PERIOD}`));
  out.weeks = schoolOnly(await get(`/v1/metrics?scope=school&urn=${s.urn}&groupBy=week&${PERIOD}`));
  const school = await get(`/v1/schools/${s.urn}?academicYear=${YEAR}`);
  delete (school.body as { lastReturnAt?: string } | undefined)?.lastReturnAt; // when the return was received
  out.school = school;
  for (const year of [2024, 2025]) {
    const { appliedReturns, ...register } = serializeRegister(await loadRegister(s.urn, year));
    out[`register ${year}`] = { ...register, appliedReturns: appliedReturns.length };
    const view = await getSchoolView(s.urn, year);
    if (view) {
      const { version: _v, ...content } = view;
      // `v` is the pupil record's write counter (optimistic locking): a retried write moves it on.
      out[`view ${year}`] = { ...content, pupils: content.pupils.map((row) => ({ ...row, v: undefined })) };
    }
  }
  const returns = (await get(`/v1/returns?urn=${s.urn}`)).body as { items: Array<{ status: string; counts: unknown }> };
  out.returns = returns.items.map((r) => `${r.status} ${JSON.stringify(r.counts)}`).sort();
  return out;
}

/** The LA-wide figures and lists (every school above together). */
async function laSnapshot(svc: TestService, token: string): Promise<Snapshot> {
  const get = async (path: string) => (await svc.request('GET', path, { token })).json();
  return {
    la: await get(`/v1/metrics?scope=la&${PERIOD}`),
    bySchool: await get(`/v1/metrics?scope=la&groupBy=school&${PERIOD}`),
    persistentAbsence: await get(`/v1/pupils?flag=persistent_absence&${PERIOD}&limit=1000`),
    unauthorised: await get(`/v1/pupils?flag=severe_absence&${PERIOD}&limit=1000`),
  };
}

const post = (svc: TestService, token: string, csv: string) =>
  svc.request('POST', '/v1/returns', { token, body: csv, contentType: 'text/csv' });

// ---- The clean run ------------------------------------------------------------------------------

const expected = new Map<string, Snapshot>();
let expectedLa: Snapshot;

describe("a clean run of every scenario's returns, in order, one at a time", () => {
  it('is recorded as the expected state', async () => {
    const svc = await startTestService();
    try {
      const officer = await svc.token('la_officer');
      // Schools are independent: each round sends every school's next return, then waits for ingest.
      const rounds = Math.max(...Object.values(SCENARIOS).map((s) => s.returns.length));
      for (let r = 0; r < rounds; r++) {
        const sent = await Promise.all(
          Object.values(SCENARIOS)
            .filter((s) => s.returns[r])
            .map((s) => post(svc, officer, s.returns[r])),
        );
        expect(sent.map((res) => res.status)).toEqual(sent.map(() => 202));
        await svc.settle();
      }
      await Promise.all(
        Object.entries(SCENARIOS).map(async ([name, s]) => expected.set(name, await schoolSnapshot(svc, officer, s))),
      );
      expectedLa = await laSnapshot(svc, officer);
    } finally {
      await svc.stop();
    }
    // Sanity: the clean run produced figures worth comparing.
    const crash = expected.get('crashAfterRegister')!;
    expect((crash[`pupil ${upnFor(1, '999', '5101')}`] as { status: number }).status).toBe(200);
    expect((expectedLa.persistentAbsence as { items: unknown[] }).items.length).toBeGreaterThan(0);
  });
});

// ---- The faults ---------------------------------------------------------------------------------

describe('faults in ingest, compared with the clean run', () => {
  let svc: TestService;
  let officer: string;
  // Fresh module instances for this service (see the header), and the store modules to break.
  let registers: typeof import('../../shared/store/registers.js');
  let pupils: typeof import('../../shared/store/pupils.js');
  let schools: typeof import('../../shared/store/schools.js');
  let blobs: typeof import('../../shared/store/blobs.js');
  let register: typeof import('../../shared/domain/register.js');
  let ingest: typeof import('../../functions/ingest/handler.js');
  let receive: typeof import('../../functions/receive/handler.js');
  let returnsStore: typeof import('../../shared/store/returns.js');
  let queues: typeof import('../../shared/store/queues.js');

  beforeAll(async () => {
    vi.resetModules();
    svc = await startTestService();
    officer = await svc.token('la_officer');
    registers = await import('../../shared/store/registers.js');
    pupils = await import('../../shared/store/pupils.js');
    schools = await import('../../shared/store/schools.js');
    blobs = await import('../../shared/store/blobs.js');
    register = await import('../../shared/domain/register.js');
    ingest = await import('../../functions/ingest/handler.js');
    receive = await import('../../functions/receive/handler.js');
    returnsStore = await import('../../shared/store/returns.js');
    queues = await import('../../shared/store/queues.js');
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await svc?.stop();
  });

  /**
   * Make `fn` of `mod` fail once, on the first call `when` accepts: before doing its work, or after
   * it (the work is done, then the process "dies"). Returns how many times it failed.
   */
  function failOnce<M extends object, K extends keyof M>(
    mod: M,
    name: K,
    when: (...args: never[]) => boolean,
    timing: 'before' | 'after',
  ): () => number {
    const real = mod[name] as unknown as (...args: unknown[]) => Promise<unknown>;
    let failures = 0;
    vi.spyOn(mod, name as never).mockImplementation((async (...args: never[]) => {
      if (failures === 0 && when(...args)) {
        failures++;
        if (timing === 'after') await real(...args);
        throw new Error(`injected fault in ${String(name)}`);
      }
      return real(...args);
    }) as never);
    return () => failures;
  }

  async function uploadAll(s: Scenario, order = s.returns.map((_, i) => i)): Promise<string[]> {
    const ids: string[] = [];
    for (const i of order) {
      const res = await post(svc, officer, s.returns[i]);
      expect(res.status).toBe(202);
      ids.push(res.json().returnId);
      await svc.settle();
    }
    return ids;
  }

  async function expectCleanState(name: keyof typeof SCENARIOS): Promise<void> {
    expect(await schoolSnapshot(svc, officer, SCENARIOS[name])).toEqual(expected.get(name));
  }

  it('a crash right after the register is saved (before pupil records and view), retried by the queue, ends exactly as the clean run', async () => {
    const s = SCENARIOS.crashAfterRegister;
    const failures = failOnce(registers, 'saveRegister', (r: { urn: string }) => r.urn === s.urn, 'after');
    await uploadAll(s);
    vi.restoreAllMocks();
    expect(failures()).toBe(1);
    await expectCleanState('crashAfterRegister');
  });

  it('a crash part-way through the pupil records (two written, the third fails), retried, ends exactly as the clean run', async () => {
    const s = SCENARIOS.crashInPupilRecords;
    const ours = new Set(upnsOf(s));
    let written = 0;
    const failures = failOnce(
      pupils,
      'putSummaryIfUnchanged',
      (r: { upn: string }) => ours.has(r.upn) && ++written > 2,
      'before',
    );
    await uploadAll(s);
    vi.restoreAllMocks();
    expect(failures()).toBe(1);
    await expectCleanState('crashInPupilRecords');
  });

  it('a crash after the view is written but before the school record and the rollup request, retried, ends exactly as the clean run', async () => {
    const s = SCENARIOS.crashBeforeSchoolRecord;
    const failures = failOnce(schools, 'upsertSchool', (urn: string) => urn === s.urn, 'before');
    await uploadAll(s);
    vi.restoreAllMocks();
    expect(failures()).toBe(1);
    await expectCleanState('crashBeforeSchoolRecord');
  });

  it('a crash after the second academic year of a two-year return is saved, retried, applies neither year twice', async () => {
    const s = SCENARIOS.crashBetweenYears;
    const failures = failOnce(
      registers,
      'saveRegister',
      (r: { urn: string; academicYear: number }) => r.urn === s.urn && r.academicYear === 2025,
      'after',
    );
    await uploadAll(s);
    vi.restoreAllMocks();
    expect(failures()).toBe(1);
    await expectCleanState('crashBetweenYears');
  });

  it('a read of the received file failing once is retried and the return is applied once', async () => {
    const s = SCENARIOS.readFailsOnce;
    const failures = failOnce(
      blobs,
      'getBlob',
      (_bucket: string, key: string) => key.startsWith(`returns/${s.urn}/`),
      'before',
    );
    await uploadAll(s);
    vi.restoreAllMocks();
    expect(failures()).toBe(1);
    await expectCleanState('readFailsOnce');
  });

  it('duplicate delivery — the same S3 event twice, and the same message again after it was processed — changes nothing', async () => {
    const s = SCENARIOS.duplicateDelivery;
    const [returnId] = await uploadAll(s);
    const key = `returns/${s.urn}/${returnId}.csv`;
    const head = await blobs.headBlob('attendance-hub-returns', key);
    const event = (eTag: string) =>
      ({
        Records: [
          {
            eventName: 'ObjectCreated:Put',
            s3: { bucket: { name: 'attendance-hub-returns' }, object: { key, size: head!.size, eTag } },
          },
        ],
      }) as never;
    await receive.handler(event(head!.etag!.replace(/"/g, '')));
    await receive.handler(event(head!.etag!.replace(/"/g, '')));
    await receive.handler(event('redelivered-after-the-deduplication-window'));
    const message: IngestMessage = { kind: 'return', returnId, urn: s.urn, bucket: 'attendance-hub-returns', key };
    await ingest.handleIngestMessage(message);
    await svc.settle();
    expect((await returnsStore.getReturn(returnId))?.status).toBe('accepted');
    await expectCleanState('duplicateDelivery');
  });

  it('the same message processed twice at once (visibility timeout expired mid-run) converges on the clean state', async () => {
    const s = SCENARIOS.processedTwiceAtOnce;
    // A received return whose object sits outside returns/, so only these two deliveries process it.
    const returnId = `rtwice${Date.now().toString(36)}`;
    const key = `staging/${s.urn}/${returnId}.csv`;
    await blobs.putBlob('attendance-hub-returns', key, s.returns[0], 'text/csv');
    await returnsStore.createReturn({
      returnId,
      urn: s.urn,
      status: 'received',
      format: 'csv',
      bytes: s.returns[0].length,
      receivedAt: new Date().toISOString(),
      uploadedBy: { sub: 'officer', role: 'la_officer' },
      objectKey: key,
    });
    const message: IngestMessage = { kind: 'return', returnId, urn: s.urn, bucket: 'attendance-hub-returns', key };
    const results = await Promise.allSettled([
      ingest.handleIngestMessage(message),
      ingest.handleIngestMessage(message),
    ]);
    // A delivery that lost a race fails like any other and SQS delivers it again.
    if (results.some((r) => r.status === 'rejected')) await ingest.handleIngestMessage(message);
    await svc.settle();
    expect((await returnsStore.getReturn(returnId))?.status).toBe('accepted');
    await expectCleanState('processedTwiceAtOnce');
  });

  it('days arriving out of order (third, first, second) end in the same state as in order', async () => {
    await uploadAll(SCENARIOS.outOfOrder, [2, 0, 1]);
    await expectCleanState('outOfOrder');
  });

  it('two returns for one school at once are both applied, nothing lost', async () => {
    const s = SCENARIOS.twoAtOnce;
    const [a, b] = await Promise.all(s.returns.map((csv) => post(svc, officer, csv)));
    expect([a.status, b.status]).toEqual([202, 202]);
    await svc.settle();
    await expectCleanState('twoAtOnce');
  });

  it('leaves the LA-wide figures and flagged-pupil lists exactly as the clean run', async () => {
    // The API answering here runs on this service's own module instances (no cache from the clean run).
    const viewCache = await import('../../functions/api/view-cache.js');
    const reads = vi.spyOn(viewCache, 'currentLaView');
    const la = await laSnapshot(svc, officer);
    expect(reads).toHaveBeenCalled();
    vi.restoreAllMocks();
    expect(la).toEqual(expectedLa);
  });

  it('a poison file, failing on every attempt, reaches the dead-letter path: `rejected` with its reason, the file kept', async () => {
    const body = POISON.returns[0];
    // Its rows trip a fault in applying them (a stand-in for a bug some file provokes): every attempt fails.
    let attempts = 0;
    const real = register.applyRows;
    vi.spyOn(register, 'applyRows').mockImplementation((reg, rows, id) => {
      if (reg.urn === POISON.urn) {
        attempts++;
        throw new RangeError('Invalid time value');
      }
      return real(reg, rows, id);
    });
    const res = await post(svc, officer, body);
    expect(res.status).toBe(202);
    const { returnId } = res.json();
    await svc.settle();
    vi.restoreAllMocks();

    expect(attempts).toBe(5); // the queue's maxReceiveCount
    expect(
      svc.runtime.queues.deadLetters('attendance-hub-ingest.fifo').map((d) => JSON.parse(d.body).returnId),
    ).toContain(returnId);
    const st = (await svc.request('GET', `/v1/returns/${returnId}`, { token: officer })).json();
    expect(st).toMatchObject({ status: 'rejected', rejection: { title: 'Processing failed' } });
    expect(st.rejection.detail).toMatch(/could not be processed after repeated attempts/);
    expect(st.rejection.detail).toMatch(/kept/);
    expect(
      (await blobs.getBlob('attendance-hub-returns', `returns/${POISON.urn}/${returnId}.csv`))?.body.toString('utf8'),
    ).toBe(body);
    // Nothing of it was applied.
    expect((await registers.loadRegister(POISON.urn, YEAR)).pupils.size).toBe(0);
  });

  it('an S3 event whose hand-over to the queue fails once is delivered again and the return applied', async () => {
    // Exercised on a copy of a clean scenario's first return at a new school.
    const csv = SCENARIOS.crashAfterRegister.returns[0].replaceAll('510001', '510011');
    let failed = 0;
    const real = queues.sendIngest;
    vi.spyOn(queues, 'sendIngest').mockImplementation(async (message, dedup) => {
      if (message.urn === '510011' && failed++ === 0) throw new Error('injected fault in sendIngest');
      return real(message, dedup);
    });
    const res = await post(svc, officer, csv);
    await svc.settle();
    vi.restoreAllMocks();
    expect(failed).toBeGreaterThanOrEqual(2);
    expect((await svc.request('GET', `/v1/returns/${res.json().returnId}`, { token: officer })).json().status).toBe(
      'accepted',
    );
  });
});
