/**
 * One policy for access and audit (issue 16): every route declares its permission and its audit, the
 * router refuses a route that does not, and public routes are run without a principal.
 */
import { describe, expect, it } from 'vitest';
import { runRoute } from '../../../functions/api/handler.js';
import {
  checkRoute,
  defineRoute,
  json,
  RouteDeclarationError,
  type Event,
  type RouteDef,
} from '../../../functions/api/http.js';
import { allRoutes } from '../../../functions/api/routes/index.js';

const base = { method: 'GET' as const, path: '/v1/test', summary: 'a test route', handler: async () => json(200, {}) };

describe('route declarations', () => {
  it('refuses to register a route without a permission', () => {
    expect(() => defineRoute({ ...base, audit: { action: 'read_test' } } as never)).toThrow(RouteDeclarationError);
    expect(() => defineRoute({ ...base, access: 'read_everything', audit: { action: 'read_test' } } as never)).toThrow(
      /no permission declared/,
    );
  });

  it('refuses to register a route without an audit action or a reason for none', () => {
    expect(() => defineRoute({ ...base, access: 'read_pupil' } as never)).toThrow(/no audit declared/);
    expect(() => defineRoute({ ...base, access: 'read_pupil', audit: {} } as never)).toThrow(/no audit declared/);
    expect(() => defineRoute({ ...base, access: 'read_pupil', audit: { none: '' } } as never)).toThrow(
      /no audit declared/,
    );
    expect(() =>
      defineRoute({ ...base, access: 'read_pupil', audit: { action: 'read_test', none: 'both' } } as never),
    ).toThrow(/no audit declared/);
  });

  it('refuses a public route that claims to audit (it has no caller)', () => {
    expect(() => defineRoute({ ...base, access: 'public', audit: { action: 'read_test' } } as never)).toThrow(
      /public route/,
    );
  });

  it('refuses at the router a route built without defineRoute', () => {
    expect(() => runRoute({ ...base, access: 'read_pupil' } as unknown as RouteDef)).toThrow(RouteDeclarationError);
  });

  it('registers a route that declares both', () => {
    const def = defineRoute({ ...base, access: 'read_pupil', audit: { action: 'read_test' } });
    expect(checkRoute(def)).toBe(def);
  });

  it('finds every route of the API declared, pupil-level reads with an audit action', () => {
    for (const def of allRoutes) expect(() => checkRoute(def), `${def.method} ${def.path}`).not.toThrow();
    const pupilReads = allRoutes.filter(
      (d) => d.method === 'GET' && /\/pupils|\/referrals|\/virtual-school|\/returns\/\{|\/audit/.test(d.path),
    );
    expect(pupilReads.length).toBeGreaterThan(5);
    for (const def of pupilReads) expect('action' in def.audit, `${def.method} ${def.path}`).toBe(true);
  });
});

describe('public routes', () => {
  it('are run without a principal, even when a token is sent', async () => {
    let seen: Record<string, unknown> | undefined;
    const def = defineRoute({
      ...base,
      access: 'public',
      audit: { none: 'public' },
      handler: async (ctx) => {
        seen = ctx;
        return json(200, { status: 'ok' });
      },
    });
    const event = {
      rawPath: '/v1/test',
      headers: { authorization: 'Bearer x' },
      requestContext: { authorizer: { jwt: { claims: { sub: 'u1', role: 'admin', la: '999' } } } },
    } as unknown as Event;
    const res = await runRoute(def)(event);
    expect(res.statusCode).toBe(200);
    expect(seen).not.toHaveProperty('principal');
    expect(seen).not.toHaveProperty('audit');
  });

  it('are the only routes declared public: /health, /openapi.json and /docs', () => {
    expect(
      allRoutes
        .filter((d) => d.access === 'public')
        .map((d) => d.path)
        .sort(),
    ).toEqual(['/docs', '/health', '/openapi.json']);
  });
});
