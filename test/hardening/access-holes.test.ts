/**
 * Access holes that come from data rather than routes (issue 15, items 1–6), tried as a hostile user
 * of each role with a valid token would:
 * 1. a school naming another school's pupil (identity check, LA review list, only its own marks);
 * 2. withdrawing someone else's referral;
 * 3. reading sessions outside the years in scope;
 * 4. (family flags: test/unit/patterns-run/pupil-flags.test.ts);
 * 5. a school's custom-period list reading only its own registers;
 * 6. refused uploads kept under the uploader, per-pupil audit of lists, signed cursors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MARK_CHAR } from '../../shared/domain/codes.js';
import { writeCtf } from '../support/ctf-writer.js';
import type { ReturnRow } from '../../shared/formats/daily-return-csv.js';
import { DEFAULT_NAMES } from '../../shared/config.js';
import { getBlob, putBlob } from '../../shared/store/blobs.js';
import { paths } from '../../shared/store/keys.js';
import { startTestService, type TestService } from '../integration/harness.js';
import { returnCsv, upnFor, weekdays, type ReturnRowInput } from '../support/returns.js';
import { problemFault } from './support.js';

const A = '123456';
const B = '654321';
const C = '222222';
const D = '333333';
const E = '444444';
const F = '555555';
/** At school A: Alice Smith, born 2015-03-04. */
const P = upnFor(1);
/** At school A: looked after from 2025/26 only (not in 2024/25). */
const V = upnFor(2);
/** At school A, not looked after. */
const Q = upnFor(3);
const ALICE = { forename: 'Alice', surname: 'Smith', dob: '2015-03-04' };
const SEPT = weekdays('2025-09-15', '2025-09-19');

let svc: TestService;
let officer: string;
let officer2: string;
let vsh: string;
let admin: string;
const school: Record<string, string> = {};

function rows(
  urn: string,
  upn: string,
  dates: readonly string[],
  extra: Record<string, string> = {},
  am = '/',
  pm = '/',
): ReturnRowInput[] {
  return dates.map((date) => ({ urn, upn, date, am, pm, ...extra }));
}

async function send(token: string, body: string, contentType = 'text/csv'): Promise<any> {
  const res = await svc.request('POST', '/v1/returns', { token, body, contentType });
  expect(res.status).toBe(202);
  await svc.settle();
  return (await svc.request('GET', `/v1/returns/${res.json().returnId}`, { token })).json();
}

const get = (path: string, token: string) => svc.request('GET', path, { token });

beforeAll(async () => {
  svc = await startTestService();
  [officer, officer2, vsh, admin] = await Promise.all([
    svc.token('la_officer'),
    svc.token('la_officer', { sub: 'officer-two' }),
    svc.token('vsh'),
    svc.token('admin'),
  ]);
  for (const urn of [A, B, C, D, E, F]) school[urn] = await svc.token('school', { urn });
  const a2024 = rows(
    A,
    V,
    ['2024-09-16', '2024-09-17'],
    { cla: 'N', forename: 'Vic', surname: 'Vale', dob: '2014-01-01' },
    'N',
    'N',
  );
  expect((await send(school[A], returnCsv(a2024))).status).toBe('accepted');
  const a = [
    ...rows(A, P, SEPT, ALICE, 'N', 'N'),
    ...rows(A, V, SEPT, { cla: 'Y', forename: 'Vic', surname: 'Vale', dob: '2014-01-01' }),
    ...rows(A, Q, SEPT, { forename: 'Quinn', surname: 'Quay', dob: '2014-05-05' }, 'N', 'N'),
  ];
  expect((await send(school[A], returnCsv(a))).status).toBe('accepted');
}, 180_000);
afterAll(async () => svc?.stop());

// ---- 1. A school naming another school's pupil -----------------------------------------------------

