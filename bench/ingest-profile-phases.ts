/**
 * Ingest counts by phase (issue 17): a generated LA loaded through the real API, as the bench does —
 * its lists, the year so far as one back-fill file per school, then one LA day (every file of the
 * last day, the week's corrections), then a cold rollup — printing for each phase what it asked of
 * the engines (DynamoDB requests and units, S3 requests and bytes; bench/cost.ts) and the CPU time of
 * this process (handlers) and of the engine process, the items put and deleted by kind, and for the LA
 * day the write units and LA-row items per pupil of the LA. Counts are exact whatever else the machine does;
 * times are for comparing two runs back to back only. Run under `node --cpu-prof` for proportions.
 *
 *   npm run --silent cli -- generate --schools 30 --pupils 8000 --from 2025-09-08 --to 2025-09-12 --seed s --out /tmp/la30
 *   npx tsx bench/ingest-profile-phases.ts /tmp/la30 [lastDay]
 *
 * ONLY_BACKFILL=1 stops after the back-fill (so a CPU profile is the year path's). INGEST_CONCURRENCY=<n>
 * applies n schools at once (the local runtime's default otherwise). INGEST_WORKERS=<n> runs the ingest
 * on n worker threads (0: in this thread; the machine's default otherwise, local/ingest-workers.ts):
 * their requests and items are counted as this thread's are, and "handler CPU" is this process's,
 * every thread's. A CPU profile (PROFILE) is of the main thread only. PROFILE=<file>
 * PROFILE_PHASE=<start of a phase's name> writes a CPU profile of this process during that phase;
 * ENGINE_EXEC_ARGV='--cpu-prof --cpu-prof-dir=<dir>' one of the engine process, for the whole run.
 * Besides the items written, each phase lists the items read by kind (with the read units they
 * account for) and the DynamoDB requests by command and the kind of item they name first.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { childCpuMs } from './measure.js';
import { CostMeter, installCostMeter, type CostCounts } from './cost.js';
import { ItemTally, installItemTally } from './item-tally.js';
import type { PupilRow } from '../shared/domain/school-view.js';

process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
const { startLocalRuntime } = await import('../local/runtime.js');
const { loadGeneratedLa } = await import('../local/load-la.js');
const { rollup, forgetSchoolViews } = await import('../shared/app/rollup.js');
const { storedLaFigures } = await import('../shared/app/wiring.js');
const { academicYearOf } = await import('../shared/domain/dates.js');
const { absenceRateOf } = await import('../shared/domain/la-view.js');
const { laListPartitions, partitionKind } = await import('../shared/store/la-lists.js');
const { canonicalJson } = await import('../shared/store/table.js');

const dir = process.argv[2] ?? '/tmp/la30';
type File = { kind: string; date: string; path: string; urn: string; role: string };
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
  laCode: string;
  setup: Array<{ path: string; parts?: Record<string, string> }>;
  files: File[];
};
const lastDay = process.argv[3] ?? manifest.files.reduce((d, f) => (f.kind === 'daily' && f.date > d ? f.date : d), '');
const firstOfDay = manifest.files.findIndex((f) => f.kind === 'daily' && f.date === lastDay);
const work = join(tmpdir(), `ingest-phases-${process.pid}`);
mkdirSync(work, { recursive: true });

/** A manifest of some of the LA's files (and its setup, or none), as the bench's phases have. */
function phaseDir(name: string, setup: boolean, files: File[]): string {
  const d = join(work, name);
  mkdirSync(d, { recursive: true });
  const rel = (x: string) => relative(d, join(dir, x));
  writeFileSync(
    join(d, 'manifest.json'),
    JSON.stringify({
      laCode: manifest.laCode,
      setup: setup
        ? manifest.setup.map((s) => ({
            ...s,
            path: rel(s.path),
            ...(s.parts ? { parts: Object.fromEntries(Object.entries(s.parts).map(([k, v]) => [k, rel(v)])) } : {}),
          }))
        : [],
      files: files.map((f) => ({ ...f, path: rel(f.path) })),
    }),
  );
  return d;
}

