/**
 * Access (issue 10): every role against every route in `allRoutes` (so a route added later is
 * covered without touching this file), bad tokens of every kind at the gateway, claims the handler
 * must refuse, "not found" that never reveals whether something exists, and path parameters that
 * look like path traversal.
 */
import { request as httpRequest } from 'node:http';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allRoutes } from '../../functions/api/routes/index.js';
import { LOCAL_AUDIENCE, LOCAL_ISSUER, signingKey } from '../../local/tokens.js';
import { can, ROLES, type Role } from '../../shared/domain/access.js';
import type { RouteDef } from '../../functions/api/http.js';
import { startTestService, type TestResponse, type TestService } from '../integration/harness.js';
import { returnCsv, upnFor } from '../support/returns.js';
import { inPool, problemFault } from './support.js';

const A = '123456';
const B = '654321';
/** P1 is looked after (the Virtual School sees them); P2 is not; P3 is at school B. */
const P1 = upnFor(1);
const P2 = upnFor(2);
const P3 = upnFor(3, '999', '3001');
const NO_PUPIL = upnFor(99, '999', '9999');
const NO_RETURN = 'r0000000000000000000000';
const NO_REFERRAL = 'ref000000000000000000000';

let svc: TestService;
const tokens: Partial<Record<Role | 'schoolB', string>> = {};
let returnOfA: string;
let referralOfA: string;

beforeAll(async () => {
  svc = await startTestService();
  for (const role of ROLES) tokens[role] = await svc.token(role, role === 'school' ? { urn: A } : {});
  tokens.schoolB = await svc.token('school', { urn: B });
  const rows = (urn: string, upn: string, cla: string) =>
    ['2025-09-15', '2025-09-16'].map((date) => ({
      urn,
      upn,
      date,
      am: 'N',
      pm: '/',
      cla,
      forename: 'Test',
      surname: 'Pupil',
    }));
  const a = await svc.request('POST', '/v1/returns', {
    token: tokens.school,
    body: returnCsv([...rows(A, P1, 'Y'), ...rows(A, P2, 'N')]),
  });
  returnOfA = a.json().returnId;
  await svc.request('POST', '/v1/returns', { token: tokens.schoolB, body: returnCsv(rows(B, P3, 'N')) });
  await svc.settle();
  const ref = await svc.request('POST', '/v1/referrals', {
    token: tokens.la_officer,
    body: { upn: P2, urn: A, type: 'persistent_absence', reason: 'access test' },
  });
  expect(ref.status).toBe(201);
  referralOfA = ref.json().id;
}, 120_000);
afterAll(async () => svc?.stop());

// ---- Every role against every route ---------------------------------------------------------------

type Outcome = 'allowed' | 'forbidden' | 'hidden';
type Who = Role;

interface Call {
  path: string;
  body?: unknown;
  contentType?: string;
  headers?: Record<string, string>;
}

/**
 * For each known route: the request (side-effect free where it can be: bodies that fail validation
 * once past the access check) and the outcome for each role, per docs/design.md §4. The school token is
 * school A's; the ids are school A's return, pupil P2 (not looked after) and a referral about P2.
 */
