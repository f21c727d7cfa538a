/**
 * One ingest worker thread: a warm "Lambda container" for the ingest function (local/ingest-workers.ts).
 * It imports functions/ingest/handler.ts once and keeps its module state between invocations; the
 * main thread sends SQS events and receives each invocation's SQSBatchResponse, or its error, with
 * what the instruments (the bench's cost meter) counted meanwhile.
 */
import { parentPort, type MessagePort } from 'node:worker_threads';
import type { SQSEvent } from 'aws-lambda';
import type { FromWorker, InstrumentInWorker } from './ingest-workers.js';

function portToMain(): MessagePort {
  if (!parentPort) throw new Error('local/ingest-worker.ts runs in a worker thread (local/ingest-workers.ts)');
  return parentPort;
}
const port = portToMain();
const send = (m: FromWorker) => port.postMessage(m);

type FromMain =
  | { type: 'invoke'; id: number; event: SQSEvent }
  | { type: 'instrument'; id: number; module: string; name: string; options?: unknown }
  | { type: 'uninstrument'; id: number }
  | { type: 'env'; name: string; value: string | undefined };

const instruments = new Map<number, Promise<InstrumentInWorker | undefined>>();

/** What each instrument counted since it was last asked. */
async function reports(): Promise<Record<number, unknown>> {
  const out: Record<number, unknown> = {};
  for (const [id, i] of instruments) {
    const instrument = await i;
    if (instrument) out[id] = instrument.take();
  }
  return out;
}

{
  // The environment is the main thread's (the Worker's `env`); the same resets as local/runtime.ts's
  // configureEnvironment, though this thread's modules are fresh.
  const [{ resetRuntimeConfig }, { resetClients }, { resetPseudonymKey }] = await Promise.all([
    import('../shared/config.js'),
    import('../shared/store/clients.js'),
    import('../shared/store/outbox.js'),
  ]);
  resetRuntimeConfig();
  resetClients();
  resetPseudonymKey();
  const { handler } = await import('../functions/ingest/handler.js');

  // Messages are handled in the order sent: an instrument is installed (or an environment variable
  // set) before any invocation sent after it starts.
  let queue: Promise<void> = Promise.resolve();
  port.on('message', (m: FromMain) => {
    switch (m.type) {
      case 'env':
        if (m.value === undefined) delete process.env[m.name];
        else process.env[m.name] = m.value;
        return;
      case 'instrument': {
        const installing = import(m.module).then(
          async (mod: Record<string, (options: unknown) => Promise<InstrumentInWorker>>) => mod[m.name](m.options),
          (err: unknown) => {
            console.error(`ingest worker: instrument ${m.name} not installed:`, err);
            return undefined;
          },
        );
        instruments.set(m.id, installing);
        queue = queue.then(() => installing.then(() => undefined));
        return;
      }
      case 'uninstrument': {
        const i = instruments.get(m.id);
        instruments.delete(m.id);
        void i?.then((x) => x?.remove());
        return;
      }
      case 'invoke': {
        const ready = queue;
        void (async () => {
          await ready;
          try {
            const result = await handler(m.event);
            send({ type: 'result', id: m.id, result, reports: await reports() });
          } catch (err) {
            const e = err instanceof Error ? err : new Error(String(err));
            send({ type: 'result', id: m.id, error: { name: e.name, message: e.message }, reports: await reports() });
          }
        })();
        return;
      }
    }
  });
  // An import that fails throws here: the Worker's 'error' event carries it to the main thread.
  send({ type: 'ready' });
}
