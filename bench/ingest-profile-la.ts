/**
 * Ingest profile, the demo LA: loads a generated LA through the real API into an empty store, as
 * `npm start` does (back-fills, then the last week's daily returns and corrections), and reports the
 * wall time and the CPU time of this process (handlers) and of the engine process (dynalite, s3rver).
 * On a shared machine the CPU times are the steadier figures.
 *
 *   npm run --silent cli -- generate --schools 30 --pupils 8000 --from 2026-09-01 --to 2026-11-20 --seed demo --out /tmp/gen1
 *   npx tsx bench/ingest-profile-la.ts [/tmp/gen1] [backfillBefore=2026-11-14]
 *
 * Not part of `npm run bench` (owned elsewhere); a tool for working on the ingest path.
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childCpuMs } from './measure.js';

process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
const { startLocalRuntime } = await import('../local/runtime.js');
const { loadGeneratedLa } = await import('../local/load-la.js');

const dir = process.argv[2] ?? '/tmp/gen1';
const backfillBefore = process.argv[3] ?? '2026-11-14';
const dataDir = join(tmpdir(), `ingest-profile-la-${process.pid}`);

const rt = await startLocalRuntime({ dataDir, port: 0, rollupDelaySeconds: 2 });
try {
  const cpu0 = process.cpuUsage();
  const child0 = childCpuMs();
  const t0 = performance.now();
  const r = await loadGeneratedLa({
    url: rt.url,
    dir,
    workDir: join(dataDir, 'backfill'),
    backfillBefore,
    concurrency: 4,
    token: (role, urn) => rt.token({ role, urn }),
  });
  await rt.settle();
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  console.log(
    `loaded ${r.uploads.files} files (${r.uploads.rejected} rejected) in ${(wall / 1000).toFixed(1)} s wall;` +
      ` handler process CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s, engine process CPU ${((childCpuMs() - child0) / 1000).toFixed(1)} s`,
  );
  // The LA rollup on its own, every school's view already held by this process (a warm Lambda).
  const { rollup } = await import('../shared/app/rollup.js');
  const { storedLaFigures } = await import('../shared/app/wiring.js');
  const { academicYearOf } = await import('../shared/domain/dates.js');
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await rollup({ figures: storedLaFigures }, academicYearOf(backfillBefore));
    times.push(performance.now() - t);
  }
  console.log(`LA rollup (warm): ${times.map((t) => t.toFixed(0)).join(', ')} ms`);
} finally {
  await rt.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