const TABLE: Record<string, { call: () => Call; expect: Record<Who, Outcome> }> = {
  'GET /health': {
    call: () => ({ path: '/health' }),
    expect: { school: 'allowed', la_officer: 'allowed', vsh: 'allowed', admin: 'allowed' },
  },
  'GET /openapi.json': {
    call: () => ({ path: '/openapi.json' }),
    expect: { school: 'allowed', la_officer: 'allowed', vsh: 'allowed', admin: 'allowed' },
  },
  'GET /docs': {
    call: () => ({ path: '/docs' }),
    expect: { school: 'allowed', la_officer: 'allowed', vsh: 'allowed', admin: 'allowed' },
  },
  'POST /v1/returns': {
    call: () => ({ path: '/v1/returns', body: 'x', contentType: 'text/plain' }),
    expect: { school: 'allowed', la_officer: 'allowed', vsh: 'allowed', admin: 'forbidden' },
  },
  'POST /v1/returns/uploads': {
    call: () => ({ path: '/v1/returns/uploads', body: {} }),
    expect: { school: 'allowed', la_officer: 'allowed', vsh: 'allowed', admin: 'forbidden' },
  },
  'GET /v1/returns/{returnId}': {
    call: () => ({ path: `/v1/returns/${returnOfA}` }),
    expect: { school: 'allowed', la_officer: 'allowed', vsh: 'hidden', admin: 'forbidden' },
  },
  'GET /v1/returns': {
    call: () => ({ path: `/v1/returns?urn=${A}` }),
    expect: { school: 'allowed', la_officer: 'allowed', vsh: 'hidden', admin: 'forbidden' },
  },
  'GET /v1/pupils/{upn}': {
    call: () => ({ path: `/v1/pupils/${P2}?academicYear=2025` }),
    expect: { school: 'allowed', la_officer: 'allowed', vsh: 'hidden', admin: 'forbidden' },
  },
  'GET /v1/pupils/{upn}/sessions': {
    call: () => ({ path: `/v1/pupils/${P2}/sessions?from=2025-09-01&to=2025-09-30` }),
    expect: { school: 'allowed', la_officer: 'allowed', vsh: 'hidden', admin: 'forbidden' },
  },
  'GET /v1/pupils': {
    call: () => ({ path: '/v1/pupils?flag=severe_absence&from=2025-08-01&to=2026-07-31' }),
    expect: { school: 'allowed', la_officer: 'allowed', vsh: 'allowed', admin: 'forbidden' },
  },
  'GET /v1/metrics': {
    call: () => ({ path: '/v1/metrics?from=2025-08-01&to=2026-07-31' }),
    expect: { school: 'allowed', la_officer: 'allowed', vsh: 'allowed', admin: 'forbidden' },
  },
  'GET /v1/schools': {
    call: () => ({ path: '/v1/schools' }),
    expect: { school: 'allowed', la_officer: 'allowed', vsh: 'allowed', admin: 'allowed' },
  },
  'GET /v1/schools/{urn}': {
    call: () => ({ path: `/v1/schools/${A}` }),
    expect: { school: 'allowed', la_officer: 'allowed', vsh: 'allowed', admin: 'allowed' },
  },
  // Unresolved N names pupils: the school sees its own list, an LA officer any school's (issue 22).
  'GET /v1/schools/{urn}/unresolved-n': {
    call: () => ({ path: `/v1/schools/${A}/unresolved-n` }),
    expect: { school: 'allowed', la_officer: 'allowed', vsh: 'forbidden', admin: 'forbidden' },
  },
  // Unpaid penalty notices name parents: LA officers only.
  'GET /v1/penalty-notices/unpaid': {
    call: () => ({ path: '/v1/penalty-notices/unpaid' }),
    expect: { school: 'forbidden', la_officer: 'allowed', vsh: 'forbidden', admin: 'forbidden' },
  },
  'POST /v1/calendars': {
    call: () => ({ path: '/v1/calendars', body: '', contentType: 'text/csv' }),
    expect: { school: 'forbidden', la_officer: 'forbidden', vsh: 'forbidden', admin: 'allowed' },
  },
  'GET /v1/calendars': {
    call: () => ({ path: '/v1/calendars' }),
    expect: { school: 'forbidden', la_officer: 'forbidden', vsh: 'forbidden', admin: 'allowed' },
  },
  'POST /v1/schools': {
    call: () => ({ path: '/v1/schools', contentType: 'text/csv' }),
    expect: { school: 'forbidden', la_officer: 'forbidden', vsh: 'forbidden', admin: 'allowed' },
  },
  'POST /v1/cohorts': {
    call: () => ({ path: '/v1/cohorts', contentType: 'text/csv' }),
    expect: { school: 'forbidden', la_officer: 'allowed', vsh: 'forbidden', admin: 'allowed' },
  },
  'POST /v1/schools/uploads': {
    call: () => ({ path: '/v1/schools/uploads', body: {} }),
    expect: { school: 'forbidden', la_officer: 'forbidden', vsh: 'forbidden', admin: 'allowed' },
  },
  'POST /v1/cohorts/uploads': {
    call: () => ({ path: '/v1/cohorts/uploads', body: {} }),
    expect: { school: 'forbidden', la_officer: 'allowed', vsh: 'forbidden', admin: 'allowed' },
  },
  'GET /v1/audit': {
    call: () => ({ path: '/v1/audit' }),
    expect: { school: 'forbidden', la_officer: 'forbidden', vsh: 'forbidden', admin: 'allowed' },
  },
  'GET /v1/virtual-school/pupils': {
    call: () => ({ path: '/v1/virtual-school/pupils?academicYear=2025' }),
    expect: { school: 'forbidden', la_officer: 'allowed', vsh: 'allowed', admin: 'forbidden' },
  },
  'GET /v1/virtual-school/alerts': {
    call: () => ({ path: '/v1/virtual-school/alerts?date=2025-09-16' }),
    expect: { school: 'forbidden', la_officer: 'allowed', vsh: 'allowed', admin: 'forbidden' },
  },
  'GET /v1/virtual-school/pupils/{upn}/pep-summary': {
    call: () => ({ path: `/v1/virtual-school/pupils/${P1}/pep-summary?academicYear=2025` }),
    expect: { school: 'forbidden', la_officer: 'allowed', vsh: 'allowed', admin: 'forbidden' },
  },
  'POST /v1/referrals': {
    call: () => ({ path: '/v1/referrals', body: {} }),
    expect: { school: 'allowed', la_officer: 'allowed', vsh: 'allowed', admin: 'forbidden' },
  },
  'GET /v1/referrals': {
    call: () => ({ path: '/v1/referrals' }),
    expect: { school: 'allowed', la_officer: 'allowed', vsh: 'allowed', admin: 'forbidden' },
  },
  'GET /v1/referrals/suggestions': {
    call: () => ({ path: '/v1/referrals/suggestions?academicYear=2025' }),
    expect: { school: 'allowed', la_officer: 'allowed', vsh: 'allowed', admin: 'forbidden' },
  },
  'GET /v1/referrals/{id}': {
    call: () => ({ path: `/v1/referrals/${referralOfA}` }),
    expect: { school: 'allowed', la_officer: 'allowed', vsh: 'hidden', admin: 'forbidden' },
  },
  // A referrer may only withdraw; an empty change is "working the case", which only the LA's officers do.
  'PATCH /v1/referrals/{id}': {
    call: () => ({ path: `/v1/referrals/${referralOfA}`, body: {}, headers: { 'if-match': '"999"' } }),
    expect: { school: 'forbidden', la_officer: 'allowed', vsh: 'hidden', admin: 'forbidden' },
  },
  // A referrer may add a note (the stale If-Match keeps it from being written).
  'POST /v1/referrals/{id}/events': {
    call: () => ({
      path: `/v1/referrals/${referralOfA}/events`,
      body: { kind: 'note', text: 'hello' },
      headers: { 'if-match': '"999"' },
    }),
    expect: { school: 'allowed', la_officer: 'allowed', vsh: 'hidden', admin: 'forbidden' },
  },
};

