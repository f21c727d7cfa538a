/**
 * Items 3 and 7: API latency over loopback HTTP. `closedLoop` keeps N requests in flight (N =
 * concurrency) until a count or a time limit; `openLoop` sends requests at a fixed rate whatever the
 * answers (the load test of issue 10), with a cap on requests in flight so it stays bounded.
 *
 * The load test's generator runs in a process of its own (`openLoopInChild`, bench/load-child.ts): in
 * the service's process its timers and fetches waited behind the API's and the ingest's work on the
 * same event loop, so a late schedule was reported as the service's rate. It says whether it held
 * the schedule (how late each request was sent), and the rate offered apart from the rate answered.
 */
import { fork } from 'node:child_process';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { percentile, round, seconds, summariseLatencies, type Latencies } from './measure.js';

export interface BenchRequest {
  method?: 'GET' | 'POST';
  path: string;
  token: string;
  body?: string;
  contentType?: string;
  /** Status that counts as success (default 200). */
  expect?: number;
}

async function timed(url: string, r: BenchRequest): Promise<{ ms: number; ok: boolean; status: number }> {
  const started = performance.now();
  try {
    const res = await fetch(`${url}${r.path}`, {
      method: r.method ?? 'GET',
      headers: { authorization: `Bearer ${r.token}`, ...(r.contentType ? { 'content-type': r.contentType } : {}) },
      body: r.body,
    });
    await res.arrayBuffer();
    return { ms: performance.now() - started, ok: res.status === (r.expect ?? 200), status: res.status };
  } catch {
    return { ms: performance.now() - started, ok: false, status: 0 };
  }
}

/**
 * The same over node:http with a keep-alive agent, for the load test's own process: about a third of
 * fetch's CPU a request there (fetch cost its generator about 2.3 ms a request on this machine, a
 * quarter of both cores at 200/s). Not metered (the cost meter counts fetch): the load test is not.
 */
const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
function timedHttp(url: string, r: BenchRequest): Promise<{ ms: number; ok: boolean; status: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const body = r.body === undefined ? undefined : Buffer.from(r.body);
    const req = request(
      `${url}${r.path}`,
      {
        agent,
        method: r.method ?? 'GET',
        headers: {
          authorization: `Bearer ${r.token}`,
          ...(r.contentType ? { 'content-type': r.contentType } : {}),
          ...(body ? { 'content-length': String(body.length) } : {}),
        },
      },
      (res) => {
        res.on('data', () => undefined);
        res.on('end', () =>
          resolve({
            ms: performance.now() - started,
            ok: res.statusCode === (r.expect ?? 200),
            status: res.statusCode ?? 0,
          }),
        );
        res.on('error', () => resolve({ ms: performance.now() - started, ok: false, status: 0 }));
      },
    );
    req.on('error', () => resolve({ ms: performance.now() - started, ok: false, status: 0 }));
    req.end(body);
  });
}

export async function closedLoop(
  url: string,
  next: (i: number) => BenchRequest,
  concurrency: number,
  count: number,
  maxSeconds: number,
): Promise<Latencies & { concurrency: number; statuses: Record<string, number> }> {
  const ms: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  let issued = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (issued < count && seconds(started) < maxSeconds) {
        const r = await timed(url, next(issued++));
        ms.push(r.ms);
        if (!r.ok) {
          errors++;
          statuses[r.status] = (statuses[r.status] ?? 0) + 1;
        }
      }
    }),
  );
  return { ...summariseLatencies(ms, errors, seconds(started)), concurrency, statuses };
}

export interface LoadMixEntry {
  name: string;
  weight: number;
  next: (i: number) => BenchRequest;
}

export interface LoadFigures {
  targetRate: number;
  /** How long sending took (the schedule's length is rate × duration: longer means the generator fell behind). */
  seconds: number;
  sent: number;
  /** Requests not sent because `maxInFlight` were already waiting (the server fell behind). */
  skipped: number;
  /** Requests due a second while sending, sent or skipped at the cap (the rate the generator kept, whatever the answers). */
  offeredRate: number;
  /** How late requests were sent against their schedule (ms): the generator's own lag, not the service's. */
  sendLateMs: { p50: number; p95: number; max: number };
  /**
   * Whether the generator held the schedule: sending within 2 % of the duration and 95 % of requests
   * sent within HELD_LATE_MS of their time (a late request is sent at once: lateness does not add up).
   * If not, the rate answered says what this machine's generator could send, not what the service can
   * serve.
   */
  scheduleHeld: boolean;
  /** Requests answered a second, from the first sent to the last answered (the drain after sending included). */
  achievedRate: number;
  /** From the last request sent to the last answered. */
  drainSeconds: number;
  /** The generator's own CPU (ms a request sent), when it ran in a process of its own. */
  generatorCpuMsPerRequest?: number;
  overall: Latencies;
  byKind: Record<string, Latencies>;
  errorStatuses: Record<string, number>;
}

