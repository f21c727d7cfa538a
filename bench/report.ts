/** The benchmark's table on a terminal (the JSON in bench/results/ holds everything). */
import { billTable } from './cost.js';
import { scalingTable, type ScalingSummary } from './scaling.js';

type R = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- report rows are free-form JSON from every bench section

const n = (x: unknown, digits = 0) =>
  typeof x === 'number' && Number.isFinite(x) ? x.toLocaleString('en-GB', { maximumFractionDigits: digits }) : '–';
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;

function reportLines(results: R): string[][] {
  const rows: string[][] = [];
  const add = (section: string, what: string, figure: string, detail = '') =>
    rows.push([section, what, figure, detail]);
  const g = results.generation;
  if (g && !g.reused)
    add(
      '8 generate',
      'synthetic LA',
      `${n(g.rowsPerSecond)} rows/s`,
      `${n(g.rows)} rows, ${n(g.files)} files, ${mb(g.bytes)} in ${n(g.seconds, 1)} s (${n(g.mbPerSecond, 1)} MB/s)`,
    );
  if (results.parsing) {
    const { csv, ctf } = results.parsing;
    add(
      '1 parse',
      'daily-return CSV',
      `${n(csv.marksPerSecond)} marks/s`,
      `${n(csv.mbPerSecond, 1)} MB/s over ${n(csv.files)} files, ${mb(csv.bytes)}, ${csv.rowErrors} row errors`,
    );
    add(
      '1 parse',
      'CTF XML',
      `${n(ctf.marksPerSecond)} marks/s`,
      `${n(ctf.mbPerSecond, 1)} MB/s, one school's range: ${n(ctf.pupils)} pupils, ${mb(ctf.bytes)}`,
    );
  }
  const i = results.ingest;
  if (i?.schoolDay) {
    const s = i.schoolDay;
    add(
      '2 ingest',
      `one ${n(s.pupils)}-pupil school day`,
      `${n(s.medianReceivedToProcessedMs)} ms`,
      `received → processed, median of ${s.days.length} days after a ${s.backfillDays}-day back-fill; POST → accepted ${n(s.medianWallMs)} ms`,
    );
  }
  if (i?.backfill)
    add(
      '2 ingest',
      'LA back-fill of the year so far',
      `${n(i.backfill.seconds, 1)} s`,
      `${n(i.backfill.files)} files, ${n(i.backfill.rows)} rows (${n(i.backfill.marksPerSecond)} marks/s), through ${i.backfill.through}`,
    );
  if (i?.laDay)
    add(
      '2 ingest',
      'one whole LA day (wall)',
      `${n(i.laDay.seconds, 1)} s`,
      `${n(i.laDay.files)} files, ${n(i.laDay.rows)} rows, until the LA figures are current${typeof i.workers === 'number' ? `; ingest ${i.workers ? `on ${i.workers} worker thread${i.workers > 1 ? 's' : ''}` : 'in the main thread'}` : ''}`,
    );
  if (i?.laMetricsUpdate)
    add(
      '2 ingest',
      'LA metrics update (rollup)',
      `${n(i.laMetricsUpdate.seconds * 1000, 0)} ms`,
      `every school's view read again, merged, LA view written; median of ${i.laMetricsUpdate.runs.length}`,
    );
  if (i?.engineDisk)
    add(
      '2 ingest',
      "local engines' data on disk",
      mb(i.engineDisk.dynaliteBytes + i.engineDisk.s3rverBytes),
      `dynalite (LevelDB) ${mb(i.engineDisk.dynaliteBytes)}, s3rver ${mb(i.engineDisk.s3rverBytes)}, after the LA day and the rollups`,
    );
  const d = results.duckdb;
  if (d) {
    add(
      '5 vs DuckDB',
      'first YTD computation',
      `DuckDB ${n(d.firstSeconds, 2)} s`,
      `service back-fill ${n(d.serviceBackfillSeconds, 1)} s: ratio ${n(d.firstRatio, 2)} (DuckDB/service)`,
    );
    add(
      '5 vs DuckDB',
      'daily update of LA metrics',
      `ratio ${n(d.dailyRatio, 1)}`,
      `DuckDB ${n(d.dailySeconds, 2)} s (append the day ${n(d.dailyAppendSeconds, 2)} s + recompute ${n(d.dailyRecomputeSeconds, 2)} s) / service rollup ${n(d.serviceMetricsUpdateSeconds, 2)} s (> 1 = service faster)`,
    );
    add(
      '5 vs DuckDB',
      '  recompute alone',
      `ratio ${n(d.dailyRecomputeRatio, 1)}`,
      `DuckDB recompute ${n(d.dailyRecomputeSeconds, 2)} s / service rollup ${n(d.serviceMetricsUpdateSeconds, 2)} s`,
    );
    add(
      '5 vs DuckDB',
      '  whole LA day end to end',
      `ratio ${n(d.dayEndToEndRatio, 2)}`,
      `DuckDB ${n(d.dailySeconds, 2)} s / service LA day ${n(d.serviceDaySeconds, 1)} s (every return ingested in turn on this machine, then the rollup)`,
    );
    add('5 vs DuckDB', 'figures', 'equal', d.agreed);
  }
  if (results.apiLatency) {
    for (const [name, levels] of Object.entries(results.apiLatency.levels as Record<string, R[]>)) {
      for (const l of levels)
        add(
          '3 API',
          `${name} ×${l.concurrency}`,
          `p95 ${n(l.p95, 1)} ms`,
          `p50 ${n(l.p50, 1)} / p99 ${n(l.p99, 1)} ms, ${l.count} requests, ${l.errors} errors, ${n(l.throughput, 0)}/s`,
        );
    }
  }
  for (const b of (results.bundles ?? []) as R[]) {
    add(
      '4 bundle',
      b.name,
      kb(b.bytes),
      b.error
        ? `import failed: ${b.error}`
        : `gzip ${kb(b.gzipBytes)}; cold import ${n(b.importMs, 0)} ms (${n(b.sinceStartMs, 0)} ms from process start), median of ${b.processes}`,
    );
  }
  const pt = results.patterns;
  if (pt) {
    if (pt.error) add('6 patterns', 'whole LA', 'failed', pt.error);
    else
      add(
        '6 patterns',
        'whole LA',
        `${n(pt.seconds, 1)} s`,
        `${pt.status}; ${n(pt.counts?.pupilsAnalysed)} pupils, ${n(pt.counts?.schoolsAnalysed)} schools; load ${n(pt.timings?.loadMs)} ms, detect ${n(pt.timings?.detectMs)} ms, store ${n(pt.timings?.storeMs)} ms`,
      );
  }
  const l = results.load;
  if (l) {
    add(
      '7 load',
      `${l.targetRate}/s mixed for ${l.seconds} s`,
      `p95 ${n(l.overall.p95, 0)} ms`,
      `p50 ${n(l.overall.p50, 0)} / p99 ${n(l.overall.p99, 0)} ms; achieved ${n(l.achievedRate, 0)}/s, ${l.overall.errors} errors, ${l.skipped} not sent (cap)`,
    );
    if (typeof l.scheduleHeld === 'boolean')
      add(
        '7 load',
        'generator',
        l.scheduleHeld ? 'held the schedule' : 'FELL BEHIND its schedule',
        `sent ${n(l.offeredRate, 1)}/s over ${n(l.seconds, 1)} s; sent late by p95 ${n(l.sendLateMs?.p95, 1)} / max ${n(l.sendLateMs?.max, 0)} ms; answers drained ${n(l.drainSeconds, 1)} s after the last was sent${l.generatorCpuMsPerRequest === undefined ? '' : `; its own process, ${n(l.generatorCpuMsPerRequest, 2)} ms CPU a request`}`,
      );
    for (const [kind, k] of Object.entries(l.byKind as Record<string, R>))
      add(
        '7 load',
        `  ${kind}`,
        `p95 ${n(k.p95, 0)} ms`,
        `p50 ${n(k.p50, 0)} / p99 ${n(k.p99, 0)} ms, ${k.count} requests, ${k.errors} errors`,
      );
    add(
      '7 load',
      'uploads drained',
      l.drained ? `${n(l.uploadsQueuedDrainSeconds, 1)} s` : 'not within the bound',
      'after the last request',
    );
  }
  const c = results.cost;
  if (c?.bill) {
    const m = c.measured;
    const d = m.laDay;
    add(
      '9 cost',
      'one LA day (measured)',
      `${n(d.dynamo.writeUnits + d.dynamo.indexWriteUnits + d.dynamo.failedWriteUnits)} WRU`,
      `${n(d.dynamo.readUnits, 1)} RRU; S3 ${n(d.s3.putClass)} PUT-class / ${n(d.s3.getClass)} GET-class, ${mb(d.s3.bytesUp)} up, ${mb(d.s3.bytesDown)} down; SQS ${n(d.sqs.sendRequestsBilled)} sends (${n(Object.values(d.sqs.messagesByQueue as Record<string, number>).reduce((a, b) => a + b, 0))} messages); ${n(d.api.requests)} API requests; ${n(m.laDayFiles)} files, ${n(m.laDayRows)} rows`,
    );
    const pt2 = m.patterns;
    add(
      '9 cost',
      'patterns run (measured)',
      `${n(pt2.dynamo.writeUnits + pt2.dynamo.indexWriteUnits)} WRU`,
      `${n(pt2.dynamo.readUnits, 1)} RRU; S3 ${n(pt2.s3.putClass)} PUT-class / ${n(pt2.s3.getClass)} GET-class, ${mb(pt2.s3.bytesDown)} read`,
    );
    for (const [kind, x] of Object.entries(m.api as Record<string, R>)) {
      const k = x.counts;
      add(
        '9 cost',
        `  API ${kind}, per request`,
        `${n((k.dynamo.writeUnits + k.dynamo.indexWriteUnits) / x.requests, 2)} WRU`,
        `${n(k.dynamo.readUnits / x.requests, 2)} RRU, S3 ${n(k.s3.putClass / x.requests, 2)} PUT / ${n(k.s3.getClass / x.requests, 2)} GET (${n(x.requests)} requests)`,
      );
    }
    add(
      '9 cost',
      'stored',
      `${mb(m.storage.dynamoBytes)} DynamoDB`,
      `${n(m.storage.dynamoItems)} items; S3 ${Object.entries(m.storage.s3BytesByBucket as Record<string, number>)
        .map(([b, x]) => `${b} ${mb(x)}`)
        .join(', ')}`,
    );
    add(
      '9 cost',
      `monthly bill, ${n(c.assumptions.pupils)} pupils`,
      `$${n(c.bill.total, 0)}`,
      `dominated by ${c.bill.dominant}; table below (London on-demand prices, bench/aws-prices.ts)`,
    );
  }
  const w = results.web;
  if (w?.skipped) add('8 web', 'overview after sign-in', 'skipped', w.skipped);
  else if (w) {
    add(
      '8 web',
      'overview usable after sign-in',
      `${n(w.overviewUsableMs.median, 0)} ms`,
      `median of ${w.runs} (worst ${n(w.overviewUsableMs.max, 0)} ms) on the demo LA (${w.demo}); Chromium`,
    );
    add('8 web', 'app JavaScript', kb(w.jsGzipBytes), `gzipped, budget ${kb(w.jsBudgetBytes)} per page`);
  }
  return rows;
}

