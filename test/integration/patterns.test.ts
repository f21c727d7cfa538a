/**
 * Threshold-gaming patterns through the service (issue 7): an admin runs the detectors on demand
 * (the api invokes the patterns Lambda asynchronously; locally the Lambda Invoke stand-in), the run
 * reports its status, timings and counts, officers read the findings with their evidence (filters,
 * paging, CSV), the Virtual School only its own pupils', and the pupil view shows the flags of the
 * latest run only.
 *
 * The LA: two schools, a year of registers (2025/26) sent as back-fills; breaks come from the
 * registers themselves (no sessions in the half terms and holidays).
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquirePatternsLease, releasePatternsLease } from '../../shared/store/patterns.js';
import { returnCsv, upnFor, weekdays, type ReturnRowInput } from '../support/returns.js';
import { startTestService, type TestService } from './harness.js';

const A = '100001';
const B = '100002';
const HA = upnFor(1); // ill next to five different breaks, and looked after
const NT = upnFor(2); // an unauthorised holiday of 8 sessions before the October half term
const RC = upnFor(3); // religious observance next to five breaks: never a pattern
const F1 = upnFor(4); // with F2 (another school, same household): absent together next to three breaks
const F2 = upnFor(5, '999', '2002');
const PLAIN = [upnFor(6), upnFor(7), upnFor(8)];
const PLAIN_B = [upnFor(9, '999', '2002'), upnFor(10, '999', '2002')];

/** Weekdays the schools are closed (half terms, holidays, bank holidays) in 2025/26. */
const CLOSED = new Set([
  ...weekdays('2025-10-27', '2025-10-31'),
  ...weekdays('2025-12-22', '2026-01-02'),
  ...weekdays('2026-02-16', '2026-02-20'),
  ...weekdays('2026-03-30', '2026-04-10'),
  '2026-05-04',
  ...weekdays('2026-05-25', '2026-05-29'),
]);
const SCHOOL_DAYS = weekdays('2025-09-03', '2026-07-17').filter((d) => !CLOSED.has(d));

const FIVE_BREAKS = ['2025-10-24', '2026-01-05', '2026-02-13', '2026-04-13', '2026-05-22'];
const FAMILY_DAYS = ['2025-10-23', '2025-10-24', '2026-01-05', '2026-01-06', '2026-02-12', '2026-02-13'];
const NT_DAYS = ['2025-10-21', '2025-10-22', '2025-10-23', '2025-10-24'];

function rowsFor(
  urn: string,
  upn: string,
  codes: Record<string, string>,
  extra: Record<string, string> = {},
): ReturnRowInput[] {
  return SCHOOL_DAYS.map((date) => ({ urn, upn, date, am: codes[date] ?? '/', pm: codes[date] ?? '/', ...extra }));
}
const on = (dates: readonly string[], code: string) => Object.fromEntries(dates.map((d) => [d, code]));

let svc: TestService;
let admin: string;
let officer: string;
let vsh: string;
let schoolA: string;
let schoolB: string;

async function runNow(body?: unknown): Promise<{ runId: string; run: any }> {
  const res = await svc.request('POST', '/v1/patterns/runs', { token: admin, ...(body === undefined ? {} : { body }) });
  expect(res.status).toBe(202);
  const { runId } = res.json();
  await svc.settle();
  const run = (await svc.request('GET', `/v1/patterns/runs/${runId}`, { token: admin })).json();
  return { runId, run };
}