/** Send `rate` requests a second for `durationSeconds`, drawn from the weighted mix in a fixed rotation. */
export async function openLoop(
  url: string,
  mix: readonly LoadMixEntry[],
  rate: number,
  durationSeconds: number,
  maxInFlight: number,
): Promise<LoadFigures> {
  const plan = planOf(mix, Math.round(rate * durationSeconds));
  return sendPlan(
    url,
    plan,
    mix.map((m) => m.name),
    rate,
    durationSeconds,
    maxInFlight,
  );
}

/** How late (p95) the generator may send and still hold its schedule: a tenth of a second's requests at most bunched. */
export const HELD_LATE_MS = 100;

/** A planned request of the load test: its kind and the request (plain data: it crosses to the child). */
export interface PlannedRequest {
  kind: string;
  request: BenchRequest;
}

/** The requests, in order, drawn from the weighted mix in a fixed rotation (deterministic; no randomness needed). */
export function planOf(mix: readonly LoadMixEntry[], total: number): PlannedRequest[] {
  const wheel: LoadMixEntry[] = [];
  for (const m of mix) for (let i = 0; i < m.weight; i++) wheel.push(m);
  return Array.from({ length: total }, (_, n) => ({
    kind: wheel[n % wheel.length].name,
    request: wheel[n % wheel.length].next(n),
  }));
}

/** Send a plan at `rate` a second: each request at its time, whatever the answers (open loop). */
export async function sendPlan(
  url: string,
  plan: readonly PlannedRequest[],
  kinds: readonly string[],
  rate: number,
  durationSeconds: number,
  maxInFlight: number,
  client: 'fetch' | 'http' = 'fetch',
): Promise<LoadFigures> {
  const send = client === 'http' ? timedHttp : timed;
  const byKind = new Map<string, { ms: number[]; errors: number }>(kinds.map((k) => [k, { ms: [], errors: 0 }]));
  const errorStatuses: Record<string, number> = {};
  const all: number[] = [];
  let errors = 0;
  let inFlight = 0;
  let sent = 0;
  let skipped = 0;
  const pending = new Set<Promise<void>>();
  const late: number[] = [];
  const started = performance.now();
  for (let n = 0; n < plan.length; n++) {
    const due = started + (n * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    late.push(Math.max(0, performance.now() - due));
    if (inFlight >= maxInFlight) {
      skipped++;
      continue;
    }
    const { kind, request } = plan[n];
    inFlight++;
    sent++;
    const p = send(url, request).then((r) => {
      inFlight--;
      const k = byKind.get(kind)!;
      k.ms.push(r.ms);
      all.push(r.ms);
      if (!r.ok) {
        k.errors++;
        errors++;
        errorStatuses[`${kind}:${r.status}`] = (errorStatuses[`${kind}:${r.status}`] ?? 0) + 1;
      }
    });
    pending.add(p);
    void p.finally(() => pending.delete(p));
  }
  const sendingSeconds = seconds(started);
  await Promise.all([...pending]);
  const wall = seconds(started);
  const sendLateMs = {
    p50: round(percentile(late, 50)),
    p95: round(percentile(late, 95)),
    max: round(Math.max(0, ...late)),
  };
  return {
    targetRate: rate,
    seconds: round(sendingSeconds),
    sent,
    skipped,
    sendLateMs,
    offeredRate: round((sent + skipped) / sendingSeconds),
    scheduleHeld: sendingSeconds <= durationSeconds * 1.02 + 0.05 && sendLateMs.p95 <= HELD_LATE_MS,
    achievedRate: round(all.length / wall),
    drainSeconds: round(wall - sendingSeconds),
    overall: summariseLatencies(all, errors, wall),
    byKind: Object.fromEntries([...byKind].map(([name, k]) => [name, summariseLatencies(k.ms, k.errors, wall)])),
    errorStatuses,
  };
}

/**
 * `openLoop` in a process of its own (bench/load-child.ts): the plan is made here (the mix's requests
 * are functions of this process) and sent to the child, which sends it and returns the figures, with
 * its own CPU time. The service's process then does only the service's work.
 */
export async function openLoopInChild(
  url: string,
  mix: readonly LoadMixEntry[],
  rate: number,
  durationSeconds: number,
  maxInFlight: number,
): Promise<LoadFigures> {
  const plan = planOf(mix, Math.round(rate * durationSeconds));
  const child = fork(fileURLToPath(new URL('./load-child.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise<LoadFigures>((resolve, reject) => {
    let answered = false;
    child.once('message', (figures) => {
      answered = true;
      resolve(figures as LoadFigures);
      child.disconnect();
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (!answered) reject(new Error(`the load generator exited with ${code} before it answered`));
    });
    child.send({ url, plan, kinds: mix.map((m) => m.name), rate, durationSeconds, maxInFlight });
  });
}
