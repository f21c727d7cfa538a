/**
 * `npm run bench` (`-- --quick` for a run of under two minutes on a 2-core machine): how fast the
 * service is, against what an LA analyst would use instead, on a generated LA (local/synthetic).
 *
 *  1. parsing and validation throughput of daily returns, CSV and CTF (bench/parsing.ts);
 *  2. ingest on the embedded engines: one 2,000-pupil school day (bench/school-day.ts), the LA's
 *     back-fill of its year so far, then a whole LA day (wall time, until the LA figures are current);
 *  3. API latency percentiles at several concurrency levels (bench/api-load.ts);
 *  4. per-Lambda bundle size and cold import time (bench/bundles.ts);
 *  5. the same year-to-date LA cohort metrics by DuckDB SQL over the CSV files (bench/duckdb-metrics.ts),
 *     first computation and daily update, as ratios — the run FAILS if the figures differ;
 *  6. the patterns run over the whole LA (shared/app/run-patterns.ts);
 *  7. the load test of issue 10: mixed reads and uploads at a fixed rate;
 *  8. generation throughput of the synthetic LA;
 *  9. what it would cost in AWS: the requests each operation makes, counted during 2, 3 and 6
 *     (bench/cost.ts), turned into a monthly bill for a 230,000-pupil LA at London prices;
 * 10. with `--scaling 30,120,600`, the service phases (2, 3, 5, 6, 7) at each LA size, the same
 *     pupils per school, as a table (bench/scaling.ts): does the cost per pupil stay flat?
 * Long phases print their progress to stderr (bench/progress.ts).
 * Results: a table on stdout, JSON in bench/results/ (docs/benchmarks.md explains every figure).
 */
import { cpus, totalmem } from 'node:os';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addDays, todayInEngland } from '../shared/domain/dates.js';
import { generateLa, RETURN_COLUMNS, type GenerateSummary } from '../local/synthetic/index.js';
import { closedLoop, openLoopInChild, type BenchRequest, type LoadMixEntry } from './api-load.js';
import { bundleFigures } from './bundles.js';
import { DuckDbLa, readManifestOf, careSpansOf, type OracleRow } from './duckdb-metrics.js';
import { metricsDifferences } from './metrics-check.js';
import { round, seconds } from './measure.js';
import { csvThroughput, ctfThroughput } from './parsing.js';
import {
  CostMeter,
  installCostMeter,
  monthlyBill,
  storedBytes,
  DEFAULT_ASSUMPTIONS,
  DOCUMENTED_DURATIONS,
  LAMBDA_MEMORY_MB,
  type CostCounts,
  type CostMeasurements,
} from './cost.js';
import { AWS_PRICES_LONDON } from './aws-prices.js';
import { printReport } from './report.js';
import { schoolDay, SCHOOL_DAY_URN } from './school-day.js';
import { phaseProgress } from './progress.js';
import {
  pupilsForSize,
  scalingRow,
  scalingSummary,
  scalingTable,
  SCALING_CONCURRENCY,
  type ScalingRow,
} from './scaling.js';
import { webOverviewFigures } from './web.js';

export const BENCH_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface BenchOptions {
  quick: boolean;
  schools: number;
  pupils: number;
  from: string;
  to: string;
  seed: string;
  /** Reuse an LA already generated in the work directory (generation is then not timed). */
  reuse: boolean;
  /** Sections to leave out: parsing, bundles, service, load, web. */
  skip: ReadonlySet<string>;
  workDir: string;
  /** LA sizes (schools) to run the service phases at, for the scaling table; the same pupils per school. */
  scaling?: readonly number[];
  /** Concurrency levels of the API latency section, instead of the mode's (a scaling run adds 16). */
  latencyLevels?: readonly number[];
  /** Write the results here only (not bench/results/): a scaling run's other sizes, run as child processes. */
  resultsFile?: string;
  log: (line: string) => void;
}

/** Schools the bench's local runtime applies at once (the runtime's default is 2). */
export const BENCH_INGEST_CONCURRENCY = 4;

export const MODES = {
  // The demo-size LA for one week: within two minutes at today's ingest speed (60 schools' back-fill
  // and day alone took 97 s of it).
  quick: { schools: 30, pupils: 8_000, from: '2025-09-08', to: '2025-09-12' },
  // The largest LA (docs/design.md §7), a whole academic year: its back-fill (each school's year so far
  // as one file), then one LA day. The day is 14 July, the last day every generated calendar is in
  // term (summer terms end within 14–25 July), so the LA day has every school's return.
  full: { schools: 600, pupils: 230_000, from: '2025-09-01', to: '2026-07-14' },
} as const;

