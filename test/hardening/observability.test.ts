/**
 * Observability as deployed (issue 15, item 9):
 * - every log line of every handler carries the Lambda context (request id, cold start, function),
 *   as Powertools' injectLambdaContext would add it;
 * - the metrics an LA operator watches (returns accepted and rejected, rows rejected, ingest lag,
 *   rollup age) are written as CloudWatch embedded-metric-format lines. Metrics are off in the tests
 *   (POWERTOOLS_METRICS_DISABLED=true, vitest.config.ts); this file turns them on and reads the EMF.
 */
import { format } from 'node:util';
import type { Context } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { METRIC, METRICS_NAMESPACE, SERVICE_NAME } from '../../shared/observability.js';
import { startTestService, type TestService } from '../integration/harness.js';
import { returnCsv, upnFor } from '../support/returns.js';

// Lambda sets this for an on-demand execution environment; Powertools reports a cold start only then.
vi.hoisted(() => {
  process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
});

/** Everything written through console while `run` runs, one entry per call. */
async function captured(run: () => Promise<unknown>): Promise<string[]> {
  const out: string[] = [];
  const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((m) =>
    vi.spyOn(console, m).mockImplementation((...args: unknown[]) => void out.push(format(...args))),
  );
  try {
    await run();
  } finally {
    for (const s of spies) s.mockRestore();
  }
  return out;
}

const jsonLines = (out: string[]) =>
  out.flatMap((l) => {
    try {
      return [JSON.parse(l) as Record<string, unknown>];
    } catch {
      return [];
    }
  });

