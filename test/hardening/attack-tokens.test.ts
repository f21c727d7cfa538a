/**
 * An attacker's pass with VALID tokens (7 December 2026, evening; docs/security.md "Attacker's pass
 * with valid tokens"): each role's token used the way a hostile holder would — another caller's
 * cursor, another school's URN or a cohort as a list filter, a pupil who left the school, the
 * per-pupil audit across a day boundary, a case id about a child outside the caller's scope, ids of
 * other callers' things, hostile query strings and Accept headers. Real engines, as the other
 * hardening tests.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestService, type TestResponse, type TestService } from '../integration/harness.js';
import { returnCsv, upnFor, weekdays, type ReturnRowInput } from '../support/returns.js';
import { csvCells, isFormulaCell, problemFault } from './support.js';

const A = '123456';
const B = '654321';
/** At school A only, not looked after, absent (on every list). */
const Q = upnFor(3);
/** Left school A on 2025-09-19, then at school B from 2025-09-22, where the LA looks after them. */
const L = upnFor(4);
/** At school B only, not looked after. */
const R = upnFor(5);
const LEO = { forename: 'Leo', surname: 'Lane', dob: '2014-02-02' };
const WEEK1 = weekdays('2025-09-15', '2025-09-19');
const WEEK2 = weekdays('2025-09-22', '2025-09-26');
const PERIOD = 'from=2025-09-01&to=2025-09-30';
/** The whole academic year: the stored lists (a DynamoDB page). */
const YEAR = 'from=2025-08-01&to=2026-07-31';

let svc: TestService;
let officer: string;
let vsh: string;
let admin: string;
const school: Record<string, string> = {};

function rows(urn: string, upn: string, dates: readonly string[], extra: Record<string, string>, am = 'O', pm = 'O') {
  return dates.map((date): ReturnRowInput => ({ urn, upn, date, am, pm, ...extra }));
}

async function send(token: string, body: string): Promise<void> {
  const res = await svc.request('POST', '/v1/returns', { token, body });
  expect(res.status).toBe(202);
  await svc.settle();
  const status = (await svc.request('GET', `/v1/returns/${res.json().returnId}`, { token })).json();
  expect(status.status).toBe('accepted');
}

const get = (path: string, token: string, headers: Record<string, string> = {}) =>
  svc.request('GET', path, { token, headers });

/** Every URN a list answer names (its items' `urns` or `urn`). */
function urnsIn(res: TestResponse): string[] {
  const items = res.json().items as Array<{ urns?: string[]; urn?: string }>;
  return [...new Set(items.flatMap((i) => i.urns ?? (i.urn ? [i.urn] : [])))];
}

beforeAll(async () => {
  svc = await startTestService();
  [officer, vsh, admin] = await Promise.all([svc.token('la_officer'), svc.token('vsh'), svc.token('admin')]);
  for (const urn of [A, B]) school[urn] = await svc.token('school', { urn });
  await send(
    school[A],
    returnCsv([
      ...rows(A, Q, [...WEEK1, ...WEEK2], { forename: 'Quinn', surname: 'Quay', dob: '2014-05-05' }),
      ...rows(A, L, WEEK1, { ...LEO, leaving_date: '2025-09-19' }),
    ]),
  );
  await send(
    school[B],
    returnCsv([
      ...rows(B, L, WEEK2, { ...LEO, cla: 'Y', admission_date: '2025-09-22' }),
      ...rows(B, R, [...WEEK1, ...WEEK2], { forename: 'Rae', surname: 'Reed', dob: '2014-06-06' }),
    ]),
  );
}, 180_000);
afterAll(async () => svc?.stop());