beforeAll(async () => {
  svc = await startTestService();
  [admin, officer, vsh, schoolA, schoolB] = await Promise.all([
    svc.token('admin'),
    svc.token('la_officer'),
    svc.token('vsh'),
    svc.token('school', { urn: A }),
    svc.token('school', { urn: B }),
  ]);
  const a = [
    ...rowsFor(A, HA, on(FIVE_BREAKS, 'I'), { cla: 'Y' }),
    ...rowsFor(A, NT, on(NT_DAYS, 'G')),
    ...rowsFor(A, RC, on(FIVE_BREAKS, 'R')),
    ...rowsFor(A, F1, on(FAMILY_DAYS, 'I'), { uprn: '100012345678' }),
    ...PLAIN.flatMap((upn) => rowsFor(A, upn, {})),
  ];
  const b = [
    ...rowsFor(B, F2, on(FAMILY_DAYS, 'I'), { uprn: '100012345678' }),
    ...PLAIN_B.flatMap((upn) => rowsFor(B, upn, {})),
  ];
  for (const [token, rows] of [
    [schoolA, a],
    [schoolB, b],
  ] as const) {
    const res = await svc.request('POST', '/v1/returns', { token, body: returnCsv(rows) });
    expect(res.status).toBe(202);
  }
  await svc.settle();
}, 180_000);
afterAll(async () => svc?.stop());

describe('a run on demand', () => {
  it('answers 202 with a run id at once, and the run succeeds with its year, timings and counts', async () => {
    const res = await svc.request('POST', '/v1/patterns/runs', { token: admin });
    expect(res.status).toBe(202);
    const { runId, status } = res.json();
    expect(status).toBe('received');
    expect(res.headers.location).toBe(`/v1/patterns/runs/${runId}`);
    const early = (await svc.request('GET', `/v1/patterns/runs/${runId}`, { token: admin })).json();
    expect(['received', 'running', 'succeeded']).toContain(early.status);
    await svc.settle();
    const run = (await svc.request('GET', `/v1/patterns/runs/${runId}`, { token: admin })).json();
    expect(run).toMatchObject({
      runId,
      trigger: 'api',
      status: 'succeeded',
      academicYear: 2025,
      period: { from: '2025-08-01', to: '2026-07-31' },
      counts: {
        findings: { holiday_adjacent_absence: 1, near_threshold_unauthorised: 1, family_pattern: 1, school_coding: 0 },
        pupilsAnalysed: 10,
        schoolsAnalysed: 2,
        pupilsFlagged: 4,
      },
    });
    expect(run.requestedBy).toBeTruthy();
    for (const t of ['loadMs', 'detectMs', 'storeMs', 'totalMs']) expect(run.timings[t]).toBeGreaterThanOrEqual(0);
    expect(run.finishedAt >= run.startedAt && run.startedAt >= run.receivedAt).toBe(true);
  });

  it('analyses the academic year asked for, and refuses a body that is not one', async () => {
    const { run } = await runNow({ academicYear: 2025 });
    expect(run).toMatchObject({ status: 'succeeded', academicYear: 2025 });
    const bad = await svc.request('POST', '/v1/patterns/runs', { token: admin, body: { academicYear: 'last' } });
    expect(bad.status).toBe(400);
    expect(bad.json().errors[0].field).toBe('academicYear');
    expect(
      (await svc.request('POST', '/v1/patterns/runs', { token: admin, body: 'x', contentType: 'text/plain' })).status,
    ).toBe(415);
  });

  it('records a run that finds another in progress as failed, saying which, and publishes nothing', async () => {
    const before = (await svc.request('GET', '/v1/patterns', { token: officer })).json().run.runId;
    const holder = 'pr000000000aaaaaaaaaaaa';
    expect(await acquirePatternsLease(holder, new Date(), new Date(Date.now() + 60_000))).toEqual({ acquired: true });
    try {
      const { run } = await runNow();
      expect(run).toMatchObject({ status: 'failed', error: expect.stringContaining(holder) });
    } finally {
      await releasePatternsLease(holder);
    }
    expect((await svc.request('GET', '/v1/patterns', { token: officer })).json().run.runId).toBe(before);
  });

  it('answers 404 for a run id that does not exist or is not one, and lets only the admin run or read runs', async () => {
    expect((await svc.request('GET', '/v1/patterns/runs/pr000000000bbbbbbbbbbbb', { token: admin })).status).toBe(404);
    expect((await svc.request('GET', '/v1/patterns/runs/..%2f..', { token: admin })).status).toBe(404);
    for (const token of [officer, vsh, schoolA]) {
      expect((await svc.request('POST', '/v1/patterns/runs', { token })).status).toBe(403);
      expect((await svc.request('GET', '/v1/patterns/runs/pr000000000bbbbbbbbbbbb', { token })).status).toBe(403);
    }
    for (const token of [admin, schoolA])
      expect((await svc.request('GET', '/v1/patterns', { token })).status).toBe(403);
  });
});

