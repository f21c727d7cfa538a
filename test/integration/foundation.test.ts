/**
 * The foundation end to end on the embedded engines: a school's daily return goes in through the
 * API, is kept, queued, parsed, applied, and comes out as the pupil's figures; re-delivery changes
 * nothing; a correction changes exactly the affected figures.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from './harness.js';
import { returnCsv, upnFor, weekdays } from '../support/returns.js';

const URN = '123456';
const OTHER_URN = '654321';
let svc: TestService;
let school: string;

beforeAll(async () => {
  svc = await startTestService();
  school = await svc.token('school', { urn: URN });
});
afterAll(async () => svc?.stop());

async function upload(csv: string, token = school) {
  const res = await svc.request('POST', '/v1/returns', { token, body: csv, contentType: 'text/csv' });
  await svc.settle();
  return res;
}

/** Ada's first week: 10 sessions, 9 present and 1 authorised illness → 10% absence → persistently absent. */
function adasWeek(upn: string) {
  return weekdays('2025-09-01', '2025-09-05').map((date, i) => ({
    urn: URN,
    upn,
    date,
    am: '/',
    pm: i === 4 ? 'I' : '/',
    forename: 'Ada',
    surname: 'Lovelace',
    year_group: '5',
  }));
}

describe('foundation: daily return to pupil view', () => {
  it('answers /health without a token', async () => {
    const res = await svc.request('GET', '/health');
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('refuses a request without a token with 401', async () => {
    const res = await svc.request('GET', `/v1/pupils/${upnFor(1)}`);
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toContain('application/problem+json');
  });

  it('accepts a return, applies it, and shows the pupil with DfE figures', async () => {
    const upn = upnFor(1);
    const rows = adasWeek(upn);
    const res = await upload(returnCsv(rows));
    expect(res.status).toBe(202);
    const { returnId, status } = res.json();
    expect(status).toBe('received');
    const st = await svc.request('GET', `/v1/returns/${returnId}`, { token: school });
    expect(st.status).toBe(200);
    expect(st.json()).toMatchObject({ status: 'accepted', counts: { rows: 5, accepted: 5, rejected: 0 }, errors: [] });

    const pupil = await svc.request('GET', `/v1/pupils/${upn}?academicYear=2025`, { token: school });
    expect(pupil.status).toBe(200);
    const view = pupil.json();
    expect(view.totals).toMatchObject({
      possibleSessions: 10,
      attendedSessions: 9,
      authorisedAbsenceSessions: 1,
      absenceSessions: 1,
      absenceRate: 10,
    });
    expect(view.persistentAbsence).toBe(true);
    expect(view.severeAbsence).toBe(false);
    expect(view.enrolments).toHaveLength(1);
    expect(view.enrolments[0]).toMatchObject({ urn: URN, persistentAbsence: true });
  });

  it('re-posting the same file changes nothing in the pupil figures', async () => {
    const upn = upnFor(1);
    const before = (await svc.request('GET', `/v1/pupils/${upn}?academicYear=2025`, { token: school })).json();
    const rows = adasWeek(upn);
    expect((await upload(returnCsv(rows))).status).toBe(202);
    const after = (await svc.request('GET', `/v1/pupils/${upn}?academicYear=2025`, { token: school })).json();
    expect(after.totals).toEqual(before.totals);
    expect(after.enrolments).toEqual(before.enrolments);
  });

  it('a later return amending one mark changes exactly the affected figures', async () => {
    const upn = upnFor(1);
    const res = await upload(returnCsv([{ urn: URN, upn, date: '2025-09-05', am: '/', pm: '/' }]));
    expect(res.status).toBe(202);
    const view = (await svc.request('GET', `/v1/pupils/${upn}?academicYear=2025`, { token: school })).json();
    expect(view.totals).toMatchObject({
      possibleSessions: 10,
      attendedSessions: 10,
      absenceSessions: 0,
      authorisedAbsenceSessions: 0,
    });
    expect(view.persistentAbsence).toBe(false);
  });

  it('refuses a school token uploading for another URN with 403', async () => {
    const res = await svc.request('POST', '/v1/returns', {
      token: school,
      body: returnCsv([{ urn: OTHER_URN, upn: upnFor(2), date: '2025-09-01', am: '/', pm: '/' }]),
      contentType: 'text/csv',
    });
    expect(res.status).toBe(403);
  });

  it('answers 404 to a school reading a pupil never enrolled there', async () => {
    const other = await svc.token('school', { urn: OTHER_URN });
    const upn = upnFor(3, '999', '3001');
    expect(
      (await upload(returnCsv([{ urn: OTHER_URN, upn, date: '2025-09-01', am: '/', pm: '/' }]), other)).status,
    ).toBe(202);
    expect((await svc.request('GET', `/v1/pupils/${upn}?academicYear=2025`, { token: other })).status).toBe(200);
    const res = await svc.request('GET', `/v1/pupils/${upn}?academicYear=2025`, { token: school });
    expect(res.status).toBe(404);
  });

  it('reports a wrong check letter and an unknown code as row errors with line and field', async () => {
    const good = upnFor(4);
    const bad = `A${good.slice(1)}` === good ? `B${good.slice(1)}` : `A${good.slice(1)}`;
    const csv = returnCsv([
      { urn: URN, upn: good, date: '2025-09-01', am: '/', pm: '/' },
      { urn: URN, upn: bad, date: '2025-09-01', am: '/', pm: '/' },
      { urn: URN, upn: upnFor(5), date: '2025-09-01', am: 'Q9', pm: '/' },
    ]);
    const res = await upload(csv);
    const st = (await svc.request('GET', `/v1/returns/${res.json().returnId}`, { token: school })).json();
    expect(st.status).toBe('accepted_with_errors');
    expect(st.counts).toEqual({ rows: 3, accepted: 1, rejected: 2 });
    expect(st.errors.map((e: { line: number; field: string }) => [e.line, e.field])).toEqual([
      [3, 'upn'],
      [4, 'am'],
    ]);
  });

  it('rejects a file missing a required column with a 4xx naming the column', async () => {
    const res = await svc.request('POST', '/v1/returns', {
      token: school,
      body: `urn,upn,date,am\n${URN},${upnFor(6)},2025-09-01,/\n`,
      contentType: 'text/csv',
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.json().detail).toMatch(/pm/);
  });

  it("shows a pupil's sessions by date with the school", async () => {
    const upn = upnFor(1);
    const res = await svc.request('GET', `/v1/pupils/${upn}/sessions?from=2025-09-01&to=2025-09-02`, { token: school });
    expect(res.status).toBe(200);
    expect(res.json().sessions).toEqual([
      { date: '2025-09-01', session: 'AM', code: '/', urn: URN },
      { date: '2025-09-01', session: 'PM', code: '/', urn: URN },
      { date: '2025-09-02', session: 'AM', code: '/', urn: URN },
      { date: '2025-09-02', session: 'PM', code: '/', urn: URN },
    ]);
  });
});

describe('nothing received is lost', () => {
  it('gives a school back the exact bytes it sent, accepted or rejected at the door', async () => {
    const csv = returnCsv([{ urn: URN, upn: upnFor(9), date: '2025-09-01', am: '/', pm: '/' }]);
    const ok = await upload(csv);
    const file = await svc.request('GET', `/v1/returns/${ok.json().returnId}/file`, { token: school });
    expect(file.status).toBe(200);
    expect(file.text).toBe(csv);

    const broken = 'urn,upn,date\nnot,a,return\n';
    const rejected = await svc.request('POST', '/v1/returns', { token: school, body: broken, contentType: 'text/csv' });
    expect(rejected.status).toBe(422);
    const kept = await svc.request('GET', `/v1/returns/${rejected.json().returnId}/file`, { token: school });
    expect(kept.status).toBe(200);
    expect(kept.text).toBe(broken);
    const status = (await svc.request('GET', `/v1/returns/${rejected.json().returnId}`, { token: school })).json();
    expect(status.status).toBe('rejected');
  });
});

describe('order of returns', () => {
  it("applies a school's returns in the order they were received, even when processing sees them out of order", async () => {
    const { processReturn } = await import('../../shared/app/apply-return.js');
    const { storedIngest } = await import('../../shared/app/wiring.js');
    const { createReturn } = await import('../../shared/store/returns.js');
    const { putBlob } = await import('../../shared/store/blobs.js');
    const upn = upnFor(31);
    const bucket = process.env.RETURNS_BUCKET as string;
    // Two returns for the same day: the first marks N, the second (received later) corrects it to I.
    const make = async (returnId: string, receivedAt: string, pm: string) => {
      // Outside returns/, so the S3 notification path leaves them alone and the test drives ingest.
      const key = `held/${URN}/${returnId}.csv`;
      await createReturn({
        returnId,
        urn: URN,
        status: 'received',
        format: 'csv',
        receivedAt,
        uploadedBy: { sub: 'x', role: 'school', urn: URN },
        objectKey: key,
      });
      await putBlob(bucket, key, returnCsv([{ urn: URN, upn, date: '2025-10-06', am: '/', pm }]), 'text/csv');
      return key;
    };
    const first = await make('rorder000001', '2025-10-06T09:00:00.000Z', 'N');
    const second = await make('rorder000002', '2025-10-06T09:05:00.000Z', 'I');
    await svc.settle();
    // The later return's message is processed first: the earlier return must still not win.
    await processReturn(storedIngest, 'rorder000002', bucket, second);
    await processReturn(storedIngest, 'rorder000001', bucket, first);
    await svc.settle();
    const sessions = (
      await svc.request('GET', `/v1/pupils/${upn}/sessions?from=2025-10-06&to=2025-10-06`, { token: school })
    ).json().sessions;
    expect(sessions.find((s: { session: string }) => s.session === 'PM').code).toBe('I');
    for (const id of ['rorder000001', 'rorder000002']) {
      expect((await svc.request('GET', `/v1/returns/${id}`, { token: school })).json().status).toBe('accepted');
    }
  });
});

describe('a whole school at once', () => {
  const BIG = '345678';
  it('accepts a 1,000-pupil day, reflects it in every pupil, and a re-post changes nothing', async () => {
    const big = await svc.token('school', { urn: BIG });
    const upns = Array.from({ length: 1000 }, (_, i) => upnFor(i, '999', String(4000 + Math.floor(i / 500))));
    const rows = upns.map((upn, i) => ({
      urn: BIG,
      upn,
      date: '2025-09-08',
      am: i % 10 === 0 ? 'I' : '/',
      pm: i % 25 === 0 ? 'N' : '/',
    }));
    const res = await upload(returnCsv(rows), big);
    expect((await svc.request('GET', `/v1/returns/${res.json().returnId}`, { token: big })).json()).toMatchObject({
      status: 'accepted',
      counts: { rows: 1000, accepted: 1000, rejected: 0 },
    });
    const view = async (i: number) =>
      (await svc.request('GET', `/v1/pupils/${upns[i]}?academicYear=2025`, { token: big })).json();
    expect((await view(0)).totals).toMatchObject({
      possibleSessions: 2,
      authorisedAbsenceSessions: 1,
      unauthorisedAbsenceSessions: 1,
    });
    expect((await view(1)).totals).toMatchObject({ possibleSessions: 2, absenceSessions: 0 });
    const school = async () =>
      (
        await svc.request('GET', `/v1/metrics?scope=school&urn=${BIG}&from=2025-08-01&to=2026-07-31`, { token: big })
      ).json().items[0];
    const before = await school();
    expect(before).toMatchObject({
      enrolments: 1000,
      possibleSessions: 2000,
      authorisedAbsenceSessions: 100,
      unauthorisedAbsenceSessions: 40,
    });
    await upload(returnCsv(rows), big);
    expect(await school()).toEqual(before);
  });

  it('applies a multi-day back-fill in one file', async () => {
    const days = weekdays('2025-09-15', '2025-09-26');
    const upns = [upnFor(60), upnFor(61)];
    const rows = days.flatMap((date, d) =>
      upns.map((upn, p) => ({ urn: URN, upn, date, am: p === 1 && d < 5 ? 'G' : '/', pm: '/' })),
    );
    const res = await upload(returnCsv(rows));
    expect((await svc.request('GET', `/v1/returns/${res.json().returnId}`, { token: school })).json()).toMatchObject({
      status: 'accepted',
      counts: { rows: 20, accepted: 20 },
      dates: { from: '2025-09-15', to: '2025-09-26' },
    });
    const second = (await svc.request('GET', `/v1/pupils/${upns[1]}?academicYear=2025`, { token: school })).json();
    expect(second.totals).toMatchObject({ possibleSessions: 20, unauthorisedAbsenceSessions: 5, absenceRate: 25 });
    expect(second.severeAbsence).toBe(false);
    expect(second.persistentAbsence).toBe(true);
  });
});