function contextFor(name: string, requestId: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `AttendanceHub-${name}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-west-2:123456789012:function:AttendanceHub-${name}`,
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/AttendanceHub-${name}`,
    logStreamName: 'test',
    getRemainingTimeInMillis: () => 10_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

describe('the Lambda context on every log line of every handler', () => {
  const sqsRecord = (body: string) => ({
    messageId: 'm-1',
    receiptHandle: 'r',
    body,
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-2:1:q.fifo',
    awsRegion: 'eu-west-2',
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(Date.now()),
      SenderId: 's',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
  });
  // Each invocation is one that logs without touching any store: an event the handler refuses.
  const invocations: Array<[string, (ctx: Context) => Promise<unknown>]> = [
    [
      'receive',
      async (ctx) =>
        (await import('../../functions/receive/handler.js')).handler(
          { Records: [{ s3: { bucket: { name: 'b' }, object: { key: 'elsewhere/x.csv', size: 1 } } }] } as never,
          ctx,
        ),
    ],
    [
      'ingest',
      async (ctx) =>
        (await import('../../functions/ingest/handler.js')).handler({ Records: [sqsRecord('not json')] }, ctx),
    ],
    [
      'rollup',
      async (ctx) =>
        (await import('../../functions/rollup/handler.js')).handler({ Records: [sqsRecord('not json')] }, ctx),
    ],
    [
      'patterns',
      async (ctx) => (await import('../../functions/patterns/handler.js')).handler({ trigger: 'nonsense' }, ctx),
    ],
    [
      'api',
      async (ctx) => {
        // A route whose configuration is missing: the handler logs the fault and answers 500.
        const { handler } = await import('../../functions/api/handler.js');
        const event = {
          version: '2.0',
          routeKey: '$default',
          rawPath: '/v1/schools',
          rawQueryString: '',
          headers: {},
          requestContext: {
            http: { method: 'GET', path: '/v1/schools' },
            requestId: 'gw-1',
            authorizer: { jwt: { claims: { sub: 'u1', role: 'la_officer', la: '999' } } },
          },
          isBase64Encoded: false,
        };
        const saved = process.env.LA_CODE;
        delete process.env.LA_CODE;
        try {
          return await handler(event as never, ctx);
        } finally {
          if (saved !== undefined) process.env.LA_CODE = saved;
        }
      },
    ],
  ];

  it("adds the request id, cold start (true once, then false), function name and ARN to each handler's lines", async () => {
    let first = true;
    for (const [name, invoke] of invocations) {
      const requestId = `req-${name}`;
      const lines = jsonLines(await captured(() => invoke(contextFor(name, requestId))));
      expect(lines.length, `${name} wrote no structured line`).toBeGreaterThan(0);
      for (const line of lines) {
        expect(line, name).toMatchObject({
          function_request_id: requestId,
          function_name: `AttendanceHub-${name}`,
          function_arn: expect.stringContaining(`function:AttendanceHub-${name}`),
          cold_start: first,
          service: SERVICE_NAME,
        });
      }
      first = false;
    }
  });
});

describe('operator metrics (CloudWatch EMF)', () => {
  let svc: TestService;
  const URN = '123456';
  beforeAll(async () => {
    svc = await startTestService();
  });
  afterAll(async () => svc?.stop());
  afterEach(() => {
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  });

  /** The EMF records written, by metric name: value and the record's namespace and dimensions. */
  function emf(
    out: string[],
  ): Array<{ name: string; value: number; unit: string; namespace: string; dimensions: string[][]; service: unknown }> {
    return jsonLines(out).flatMap((l) => {
      const aws = l._aws as
        | {
            CloudWatchMetrics?: Array<{
              Namespace: string;
              Dimensions: string[][];
              Metrics: Array<{ Name: string; Unit: string }>;
            }>;
          }
        | undefined;
      return (aws?.CloudWatchMetrics ?? []).flatMap((d) =>
        d.Metrics.map((m) => ({
          name: m.Name,
          value: l[m.Name] as number,
          unit: m.Unit,
          namespace: d.Namespace,
          dimensions: d.Dimensions,
          service: l.service,
        })),
      );
    });
  }

  it('writes nothing while POWERTOOLS_METRICS_DISABLED is true (the test default)', async () => {
    const school = await svc.token('school', { urn: URN });
    const out = await captured(async () => {
      await svc.request('POST', '/v1/returns', {
        token: school,
        body: returnCsv([{ urn: URN, upn: upnFor(70), date: '2025-09-15', am: '/', pm: 'O' }]),
      });
      await svc.settle();
    });
    expect(emf(out)).toEqual([]);
  });

  it('counts an accepted return, its rejected rows, its ingest lag and the rollup age; a return refused at the door counts as rejected', async () => {
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    const school = await svc.token('school', { urn: URN });
    const good = returnCsv([
      { urn: URN, upn: upnFor(71), date: '2025-09-16', am: '/', pm: '/' },
      { urn: URN, upn: upnFor(72), date: '2025-09-16', am: '/', pm: '?' }, // an unknown code: a row error
    ]);
    const out = await captured(async () => {
      expect((await svc.request('POST', '/v1/returns', { token: school, body: good })).status).toBe(202);
      expect(
        (await svc.request('POST', '/v1/returns', { token: school, body: 'urn,upn,date\nnot,a,return\n' })).status,
      ).toBe(422);
      await svc.settle();
    });
    const records = emf(out);
    for (const r of records) {
      expect(r.namespace).toBe(METRICS_NAMESPACE);
      expect(r.dimensions).toEqual([['service']]);
      expect(r.service).toBe(SERVICE_NAME);
    }
    const values = (name: string) => records.filter((r) => r.name === name).map((r) => r.value);
    expect(values(METRIC.returnsAccepted)).toEqual([1]);
    expect(values(METRIC.returnsRejected)).toEqual([1]);
    expect(values(METRIC.rowsRejected)).toEqual([1]);
    expect(values(METRIC.ingestLag)).toHaveLength(1);
    expect(values(METRIC.ingestLag)[0]).toBeGreaterThanOrEqual(0);
    expect(values(METRIC.ingestLag)[0]).toBeLessThan(60);
    expect(values(METRIC.rollupAge).length).toBeGreaterThanOrEqual(1);
    expect(records.find((r) => r.name === METRIC.ingestLag)?.unit).toBe('Seconds');
  });
});