/** Sizes of each section per mode. */
function plan(quick: boolean) {
  return quick
    ? {
        csvBytes: 8 * 1024 * 1024,
        parseSeconds: 1,
        bundleProcesses: 2,
        schoolDay: { pupils: 2000, backfillDays: 10, days: 2 },
        referrals: 30,
        latency: { levels: [1, 8], count: 30, maxSeconds: 5 },
        load: { rate: 200, seconds: 60, maxInFlight: 256 },
        drainSeconds: 30,
      }
    : {
        csvBytes: 64 * 1024 * 1024,
        parseSeconds: 5,
        bundleProcesses: 7,
        schoolDay: { pupils: 2000, backfillDays: 185, days: 5 },
        referrals: 500,
        latency: { levels: [1, 4, 16], count: 300, maxSeconds: 30 },
        load: { rate: 200, seconds: 60, maxInFlight: 512 },
        drainSeconds: 600,
      };
}

export class BenchFailure extends Error {}

export async function runBench(options: BenchOptions): Promise<{ results: Record<string, unknown>; file: string }> {
  const base = plan(options.quick);
  const p: Plan = options.latencyLevels
    ? { ...base, latency: { ...base.latency, levels: [...options.latencyLevels] } }
    : base;
  const today = todayInEngland();
  const started = performance.now();
  const results: Record<string, unknown> = {
    mode: options.quick ? 'quick' : 'full',
    startedAt: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      memoryGb: Math.round(totalmem() / 1024 ** 3),
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
    },
    la: { schools: options.schools, pupils: options.pupils, from: options.from, to: options.to, seed: options.seed },
  };
  mkdirSync(options.workDir, { recursive: true });
  // A long run cut short (a session's end, a killed process) still leaves what it measured so far.
  const partialFile = join(
    BENCH_ROOT,
    'bench',
    'results',
    `partial-${results.mode}-${(results.startedAt as string).replace(/[:.]/g, '-')}.json`,
  );
  const checkpoint = options.resultsFile
    ? undefined
    : setInterval(() => {
        mkdirSync(dirname(partialFile), { recursive: true });
        writeFileSync(partialFile, `${JSON.stringify({ ...results, partial: true }, null, 2)}\n`);
      }, 30_000).unref();
  try {
    await benchSections(options, p, today, results);
  } catch (err) {
    // A size of a scaling run (a child process): keep what it measured before it stopped, so the
    // parent's table still has its back-fill and LA day when a later phase fails.
    if (options.resultsFile) {
      results.error = failureText(err);
      results.finishedAt = new Date().toISOString();
      writeFileSync(options.resultsFile, `${JSON.stringify(results, null, 2)}\n`);
    }
    throw err;
  } finally {
    if (checkpoint) clearInterval(checkpoint);
  }
  rmSync(partialFile, { force: true });

  results.totalSeconds = round(seconds(started));
  results.finishedAt = new Date().toISOString();
  if (options.resultsFile) {
    writeFileSync(options.resultsFile, `${JSON.stringify(results, null, 2)}\n`);
    return { results, file: options.resultsFile };
  }
  const dir = join(BENCH_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${results.mode}-${(results.startedAt as string).replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(dir, `latest-${results.mode}.json`), `${JSON.stringify(results, null, 2)}\n`);
  printReport(results, process.stdout);
  const failed = ((results.scaling as { rows?: ScalingRow[] } | undefined)?.rows ?? []).filter((r) => r.failed);
  if (failed.length > 0)
    throw new BenchFailure(
      `the scaling table's ${failed.map((r) => r.schools).join(', ')}-school run stopped early (${failed.map((r) => r.failed).join('; ')}); the other sizes' rows are in the table above and in ${file}`,
    );
  return { results, file };
}

/** Bytes of the files under `dir` (0 when it does not exist). */
function diskBytes(dir: string): number {
  if (!existsSync(dir)) return 0;
  let bytes = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    bytes += entry.isDirectory() ? diskBytes(path) : entry.isFile() ? statSync(path).size : 0;
  }
  return bytes;
}

/** What went wrong, on one line (an engine fault's message names its call: bench/cost.ts). */
function failureText(err: unknown): string {
  const e = err as Error;
  return `${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`.replace(/\s+/g, ' ').slice(0, 400);
}

