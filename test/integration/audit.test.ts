/** The audit log: every pupil-level read and every write is recorded, and only admins can read it. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from './harness.js';
import { returnCsv, upnFor } from '../support/returns.js';

const URN = '123456';
let svc: TestService;
let admin: string;
let officer: string;
let school: string;
const upn = upnFor(7);

beforeAll(async () => {
  svc = await startTestService();
  admin = await svc.token('admin', { sub: 'admin-1' });
  officer = await svc.token('la_officer', { sub: 'officer-1' });
  school = await svc.token('school', { urn: URN, sub: 'school-office-1' });
  await svc.request('POST', '/v1/returns', {
    token: school,
    body: returnCsv([{ urn: URN, upn, date: '2025-09-01', am: '/', pm: 'N' }]),
  });
  await svc.settle();
  await svc.request('GET', `/v1/pupils/${upn}?academicYear=2025`, { token: officer });
  await svc.request('GET', `/v1/pupils/${upnFor(8)}?academicYear=2025`, { token: officer });
});
afterAll(async () => svc?.stop());

describe('audit log', () => {
  it('records the upload and each pupil read with who, role, what, when and outcome', async () => {
    const res = await svc.request('GET', '/v1/audit', { token: admin });
    expect(res.status).toBe(200);
    const items = res.json().items as Array<Record<string, unknown>>;
    expect(items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          sub: 'school-office-1',
          role: 'school',
          action: 'upload_return',
          outcome: 'received',
          urn: URN,
        }),
        expect.objectContaining({ sub: 'officer-1', role: 'la_officer', action: 'read_pupil', upn, outcome: 'ok' }),
        expect.objectContaining({ sub: 'officer-1', action: 'read_pupil', upn: upnFor(8), outcome: 'not_found' }),
      ]),
    );
    expect(items.every((e) => typeof e.at === 'string')).toBe(true);
  });

  it('filters by pupil and by user', async () => {
    const byPupil = (await svc.request('GET', `/v1/audit?upn=${upn}`, { token: admin })).json().items;
    expect(byPupil.length).toBeGreaterThan(0);
    expect(byPupil.every((e: { upn: string }) => e.upn === upn)).toBe(true);
    const byUser = (await svc.request('GET', '/v1/audit?user=school-office-1', { token: admin })).json().items;
    expect(byUser.map((e: { action: string }) => e.action)).toEqual(['upload_return']);
  });

  it('finds every list read that returned a pupil, with its time and target, and pages them (issue 17)', async () => {
    const lister = await svc.token('la_officer', { sub: 'officer-lists' });
    const list = '/v1/pupils?flag=persistent_absence&from=2025-09-01&to=2025-09-30';
    for (let i = 0; i < 3; i++) {
      const res = await svc.request('GET', list, { token: lister });
      expect(res.json().items.map((p: { upn: string }) => p.upn)).toContain(upn);
    }
    const all = (await svc.request('GET', `/v1/audit?upn=${upn}&user=officer-lists`, { token: admin })).json();
    expect(all.items).toHaveLength(3);
    for (const e of all.items)
      expect(e).toMatchObject({ action: 'list_pupils', target: 'flag:persistent_absence', upn, count: 1 });
    expect(all.items.map((e: { at: string }) => e.at)).toEqual(
      all.items
        .map((e: { at: string }) => e.at)
        .sort()
        .reverse(),
    );
    const first = (
      await svc.request('GET', `/v1/audit?upn=${upn}&user=officer-lists&limit=2`, { token: admin })
    ).json();
    expect(first.items).toEqual(all.items.slice(0, 2));
    const second = await svc.request(
      'GET',
      `/v1/audit?upn=${upn}&user=officer-lists&limit=2&cursor=${first.nextCursor}`,
      {
        token: admin,
      },
    );
    expect(second.json()).toEqual({ items: all.items.slice(2), nextCursor: null });
    // The cursor is bound to the pupil it pages.
    const other = `/v1/audit?upn=${upnFor(8)}&user=officer-lists&cursor=${first.nextCursor}`;
    expect((await svc.request('GET', other, { token: admin })).status).toBe(400);
    // The read's own entry stays in the log by day and by user, once per read.
    const byUser = (await svc.request('GET', '/v1/audit?user=officer-lists', { token: admin })).json().items;
    expect(byUser.map((e: { action: string; count: number }) => [e.action, e.count])).toEqual([
      ['list_pupils', 1],
      ['list_pupils', 1],
      ['list_pupils', 1],
    ]);
  });

  it("files a list of more than a thousand pupils under each of them (an export's membership in parts)", async () => {
    const store = await import('../../shared/store/audit.js');
    const upns = Array.from({ length: 2 * store.AUDIT_LIST_PART + 5 }, (_, i) => upnFor(10_000 + i));
    const reader = { sub: 'officer-export', role: 'la_officer' } as const;
    await store.recordAuditOfPupils(
      reader,
      { action: 'list_pupils', target: 'flag:persistent_absence:csv', outcome: 'ok' },
      upns,
    );
    const today = new Date().toISOString().slice(0, 10);
    for (const upn of [upns[0], upns[store.AUDIT_LIST_PART], upns[upns.length - 1]]) {
      const found = await store.queryAudit({ from: today, to: today, upn, user: 'officer-export', limit: 10 });
      expect(found.items).toEqual([
        expect.objectContaining({ upn, count: upns.length, target: 'flag:persistent_absence:csv' }),
      ]);
    }
    // A pupil the export did not return finds nothing of it (a UPN is matched whole).
    const other = await store.queryAudit({
      from: today,
      to: today,
      upn: upnFor(9_999),
      user: 'officer-export',
      limit: 10,
    });
    expect(other.items).toEqual([]);
  });

  it('pages newest first with a cursor, and refuses a forged cursor', async () => {
    const first = (await svc.request('GET', '/v1/audit?limit=1', { token: admin })).json();
    expect(first.items).toHaveLength(1);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = (await svc.request('GET', `/v1/audit?limit=1&cursor=${first.nextCursor}`, { token: admin })).json();
    expect(second.items[0].at <= first.items[0].at).toBe(true);
    expect((await svc.request('GET', '/v1/audit?cursor=not-a-cursor', { token: admin })).status).toBe(400);
  });

  it('is for admins only', async () => {
    expect((await svc.request('GET', '/v1/audit', { token: officer })).status).toBe(403);
    expect((await svc.request('GET', '/v1/audit', { token: school })).status).toBe(403);
  });

  it('has no route that changes or deletes entries', async () => {
    for (const method of ['DELETE', 'PATCH', 'PUT', 'POST']) {
      expect((await svc.request(method, '/v1/audit', { token: admin })).status).toBe(405);
    }
  });
});
