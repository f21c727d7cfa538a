/**
 * The incremental rollup under at-least-once delivery without transactions (docs/design.md §3
 * "LA-wide rollup"): a rollup that fails after writing some schools' list items and contributions,
 * and is delivered again, ends with the LA figures and lists (and their totals) of a clean run.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as views from '../../shared/store/views.js';
import { startTestService, type TestService } from './harness.js';
import { returnCsv, upnFor, weekdays } from '../support/returns.js';

const A = '177001';
const B = '177002';
const DAYS = weekdays('2025-09-08', '2025-09-12');
const YEAR_RANGE = 'from=2025-08-01&to=2026-07-31';
let svc: TestService;

/** Ten pupils a school, pupil 1 at both; `absent` of them off ill for the days given. */
function days(urn: string, dates: string[], absent: number) {
  return returnCsv(
    dates.flatMap((date) =>
      Array.from({ length: 10 }, (_, i) => ({
        urn,
        upn: i === 0 ? upnFor(1, '999', '7777') : upnFor(i + 1, '999', urn === A ? '7001' : '7002'),
        date,
        am: i < absent ? 'I' : '/',
        pm: i < absent ? 'I' : '/',
        year_group: String(3 + (i % 3)),
      })),
    ),
  );
}

async function send(urn: string, csv: string) {
  const res = await svc.request('POST', '/v1/returns', { token: await svc.token('school', { urn }), body: csv });
  expect(res.status).toBe(202);
}

async function laState() {
  const officer = await svc.token('la_officer');
  const lists: Record<string, unknown> = {};
  for (const flag of ['persistent_absence', 'severe_absence']) {
    for (const filter of ['', `&urn=${A}`, `&urn=${B}`, '&yearGroup=4']) {
      const res = await svc.request('GET', `/v1/pupils?flag=${flag}&${YEAR_RANGE}&limit=1000${filter}`, {
        token: officer,
      });
      const body = res.json();
      // The total kept by the rollup is the number of rows listed.
      expect(body.total).toBe(body.items.length);
      lists[`${flag}${filter}`] = body.items.map((i: { upn: string; stats: unknown }) => [i.upn, i.stats]);
    }
  }
  const metrics = (await svc.request('GET', `/v1/metrics?${YEAR_RANGE}&groupBy=school`, { token: officer })).json();
  return { lists, metrics: metrics.items };
}

beforeAll(async () => {
  svc = await startTestService();
});
afterAll(async () => svc?.stop());

describe('the rollup, retried', () => {
  it('a rollup that fails after applying one school, then runs again, leaves what a clean run leaves', async () => {
    await send(A, days(A, DAYS.slice(0, 3), 2));
    await send(B, days(B, DAYS.slice(0, 3), 4));
    await svc.settle();
    // The next days: more pupils absent at both. The first rollup to see them fails as it writes the aggregate.
    const failing = vi.spyOn(views, 'putLaAggregate').mockRejectedValueOnce(new Error('lost connection'));
    await send(A, days(A, DAYS.slice(3), 6));
    await send(B, days(B, DAYS.slice(3), 1));
    await svc.settle();
    expect(failing).toHaveBeenCalled();
    vi.restoreAllMocks();
    const retried = await laState();

    // A clean run of the same returns on a fresh service.
    await svc.stop();
    svc = await startTestService();
    await send(A, days(A, DAYS.slice(0, 3), 2));
    await send(B, days(B, DAYS.slice(0, 3), 4));
    await svc.settle();
    await send(A, days(A, DAYS.slice(3), 6));
    await send(B, days(B, DAYS.slice(3), 1));
    await svc.settle();
    const clean = await laState();
    expect(retried).toEqual(clean);
    expect((clean.lists['persistent_absence'] as unknown[]).length).toBeGreaterThan(0);

    // Taking in every school's view again (the bench's cold rollup) changes nothing either.
    const { rollup, forgetSchoolViews } = await import('../../shared/app/rollup.js');
    const { storedLaFigures } = await import('../../shared/app/wiring.js');
    forgetSchoolViews();
    const cold = await rollup({ figures: storedLaFigures }, 2025);
    expect(cold.schools).toBe(2);
    // …and rewrites no pupil's list rows: each school's rows are compared with the contribution they were written from.
    expect(cold.pupils).toBe(0);
    expect(await laState()).toEqual(clean);
  }, 120_000);
});
