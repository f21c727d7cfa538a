/**
 * Work per return in proportion to the return (issue 17; docs/design.md §3 "LA-wide rollup"), shown
 * without timing: the cost meter (bench/cost.ts) counts the DynamoDB units and S3 requests and bytes
 * of applying one school's day, on the real engines, in a small generated LA and in one three times
 * its size. The same school (the same pupils and marks) costs the same in both, to within a small
 * constant (the LA aggregate carries one version number and a few list totals per school), and one
 * 5-row page of an LA list costs the same whatever the LA's size.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CostMeter, installCostMeter, type CostCounts } from '../../bench/cost.js';
import { loadGeneratedLa } from '../../local/load-la.js';
import { generateLa } from '../../local/synthetic/index.js';
import { headBlob } from '../../shared/store/blobs.js';
import { DEFAULT_NAMES } from '../../shared/config.js';
import { paths } from '../../shared/store/keys.js';
import { getLaAggregate } from '../../shared/store/views.js';
import { startTestService } from './harness.js';
import { returnCsv, upnFor, weekdays } from '../support/returns.js';

/** The measured school: not in the generated LA, the same in both. */
const URN = '188888';
const PUPILS = 60;
const DAYS = weekdays('2025-09-08', '2025-09-10');
const dirs: string[] = [];

function day(date: string, absentFrom: number) {
  return returnCsv(
    Array.from({ length: PUPILS }, (_, i) => ({
      urn: URN,
      upn: upnFor(i + 1, '999', '8888'),
      date,
      am: i >= absentFrom ? 'I' : '/',
      pm: i >= absentFrom + 5 ? 'O' : '/',
      forename: `F${i}`,
      surname: `S${i}`,
      year_group: String(7 + (i % 5)),
      sex: i % 2 ? 'F' : 'M',
    })),
  );
}

interface Measured {
  day: CostCounts;
  page: CostCounts;
  listed: number;
  /** Compressed size of the LA aggregate document before and after the day (read once, written once). */
  aggregate: { before: number; after: number; json: number };
}

async function measure(schools: number): Promise<Measured> {
  const dir = mkdtempSync(join(tmpdir(), 'attendance-hub-cost-'));
  dirs.push(dir);
  await generateLa({
    schools,
    pupils: schools * 40,
    from: DAYS[0],
    to: DAYS[DAYS.length - 1],
    seed: 17,
    out: dir,
    overwrite: true,
  });
  const svc = await startTestService();
  try {
    await loadGeneratedLa({ url: svc.url, dir, token: (role, urn) => svc.token(role, urn ? { urn } : {}) });
    await svc.settle();
    const school = await svc.token('school', { urn: URN });
    const officer = await svc.token('la_officer');
    for (const [i, date] of DAYS.slice(0, -1).entries()) {
      expect((await svc.request('POST', '/v1/returns', { token: school, body: day(date, 50 - i * 5) })).status).toBe(
        202,
      );
      await svc.settle();
    }
    const aggBytes = async () => (await headBlob(DEFAULT_NAMES.registersBucket, paths.laView(2025)))?.size ?? 0;
    const aggBefore = await aggBytes();
    const meter = new CostMeter();
    let remove = await installCostMeter(meter, { api: svc.url, s3: svc.runtime.engines.s3Endpoint });
    let dayCounts: CostCounts;
    try {
      const res = await svc.request('POST', '/v1/returns', { token: school, body: day(DAYS[DAYS.length - 1], 40) });
      expect(res.status).toBe(202);
      await svc.settle();
      dayCounts = meter.snapshot();
    } finally {
      remove();
    }
    const aggregate = {
      before: aggBefore,
      after: await aggBytes(),
      json: JSON.stringify((await getLaAggregate(2025))!).length,
    };
    const pageMeter = new CostMeter();
    remove = await installCostMeter(pageMeter, { api: svc.url, s3: svc.runtime.engines.s3Endpoint });
    let listed: number;
    try {
      const list = await svc.request(
        'GET',
        '/v1/pupils?flag=persistent_absence&from=2025-08-01&to=2026-07-31&limit=5',
        { token: officer },
      );
      expect(list.status).toBe(200);
      listed = list.json().total;
      expect(list.json().items).toHaveLength(5);
    } finally {
      remove();
    }
    // The day was applied, and the LA figures took it in.
    const metrics = await svc.request('GET', `/v1/metrics?scope=school&urn=${URN}&from=2025-08-01&to=2026-07-31`, {
      token: officer,
    });
    expect(metrics.json().items[0].enrolments).toBe(PUPILS);
    return { day: dayCounts, page: pageMeter.counts, listed, aggregate };
  } finally {
    await svc.stop();
  }
}

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("the cost of one school's day", () => {
  it('does not grow with the number of schools in the LA, nor does a page of an LA list', async () => {
    const small = await measure(4);
    const large = await measure(12);
    const summary = (c: CostCounts) => ({
      dynamoRequests: Object.values(c.dynamo.requests).reduce((a, b) => a + b, 0),
      readUnits: c.dynamo.readUnits,
      writeUnits: c.dynamo.writeUnits + c.dynamo.indexWriteUnits,
      s3Requests: Object.values(c.s3.requests).reduce((a, b) => a + b, 0),
      s3Bytes: c.s3.bytesUp + c.s3.bytesDown,
    });
    const [s, l] = [summary(small.day), summary(large.day)];
    console.log(`one school's day, 4 schools: ${JSON.stringify(s)}; 12 schools: ${JSON.stringify(l)}`);
    // The larger LA has more pupils on its lists, so the page below is read from a longer list.
    expect(large.listed).toBeGreaterThan(small.listed);
    expect(l.dynamoRequests).toBeLessThanOrEqual(s.dynamoRequests + 2);
    expect(l.readUnits).toBeLessThanOrEqual(s.readUnits + 2);
    expect(l.writeUnits).toBeLessThanOrEqual(s.writeUnits + 2);
    expect(l.s3Requests).toBe(s.s3Requests);
    // S3 bytes: the school's own objects (its return, register, view, contribution) are the same; the
    // LA aggregate is read and written once, and its size is bounded by its cells (cohort, phase, year
    // group, sex, period), not by the schools: it fills in as an LA has more pupils to occupy its cells.
    const ownBytes = (m: Measured, t: ReturnType<typeof summary>) => t.s3Bytes - m.aggregate.before - m.aggregate.after;
    console.log(
      `LA aggregate: 4 schools ${small.aggregate.after} bytes gzipped (${small.aggregate.json} JSON); 12 schools ${large.aggregate.after} (${large.aggregate.json})`,
    );
    expect(Math.abs(ownBytes(large, l) - ownBytes(small, s))).toBeLessThanOrEqual(500);
    expect(large.aggregate.after).toBeLessThan(64_000);
    const [ps, pl] = [summary(small.page), summary(large.page)];
    console.log(`a 5-row PA page, 4 schools: ${JSON.stringify(ps)}; 12 schools: ${JSON.stringify(pl)}`);
    expect(pl.dynamoRequests).toBe(ps.dynamoRequests);
    expect(pl.readUnits).toBeLessThanOrEqual(ps.readUnits + 1);
  }, 180_000);
});