const key = (def: RouteDef) => `${def.method} ${def.path}`;

/** A route not in TABLE: path parameters filled with well-formed ids of nothing; roles from its capability. */
function fallback(def: RouteDef): { call: () => Call; expect: Record<Who, Outcome | 'capable'> } {
  const path = def.path
    .replace(/\{upn\}/g, NO_PUPIL)
    .replace(/\{urn\}/g, '999999')
    .replace(/\{[^}]+\}/g, 'x0000000000');
  const expectFor = (role: Role): Outcome | 'capable' =>
    def.access === 'public' || def.access === 'any' || can({ sub: 's', role, la: '999', urn: A }, def.access)
      ? 'capable'
      : 'forbidden';
  return {
    call: () => ({ path }),
    expect: {
      school: expectFor('school'),
      la_officer: expectFor('la_officer'),
      vsh: expectFor('vsh'),
      admin: expectFor('admin'),
    },
  };
}

function send(def: RouteDef, call: Call, token?: string): Promise<TestResponse> {
  return svc.request(def.method, call.path, {
    token,
    body: call.body,
    contentType: call.contentType,
    headers: call.headers,
  });
}

describe('every role against every route', () => {
  it('has an expectation for every route it names that still exists (routes added later are checked from their capability)', () => {
    expect(Object.keys(TABLE).filter((k) => !allRoutes.some((d) => key(d) === k))).toEqual([]);
    // Every capability a route names is one the access rules know, so `can` decides it for some role.
    for (const def of allRoutes.filter((d) => d.access !== 'public' && d.access !== 'any')) {
      expect([key(def), ROLES.some((role) => can({ sub: 's', role, la: '999', urn: A }, def.access as never))]).toEqual(
        [key(def), true],
      );
    }
  });

  for (const role of ROLES) {
    it(`${role}: allowed where docs/design.md §4 allows, 403 where the role may not, 404 for what is outside its scope`, async () => {
      const faults: string[] = [];
      await inPool(allRoutes, 4, async (def) => {
        const entry: { call: () => Call; expect: Record<Who, Outcome | 'capable'> } = TABLE[key(def)] ?? fallback(def);
        const res = await send(def, entry.call(), tokens[role]);
        const want = entry.expect[role];
        const got =
          res.status === 403
            ? 'forbidden'
            : res.status === 404
              ? 'hidden'
              : res.status === 401
                ? 'unauthenticated'
                : res.status >= 500
                  ? `error ${res.status}`
                  : 'allowed';
        // A route without a table entry: the capability check must hold; past it, any non-error answer.
        const ok = want === 'capable' ? got === 'allowed' || got === 'hidden' || got === 'forbidden' : got === want;
        if (!ok) faults.push(`${key(def)}: expected ${want}, got ${res.status} ${res.text.slice(0, 120)}`);
        else if (def.method === 'GET' && want === 'allowed' && res.status !== 200)
          faults.push(`${key(def)}: allowed GET answered ${res.status}`);
        else if (res.status >= 400 && problemFault(res)) faults.push(`${key(def)}: ${problemFault(res)}`);
      });
      expect(faults).toEqual([]);
    });
  }

  it('without a token: 401 on every route but the public ones, which answer 200', async () => {
    const faults: string[] = [];
    await inPool(allRoutes, 4, async (def) => {
      const res = await send(def, (TABLE[key(def)] ?? fallback(def)).call());
      const want = def.access === 'public' ? 200 : 401;
      if (res.status !== want) faults.push(`${key(def)}: ${res.status}`);
      if (want === 401 && res.headers['www-authenticate'] !== 'Bearer')
        faults.push(`${key(def)}: no WWW-Authenticate: Bearer`);
    });
    expect(faults).toEqual([]);
  });

  it('never lets the admin role (service administration) read pupil-level data', async () => {
    const pupilLevel = allRoutes.filter((d) => /\/pupils|\/referrals|\/virtual-school/.test(d.path));
    expect(pupilLevel.length).toBeGreaterThan(5);
    for (const def of pupilLevel) {
      const res = await send(def, (TABLE[key(def)] ?? fallback(def)).call(), tokens.admin);
      expect([key(def), res.status]).toEqual([key(def), 403]);
    }
  });
});