describe('a cursor obtained by another caller', () => {
  it("gives a school nothing of another school's from an LA officer's GET /v1/schools cursor", async () => {
    const first = await get('/v1/schools?limit=1', officer);
    expect(first.status).toBe(200);
    expect(first.json().nextCursor).toEqual(expect.any(String));
    const replay = await get(`/v1/schools?limit=1&cursor=${encodeURIComponent(first.json().nextCursor)}`, school[A]);
    if (replay.status === 200) expect(urnsIn(replay).filter((u) => u !== A)).toEqual([]);
    else expect(replay.status).toBe(400);
  });

  it("refuses an LA officer's list cursor to a school and to the Virtual School (400), or pages only their own rows", async () => {
    for (const q of [`flag=persistent_absence&${PERIOD}&limit=1`, `flag=persistent_absence&${YEAR}&limit=1`]) {
      const first = await get(`/v1/pupils?${q}`, officer);
      expect(first.status).toBe(200);
      expect(first.json().nextCursor).toEqual(expect.any(String));
      // The VSH sees every school of a child in its cohorts (L at A and B), but never R.
      const callers: Array<[string, string[]]> = [
        [school[A], [A]],
        [vsh, [A, B]],
      ];
      for (const [token, own] of callers) {
        const replay = await get(`/v1/pupils?${q}&cursor=${encodeURIComponent(first.json().nextCursor)}`, token);
        if (replay.status === 200) {
          expect(urnsIn(replay).filter((u) => !own.includes(u))).toEqual([]);
          expect(replay.json().items.map((i: { upn: string }) => i.upn)).not.toContain(R);
        } else expect(replay.status).toBe(400);
      }
    }
  });
});

describe("a school filtering lists to see other schools' pupils", () => {
  it("answers 404 to a school naming another school's URN on every list, JSON and CSV", async () => {
    for (const path of [
      `/v1/pupils?flag=persistent_absence&urn=${B}&${PERIOD}`,
      `/v1/pupils?flag=persistent_absence&urn=${B}&${YEAR}`,
      `/v1/referrals?urn=${B}`,
      `/v1/referrals/suggestions?urn=${B}`,
      `/v1/metrics?urn=${B}`,
      `/v1/metrics?scope=school&urn=${B}`,
      `/v1/returns?urn=${B}`,
      `/v1/schools/${B}`,
      `/v1/schools/${B}/unresolved-n`,
      `/v1/admission-register/entries?urn=${B}`,
      `/v1/admission-register/deletions?urn=${B}`,
      `/v1/part-time-timetables?urn=${B}`,
      `/v1/admission-register/timeliness?urn=${B}`,
      `/v1/schools/${B}/looked-after-pupils`,
    ]) {
      for (const accept of ['application/json', 'text/csv']) {
        const res = await get(path, school[A], { accept });
        expect([path, accept, res.status]).toEqual([path, accept, 404]);
        expect(problemFault(res)).toBeUndefined();
      }
    }
  });

  it('shows a school asking for a cohort (cla) or the whole LA only its own pupils, with only its own URN', async () => {
    for (const q of [
      `flag=persistent_absence&cohort=cla&${PERIOD}`,
      `flag=persistent_absence&${PERIOD}`,
      `flag=persistent_absence&${YEAR}`,
      `flag=persistent_absence&cohort=cla&${YEAR}`,
    ]) {
      for (const [urn, other] of [
        [A, R],
        [B, Q],
      ] as const) {
        const res = await get(`/v1/pupils?${q}`, school[urn]);
        expect(res.status).toBe(200);
        expect(urnsIn(res).filter((u) => u !== urn)).toEqual([]);
        expect(res.json().items.map((i: { upn: string }) => i.upn)).not.toContain(other);
        const csv = await get(`/v1/pupils?${q}`, school[urn], { accept: 'text/csv' });
        expect(csv.status).toBe(200);
        const cells = csvCells(csv.text);
        const upnCol = cells[0].indexOf('upn');
        const urnCol = cells[0].indexOf('urns');
        expect(cells.slice(1).map((r) => r[upnCol])).not.toContain(other);
        for (const r of cells.slice(1)) expect(r[urnCol]).toBe(urn);
      }
    }
  });

  it('confines a school asking metrics for the LA, by school, by placement or for a cohort to its own school', async () => {
    for (const q of [
      'scope=la',
      'groupBy=school',
      'scope=la&groupBy=school',
      'groupBy=placement',
      'cohort=cla&groupBy=school',
    ]) {
      const res = await get(`/v1/metrics?${q}&${PERIOD}`, school[A]);
      expect([q, res.status]).toEqual([q, 200]);
      expect(res.json()).toMatchObject({ scope: 'school', urn: A });
      for (const item of res.json().items as Array<{ key: { urn?: string } }>) expect(item.key.urn ?? A).toBe(A);
    }
  });
});

