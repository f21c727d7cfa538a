/**
 * Issue 22 through the HTTP API on the embedded engines: a hidden register of five pupils with twelve
 * unauthorised sessions in two weeks — a four-year-old in Reception, a Year 12 student, a pupil whose
 * twelve sessions are all N, a Year 5 pupil, and a pupil whose date of birth the school did not send.
 * Only the Year 5 pupil and the pupil of unknown age meet the penalty-notice threshold (the latter
 * marked "age unknown"); the N sessions are the school's unresolved N, listed for the school and the
 * officer and counted in the school's data-quality figures.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from './harness.js';
import { returnCsv, upnFor, weekdays } from '../support/returns.js';

const URN = '100001';
const OTHER = '100002';
const RECEPTION = upnFor(21);
const YEAR_12 = upnFor(22);
const ALL_N = upnFor(23);
const YEAR_5 = upnFor(24);
const NO_DOB = upnFor(25);
const DAYS = weekdays('2025-09-08', '2025-10-03');
/** Twelve unauthorised sessions in two weeks: all day 15–19 September and the morning of 22 September. */
const ABSENT = new Set(['2025-09-15', '2025-09-16', '2025-09-17', '2025-09-18', '2025-09-19']);

const pupils: Array<{ upn: string; dob: string; year_group: string; code: string }> = [
  { upn: RECEPTION, dob: '2021-06-01', year_group: 'R', code: 'O' },
  { upn: YEAR_12, dob: '2009-03-01', year_group: '12', code: 'O' },
  { upn: ALL_N, dob: '2015-10-10', year_group: '5', code: 'N' },
  { upn: YEAR_5, dob: '2015-11-11', year_group: '5', code: 'O' },
  { upn: NO_DOB, dob: '', year_group: '5', code: 'G' },
];

let svc: TestService;
let school: string;
let otherSchool: string;
let officer: string;

beforeAll(async () => {
  svc = await startTestService();
  school = await svc.token('school', { urn: URN });
  otherSchool = await svc.token('school', { urn: OTHER });
  officer = await svc.token('la_officer', { sub: 'officer-22' });
  const rows = pupils.flatMap((p) =>
    DAYS.map((date) => {
      const absent = ABSENT.has(date);
      return {
        urn: URN,
        upn: p.upn,
        date,
        forename: 'Test',
        surname: p.year_group,
        dob: p.dob,
        year_group: p.year_group,
        am: absent || date === '2025-09-22' ? p.code : '/',
        pm: absent ? p.code : '/',
      };
    }),
  );
  const res = await svc.request('POST', '/v1/returns', {
    token: school,
    body: returnCsv(rows),
    contentType: 'text/csv',
  });
  expect(res.status).toBe(202);
  await svc.settle();
}, 120_000);
afterAll(async () => svc?.stop());

describe('the penalty-notice threshold through the API (compulsory school age, codes G/O/U)', () => {
  it('flags only the pupils of compulsory school age (or of unknown age) whose sessions are G, O or U', async () => {
    const res = await svc.request('GET', '/v1/pupils?flag=penalty_notice_threshold&from=2025-08-01&to=2026-07-31', {
      token: officer,
    });
    expect(res.status).toBe(200);
    expect(
      res
        .json()
        .items.map((i: { upn: string }) => i.upn)
        .sort(),
    ).toEqual([YEAR_5, NO_DOB].sort());
  });

  it('keeps PA and SA for the pupils outside compulsory school age', async () => {
    const res = await svc.request('GET', `/v1/pupils/${RECEPTION}?academicYear=2025`, { token: officer });
    expect(res.status).toBe(200);
    const types = res.json().flags.map((f: { type: string }) => f.type);
    expect(types).toContain('persistent_absence');
    expect(types).not.toContain('penalty_notice_threshold');
  });

  it('says on the pupil view which route applies and why, and marks the pupil without a date of birth "age unknown"', async () => {
    const y5 = (await svc.request('GET', `/v1/pupils/${YEAR_5}?academicYear=2025`, { token: officer })).json();
    const threshold = y5.flags.find((f: { type: string }) => f.type === 'penalty_notice_threshold');
    expect(threshold.detail).toMatchObject({
      codes: ['G', 'O', 'U'],
      ageUnknown: false,
      route: { route: 'irregular_attendance', firstStep: 'notice_to_improve' },
    });
    const unknown = (await svc.request('GET', `/v1/pupils/${NO_DOB}?academicYear=2025`, { token: officer })).json();
    expect(unknown.flags.find((f: { type: string }) => f.type === 'penalty_notice_threshold').detail).toMatchObject({
      ageUnknown: true,
      compulsorySchoolAge: null,
      route: { route: 'leave_in_term_time', firstStep: 'penalty_notice_request' },
    });
  });

  it('suggests a penalty-notice request for the two pupils only, with the route and "age unknown"', async () => {
    const res = await svc.request('GET', '/v1/referrals/suggestions?academicYear=2025&type=penalty_notice_request', {
      token: officer,
    });
    expect(res.status).toBe(200);
    const byUpn = new Map(res.json().items.map((s: { upn: string }) => [s.upn, s]));
    expect([...byUpn.keys()].sort()).toEqual([YEAR_5, NO_DOB].sort());
    expect(byUpn.get(NO_DOB)).toMatchObject({
      ageUnknown: true,
      reasons: [{ flag: 'penalty_notice_threshold', route: 'leave_in_term_time', ageUnknown: true }],
    });
    expect(byUpn.get(YEAR_5)).toMatchObject({
      ageUnknown: false,
      reasons: [{ route: 'irregular_attendance', firstStep: 'notice_to_improve' }],
    });
  });
});