// ---- Tokens ---------------------------------------------------------------------------------------

const b64url = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

interface Claims {
  role?: string;
  la?: string;
  urn?: string;
  sub?: string;
  iss?: string;
  aud?: string;
  exp?: number | null;
  nbf?: number;
}

/** A token signed with the service's key (or `key`), claims as given; exp defaults to an hour ahead. */
async function signed(c: Claims, options: { key?: Uint8Array; alg?: 'HS256' | 'HS512' } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const { iss = LOCAL_ISSUER, aud = LOCAL_AUDIENCE, exp = now + 3600, sub = 'tester', nbf, ...rest } = c;
  const jwt = new SignJWT({ ...rest })
    .setProtectedHeader({ alg: options.alg ?? 'HS256', typ: 'JWT' })
    .setIssuer(iss)
    .setAudience(aud)
    .setSubject(sub)
    .setIssuedAt();
  if (exp !== null) jwt.setExpirationTime(exp);
  if (nbf !== undefined) jwt.setNotBefore(nbf);
  return jwt.sign(options.key ?? signingKey(svc.dataDir));
}

describe('tokens the gateway must refuse (401, one answer for every reason)', () => {
  const now = () => Math.floor(Date.now() / 1000);
  const officer = { role: 'la_officer', la: '999' };
  const cases: Array<[string, () => Promise<string> | string]> = [
    ['expired a minute ago', () => signed({ ...officer, exp: now() - 60 })],
    ['not valid for another hour (nbf)', () => signed({ ...officer, nbf: now() + 3600 })],
    ['with no expiry at all', () => signed({ ...officer, exp: null })],
    [
      'with its signature changed',
      async () => {
        const t = await signed(officer);
        const sig = t.split('.')[2];
        return `${t.slice(0, t.lastIndexOf('.') + 1)}${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`;
      },
    ],
    [
      'with its claims changed (school → admin) under the old signature',
      async () => {
        const [h, , s] = (await signed({ role: 'school', la: '999', urn: A })).split('.');
        return `${h}.${b64url({ role: 'admin', la: '999', sub: 'tester', iss: LOCAL_ISSUER, aud: LOCAL_AUDIENCE, exp: now() + 3600 })}.${s}`;
      },
    ],
    ['from another issuer', () => signed({ ...officer, iss: 'https://evil.example' })],
    ['for another audience', () => signed({ ...officer, aud: 'some-other-api' })],
    [
      'with alg "none" and no signature',
      () =>
        `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ ...officer, sub: 'tester', iss: LOCAL_ISSUER, aud: LOCAL_AUDIENCE, exp: now() + 3600 })}.`,
    ],
    ['signed with another key', () => signed(officer, { key: new Uint8Array(32).fill(7) })],
    ['signed with HS512 (an algorithm the authorizer does not accept)', () => signed(officer, { alg: 'HS512' })],
    ['that is not a JWT', () => 'not-a-jwt'],
    ['that is empty after "Bearer"', () => ''],
  ];

  for (const [name, make] of cases) {
    it(`refuses a token ${name} on every protected route`, async () => {
      const token = await make();
      const answers = new Set<string>();
      await inPool(
        allRoutes.filter((d) => d.access !== 'public'),
        6,
        async (def) => {
          const res = await svc.request(def.method, (TABLE[key(def)] ?? fallback(def)).call().path, {
            headers: { authorization: `Bearer ${token}` },
          });
          answers.add(`${res.status} ${res.text}`);
        },
      );
      expect([...answers]).toEqual(
        [
          '401 {"type":"https://attendance-hub.example/problems/unauthorized","title":"Unauthorized","status":401,"detail":"The bearer token is invalid, expired or not issued by this service."}',
        ]
          .filter(() => token !== '')
          .concat(
            token === ''
              ? [
                  '401 {"type":"https://attendance-hub.example/problems/unauthorized","title":"Unauthorized","status":401,"detail":"A bearer token is required: Authorization: Bearer <token>."}',
                ]
              : [],
          ),
      );
    });
  }

  it('refuses credentials that are not a bearer token (Basic, a token without the scheme)', async () => {
    const token = await signed(officer);
    for (const authorization of [
      `Basic ${Buffer.from('admin:admin').toString('base64')}`,
      token,
      `Bearer ${token} ${token}`,
    ]) {
      const res = await svc.request('GET', '/v1/schools', { headers: { authorization } });
      expect([authorization.slice(0, 12), res.status]).toEqual([authorization.slice(0, 12), 401]);
    }
  });
});

