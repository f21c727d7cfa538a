/**
 * `npm start` runs the detectors on a timer (local/patterns-timer.ts): once the service has data and
 * has been quiet for a while, as the nightly schedule would, through the local Lambda stand-in.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startLocalRuntime, type LocalRuntime } from '../../local/runtime.js';
import { getLatestPatterns, getPatternRun, listPatternRuns } from '../../shared/store/patterns.js';
import { returnCsv, upnFor, weekdays } from '../support/returns.js';

let runtime: LocalRuntime;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'attendance-hub-timer-'));
  runtime = await startLocalRuntime({
    dataDir,
    port: 0,
    rollupDelaySeconds: 0,
    patternsTimer: { quietMs: 300, pollMs: 100 },
  });
}, 60_000);
afterAll(async () => {
  await runtime?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

it('runs the detectors by itself once the service has data and is quiet, with the trigger the nightly schedule sends', async () => {
  expect(await listPatternRuns(10)).toMatchObject({ items: [] });
  const token = await runtime.token({ role: 'school', urn: '100001' });
  const rows = weekdays('2025-09-03', '2025-09-30').map((date) => ({
    urn: '100001',
    upn: upnFor(1),
    date,
    am: '/',
    pm: '/',
  }));
  const res = await fetch(`${runtime.url}/v1/returns`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' },
    body: returnCsv(rows),
  });
  expect(res.status).toBe(202);
  await runtime.settle();
  // Wait for the timer (a condition, not a duration: the test fails only if it never happens).
  let latest = await getLatestPatterns();
  for (let i = 0; i < 300 && !latest; i++) {
    await new Promise((r) => setTimeout(r, 100));
    await runtime.settle();
    latest = await getLatestPatterns();
  }
  expect(latest).toMatchObject({ academicYear: 2025 });
  expect(await getPatternRun(latest!.runId)).toMatchObject({
    trigger: 'schedule',
    status: 'succeeded',
    counts: { pupilsAnalysed: 1, schoolsAnalysed: 1 },
  });
  expect((await listPatternRuns(10)).items).toHaveLength(1);
}, 60_000);
