/**
 * Referral searches keyed on a facet (issue 17): a search reads the partition of the most selective
 * facet it names — a pupil, a school, an assignee, a status or a type — and the caller's scope is
 * still applied to every entry read. A school naming another school's pupil, officer, status or type
 * sees none of that school's cases; the Virtual School naming a pupil outside its cohorts sees
 * nothing; a cursor from one search (or one caller's scope) is refused by another.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../integration/harness.js';
import { returnCsv, upnFor } from '../support/returns.js';

const A = '123456';
const B = '654321';
/** P1 at A is looked after; P2 at A is not; P3 at B is not. */
const P1 = upnFor(1);
const P2 = upnFor(2);
const P3 = upnFor(3, '999', '3001');

let svc: TestService;
let officer: string;
let schoolA: string;
let schoolB: string;
let vsh: string;
const ids: Record<string, string> = {};

const search = async (query: string, token: string) => {
  const res = await svc.request('GET', `/v1/referrals?${query}`, { token });
  return { status: res.status, body: res.status === 200 ? res.json() : res.text };
};
const idsOf = (body: { items: Array<{ id: string }> }) => body.items.map((i) => i.id).sort();

beforeAll(async () => {
  svc = await startTestService();
  officer = await svc.token('la_officer', { sub: 'officer-1' });
  schoolA = await svc.token('school', { urn: A, sub: 'school-a' });
  schoolB = await svc.token('school', { urn: B, sub: 'school-b' });
  vsh = await svc.token('vsh', { sub: 'vsh-1' });
  const rows = (urn: string, upn: string, cla: string) =>
    ['2025-09-15', '2025-09-16'].map((date) => ({
      urn,
      upn,
      date,
      am: 'N',
      pm: '/',
      cla,
      forename: 'T',
      surname: 'P',
    }));
  await svc.request('POST', '/v1/returns', {
    token: schoolA,
    body: returnCsv([...rows(A, P1, 'Y'), ...rows(A, P2, 'N')]),
  });
  await svc.request('POST', '/v1/returns', { token: schoolB, body: returnCsv(rows(B, P3, 'N')) });
  await svc.settle();
  for (const [name, upn, urn] of [
    ['p1', P1, A],
    ['p2', P2, A],
    ['p3', P3, B],
  ]) {
    const res = await svc.request('POST', '/v1/referrals', {
      token: officer,
      body: { upn, urn, type: 'persistent_absence', reason: 'search hardening' },
    });
    expect(res.status).toBe(201);
    ids[name] = res.json().id;
  }
  // P2's case at A triaged and allocated to officer-2 (so an assignee search has something to find).
  for (const [v, body] of [
    ['"1"', { status: 'triaged' }],
    ['"2"', { status: 'allocated', assignee: 'officer-2' }],
  ] as const) {
    const res = await svc.request('PATCH', `/v1/referrals/${ids.p2}`, {
      token: officer,
      body,
      headers: { 'if-match': v },
    });
    expect(res.status).toBe(200);
  }
}, 120_000);
afterAll(async () => svc?.stop());

describe('referral search by facet keeps to the caller', () => {
  it("finds none of another school's cases, whatever facet the school names", async () => {
    for (const q of [
      `upn=${P2}`,
      `upn=${P1}`,
      'assignee=officer-2',
      'status=allocated',
      'type=persistent_absence',
      'overdue=false',
      '',
    ]) {
      const res = await search(q, schoolB);
      expect(res.status, q).toBe(200);
      expect(idsOf(res.body), q).toEqual(
        q.startsWith('upn') || q.startsWith('assignee') || q === 'status=allocated' ? [] : [ids.p3],
      );
    }
    // Naming the other school outright is a 404, as before.
    expect((await search(`urn=${A}&upn=${P2}`, schoolB)).status).toBe(404);
    // The school's own pupil, by UPN: its own case.
    expect(idsOf((await search(`upn=${P3}`, schoolB)).body)).toEqual([ids.p3]);
    expect(idsOf((await search('assignee=officer-2', schoolA)).body)).toEqual([ids.p2]);
  });

  it('shows the Virtual School only the looked-after child, whatever facet it names', async () => {
    expect(idsOf((await search(`upn=${P2}`, vsh)).body)).toEqual([]);
    expect(idsOf((await search(`upn=${P3}`, vsh)).body)).toEqual([]);
    expect(idsOf((await search('assignee=officer-2', vsh)).body)).toEqual([]);
    expect(idsOf((await search(`urn=${A}`, vsh)).body)).toEqual([ids.p1]);
    expect(idsOf((await search('status=submitted', vsh)).body)).toEqual([ids.p1]);
    expect(idsOf((await search(`upn=${P1}`, vsh)).body)).toEqual([ids.p1]);
  });

  it("refuses a cursor from another search or another caller's scope", async () => {
    const first = await search('type=persistent_absence&limit=1', officer);
    expect(first.status).toBe(200);
    const cursor = encodeURIComponent(first.body.nextCursor);
    expect(first.body.nextCursor).toBeTruthy();
    expect((await search(`type=persistent_absence&limit=1&cursor=${cursor}`, officer)).status).toBe(200);
    // Another facet key, the same caller.
    expect((await search(`status=submitted&limit=1&cursor=${cursor}`, officer)).status).toBe(400);
    expect((await search(`upn=${P1}&limit=1&cursor=${cursor}`, officer)).status).toBe(400);
    // The same query from a school: its scope adds the school, so the cursor is not its query's.
    expect((await search(`type=persistent_absence&limit=1&cursor=${cursor}`, schoolB)).status).toBe(400);
  });
});
