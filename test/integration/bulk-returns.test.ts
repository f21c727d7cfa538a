/**
 * A school's files sent at once take the bulk path (shared/app/apply-return.ts): its waiting
 * returns are applied in one batch, in the order received, each under its own return id, with one
 * register write and one derivation. The end state must be exactly that of the files applied one by
 * one: marks, pupil figures, the school view, the duties notes, each return's status and counts;
 * a correction inside the batch wins, a rejected file does not stop the others, and a crash half-way
 * followed by the queue's redelivery converges to the same state.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from './harness.js';
import { returnCsv, upnFor, weekdays, type ReturnRowInput } from '../support/returns.js';

let svc: TestService;
let officer: string;

beforeAll(async () => {
  svc = await startTestService();
  officer = await svc.token('la_officer');
});
afterAll(async () => svc?.stop());

const PUPILS = 20;
const DAYS = weekdays('2025-09-08', '2025-09-19');

/** A school of the test: its URN and its own pupils (same serials, so states compare pupil by pupil). */
interface School {
  urn: string;
  estab: string;
}
const ONE_BY_ONE: School = { urn: '810001', estab: '3001' };
const AT_ONCE: School = { urn: '810002', estab: '3002' };
const CRASHED: School = { urn: '810003', estab: '3003' };

const upnOf = (s: School, p: number) => upnFor(p + 1, '999', s.estab);

function dayRows(s: School, d: number): ReturnRowInput[] {
  return Array.from({ length: PUPILS }, (_, p) => ({
    urn: s.urn,
    upn: upnOf(s, p),
    date: DAYS[d],
    am: (p + d) % 7 === 0 ? 'I' : '/',
    pm: (p * (d + 1)) % 11 === 3 ? 'N' : '/',
    forename: `Pupil${p}`,
    surname: 'Tester',
    year_group: String(3 + (p % 4)),
  }));
}

/**
 * The school's files in the order sent: five days, a correction of day 2, a broken file, a day with
 * one bad row, and the rest of the fortnight.
 */
function files(s: School): string[] {
  const out: string[] = [];
  for (let d = 0; d < 5; d++) out.push(returnCsv(dayRows(s, d)));
  // The correction: pupil 3's morning of day 2 was an unauthorised absence, pupil 4's afternoon illness.
  out.push(
    returnCsv([
      { urn: s.urn, upn: upnOf(s, 3), date: DAYS[1], am: 'O', pm: '/' },
      { urn: s.urn, upn: upnOf(s, 4), date: DAYS[1], am: '/', pm: 'I' },
    ]),
  );
  out.push('urn,upn,date\nnot,a,return\n');
  for (let d = 5; d < 10; d++) {
    const rows = dayRows(s, d);
    if (d === 6) rows.push({ urn: s.urn, upn: upnOf(s, PUPILS), date: DAYS[d], am: 'ZZ', pm: '/' });
    out.push(returnCsv(rows));
  }
  return out;
}

const returnIdOf = (s: School, i: number) => `rbulk${s.urn}${String(i).padStart(2, '0')}`;
const keyOf = (s: School, i: number) => `held/${s.urn}/${returnIdOf(s, i)}.csv`; // outside returns/: the test drives ingest

/** Record and store file i as received (as POST /v1/returns does), without queueing it. */
async function receive(s: School, i: number, csv: string): Promise<void> {
  const { createReturn } = await import('../../shared/store/returns.js');
  const { putBlob } = await import('../../shared/store/blobs.js');
  const receivedAt = new Date(Date.UTC(2025, 8, 8, 16, i)).toISOString();
  await putBlob(process.env.RETURNS_BUCKET as string, keyOf(s, i), csv, 'text/csv');
  await createReturn({
    returnId: returnIdOf(s, i),
    urn: s.urn,
    status: 'received',
    format: 'csv',
    receivedAt,
    uploadedBy: { sub: `school-${s.urn}`, role: 'school', urn: s.urn },
    objectKey: keyOf(s, i),
  });
}

/** Process file i's queue message; a redelivery (as the ingest handler does it) without the later returns. */
async function deliver(s: School, i: number, redelivery = false) {
  const { processReturn } = await import('../../shared/app/apply-return.js');
  const { storedIngest } = await import('../../shared/app/wiring.js');
  return processReturn(storedIngest, returnIdOf(s, i), process.env.RETURNS_BUCKET as string, keyOf(s, i), {
    batch: !redelivery,
  });
}

/** Every S3 object key written while `work` runs. */
async function putsDuring(work: () => Promise<void>): Promise<string[]> {
  const { s3Client } = await import('../../shared/store/clients.js');
  const keys: string[] = [];
  const stack = s3Client().middlewareStack;
  stack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'PutObjectCommand') keys.push(String((args.input as { Key?: string }).Key));
      return next(args);
    },
    { step: 'initialize', name: 'bulkTestPuts', override: true },
  );
  try {
    await work();
  } finally {
    stack.remove('bulkTestPuts');
  }
  return keys;
}