describe('a school adding an enrolment to a pupil another school holds', () => {
  it('refuses a row whose date of birth or names disagree with the record (identity_mismatch), applies none of its marks, and keeps the pupil hidden from that school', async () => {
    const before = (await get(`/v1/pupils/${P}?academicYear=2025`, officer)).json();
    const status = await send(
      school[B],
      returnCsv(
        rows(
          B,
          P,
          weekdays('2025-09-22', '2025-09-26'),
          { forename: 'Mallory', surname: 'Jones', dob: '2015-03-04' },
          'O',
          'O',
        ),
      ),
    );
    expect(status.status).toBe('rejected');
    expect(status.errors.length).toBe(5);
    for (const e of status.errors) expect(e).toMatchObject({ field: 'upn', code: 'identity_mismatch' });
    expect((await get(`/v1/pupils/${P}?academicYear=2025`, school[B])).status).toBe(404);
    expect((await get(`/v1/pupils/${P}/sessions?from=2025-09-01&to=2025-09-30`, school[B])).status).toBe(404);
    // Nothing of the refused rows reached the record: no 'O' marks, the same totals, no enrolment at B.
    const after = (await get(`/v1/pupils/${P}?academicYear=2025`, officer)).json();
    expect(after.totals).toEqual(before.totals);
    expect(after.enrolments.map((e: any) => e.urn)).toEqual([A]);
  });

  it('refuses a matching surname with another date of birth, and a first row with no identifying fields at all', async () => {
    const wrongDob = await send(
      school[C],
      returnCsv(rows(C, P, ['2025-09-22'], { surname: 'Smith', dob: '2015-03-05' })),
    );
    expect(wrongDob.errors).toEqual([expect.objectContaining({ line: 2, field: 'upn', code: 'identity_mismatch' })]);
    const bare = await send(school[C], returnCsv(rows(C, P, ['2025-09-23'])));
    expect(bare.errors).toEqual([expect.objectContaining({ line: 2, field: 'upn', code: 'identity_mismatch' })]);
    expect((await get(`/v1/pupils/${P}?academicYear=2025`, school[C])).status).toBe(404);
  });

  it('refuses the same through a Common Transfer File', async () => {
    const ctfRows: ReturnRow[] = ['2025-09-22', '2025-09-23'].map((date, i) => ({
      line: i + 2,
      urn: E,
      upn: P,
      date,
      am: MARK_CHAR.O,
      pm: MARK_CHAR.O,
      forename: 'Eve',
      surname: 'Evans',
      dob: '2016-06-06',
    }));
    const xml = writeCtf(ctfRows, {
      school: { urn: E, lea: '999', estab: '4001', name: 'E School' },
      dateTime: '2025-09-24T16:00:00',
    });
    const status = await send(school[E], xml, 'application/xml');
    expect(status.status).toBe('rejected');
    expect(status.errors.length).toBeGreaterThan(0);
    for (const e of status.errors) expect(e.code).toBe('identity_mismatch');
    expect((await get(`/v1/pupils/${P}?academicYear=2025`, school[E])).status).toBe(404);
  });

  it('lists refused rows for LA officers only; rejecting one leaves the pupil hidden from the school', async () => {
    for (const token of [school[A], school[C], vsh, admin])
      expect([403]).toContain((await get('/v1/identity-reviews', token)).status);
    const list = (await get('/v1/identity-reviews', officer)).json();
    const ofC = list.items.filter((r: any) => r.urn === C);
    expect(ofC.length).toBe(2);
    expect(ofC[0]).toMatchObject({
      upn: P,
      status: 'pending',
      held: [{ forename: 'Alice', surname: 'Smith', dob: '2015-03-04' }],
    });
    for (const r of ofC) {
      const res = await svc.request('POST', `/v1/identity-reviews/${r.reviewId}`, {
        token: officer,
        body: { decision: 'reject' },
      });
      expect(res.status).toBe(200);
      expect(res.json().status).toBe('rejected');
    }
    // Decided once: a second decision is a conflict.
    expect(
      (
        await svc.request('POST', `/v1/identity-reviews/${ofC[0].reviewId}`, {
          token: officer,
          body: { decision: 'accept' },
        })
      ).status,
    ).toBe(409);
    expect(
      (
        await svc.request('POST', `/v1/identity-reviews/${ofC[0].reviewId}`, {
          token: school[C],
          body: { decision: 'accept' },
        })
      ).status,
    ).toBe(403);
    await svc.settle();
    expect((await get(`/v1/pupils/${P}?academicYear=2025`, school[C])).status).toBe(404);
  });

  it('applies refused rows when an LA officer accepts them, and the school then reads only its own enrolment and marks', async () => {
    const review = (await get('/v1/identity-reviews', officer))
      .json()
      .items.find((r: any) => r.urn === B && r.status === 'pending');
    expect(review).toMatchObject({ upn: P, sent: { surname: 'Jones' }, lines: [2, 3, 4, 5, 6] });
    const res = await svc.request('POST', `/v1/identity-reviews/${review.reviewId}`, {
      token: officer,
      body: { decision: 'accept' },
    });
    expect(res.status).toBe(200);
    await svc.settle();
    const view = await get(`/v1/pupils/${P}?academicYear=2025`, school[B]);
    expect(view.status).toBe(200);
    expect(view.json().enrolments.map((e: any) => e.urn)).toEqual([B]);
    expect(view.json().totals.possibleSessions).toBe(10);
    expect(view.json().totals.unauthorisedAbsenceSessions).toBe(10);
    const sessions = (await get(`/v1/pupils/${P}/sessions?from=2025-09-01&to=2025-09-30`, school[B])).json().sessions;
    expect(new Set(sessions.map((s: any) => s.urn))).toEqual(new Set([B]));
    expect(sessions.length).toBe(10);
    // The officer sees both schools.
    expect(
      (await get(`/v1/pupils/${P}?academicYear=2025`, officer))
        .json()
        .enrolments.map((e: any) => e.urn)
        .sort(),
    ).toEqual([A, B].sort());
  });

  it('accepts a school whose row agrees with the record (date of birth and surname or forename), and shows it only its own marks, figures and names in the view, sessions, list and CSV', async () => {
    const status = await send(
      school[D],
      returnCsv(
        rows(D, P, weekdays('2025-09-29', '2025-10-03'), {
          forename: 'ALICE',
          surname: 'Smith-Brown',
          dob: '2015-03-04',
        }),
      ),
    );
    expect(status).toMatchObject({ status: 'accepted', errors: [] });
    const view = (await get(`/v1/pupils/${P}?academicYear=2025`, school[D])).json();
    expect(view.enrolments.map((e: any) => e.urn)).toEqual([D]);
    expect(view.surname).toBe('Smith-Brown');
    expect(view.totals).toMatchObject({ possibleSessions: 10, attendedSessions: 10, absenceSessions: 0 });
    expect(view.persistentAbsence).toBe(false);
    const sessions = (await get(`/v1/pupils/${P}/sessions?from=2025-09-01&to=2025-10-31`, school[D])).json().sessions;
    expect(sessions.map((s: any) => s.urn)).toEqual(new Array(10).fill(D));
    // P is persistently absent on the combined figures (A's and B's absences), never on D's own.
    const la = (await get('/v1/pupils?flag=persistent_absence&from=2025-09-01&to=2025-10-31', officer)).json();
    expect(la.items.map((i: any) => i.upn)).toContain(P);
    const ownList = await get('/v1/pupils?flag=persistent_absence&from=2025-09-01&to=2025-10-31', school[D]);
    expect(ownList.json().items.map((i: any) => i.upn)).not.toContain(P);
    // A's list: P on A's own figures only (A's 10 'N' sessions of 10), never naming B or D.
    const listA = (await get('/v1/pupils?flag=persistent_absence&from=2025-09-01&to=2025-10-31', school[A])).json();
    const itemA = listA.items.find((i: any) => i.upn === P);
    expect(itemA).toMatchObject({ urns: [A], stats: { possibleSessions: 10, unauthorisedAbsenceSessions: 10 } });
    const csvA = await svc.request('GET', '/v1/pupils?flag=persistent_absence&from=2025-09-01&to=2025-10-31', {
      token: school[A],
      headers: { accept: 'text/csv' },
    });
    expect(csvA.status).toBe(200);
    expect(csvA.text).not.toContain(B);
    expect(csvA.text).not.toContain(D);
  });
});