/** Sections 8, 1, 4, the service (or the scaling table) and the web app, filling `results` as they go. */
async function benchSections(
  options: BenchOptions,
  p: Plan,
  today: string,
  results: Record<string, unknown>,
): Promise<void> {
  const log = options.log;
  const laDir = join(options.workDir, 'la');

  // 8. Generation.
  results.generation = await generate(options, laDir);
  const manifest = readManifestOf(laDir);
  const summary = generatedSummary(laDir);
  (results.la as Record<string, unknown>).pupilsTotal = summary.pupils.total;
  (results.la as Record<string, unknown>).schoolDays = summary.schoolDays;

  // 1. Parsing.
  if (!options.skip.has('parsing')) {
    log('parsing throughput (CSV, CTF)…');
    results.parsing = {
      csv: await csvThroughput(laDir, today, p.csvBytes, p.parseSeconds),
      ctf: await ctfThroughput(laDir, today, p.parseSeconds),
    };
  }

  // 4. Bundles.
  if (!options.skip.has('bundles')) {
    log('bundling each Lambda and timing cold imports…');
    results.bundles = await bundleFigures(BENCH_ROOT, join(options.workDir, 'bundles'), p.bundleProcesses);
  }

  if (!options.skip.has('service') && options.scaling) await scalingSections(options, p, laDir, today, results);
  else if (!options.skip.has('service')) await serviceSections(options, p, laDir, manifest, summary, today, results);

  // The web app: the overview usable after sign-in, on the demo LA (bench/web.ts).
  if (!options.skip.has('web')) {
    log('web app: overview after sign-in on the demo LA…');
    results.web = await webOverviewFigures(join(options.workDir, 'web'), options.quick ? 3 : 7, log);
  }
}

type Plan = ReturnType<typeof plan>;

/** Generate the LA in `laDir` (or reuse one there): what generation measured. */
async function generate(options: BenchOptions, laDir: string): Promise<Record<string, unknown>> {
  const log = options.log;
  if (options.reuse && existsSync(join(laDir, 'manifest.json'))) {
    log('reusing the generated LA in ' + laDir);
    return { reused: true };
  }
  log(`generating the LA: ${options.schools} schools, ${options.pupils} pupils, ${options.from} to ${options.to}…`);
  const t = performance.now();
  const progress = phaseProgress('generating', log, 'days');
  const summary: GenerateSummary = await generateLa({
    schools: options.schools,
    pupils: options.pupils,
    from: options.from,
    to: options.to,
    seed: options.seed,
    out: laDir,
    overwrite: true,
    onProgress: (g) => g.stage === 'returns' && progress(g.day, g.days),
  });
  const s = seconds(t);
  const rows = summary.rows.daily + summary.rows.corrections;
  return {
    seconds: round(s),
    rows,
    files: summary.files.total,
    bytes: summary.bytes,
    rowsPerSecond: Math.round(rows / s),
    mbPerSecond: round(summary.bytes / 1024 / 1024 / s),
    pupils: summary.pupils.total,
    schools: { inArea: summary.schools.inArea, outOfArea: summary.schools.outOfArea, byPhase: summary.schools.byPhase },
    schoolDays: summary.schoolDays,
  };
}

function generatedSummary(laDir: string): GenerateSummary {
  return (JSON.parse(readFileSync(join(laDir, 'manifest.json'), 'utf8')) as { summary: GenerateSummary }).summary;
}

/**
 * 10. The service phases at each size of `options.scaling` (schools; pupils in proportion), each on
 * its own generated LA and its own engines. The size equal to the bench's LA runs here, and its
 * figures are also the run's own (so `--scaling 30,120,600` is the full bench plus two smaller
 * LAs); the others run as a fresh bench process each (`--skip` all but the service), so no cache
 * of one size's process outlives into another's. API latency includes concurrency 16 at every size.
 * Each size's row is printed (stderr) and the table so far written to `scaling.json` in the work
 * directory as soon as that size is done; a size that fails keeps the figures it measured before
 * it stopped, and the next size still runs (the bench then fails, naming it).
 */
async function scalingSections(
  options: BenchOptions,
  p: Plan,
  laDir: string,
  today: string,
  results: Record<string, unknown>,
): Promise<void> {
  const sizes = options.scaling ?? [];
  const levels = [...new Set([...p.latency.levels, SCALING_CONCURRENCY])].sort((a, b) => a - b);
  const rows: ScalingRow[] = [];
  const runs: Record<string, unknown> = {};
  for (const schools of sizes) {
    const pupils = schools === options.schools ? options.pupils : pupilsForSize(schools, options);
    options.log(`scaling: ${schools} schools, ${pupils} pupils…`);
    let out: Record<string, unknown> = {};
    let dir: string;
    if (schools === options.schools) {
      dir = laDir;
      try {
        await serviceSections(
          options,
          { ...p, latency: { ...p.latency, levels } },
          laDir,
          readManifestOf(laDir),
          generatedSummary(laDir),
          today,
          out,
        );
      } catch (err) {
        options.log(`the ${schools}-school run: ${(err as Error)?.stack ?? String(err)}`);
        out.error = failureText(err);
      }
      Object.assign(results, out);
    } else {
      const workDir = join(options.workDir, `scale-${schools}`);
      dir = join(workDir, 'la');
      try {
        out = await benchProcess(options, { schools, pupils, workDir, levels });
      } catch (err) {
        out = { error: failureText(err) };
      }
    }
    if (typeof out.error === 'string') options.log(`scaling: the ${schools}-school run stopped early: ${out.error}`);
    const generated = existsSync(join(dir, 'manifest.json')) ? generatedSummary(dir).pupils.total : pupils;
    rows.push(scalingRow(schools, generated, out));
    runs[String(schools)] = out;
    const summary = { ...scalingSummary(rows), runs };
    results.scaling = summary;
    writeFileSync(join(options.workDir, 'scaling.json'), `${JSON.stringify(summary, null, 2)}\n`);
    options.log(`scaling table so far (also in ${join(options.workDir, 'scaling.json')}):`);
    for (const line of scalingTable(summary)) options.log(`  ${line}`);
  }
}

