/**
 * The local stand-in for API Gateway (HTTP API, payload format 2.0): turns each HTTP request into
 * the event API Gateway would send, verifies the bearer token as its JWT authorizer would (every
 * route except PUBLIC_ROUTES), and hands the event to the same `api` handler the Lambda runs.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { PUBLIC_ROUTES } from '../shared/config.js';
import { verifyToken } from './tokens.js';

/**
 * API Gateway HTTP API: request payloads of up to 10 MB (a hard quota, "Payload size 10 MB"), refused
 * with 413 before any authorizer or integration runs.
 */
export const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

/**
 * Lambda, synchronous invocation: the event (the whole JSON API Gateway sends, a binary body
 * base64-encoded, so a file grows by a third) is at most 6 MB = 6,291,456 bytes. A larger event never
 * reaches the function.
 */
export const LAMBDA_MAX_EVENT_BYTES = 6 * 1024 * 1024;

/** Lambda, synchronous invocation: the serialised result is at most 6 MB as well (Lambda allows 100 bytes more; 6 MiB is used). */
export const LAMBDA_MAX_RESULT_BYTES = 6 * 1024 * 1024;

/**
 * An over-size body is read to its end and thrown away before the 413 is written, so a client still
 * sending sees the answer instead of a reset connection. Past this much the connection is closed.
 */
const MAX_DISCARD_BYTES = 1024 * 1024 * 1024;

/** Text bodies API Gateway passes through as strings; anything else arrives base64-encoded. */
const TEXT_TYPES = /^(application\/(json|.+\+json)|application\/x-www-form-urlencoded)\b/i;

export type ApiHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

export interface HttpBridgeOptions {
  host: string;
  port: number;
  signingKey: Uint8Array;
  handler: ApiHandler;
  /** Answers requests that are not the API's (the local web app and its sign-in); returns false to pass a request on. */
  before?: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;
}

class BodyTooLarge extends Error {}

/** The body, or BodyTooLarge once it is known to be over MAX_REQUEST_BYTES and has been read to its end. */
async function readBody(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = declared > MAX_REQUEST_BYTES;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES) tooLarge = true;
    // Keep reading, keep nothing: the 413 goes out once the client has finished sending.
    if (tooLarge) {
      chunks.length = 0;
      if (size > MAX_DISCARD_BYTES) break;
      continue;
    }
    chunks.push(chunk as Buffer);
  }
  if (tooLarge) throw new BodyTooLarge();
  return Buffer.concat(chunks);
}

function problemJson(
  res: ServerResponse,
  status: number,
  title: string,
  detail: string,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify({
    type: `https://attendance-hub.example/problems/${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`,
    title,
    status,
    detail,
  });
  res.writeHead(status, {
    'content-type': 'application/problem+json',
    'content-length': String(Buffer.byteLength(body)),
    ...headers,
  });
  res.end(body);
}

function isPublic(method: string, path: string): boolean {
  return PUBLIC_ROUTES.some(([m, p]) => m === method && p === path);
}

/** What API Gateway itself answers when its authorizer refuses (the Lambda is never called). */
function unauthorized(res: ServerResponse, detail: string): void {
  res.writeHead(401, { 'content-type': 'application/problem+json', 'www-authenticate': 'Bearer' });
  res.end(
    JSON.stringify({
      type: 'https://attendance-hub.example/problems/unauthorized',
      title: 'Unauthorized',
      status: 401,
      detail,
    }),
  );
}

/** JWT claims as API Gateway passes them to the Lambda: every value a string, arrays as "[a b]". */
function stringClaims(payload: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(payload)) out[k] = Array.isArray(v) ? `[${v.join(' ')}]` : String(v);
  return out;
}

