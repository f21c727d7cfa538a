/**
 * The three reads issue 17 times at full size — the pupil view, a page of the PA list, LA metrics by
 * cohort — each pinned to the requests it makes of DynamoDB and S3 on a warm API instance, counted
 * by the cost meter (bench/cost.ts) on the real engines, without timing anything: the same in a
 * small generated LA and in one three times its size, and the same as the counts written here. A
 * change that adds a round trip to one of them (or a read that grows with the LA) fails here first;
 * docs/benchmarks.md "Where the time goes" says what each request is for.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CostMeter, installCostMeter, type CostCounts } from '../../bench/cost.js';
import { recordCalls, roundTripsInSequence } from '../../bench/round-trips.js';
import { loadGeneratedLa } from '../../local/load-la.js';
import { generateLa } from '../../local/synthetic/index.js';
import { startTestService, type TestService } from './harness.js';

const FROM = '2025-09-08';
const TO = '2025-09-10';
const PAGE = 5;
const SCHOOLS_PAGE = 3;
const dirs: string[] = [];

type Read =
  | 'pupil_view'
  | 'pa_page'
  | 'pa_page_first_today'
  | 'pa_page_unheld'
  | 'pa_page_fsm'
  | 'pa_page_school'
  | 'pa_page_school_held'
  | 'la_metrics_by_cohort'
  | 'schools_page';

interface Counted {
  dynamo: Record<string, number>;
  s3: Record<string, number>;
  readUnits: number;
  writeUnits: number;
  listed: number;
  /** Calls waited for one after another (bench/round-trips.ts): a count, for one request alone. */
  inSequence: number;
}

/** One request, metered: what it asked of DynamoDB and S3. */
async function metered(
  svc: TestService,
  path: string,
  token: string,
): Promise<{ counts: CostCounts; body: any; inSequence: number }> {
  const meter = new CostMeter();
  const remove = await installCostMeter(meter, { api: svc.url, s3: svc.runtime.engines.s3Endpoint });
  const recorder = await recordCalls();
  try {
    const res = await svc.request('GET', path, { token });
    expect(res.status, path).toBe(200);
    return { counts: meter.counts, body: res.json(), inSequence: roundTripsInSequence(recorder.calls) };
  } finally {
    recorder.remove();
    remove();
  }
}