/** A bench of one more LA size in a child process (same mode, range and seed; the service phases only). */
async function benchProcess(
  options: BenchOptions,
  size: { schools: number; pupils: number; workDir: string; levels: readonly number[] },
): Promise<Record<string, unknown>> {
  const { spawn } = await import('node:child_process');
  mkdirSync(size.workDir, { recursive: true });
  const resultsFile = join(size.workDir, 'results.json');
  rmSync(resultsFile, { force: true });
  const skip = [...new Set([...options.skip, 'parsing', 'bundles', 'web'])].join(',');
  const args = [
    join(BENCH_ROOT, 'bin', 'attendance-hub.ts'),
    'bench',
    ...(options.quick ? ['--quick'] : []),
    ...(options.reuse ? ['--reuse'] : []),
    '--schools',
    String(size.schools),
    '--pupils',
    String(size.pupils),
    '--from',
    options.from,
    '--to',
    options.to,
    '--seed',
    options.seed,
    '--work',
    size.workDir,
    '--skip',
    skip,
    '--latency-levels',
    size.levels.join(','),
    '--results',
    resultsFile,
  ];
  // The child's table goes to stderr with its progress: stdout keeps this run's own table.
  const child = spawn(process.execPath, [...process.execArgv, ...args], {
    cwd: BENCH_ROOT,
    stdio: ['ignore', process.stderr, process.stderr],
    env: process.env,
  });
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (c) => resolve(c ?? 1));
  });
  if (!existsSync(resultsFile))
    throw new BenchFailure(
      `the ${size.schools}-school run of the scaling table failed (exit status ${code}); its output is above`,
    );
  // A child that failed wrote what it measured before it stopped, with its error.
  const out = JSON.parse(readFileSync(resultsFile, 'utf8')) as Record<string, unknown>;
  if (code !== 0 && typeof out.error !== 'string') out.error = `exit status ${code}; its output is above`;
  return out;
}