/**
 * Everything a school's returns decide, with the school's URN and pupils' UPNs written as the
 * one-by-one school's, so two schools' states compare as equal when they are.
 */
async function stateOf(s: School) {
  const { getSchoolView } = await import('../../shared/store/views.js');
  const { getSchoolDuties } = await import('../../shared/store/duties.js');
  const { loadRegister } = await import('../../shared/store/registers.js');
  const { getReturn } = await import('../../shared/store/returns.js');
  const n = files(s).length;
  const returns = [];
  for (let i = 0; i < n; i++) {
    const r = await getReturn(returnIdOf(s, i));
    returns.push({ status: r?.status, counts: r?.counts, errors: r?.errors, dates: r?.dates, rejection: r?.rejection });
  }
  const pupils = [];
  for (let p = 0; p < PUPILS; p++) {
    const res = await svc.request('GET', `/v1/pupils/${upnOf(s, p)}?academicYear=2025`, { token: officer });
    expect(res.status).toBe(200);
    pupils.push(res.json());
  }
  const sessions = (
    await svc.request('GET', `/v1/pupils/${upnOf(s, 3)}/sessions?from=${DAYS[1]}&to=${DAYS[1]}`, { token: officer })
  ).json();
  const metrics = (
    await svc.request('GET', `/v1/metrics?scope=school&urn=${s.urn}&groupBy=year_group&from=2025-08-01&to=2026-07-31`, {
      token: officer,
    })
  ).json();
  const register = await loadRegister(s.urn, 2025);
  const { computedAt: _c, ...duties } = (await getSchoolDuties(s.urn, 2025)) ?? { computedAt: '' };
  const view = await getSchoolView(s.urn, 2025);
  const state = {
    returns,
    pupils,
    sessions,
    metrics,
    duties,
    view,
    register: {
      version: register.version,
      applied: register.appliedReturns.length,
      pupils: [...register.pupils.values()],
    },
  };
  let text = JSON.stringify(state)
    .replaceAll(s.urn, ONE_BY_ONE.urn)
    .replaceAll(returnIdOf(s, 0).slice(0, -2), returnIdOf(ONE_BY_ONE, 0).slice(0, -2));
  for (let p = 0; p <= PUPILS; p++) text = text.replaceAll(upnOf(s, p), upnOf(ONE_BY_ONE, p));
  // Lists of records in a canonical order: rows ordered by UPN (and cells built in that order) come
  // out in another order once renamed, since the UPNs' check letters differ.
  // (The returns stay in the order received.)
  const mapped = JSON.parse(text) as typeof state;
  return { ...(canonical(mapped) as typeof state), returns: mapped.returns };
}

function canonical(x: unknown): unknown {
  if (Array.isArray(x)) {
    const items = x.map(canonical);
    if (items.every((i) => i !== null && typeof i === 'object'))
      items.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
    return items;
  }
  if (x !== null && typeof x === 'object')
    return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, canonical(v)]));
  return x;
}