describe('valid signatures whose claims the service must refuse', () => {
  it('answers 403 on every protected route to a token for another local authority', async () => {
    const other = await svc.token('la_officer', { la: '998' });
    const faults: string[] = [];
    await inPool(
      allRoutes.filter((d) => d.access !== 'public'),
      6,
      async (def) => {
        const res = await send(def, (TABLE[key(def)] ?? fallback(def)).call(), other);
        if (res.status !== 403 || !/different local authority/.test(res.json().detail))
          faults.push(`${key(def)}: ${res.status}`);
      },
    );
    expect(faults).toEqual([]);
  });

  it('answers 401 to a token with no role, an unknown role, no LA or no subject', async () => {
    for (const claims of [
      { la: '999' },
      { role: 'superuser', la: '999' },
      { role: 'admin' },
      { role: 'admin', la: '999', sub: '' },
    ]) {
      const res = await svc.request('GET', '/v1/schools', { token: await signed(claims) });
      expect([JSON.stringify(claims), res.status]).toEqual([JSON.stringify(claims), 401]);
    }
  });

  it('answers 403 to a school token without a URN', async () => {
    const res = await svc.request('GET', '/v1/schools', { token: await signed({ role: 'school', la: '999' }) });
    expect(res.status).toBe(403);
    expect(res.json().detail).toMatch(/URN/);
  });
});

// ---- Not found, without revealing existence -------------------------------------------------------

describe('not found, identical whether the thing exists or not', () => {
  /** [who, the existing thing outside their scope, the same kind of thing that does not exist]. */
  const pairs = (): Array<[string, Role | 'schoolB', string, string, string?]> => [
    [
      "another school's pupil",
      'schoolB',
      `GET /v1/pupils/${P2}?academicYear=2025`,
      `GET /v1/pupils/${NO_PUPIL}?academicYear=2025`,
    ],
    [
      "another school's pupil's sessions",
      'schoolB',
      `GET /v1/pupils/${P2}/sessions?from=2025-09-01&to=2025-09-30`,
      `GET /v1/pupils/${NO_PUPIL}/sessions?from=2025-09-01&to=2025-09-30`,
    ],
    [
      'a pupil outside the Virtual School',
      'vsh',
      `GET /v1/pupils/${P2}?academicYear=2025`,
      `GET /v1/pupils/${NO_PUPIL}?academicYear=2025`,
    ],
    [
      'a PEP summary outside the Virtual School',
      'vsh',
      `GET /v1/virtual-school/pupils/${P2}/pep-summary?academicYear=2025`,
      `GET /v1/virtual-school/pupils/${NO_PUPIL}/pep-summary?academicYear=2025`,
    ],
    ["another school's return", 'schoolB', `GET /v1/returns/${returnOfA}`, `GET /v1/returns/${NO_RETURN}`],
    ['a return the Virtual School did not send', 'vsh', `GET /v1/returns/${returnOfA}`, `GET /v1/returns/${NO_RETURN}`],
    ["another school's referral", 'schoolB', `GET /v1/referrals/${referralOfA}`, `GET /v1/referrals/${NO_REFERRAL}`],
    [
      "a change to another school's referral",
      'schoolB',
      `PATCH /v1/referrals/${referralOfA}`,
      `PATCH /v1/referrals/${NO_REFERRAL}`,
      JSON.stringify({ status: 'withdrawn', reason: 'x' }),
    ],
    [
      "a note on another school's referral",
      'schoolB',
      `POST /v1/referrals/${referralOfA}/events`,
      `POST /v1/referrals/${NO_REFERRAL}/events`,
      JSON.stringify({ kind: 'note', text: 'x' }),
    ],
    [
      'a referral outside the Virtual School',
      'vsh',
      `GET /v1/referrals/${referralOfA}`,
      `GET /v1/referrals/${NO_REFERRAL}`,
    ],
    ["another school's record", 'schoolB', `GET /v1/schools/${A}`, 'GET /v1/schools/999999'],
    [
      "another school's unresolved N",
      'schoolB',
      `GET /v1/schools/${A}/unresolved-n`,
      'GET /v1/schools/999999/unresolved-n',
    ],
    ["another school's returns", 'schoolB', `GET /v1/returns?urn=${A}`, 'GET /v1/returns?urn=999999'],
    [
      "another school's metrics",
      'schoolB',
      `GET /v1/metrics?scope=school&urn=${A}`,
      'GET /v1/metrics?scope=school&urn=999999',
    ],
    [
      "another school's flagged pupils",
      'schoolB',
      `GET /v1/pupils?flag=severe_absence&urn=${A}`,
      'GET /v1/pupils?flag=severe_absence&urn=999999',
    ],
    ["another school's referrals", 'schoolB', `GET /v1/referrals?urn=${A}`, 'GET /v1/referrals?urn=999999'],
  ];

  it("gives the same 404 body for what exists outside the caller's scope as for what does not exist", async () => {
    const faults: string[] = [];
    for (const [what, who, existing, missing, body] of pairs()) {
      const go = async (line: string) => {
        const [method, path] = line.split(' ');
        return svc.request(method, path, {
          token: tokens[who],
          ...(body ? { body, contentType: 'application/json', headers: { 'if-match': '"1"' } } : {}),
        });
      };
      const [a, b] = [await go(existing), await go(missing)];
      if (
        a.status !== 404 ||
        b.status !== 404 ||
        a.text !== b.text ||
        a.headers['content-type'] !== b.headers['content-type']
      ) {
        faults.push(`${what} (${who}): ${a.status} ${a.text} vs ${b.status} ${b.text}`);
      }
    }
    expect(faults).toEqual([]);
  });
});

