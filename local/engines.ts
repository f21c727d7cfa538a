/**
 * The embedded engines (DESIGN §3 "Local runtime"): dynalite speaks the DynamoDB API over LevelDB and
 * s3rver the S3 API over the file system, both on loopback. The table and buckets are created from
 * the same names and key schema the CDK stack uses (shared/config.ts), so the handlers cannot tell
 * them from AWS.
 */
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { DEFAULT_NAMES, TABLE_SCHEMA } from '../shared/config.js';

const require = createRequire(import.meta.url);
// Both engines are CommonJS without type declarations.
const dynalite = require('dynalite') as (options: { path?: string; createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }) => Server;
const S3rver = require('s3rver') as new (options: Record<string, unknown>) => S3rverInstance;

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
}

export interface Engines {
  dynamoEndpoint: string;
  s3Endpoint: string;
  names: typeof DEFAULT_NAMES;
  onS3Event(listener: (event: S3rverEvent) => void): void;
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

/**
 * Start dynalite and s3rver with their data under `dataDir` (`ddb/` and `s3/`), or in memory /
 * a throwaway directory for tests. Ports are ephemeral: nothing else on the machine is disturbed.
 */
export async function startEngines(dataDir: string): Promise<Engines> {
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
    configureBuckets: [DEFAULT_NAMES.returnsBucket, DEFAULT_NAMES.quarantineBucket, DEFAULT_NAMES.registersBucket].map((name) => ({ name })),
  });
  const s3Address = await s3.run();
  const s3Endpoint = `http://127.0.0.1:${s3Address.port}`;

  await createTable(dynamoEndpoint, DEFAULT_NAMES.table);

  return {
    dynamoEndpoint,
    s3Endpoint,
    names: DEFAULT_NAMES,
    onS3Event: (listener) => s3.on('event', listener),
    async stop() {
      await s3.close().catch(() => undefined);
      await new Promise<void>((resolve) => ddbServer.close(() => resolve()));
    },
  };
}

/** The one table with its GSI, as lib/storage.ts defines it (on-demand; PITR and KMS are AWS-only). */
async function createTable(endpoint: string, tableName: string): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  try {
    const existing = await client.send(new DescribeTableCommand({ TableName: tableName })).catch(() => undefined);
    if (existing?.Table) return;
    const { partitionKey, sortKey, gsi1 } = TABLE_SCHEMA;
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [partitionKey, sortKey, gsi1.partitionKey, gsi1.sortKey].map((name) => ({ AttributeName: name, AttributeType: 'S' })),
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
      }),
    );
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw err;
  } finally {
    client.destroy();
  }
}
