/**
 * The bench's cost meter (bench/cost.ts) on the real engines: DynamoDB units as dynalite reports them
 * with the GSI's added, S3 requests by price class and bytes, SQS sends, API requests; and nothing
 * counted once it is taken off.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { CostMeter, installCostMeter } from '../../bench/cost.js';
import { DEFAULT_NAMES } from '../../shared/config.js';
import { startTestService, type TestService } from './harness.js';

describe('the cost meter', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService();
  });
  afterAll(async () => {
    await service.stop();
  });

  it('counts units, requests and bytes while installed, and nothing after', async () => {
    const meter = new CostMeter();
    const remove = await installCostMeter(meter, { api: service.url, s3: service.runtime.engines.s3Endpoint });
    const { getItem, putItem } = await import('../../shared/store/table.js');
    const { putBlob, getBlob } = await import('../../shared/store/blobs.js');
    const { sqsClient } = await import('../../shared/store/clients.js');
    try {
      // 2,000+ bytes: 3 write units, and 3 more for the GSI (the item carries gsi1pk); read back strongly consistent: 1 unit.
      await putItem({ pk: 'COST#1', sk: 'X', gsi1pk: 'COST', gsi1sk: '1', v: 'x'.repeat(2500) });
      await getItem({ pk: 'COST#1', sk: 'X' });
      await putBlob(DEFAULT_NAMES.registersBucket, 'cost/a.bin', Buffer.alloc(1000, 1), 'application/octet-stream');
      await getBlob(DEFAULT_NAMES.registersBucket, 'cost/a.bin');
      await sqsClient()
        .send(
          new SendMessageCommand({
            QueueUrl: service.runtime.queues.urlOf('no-such-queue.fifo'),
            MessageBody: 'y'.repeat(70_000),
            MessageGroupId: 'g',
          }),
        )
        .catch(() => undefined);
      await (await fetch(`${service.url}/v1/schools`)).arrayBuffer();
    } finally {
      remove();
    }
    const c = meter.counts;
    expect(c.dynamo.requests).toEqual({ PutItem: 1, GetItem: 1 });
    expect([c.dynamo.writeUnits, c.dynamo.indexWriteUnits, c.dynamo.readUnits]).toEqual([3, 3, 1]);
    expect(c.s3.requests).toEqual({ PutObject: 1, GetObject: 1 });
    expect([c.s3.putClass, c.s3.getClass, c.s3.bytesUp, c.s3.bytesDown]).toEqual([1, 1, 1000, 1000]);
    expect(c.s3.putBytesByBucket[DEFAULT_NAMES.registersBucket]).toBe(1000);
    // 70,000 bytes: two 64 KB chunks, billed as two requests (counted as sent; this queue does not exist, so nothing is consumed).
    expect(c.sqs.sendRequestsBilled).toBe(2);
    expect(c.api.requests).toBe(1);

    const before = meter.snapshot();
    await getItem({ pk: 'COST#1', sk: 'X' });
    await (await fetch(`${service.url}/v1/schools`)).arrayBuffer();
    expect(meter.counts).toEqual(before);
  });
});
