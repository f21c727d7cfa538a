/**
 * The local stand-in for the Lambda Invoke API (as local/queue.ts stands in for SQS): an HTTP
 * endpoint speaking `POST /2015-03-31/functions/{name}/invocations`, so a handler's real SDK call
 * (`InvokeCommand`, found through AWS_ENDPOINT_URL_LAMBDA) reaches a handler in this process.
 *
 * - `X-Amz-Invocation-Type: Event` (asynchronous): answered 202 at once; the handler runs in the
 *   background and, when it throws, is retried like Lambda's asynchronous invocations (`retryAttempts`,
 *   default 2 as in AWS; after a short pause here rather than minutes).
 * - `RequestResponse` (the default): the handler's result as the body, or `X-Amz-Function-Error:
 *   Unhandled` with `{ errorType, errorMessage }` when it throws.
 * - `DryRun`: 204.
 * - An unknown function: 404 ResourceNotFoundException, as Lambda answers.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LocalFunctionDefinition {
  name: string;
  handler: (event: unknown) => Promise<unknown>;
  /** Retries of an asynchronous invocation that throws (AWS default 2; the patterns function has 1). */
  retryAttempts?: number;
  /** Pause before a retry (default 500 ms). */
  retryDelayMs?: number;
}

export interface LocalLambda {
  endpoint: string;
  /** An asynchronous invocation from this process (what EventBridge Scheduler does in AWS). */
  invokeAsync(name: string, payload: unknown): void;
  /** Whether an asynchronous invocation is running or waiting to retry. */
  busy(): boolean;
  /** Resolves when no asynchronous invocation is running or waiting to retry. */
  drain(): Promise<void>;
  /** Asynchronous invocations that failed every attempt, per function. */
  failures(name: string): Array<{ payload: string; error: string }>;
  stop(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The function name from a name, a full or partial ARN (`…:function:name[:qualifier]`). */
function functionNameOf(raw: string): string {
  const decoded = decodeURIComponent(raw);
  const m = /(?:^|:)function:([^:]+)/.exec(decoded);
  return m ? m[1] : decoded.split(':')[0];
}

export async function startLambda(defs: LocalFunctionDefinition[]): Promise<LocalLambda> {
  const functions = new Map(defs.map((d) => [d.name, d]));
  const inFlight = new Set<Promise<void>>();
  const failed = new Map<string, Array<{ payload: string; error: string }>>();
  let stopped = false;

  const runAsync = async (def: LocalFunctionDefinition, payload: string): Promise<void> => {
    const attempts = 1 + (def.retryAttempts ?? 2);
    for (let attempt = 1; attempt <= attempts && !stopped; attempt++) {
      try {
        await def.handler(payload ? (JSON.parse(payload) as unknown) : {});
        return;
      } catch (err) {
        if (attempt === attempts) {
          const list = failed.get(def.name) ?? [];
          list.push({ payload, error: err instanceof Error ? err.message : String(err) });
          failed.set(def.name, list);
          return;
        }
        await new Promise((r) => setTimeout(r, def.retryDelayMs ?? 500));
      }
    }
  };

  const background = (def: LocalFunctionDefinition, payload: string): void => {
    const run = runAsync(def, payload).finally(() => inFlight.delete(run));
    inFlight.add(run);
  };

  const server: Server = createServer(async (req, res) => {
    const reply = (status: number, body: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(body);
    };
    try {
      const m = /^\/2015-03-31\/functions\/([^/]+)\/invocations(?:\?.*)?$/.exec(req.url ?? '');
      if (req.method !== 'POST' || !m) {
        return reply(
          400,
          JSON.stringify({ Type: 'User', message: `${req.method} ${req.url} is not supported locally` }),
          { 'x-amzn-errortype': 'InvalidRequestContentException' },
        );
      }
      const name = functionNameOf(m[1]);
      const def = functions.get(name);
      const payload = await readBody(req);
      if (!def) {
        return reply(404, JSON.stringify({ Type: 'User', message: `Function not found: ${name}` }), {
          'x-amzn-errortype': 'ResourceNotFoundException',
        });
      }
      if (payload) {
        try {
          JSON.parse(payload);
        } catch {
          return reply(400, JSON.stringify({ Type: 'User', message: 'Could not parse request body into json' }), {
            'x-amzn-errortype': 'InvalidRequestContentException',
          });
        }
      }
      const type = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
      if (type === 'DryRun') return reply(204, '');
      if (type === 'Event') {
        background(def, payload);
        return reply(202, '');
      }
      try {
        const result = await def.handler(payload ? (JSON.parse(payload) as unknown) : {});
        return reply(200, JSON.stringify(result ?? null), { 'x-amz-executed-version': '$LATEST' });
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        return reply(200, JSON.stringify({ errorType: e.name, errorMessage: e.message }), {
          'x-amz-function-error': 'Unhandled',
          'x-amz-executed-version': '$LATEST',
        });
      }
    } catch (err) {
      return reply(500, JSON.stringify({ message: err instanceof Error ? err.message : String(err) }), {
        'x-amzn-errortype': 'ServiceException',
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    invokeAsync(name, payload) {
      const def = functions.get(name);
      if (!def) throw new Error(`no local function ${name}`);
      background(def, JSON.stringify(payload));
    },
    busy: () => inFlight.size > 0,
    async drain() {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
    failures: (name) => failed.get(name) ?? [],
    async stop() {
      stopped = true;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