async function measure(schools: number): Promise<Record<Read, Counted>> {
  const dir = mkdtempSync(join(tmpdir(), 'attendance-hub-read-cost-'));
  dirs.push(dir);
  await generateLa({ schools, pupils: schools * 40, from: FROM, to: TO, seed: 17, out: dir, overwrite: true });
  const svc = await startTestService();
  try {
    await loadGeneratedLa({ url: svc.url, dir, token: (role, urn) => svc.token(role, urn ? { urn } : {}) });
    await svc.settle();
    const officer = await svc.token('la_officer');
    // Another officer, whose first read of the page today marks each pupil shown (the audit, below).
    const newcomer = await svc.token('la_officer', { sub: 'officer-new-today' });
    const list = `/v1/pupils?flag=persistent_absence&from=2025-08-01&to=2026-07-31&limit=${PAGE}`;
    const metrics = `/v1/metrics?scope=la&groupBy=cohort&from=2025-08-01&to=${TO}`;
    // A warm instance: the first request of each kind reads what the instance then holds.
    const first = (await svc.request('GET', list, { token: officer })).json();
    expect(first.items).toHaveLength(PAGE);
    // A pupil at one school (a pupil view reads each visible enrolment's school duties).
    const upn = (first.items as Array<{ upn: string; urns: string[] }>).find((i) => i.urns.length === 1)?.upn;
    expect(upn).toBeDefined();
    const view = `/v1/pupils/${upn}?academicYear=2025`;
    const school = (first.items as Array<{ urns: string[] }>)[0].urns[0];
    // Each of the two filtered pages once first, as the plain page (the instance's cursor key, the figures).
    expect((await svc.request('GET', `${list}&cohort=fsm`, { token: officer })).status).toBe(200);
    expect((await svc.request('GET', view, { token: officer })).status).toBe(200);
    expect((await svc.request('GET', metrics, { token: officer })).status).toBe(200);
    // The next page, whose rows no request has read yet (the instance holds the first page's).
    expect(first.nextCursor).toEqual(expect.any(String));
    const next = `${list}&cursor=${encodeURIComponent(first.nextCursor as string)}`;
    const out = {} as Record<Read, Counted>;
    for (const [read, path, token] of [
      ['pa_page_unheld', next, officer],
      ['pupil_view', view, officer],
      ['pa_page', list, officer],
      ['pa_page_first_today', list, newcomer],
      // A commoner cohort (no partition: the LA's, filtered; the total a kept count) and one school's
      // share (its partition by UPN: every row it lists, sorted).
      ['pa_page_fsm', `${list}&cohort=fsm`, officer],
      ['pa_page_school', `${list}&urn=${school}`, officer],
      // The same school's page again: its rows now held by the instance under the same LA version.
      ['pa_page_school_held', `${list}&urn=${school}`, officer],
      ['la_metrics_by_cohort', metrics, officer],
      ['schools_page', `/v1/schools?limit=${SCHOOLS_PAGE}`, officer],
    ] as const) {
      const { counts, body, inSequence } = await metered(svc, path, token);
      out[read] = {
        dynamo: counts.dynamo.requests,
        s3: counts.s3.requests,
        readUnits: counts.dynamo.readUnits,
        writeUnits: counts.dynamo.writeUnits + counts.dynamo.indexWriteUnits,
        listed: read.startsWith('pa_page') ? body.total : read === 'schools_page' ? body.items.length : 0,
        inSequence,
      };
    }
    return out;
  } finally {
    await svc.stop();
  }
}

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('the requests of the API reads issue 17 times', () => {
  it('are pinned, and the same whatever the size of the LA', async () => {
    const small = await measure(4);
    const large = await measure(12);
    console.log(`4 schools: ${JSON.stringify(small)}\n12 schools: ${JSON.stringify(large)}`);
    // The larger LA's list is longer: the page is read from more pupils.
    expect(large.pa_page.listed).toBeGreaterThan(small.pa_page.listed);
    expect(large.pa_page_fsm.listed).toBeGreaterThan(small.pa_page_fsm.listed);
    for (const m of [small, large]) {
      // The pupil's head, then one batch: the item holding its enrolment, with its pattern flags, the
      // latest run, the care lists' and its school's duties document's version stamps (asked for as
      // soon as the head names the year's schools, issue 17, 7–8 December night: they were a third
      // round trip, after the enrolments; the documents themselves held by the instance); the audit's
      // two copies in one batch write. Nothing from S3. Alone, the head is a GetItem; under load its
      // read and the batch go with concurrent requests' reads (shared/store/table.ts).
      expect(m.pupil_view.dynamo).toEqual({ GetItem: 1, BatchGetItem: 1, BatchWriteItem: 1 });
      // Each waits for the one before: head, the batch, audit.
      expect(m.pupil_view.inSequence).toBe(3);
      expect(m.pupil_view.s3).toEqual({});
      // A page whose rows the instance does not hold: the page (one Query of the list items' keys)
      // beside one batch of the LA figures' pointer (the list's kept total) and the care lists' stamp;
      // then the page's rows (one BatchGetItem of their LAROWs: list items carry no copy of the row, so
      // a day's rates rewrite one item a pupil, not one a partition); the audit in one batch write: the
      // read's entry and the pupils it returned (one item), the pupils' marks already written by this
      // officer's first read of the page today (issue 17: was a PutItem and an entry per pupil shown,
      // in batches of 25). Three round trips in sequence (issue 17, evening: the care stamp was a
      // fourth, read after the rows).
      expect(m.pa_page_unheld.dynamo).toEqual({ Query: 1, BatchGetItem: 2, BatchWriteItem: 1 });
      expect(m.pa_page_unheld.s3).toEqual({});
      expect(m.pa_page_unheld.inSequence).toBe(3);
      // A page whose rows the instance read under the LA figures' version the pointer still says: the
      // Query and the pointer's batch, then the audit (issue 17, evening: the LAROWs held per process).
      expect(m.pa_page.dynamo).toEqual({ Query: 1, BatchGetItem: 1, BatchWriteItem: 1 });
      expect(m.pa_page.s3).toEqual({});
      expect(m.pa_page.inSequence).toBe(2);
      // Another officer's first read of the page today: the same, and a mark under each pupil shown.
      expect(m.pa_page_first_today.dynamo).toEqual({ Query: 1, BatchGetItem: 1, BatchWriteItem: 1 });
      expect(m.pa_page_first_today.inSequence).toBe(2);
      // A commoner cohort's page (FSM has no partition, docs/decisions.md): the same requests as the
      // plain page (its rows held here too); the Query filters the LA partition (gsi1 of the year
      // groups' items since 8 December 2026: the same requests) and the total is the count the
      // aggregate keeps.
      expect(m.pa_page_fsm.dynamo).toEqual({ Query: 1, BatchGetItem: 1, BatchWriteItem: 1 });
      // One school's page: its partition's keys (one Query, by UPN) beside one batch of the LA figures'
      // pointer and the care lists' stamp, then every row it lists that the instance does not hold under
      // that version (one batch, strongly consistent: after the pointer), sorted worst first here; the
      // audit. No kept total is read (the rows read are the total). Read units follow the school's
      // listed pupils (a unit a row at most), not the LA's.
      expect(m.pa_page_school.dynamo).toEqual({ Query: 1, BatchGetItem: 2, BatchWriteItem: 1 });
      expect(m.pa_page_school.readUnits).toBeLessThanOrEqual(2 + m.pa_page_school.listed);
      expect(m.pa_page_school.inSequence).toBe(3);
      // Its rows held (issue 17, 7–8 December night: each school page read every row again): the
      // Query and the pointer's batch, then the audit; read units the partition's keys, the pointer and
      // the stamp (2.5 at 4 and at 12 schools).
      expect(m.pa_page_school_held.dynamo).toEqual({ Query: 1, BatchGetItem: 1, BatchWriteItem: 1 });
      expect(m.pa_page_school_held.listed).toBe(m.pa_page_school.listed);
      expect(m.pa_page_school_held.readUnits).toBeLessThanOrEqual(2.5);
      expect(m.pa_page_school_held.inSequence).toBe(2);
      // A page of schools: one Query of the page, whatever the number of schools (issue 17: was every school).
      expect(m.schools_page.dynamo).toEqual({ Query: 1 });
      expect(m.schools_page.inSequence).toBe(1);
      expect(m.schools_page.listed).toBe(SCHOOLS_PAGE);
      // The LA figures' pointer (the figures themselves held by the instance) and the audit entry:
      // no list of schools, nothing that grows with the LA. The entry is a batch write (issue 17, 7–8
      // December night: was a conditional PutItem; its fresh key stands in for the condition, as for
      // every other entry), so that under load concurrent requests' entries share one.
      expect(m.la_metrics_by_cohort.dynamo).toEqual({ GetItem: 1, BatchWriteItem: 1 });
      expect(m.la_metrics_by_cohort.inSequence).toBe(2);
      expect(m.la_metrics_by_cohort.s3).toEqual({});
    }
    for (const read of [
      'pupil_view',
      'pa_page',
      'pa_page_school_held',
      'pa_page_unheld',
      'pa_page_fsm',
      'la_metrics_by_cohort',
      'schools_page',
    ] as const) {
      expect(large[read].readUnits, read).toBeLessThanOrEqual(small[read].readUnits + 1);
      expect(large[read].writeUnits, read).toBeLessThanOrEqual(small[read].writeUnits + 1);
    }
    // The read's entry with its index copy, and the pupils it returned: three write units whatever the
    // page's size (was one per pupil shown, and those two); a user's first read of a pupil in the day
    // adds the pupil's mark, one unit each.
    expect(small.pa_page.writeUnits).toBe(3);
    expect(small.pa_page_first_today.writeUnits).toBe(3 + PAGE);
  }, 240_000);
});
