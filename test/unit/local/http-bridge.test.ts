/**
 * The local gateway enforces the limits API Gateway (HTTP API) and Lambda enforce in AWS, so tests
 * see them: a 10 MB request body, a 6 MB invocation event, a 6 MB function result. The handler here
 * is a stand-in that records its calls, because the subject is the gateway, not a route.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LAMBDA_MAX_EVENT_BYTES,
  LAMBDA_MAX_RESULT_BYTES,
  MAX_REQUEST_BYTES,
  startHttpBridge,
  type ApiHandler,
} from '../../../local/http-bridge.js';
import { mintToken, signingKey } from '../../../local/tokens.js';

let bridge: Awaited<ReturnType<typeof startHttpBridge>>;
let calls = 0;
let nextResult: Awaited<ReturnType<ApiHandler>> = { statusCode: 200, body: 'ok' };
let dir: string;
let token: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bridge-limits-'));
  token = await mintToken(dir, { role: 'la_officer', la: '999' });
  bridge = await startHttpBridge({
    host: '127.0.0.1',
    port: 0,
    signingKey: signingKey(dir),
    handler: async () => {
      calls++;
      return nextResult;
    },
  });
});
afterAll(async () => {
  await bridge?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A raw HTTP request that writes `total` bytes in 1 MiB chunks, noting when the last byte was handed over. */
function send(
  path: string,
  total: number,
  contentType = 'text/csv',
): Promise<{ status: number; body: string; sentAll: boolean; error?: string }> {
  return new Promise((resolve) => {
    let sentAll = false;
    const req = httpRequest(
      `${bridge.url}${path}`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': contentType, 'content-length': String(total) },
      },
      (res) => {
        const answeredAfterSending = sentAll;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            sentAll: answeredAfterSending,
          }),
        );
      },
    );
    req.on('error', (err) => resolve({ status: 0, body: '', sentAll, error: err.message }));
    const chunk = Buffer.alloc(1024 * 1024, 'a');
    let left = total;
    const pump = (): void => {
      while (left > 0) {
        const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
        left -= piece.length;
        if (!req.write(piece)) {
          req.once('drain', pump);
          return;
        }
      }
      req.end(() => (sentAll = true));
    };
    pump();
  });
}

describe('local gateway limits (API Gateway HTTP API and Lambda)', () => {
  it(`reads an over-size body (> ${MAX_REQUEST_BYTES} bytes) to its end, then answers 413 problem+json; the client sees the answer, not a reset`, async () => {
    const before = calls;
    const res = await send('/v1/cohorts', MAX_REQUEST_BYTES + 3 * 1024 * 1024);
    expect(res.error).toBeUndefined();
    expect(res.status).toBe(413);
    expect(res.sentAll).toBe(true);
    expect(JSON.parse(res.body)).toMatchObject({
      status: 413,
      title: 'Payload too large',
      detail: expect.stringContaining(String(MAX_REQUEST_BYTES)),
    });
    expect(calls).toBe(before);
  });

  it("refuses an event over Lambda's 6 MB invocation payload with 413 and never calls the function", async () => {
    const before = calls;
    // JSON bodies are passed as text: 6 MiB of body is an event just over 6 MiB.
    const res = await send('/v1/cohorts', LAMBDA_MAX_EVENT_BYTES, 'application/json');
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).detail).toContain(`Lambda's ${LAMBDA_MAX_EVENT_BYTES}-byte invocation payload`);
    expect(calls).toBe(before);
    // A body well under it reaches the function.
    expect((await send('/v1/cohorts', LAMBDA_MAX_EVENT_BYTES - 64 * 1024, 'application/json')).status).toBe(200);
    expect(calls).toBe(before + 1);
  });

  it("answers 500 for a function result over Lambda's 6 MB response payload, as API Gateway would, and passes one under it", async () => {
    nextResult = {
      statusCode: 200,
      headers: { 'content-type': 'text/csv' },
      body: 'x'.repeat(LAMBDA_MAX_RESULT_BYTES),
    };
    const over = await fetch(`${bridge.url}/health`);
    expect(over.status).toBe(500);
    expect(await over.json()).toMatchObject({
      status: 500,
      detail: expect.stringContaining(String(LAMBDA_MAX_RESULT_BYTES)),
    });
    nextResult = {
      statusCode: 200,
      headers: { 'content-type': 'text/csv' },
      body: 'x'.repeat(LAMBDA_MAX_RESULT_BYTES - 1024),
    };
    const under = await fetch(`${bridge.url}/health`);
    expect(under.status).toBe(200);
    expect((await under.text()).length).toBe(LAMBDA_MAX_RESULT_BYTES - 1024);
    nextResult = { statusCode: 200, body: 'ok' };
  });

  it("keeps an idle kept-alive connection open past Node's default 5 s, so a client reusing it is not reset", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    nextResult = { statusCode: 200, body: 'ok' };
    const get = () =>
      new Promise<{ status: number; reused: boolean }>((resolve, reject) => {
        const req = httpRequest(
          `${bridge.url}/v1/schools`,
          { agent, headers: { authorization: `Bearer ${token}` } },
          (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket }));
          },
        );
        req.on('error', reject);
        req.end();
      });
    try {
      expect(await get()).toEqual({ status: 200, reused: false });
      await new Promise((r) => setTimeout(r, 5_500));
      // The same socket, still open: with the server's default the agent would have had to open another.
      expect(await get()).toEqual({ status: 200, reused: true });
    } finally {
      agent.destroy();
    }
  }, 15_000);
});