describe("a school's files sent at once", () => {
  it('end in exactly the state of sending them one by one, with one register write and one derivation', async () => {
    const oneByOne = files(ONE_BY_ONE);
    const byOnePuts = await putsDuring(async () => {
      for (let i = 0; i < oneByOne.length; i++) {
        await receive(ONE_BY_ONE, i, oneByOne[i]);
        expect((await deliver(ONE_BY_ONE, i)).batched).toBeUndefined();
      }
    });
    await svc.settle();

    const atOnce = files(AT_ONCE);
    for (let i = 0; i < atOnce.length; i++) await receive(AT_ONCE, i, atOnce[i]);
    let first: Awaited<ReturnType<typeof deliver>> | undefined;
    const atOncePuts = await putsDuring(async () => {
      first = await deliver(AT_ONCE, 0);
    });
    expect(first?.batched).toEqual(atOnce.slice(1).map((_, i) => returnIdOf(AT_ONCE, i + 1)));
    // Each later return's own message finds it finished.
    for (let i = 1; i < atOnce.length; i++) expect((await deliver(AT_ONCE, i)).skipped).toBe(true);
    await svc.settle();

    const count = (keys: string[], re: RegExp) => keys.filter((k) => re.test(k)).length;
    const registerKey = (urn: string) => new RegExp(`^registers/2025/${urn}\\.json\\.gz$`);
    // The school's own view (the rollup also writes the school's contribution to the LA figures under views/).
    const viewKey = (urn: string) => new RegExp(`^views/2025/schools/${urn}\\.`);
    const dutiesKey = (urn: string) => new RegExp(`^duties/2025/${urn}\\.`);
    // One by one: a write and a derivation per accepted file (11 of 12); at once: one of each.
    expect(count(byOnePuts, registerKey(ONE_BY_ONE.urn))).toBe(11);
    expect(count(byOnePuts, viewKey(ONE_BY_ONE.urn))).toBeGreaterThanOrEqual(11);
    expect(count(atOncePuts, registerKey(AT_ONCE.urn))).toBe(1);
    expect(count(atOncePuts, viewKey(AT_ONCE.urn))).toBe(count(byOnePuts, viewKey(ONE_BY_ONE.urn)) / 11);
    expect(count(atOncePuts, dutiesKey(AT_ONCE.urn))).toBe(1);

    const expected = await stateOf(ONE_BY_ONE);
    const actual = await stateOf(AT_ONCE);
    expect((expected.view as { pupils?: unknown[] }).pupils).toHaveLength(PUPILS);
    expect(expected.register.pupils).toHaveLength(PUPILS);
    // The school view's version counts derivations; everything else must be the same.
    expect({ ...actual, view: { ...actual.view, version: undefined } }).toEqual({
      ...expected,
      view: { ...expected.view, version: undefined },
    });

    // The correction inside the batch wins over day 2's file; the broken file is rejected whole and
    // the files after it apply; the bad row is a row error of its own file only.
    expect(actual.sessions.sessions.find((x: { session: string }) => x.session === 'AM').code).toBe('O');
    expect(actual.returns.map((r: { status?: string }) => r.status)).toEqual([
      'accepted',
      'accepted',
      'accepted',
      'accepted',
      'accepted',
      'accepted',
      'rejected',
      'accepted',
      'accepted_with_errors',
      'accepted',
      'accepted',
      'accepted',
    ]);
    expect(actual.returns[8].counts).toEqual({ rows: PUPILS + 1, accepted: PUPILS, rejected: 1 });
    expect(actual.register.applied).toBe(11);
  });

  it("converges after a crash half-way through the batch and the queue's redelivery", async () => {
    const sent = files(CRASHED);
    for (let i = 0; i < sent.length; i++) await receive(CRASHED, i, sent[i]);
    // The fault: the third return's outcome cannot be recorded (the process dies there).
    const { documentClient } = await import('../../shared/store/clients.js');
    const stack = documentClient().middlewareStack;
    let outcomes = 0;
    stack.add(
      (next) => async (args) => {
        const text = JSON.stringify(args.input);
        if (
          text.includes('"#status"') &&
          /"accepted(_with_errors)?"/.test(text) &&
          text.includes('processedAt') &&
          ++outcomes === 3
        ) {
          throw new Error('injected crash');
        }
        return next(args);
      },
      { step: 'initialize', name: 'bulkTestCrash', override: true },
    );
    try {
      await expect(deliver(CRASHED, 0)).rejects.toThrow('injected crash');
    } finally {
      stack.remove('bulkTestCrash');
    }
    // The queue redelivers the first message, then delivers the others in order.
    for (let i = 0; i < sent.length; i++) await deliver(CRASHED, i, i === 0);
    await svc.settle();

    const expected = await stateOf(ONE_BY_ONE);
    const actual = await stateOf(CRASHED);
    expect({ ...actual, view: { ...actual.view, version: undefined } }).toEqual({
      ...expected,
      view: { ...expected.view, version: undefined },
    });
  });

  it("treats a pupil an earlier file of the batch joined as the school's own, as one by one would", async () => {
    // Another school holds the pupil; this school's first file agrees with the record (so the pupil
    // joins), its second names nobody. Alone, the second would find the pupil the school's own.
    const holder: School = { urn: '820001', estab: '3201' };
    const joiner: School = { urn: '820002', estab: '3202' };
    const upn = upnOf(holder, 0);
    const who = { forename: 'Ada', surname: 'Lovelace', dob: '2015-03-04' };
    await receive(holder, 0, returnCsv([{ urn: holder.urn, upn, date: DAYS[0], am: '/', pm: '/', ...who }]));
    expect((await deliver(holder, 0)).status).toBe('accepted');
    await receive(joiner, 0, returnCsv([{ urn: joiner.urn, upn, date: DAYS[1], am: '/', pm: '/', ...who }]));
    await receive(joiner, 1, returnCsv([{ urn: joiner.urn, upn, date: DAYS[2], am: 'O', pm: '/' }]));
    const outcome = await deliver(joiner, 0);
    expect(outcome).toMatchObject({ status: 'accepted', batched: [returnIdOf(joiner, 1)] });
    await svc.settle();
    const { getReturn } = await import('../../shared/store/returns.js');
    expect(await getReturn(returnIdOf(joiner, 1))).toMatchObject({
      status: 'accepted',
      counts: { rows: 1, accepted: 1, rejected: 0 },
    });
    const sessions = (
      await svc.request('GET', `/v1/pupils/${upn}/sessions?from=${DAYS[2]}&to=${DAYS[2]}`, { token: officer })
    ).json().sessions;
    expect(sessions.find((x: { session: string }) => x.session === 'AM').code).toBe('O');
  });
});
