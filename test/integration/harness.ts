/**
 * Integration-test harness: the whole local runtime (dynalite, s3rver, local SQS, the API Gateway
 * bridge) on random loopback ports with a throwaway data directory, driven over real HTTP.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LaSettings } from '../../shared/config.js';
import type { Role } from '../../shared/domain/access.js';
import { startLocalRuntime, type LocalRuntime } from '../../local/runtime.js';

export interface TestResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
  json<T = any>(): T;
}

export interface RequestOptions {
  token?: string;
  /** A string or Buffer is sent as is; anything else as JSON. */
  body?: unknown;
  contentType?: string;
  headers?: Record<string, string>;
}

export interface TestService {
  url: string;
  runtime: LocalRuntime;
  dataDir: string;
  token(role: Role, options?: { urn?: string; sub?: string; la?: string; ttlSeconds?: number }): Promise<string>;
  request(method: string, path: string, options?: RequestOptions): Promise<TestResponse>;
  settle(): Promise<void>;
  stop(): Promise<void>;
}

export async function startTestService(
  options: { laSettings?: Partial<LaSettings>; laCode?: string; ingestWorkers?: number } = {},
): Promise<TestService> {
  const dataDir = mkdtempSync(join(tmpdir(), 'attendance-hub-test-'));
  const runtime = await startLocalRuntime({
    dataDir,
    port: 0,
    rollupDelaySeconds: 0,
    laSettings: options.laSettings,
    laCode: options.laCode,
    ingestWorkers: options.ingestWorkers,
  });
  return {
    url: runtime.url,
    runtime,
    dataDir,
    token: (role, o = {}) => runtime.token({ role, ...o }),
    async request(method, path, o = {}) {
      const headers: Record<string, string> = { ...(o.headers ?? {}) };
      if (o.token) headers.authorization = `Bearer ${o.token}`;
      let body: string | Buffer | undefined;
      if (o.body !== undefined) {
        if (typeof o.body === 'string' || Buffer.isBuffer(o.body)) {
          body = o.body;
          headers['content-type'] = o.contentType ?? headers['content-type'] ?? 'text/csv';
        } else {
          body = JSON.stringify(o.body);
          headers['content-type'] = o.contentType ?? 'application/json';
        }
      } else if (o.contentType) headers['content-type'] = o.contentType;
      const res = await fetch(`${runtime.url}${path}`, { method, headers, body });
      const text = await res.text();
      const out: Record<string, string> = {};
      res.headers.forEach((v, k) => (out[k.toLowerCase()] = v));
      return { status: res.status, headers: out, text, json: () => JSON.parse(text) };
    },
    settle: () => runtime.settle(),
    async stop() {
      await runtime.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