// ---- Path traversal and hostile ids ---------------------------------------------------------------

/** Send a raw request path (no URL normalisation by the client). */
function raw(method: string, path: string, token: string): Promise<{ status: number; text: string; type: string }> {
  const url = new URL(svc.url);
  return new Promise((resolve, reject) => {
    const body = method === 'GET' ? undefined : '{}';
    // A length, not chunks: Node's client sends a DELETE body with neither unless told, which no server can frame.
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          ...(body ? { 'content-length': String(body.length) } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            text: Buffer.concat(chunks).toString('utf8'),
            type: String(res.headers['content-type'] ?? ''),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const HOSTILE_IDS = [
  '..',
  '%2e%2e',
  '..%2f..%2fetc%2fpasswd',
  '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
  '..%5c..%5cwindows',
  '%252e%252e%252f',
  '....%2f%2f',
  '%00',
  'B801200005001%00',
  '%C0%AE%C0%AE%2F',
  "'%20OR%201=1--",
  '%3Cscript%3E',
  '%E2%80%AE',
  'A'.repeat(5000),
  '*',
  '%20',
];

describe('path parameters that look like traversal or injection', () => {
  const withParams = allRoutes.filter((d) => /\{[^}]+\}/.test(d.path));

  it(`answers every route with a path parameter (${withParams.length}) with a 4xx problem for each hostile id, never a 2xx or 500`, async () => {
    expect(withParams.length).toBeGreaterThanOrEqual(6);
    const jobs = withParams.flatMap((def) => HOSTILE_IDS.map((id) => ({ def, id })));
    const faults: string[] = [];
    await inPool(jobs, 6, async ({ def, id }) => {
      const token =
        can({ sub: 's', role: 'la_officer', la: '999' }, def.access as never) || def.access === 'public'
          ? tokens.la_officer!
          : tokens.admin!;
      const path = def.path.replace(/\{[^}]+\}/g, id);
      const res = await raw(def.method, path, token);
      if (res.status < 400 || res.status >= 500) faults.push(`${def.method} ${path.slice(0, 80)}: ${res.status}`);
      else if (!res.type.startsWith('application/problem+json'))
        faults.push(`${def.method} ${path.slice(0, 80)}: ${res.type}`);
      else if (/root:.*:0:0:|\/work\/|node_modules|\n\s+at\s/.test(res.text))
        faults.push(`${def.method} ${path.slice(0, 80)}: leaks ${res.text.slice(0, 200)}`);
    });
    expect(faults).toEqual([]);
  });

  it('refuses forged paging cursors with 400', async () => {
    for (const cursor of [
      '..%2f..',
      Buffer.from('{"o":-1}').toString('base64url'),
      Buffer.from('{"o":"1e9"}').toString('base64url'),
      'A'.repeat(2001),
      '%00',
    ]) {
      const res = await svc.request('GET', `/v1/pupils?flag=severe_absence&cursor=${cursor}`, {
        token: tokens.la_officer,
      });
      expect([cursor.slice(0, 20), res.status]).toEqual([cursor.slice(0, 20), 400]);
    }
  });
});

// ---- Audit: every pupil-level read and every write leaves an entry --------------------------------

/** Reads of pupil-level data: everything about pupils, referrals, the Virtual School, a return's row errors, the audit log. */
const isPupilLevelRead = (def: RouteDef) =>
  def.method === 'GET' && /\/pupils|\/referrals|\/virtual-school|\/returns\/\{|\/audit/.test(def.path);

/** A write each route accepts (2xx), with the role that may make it. */
const WRITES: Record<string, { role: Role; call: () => Promise<Call> | Call }> = {
  'POST /v1/returns': {
    role: 'school',
    call: () => ({
      path: '/v1/returns',
      body: returnCsv([{ urn: A, upn: P1, date: '2025-09-17', am: '/', pm: '/' }]),
      contentType: 'text/csv',
    }),
  },
  'POST /v1/returns/uploads': {
    role: 'school',
    call: () => ({ path: '/v1/returns/uploads', body: { urn: A, format: 'csv', bytes: 100 } }),
  },
  'POST /v1/calendars': {
    role: 'admin',
    call: () => ({
      path: '/v1/calendars',
      body: 'start_date,end_date,label,urn\n2025-10-27,2025-10-31,Half term,\n',
      contentType: 'text/csv',
    }),
  },
  'POST /v1/schools': {
    role: 'admin',
    call: () => ({
      path: '/v1/schools',
      contentType: 'text/csv',
      body: 'URN,LA (code),EstablishmentNumber,EstablishmentName,PhaseOfEducation (name),TypeOfEstablishment (name),EstablishmentStatus (name)\n123456,999,2001,School A,Primary,Community school,Open\n',
    }),
  },
  'POST /v1/cohorts': {
    role: 'la_officer',
    call: () => ({
      path: '/v1/cohorts',
      body: `upn,cohort,start_date,end_date\n${P1},cla,2025-09-01,\n`,
      contentType: 'text/csv',
    }),
  },
  'POST /v1/schools/uploads': {
    role: 'admin',
    call: () => ({ path: '/v1/schools/uploads', body: { contentType: 'text/csv', bytes: 100 } }),
  },
  'POST /v1/cohorts/uploads': {
    role: 'la_officer',
    call: () => ({ path: '/v1/cohorts/uploads', body: { contentType: 'text/csv', bytes: 100 } }),
  },
  'POST /v1/referrals': {
    role: 'school',
    call: () => ({ path: '/v1/referrals', body: { upn: P1, urn: A, type: 'other', reason: 'audit test' } }),
  },
  'POST /v1/patterns/runs': { role: 'admin', call: () => ({ path: '/v1/patterns/runs', body: {} }) },
  // School B names A's pupil with a name the record does not hold: the rows wait for the LA, who rejects them.
  'POST /v1/identity-reviews/{reviewId}': {
    role: 'la_officer',
    call: async () => {
      const sent = await svc.request('POST', '/v1/returns', {
        token: tokens.schoolB,
        body: returnCsv([
          {
            urn: B,
            upn: P2,
            date: '2025-09-18',
            am: 'O',
            pm: 'O',
            forename: 'Not',
            surname: 'Them',
            dob: '2015-01-01',
          },
        ]),
      });
      expect(sent.status).toBe(202);
      await svc.settle();
      const pending = (
        await svc.request('GET', '/v1/identity-reviews?status=pending', { token: tokens.la_officer })
      ).json().items;
      const review = pending.find((r: { urn: string; upn: string }) => r.urn === B && r.upn === P2);
      return { path: `/v1/identity-reviews/${review.reviewId}`, body: { decision: 'reject' } };
    },
  },
  'PUT /v1/me/notification-preferences': {
    role: 'vsh',
    call: () => ({ path: '/v1/me/notification-preferences', body: { preferences: { vsh_unmarked: 'off' } } }),
  },
  'PUT /v1/people/{sub}': {
    role: 'admin',
    call: () => ({ path: '/v1/people/officer-audit', body: { email: 'officer@la.example', role: 'la_officer' } }),
  },
  'DELETE /v1/people/{sub}': {
    role: 'admin',
    call: async () => {
      expect(
        (
          await svc.request('PUT', '/v1/people/to-delete', {
            token: tokens.admin,
            body: { email: 'gone@la.example', role: 'vsh' },
          })
        ).status,
      ).toBe(200);
      return { path: '/v1/people/to-delete' };
    },
  },
  'PATCH /v1/referrals/{id}': {
    role: 'la_officer',
    call: async () => {
      const version = (await svc.request('GET', `/v1/referrals/${referralOfA}`, { token: tokens.la_officer })).json()
        .version;
      return {
        path: `/v1/referrals/${referralOfA}`,
        body: { priority: 'high' },
        headers: { 'if-match': `"${version}"` },
      };
    },
  },
  'POST /v1/referrals/{id}/events': {
    role: 'la_officer',
    call: async () => {
      const version = (await svc.request('GET', `/v1/referrals/${referralOfA}`, { token: tokens.la_officer })).json()
        .version;
      return {
        path: `/v1/referrals/${referralOfA}/events`,
        body: { kind: 'note', text: 'audited' },
        headers: { 'if-match': `"${version}"` },
      };
    },
  },
};

describe('audit: who read or changed what, for every route', () => {
  let n = 0;
  /** A token for `role` whose subject is used by nothing else, so its audit entries are this call's. */
  const freshToken = async (role: Role) =>
    svc
      .token(role, { sub: `audit-probe-${++n}`, ...(role === 'school' ? { urn: A } : {}) })
      .then((t) => ({ t, sub: `audit-probe-${n}` }));
  const entriesOf = async (sub: string) =>
    (await svc.request('GET', `/v1/audit?user=${sub}&limit=100`, { token: tokens.admin })).json().items as Array<{
      action: string;
      outcome: string;
      role: string;
      upn?: string;
    }>;

  it('records every pupil-level read that answers 200, with who, role, what and outcome', async () => {
    const faults: string[] = [];
    for (const def of allRoutes.filter(isPupilLevelRead)) {
      const entry = TABLE[key(def)];
      const role = (['la_officer', 'vsh', 'admin', 'school'] as const).find((r) =>
        entry ? entry.expect[r] === 'allowed' : can({ sub: 's', role: r, la: '999', urn: A }, def.access as never),
      );
      if (!role) continue;
      const { t, sub } = await freshToken(role);
      const res = await send(def, (entry ?? fallback(def)).call(), t);
      if (res.status !== 200) {
        if (entry) faults.push(`${key(def)}: ${res.status}`);
        continue;
      }
      const entries = await entriesOf(sub);
      if (!entries.some((e) => e.role === role && e.outcome === 'ok' && e.action))
        faults.push(`${key(def)}: no audit entry (${JSON.stringify(entries)})`);
    }
    expect(faults).toEqual([]);
  });

  it("records reads of a pupil, a return or a referral outside the caller's scope as not_found", async () => {
    const hidden: Array<[Role, string]> = [
      ['vsh', `/v1/pupils/${P2}?academicYear=2025`],
      ['vsh', `/v1/pupils/${P2}/sessions?from=2025-09-01&to=2025-09-30`],
      ['vsh', `/v1/returns/${returnOfA}`],
      ['vsh', `/v1/referrals/${referralOfA}`],
      ['vsh', `/v1/virtual-school/pupils/${P2}/pep-summary`],
    ];
    for (const [role, path] of hidden) {
      const { t, sub } = await freshToken(role);
      expect([path, (await svc.request('GET', path, { token: t })).status]).toEqual([path, 404]);
      expect([path, (await entriesOf(sub)).map((e) => e.outcome)]).toEqual([path, ['not_found']]);
    }
  });

  it('records every write, accepted or refused for its content', async () => {
    const faults: string[] = [];
    for (const def of allRoutes.filter((d) => d.method !== 'GET')) {
      const write = WRITES[key(def)];
      if (!write) {
        faults.push(`${key(def)}: no accepted write known for this route; add one to WRITES`);
        continue;
      }
      const { t, sub } = await freshToken(write.role);
      const res = await send(def, await write.call(), t);
      if (res.status >= 300)
        faults.push(`${key(def)}: the write was not accepted (${res.status} ${res.text.slice(0, 150)})`);
      else if ((await entriesOf(sub)).length === 0)
        faults.push(`${key(def)}: accepted (${res.status}) but not audited`);
    }
    // Files refused for their content are audited too.
    for (const [path, contentType, role] of [
      ['/v1/returns', 'text/csv', 'school'],
      ['/v1/cohorts', 'text/csv', 'la_officer'],
      ['/v1/schools', 'text/csv', 'admin'],
      ['/v1/calendars', 'text/csv', 'admin'],
    ] as const) {
      const { t, sub } = await freshToken(role);
      const res = await svc.request('POST', path, { token: t, body: 'not,a,known\nfile,at,all\n', contentType });
      const entries = await entriesOf(sub);
      if (res.status < 400 || !entries.some((e) => e.outcome.startsWith('rejected')))
        faults.push(`POST ${path} refused file: ${res.status}, audit ${JSON.stringify(entries)}`);
    }
    expect(faults).toEqual([]);
  });

  it('records a refusal by the access rules (403) as `denied`, with the route tried', async () => {
    for (const [role, method, path] of [
      ['school', 'GET', '/v1/audit'],
      ['admin', 'GET', `/v1/pupils/${P2}`],
      ['la_officer', 'POST', '/v1/schools'],
    ] as const) {
      const { t, sub } = await freshToken(role);
      expect((await svc.request(method, path, { token: t })).status).toBe(403);
      expect(await entriesOf(sub)).toEqual([expect.objectContaining({ action: 'denied', outcome: 'forbidden', role })]);
    }
  });

  it('records reading the audit log itself', async () => {
    const { t, sub } = await freshToken('admin');
    await svc.request('GET', `/v1/audit?upn=${P2}`, { token: t });
    expect(await entriesOf(sub)).toEqual([expect.objectContaining({ action: 'read_audit', upn: P2 })]);
  });
});