describe('findings with their evidence', () => {
  it('lists every finding of the latest run with dates and codes, observed vs expected, the statistic and one sentence', async () => {
    const res = await svc.request('GET', '/v1/patterns', { token: officer });
    expect(res.status).toBe(200);
    const body = res.json();
    expect(body.run).toMatchObject({ academicYear: 2025, period: { from: '2025-08-01', to: '2026-07-31' } });
    expect(body.total).toBe(3);
    expect(body.items.map((f: any) => f.type)).toEqual([
      'holiday_adjacent_absence',
      'near_threshold_unauthorised',
      'family_pattern',
    ]);
    const [holiday, near, family] = body.items;
    expect(holiday).toMatchObject({
      upn: HA,
      urn: A,
      observed: 10,
      statistic: { threshold: 7.5e-4, flaggedWhen: 'at_most' },
    });
    expect(holiday.expected).toBeGreaterThan(0);
    expect(holiday.statistic.value).toBeLessThanOrEqual(5e-4);
    expect(holiday.breaks.flatMap((b: any) => b.sessions.map((s: any) => `${s.date} ${s.session} ${s.code}`))).toEqual(
      FIVE_BREAKS.flatMap((d) => [`${d} AM I`, `${d} PM I`]),
    );
    expect(holiday.explanation).toMatch(
      /^10 of this pupil's 10 absence sessions .* next to 5 different holidays .*\.$/,
    );
    expect(near).toMatchObject({ upn: NT, urn: A, reasons: ['peaked_under'] });
    expect(near.episodes[0].sessions.map((s: any) => s.code)).toEqual(Array(8).fill('G'));
    expect(near.explanation).toMatch(/just under the penalty-notice threshold of 10/);
    expect(family).toMatchObject({ household: 'uprn:100012345678', urns: [A, B], sharedDates: FAMILY_DAYS });
    expect(family.children.map((c: any) => c.upn).sort()).toEqual([F1, F2].sort());
  });

  it('never flags religious observance next to breaks, nor pupils who attended throughout', async () => {
    const items = (await svc.request('GET', '/v1/patterns', { token: officer })).json().items;
    const named = items.flatMap((f: any) => [f.upn, ...(f.children ?? []).map((c: any) => c.upn)]);
    for (const upn of [RC, ...PLAIN, ...PLAIN_B]) expect(named).not.toContain(upn);
  });

  it('filters by type, school and dates (a finding whose evidence overlaps them), and checks them', async () => {
    const get = async (q: string) =>
      (await svc.request('GET', `/v1/patterns?${q}`, { token: officer })).json().items.map((f: any) => f.type);
    expect(await get('type=near_threshold_unauthorised')).toEqual(['near_threshold_unauthorised']);
    expect(await get(`urn=${B}`)).toEqual(['family_pattern']);
    expect(await get('from=2025-10-25')).toEqual(['holiday_adjacent_absence', 'family_pattern']);
    expect(await get('from=2026-02-14&to=2026-03-31')).toEqual(['holiday_adjacent_absence']);
    expect((await svc.request('GET', '/v1/patterns?type=holidays', { token: officer })).status).toBe(400);
    expect((await svc.request('GET', '/v1/patterns?from=2026-03-01&to=2026-02-01', { token: officer })).status).toBe(
      400,
    );
  });

  it('pages with limit and cursor, and answers text/csv with one row per finding', async () => {
    const first = (await svc.request('GET', '/v1/patterns?limit=2', { token: officer })).json();
    expect(first.items).toHaveLength(2);
    const second = (
      await svc.request('GET', `/v1/patterns?limit=2&cursor=${first.nextCursor}`, { token: officer })
    ).json();
    expect(second).toMatchObject({ nextCursor: null, total: 3 });
    expect(second.items.map((f: any) => f.type)).toEqual(['family_pattern']);
    const csv = await svc.request('GET', '/v1/patterns', { token: officer, headers: { accept: 'text/csv' } });
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const lines = csv.text
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n');
    expect(lines[0]).toBe(
      'type,upn,urn,urns,household,children,from,to,observed,expected,statistic,statisticValue,threshold,explanation',
    );
    expect(lines).toHaveLength(4);
    expect(lines[1].startsWith(`holiday_adjacent_absence,${HA},${A},`)).toBe(true);
  });

  it('shows the Virtual School only the findings of children in its cohorts', async () => {
    const body = (await svc.request('GET', '/v1/patterns', { token: vsh })).json();
    expect(body.items.map((f: any) => [f.type, f.upn])).toEqual([['holiday_adjacent_absence', HA]]);
  });
});

