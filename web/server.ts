/**
 * The web app on the local runtime: its static files at `/`, and the local sign-in endpoints, which
 * exist only here (the AWS build serves web/dist from S3 and signs people in with Cognito).
 *
 * - `GET /`, `/index.html`, `/app.js`, `/app.css`: the built app.
 * - `GET /config.json`: `{ auth: 'local' }` (in AWS the deployment writes Cognito's settings instead).
 * - `GET /local/sign-in/schools`: the registry's schools (URN and name), for "which school?".
 * - `POST /local/sign-in` `{ role, urn? }` (JSON only, so another site's form cannot post it):
 *   a token minted by the local runtime's tokens (local/tokens.ts), as `npm run cli -- token` does.
 *
 * Everything else goes on to the API bridge unchanged.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { isRole, type Role } from '../shared/domain/access.js';

export interface WebHandlerOptions {
  /** The built app (web/dist). */
  distDir: string;
  laName?: string;
  mint(request: { role: Role; urn?: string }): Promise<string>;
  schools(): Promise<Array<{ urn: string; name?: string | null; outOfArea?: boolean }>>;
}

const STATIC: Record<string, string> = {
  '/': 'index.html',
  '/index.html': 'index.html',
  '/app.js': 'app.js',
  '/app.css': 'app.css',
};
const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

/** Headers every app response carries: no framing, no sniffing, only our own scripts. */
const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self' http://127.0.0.1:* http://localhost:*; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
};

function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string | Buffer,
  extra: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-cache', ...SECURITY_HEADERS, ...extra });
  res.end(body);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > 4096) throw new Error('too large');
    chunks.push(c as Buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

function problem(res: ServerResponse, status: number, title: string, detail: string): void {
  send(res, status, 'application/problem+json', JSON.stringify({ title, status, detail }));
}

/** A request hook for the local HTTP bridge: answers the app's own paths (true) and lets the rest through (false). */
export function createWebHandler(
  options: WebHandlerOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  return async (req, res) => {
    const method = (req.method ?? 'GET').toUpperCase();
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const file = STATIC[path];
    if (file && (method === 'GET' || method === 'HEAD')) {
      const ext = file.split('.').pop() as string;
      try {
        send(res, 200, TYPES[ext], method === 'HEAD' ? '' : await readFile(join(options.distDir, file)));
      } catch {
        problem(res, 503, 'Web app not built', 'Run npm run build:web (npm start builds it).');
      }
      return true;
    }
    if (path === '/config.json' && method === 'GET') {
      send(res, 200, 'application/json', JSON.stringify({ auth: 'local', laName: options.laName }), {
        'cache-control': 'no-store',
      });
      return true;
    }
    if (path === '/local/sign-in/schools' && method === 'GET') {
      const schools = (await options.schools())
        .filter((s) => !s.outOfArea)
        .map((s) => ({ urn: s.urn, name: s.name ?? null }));
      send(res, 200, 'application/json', JSON.stringify({ items: schools }), { 'cache-control': 'no-store' });
      return true;
    }
    if (path === '/local/sign-in') {
      if (method !== 'POST') {
        problem(res, 405, 'Method not allowed', 'POST { role, urn? } as JSON.');
        return true;
      }
      if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
        problem(res, 415, 'Unsupported media type', 'Send JSON.');
        return true;
      }
      let body: { role?: unknown; urn?: unknown };
      try {
        body = (await readJson(req)) as typeof body;
      } catch {
        problem(res, 400, 'Bad request', 'The body is not JSON.');
        return true;
      }
      const role = typeof body.role === 'string' && isRole(body.role) ? body.role : undefined;
      const urn = typeof body.urn === 'string' && /^\d{6}$/.test(body.urn) ? body.urn : undefined;
      if (!role) {
        problem(res, 400, 'Bad request', 'role must be school, la_officer, vsh or admin.');
        return true;
      }
      if (role === 'school' && (!urn || !(await options.schools()).some((s) => s.urn === urn))) {
        problem(res, 400, 'Bad request', 'Choose a school from the registry.');
        return true;
      }
      const token = await options.mint({ role, urn: role === 'school' ? urn : undefined });
      send(res, 200, 'application/json', JSON.stringify({ token }), { 'cache-control': 'no-store' });
      return true;
    }
    return false;
  };
}