describe('what a school reads of a pupil another school also has, through referrals', () => {
  it("shows a school the referral suggestions on its own figures only, never another school's URN", async () => {
    const res = await get('/v1/referrals/suggestions?academicYear=2025', school[A]);
    expect(res.status).toBe(200);
    const item = res.json().items.find((i: any) => i.upn === P);
    expect(item).toMatchObject({ urns: [A], absenceRate: 100, unauthorisedSessions: 10 });
    expect(res.text).not.toContain(B);
    expect(res.text).not.toContain(D);
  });

  it("shows a school a case's evidence with only its own enrolment's figures; the LA sees every school's", async () => {
    const created = await svc.request('POST', '/v1/referrals', {
      token: officer,
      body: { upn: P, urn: A, type: 'other', reason: 'evidence test' },
    });
    expect(created.status).toBe(201);
    const id = created.json().id;
    expect(
      created
        .json()
        .evidence.enrolments.map((e: any) => e.urn)
        .sort(),
    ).toEqual([A, B, D].sort());
    const asSchool = await get(`/v1/referrals/${id}`, school[A]);
    expect(asSchool.status).toBe(200);
    const evidence = asSchool.json().evidence;
    expect(evidence.enrolments.map((e: any) => e.urn)).toEqual([A]);
    expect(evidence.totals).toMatchObject({ possibleSessions: 10, unauthorisedAbsenceSessions: 10 });
    expect(evidence.cohorts).toEqual([]);
    expect(JSON.stringify(evidence)).not.toContain(B);
    expect(JSON.stringify(evidence)).not.toContain(D);
  });
});

