/**
 * API profile (issue 17): the three reads the scaling table times — the pupil view, a 50-row PA page,
 * LA metrics by cohort — each fired at concurrency 16 against the local service as the bench hosts it
 * (`startLocalRuntime`: the HTTP bridge, the API and the ingest consumer in this process; dynalite and
 * s3rver in a second). For each read: what one request asks of DynamoDB and S3 (the cost meter,
 * bench/cost.ts: exact and independent of the machine), and the CPU milliseconds per request of this
 * process and of the engine process (rough: the machine may be shared). With `--load`, the load
 * test's mix (bench/index.ts) at 200/s for a few seconds, for a profile of the process under load.
 *
 *   npx tsx bench/api-profile.ts [--work DIR] [--schools 30] [--pupils 8000] [--requests 200] [--load 15 [--no-uploads]] [--trace] [--alone] [--multi]
 *   npx tsx bench/api-profile.ts --only pa_list --profile .tmp/pa.cpuprofile   # a CPU profile of the measured requests only
 *   npx tsx bench/cpu-profile-summary.ts .tmp/pa.cpuprofile                     # its busy time by part
 *
 * (Node 20 refuses --cpu-prof in NODE_OPTIONS; the engine process is not profiled, its CPU time per
 * request is read from /proc.) `--trace` lists the AWS calls of one request of each read, in order.
 *
 * The generated LA and the engines' data are kept in the work directory (default .tmp/api-profile):
 * a second run reuses them and goes straight to the reads. Not part of `npm run bench`.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { closedLoop, openLoopInChild, type BenchRequest, type LoadMixEntry } from './api-load.js';
import { CostMeter, installCostMeter, type CostCounts } from './cost.js';
import { childCpuMs } from './measure.js';

process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
const { values: args } = parseArgs({
  options: {
    work: { type: 'string', default: '.tmp/api-profile' },
    schools: { type: 'string', default: '30' },
    pupils: { type: 'string', default: '8000' },
    requests: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '16' },
    load: { type: 'string', default: '0' },
    trace: { type: 'boolean', default: false },
    /** Only these reads (comma-separated names), e.g. for a profile of one. */
    only: { type: 'string' },
    /** A CPU profile of this process over the measured requests only (not the start, the warm-up or the load). */
    profile: { type: 'string' },
    /** Leave the uploads out of the load mix (what the reads alone cost under load). */
    'no-uploads': { type: 'boolean', default: false },
    /** Pupil views of pupils with more than one school before the last day (the generator's moves and dual registrations). */
    multi: { type: 'boolean', default: false },
    /** One request of each read alone: its calls, units, round trips in sequence, JSON parsed, bytes inflated and sent. */
    alone: { type: 'boolean', default: false },
  },
});
const work = resolve(args.work);
const laDir = join(work, 'la');
const dataDir = join(work, 'service');
const FROM = '2025-09-08';
const TO = '2025-09-12';

const { generateLa } = await import('../local/synthetic/index.js');
const { startLocalRuntime } = await import('../local/runtime.js');
const { loadGeneratedLa, readGeneratedManifest } = await import('../local/load-la.js');

