/**
 * Ingest profile, one large school (docs/design.md §7: a school's daily return of up to 2,000 pupils in well
 * under a second of handler time). Runs the ingest steps the handler runs — load the register, apply
 * the rows, save, derive — against the local engines (child process), timing each, for a term's
 * back-fill and then a week of daily returns; then times the LA rollup. Reports wall time and the
 * CPU time of this process (handlers) and of the engine process: on a shared machine the CPU times
 * are the steadier figures.
 *
 *   npx tsx bench/ingest-profile-school.ts [pupils=2000] [days=5]
 *   PROFILE=.tmp/daily.cpuprofile npx tsx bench/ingest-profile-school.ts   (CPU profile of the daily returns only)
 *
 * Not part of `npm run bench` (owned elsewhere); a tool for working on the ingest path.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalRuntime } from '../local/runtime.js';
import { childCpuMs } from './measure.js';
import { applyRows, type RegisterRow } from '../shared/domain/register.js';
import { loadRegister, saveRegister } from '../shared/store/registers.js';
import { upnFor, weekdays } from '../test/support/returns.js';

const PUPILS = Number(process.argv[2] ?? 2000);
const DAYS = Number(process.argv[3] ?? 5);
const URN = '123456';
const dataDir = join(tmpdir(), `ingest-profile-school-${process.pid}`);

// A deterministic mix: mostly present, some illness, some unauthorised, a few lates.
function mark(i: number, d: number, pm: boolean): string {
  const h = (i * 7919 + d * 104729 + (pm ? 31 : 0)) % 1000;
  if (h < 40) return 'I';
  if (h < 55) return 'N';
  if (h < 62) return 'L';
  if (h < 66) return 'M';
  if (h < 68) return 'G';
  return '/';
}

function rowsFor(dates: string[]): RegisterRow[] {
  const rows: RegisterRow[] = [];
  dates.forEach((date, d) => {
    for (let i = 0; i < PUPILS; i++) {
      rows.push({
        urn: URN,
        upn: upnFor(i % 1000, '999', String(2000 + Math.floor(i / 1000))),
        date,
        am: mark(i, d, false),
        pm: mark(i, d, true),
        forename: 'A',
        surname: 'B',
        sex: i % 2 ? 'M' : 'F',
        yearGroup: String(7 + (i % 5)),
        fsm: i % 4 === 0,
        sen: i % 33 === 0 ? 'E' : i % 8 === 0 ? 'K' : 'N',
      });
    }
  });
  return rows;
}

const time = async <T>(into: Record<string, number>, name: string, fn: () => Promise<T> | T): Promise<T> => {
  const t0 = performance.now();
  const out = await fn();
  into[name] = (into[name] ?? 0) + performance.now() - t0;
  return out;
};

const rt = await startLocalRuntime({ dataDir, port: 0, rollupDelaySeconds: 3600 });
const { deriveFromRegister } = await import('../shared/app/derive-school.js');
const { rollup } = await import('../shared/app/rollup.js');
const { storedIngest, storedLaFigures } = await import('../shared/app/wiring.js');

async function ingest(rows: RegisterRow[], returnId: string): Promise<Record<string, number>> {
  const t: Record<string, number> = {};
  const cpu0 = process.cpuUsage();
  const child0 = childCpuMs();
  const t0 = performance.now();
  const register = await time(t, 'loadRegister', () => loadRegister(URN, 2026));
  await time(t, 'applyRows', () => applyRows(register, rows, returnId));
  await time(t, 'saveRegister', () => saveRegister(register));
  await time(t, 'derive', () =>
    deriveFromRegister(storedIngest, register, new Set(rows.map((r) => r.upn)), new Date().toISOString()),
  );
  t.total = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  t.handlerCpu = (cpu.user + cpu.system) / 1000;
  t.engineCpu = childCpuMs() - child0;
  return t;
}

const fmt = (t: Record<string, number>) =>
  Object.entries(t)
    .map(([k, v]) => `${k} ${v.toFixed(0)}`)
    .join(', ');
try {
  const term = weekdays('2026-09-03', '2026-11-13').filter((d) => d < '2026-10-26' || d > '2026-10-30');
  console.log(`back-fill ${term.length} days x ${PUPILS} pupils:`, fmt(await ingest(rowsFor(term), 'backfill')));
  const daily = weekdays('2026-11-16', '2026-11-27').slice(0, DAYS);
  const profiler = process.env.PROFILE ? new Session() : undefined;
  if (profiler) {
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
  }
  const runs: Array<Record<string, number>> = [];
  for (const date of daily) {
    const t = await ingest(rowsFor([date]), `day-${date}`);
    runs.push(t);
    console.log(`daily ${date}:`, fmt(t));
  }
  if (profiler) {
    const { profile } = await profiler.post('Profiler.stop');
    writeFileSync(process.env.PROFILE as string, JSON.stringify(profile));
  }
  const median = (k: string) =>
    runs
      .map((r) => r[k])
      .sort((a, b) => a - b)
      [Math.floor(runs.length / 2)].toFixed(0);
  console.log(
    `daily median: wall ${median('total')} ms, handler CPU ${median('handlerCpu')} ms, engine CPU ${median('engineCpu')} ms`,
  );
  for (let i = 0; i < 2; i++) {
    const t0 = performance.now();
    await rollup({ figures: storedLaFigures }, 2026);
    console.log(`rollup ${(performance.now() - t0).toFixed(0)} ms`);
  }
} finally {
  await rt.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