// INGEST_CONCURRENCY: schools applied at once (the local runtime's default otherwise); INGEST_WORKERS:
// the ingest's worker threads (0: in this thread; the machine's default otherwise, local/ingest-workers.ts).
const ingestConcurrency = process.env.INGEST_CONCURRENCY ? Number(process.env.INGEST_CONCURRENCY) : undefined;
const { defaultIngestWorkers } = await import('../local/ingest-workers.js');
const ingestWorkers = defaultIngestWorkers();
const rt = await startLocalRuntime({ dataDir: join(work, 'data'), port: 0, ingestConcurrency, ingestWorkers });
console.log(`ingest workers: ${ingestWorkers}${ingestWorkers ? '' : ' (the ingest in this thread)'}`);
const meter = new CostMeter();
const remove = await installCostMeter(meter, { api: rt.url, s3: rt.engines.s3Endpoint });
// DynamoDB items put, deleted and read by kind, and requests by command (bench/item-tally.ts): which
// items a phase writes, where the cost meter gives totals only. In this thread and in every ingest worker.
const tally = new ItemTally();
const removeTally = await installItemTally(tally);
const token = (role: 'school' | 'la_officer' | 'vsh' | 'admin', urn?: string) =>
  rt.token({ role, ...(urn ? { urn } : {}), sub: `bench-${role}${urn ? `-${urn}` : ''}` });

/** The LA's rows as the lists take them (each pupil's highest version across the schools' views). */
async function rowsOfLa(year: number): Promise<Map<string, PupilRow>> {
  const rows = new Map<string, PupilRow>();
  for (const p of await storedLaFigures.viewPointers(year)) {
    const view = p.urn ? await storedLaFigures.schoolView(p.urn, year) : undefined;
    for (const r of view?.pupils ?? []) if (!rows.has(r.upn) || r.v > rows.get(r.upn)!.v) rows.set(r.upn, r);
  }
  return rows;
}

/**
 * What the LA day would write of list items at coarser sort keys (docs/decisions.md): for each pupil
 * listed in the same partitions before and after the day, its items move when its rate's bucket does
 * (a delete and a put each). Exact counts from the views, not from the writes.
 */
function bucketWhatIf(before: Map<string, PupilRow>, after: Map<string, PupilRow>, year: number): void {
  const widths = [0, 0.1, 0.5, 1, 2, 5];
  const moved = widths.map(() => 0);
  let listed = 0;
  let repartitioned = 0;
  for (const [upn, row] of after) {
    const parts = laListPartitions(year, row);
    if (parts.length === 0) continue;
    listed++;
    const was = before.get(upn);
    if (!was || canonicalJson(laListPartitions(year, was)) !== canonicalJson(parts)) {
      repartitioned += parts.length;
      continue;
    }
    const [a, b] = [absenceRateOf(was), absenceRateOf(row)];
    // Only the items sorted by rate move with it (a school's are by UPN; a counted cohort and the LA
    // have none of their own: the LA's are its year groups' items, by gsi1).
    const sorted = parts.filter((pk) => partitionKind(pk) === 'worstFirst').length;
    widths.forEach((w, i) => {
      // In tenths of a point as shown (0.1 pt is the sort key as built), then buckets of w points.
      const bucket = (r: number) => (w === 0 ? r : Math.floor(Math.round(Number(r.toFixed(1)) * 10) / (w * 10)));
      if (bucket(a) !== bucket(b)) moved[i] += sorted;
    });
  }
  console.log(
    `   list items moved by the rate alone, by sort-key width (${listed} pupils listed; ${repartitioned} items of pupils whose partitions changed move anyway): ${widths
      .map((w, i) => `${w === 0 ? 'exact' : `${w} pt`} ${moved[i]}`)
      .join(', ')}`,
  );
}