export function printReport(results: R, out: NodeJS.WritableStream): void {
  const m = results.machine;
  const la = results.la;
  out.write(
    `\nAttendance Hub benchmark (${results.mode}) — ${m.cpus} CPUs (${m.cpuModel}), ${m.memoryGb} GB, Node ${m.node}, ${String(results.startedAt).slice(0, 10)}\n`,
  );
  out.write(
    `LA: ${n(la.schools)} schools, ${n(la.pupilsTotal)} pupils, ${la.from} to ${la.to} (${la.schoolDays} school days); total ${n(results.totalSeconds, 0)} s\n\n`,
  );
  const rows = reportLines(results);
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows)
    out.write(`${r[0].padEnd(widths[0])}  ${r[1].padEnd(widths[1])}  ${r[2].padStart(widths[2])}  ${r[3]}\n`);
  out.write('\n');
  if (results.scaling?.rows) {
    out.write(
      'Scaling: the service phases at each LA size, the same pupils per school (p95 at concurrency 16; load at 200/s for 60 s).\n',
    );
    for (const line of scalingTable(results.scaling as ScalingSummary)) out.write(`${line}\n`);
    out.write('\n');
  }
  if (results.cost?.bill) {
    const a = results.cost.assumptions;
    out.write(
      `What it would cost in AWS a month: ${n(a.pupils)} pupils, ${n(a.schools)} schools, ${a.schoolDaysPerYear} school days a year, the nightly patterns run, API: ${a.apiAssumption}.\n`,
    );
    out.write(
      'Counts measured in this run and scaled (DynamoDB by pupils, S3/SQS/API/invocations by schools); Lambda time from docs/benchmarks.md; * = assumed, not measured.\n',
    );
    for (const line of billTable(results.cost.bill)) out.write(`${line}\n`);
    out.write(
      `Dominant line: ${results.cost.bill.dominant}. Prices: AWS price list, eu-west-2, to be checked (bench/aws-prices.ts).\n\n`,
    );
  }
}
