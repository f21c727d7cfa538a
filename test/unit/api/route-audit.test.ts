/**
 * The router records the audit (issue 16): a route notes what it read, the router writes the notes
 * under the action the route declared — answered or refused — and an audited answer without a note
 * still leaves an entry. The store is replaced so the entries the router writes can be read back.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { CallerRouteDef } from '../../../functions/api/http.js';

const written: Array<{ who: unknown; entry: Record<string, unknown>; upns?: string[] }> = [];
let failWrites = false;

vi.mock('../../../shared/store/audit.js', () => ({
  recordAudit: async (who: unknown, entry: Record<string, unknown>) => {
    if (failWrites) throw new Error('audit table unavailable');
    written.push({ who, entry });
  },
  recordAuditOfPupils: async (who: unknown, entry: Record<string, unknown>, upns: Iterable<string>) => {
    if (failWrites) throw new Error('audit table unavailable');
    written.push({ who, entry, upns: [...upns] });
  },
}));

vi.mock('../../../shared/config.js', async (original) => ({
  ...(await original<typeof import('../../../shared/config.js')>()),
  runtimeConfig: () => ({ laCode: '999' }),
}));

const { runRoute } = await import('../../../functions/api/handler.js');
const { defineRoute, json, problem } = await import('../../../functions/api/http.js');

type Handler = CallerRouteDef<unknown>['handler'];

/** A test route: GET /v1/test/{id}, reading a pupil, audited as `read_test` (or at `path`, with other declarations). */
const testRoute = (
  handler: Handler,
  declared: Partial<Pick<CallerRouteDef<unknown>, 'path' | 'access' | 'audit'>> = {},
) =>
  defineRoute({
    method: 'GET',
    path: '/v1/test/{id}',
    summary: 'test',
    access: 'read_pupil',
    audit: { action: 'read_test' },
    ...declared,
    handler,
  });

const officer = { sub: 'officer-1', role: 'la_officer', la: '999' };
const eventAs = (claims: Record<string, unknown> | undefined, path = '/v1/test/P1') =>
  ({
    rawPath: path,
    headers: {},
    pathParameters: { id: 'P1' },
    requestContext: claims ? { authorizer: { jwt: { claims } } } : {},
  }) as never;

beforeEach(() => {
  written.length = 0;
  failWrites = false;
});

describe('the audit the router records', () => {
  it("writes a route's note under its declared action, with the caller", async () => {
    const def = testRoute(async ({ audit, params }) => {
      audit.record({ target: 'pupil', upn: params.id, outcome: 'ok' });
      return json(200, {});
    });
    expect((await runRoute(def)(eventAs(officer))).statusCode).toBe(200);
    expect(written).toEqual([
      {
        who: expect.objectContaining({ sub: 'officer-1', role: 'la_officer' }),
        entry: { action: 'read_test', target: 'pupil', upn: 'P1', outcome: 'ok' },
      },
    ]);
  });

  it('writes a list read once per pupil returned', async () => {
    const def = testRoute(
      async ({ audit }) => {
        audit.pupils({ target: 'list', outcome: 'ok' }, ['P1', 'P2']);
        return json(200, {});
      },
      { path: '/v1/test', access: 'list_pupils', audit: { action: 'list_test' } },
    );
    await runRoute(def)(eventAs(officer, '/v1/test'));
    expect(written).toEqual([
      { who: expect.anything(), entry: { action: 'list_test', target: 'list', outcome: 'ok' }, upns: ['P1', 'P2'] },
    ]);
  });

  it('writes what a route noted before it refused (not found)', async () => {
    const def = testRoute(async ({ audit, params }) => {
      audit.record({ target: 'pupil', upn: params.id, outcome: 'not_found' });
      throw problem(404, 'No such pupil.');
    });
    expect((await runRoute(def)(eventAs(officer))).statusCode).toBe(404);
    expect(written.map((w) => w.entry)).toEqual([
      { action: 'read_test', target: 'pupil', upn: 'P1', outcome: 'not_found' },
    ]);
  });

  it('leaves an entry for an audited answer the route noted nothing about', async () => {
    const def = testRoute(async () => json(200, {}));
    await runRoute(def)(eventAs(officer));
    expect(written.map((w) => w.entry)).toEqual([{ action: 'read_test', target: 'GET /v1/test/P1', outcome: 'ok' }]);
  });

  it('fails the request (500, no data) when the audit cannot be written', async () => {
    failWrites = true;
    const def = testRoute(async ({ audit }) => {
      audit.record({ target: 'pupil', outcome: 'ok' });
      return json(200, { secret: 'pupil data' });
    });
    const res = await runRoute(def)(eventAs(officer));
    expect(res.statusCode).toBe(500);
    expect(String(res.body)).not.toContain('pupil data');
  });

  it('records a refusal by the permission as denied, without running the handler', async () => {
    const handler = vi.fn(async () => json(200, {}));
    const def = testRoute(handler);
    const res = await runRoute(def)(eventAs({ sub: 'admin-1', role: 'admin', la: '999' }));
    expect(res.statusCode).toBe(403);
    expect(handler).not.toHaveBeenCalled();
    expect(written.map((w) => w.entry)).toEqual([
      { action: 'denied', target: 'GET /v1/test/{id}', outcome: 'forbidden' },
    ]);
  });

  it('writes nothing for a route declared as auditing nothing, and refuses one that tries', async () => {
    const quiet = testRoute(async () => json(200, {}), {
      path: '/v1/test',
      access: 'read_schools',
      audit: { none: 'aggregates' },
    });
    expect((await runRoute(quiet)(eventAs(officer, '/v1/test'))).statusCode).toBe(200);
    const noisy = testRoute(
      async ({ audit }) => {
        audit.record({ target: 'x', outcome: 'ok' });
        return json(200, {});
      },
      { path: '/v1/test', access: 'read_schools', audit: { none: 'aggregates' } },
    );
    expect((await runRoute(noisy)(eventAs(officer, '/v1/test'))).statusCode).toBe(500);
    expect(written).toEqual([]);
  });
});
