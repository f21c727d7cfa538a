/**
 * Items 3 and 7: API latency over loopback HTTP. `closedLoop` keeps N requests in flight (N =
 * concurrency) until a count or a time limit; `openLoop` sends requests at a fixed rate whatever the
 * answers (the load test of issue 10), with a cap on requests in flight so it stays bounded.
 */
import { seconds, summariseLatencies, type Latencies } from './measure.js';

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
  seconds: number;
  sent: number;
  /** Requests not sent because `maxInFlight` were already waiting (the server fell behind). */
  skipped: number;
  achievedRate: number;
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
  // A fixed rotation honouring the weights (deterministic; no randomness needed).
  const wheel: LoadMixEntry[] = [];
  for (const m of mix) for (let i = 0; i < m.weight; i++) wheel.push(m);
  const byKind = new Map<string, { ms: number[]; errors: number }>(mix.map((m) => [m.name, { ms: [], errors: 0 }]));
  const errorStatuses: Record<string, number> = {};
  const all: number[] = [];
  let errors = 0;
  let inFlight = 0;
  let sent = 0;
  let skipped = 0;
  const pending = new Set<Promise<void>>();
  const started = performance.now();
  const total = Math.round(rate * durationSeconds);
  for (let n = 0; n < total; n++) {
    const due = started + (n * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    if (inFlight >= maxInFlight) {
      skipped++;
      continue;
    }
    const kind = wheel[n % wheel.length];
    const request = kind.next(n);
    inFlight++;
    sent++;
    const p = timed(url, request).then((r) => {
      inFlight--;
      const k = byKind.get(kind.name)!;
      k.ms.push(r.ms);
      all.push(r.ms);
      if (!r.ok) {
        k.errors++;
        errors++;
        errorStatuses[`${kind.name}:${r.status}`] = (errorStatuses[`${kind.name}:${r.status}`] ?? 0) + 1;
      }
    });
    pending.add(p);
    void p.finally(() => pending.delete(p));
  }
  const sendingSeconds = seconds(started);
  await Promise.all([...pending]);
  const wall = seconds(started);
  return {
    targetRate: rate,
    seconds: Math.round(sendingSeconds * 10) / 10,
    sent,
    skipped,
    achievedRate: Math.round((all.length / wall) * 10) / 10,
    overall: summariseLatencies(all, errors, wall),
    byKind: Object.fromEntries([...byKind].map(([name, k]) => [name, summariseLatencies(k.ms, k.errors, wall)])),
    errorStatuses,
  };
}