describe('audit of the findings list', () => {
  it('files the read under every child a returned finding names, siblings included (issue 15)', async () => {
    const reader = await svc.token('la_officer', { sub: 'patterns-audit-reader' });
    const res = await svc.request('GET', '/v1/patterns?type=family_pattern', { token: reader });
    expect(res.status).toBe(200);
    for (const upn of [F1, F2]) {
      const entries = (
        await svc.request('GET', `/v1/audit?upn=${upn}&user=patterns-audit-reader`, { token: admin })
      ).json().items;
      expect(entries.map((e: any) => e.action)).toEqual(['list_patterns']);
    }
  });
});

describe('flags on the pupil view', () => {
  const flagsOf = async (upn: string, token = officer) => {
    const res = await svc.request('GET', `/v1/pupils/${upn}?academicYear=2025`, { token });
    expect(res.status).toBe(200);
    return res.json().flags as Array<{ type: string; since: string; detail: any }>;
  };

  it('shows each pattern as a flag with the date its evidence starts and the evidence as detail', async () => {
    const ha = (await flagsOf(HA)).find((f) => f.type === 'holiday_adjacent_absence');
    expect(ha).toMatchObject({ since: '2025-10-24', detail: { observed: 10, urn: A } });
    expect(ha?.detail.breaks).toHaveLength(5);
    expect((await flagsOf(NT)).find((f) => f.type === 'near_threshold_unauthorised')).toMatchObject({
      since: '2025-10-21',
    });
    expect(
      (await flagsOf(RC)).filter((f) =>
        ['holiday_adjacent_absence', 'near_threshold_unauthorised', 'family_pattern'].includes(f.type),
      ),
    ).toEqual([]);
  });

  it('lists the flagged pupils across schools for each pattern flag, and a school only its own', async () => {
    const list = async (flag: string, token = officer) => {
      const res = await svc.request('GET', `/v1/pupils?flag=${flag}&from=2025-08-01&to=2026-07-31`, { token });
      expect(res.status).toBe(200);
      return res.json().items as Array<{ upn: string; flags: Array<{ type: string; since: string }> }>;
    };
    const ha = await list('holiday_adjacent_absence');
    expect(ha.map((p) => p.upn)).toEqual([HA]);
    expect(ha[0].flags).toContainEqual({ type: 'holiday_adjacent_absence', since: '2025-10-24' });
    expect((await list('near_threshold_unauthorised')).map((p) => p.upn)).toEqual([NT]);
    expect((await list('family_pattern')).map((p) => p.upn).sort()).toEqual([F1, F2].sort());
    expect((await list('family_pattern', schoolA)).map((p) => p.upn)).toEqual([F1]);
  });

  it('shows a family flag on each child with its own evidence and that a household pattern exists, never the other child, their school or the shared dates (their school reads it)', async () => {
    const f1 = (await flagsOf(F1, schoolA)).find((f) => f.type === 'family_pattern');
    expect(f1).toMatchObject({ since: '2025-10-23', detail: { householdPattern: true, child: { urn: A } } });
    expect(f1?.detail).not.toHaveProperty('sharedDates');
    expect(f1?.detail).not.toHaveProperty('household');
    expect(JSON.stringify(f1)).not.toContain(F2);
    expect(JSON.stringify(f1)).not.toContain(B);
    const f2 = (await flagsOf(F2, schoolB)).find((f) => f.type === 'family_pattern');
    expect(f2).toMatchObject({ detail: { child: { urn: B } } });
    expect(JSON.stringify(f2)).not.toContain(F1);
  });

  it('follows the latest run: a pattern corrected away stops showing after the next run', async () => {
    // The school corrects the illness next to three of the breaks to present: four breaks' worth is gone.
    const corrected = FIVE_BREAKS.slice(0, 3).map((date) => ({ urn: A, upn: HA, date, am: '/', pm: '/' }));
    expect((await svc.request('POST', '/v1/returns', { token: schoolA, body: returnCsv(corrected) })).status).toBe(202);
    await svc.settle();
    expect((await flagsOf(HA)).some((f) => f.type === 'holiday_adjacent_absence')).toBe(true); // until the next run
    const { run } = await runNow();
    expect(run.counts.findings.holiday_adjacent_absence).toBe(0);
    expect((await flagsOf(HA)).some((f) => f.type === 'holiday_adjacent_absence')).toBe(false);
    expect((await flagsOf(NT)).some((f) => f.type === 'near_threshold_unauthorised')).toBe(true);
    const items = (await svc.request('GET', '/v1/patterns', { token: officer })).json().items;
    expect(items.map((f: any) => f.type)).toEqual(['near_threshold_unauthorised', 'family_pattern']);
  });
});