/**
 * What a page filtered on the LA partition instead of its own would read (issue 17): for each cohort and
 * year group, its share of each list, and the list items a 50-row page would then read (51 over the
 * share), at its smallest and largest over the lists that hold it. Exact counts from the views.
 */
function shareWhatIf(after: Map<string, PupilRow>, year: number): void {
  const counts = new Map<string, Map<string, number>>();
  for (const row of after.values())
    for (const pk of laListPartitions(year, row)) {
      const [, , list, kind, value] = pk.split('#');
      const scope = kind ? `${kind}#${value}` : 'LA';
      const m = counts.get(list) ?? new Map<string, number>();
      counts.set(list, m);
      m.set(scope, (m.get(scope) ?? 0) + 1);
    }
  const reads = new Map<string, number[]>();
  for (const m of counts.values()) {
    const total = m.get('LA') ?? 0;
    for (const [scope, n] of m)
      if (scope.startsWith('COHORT#') || scope.startsWith('YG#'))
        reads.set(scope, [...(reads.get(scope) ?? []), Math.round((51 * total) / n)]);
  }
  console.log(
    `   items a 50-row page would read filtering the LA partition, least and most over the lists (${[...counts]
      .map(([l, m]) => `${l} ${m.get('LA') ?? 0}`)
      .join(', ')} listed): ${[...reads]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([scope, r]) => `${scope} ${Math.min(...r)}–${Math.max(...r)}`)
      .join(', ')}`,
  );
}

/** Per pupil of the LA: write units, and the LA rows' items put and deleted (the figures docs/benchmarks.md compares). */
function perPupil(c: CostCounts, pupils: number): void {
  const per = (n: number) => (n / pupils).toFixed(2);
  const put = (kind: string) => tally.counts.writes.get(kind)?.items ?? 0;
  const del = (kind: string) => tally.counts.deletes.get(kind) ?? 0;
  console.log(
    `   per pupil (${pupils} pupils): write units ${per(c.dynamo.writeUnits + c.dynamo.indexWriteUnits)}; LALIST put ${per(put('LALIST'))}, deleted ${per(del('LALIST'))}; LAROW put ${per(put('PUPIL/LAROW'))}, deleted ${per(del('PUPIL/LAROW'))}`,
  );
}

const mbOf = (bytes: number) => `${Math.round(bytes / 1e6)} MB`;

function show(
  name: string,
  c: CostCounts,
  wallMs: number,
  cpuMs: number,
  engineMs: number,
  rows?: number,
  pupils?: number,
): void {
  const top = (r: Record<string, number>) =>
    Object.entries(r)
      .filter(([, n]) => n > 0)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
  console.log(
    `\n== ${name}${rows ? ` (${rows} rows)` : ''}: wall ${(wallMs / 1000).toFixed(1)} s, handler CPU ${(cpuMs / 1000).toFixed(1)} s, engine CPU ${(engineMs / 1000).toFixed(1)} s; this process heap ${mbOf(process.memoryUsage().heapUsed)}, RSS ${mbOf(process.memoryUsage().rss)}`,
  );
  console.log(
    `   DynamoDB: ${top(c.dynamo.requests)}; read units ${c.dynamo.readUnits.toFixed(0)}, write units ${c.dynamo.writeUnits.toFixed(0)} (+${c.dynamo.indexWriteUnits.toFixed(0)} index)`,
  );
  console.log(
    `   S3: ${top(c.s3.requests)}; up ${(c.s3.bytesUp / 1e6).toFixed(1)} MB, down ${(c.s3.bytesDown / 1e6).toFixed(1)} MB; PUT bytes by bucket ${JSON.stringify(Object.fromEntries(Object.entries(c.s3.putBytesByBucket).map(([k, v]) => [k, Math.round(v / 1e3) + ' KB'])))}`,
  );
  console.log(`   SQS: ${top(c.sqs.messagesByQueue)}; API requests ${c.api.requests}`);
  const { writes, deletes, reads, calls, listByList, listByScope } = tally.counts;
  console.log(
    `   items put (PutItem, BatchWriteItem), by kind: ${[...writes]
      .sort((a, b) => b[1].bytes - a[1].bytes)
      .map(([k, w]) => `${k} ${w.items} (${Math.round(w.bytes / 1e3)} KB)`)
      .join(', ')}`,
  );
  console.log(
    `   items deleted, by kind: ${[...deletes]
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')}`,
  );
  console.log(
    `   items read, by kind (items, read units): ${[...reads]
      .sort((a, b) => b[1].units - a[1].units)
      .map(([k, r]) => `${k} ${r.items} (${r.units.toFixed(0)})`)
      .join(', ')}`,
  );
  console.log(
    `   DynamoDB requests, by command and the kind of item they name first: ${[...calls]
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')}`,
  );
  const byCount = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
  if (listByList.size)
    console.log(`   LA list items put or deleted, by list: ${byCount(listByList)}; by scope: ${byCount(listByScope)}`);
  if (pupils) perPupil(c, pupils);
  tally.clear();
}