// ---- 2. Withdrawing someone else's referral ----------------------------------------------------------

describe('withdrawing a referral', () => {
  const create = async (token: string, upn: string, urn: string) => {
    const res = await svc.request('POST', '/v1/referrals', {
      token,
      body: { upn, urn, type: 'persistent_absence', reason: 'withdrawal test' },
    });
    expect(res.status).toBe(201);
    return res.json<{ id: string; version: number }>();
  };
  const withdraw = (token: string, r: { id: string; version: number }) =>
    svc.request('PATCH', `/v1/referrals/${r.id}`, {
      token,
      body: { status: 'withdrawn', reason: 'not needed' },
      headers: { 'if-match': `"${r.version}"` },
    });
  const note = (token: string, r: { id: string; version: number }, text: string) =>
    svc.request('POST', `/v1/referrals/${r.id}/events`, {
      token,
      body: { kind: 'note', text },
      headers: { 'if-match': `"${r.version}"` },
    });

  it('refuses a school withdrawing a case the LA raised about its pupil (403), and the VSH likewise', async () => {
    const byLa = await create(officer, V, A);
    expect((await withdraw(school[A], byLa)).status).toBe(403);
    expect((await withdraw(vsh, byLa)).status).toBe(403);
    expect((await withdraw(admin, byLa)).status).toBe(403);
    expect((await get(`/v1/referrals/${byLa.id}`, officer)).json().status).toBe('submitted');
  });

  it('lets a school withdraw its own submitted case, and the VSH its own; the LA any case', async () => {
    expect((await withdraw(school[A], await create(school[A], Q, A))).status).toBe(200);
    expect((await withdraw(vsh, await create(vsh, V, A))).status).toBe(200);
    expect((await withdraw(officer2, await create(officer, Q, A))).status).toBe(200);
    expect((await withdraw(officer, await create(school[A], Q, A))).status).toBe(200);
    expect((await withdraw(officer, await create(vsh, V, A))).status).toBe(200);
  });

  it("refuses the VSH withdrawing a school's case, and a school the VSH's case", async () => {
    const bySchool = await create(school[A], V, A);
    expect((await withdraw(vsh, bySchool)).status).toBe(403);
    const byVsh = await create(vsh, V, A);
    expect((await withdraw(school[A], byVsh)).status).toBe(403);
  });

  it('lets every role that may see a case add a note in any state (docs/design.md §5), and nobody else', async () => {
    const byLa = await create(officer, V, A);
    const n1 = await note(school[A], byLa, 'school note');
    expect(n1.status).toBe(201);
    const n2 = await note(vsh, { id: byLa.id, version: n1.json().version }, 'vsh note');
    expect(n2.status).toBe(201);
    const n3 = await note(officer, { id: byLa.id, version: n2.json().version }, 'officer note');
    expect(n3.status).toBe(201);
    expect((await note(admin, { id: byLa.id, version: n3.json().version }, 'admin note')).status).toBe(403);
    expect((await note(school[B], { id: byLa.id, version: n3.json().version }, 'other school')).status).toBe(404);
  });
});