if (!existsSync(join(laDir, 'manifest.json'))) {
  console.error(`generating ${args.schools} schools, ${args.pupils} pupils…`);
  await generateLa({
    schools: Number(args.schools),
    pupils: Number(args.pupils),
    from: FROM,
    to: TO,
    seed: 'bench',
    out: laDir,
    overwrite: true,
  });
}
const manifest = readGeneratedManifest(laDir);
const lastDay = manifest.files.reduce((d, f) => (f.kind === 'daily' && f.date > d ? f.date : d), '');
const year = 2025;
const rt = await startLocalRuntime({ dataDir, port: 0 });
const loaded = join(work, 'loaded');
try {
  if (!existsSync(loaded)) {
    console.error('loading the LA (back-fill, then the last day)…');
    mkdirSync(join(work, 'backfill'), { recursive: true });
    await loadGeneratedLa({
      url: rt.url,
      dir: laDir,
      workDir: join(work, 'backfill'),
      backfillBefore: lastDay,
      concurrency: 4,
      token: (role, urn) => rt.token({ role, ...(urn ? { urn } : {}) }),
    });
    await rt.settle();
    writeFileSync(loaded, new Date().toISOString());
  }
  const officer = await rt.token({ role: 'la_officer', sub: 'bench-la_officer' });
  // Pupils and schools from the last day's returns (the bench samples pupils with possible sessions).
  const upns = new Set<string>();
  const urns = new Set<string>();
  for (const f of manifest.files.filter((x) => x.kind === 'daily' && x.date === lastDay && x.role === 'school')) {
    const [head, ...lines] = readFileSync(join(laDir, f.path), 'utf8').trim().split('\n');
    const col = head.split(',').indexOf('upn');
    urns.add(f.urn);
    for (const line of lines.filter((_, i) => i % 16 === 0)) upns.add(line.split(',')[col]);
  }
  const sample = args.multi ? multiSchoolPupils(lastDay) : [...upns];
  if (args.multi) console.error(`${sample.length} pupils with more than one school before ${lastDay}`);
  const schools = [...urns].sort();
  const yearStart = `${year}-08-01`;
  const yearEnd = `${year + 1}-07-31`;
  const reads: Record<string, (i: number) => BenchRequest> = {
    pupil_view: (i) => ({ path: `/v1/pupils/${sample[i % sample.length]}?academicYear=${year}`, token: officer }),
    pa_list: (i) => ({
      path: `/v1/pupils?flag=persistent_absence&from=${yearStart}&to=${yearEnd}&limit=50${i % 4 === 3 ? `&urn=${schools[i % schools.length]}` : ''}`,
      token: officer,
    }),
    la_metrics_by_cohort: (i) => ({
      path: `/v1/metrics?scope=la&groupBy=cohort&from=${yearStart}&to=${lastDay}&population=${i % 2 ? 'compulsory' : 'all'}`,
      token: officer,
    }),
    // The load test's other reads: measured only when named with --only.
    school_metrics: (i) => ({
      path: `/v1/metrics?scope=school&urn=${schools[i % schools.length]}&groupBy=year_group&from=${yearStart}&to=${lastDay}`,
      token: officer,
    }),
    schools: () => ({ path: '/v1/schools', token: officer }),
  };
  const only = (args.only ?? 'pupil_view,pa_list,la_metrics_by_cohort').split(',');
  const perRequest = (c: CostCounts, n: number) => ({
    dynamo: Object.fromEntries(Object.entries(c.dynamo.requests).map(([op, x]) => [op, +(x / n).toFixed(2)])),
    readUnits: +(c.dynamo.readUnits / n).toFixed(2),
    writeUnits: +((c.dynamo.writeUnits + c.dynamo.indexWriteUnits) / n).toFixed(2),
    s3: Object.fromEntries(Object.entries(c.s3.requests).map(([op, x]) => [op, +(x / n).toFixed(2)])),
    s3BytesDown: Math.round(c.s3.bytesDown / n),
  });
  if (args.alone) for (const [name, next] of Object.entries(reads)) if (only.includes(name)) await alone(name, next);
  if (args.trace) await traceOne(Object.fromEntries(Object.entries(reads).filter(([name]) => only.includes(name))));
  const n = Number(args.requests);
  const c = Number(args.concurrency);
  for (const [name, next] of Object.entries(reads)) {
    if (!only.includes(name)) continue;
    await closedLoop(rt.url, next, 2, 10, 5); // warm
    const meter = new CostMeter();
    const remove = await installCostMeter(meter, { api: rt.url, s3: rt.engines.s3Endpoint });
    const profiler = args.profile ? new Session() : undefined;
    if (profiler) {
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
    }
    const cpu0 = process.cpuUsage();
    const child0 = childCpuMs();
    let figures;
    try {
      figures = await closedLoop(rt.url, next, c, n, 60);
    } finally {
      remove();
    }
    if (profiler) {
      const { profile } = await profiler.post('Profiler.stop');
      profiler.disconnect();
      const file = only.length > 1 ? args.profile!.replace(/(\.cpuprofile)?$/, `-${name}$1`) : args.profile!;
      writeFileSync(file, JSON.stringify(profile));
    }
    const cpu = process.cpuUsage(cpu0);
    const served = meter.counts.api.requests;
    console.log(
      JSON.stringify({
        read: name,
        requests: served,
        errors: figures.errors,
        p50: figures.p50,
        p95: figures.p95,
        cpuMsPerRequest: {
          api: +((cpu.user + cpu.system) / 1000 / served).toFixed(2),
          engines: +((childCpuMs() - child0) / served).toFixed(2),
        },
        perRequest: perRequest(meter.counts, served),
      }),
    );
  }
  const loadSeconds = Number(args.load);
  if (loadSeconds > 0) {
    const mix: LoadMixEntry[] = [
      { name: 'pupil_view', weight: 8, next: reads.pupil_view },
      { name: 'pa_list', weight: 3, next: reads.pa_list },
      { name: 'la_metrics_by_cohort', weight: 3, next: reads.la_metrics_by_cohort },
      { name: 'school_metrics', weight: 1, next: reads.school_metrics },
      { name: 'schools', weight: 2, next: reads.schools },
      ...(args['no-uploads']
        ? []
        : [
            {
              name: 'upload',
              weight: 1,
              next: (i: number): BenchRequest => {
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
          ]),
    ];
    // As the bench's load test: a school re-sending four rows of its last day, the deployed rollup window.
    const uploads = manifest.files
      .filter((f) => f.kind === 'daily' && f.date === lastDay && f.role === 'school')
      .slice(0, 50)
      .map((f) => {
        const lines = readFileSync(join(laDir, f.path), 'utf8').split('\n');
        return { urn: f.urn, csv: `${lines.slice(0, 4).join('\n')}\n` };
      });
    const schoolTokens = new Map<string, string>();
    for (const u of uploads) schoolTokens.set(u.urn, await rt.token({ role: 'school', urn: u.urn }));
    const { ROLLUP_DELAY_SECONDS } = await import('../shared/config.js');
    rt.setRollupDelay(ROLLUP_DELAY_SECONDS);
    const meter = new CostMeter();
    const remove = await installCostMeter(meter, { api: rt.url, s3: rt.engines.s3Endpoint });
    const cpu0 = process.cpuUsage();
    const child0 = childCpuMs();
    try {
      // The generator in a process of its own (its fetches are not this process's, nor metered here).
      const load = await openLoopInChild(rt.url, mix, 200, loadSeconds, 256);
      const cpu = process.cpuUsage(cpu0);
      await rt.settle();
      const served = load.sent;
      console.log(
        JSON.stringify({
          load: `${loadSeconds} s at 200/s`,
          achieved: load.achievedRate,
          offered: load.offeredRate,
          scheduleHeld: load.scheduleHeld,
          sendLateMs: load.sendLateMs,
          drainSeconds: load.drainSeconds,
          generatorCpuMsPerRequest: load.generatorCpuMsPerRequest,
          skipped: load.skipped,
          errors: load.overall.errors,
          p95: load.overall.p95,
          byKind: Object.fromEntries(Object.entries(load.byKind).map(([k, v]) => [k, { count: v.count, p95: v.p95 }])),
          cpuMsPerRequest: {
            api: +((cpu.user + cpu.system) / 1000 / served).toFixed(2),
            engines: +((childCpuMs() - child0) / served).toFixed(2),
          },
          perRequest: perRequest(meter.counts, served),
        }),
      );
    } finally {
      remove();
    }
  }
} finally {
  await rt.stop();
}

/** Pupils the generator moved or dual registered with both schools' enrolments begun before `lastDay`. */
function multiSchoolPupils(lastDay: string): string[] {
  const truth = JSON.parse(readFileSync(join(laDir, 'ground-truth.json'), 'utf8')) as {
    operations: {
      moves: Array<{ upn: string; admission: string }>;
      dualRegistrations: Array<{ upn: string; from: string }>;
    };
  };
  return [
    ...truth.operations.moves.filter((m) => m.admission < lastDay).map((m) => m.upn),
    ...truth.operations.dualRegistrations.filter((d) => d.from < lastDay).map((d) => d.upn),
  ];
}

/**
 * `--alone`: requests of one read, one at a time (8 of them, after one to warm), each counted
 * exactly: its AWS calls and units (the cost meter), its calls in sequence (bench/round-trips.ts),
 * the characters JSON.parse read in this process (the SDK's responses and the service's documents),
 * the bytes zlib inflated, and the response's bytes. Means over the 8.
 */
async function alone(name: string, next: (i: number) => BenchRequest): Promise<void> {
  const { recordCalls, roundTripsInSequence } = await import('./round-trips.js');
  const zlib = createRequire(import.meta.url)('node:zlib') as typeof import('node:zlib');
  const send = async (r: BenchRequest) => {
    const res = await fetch(`${rt.url}${r.path}`, { headers: { authorization: `Bearer ${r.token}` } });
    const body = Buffer.from(await res.arrayBuffer());
    if (res.status !== 200) throw new Error(`${r.path}: ${res.status}`);
    return body.length;
  };
  await send(next(0));
  const n = 8;
  const totals = { jsonParses: 0, jsonChars: 0, inflatedBytes: 0, responseBytes: 0, inSequence: 0 };
  const meter = new CostMeter();
  const remove = await installCostMeter(meter, { api: rt.url, s3: rt.engines.s3Endpoint });
  const parse = JSON.parse;
  const inflate = zlib.inflateRawSync;
  JSON.parse = ((text: string, reviver?: Parameters<typeof parse>[1]) => {
    totals.jsonParses++;
    totals.jsonChars += typeof text === 'string' ? text.length : String(text).length;
    return parse(text, reviver);
  }) as typeof JSON.parse;
  zlib.inflateRawSync = (buf: Parameters<typeof inflate>[0], options?: Parameters<typeof inflate>[1]) => {
    const out = inflate(buf, options);
    totals.inflatedBytes += out.length;
    return out;
  };
  syncBuiltinESMExports();
  try {
    for (let i = 1; i <= n; i++) {
      const recorder = await recordCalls();
      try {
        totals.responseBytes += await send(next(i));
      } finally {
        recorder.remove();
      }
      totals.inSequence += roundTripsInSequence(recorder.calls);
    }
  } finally {
    JSON.parse = parse;
    zlib.inflateRawSync = inflate;
    syncBuiltinESMExports();
    remove();
  }
  const per = (x: number) => +(x / n).toFixed(2);
  const c = meter.counts;
  console.log(
    JSON.stringify({
      read: name,
      alone: n,
      dynamo: Object.fromEntries(Object.entries(c.dynamo.requests).map(([op, x]) => [op, per(x)])),
      readUnits: per(c.dynamo.readUnits),
      writeUnits: per(c.dynamo.writeUnits + c.dynamo.indexWriteUnits),
      s3: Object.fromEntries(Object.entries(c.s3.requests).map(([op, x]) => [op, per(x)])),
      s3BytesDown: per(c.s3.bytesDown),
      inSequence: per(totals.inSequence),
      jsonParses: per(totals.jsonParses),
      jsonChars: per(totals.jsonChars),
      inflatedBytes: per(totals.inflatedBytes),
      responseBytes: per(totals.responseBytes),
    }),
  );
}

/**
 * `--trace`: one request of each read, listing the AWS calls it made in order (the command, the key's
 * kind — never a pupil's identifier — and any error), to see the round trips a request is made of.
 */
async function traceOne(reads: Record<string, (i: number) => BenchRequest>): Promise<void> {
  const { documentClient, s3Client } = await import('../shared/store/clients.js');
  const calls: string[] = [];
  const kind = (input: Record<string, unknown>): string => {
    const key = (input.Key ?? input.Item) as Record<string, unknown> | string | undefined;
    if (typeof key === 'string') return key.split('/').slice(0, 2).join('/');
    if (key && typeof key.pk === 'string') return key.pk.split('#')[0];
    const values = input.ExpressionAttributeValues as Record<string, unknown> | undefined;
    if (values?.[':pk']) return String(values[':pk']).split('#').slice(0, 2).join('#');
    if (input.RequestItems) return 'batch';
    return String(input.Prefix ?? '');
  };
  const mw =
    (next: (a: { input: Record<string, unknown> }) => Promise<unknown>, context: { commandName?: string }) =>
    async (a: { input: Record<string, unknown> }) => {
      const started = performance.now();
      try {
        const out = await next(a);
        calls.push(`${context.commandName} ${kind(a.input)} ${(performance.now() - started).toFixed(1)} ms`);
        return out;
      } catch (err) {
        calls.push(`${context.commandName} ${kind(a.input)} → ${(err as Error).name}`);
        throw err;
      }
    };
  type Stack = { add(mw: unknown, options: Record<string, unknown>): void; remove(name: string): boolean };
  const stacks = [documentClient().middlewareStack, s3Client().middlewareStack] as unknown as Stack[];
  for (const stack of stacks) stack.add(mw, { step: 'initialize', name: 'profileTrace', override: true });
  try {
    for (const [name, next] of Object.entries(reads)) {
      calls.length = 0;
      await closedLoop(rt.url, next, 1, 1, 5);
      console.log(`${name}:\n  ${calls.join('\n  ')}`);
    }
  } finally {
    for (const stack of stacks) stack.remove('profileTrace');
  }
}