async function phase<T>(
  name: string,
  fn: () => Promise<T>,
  rowsOf?: (r: T) => number,
  pupils?: () => Promise<number>,
): Promise<T> {
  const profiler =
    process.env.PROFILE && name.startsWith(process.env.PROFILE_PHASE ?? '\u0000') ? new Session() : undefined;
  if (profiler) {
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
  }
  const before = meter.snapshot();
  const cpu0 = process.cpuUsage();
  const child0 = childCpuMs();
  const t0 = performance.now();
  const out = await fn();
  const cpu = process.cpuUsage(cpu0);
  const counts = meter.since(before);
  const wall = performance.now() - t0;
  const child = childCpuMs() - child0;
  // Counted after the phase's meter is read: the count's own reads are not the phase's.
  const n = pupils ? await pupils() : undefined;
  show(name, counts, wall, (cpu.user + cpu.system) / 1000, child, rowsOf?.(out), n);
  if (profiler) {
    const { profile } = await profiler.post('Profiler.stop');
    writeFileSync(process.env.PROFILE as string, JSON.stringify(profile));
    profiler.disconnect();
  }
  return out;
}

try {
  const upload = {
    url: rt.url,
    token: (role: 'school' | 'la_officer' | 'vsh' | 'admin', urn?: string) => token(role, urn),
  };
  await phase('setup (lists, registry)', () => loadGeneratedLa({ ...upload, dir: phaseDir('setup', true, []) }));
  await phase(
    'back-fill (one file per school)',
    async () => {
      const r = await loadGeneratedLa({
        ...upload,
        dir: phaseDir('backfill', false, manifest.files.slice(0, firstOfDay)),
        workDir: join(work, 'bf'),
        backfillBefore: lastDay,
        concurrency: 4,
      });
      await rt.settle();
      return r;
    },
    (r) => r.uploads.rowsAccepted,
  );
  if (process.env.ONLY_BACKFILL !== '1') {
    const year = academicYearOf(lastDay);
    const before = await rowsOfLa(year);
    let after = before;
    await phase(
      `LA day ${lastDay}`,
      async () => {
        const r = await loadGeneratedLa({
          ...upload,
          dir: phaseDir('day', false, manifest.files.slice(firstOfDay)),
          concurrency: 8,
        });
        await rt.settle();
        return r;
      },
      (r) => r.uploads.rowsAccepted,
      async () => (after = await rowsOfLa(year)).size,
    );
    bucketWhatIf(before, after, year);
    shareWhatIf(after, year);
    for (let i = 0; i < 2; i++) {
      await phase('cold rollup', async () => {
        forgetSchoolViews();
        return rollup({ figures: storedLaFigures }, academicYearOf(lastDay));
      });
    }
  }
} finally {
  remove();
  removeTally();
  await rt.stop();
  rmSync(work, { recursive: true, force: true });
}