// ---- 3. Sessions outside the years in scope ---------------------------------------------------------

describe("a pupil's sessions", () => {
  it('returns the Virtual School only the years the child was in its cohorts, never an earlier year', async () => {
    const res = await get(`/v1/pupils/${V}/sessions?from=2024-09-01&to=2025-09-30`, vsh);
    expect(res.status).toBe(200);
    const dates = res.json().sessions.map((s: any) => s.date);
    expect(dates.length).toBe(10);
    expect(dates.every((d: string) => d >= '2025-08-01')).toBe(true);
  });

  it('answers 404 for a period wholly in a year out of scope, without falling back to the latest year', async () => {
    const res = await get(`/v1/pupils/${V}/sessions?from=2024-09-01&to=2024-09-30`, vsh);
    expect(res.status).toBe(404);
    expect((await get(`/v1/pupils/${V}/sessions?from=2024-09-01&to=2024-09-30`, officer)).json().sessions.length).toBe(
      4,
    );
  });

  it('answers 404 to a school for a year it did not have the child', async () => {
    expect((await get(`/v1/pupils/${P}/sessions?from=2024-09-01&to=2024-09-30`, school[D])).status).toBe(404);
  });
});

// ---- 5. A school's custom-period list reads only its own registers -----------------------------------

describe("work bounded by the caller's scope", () => {
  it("answers a school's custom-period list from its own register without reading another school's", async () => {
    // School F's register made unreadable: a read of it would fail.
    await send(
      school[F],
      returnCsv(rows(F, upnFor(1, '999', '5001'), SEPT, { forename: 'Fay', surname: 'Ford', dob: '2014-02-02' })),
    );
    const held = await getBlob(DEFAULT_NAMES.registersBucket, paths.register(2025, F));
    expect(held).toBeDefined();
    await putBlob(
      DEFAULT_NAMES.registersBucket,
      paths.register(2025, F),
      Buffer.from('not a register'),
      'application/gzip',
    );
    try {
      const res = await get('/v1/pupils?flag=persistent_absence&from=2025-09-02&to=2025-09-25', school[A]);
      expect(res.status).toBe(200);
      expect(
        res
          .json()
          .items.map((i: any) => i.upn)
          .sort(),
      ).toEqual([P, Q].sort());
    } finally {
      await putBlob(
        DEFAULT_NAMES.registersBucket,
        paths.register(2025, F),
        held!.body,
        held!.contentType ?? 'application/gzip',
      );
    }
  });
});

// ---- 6. Refused uploads, per-pupil audit, cursors ----------------------------------------------------

