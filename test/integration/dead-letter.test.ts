/**
 * A return that fails on every delivery: on the last one it is marked rejected (with the reason) as
 * its message moves to the dead-letter queue; a redrive that then succeeds applies it normally.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SQSEvent } from 'aws-lambda';
import { MAX_RECEIVE_COUNT } from '../../shared/config.js';
import { startTestService, type TestService } from './harness.js';
import { returnCsv, upnFor } from '../support/returns.js';

const URN = '123456';
let svc: TestService;
let school: string;

beforeAll(async () => {
  svc = await startTestService();
  school = await svc.token('school', { urn: URN });
});
afterAll(async () => svc?.stop());

function delivery(body: object, receiveCount: number): SQSEvent {
  return {
    Records: [
      {
        messageId: `m${receiveCount}`,
        receiptHandle: 'h',
        body: JSON.stringify(body),
        attributes: {
          ApproximateReceiveCount: String(receiveCount),
          SentTimestamp: '0',
          SenderId: 'x',
          ApproximateFirstReceiveTimestamp: '0',
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn',
        awsRegion: 'local',
      },
    ],
  };
}

describe('dead-letter path', () => {
  it('marks the return rejected on the last delivery, and a successful redrive accepts it', async () => {
    const { handler } = await import('../../functions/ingest/handler.js');
    const { createReturn } = await import('../../shared/store/returns.js');
    const { putBlob } = await import('../../shared/store/blobs.js');
    const returnId = 'rpoison00001';
    const key = `held/${URN}/${returnId}.csv`; // outside returns/, so only this test drives it
    const bucket = process.env.RETURNS_BUCKET as string;
    await createReturn({
      returnId,
      urn: URN,
      status: 'received',
      format: 'csv',
      receivedAt: new Date().toISOString(),
      uploadedBy: { sub: 's', role: 'school', urn: URN },
      objectKey: key,
    });
    const message = { kind: 'return', returnId, urn: URN, bucket, key };

    // The object is missing, so every delivery fails.
    const early = await handler(delivery(message, MAX_RECEIVE_COUNT - 1));
    expect(early.batchItemFailures).toHaveLength(1);
    expect((await svc.request('GET', `/v1/returns/${returnId}`, { token: school })).json().status).toBe('processing');

    const last = await handler(delivery(message, MAX_RECEIVE_COUNT));
    expect(last.batchItemFailures).toHaveLength(1);
    const rejected = (await svc.request('GET', `/v1/returns/${returnId}`, { token: school })).json();
    expect(rejected.status).toBe('rejected');
    expect(rejected.rejection.detail).toMatch(/repeated attempts/);

    // The fault is fixed and the message redriven from the dead-letter queue.
    await putBlob(
      bucket,
      key,
      returnCsv([{ urn: URN, upn: upnFor(50), date: '2025-09-01', am: '/', pm: '/' }]),
      'text/csv',
    );
    const redrive = await handler(delivery(message, 1));
    expect(redrive.batchItemFailures).toEqual([]);
    await svc.settle();
    const accepted = (await svc.request('GET', `/v1/returns/${returnId}`, { token: school })).json();
    expect(accepted).toMatchObject({ status: 'accepted', counts: { rows: 1, accepted: 1, rejected: 0 } });
  });
});