/** Items 2, 3, 5, 6 and 7: everything that needs the running service. */
async function serviceSections(
  options: BenchOptions,
  p: Plan,
  laDir: string,
  manifest: ReturnType<typeof readManifestOf>,
  summary: GenerateSummary,
  today: string,
  results: Record<string, unknown>,
): Promise<void> {
  const log = options.log;
  const { startLocalRuntime } = await import('../local/runtime.js');
  const { loadGeneratedLa } = await import('../local/load-la.js');
  const dataDir = join(options.workDir, 'service');
  rmSync(dataDir, { recursive: true, force: true });
  // Four schools applied at once (AWS runs up to 100): while one waits on the engines another uses
  // the handler process's core, so the handlers and the engines overlap (docs/benchmarks.md). The
  // ingest runs on worker threads, each a warm Lambda container, apart from the API, receive and
  // rollup (local/ingest-workers.ts; INGEST_WORKERS=n to choose, 0 for the main thread).
  const { defaultIngestWorkers } = await import('../local/ingest-workers.js');
  const runtime = await startLocalRuntime({
    dataDir,
    port: 0,
    ingestConcurrency: BENCH_INGEST_CONCURRENCY,
    ingestWorkers: defaultIngestWorkers(),
  });
  const url = runtime.url;
  // 9. The cost meter: counts what each operation asks of DynamoDB, S3, SQS and the API (bench/cost.ts).
  // Installed once the back-fill is in (nothing counts the back-fill, and metering its tens of millions
  // of rows' requests cost about 1 µs of CPU a row).
  const meter = new CostMeter();
  let removeMeter = () => {};
  const { DEFAULT_NAMES } = await import('../shared/config.js');
  let laDayCounts: CostCounts | undefined;
  let storage: CostMeasurements['storage'] | undefined;
  const rollupCounts: CostCounts[] = [];
  const apiCounts: Record<string, { requests: number; counts: CostCounts }> = {};
  let patternsCounts: CostCounts | undefined;
  const token = (role: 'school' | 'la_officer' | 'vsh' | 'admin', urn?: string) =>
    runtime.token({ role, ...(urn ? { urn } : {}), sub: `bench-${role}${urn ? `-${urn}` : ''}` });
  const officer = await token('la_officer');
  const year = summary.academicYear;
  const yearStart = `${year}-08-01`;
  const yearEnd = `${year + 1}-07-31`;
  // The LA day: the range's last day, or the last day before it with daily returns (a holiday `--to`).
  const lastDay = manifest.files.reduce(
    (d, f) => (f.kind === 'daily' && f.date <= summary.to && f.date > d ? f.date : d),
    '',
  );
  // The files of the last day: its daily returns, and whatever the manifest sends after them (the
  // week's corrections). Everything before is the year so far, which the LA back-fills.
  const firstOfDay = manifest.files.findIndex((f) => f.kind === 'daily' && f.date === lastDay);
  if (firstOfDay < 0)
    throw new BenchFailure(`the generated LA has no daily returns on or before ${summary.to} to time an LA day on`);
  const before = manifest.files.slice(0, firstOfDay);
  const day = manifest.files.slice(firstOfDay);
  const phaseDir = (name: string, setup: boolean, files: typeof manifest.files) => {
    const d = join(options.workDir, name);
    mkdirSync(d, { recursive: true });
    const full = JSON.parse(readFileSync(join(laDir, 'manifest.json'), 'utf8')) as {
      setup: Array<{ path: string; parts?: Record<string, string> }>;
    };
    const rel = (x: string) => join('..', 'la', x);
    writeFileSync(
      join(d, 'manifest.json'),
      JSON.stringify({
        laCode: manifest.laCode,
        setup: setup
          ? full.setup.map((s) => ({
              ...s,
              path: rel(s.path),
              ...(s.parts ? { parts: Object.fromEntries(Object.entries(s.parts).map(([k, v]) => [k, rel(v)])) } : {}),
            }))
          : [],
        files: files.map((f) => ({ ...f, path: rel(f.path) })),
      }),
    );
    return d;
  };
  try {
    // The ingest's worker threads (0: the main thread), for reading the figures below.
    const ingest: Record<string, unknown> = { workers: runtime.ingestWorkers?.size ?? 0 };
    results.ingest = ingest;

    // The LA's lists, then its year so far as one back-fill per school.
    let t = performance.now();
    await loadGeneratedLa({ url, dir: phaseDir('phase-setup', true, []), token: (role, urn) => token(role, urn) });
    ingest.setupSeconds = round(seconds(t));
    log(`back-filling the year so far (${before.length} files folded into one per school)…`);
    t = performance.now();
    const backfill = await loadGeneratedLa({
      url,
      dir: phaseDir('phase-backfill', false, before),
      workDir: join(options.workDir, 'backfill'),
      token: (role, urn) => token(role, urn),
      backfillBefore: lastDay,
      concurrency: 4,
      onBackfillWritten: phaseProgress('back-fill files written', log, 'schools'),
      onProgress: phaseProgress('back-fill applied', log, 'files'),
    });
    await runtime.settle();
    const backfillSeconds = seconds(t);
    ensureClean('back-fill', backfill.uploads);
    ingest.backfill = {
      seconds: round(backfillSeconds),
      files: backfill.uploads.files,
      rows: backfill.uploads.rowsAccepted,
      rowsPerSecond: Math.round(backfill.uploads.rowsAccepted / backfillSeconds),
      marksPerSecond: Math.round((2 * backfill.uploads.rowsAccepted) / backfillSeconds),
      through: addDays(lastDay, -1),
    };

    removeMeter = await installCostMeter(meter, { api: url, s3: runtime.engines.s3Endpoint });

    // 5. DuckDB's first computation over the same files (the service idle meanwhile).
    log('DuckDB: first year-to-date computation over the CSV files…');
    const duckPath = join(options.workDir, 'duckdb.db');
    rmSync(duckPath, { force: true });
    rmSync(`${duckPath}.wal`, { force: true });
    t = performance.now();
    const duckOptions = {
      laCode: manifest.laCode,
      academicYear: year,
      path: options.quick ? undefined : duckPath,
      threads: cpus().length,
      tempDirectory: join(options.workDir, 'duckdb-tmp'),
    };
    let duck = await DuckDbLa.open(duckOptions);
    await duck.loadRegistry(join(laDir, 'schools.csv'));
    await duck.loadCare(careSpansOf(laDir, today));
    await duck.addReturns(
      before.map((f) => join(laDir, f.path)),
      RETURN_COLUMNS,
    );
    const firstRows = await duck.metricRows({ from: yearStart, to: lastDay, scopes: ['la'], dimensions: ['cohort'] });
    const duckFirst = seconds(t);
    await checkAgainstDuckDb(url, officer, firstRows, { from: yearStart, to: lastDay }, 'after the back-fill');
    // DuckDB on disk is closed while the service is timed (its buffers held GBs beside the service in
    // this process, which the LA day then paid for: the full bench of 7 December), reopened after.
    if (duckOptions.path) duck.close();

    log(`one LA day: ${day.length} files (every school's return for ${lastDay}, then the week's corrections)…`);
    t = performance.now();
    const beforeDay = meter.snapshot();
    const daily = await loadGeneratedLa({
      url,
      dir: phaseDir('phase-day', false, day),
      token: (role, urn) => token(role, urn),
      concurrency: 8,
      onProgress: phaseProgress('LA day applied', log, 'files'),
    });
    await runtime.settle();
    const daySeconds = seconds(t);
    laDayCounts = meter.since(beforeDay);
    ensureClean('LA day', daily.uploads);
    ingest.laDay = {
      date: lastDay,
      seconds: round(daySeconds),
      files: daily.uploads.files,
      rows: daily.uploads.rowsAccepted,
      rowsPerSecond: Math.round(daily.uploads.rowsAccepted / daySeconds),
    };

    // The service's daily update of the LA metrics: the rollup that follows the day's returns. Each
    // school's return is applied when that school sends it (in AWS, schools in parallel); the LA
    // figures then come from one rollup over every school's view. Measured cold (every school view
    // read again, as after a day on which every school sent), median of three; the figures it writes
    // are the ones checked against DuckDB below.
    log("the LA metrics update: a rollup over every school's view (cold)…");
    const { rollup, forgetSchoolViews } = await import('../shared/app/rollup.js');
    const { storedLaFigures } = await import('../shared/app/wiring.js');
    const rollupTimes: number[] = [];
    for (let r = 0; r < 3; r++) {
      forgetSchoolViews();
      const beforeRollup = meter.snapshot();
      t = performance.now();
      await rollup({ figures: storedLaFigures }, year);
      rollupTimes.push(seconds(t));
      rollupCounts.push(meter.since(beforeRollup));
    }
    const rollupSeconds = [...rollupTimes].sort((a, b) => a - b)[1];
    ingest.laMetricsUpdate = { seconds: round(rollupSeconds, 3), runs: rollupTimes.map((x) => round(x, 3)) };
    // The local engines' data on disk (dynalite's LevelDB, s3rver's files) after the LA day: what one
    // machine needs to hold the LA (32 GB after a week at 600 schools while dynalite leaked
    // iterators; docs/benchmarks.md).
    ingest.engineDisk = { dynaliteBytes: diskBytes(join(dataDir, 'ddb')), s3rverBytes: diskBytes(join(dataDir, 's3')) };
    // What the LA's data takes to store, before the 2,000-pupil school of another year is added.
    storage = await storedBytes(DEFAULT_NAMES.table, [
      DEFAULT_NAMES.returnsBucket,
      DEFAULT_NAMES.registersBucket,
      DEFAULT_NAMES.quarantineBucket,
    ]);

    log('DuckDB: the daily update (one more day of files, year to date recomputed)…');
    if (duckOptions.path) duck = await DuckDbLa.open({ ...duckOptions, existing: true });
    t = performance.now();
    await duck.addReturns(
      day.map((f) => join(laDir, f.path)),
      RETURN_COLUMNS,
    );
    const duckAppend = seconds(t);
    const tq = performance.now();
    const dayRows = await duck.metricRows({ from: yearStart, to: lastDay, scopes: ['la'], dimensions: ['cohort'] });
    const duckRecompute = seconds(tq);
    const duckDay = seconds(t);
    await checkAgainstDuckDb(url, officer, dayRows, { from: yearStart, to: lastDay }, 'after the day');
    const duckRowsHeld = await duck.rowCount();
    const pupilsForSampling = (await duck.pupils(yearStart, lastDay)).filter((x) => x.possibleSessions > 0);
    duck.close();
    results.duckdb = {
      rowsHeld: duckRowsHeld,
      threads: cpus().length,
      firstSeconds: round(duckFirst, 2),
      dailySeconds: round(duckDay, 2),
      dailyAppendSeconds: round(duckAppend, 3),
      dailyRecomputeSeconds: round(duckRecompute, 3),
      serviceBackfillSeconds: round(backfillSeconds, 2),
      serviceDaySeconds: round(daySeconds, 2),
      serviceMetricsUpdateSeconds: round(rollupSeconds, 3),
      // Ratios are DuckDB's time over the service's: > 1, the service is faster by this factor.
      // dailyRatio: the daily update of the LA metrics (DuckDB: append the day, recompute the year to
      // date; the service: the rollup). dailyRecomputeRatio: against DuckDB's recompute alone, the
      // day's files already loaded. dayEndToEndRatio: against the whole LA day on this machine
      // (every return ingested one after another, then the rollup).
      firstRatio: round(duckFirst / backfillSeconds, 2),
      dailyRatio: round(duckDay / rollupSeconds, 2),
      dailyRecomputeRatio: round(duckRecompute / rollupSeconds, 2),
      dayEndToEndRatio: round(duckDay / daySeconds, 2),
      agreed: `LA cohort metrics (every cohort, both populations) equal, after the back-fill and after the day: ${dayRows.length} rows`,
    };

    // 2a. One 2,000-pupil school day (academic year 2024/25, apart from the LA's figures).
    log('one 2,000-pupil school: back-fill, then single days…');
    ingest.schoolDay = await schoolDay(url, await token('school', SCHOOL_DAY_URN), {
      ...p.schoolDay,
      workDir: options.workDir,
    });
    await runtime.settle();

    // Referrals to search: persistent-absence cases for the worst pupils.
    log(`creating ${p.referrals} referrals…`);
    const pa = [...pupilsForSampling]
      .sort((a, b) => b.absenceSessions / b.possibleSessions - a.absenceSessions / a.possibleSessions)
      .slice(0, p.referrals);
    const referred: Array<{ upn: string; urn: string }> = [];
    for (const x of pa) {
      const urn = x.urns[0];
      const res = await fetch(`${url}/v1/referrals`, {
        method: 'POST',
        headers: { authorization: `Bearer ${officer}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          upn: x.upn,
          urn,
          type: 'persistent_absence',
          reason: 'Benchmark case: persistent absence this year.',
        }),
      });
      await res.arrayBuffer();
      if (res.status === 201 || res.status === 200) referred.push({ upn: x.upn, urn });
    }

    // 3. API latency.
    const sample = pupilsForSampling
      .filter((_, i) => i % Math.max(1, Math.floor(pupilsForSampling.length / 500)) === 0)
      .map((x) => x.upn);
    const urns = [...new Set(pupilsForSampling.map((x) => x.urns[0]))].sort();
    const endpoints: Record<string, (i: number) => BenchRequest> = {
      pupil_view: (i) => ({ path: `/v1/pupils/${sample[i % sample.length]}?academicYear=${year}`, token: officer }),
      pa_list: (i) => ({
        path: `/v1/pupils?flag=persistent_absence&from=${yearStart}&to=${yearEnd}&limit=50${i % 4 === 3 ? `&urn=${urns[i % urns.length]}` : ''}`,
        token: officer,
      }),
      la_metrics_by_cohort: (i) => ({
        path: `/v1/metrics?scope=la&groupBy=cohort&from=${yearStart}&to=${lastDay}&population=${i % 2 ? 'compulsory' : 'all'}`,
        token: officer,
      }),
      referral_search: (i) => ({
        path:
          i % 3 === 0
            ? '/v1/referrals?status=submitted&limit=50'
            : i % 3 === 1
              ? `/v1/referrals?urn=${referred[i % Math.max(1, referred.length)]?.urn ?? urns[0]}`
              : `/v1/referrals?upn=${referred[i % Math.max(1, referred.length)]?.upn ?? sample[0]}`,
        token: officer,
      }),
    };
    const latency: Record<string, unknown[]> = {};
    for (const [name, next] of Object.entries(endpoints)) {
      log(`API latency: ${name}…`);
      latency[name] = [];
      const beforeApi = meter.snapshot();
      await closedLoop(url, next, 2, 10, 5); // warm the views
      for (const c of p.latency.levels)
        latency[name].push(await closedLoop(url, next, c, p.latency.count, p.latency.maxSeconds));
      const counts = meter.since(beforeApi);
      apiCounts[name] = { requests: counts.api.requests, counts };
    }
    results.apiLatency = { referrals: referred.length, pupilsSampled: sample.length, levels: latency };

    // 6. Patterns over the whole LA.
    log('patterns run over the whole LA…');
    try {
      const { runPatterns } = await import('../shared/app/run-patterns.js');
      const beforePatterns = meter.snapshot();
      t = performance.now();
      const outcome = await runPatterns({ academicYear: year, trigger: 'api', requestedBy: 'bench' });
      patternsCounts = meter.since(beforePatterns);
      results.patterns = {
        seconds: round(seconds(t), 2),
        status: outcome.status,
        timings: outcome.timings,
        counts: outcome.counts,
        memory: outcome.memory,
      };
    } catch (err) {
      results.patterns = { error: (err as Error).message };
    }

    // 7. Load: mixed reads and uploads at a fixed rate.
    if (!options.skip.has('load')) log(`load test: ${p.load.rate} requests/s for ${p.load.seconds} s…`);
    const uploads = day
      .filter((f) => f.kind === 'daily' && f.role === 'school')
      .slice(0, 50)
      .map((f) => {
        const lines = readFileSync(join(laDir, f.path), 'utf8').split('\n');
        return { urn: f.urn, csv: `${lines.slice(0, 4).join('\n')}\n` };
      });
    const schoolTokens = new Map<string, string>();
    for (const u of uploads) schoolTokens.set(u.urn, await token('school', u.urn));
    const mix: LoadMixEntry[] = [
      { name: 'pupil_view', weight: 8, next: endpoints.pupil_view },
      { name: 'pa_list', weight: 3, next: endpoints.pa_list },
      { name: 'la_metrics_by_cohort', weight: 3, next: endpoints.la_metrics_by_cohort },
      {
        name: 'school_metrics',
        weight: 1,
        next: (i) => ({
          path: `/v1/metrics?scope=school&urn=${urns[i % urns.length]}&groupBy=year_group&from=${yearStart}&to=${lastDay}`,
          token: officer,
        }),
      },
      { name: 'referral_search', weight: 2, next: endpoints.referral_search },
      { name: 'schools', weight: 2, next: () => ({ path: '/v1/schools', token: officer }) },
      {
        name: 'upload',
        weight: 1,
        next: (i) => {
          const u = uploads[i % uploads.length];
          return {
            method: 'POST',
            path: '/v1/returns',
            token: schoolTokens.get(u.urn)!,
            body: u.csv,
            contentType: 'text/csv',
            expect: 202,
          };
        },
      },
    ];
    // The deployed rollup window (returns within it share one LA rollup) rather than the local
    // server's 2 s: under a steady stream of uploads the window decides how often the LA-wide figures
    // are rebuilt and re-read. (Loading the LA above keeps 2 s, so its "until current" waits are short.)
    // The cost: from what the LA day, the API requests and the patterns run asked for (the load test is not metered).
    removeMeter();
    if (laDayCounts && storage && patternsCounts) {
      const measured: CostMeasurements = {
        benchPupils: options.pupils,
        benchSchools: options.schools,
        daysOfMarks: summary.schoolDays,
        laDay: laDayCounts,
        patterns: patternsCounts,
        api: apiCounts,
        storage,
        buckets: {
          returns: DEFAULT_NAMES.returnsBucket,
          registers: DEFAULT_NAMES.registersBucket,
          ingestQueue: DEFAULT_NAMES.ingestQueue,
          rollupQueue: DEFAULT_NAMES.rollupQueue,
        },
      };
      results.cost = {
        measured: {
          ...measured,
          laDayFiles: daily.uploads.files,
          laDayRows: daily.uploads.rowsAccepted,
          pupilsTotal: summary.pupils.total,
          rollupRuns: rollupCounts,
        },
        assumptions: DEFAULT_ASSUMPTIONS,
        documentedDurations: DOCUMENTED_DURATIONS,
        lambdaMemoryMb: LAMBDA_MEMORY_MB,
        prices: AWS_PRICES_LONDON,
        bill: monthlyBill(measured),
      };
    }
    const { ROLLUP_DELAY_SECONDS } = await import('../shared/config.js');
    runtime.setRollupDelay(ROLLUP_DELAY_SECONDS);
    if (!options.skip.has('load')) {
      // The generator in a process of its own: not on the service's event loop (bench/api-load.ts).
      const load = await openLoopInChild(url, mix, p.load.rate, p.load.seconds, p.load.maxInFlight);
      t = performance.now();
      const drained = await Promise.race([
        runtime.settle().then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), p.drainSeconds * 1000)),
      ]);
      results.load = { ...load, uploadsQueuedDrainSeconds: drained ? round(seconds(t)) : null, drained };
    }
  } finally {
    removeMeter();
    await runtime.stop().catch(() => undefined);
  }
}

function ensureClean(
  what: string,
  uploads: {
    files: number;
    rejected: number;
    acceptedWithErrors: number;
    rowsRejected: number;
    outcomes: Array<{ status: string; detail?: string; path: string }>;
  },
): void {
  const bad = uploads.outcomes.filter((o) => o.status !== 'accepted');
  if (bad.length > 0 || uploads.rowsRejected > 0) {
    throw new BenchFailure(
      `${what}: ${bad.length} of ${uploads.files} returns not accepted cleanly (${uploads.rowsRejected} rows rejected), e.g. ${bad[0]?.path}: ${bad[0]?.status} ${bad[0]?.detail ?? ''}`,
    );
  }
}

/** The service's LA cohort metrics must equal DuckDB's exactly; otherwise the bench fails. */
async function checkAgainstDuckDb(
  url: string,
  officer: string,
  oracle: readonly OracleRow[],
  period: { from: string; to: string },
  when: string,
): Promise<void> {
  const problems: string[] = [];
  for (const population of ['all', 'compulsory'] as const) {
    const res = await fetch(
      `${url}/v1/metrics?scope=la&groupBy=cohort&population=${population}&from=${period.from}&to=${period.to}`,
      { headers: { authorization: `Bearer ${officer}` } },
    );
    const body = (await res.json()) as { items?: Array<Record<string, unknown>>; detail?: string };
    if (res.status !== 200 || !body.items) {
      problems.push(`GET /v1/metrics (${population}): HTTP ${res.status} ${body.detail ?? ''}`);
      continue;
    }
    problems.push(
      ...metricsDifferences(
        `LA by cohort, ${population}`,
        body.items as never,
        oracle.filter((r) => r.population === population && r.dimension === 'cohort'),
      ),
    );
  }
  if (problems.length > 0) {
    throw new BenchFailure(
      `the service's figures differ from DuckDB's ${when} (${problems.length} differences):\n  ${problems.slice(0, 20).join('\n  ')}`,
    );
  }
}