describe('refused uploads, audit of lists and paging cursors', () => {
  it("keeps a refused upload naming another school's URN under the uploader, never listed under the named school", async () => {
    const res = await svc.request('POST', '/v1/returns', {
      token: school[C],
      body: returnCsv(rows(A, Q, ['2025-09-22'])),
    });
    expect(res.status).toBe(403);
    const id = res.json().returnId;
    const ofA = (await get(`/v1/returns?urn=${A}&limit=100`, officer)).json().items.map((r: any) => r.returnId);
    expect(ofA).not.toContain(id);
    const ofC = (await get(`/v1/returns?urn=${C}&limit=100`, school[C])).json().items.map((r: any) => r.returnId);
    expect(ofC).toContain(id);
    expect((await get(`/v1/returns/${id}`, school[A])).status).toBe(404);
  });

  it('audits a list and its CSV export once per pupil returned', async () => {
    const subOfficer = await svc.token('la_officer', { sub: 'audit-list-officer' });
    const list = (await get('/v1/pupils?flag=persistent_absence&from=2025-09-02&to=2025-09-25', subOfficer)).json();
    expect(list.items.map((i: any) => i.upn)).toContain(Q);
    const csv = await svc.request('GET', '/v1/pupils?flag=persistent_absence&from=2025-09-02&to=2025-09-25', {
      token: subOfficer,
      headers: { accept: 'text/csv' },
    });
    expect(csv.status).toBe(200);
    for (const upn of list.items.map((i: any) => i.upn)) {
      const entries = (await get(`/v1/audit?upn=${upn}&user=audit-list-officer`, admin)).json().items;
      expect(entries.filter((e: any) => e.action === 'list_pupils').length).toBe(2);
    }
  });

  it('refuses a forged DynamoDB paging cursor with 400, not 500', async () => {
    for (const forged of [
      { pk: 5 },
      { gsi1pk: 'SCHOOL#123456#RETURNS', gsi1sk: 'x' },
      { pk: 'RETURN#x', sk: 'RETURN', gsi1pk: ['a'], gsi1sk: 'b' },
    ]) {
      const cursor = Buffer.from(JSON.stringify(forged)).toString('base64url');
      const res = await get(`/v1/returns?urn=${A}&cursor=${cursor}`, officer);
      expect(res.status).toBe(400);
      expect(problemFault(res)).toBeUndefined();
    }
  });

  it('refuses a cursor that was tampered with, or reused with another query', async () => {
    const first = (
      await get('/v1/pupils?flag=persistent_absence&from=2025-09-02&to=2025-09-25&limit=1', officer)
    ).json();
    expect(first.nextCursor).toEqual(expect.any(String));
    expect(
      (
        await get(
          `/v1/pupils?flag=persistent_absence&from=2025-09-02&to=2025-09-25&limit=1&cursor=${first.nextCursor}`,
          officer,
        )
      ).status,
    ).toBe(200);
    const raw = Buffer.from(first.nextCursor, 'base64url').toString('utf8');
    const tampered = Buffer.from(raw.replace(/"o":1/, '"o":0')).toString('base64url');
    expect(tampered).not.toBe(first.nextCursor);
    expect(
      (
        await get(
          `/v1/pupils?flag=persistent_absence&from=2025-09-02&to=2025-09-25&limit=1&cursor=${tampered}`,
          officer,
        )
      ).status,
    ).toBe(400);
    expect(
      (
        await get(
          `/v1/pupils?flag=severe_absence&from=2025-09-02&to=2025-09-25&limit=1&cursor=${first.nextCursor}`,
          officer,
        )
      ).status,
    ).toBe(400);
    // The stored list of the whole year (a DynamoDB page): its cursor names its partition, so neither
    // another list's query nor another caller's partition (the Virtual School's) accepts it.
    const year = 'from=2025-08-01&to=2026-07-31&limit=1';
    const stored = (await get(`/v1/pupils?flag=persistent_absence&${year}`, officer)).json();
    expect(stored.nextCursor).toEqual(expect.any(String));
    expect((await get(`/v1/pupils?flag=persistent_absence&${year}&cursor=${stored.nextCursor}`, officer)).status).toBe(
      200,
    );
    expect((await get(`/v1/pupils?flag=severe_absence&${year}&cursor=${stored.nextCursor}`, officer)).status).toBe(400);
    expect((await get(`/v1/pupils?flag=persistent_absence&${year}&cursor=${stored.nextCursor}`, vsh)).status).toBe(400);
    const returnsPage = (await get(`/v1/returns?urn=${A}&limit=1`, officer)).json();
    expect(returnsPage.nextCursor).toEqual(expect.any(String));
    expect((await get(`/v1/returns?urn=${A}&limit=1&cursor=${returnsPage.nextCursor}`, officer)).status).toBe(200);
    expect((await get(`/v1/returns?urn=${B}&limit=1&cursor=${returnsPage.nextCursor}`, officer)).status).toBe(400);
  });
});
