/**
 * The ingest function's invocations on worker threads (issue 17; docs/design.md §3 "Local runtime"):
 * a truer stand-in for Lambda's concurrency than one Node thread for every handler. Each worker is a
 * warm "Lambda container": it imports functions/ingest/handler.ts once (local/ingest-worker.ts) and
 * keeps its module state (the heads, registers and duties it holds) between invocations, as a
 * container does. The main thread keeps the API, the receive path, the queues, the rollup and the
 * timers.
 *
 * - A message group (a school) goes to the same worker every time, so its caches stay warm; a group
 *   seen for the first time goes to the worker with the fewest groups. The queue still decides what
 *   runs when (FIFO within a group, `ingestConcurrency` groups at once across all workers).
 * - An invocation's result is the handler's SQSBatchResponse; a thrown error comes back as an error,
 *   which the queue counts as a failed receive exactly as one thrown in the main thread.
 * - A worker that crashes fails its in-flight invocations (the queue retries them) and is replaced.
 * - Instruments (the bench's cost meter, bench/cost.ts): code that counts what a worker asks of AWS
 *   has its own copy in each worker; each invocation's result carries what it counted since the last
 *   one, merged into the main thread's copy before the invocation settles (so `runtime.settle()`
 *   sees every count).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';

/**
 * Code run in every ingest worker beside the handler: `module` (a file URL) exports `name`, called
 * once in each worker with `options`; what it returns gives the counts taken since the last call
 * (`take`), which `merge` receives in the main thread, and takes itself off (`remove`).
 */
export interface WorkerInstrument {
  module: string;
  name: string;
  options?: unknown;
  merge(report: unknown): void;
}

/** What an instrument's function returns in a worker. */
export interface InstrumentInWorker {
  take(): unknown;
  remove(): void;
}

const instruments = new Map<number, WorkerInstrument>();
let nextInstrument = 0;

/** Put an instrument on every ingest worker of this process, now and later; returns the way to take it off. */
export function instrumentIngestWorkers(instrument: WorkerInstrument): () => void {
  const id = ++nextInstrument;
  instruments.set(id, instrument);
  return () => void instruments.delete(id);
}

/**
 * Workers for `npm start`, the bench and the profile tools: INGEST_WORKERS if set, else one per core
 * but one, at least one and at most four. The engines (dynalite, s3rver) are a process of their own
 * that keeps about half a core busy during an LA day, and the main thread (API, receive, rollup) a
 * little more; one worker on a 2-core machine moves the handlers' heaviest work off the API's thread
 * without more threads than cores. Four is Lambda-like enough: the queue works four schools at once.
 */
export function defaultIngestWorkers(): number {
  return envIngestWorkers() ?? Math.max(1, Math.min(4, availableParallelism() - 1));
}

/** INGEST_WORKERS, when set (0: the ingest in the main thread). */
export function envIngestWorkers(): number | undefined {
  const raw = process.env.INGEST_WORKERS;
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`INGEST_WORKERS must be a whole number ≥ 0, not "${raw}"`);
  return n;
}

type ToWorker =
  | { type: 'invoke'; id: number; event: SQSEvent }
  | { type: 'instrument'; id: number; module: string; name: string; options?: unknown }
  | { type: 'uninstrument'; id: number }
  | { type: 'env'; name: string; value: string | undefined };

export type FromWorker =
  | { type: 'ready' }
  | {
      type: 'result';
      id: number;
      result?: SQSBatchResponse | void;
      error?: { name: string; message: string };
      reports: Record<number, unknown>;
    };

interface Slot {
  index: number;
  worker: Worker;
  ready: Promise<void>;
  /** Instruments this worker has been told to install. */
  installed: Set<number>;
  inFlight: Map<number, { resolve(r: SQSBatchResponse | void): void; reject(e: Error): void }>;
  groups: number;
  /** Why the worker stopped, when it raised an error first. */
  error?: Error;
}

export interface IngestWorkers {
  readonly size: number;
  /** Resolves once every worker has imported the handler (rejects if one cannot). */
  ready(): Promise<void>;
  invoke(event: SQSEvent): Promise<SQSBatchResponse | void>;
  /** Set an environment variable in every worker, now and in replacements (`setRollupDelay`). */
  setEnv(name: string, value: string | undefined): void;
  /** Invocations running now. */
  busy(): number;
  /** Workers replaced after a crash so far. */
  replaced(): number;
  /** Per worker: the message groups (schools) it has, and the invocations sent to it so far. */
  stats(): Array<{ groups: number; invocations: number }>;
  /** Wait for the invocations under way, then end the workers. */
  stop(): Promise<void>;
}

/** Consecutive workers that fail before they are ready, after which the pool gives up. */
const MAX_FAILED_STARTS = 3;

