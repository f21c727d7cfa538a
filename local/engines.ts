/**
 * The embedded engines (docs/design.md §3 "Local runtime"): dynalite speaks the DynamoDB API over LevelDB and
 * s3rver the S3 API over the file system, both on loopback. The table and buckets are created from
 * the same names and key schema the CDK stack uses (shared/config.ts), so the handlers cannot tell
 * them from AWS.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';
import { fork } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { DEFAULT_NAMES, TABLE_SCHEMA } from '../shared/config.js';
import { applyEngineFixes, logEngineFault } from './engine-fixes.mjs';

const require = createRequire(import.meta.url);
// Both engines are CommonJS without type declarations.
type Dynalite = (options: {
  path?: string;
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
}) => Server;
type S3rverClass = new (options: Record<string, unknown>) => S3rverInstance;

/**
 * The engines, loaded in this process only once their work-arounds are in place: some patch what
 * dynalite takes from its dependencies as it loads (its LevelDB class), as the engine process does.
 */
function loadEngines(): { dynalite: Dynalite; S3rver: S3rverClass } {
  applyEngineFixes();
  return { dynalite: require('dynalite') as Dynalite, S3rver: require('s3rver') as S3rverClass };
}

export interface S3rverEvent {
  Records: Array<{
    eventName: string;
    s3: { bucket: { name: string }; object: { key: string; size?: number; eTag?: string; sequencer?: string } };
  }>;
}

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  on(event: 'event', listener: (event: S3rverEvent) => void): void;
  on(event: 'error', listener: typeof logEngineFault): void;
}

export interface Engines {
  dynamoEndpoint: string;
  s3Endpoint: string;
  names: typeof DEFAULT_NAMES;
  onS3Event(listener: (event: S3rverEvent) => void): void;
  /** Resolves once every S3 event emitted before the call has been handed to the listeners. */
  sync(): Promise<void>;
  stop(): Promise<void>;
}

/** Local credentials: s3rver accepts only S3RVER/S3RVER; dynalite accepts anything. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;
export const LOCAL_REGION = 'eu-west-2';

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

const BUCKETS = [DEFAULT_NAMES.returnsBucket, DEFAULT_NAMES.quarantineBucket, DEFAULT_NAMES.registersBucket];

/**
 * As lib/storage.ts allows in AWS: browsers PUT large returns to presigned URLs (the web app's
 * upload page), and follow the API's 303s to presigned GETs of kept files and large exports.
 */
const GET_RULE =
  '<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedHeader>*</AllowedHeader></CORSRule>';
const PUT_RULE =
  '<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>PUT</AllowedMethod><AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader></CORSRule>';
const BUCKET_CONFIGS = BUCKETS.map((name) => ({
  name,
  configs: [
    `<CORSConfiguration>${name === DEFAULT_NAMES.returnsBucket ? PUT_RULE : ''}${GET_RULE}</CORSConfiguration>`,
  ],
}));

/**
 * Start dynalite and s3rver with their data under `dataDir` (`ddb/` and `s3/`). Ports are
 * ephemeral: nothing else on the machine is disturbed. By default the engines run in a child
 * process (local/engine-host.mjs), as the real services run apart from the Lambdas, so they use the
 * machine's other core; `inProcess` keeps them in this process.
 */
/** The engine process's V8 young generation (also the service's: package.json's scripts). */
const YOUNG_GENERATION = '--max-semi-space-size=64';

export async function startEngines(dataDir: string, options: { inProcess?: boolean } = {}): Promise<Engines> {
  return options.inProcess ? startEnginesInProcess(dataDir) : startEnginesProcess(dataDir);
}

