/**
 * Pupil records across schools (shared/store/pupils.ts, shared/app/pupil-summaries.ts): a pupil
 * known to one school is written without a condition, so the hand-over to "shared" when a second
 * school lists the pupil must never lose either school's marks, whatever the interleaving. Each test
 * holds one ingest at a chosen step while the other runs, then compares the stored record with the
 * summary computed from both schools' registers at the end.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestService, type TestService } from './harness.js';
import { upnFor } from '../support/returns.js';
import type { RegisterRow, SchoolRegister } from '../../shared/domain/register.js';

const YEAR = 2025;

describe('pupil records: two schools ingesting one pupil at once', () => {
  let svc: TestService;
  let pupils: typeof import('../../shared/store/pupils.js');
  let refresh: typeof import('../../shared/app/pupil-summaries.js');
  let stores: typeof import('../../shared/app/wiring.js').storedIngest;
  let domain: typeof import('../../shared/domain/register.js');
  let status: typeof import('../../shared/domain/pupil-status.js');
  let schools: typeof import('../../shared/store/schools.js');
  let settings: import('../../shared/config.js').LaSettings;

  beforeAll(async () => {
    vi.resetModules();
    svc = await startTestService();
    pupils = await import('../../shared/store/pupils.js');
    refresh = await import('../../shared/app/pupil-summaries.js');
    stores = (await import('../../shared/app/wiring.js')).storedIngest;
    domain = await import('../../shared/domain/register.js');
    status = await import('../../shared/domain/pupil-status.js');
    schools = await import('../../shared/store/schools.js');
    settings = (await import('../../shared/config.js')).runtimeConfig().settings;
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await svc?.stop();
  });

  function register(
    urn: string,
    upn: string,
    days: Array<[string, string, string]>,
    returnId: string,
    into?: SchoolRegister,
  ): SchoolRegister {
    const r = into ?? domain.emptyRegister(urn, YEAR);
    const rows: RegisterRow[] = days.map(([date, am, pm]) => ({
      urn,
      upn,
      date,
      am,
      pm,
      forename: 'A',
      surname: 'B',
      yearGroup: '8',
      registration: urn.endsWith('2') ? 'S' : 'C',
    }));
    domain.applyRows(r, rows, returnId);
    return r;
  }

  async function derive(r: SchoolRegister, upn: string): Promise<void> {
    await schools.putSessionDays(r.urn, r.academicYear, domain.sessionDays(r));
    await refresh.refreshPupilSummaries(stores, {
      register: r,
      upns: [upn],
      care: new Map(),
      settings,
      today: '2026-07-31',
    });
  }

  /** What the pupil's summary must be: computed from both schools' final registers. */
  function expected(upn: string, regs: SchoolRegister[]) {
    const enrolments = regs.map((r) => ({ ...r.pupils.get(upn)!, urn: r.urn, academicYear: r.academicYear }));
    const sessionDays = new Map(regs.map((r) => [`${r.academicYear}#${r.urn}`, domain.sessionDays(r)]));
    return status.summarisePupil({
      upn,
      academicYear: YEAR,
      enrolments,
      care: [],
      sessionDays,
      settings,
      today: '2026-07-31',
    });
  }

  /** Hold the first putEnrolments call for `urn` until `release` resolves. */
  function holdEnrolmentWrite(urn: string, release: Promise<void>): { reached: Promise<void> } {
    const real = pupils.putEnrolments;
    let reached!: () => void;
    const at = new Promise<void>((r) => (reached = r));
    let held = false;
    vi.spyOn(pupils, 'putEnrolments').mockImplementation(async (school, year, entries, onRegister) => {
      if (!held && school === urn) {
        held = true;
        reached();
        await release;
      }
      return real(school, year, entries, onRegister);
    });
    return { reached: at };
  }

  it("keeps the owning school's new marks when another school takes the pupil on from marks read just before them", async () => {
    const upn = upnFor(1, '999', '6101');
    const a = register(
      '610011',
      upn,
      [
        ['2025-09-15', '/', '/'],
        ['2025-09-16', '/', '/'],
      ],
      'a1',
    );
    await derive(a, upn);
    expect((await pupils.getPupilHeads([upn])).get(upn)?.owner).toBe('610011');

    // B reads A's enrolment, then waits; meanwhile A writes a day of absence (owned, no condition).
    let release!: () => void;
    const gate = holdEnrolmentWrite('610012', new Promise<void>((r) => (release = r)));
    const b = register('610012', upn, [['2025-09-17', '/', '/']], 'b1');
    const taking = derive(b, upn);
    await gate.reached;
    register('610011', upn, [['2025-09-18', 'N', 'N']], 'a2', a);
    await derive(a, upn);
    release();
    await taking;
    vi.restoreAllMocks();

    const record = await pupils.getSummary(upn);
    expect(record?.years[String(YEAR)]).toEqual(expected(upn, [a, b]));
    expect(record?.enrolments.map((e) => e.urn).sort()).toEqual(['610011', '610012']);
    expect(record?.years[String(YEAR)].counts).toEqual(expected(upn, [a, b]).counts);
  });

  it("recomputes the owning school's pupil when another school took it on while its marks were being written", async () => {
    const upn = upnFor(2, '999', '6102');
    const a = register('610021', upn, [['2025-09-15', '/', '/']], 'a1');
    await derive(a, upn);

    // A reads the head (owned by A) and waits before writing; B takes the pupil on from A's old marks.
    let release!: () => void;
    const gate = holdEnrolmentWrite('610021', new Promise<void>((r) => (release = r)));
    register(
      '610021',
      upn,
      [
        ['2025-09-16', 'I', 'I'],
        ['2025-09-17', 'I', 'I'],
      ],
      'a2',
      a,
    );
    const writing = derive(a, upn);
    await gate.reached;
    const b = register('610022', upn, [['2025-09-18', '/', 'O']], 'b1');
    await derive(b, upn);
    release();
    await writing;
    vi.restoreAllMocks();

    const record = await pupils.getSummary(upn);
    expect(record?.years[String(YEAR)]).toEqual(expected(upn, [a, b]));
    expect((await pupils.getPupilHeads([upn])).get(upn)?.owner).toBeUndefined();
  });

  it('recomputes a pupil whose head this process last saw owned, when another process has since taken it on', async () => {
    const upn = upnFor(6, '999', '6106');
    const a = register('610061', upn, [['2025-09-15', '/', '/']], 'a1');
    await derive(a, upn); // this process now holds the head (owned by A) from its own reads

    // Another process (its own module instances, so its own copies) takes the pupil on.
    vi.resetModules();
    const other = await import('../../shared/app/pupil-summaries.js');
    const otherStores = (await import('../../shared/app/wiring.js')).storedIngest;
    const b = register('610062', upn, [['2025-09-16', '/', '/']], 'b1');
    await schools.putSessionDays(b.urn, YEAR, domain.sessionDays(b));
    await other.refreshPupilSummaries(otherStores, {
      register: b,
      upns: [upn],
      care: new Map(),
      settings,
      today: '2026-07-31',
    });

    register('610061', upn, [['2025-09-17', 'G', 'G']], 'a2', a);
    await derive(a, upn);
    const record = await pupils.getSummary(upn);
    expect(record?.years[String(YEAR)]).toEqual(expected(upn, [a, b]));
  });

  it('two schools listing a new pupil at the same moment both end in the one record', async () => {
    const upn = upnFor(3, '999', '6103');
    const a = register('610031', upn, [['2025-09-15', '/', 'N']], 'a1');
    const b = register(
      '610032',
      upn,
      [
        ['2025-09-15', 'D', 'D'],
        ['2025-09-16', '/', '/'],
      ],
      'b1',
    );
    await Promise.all([derive(a, upn), derive(b, upn)]);
    const record = await pupils.getSummary(upn);
    expect(record?.years[String(YEAR)]).toEqual(expected(upn, [a, b]));
    expect(record?.enrolmentKeys).toEqual([`${YEAR}#610031`, `${YEAR}#610032`]);
  });

  it("keeps every other pupil's enrolment when a return lists only some of the school's pupils", async () => {
    const urn = '610051';
    const upns = Array.from({ length: 80 }, (_, i) => upnFor(100 + i, '999', '6105'));
    const r = domain.emptyRegister(urn, YEAR);
    domain.applyRows(
      r,
      upns.map((upn) => ({ urn, upn, date: '2025-09-15', am: '/', pm: '/' })),
      'all',
    );
    await schools.putSessionDays(urn, YEAR, domain.sessionDays(r));
    await refresh.refreshPupilSummaries(stores, { register: r, upns, care: new Map(), settings, today: '2026-07-31' });
    domain.applyRows(r, [{ urn, upn: upns[0], date: '2025-09-16', am: 'N', pm: 'N' }], 'one');
    await refresh.refreshPupilSummaries(stores, {
      register: r,
      upns: [upns[0]],
      care: new Map(),
      settings,
      today: '2026-07-31',
    });
    const records = await pupils.getSummaries(upns);
    for (const upn of upns) {
      expect(records.get(upn)?.enrolments.map((e) => e.marks)).toEqual([r.pupils.get(upn)!.marks]);
      expect(records.get(upn)?.years[String(YEAR)]).toEqual(expected(upn, [r]));
    }
  });

  it("keeps a pupil at one school owned by it across days and years, with every year's summary readable", async () => {
    const upn = upnFor(4, '999', '6104');
    const a = register('610041', upn, [['2025-09-15', '/', '/']], 'a1');
    await derive(a, upn);
    register('610041', upn, [['2025-09-16', 'N', '/']], 'a2', a);
    await derive(a, upn);
    const next = domain.emptyRegister('610041', YEAR + 1);
    domain.applyRows(next, [{ urn: '610041', upn, date: '2026-09-07', am: '/', pm: '/', yearGroup: '9' }], 'a3');
    await derive(next, upn);
    const head = (await pupils.getPupilHeads([upn])).get(upn);
    expect(head).toMatchObject({
      owner: '610041',
      version: 2,
      enrolmentKeys: [`${YEAR}#610041`, `${YEAR + 1}#610041`],
    });
    const record = await pupils.getSummary(upn);
    expect(record?.years[String(YEAR)]).toEqual(expected(upn, [a]));
    expect(Object.keys(record?.years ?? {}).sort()).toEqual([String(YEAR), String(YEAR + 1)]);
    expect((await pupils.getSummaries([upn])).get(upn)).toEqual(record);
  });

  it("reads no head for a school's next return while its head epochs stand, and a pupil's head again once another school moves its epoch", async () => {
    const [upn, leaver] = [upnFor(7, '999', '6107'), upnFor(8, '999', '6107')];
    const a = register('610071', upn, [['2025-09-15', '/', '/']], 'a1');
    register('610071', leaver, [['2025-09-15', '/', '/']], 'a1-leaver', a);
    const refreshA = async (upns: string[]) => {
      await schools.putSessionDays(a.urn, YEAR, domain.sessionDays(a));
      return refresh.refreshPupilSummaries(stores, {
        register: a,
        upns,
        care: new Map(),
        settings,
        today: '2026-07-31',
      });
    };
    await refreshA([upn, leaver]);

    const reads = vi.spyOn(pupils, 'getPupilHeads');
    register('610071', upn, [['2025-09-16', 'N', 'N']], 'a2', a);
    const quiet = await refreshA([upn, leaver]);
    expect(reads).not.toHaveBeenCalled();
    expect(quiet.get(upn)?.v).toBe(1);

    // Another process takes one pupil on: the owner's epoch for that pupil's group moves, so the
    // owner's next return reads that head again (this process's copy still says it owns the pupil).
    vi.resetModules();
    const other = await import('../../shared/app/pupil-summaries.js');
    const otherStores = (await import('../../shared/app/wiring.js')).storedIngest;
    const b = register('610072', leaver, [['2025-09-16', '/', '/']], 'b1');
    await schools.putSessionDays(b.urn, YEAR, domain.sessionDays(b));
    await other.refreshPupilSummaries(otherStores, {
      register: b,
      upns: [leaver],
      care: new Map(),
      settings,
      today: '2026-07-31',
    });
    register('610071', upn, [['2025-09-17', '/', '/']], 'a3', a);
    const after = await refreshA([upn, leaver]);
    const reread = reads.mock.calls.flatMap(([upns]) => upns);
    expect(reread).toContain(leaver);
    if (pupils.headEpochGroup(upn) !== pupils.headEpochGroup(leaver)) expect(reread).not.toContain(upn);
    vi.restoreAllMocks();
    const heads = await pupils.getPupilHeads([upn, leaver]);
    expect(after.get(upn)?.v).toBe(heads.get(upn)?.version);
    expect(after.get(leaver)?.v).toBe(heads.get(leaver)?.version);
    expect(heads.get(leaver)?.owner).toBeUndefined();
    expect((await pupils.getSummary(leaver))?.years[String(YEAR)]).toEqual(expected(leaver, [a, b]));
  });

  it('stores enrolments with their marks from the first row to the last and shared encodings once, and reads items written before', async () => {
    const { batchPut } = await import('../../shared/store/table.js');
    const { k } = await import('../../shared/store/keys.js');
    const { deflateRawSync } = await import('node:zlib');
    const urn = '100951';
    const [u1, u2, u3] = [upnFor(951), upnFor(952), upnFor(953)];
    let r = register(
      urn,
      u1,
      [
        ['2025-09-01', '/', '\\'],
        ['2025-09-08', 'N', 'L'],
      ],
      'r1',
    );
    r = register(
      urn,
      u2,
      [
        ['2025-08-01', '/', '/'],
        ['2026-07-30', 'B', 'B'],
      ],
      'r2',
      r,
    );
    r = register(urn, u3, [['2025-09-02', '#', '#']], 'r3', r);
    const enrolment = (upn: string) => ({ ...r.pupils.get(upn)!, urn, academicYear: YEAR });
    const refs = [u1, u2, u3].map((upn) => ({ upn, key: `${YEAR}#${urn}` }));
    await pupils.putEnrolments(
      urn,
      YEAR,
      [u1, u2, u3].map((upn) => ({ enrolment: enrolment(upn), summary: undefined as never })),
      r.pupils.keys(),
    );
    const held = await pupils.getHeldEnrolments(refs);
    for (const upn of [u1, u2, u3]) {
      const { detailDates: _d, ...want } = enrolment(upn);
      expect(held.get(`${upn}|${YEAR}#${urn}`)?.enrolment).toEqual(want);
    }
    // An item in the form written before: each entry whole, its statements encoded in full.
    const { detailDates: _d, ...e1 } = enrolment(u1);
    const earlier = {
      [u1]: {
        rev: 'r',
        computedAt: '2025-09-08T00:00:00.000Z',
        enrolment: {
          ...e1,
          stated: Object.fromEntries(Object.entries(e1.stated).map(([c, v]) => [c, domain.encodeRuns(v)])),
        },
      },
    };
    const other = '100952';
    for (let bucket = 0; bucket < 32; bucket++)
      await batchPut([
        {
          ...k.schoolEnrolments(other, YEAR, bucket),
          urn: other,
          academicYear: YEAR,
          bucket,
          body: deflateRawSync(JSON.stringify(earlier)),
        } as { pk: string; sk: string },
      ]);
    const old = await pupils.getHeldEnrolments([{ upn: u1, key: `${YEAR}#${other}` }]);
    expect(old.get(`${u1}|${YEAR}#${other}`)?.enrolment).toEqual(e1);
    // The API's read of one pupil (its entry alone where it can) parses such an item whole.
    const oldAlone = await pupils.getHeldEnrolments([{ upn: u1, key: `${YEAR}#${other}` }], { together: true });
    expect(oldAlone.get(`${u1}|${YEAR}#${other}`)?.enrolment).toEqual(e1);
  });
  it("reads one pupil's entry of an item for the API without parsing the other pupils' (issue 17), and the same enrolment as the whole item gives", async () => {
    const urn = '100961';
    const upns = Array.from({ length: 64 }, (_, i) => upnFor(1000 + i));
    let r: SchoolRegister | undefined;
    for (const upn of upns)
      r = register(
        urn,
        upn,
        [
          ['2025-09-01', '/', '\\'],
          ['2025-10-06', 'I', 'I'],
        ],
        `r-${upn}`,
        r,
      );
    const enrolment = (upn: string, i: number) => ({
      ...r!.pupils.get(upn)!,
      urn,
      academicYear: YEAR,
      // Names holding what the reader looks for: quotes, braces, the table's end, another pupil's key.
      ...(i === 1 ? { forename: 'Zo\u00eb "}{],"entries":{' } : {}),
      ...(i === 2 ? { surname: `"${upns[3]}":{"x":1}` } : {}),
    });
    await pupils.putEnrolments(
      urn,
      YEAR,
      upns.map((upn, i) => ({ enrolment: enrolment(upn, i), summary: undefined as never })),
      r!.pupils.keys(),
    );
    const parsed: string[] = [];
    const parse = JSON.parse;
    const spy = vi
      .spyOn(JSON, 'parse')
      .mockImplementation((text: string, reviver?: Parameters<typeof JSON.parse>[1]) => {
        parsed.push(String(text));
        return parse(text, reviver);
      });
    try {
      for (const [i, upn] of upns.entries()) {
        const ref = [{ upn, key: `${YEAR}#${urn}` }];
        parsed.length = 0;
        const alone = await pupils.getHeldEnrolments(ref, { together: true });
        const wholeParsed = parsed.some((t) => t.startsWith('{"runs":'));
        const whole = await pupils.getHeldEnrolments(ref);
        const { detailDates: _d, ...want } = enrolment(upn, i);
        expect(alone.get(`${upn}|${YEAR}#${urn}`)?.enrolment, upn).toEqual(want);
        expect(alone.get(`${upn}|${YEAR}#${urn}`)).toEqual(whole.get(`${upn}|${YEAR}#${urn}`));
        // Never the whole item: a name holding a pupil's key holds it escaped (\"…\":{), not as a key.
        expect(wholeParsed, upn).toBe(false);
      }
      // A pupil the item does not hold: absent, as from the whole item.
      const stranger = [{ upn: upnFor(1999), key: `${YEAR}#${urn}` }];
      expect((await pupils.getHeldEnrolments(stranger, { together: true })).size).toBe(0);
    } finally {
      spy.mockRestore();
    }
  });
});