/**
 * Start `count` workers. Call after the environment is configured (local/runtime.ts
 * `configureEnvironment`): each worker starts from a copy of this thread's environment and calls the
 * same resets.
 */
export function startIngestWorkers(count: number): IngestWorkers {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`ingest workers: ${count}`);
  const entry = new URL('./ingest-worker.mjs', import.meta.url);
  const env: Record<string, string | undefined> = { ...process.env };
  const slots: Slot[] = [];
  const affinity = new Map<string, number>();
  const invocations = Array.from({ length: count }, () => 0);
  const running = new Set<Promise<void>>();
  let nextInvocation = 0;
  let stopping = false;
  let failedStarts = 0;
  let replacements = 0;
  let broken: Error | undefined;

  const spawn = (index: number): Slot => {
    const workerEnv = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as Record<
      string,
      string
    >;
    const worker = new Worker(entry, { env: workerEnv, name: `ingest-${index}` });
    const slot: Slot = {
      index,
      worker,
      ready: Promise.resolve(),
      installed: new Set(),
      inFlight: new Map(),
      groups: slots[index]?.groups ?? 0,
    };
    let started = false;
    slot.ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'ready') {
          started = true;
          failedStarts = 0;
          resolve();
        } else if (m.type === 'result') {
          for (const [id, report] of Object.entries(m.reports)) instruments.get(Number(id))?.merge(report);
          const pending = slot.inFlight.get(m.id);
          slot.inFlight.delete(m.id);
          if (!pending) return;
          if (m.error) pending.reject(Object.assign(new Error(m.error.message), { name: m.error.name }));
          else pending.resolve(m.result);
        }
      });
      worker.on('error', (err) => {
        slot.error ??= err;
      });
      worker.on('exit', (code) => {
        const why = slot.error ?? new Error(`ingest worker ${index} stopped (exit code ${code})`);
        for (const pending of slot.inFlight.values()) pending.reject(why);
        slot.inFlight.clear();
        if (!started) {
          reject(new Error(`ingest worker ${index} could not start: ${why.message}`, { cause: why }));
          failedStarts++;
        }
        if (stopping || slots[index] !== slot) return;
        if (failedStarts >= MAX_FAILED_STARTS) {
          broken = why;
          return;
        }
        // A crashed container is replaced; its groups keep their worker (index).
        replacements++;
        slots[index] = spawn(index);
        slots[index].ready.catch(() => undefined);
      });
    });
    return slot;
  };

  for (let i = 0; i < count; i++) slots.push(spawn(i));

  /** Bring a worker's instruments in line with this thread's (messages are handled in order). */
  const syncInstruments = (slot: Slot) => {
    for (const id of slot.installed)
      if (!instruments.has(id)) {
        slot.installed.delete(id);
        slot.worker.postMessage({ type: 'uninstrument', id } satisfies ToWorker);
      }
    for (const [id, i] of instruments)
      if (!slot.installed.has(id)) {
        slot.installed.add(id);
        slot.worker.postMessage({
          type: 'instrument',
          id,
          module: i.module,
          name: i.name,
          options: i.options,
        } satisfies ToWorker);
      }
  };

  const slotFor = (group: string): Slot => {
    let index = affinity.get(group);
    if (index === undefined) {
      index = slots.reduce((best, s) => (s.groups < slots[best].groups ? s.index : best), 0);
      affinity.set(group, index);
      slots[index].groups++;
    }
    return slots[index];
  };

  return {
    size: count,
    async ready() {
      await Promise.all(slots.map((s) => s.ready));
    },
    async invoke(event) {
      if (broken) throw broken;
      if (stopping) throw new Error('the ingest workers are stopping');
      const group = event.Records[0]?.attributes?.MessageGroupId ?? '';
      const slot = slotFor(group);
      syncInstruments(slot);
      const id = ++nextInvocation;
      invocations[slot.index]++;
      const invocation = new Promise<SQSBatchResponse | void>((resolve, reject) => {
        slot.inFlight.set(id, { resolve, reject });
        slot.worker.postMessage({ type: 'invoke', id, event } satisfies ToWorker);
      });
      const tracked = invocation.then(
        () => undefined,
        () => undefined,
      );
      running.add(tracked);
      void tracked.finally(() => running.delete(tracked));
      return invocation;
    },
    setEnv(name, value) {
      env[name] = value;
      for (const s of slots) s.worker.postMessage({ type: 'env', name, value } satisfies ToWorker);
    },
    busy: () => slots.reduce((n, s) => n + s.inFlight.size, 0),
    replaced: () => replacements,
    stats: () => slots.map((s) => ({ groups: s.groups, invocations: invocations[s.index] })),
    async stop() {
      stopping = true;
      while (running.size > 0) await Promise.all([...running]);
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}