describe('a school reading a pupil who left it', () => {
  it('shows the old school only its own enrolment: no later school, no later marks, no cohort from the later school', async () => {
    const view = await get(`/v1/pupils/${L}`, school[A]);
    expect(view.status).toBe(200);
    const body = view.json();
    expect(body.enrolments.map((e: { urn: string }) => e.urn)).toEqual([A]);
    expect(JSON.stringify(body)).not.toContain(B);
    expect(body.cohorts).not.toContain('cla');
    expect(body.totals.possibleSessions).toBe(10);
    const sessions = await get(`/v1/pupils/${L}/sessions?from=2025-09-15&to=2025-09-26`, school[A]);
    expect(sessions.status).toBe(200);
    expect(sessions.json().sessions.map((s: { urn: string }) => s.urn)).toEqual(Array(10).fill(A));
    const later = await get(`/v1/pupils/${L}/sessions?from=2025-09-22&to=2025-09-26`, school[A]);
    expect(later.status === 404 || later.json().sessions.length === 0).toBe(true);
    // The school the child joined sees its own enrolment only, not where the child was before.
    const atB = (await get(`/v1/pupils/${L}`, school[B])).json();
    expect(atB.enrolments.map((e: { urn: string }) => e.urn)).toEqual([B]);
    expect(JSON.stringify(atB)).not.toContain(A);
  });
});

describe('the Virtual School reaching a child outside its cohorts through a case', () => {
  let caseOfQ: string;
  let caseOfL: string;
  beforeAll(async () => {
    const make = async (upn: string, urn: string) => {
      const res = await svc.request('POST', '/v1/referrals', {
        token: officer,
        body: { upn, urn, type: 'persistent_absence', reason: 'Attendance below 50 per cent this term.' },
      });
      expect(res.status).toBe(201);
      return res.json().id as string;
    };
    caseOfQ = await make(Q, A);
    caseOfL = await make(L, A);
  });

  it("answers 404 to the VSH for a case about a child never in its cohorts (read, change, note), as for an unknown id; it sees the looked-after child's case", async () => {
    const unknown = await get('/v1/referrals/ref000000000000000000000', vsh);
    const read = await get(`/v1/referrals/${caseOfQ}`, vsh);
    expect(read.status).toBe(404);
    expect(read.json().detail).toBe(unknown.json().detail);
    // Well-formed requests (If-Match, valid bodies), so only the scope can refuse them.
    const patch = await svc.request('PATCH', `/v1/referrals/${caseOfQ}`, {
      token: vsh,
      body: { note: 'probe' },
      headers: { 'if-match': '"1"' },
    });
    expect(patch.status).toBe(404);
    const note = await svc.request('POST', `/v1/referrals/${caseOfQ}/events`, {
      token: vsh,
      body: { kind: 'note', text: 'probe' },
      headers: { 'if-match': '"1"' },
    });
    expect(note.status).toBe(404);
    // The LA's token with the same requests is let through (so the 404s above are the scope's).
    expect(
      (
        await svc.request('POST', `/v1/referrals/${caseOfQ}/events`, {
          token: officer,
          body: { kind: 'note', text: 'ok' },
          headers: { 'if-match': '"1"' },
        })
      ).status,
    ).toBe(201);
    const list = await get('/v1/referrals', vsh);
    expect(list.status).toBe(200);
    const ids = list.json().items.map((c: { id: string }) => c.id);
    expect(ids).not.toContain(caseOfQ);
    expect(ids).toContain(caseOfL);
    expect((await get(`/v1/referrals/${caseOfL}`, vsh)).status).toBe(200);
    // Nor the child themselves by UPN, by any route.
    for (const path of [`/v1/pupils/${Q}`, `/v1/pupils/${Q}/sessions`, `/v1/virtual-school/pupils/${Q}/pep-summary`])
      expect([path, (await get(path, vsh)).status]).toEqual([path, 404]);
    // Nor a school another school's case, by id.
    expect((await get(`/v1/referrals/${caseOfQ}`, school[B])).status).toBe(404);
  });

  it("gives a school and the VSH nothing outside their scope from an LA officer's case-list cursors", async () => {
    const caseOfR = await svc.request('POST', '/v1/referrals', {
      token: officer,
      body: { upn: R, urn: B, type: 'persistent_absence', reason: 'Attendance below 50 per cent this term.' },
    });
    expect(caseOfR.status).toBe(201);
    const cursors: string[] = [];
    let page = (await get('/v1/referrals?limit=1', officer)).json();
    while (page.nextCursor) {
      cursors.push(page.nextCursor);
      page = (await get(`/v1/referrals?limit=1&cursor=${encodeURIComponent(page.nextCursor)}`, officer)).json();
    }
    expect(cursors.length).toBeGreaterThanOrEqual(2);
    for (const cursor of cursors) {
      // A school's scope is part of the query its cursor is bound to: another caller's cursor is 400.
      const asSchool = await get(`/v1/referrals?limit=1&cursor=${encodeURIComponent(cursor)}`, school[A]);
      expect(asSchool.status).toBe(400);
      // The VSH asks the same query as the officer: the cursor is accepted, each page kept to its scope.
      const asVsh = await get(`/v1/referrals?limit=1&cursor=${encodeURIComponent(cursor)}`, vsh);
      expect(asVsh.status).toBe(200);
      for (const c of asVsh.json().items as Array<{ upn: string }>) expect(c.upn).toBe(L);
    }
  });

  it('refuses the VSH raising a case about a child never in its cohorts (404, nothing created)', async () => {
    const before = (await get('/v1/referrals?limit=1000', officer)).json().items.length;
    const res = await svc.request('POST', '/v1/referrals', {
      token: vsh,
      body: { upn: Q, urn: A, type: 'persistent_absence', reason: 'probe' },
    });
    expect(res.status).toBe(404);
    expect((await get('/v1/referrals?limit=1000', officer)).json().items.length).toBe(before);
  });
});