describe('the local Lambda stand-in', () => {
  const client = () =>
    new LambdaClient({
      endpoint: svc.runtime.lambda.endpoint,
      region: 'local',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });

  it('answers an unknown function with ResourceNotFoundException, as Lambda does', async () => {
    await expect(
      client().send(
        new InvokeCommand({ FunctionName: 'no-such-function', InvocationType: 'Event', Payload: Buffer.from('{}') }),
      ),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it("runs a synchronous invocation in-process and returns the handler's answer (an event it cannot use is rejected, not retried)", async () => {
    const res = await client().send(
      new InvokeCommand({
        FunctionName: 'attendance-hub-patterns',
        Payload: Buffer.from(JSON.stringify({ trigger: 'sometimes' })),
      }),
    );
    expect(res.StatusCode).toBe(200);
    expect(JSON.parse(Buffer.from(res.Payload as Uint8Array).toString('utf8'))).toMatchObject({ status: 'rejected' });
  });
});

describe('flags of another academic year', () => {
  it("the latest run's pattern flags show only on the view of the year it looked at", async () => {
    // NT also has a register in 2024/25 (one day); the latest run looked at 2025/26.
    const res = await svc.request('POST', '/v1/returns', {
      token: schoolA,
      body: returnCsv([{ urn: A, upn: NT, date: '2025-07-01', am: '/', pm: '/' }]),
    });
    expect(res.status).toBe(202);
    await svc.settle();
    const flagTypes = async (year: number) => {
      const view = await svc.request('GET', `/v1/pupils/${NT}?academicYear=${year}`, { token: officer });
      expect(view.status).toBe(200);
      return (view.json().flags as Array<{ type: string }>).map((f) => f.type);
    };
    expect(await flagTypes(2025)).toContain('near_threshold_unauthorised');
    expect(await flagTypes(2024)).not.toContain('near_threshold_unauthorised');
  });
});