describe('unresolved N through the API', () => {
  it("lists the school's unresolved N for the school itself, with the school days since each", async () => {
    const res = await svc.request('GET', `/v1/schools/${URN}/unresolved-n?academicYear=2025`, { token: school });
    expect(res.status).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ urn: URN, limitSchoolDays: 5, outstandingNSessions: 11 });
    expect(body.items).toHaveLength(11);
    expect(
      body.items.every((i: { upn: string; schoolDaysSince: number }) => i.upn === ALL_N && i.schoolDaysSince > 5),
    ).toBe(true);
    expect(body.items[0]).toMatchObject({ date: '2025-09-15', session: 'AM', forename: 'Test' });
  });

  it("counts them in the school's data-quality figures beside unmarked sessions", async () => {
    const res = await svc.request('GET', `/v1/schools/${URN}`, { token: officer });
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({
      unmarkedSessions: 0,
      unresolvedNSessions: 11,
      outstandingNSessions: 11,
      unresolvedNLimitSchoolDays: 5,
    });
    const list = await svc.request('GET', '/v1/schools', { token: officer });
    expect(list.json().items.find((s: { urn: string }) => s.urn === URN)).toMatchObject({ unresolvedNSessions: 11 });
  });

  it("hides another school's list (404) and refuses roles without access to data quality (403)", async () => {
    expect((await svc.request('GET', `/v1/schools/${URN}/unresolved-n`, { token: otherSchool })).status).toBe(404);
    expect(
      (await svc.request('GET', `/v1/schools/${URN}/unresolved-n`, { token: await svc.token('vsh') })).status,
    ).toBe(403);
    expect((await svc.request('GET', '/v1/schools/12345x/unresolved-n', { token: officer })).status).toBe(404);
  });

  it('drops an N from the list once the school resolves it', async () => {
    const fix = returnCsv([{ urn: URN, upn: ALL_N, date: '2025-09-15', am: 'I', pm: 'I', dob: '2015-10-10' }]);
    expect(
      (await svc.request('POST', '/v1/returns', { token: school, body: fix, contentType: 'text/csv' })).status,
    ).toBe(202);
    await svc.settle();
    const body = (
      await svc.request('GET', `/v1/schools/${URN}/unresolved-n?academicYear=2025`, { token: officer })
    ).json();
    expect(body.items).toHaveLength(9);
    expect(body.items.some((i: { date: string }) => i.date === '2025-09-15')).toBe(false);
  });
});

describe('penalty notices not paid', () => {
  it('lists a notice past its 28 days with no payment or withdrawal, with parent and child, for LA officers only', async () => {
    const created = await svc.request('POST', '/v1/referrals', {
      token: officer,
      body: {
        upn: YEAR_5,
        urn: URN,
        type: 'penalty_notice_request',
        reason: '12 O sessions',
        parents: [{ id: 'mum-22', name: 'Ann Five', relationship: 'mother' }],
      },
    });
    expect(created.status).toBe(201);
    const id = created.json().id;
    const patch = (body: unknown, v: number) =>
      svc.request('PATCH', `/v1/referrals/${id}`, { token: officer, body, headers: { 'if-match': `"${v}"` } });
    expect((await patch({ status: 'triaged' }, 1)).status).toBe(200);
    expect((await patch({ status: 'allocated', assignee: 'officer-22' }, 2)).status).toBe(200);
    const issued = await svc.request('POST', `/v1/referrals/${id}/events`, {
      token: officer,
      body: { kind: 'action', type: 'penalty_notice_issued', date: '2025-10-06', parentId: 'mum-22' },
      headers: { 'if-match': '"3"' },
    });
    expect(issued.status).toBe(201);

    expect((await svc.request('GET', '/v1/penalty-notices/unpaid', { token: school })).status).toBe(403);
    const res = await svc.request('GET', '/v1/penalty-notices/unpaid', { token: officer });
    expect(res.status).toBe(200);
    expect(res.json().items).toEqual([
      expect.objectContaining({
        noticeId: `${id}/A1`,
        referralId: id,
        urn: URN,
        issuedOn: '2025-10-06',
        payableUntil: '2025-11-03',
        sequence: 1,
        amount: 160,
        child: { upn: YEAR_5, forename: 'Test', surname: '5', dob: '2015-11-11' },
        parent: { id: 'mum-22', name: 'Ann Five', relationship: 'mother' },
        awaiting: 'prosecution_or_withdrawal',
      }),
    ]);

    const withdrawn = await svc.request('POST', `/v1/referrals/${id}/events`, {
      token: officer,
      body: { kind: 'action', type: 'penalty_notice_withdrawn', date: '2025-11-20', noticeId: 'A1' },
      headers: { 'if-match': '"4"' },
    });
    expect(withdrawn.status).toBe(201);
    expect((await svc.request('GET', '/v1/penalty-notices/unpaid', { token: officer })).json().items).toEqual([]);
  });
});