async function startEnginesProcess(dataDir: string): Promise<Engines> {
  const host = join(dirname(fileURLToPath(import.meta.url)), 'engine-host.mjs');
  // ENGINE_EXEC_ARGV (e.g. '--cpu-prof --cpu-prof-dir=/tmp/prof'): node options for the engine process alone,
  // to profile it (bench/ingest-profile-phases.ts). A young generation of 64 MB semi-spaces: the engine
  // makes short-lived objects for every item (8 December: the LA day's engine CPU 6 % less, with the
  // service process so too; docs/benchmarks.md).
  const execArgv = [YOUNG_GENERATION, ...(process.env.ENGINE_EXEC_ARGV?.split(' ').filter(Boolean) ?? [])];
  const child = fork(host, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv });
  const listeners: Array<(event: S3rverEvent) => void> = [];
  const syncs = new Map<number, () => void>();
  let nextSync = 0;
  const ready = new Promise<{ dynamoPort: number; s3Port: number }>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the engine process exited (code ${code}) before it was ready`)));
    child.on('message', (raw) => {
      const m = raw as {
        type: string;
        dynamoPort: number;
        s3Port: number;
        event: S3rverEvent;
        id: number;
        message: string;
      };
      if (m.type === 'ready') resolve(m);
      else if (m.type === 's3event') for (const l of listeners) l(m.event);
      else if (m.type === 'synced') syncs.get(m.id)?.();
      else if (m.type === 'error') reject(new Error(`engine process: ${m.message}`));
    });
  });
  child.send({ type: 'start', dataDir, buckets: BUCKET_CONFIGS });
  const { dynamoPort, s3Port } = await ready;
  const dynamoEndpoint = `http://127.0.0.1:${dynamoPort}`;
  await createTable(dynamoEndpoint, DEFAULT_NAMES.table);
  return {
    dynamoEndpoint,
    s3Endpoint: `http://127.0.0.1:${s3Port}`,
    names: DEFAULT_NAMES,
    onS3Event: (listener) => listeners.push(listener),
    sync: () =>
      new Promise<void>((resolve) => {
        const id = nextSync++;
        syncs.set(id, () => {
          syncs.delete(id);
          resolve();
        });
        child.send({ type: 'sync', id });
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.send({ type: 'stop' });
      }),
  };
}

async function startEnginesInProcess(dataDir: string): Promise<Engines> {
  const { dynalite, S3rver } = loadEngines();
  const ddbDir = join(dataDir, 'ddb');
  const s3Dir = join(dataDir, 's3');
  mkdirSync(ddbDir, { recursive: true });
  mkdirSync(s3Dir, { recursive: true });

  const ddbServer = dynalite({ path: ddbDir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const ddbPort = await listen(ddbServer);
  const dynamoEndpoint = `http://127.0.0.1:${ddbPort}`;

  const s3 = new S3rver({
    address: '127.0.0.1',
    port: 0,
    directory: s3Dir,
    silent: true,
    configureBuckets: BUCKET_CONFIGS,
  });
  s3.on('error', logEngineFault);
  const s3Address = await s3.run();
  const s3Endpoint = `http://127.0.0.1:${s3Address.port}`;

  await createTable(dynamoEndpoint, DEFAULT_NAMES.table);

  return {
    dynamoEndpoint,
    s3Endpoint,
    names: DEFAULT_NAMES,
    onS3Event: (listener) => s3.on('event', listener),
    sync: async () => undefined,
    async stop() {
      await s3.close().catch(() => undefined);
      await new Promise<void>((resolve) => ddbServer.close(() => resolve()));
    },
  };
}

/** The one table with its GSI, as lib/storage.ts defines it (on-demand; PITR and KMS are AWS-only). */
async function createTable(endpoint: string, tableName: string): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const status = () =>
    client
      .send(new DescribeTableCommand({ TableName: tableName }))
      .then((d) => d.Table?.TableStatus)
      .catch(() => undefined);
  try {
    if (!(await status())) await client.send(tableDefinition(tableName)).catch(ignoreAlreadyCreated);
    // dynalite answers CreateTable with the table CREATING and turns it ACTIVE on a later tick (even at
    // createTableMs 0); a write before then is ResourceNotFound. Under load that tick came late.
    for (let i = 0; i < 200; i++) {
      if ((await status()) === 'ACTIVE') return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`local table ${tableName} did not become ACTIVE`);
  } finally {
    client.destroy();
  }
}

function ignoreAlreadyCreated(err: unknown): void {
  if (!(err instanceof ResourceInUseException)) throw err;
}

function tableDefinition(tableName: string): CreateTableCommand {
  const { partitionKey, sortKey, gsi1 } = TABLE_SCHEMA;
  return new CreateTableCommand({
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [partitionKey, sortKey, gsi1.partitionKey, gsi1.sortKey].map((name) => ({
      AttributeName: name,
      AttributeType: 'S',
    })),
    KeySchema: [
      { AttributeName: partitionKey, KeyType: 'HASH' },
      { AttributeName: sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: gsi1.name,
        KeySchema: [
          { AttributeName: gsi1.partitionKey, KeyType: 'HASH' },
          { AttributeName: gsi1.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  });
}
