// The embedded engines in their own process (so they use the machine's other core), started by
// local/engines.ts. Plain JavaScript so it starts without a TypeScript loader. Protocol over IPC:
//   parent → { type: 'start', dataDir, buckets: [...] }      child → { type: 'ready', dynamoPort, s3Port }
//   child → { type: 's3event', event }                        (every S3 notification, in order)
//   parent → { type: 'sync', id }                             child → { type: 'synced', id } (after all earlier events)
//   parent → { type: 'stop' }                                 child closes both servers and exits
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { applyEngineFixes, logEngineFault } from './engine-fixes.mjs';

const require = createRequire(import.meta.url);
applyEngineFixes();
const dynalite = require('dynalite');
const S3rver = require('s3rver');

let ddb;
let s3;

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

process.on('message', async (message) => {
  try {
    if (message.type === 'start') {
      const ddbDir = join(message.dataDir, 'ddb');
      const s3Dir = join(message.dataDir, 's3');
      mkdirSync(ddbDir, { recursive: true });
      mkdirSync(s3Dir, { recursive: true });
      ddb = dynalite({ path: ddbDir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
      const dynamoPort = await listen(ddb);
      s3 = new S3rver({
        address: '127.0.0.1',
        port: 0,
        directory: s3Dir,
        silent: true,
        configureBuckets: message.buckets.map((b) => (typeof b === 'string' ? { name: b } : b)),
      });
      s3.on('event', (event) => process.send({ type: 's3event', event }));
      s3.on('error', logEngineFault);
      const address = await s3.run();
      process.send({ type: 'ready', dynamoPort, s3Port: address.port });
    } else if (message.type === 'sync') {
      process.send({ type: 'synced', id: message.id });
    } else if (message.type === 'stop') {
      await s3?.close().catch(() => undefined);
      await new Promise((resolve) => (ddb ? ddb.close(() => resolve()) : resolve()));
      process.exit(0);
    }
  } catch (err) {
    process.send({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  }
});

// The parent going away (a crash, Ctrl+C) takes the engines with it.
process.on('disconnect', () => process.exit(0));
