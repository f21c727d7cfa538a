/**
 * An instrument for the local runtime's ingest workers (local/ingest-workers.ts) that crashes the
 * worker it is installed in, once: on the first S3 GetObject any worker sends while `flag` does not
 * exist, it creates `flag` and throws outside any promise (an uncaught exception ends the thread)
 * while the invocation waits. test/integration/ingest-workers.test.ts.
 */
import { existsSync, writeFileSync } from 'node:fs';
import type { InstrumentInWorker } from '../../local/ingest-workers.js';

export async function crashOnce(options: { flag: string }): Promise<InstrumentInWorker> {
  const { s3Client } = await import('../../shared/store/clients.js');
  const stack = s3Client().middlewareStack;
  stack.add(
    (next, context) => async (args) => {
      if ((context as { commandName?: string }).commandName === 'GetObjectCommand' && !existsSync(options.flag)) {
        writeFileSync(options.flag, 'crashed');
        setImmediate(() => {
          throw new Error('an ingest worker crashes (test)');
        });
        return new Promise<never>(() => undefined);
      }
      return next(args);
    },
    { step: 'initialize', name: 'crashOnce' },
  );
  return { take: () => undefined, remove: () => void stack.remove('crashOnce') };
}