function lambdaContext(requestId: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'attendance-hub-api',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:attendance-hub-api',
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: '/aws/lambda/attendance-hub-api',
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 29_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

async function toEvent(
  req: IncomingMessage,
  body: Buffer,
  claims: Record<string, string> | undefined,
): Promise<APIGatewayProxyEventV2> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers))
    if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : v;
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = k in query ? `${query[k]},${v}` : v;
  const now = new Date();
  const requestId = randomUUID();
  const method = (req.method ?? 'GET').toUpperCase();
  const text = TEXT_TYPES.test(headers['content-type'] ?? '');
  const event: APIGatewayProxyEventV2 & { requestContext: { authorizer?: unknown } } = {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    headers,
    queryStringParameters: Object.keys(query).length ? query : undefined,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
      ...(claims ? { authorizer: { jwt: { claims, scopes: [] } } } : {}),
    },
    body: body.length ? (text ? body.toString('utf8') : body.toString('base64')) : undefined,
    isBase64Encoded: body.length > 0 && !text,
  };
  return event;
}

export async function startHttpBridge(
  options: HttpBridgeOptions,
): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    void handle(req, res).catch(() => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/problem+json' });
        res.end(
          JSON.stringify({
            title: 'Internal error',
            status: 500,
            detail: 'The local gateway failed to pass the request on.',
          }),
        );
      } else res.end();
    });
  });

  // A gateway keeps a client's idle connection open well past Node's default of 5 s. With 5 s, a client
  // that reuses a kept-alive socket just as the server closes it sees the connection reset: the full
  // bench's load test of 8 December lost 1 request of 12,000 so (status 0, no answer).
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (options.before && (await options.before(req, res))) return;
    let body: Buffer;
    try {
      body = await readBody(req);
    } catch (err) {
      if (!(err instanceof BodyTooLarge)) throw err;
      return problemJson(
        res,
        413,
        'Payload too large',
        `Request bodies are limited to ${MAX_REQUEST_BYTES} bytes (API Gateway); send large files through POST /v1/returns/uploads.`,
        { connection: 'close' },
      );
    }
    const method = (req.method ?? 'GET').toUpperCase();
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    let claims: Record<string, string> | undefined;
    if (!isPublic(method, path)) {
      const auth = req.headers.authorization ?? '';
      const m = /^Bearer\s+(\S+)$/i.exec(auth);
      if (!m) return unauthorized(res, 'A bearer token is required: Authorization: Bearer <token>.');
      const payload = await verifyToken(options.signingKey, m[1]);
      if (!payload) return unauthorized(res, 'The bearer token is invalid, expired or not issued by this service.');
      claims = stringClaims(payload);
    }
    const event = await toEvent(req, body, claims);
    // Lambda refuses an event over its synchronous payload limit; the function never runs.
    if (Buffer.byteLength(JSON.stringify(event)) > LAMBDA_MAX_EVENT_BYTES) {
      return problemJson(
        res,
        413,
        'Payload too large',
        `This request (${body.length} bytes of body, base64-encoded unless text) is over Lambda's ${LAMBDA_MAX_EVENT_BYTES}-byte invocation payload; ` +
          'send large files through a presigned upload (POST /v1/returns/uploads, POST /v1/cohorts/uploads, POST /v1/schools/uploads).',
      );
    }
    const result = await options.handler(event, lambdaContext(event.requestContext.requestId));
    // Lambda fails an invocation whose result is over its limit; API Gateway answers 500 for it.
    if (Buffer.byteLength(JSON.stringify(result)) > LAMBDA_MAX_RESULT_BYTES) {
      return problemJson(
        res,
        500,
        'Internal error',
        `The function's response is over Lambda's ${LAMBDA_MAX_RESULT_BYTES}-byte response payload (Function.ResponseSizeTooLarge); in AWS this is a 500 from API Gateway.`,
      );
    }
    const headers: Record<string, string | number | boolean> = { ...(result.headers ?? {}) };
    const out =
      result.body === undefined
        ? Buffer.alloc(0)
        : result.isBase64Encoded
          ? Buffer.from(result.body, 'base64')
          : Buffer.from(result.body, 'utf8');
    headers['content-length'] = out.length;
    res.writeHead(result.statusCode ?? 200, headers as Record<string, string>);
    res.end(method === 'HEAD' ? undefined : out);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host === '0.0.0.0' ? '127.0.0.1' : options.host}:${port}`;
  return {
    server,
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