describe('ids of things another caller owns', () => {
  it("answers 404 to a school for another school's return, its status and its file", async () => {
    const res = await svc.request('POST', '/v1/returns', {
      token: school[B],
      body: returnCsv(rows(B, R, ['2025-09-29'], {})),
    });
    const id = res.json().returnId;
    await svc.settle();
    for (const path of [`/v1/returns/${id}`, `/v1/returns/${id}/file`]) {
      expect((await get(path, school[A])).status).toBe(404);
      expect((await get(path, vsh)).status).toBe(404);
    }
  });

  it('answers 404 to a user whose token now names another school (or role) for the returns they sent for their old one', async () => {
    // The same sign-in subject, moved from school A to school B, then made the VSH (Cognito keeps `sub`).
    const atA = await svc.token('school', { urn: A, sub: 'moved-user' });
    const res = await svc.request('POST', '/v1/returns', {
      token: atA,
      body: returnCsv(rows(A, Q, ['2025-09-29'], {})),
    });
    expect(res.status).toBe(202);
    const id = res.json().returnId;
    await svc.settle();
    expect((await get(`/v1/returns/${id}`, atA)).status).toBe(200);
    const atB = await svc.token('school', { urn: B, sub: 'moved-user' });
    const asVsh = await svc.token('vsh', { sub: 'moved-user' });
    for (const token of [atB, asVsh])
      for (const path of [`/v1/returns/${id}`, `/v1/returns/${id}/file`])
        expect((await get(path, token)).status).toBe(404);
  });

  it('imports a staged upload only on the route it was presigned for (a registry upload id is unknown to /v1/cohorts)', async () => {
    const staged = await svc.request('POST', '/v1/schools/uploads', {
      token: admin,
      body: { contentType: 'text/csv', bytes: 10 },
    });
    expect(staged.status).toBe(201);
    const { uploadId, uploadUrl } = staged.json();
    const put = await fetch(uploadUrl, {
      method: 'PUT',
      headers: { 'content-type': 'text/csv' },
      body: 'upn,cohort',
    });
    expect(put.ok).toBe(true);
    const res = await svc.request('POST', `/v1/cohorts?upload=${uploadId}`, { token: officer });
    expect(res.status).toBe(404);
    expect(problemFault(res)).toBeUndefined();
  });
});

describe('hostile query strings', () => {
  const big = 'x'.repeat(5000);
  const queries = [
    'limit=abc',
    'limit=-1',
    'limit=0',
    'limit=1.5',
    'limit=1e3',
    'limit=99999999999999999999999',
    'limit=%00',
    `cursor=${'A'.repeat(2001)}`,
    'cursor=%FF%FE',
    'cursor=eyJvIjoxfQ',
    'cursor=....',
    `from=${big}`,
    'from=2025-02-30',
    'from=2025-13-01',
    'to=0000-01-01',
    'academicYear=NaN',
    'academicYear=1e10',
    'urn=../../etc',
    `urn=${big}`,
    'cohort=%3Cscript%3E',
    'flag=persistent_absence&flag=severe_absence',
    'yearGroup=%E2%80%AE',
    'upn=%27%20OR%201%3D1',
    'status=x',
  ];
  it("refuses the lists' own year group of pupils without one, `(none)`, as a filter (400): it is not a year group", async () => {
    for (const token of [officer]) {
      const res = await get(`/v1/pupils?flag=persistent_absence&yearGroup=${encodeURIComponent('(none)')}`, token);
      expect(res.status).toBe(400);
    }
  });

  const listPaths = [
    '/v1/pupils?flag=persistent_absence&',
    '/v1/schools?',
    `/v1/returns?urn=${A}&`,
    '/v1/referrals?',
    '/v1/referrals/suggestions?',
    '/v1/metrics?',
    '/v1/patterns?',
    '/v1/virtual-school/pupils?',
    '/v1/virtual-school/alerts?',
    '/v1/audit?',
    '/v1/notifications/outbox?',
    '/v1/identity-reviews?',
    '/v1/admission-register/entries?',
    '/v1/children-missing-education?',
    '/v1/social-worker-absences?',
  ];

  it(`answers ${queries.length} hostile query strings on ${listPaths.length} list routes with 200 or a 4xx problem, never a 500`, async () => {
    const faults: string[] = [];
    for (const path of listPaths) {
      const token = /audit|outbox/.test(path) ? admin : officer;
      for (const q of queries) {
        for (const accept of ['application/json', 'text/csv']) {
          const res = await get(`${path}${q}`, token, { accept });
          if (res.status >= 500) faults.push(`${path}${q.slice(0, 40)} ${accept}: ${res.status}`);
          else if (res.status >= 400 && problemFault(res))
            faults.push(`${path}${q.slice(0, 40)}: ${problemFault(res)}`);
        }
      }
    }
    expect(faults).toEqual([]);
  }, 120_000);
});

describe('Accept headers', () => {
  it('answers odd Accept headers with JSON or CSV, never a 500, and every CSV cell that starts a formula is escaped', async () => {
    for (const accept of [
      'text/csv;q=0',
      'TEXT/CSV',
      'text/csv, application/json',
      '*/*',
      'text/csv; charset=utf-16',
      'text/csvx',
      `text/csv${';a=b'.repeat(500)}`,
    ]) {
      const res = await get(`/v1/pupils?flag=persistent_absence&${PERIOD}`, officer, { accept });
      expect([accept, res.status]).toEqual([accept, 200]);
      if (res.headers['content-type']?.startsWith('text/csv'))
        for (const row of csvCells(res.text)) for (const cell of row) expect(isFormulaCell(cell)).toBe(false);
    }
  });
});

describe('the per-pupil audit across a day boundary', () => {
  it('finds a read made just after midnight in England (British Summer Time) when asked for that day', async () => {
    const sub = 'midnight-reader';
    const reader = await svc.token('la_officer', { sub });
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      // 00:30 on 1 June 2026 in England is 23:30 on 31 May in UTC.
      vi.setSystemTime(new Date('2026-05-31T23:30:00Z'));
      expect((await get(`/v1/pupils/${Q}`, reader)).status).toBe(200);
      expect((await get(`/v1/pupils?flag=persistent_absence&${PERIOD}`, reader)).status).toBe(200);
      vi.setSystemTime(new Date('2026-06-02T12:00:00Z'));
      const june1 = await get(`/v1/audit?upn=${Q}&from=2026-06-01&to=2026-06-01&user=${sub}`, admin);
      expect(june1.status).toBe(200);
      expect(
        june1
          .json()
          .items.map((e: { action: string }) => e.action)
          .sort(),
      ).toEqual(['list_pupils', 'read_pupil']);
      const may31 = await get(`/v1/audit?upn=${Q}&from=2026-05-31&to=2026-05-31&user=${sub}`, admin);
      expect(may31.json().items).toEqual([]);
      // The day's log (every entry, no pupil named) and the user's, likewise.
      const day = await get('/v1/audit?from=2026-06-01&to=2026-06-01&limit=1000', admin);
      expect(day.json().items.filter((e: { sub: string }) => e.sub === sub).length).toBe(2);
      const byUser = await get(`/v1/audit?user=${sub}&from=2026-06-01&to=2026-06-01`, admin);
      expect(byUser.json().items.length).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it("refuses an LA officer, a school and the VSH the audit log, another user's or their own (403)", async () => {
    for (const token of [officer, school[A], vsh])
      for (const q of ['', `?upn=${Q}`, '?user=midnight-reader'])
        expect((await get(`/v1/audit${q}`, token)).status).toBe(403);
  });
});
