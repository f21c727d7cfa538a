/**
 * The referral lifecycle through the HTTP API on the embedded engines: a school refers a pupil for a
 * penalty notice; an officer triages and allocates; a notice to improve is recorded and evaluated
 * against the marks; first and second notices go to two parents and a third is refused with the
 * reason; the case closes with an outcome. Also the HTTP preconditions (428/412/409), idempotent
 * creates, scope (404 for another school's case), the append-only history, lists, CSV and suggestions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from './harness.js';
import { returnCsv, upnFor, weekdays } from '../support/returns.js';
import { updateReferral } from '../../shared/domain/referrals.js';
import { k } from '../../shared/store/keys.js';
import { getReferral } from '../../shared/store/referrals.js';
import { putItem } from '../../shared/store/table.js';

const URN_A = '100001';
const URN_B = '100002';
const P1 = upnFor(11); // the referred pupil: 12 G sessions in September, an O during the notice to improve (N, reason not yet provided, would not count: docs/design.md §2.5)
const P2 = upnFor(12); // severely absent (all illness), never referred: a suggestion
const P3 = upnFor(13, '999', '3001'); // at school B
const DAYS = weekdays('2025-09-01', '2025-11-28');
const G_DAYS = new Set(['2025-09-15', '2025-09-16', '2025-09-17', '2025-09-18', '2025-09-19', '2025-09-22']);

let svc: TestService;
let schoolA: string;
let schoolB: string;
let officer: string;
let vsh: string;
let id: string;
let version: number;

async function upload(csv: string, token: string) {
  const res = await svc.request('POST', '/v1/returns', { token, body: csv, contentType: 'text/csv' });
  expect(res.status).toBe(202);
  await svc.settle();
}

const etagOf = (v: number) => `"${v}"`;

async function patch(body: unknown, ifMatch?: string, token = officer) {
  return svc.request('PATCH', `/v1/referrals/${id}`, {
    token,
    body,
    headers: ifMatch === undefined ? {} : { 'if-match': ifMatch },
  });
}

async function post(body: unknown, ifMatch: string | undefined = etagOf(version), token = officer) {
  const res = await svc.request('POST', `/v1/referrals/${id}/events`, {
    token,
    body,
    headers: ifMatch === undefined ? {} : { 'if-match': ifMatch },
  });
  if (res.status === 201) version = res.json().version;
  return res;
}

beforeAll(async () => {
  svc = await startTestService();
  schoolA = await svc.token('school', { urn: URN_A, sub: 'school-a-office' });
  schoolB = await svc.token('school', { urn: URN_B, sub: 'school-b-office' });
  officer = await svc.token('la_officer', { sub: 'officer-1' });
  vsh = await svc.token('vsh', { sub: 'vsh-1' });
  await upload(
    returnCsv([
      ...DAYS.map((date) => ({
        urn: URN_A,
        upn: P1,
        date,
        forename: 'Sam',
        surname: 'Smith',
        year_group: '8',
        am: G_DAYS.has(date) ? 'G' : date === '2025-11-10' ? 'O' : '/',
        pm: G_DAYS.has(date) ? 'G' : '/',
      })),
      ...DAYS.map((date) => ({
        urn: URN_A,
        upn: P2,
        date,
        am: 'I',
        pm: 'I',
        forename: 'Alex',
        surname: 'Jones',
        year_group: '9',
      })),
    ]),
    schoolA,
  );
  await upload(returnCsv(DAYS.slice(0, 5).map((date) => ({ urn: URN_B, upn: P3, date, am: '/', pm: '/' }))), schoolB);
});
afterAll(async () => svc?.stop());

describe('referral lifecycle', () => {
  const create = {
    upn: P1,
    urn: URN_A,
    type: 'penalty_notice_request',
    reason: '12 unauthorised sessions (G) in September',
    parents: [
      { id: 'mum-1', name: 'Ann Smith', relationship: 'mother' },
      { id: 'dad-1', name: 'Bob Smith', relationship: 'father' },
    ],
  };

  it('lets a school refer its pupil: 201, submitted, version 1, evidence snapshot and the created event', async () => {
    const res = await svc.request('POST', '/v1/referrals', {
      token: schoolA,
      body: create,
      headers: { 'idempotency-key': 'ref-p1-001' },
    });
    expect(res.status).toBe(201);
    const body = res.json();
    id = body.id;
    version = body.version;
    expect(res.headers.etag).toBe('"1"');
    expect(res.headers.location).toBe(`/v1/referrals/${id}`);
    expect(body).toMatchObject({
      status: 'submitted',
      version: 1,
      upn: P1,
      urn: URN_A,
      type: 'penalty_notice_request',
      priority: 'normal',
      assignee: null,
      open: true,
      overdue: false,
    });
    expect(body.allowedTransitions).toEqual(['triaged', 'withdrawn']);
    expect(body.evidence.pupil).toMatchObject({ forename: 'Sam', surname: 'Smith', yearGroup: '8' });
    expect(body.evidence.totals).toMatchObject({
      possibleSessions: DAYS.length * 2,
      unauthorisedAbsenceSessions: 13,
      codes: { G: 12, O: 1 },
    });
    expect(body.evidence.enrolments).toEqual([expect.objectContaining({ urn: URN_A })]);
    expect(body.triageDueOn > body.createdOn).toBe(true);
    expect(body.parents.map((p: { id: string }) => p.id)).toEqual(['mum-1', 'dad-1']);
    expect(body.events).toEqual([
      expect.objectContaining({ seq: 1, kind: 'created', by: { sub: 'school-a-office', role: 'school', urn: URN_A } }),
    ]);
  });

  it('returns the same case for a repeated create with the same Idempotency-Key', async () => {
    const res = await svc.request('POST', '/v1/referrals', {
      token: schoolA,
      body: create,
      headers: { 'idempotency-key': 'ref-p1-001' },
    });
    expect(res.status).toBe(201);
    expect(res.headers['idempotent-replayed']).toBe('true');
    expect(res.json().id).toBe(id);
    const list = (await svc.request('GET', `/v1/referrals?upn=${P1}`, { token: officer })).json();
    expect(list.items.map((i: { id: string }) => i.id)).toEqual([id]);
  });

  it('refuses the same Idempotency-Key with a different body (422)', async () => {
    const res = await svc.request('POST', '/v1/referrals', {
      token: schoolA,
      body: { ...create, reason: 'something else' },
      headers: { 'idempotency-key': 'ref-p1-001' },
    });
    expect(res.status).toBe(422);
    expect(res.json().code).toBe('idempotency_key_reused');
  });

  it('refuses a school referring a pupil of another school: 403 for another URN, 404 for a pupil not on its roll', async () => {
    expect(
      (await svc.request('POST', '/v1/referrals', { token: schoolA, body: { ...create, upn: P3, urn: URN_B } })).status,
    ).toBe(403);
    expect(
      (await svc.request('POST', '/v1/referrals', { token: schoolA, body: { ...create, upn: P3, urn: URN_A } })).status,
    ).toBe(404);
  });

  it("hides a school's cases from another school (404) and from its lists", async () => {
    expect((await svc.request('GET', `/v1/referrals/${id}`, { token: schoolB })).status).toBe(404);
    const res = await svc.request('POST', '/v1/referrals', {
      token: schoolB,
      body: { upn: P3, urn: URN_B, type: 'persistent_absence', reason: 'x' },
    });
    expect(res.status).toBe(201);
    const bList = (await svc.request('GET', '/v1/referrals', { token: schoolB })).json();
    expect(bList.items.map((i: { urn: string }) => i.urn)).toEqual([URN_B]);
    const aList = (await svc.request('GET', '/v1/referrals', { token: schoolA })).json();
    expect(aList.items.map((i: { id: string }) => i.id)).toEqual([id]);
    expect((await svc.request('GET', `/v1/referrals?urn=${URN_B}`, { token: schoolA })).status).toBe(404);
    expect((await svc.request('GET', `/v1/referrals/${res.json().id}`, { token: schoolA })).status).toBe(404);
  });

  it('hides cases about pupils outside the Virtual School from the VSH (404)', async () => {
    expect((await svc.request('GET', `/v1/referrals/${id}`, { token: vsh })).status).toBe(404);
    expect((await svc.request('GET', '/v1/referrals', { token: vsh })).json().items).toEqual([]);
  });

  it('requires If-Match on a change (428)', async () => {
    const res = await patch({ status: 'triaged' });
    expect(res.status).toBe(428);
    expect(res.headers['content-type']).toContain('application/problem+json');
  });

  it('refuses an invalid transition with 409 listing the allowed ones', async () => {
    const res = await patch({ status: 'allocated', assignee: 'officer-2' }, etagOf(1));
    expect(res.status).toBe(409);
    expect(res.json()).toMatchObject({
      status: 409,
      code: 'invalid_transition',
      from: 'submitted',
      to: 'allocated',
      allowed: ['triaged', 'withdrawn'],
    });
  });

  it('does not let the referring school triage its own case (403)', async () => {
    expect((await patch({ status: 'triaged' }, etagOf(1), schoolA)).status).toBe(403);
  });

  it('lets an officer triage (version 2), then refuses a stale version with 412', async () => {
    const res = await patch(
      { status: 'triaged', priority: 'high', note: 'threshold met; school support exhausted' },
      etagOf(1),
    );
    expect(res.status).toBe(200);
    expect(res.headers.etag).toBe('"2"');
    expect(res.json()).toMatchObject({ status: 'triaged', priority: 'high', version: 2, triagedLate: false });
    const stale = await patch({ status: 'allocated', assignee: 'officer-2' }, etagOf(1));
    expect(stale.status).toBe(412);
    expect(stale.json().currentVersion).toBe(2);
  });

  it('allocates to an officer with the current version', async () => {
    const res = await patch({ status: 'allocated', assignee: 'officer-2' }, 'W/"2"');
    expect(res.status).toBe(200);
    version = res.json().version;
    expect(res.json()).toMatchObject({ status: 'allocated', assignee: 'officer-2', version: 3 });
  });

  it('records a notice to improve (the case moves to in_progress) and evaluates it against the marks', async () => {
    const res = await post({
      kind: 'action',
      type: 'notice_to_improve',
      date: '2025-10-31',
      startDate: '2025-11-03',
      periodDays: 15,
    });
    expect(res.status).toBe(201);
    const body = res.json();
    expect(body.status).toBe('in_progress');
    expect(body.actions[0]).toMatchObject({
      id: 'A1',
      type: 'notice_to_improve',
      noticeToImprove: { startDate: '2025-11-03', periodDays: 15 },
    });
    expect(body.events.at(-1).changes).toEqual([
      { field: 'status', from: 'allocated', to: 'in_progress' },
      { field: 'actions', from: null, to: 'A1' },
    ]);
    const nti = body.noticesToImprove[0];
    expect(nti).toMatchObject({ actionId: 'A1', startDate: '2025-11-03', periodDays: 15 });
    expect(nti.evaluation).toMatchObject({ status: 'not_met', firstDay: '2025-11-03', lastDay: '2025-11-21' });
    expect(nti.evaluation.unauthorisedSessions).toEqual([
      expect.objectContaining({ date: '2025-11-10', session: 'AM', code: 'O', urn: URN_A }),
    ]);
  });

  it('issues first and second penalty notices to two parents, with sequence and amounts', async () => {
    for (const [parentId, date] of [
      ['mum-1', '2025-10-06'],
      ['dad-1', '2025-10-06'],
      ['mum-1', '2025-11-17'],
      ['dad-1', '2025-11-17'],
    ]) {
      const res = await post({ kind: 'action', type: 'penalty_notice_issued', date, parentId });
      expect(res.status).toBe(201);
    }
    const body = (await svc.request('GET', `/v1/referrals/${id}`, { token: officer })).json();
    expect(
      body.penaltyNotices.map(
        (n: { parentId: string; sequence: number; amount: { full: number; reduced: number | null } }) => [
          n.parentId,
          n.sequence,
          n.amount.full,
          n.amount.reduced,
        ],
      ),
    ).toEqual([
      ['mum-1', 1, 160, 80],
      ['dad-1', 1, 160, 80],
      ['mum-1', 2, 160, null],
      ['dad-1', 2, 160, null],
    ]);
  });

  it('refuses a third notice within 3 years with 409, the reason and the alternatives, recording nothing', async () => {
    const before = version;
    const res = await post({ kind: 'action', type: 'penalty_notice_issued', date: '2025-11-24', parentId: 'mum-1' });
    expect(res.status).toBe(409);
    const p = res.json();
    expect(p).toMatchObject({
      code: 'penalty_notice_refused',
      refusal: 'third_within_period',
      alternatives: ['prosecution', 'education_supervision_order'],
      nextAllowedOn: '2028-10-06',
    });
    expect(p.detail).toContain('A third penalty notice cannot be issued');
    const now = await svc.request('GET', `/v1/referrals/${id}`, { token: officer });
    expect(now.json().version).toBe(before);
  });

  it('records a payment within 21 days at £80', async () => {
    const res = await post({ kind: 'action', type: 'penalty_notice_paid', date: '2025-10-27', noticeId: 'A2' });
    expect(res.status).toBe(201);
    expect(res.json().penaltyNotices[0]).toMatchObject({ actionId: 'A2', status: 'paid', amountPaid: 80 });
  });

  it('lets the school add a note but not an action', async () => {
    expect((await post({ kind: 'note', text: 'Parents attended the meeting' }, etagOf(version), schoolA)).status).toBe(
      201,
    );
    expect((await post({ kind: 'action', type: 'letter', date: '2025-11-20' }, etagOf(version), schoolA)).status).toBe(
      403,
    );
  });

  it('closes the case with an outcome; a closed case cannot be withdrawn (409, nothing allowed)', async () => {
    const res = await post({ kind: 'outcome', type: 'prosecution', summary: 'Referred to legal services for s444' });
    expect(res.status).toBe(201);
    expect(res.json()).toMatchObject({
      status: 'closed',
      open: false,
      outcome: { type: 'prosecution' },
      allowedTransitions: [],
    });
    const w = await patch({ status: 'withdrawn', reason: 'x' }, etagOf(version));
    expect(w.status).toBe(409);
    expect(w.json()).toMatchObject({ code: 'case_final', allowed: [] });
  });

  it('keeps the whole history append-only: one event per version, none changeable or deletable through the API', async () => {
    const body = (await svc.request('GET', `/v1/referrals/${id}`, { token: officer })).json();
    expect(body.events.map((e: { seq: number }) => e.seq)).toEqual(
      Array.from({ length: body.version }, (_, i) => i + 1),
    );
    expect(body.events.map((e: { kind: string }) => e.kind)).toEqual([
      'created',
      'updated',
      'updated',
      'action',
      'action',
      'action',
      'action',
      'action',
      'action',
      'note',
      'updated',
    ]);
    expect(body.events[1]).toMatchObject({
      by: { sub: 'officer-1', role: 'la_officer' },
      note: 'threshold met; school support exhausted',
      changes: [
        { field: 'status', from: 'submitted', to: 'triaged' },
        { field: 'priority', from: 'normal', to: 'high' },
      ],
    });
    for (const method of ['DELETE', 'PUT']) {
      expect([404, 405]).toContain((await svc.request(method, `/v1/referrals/${id}`, { token: officer })).status);
      expect([404, 405]).toContain(
        (await svc.request(method, `/v1/referrals/${id}/events`, { token: officer })).status,
      );
      expect([404, 405]).toContain(
        (await svc.request(method, `/v1/referrals/${id}/events/1`, { token: officer })).status,
      );
    }
    const edit = await patch({ events: [] }, etagOf(version));
    expect(edit.status).toBe(400);
    const after = (await svc.request('GET', `/v1/referrals/${id}`, { token: officer })).json();
    expect(after.events).toEqual(body.events);
  });
});

describe('referral lists, export and suggestions', () => {
  it('filters by status, type, school, assignee and overdue, newest first, with paging', async () => {
    const q = async (qs: string) =>
      (await svc.request('GET', `/v1/referrals?${qs}`, { token: officer }))
        .json()
        .items.map((i: { id: string }) => i.id);
    expect(await q('status=closed')).toEqual([id]);
    expect(await q('type=penalty_notice_request')).toEqual([id]);
    expect(await q(`urn=${URN_A}`)).toEqual([id]);
    expect(await q('assignee=officer-2')).toEqual([id]);
    expect(await q('overdue=true')).toEqual([]);
    const all = await q('');
    expect(all).toHaveLength(2);
    expect(all[1]).toBe(id); // newest first: school B's case came later
    const first = (await svc.request('GET', '/v1/referrals?limit=1', { token: officer })).json();
    expect(first.items).toHaveLength(1);
    const second = (
      await svc.request('GET', `/v1/referrals?limit=1&cursor=${first.nextCursor}`, { token: officer })
    ).json();
    expect([first.items[0].id, second.items[0].id]).toEqual(all);
    expect(second.nextCursor).toBeNull();
    expect((await svc.request('GET', '/v1/referrals?cursor=nonsense', { token: officer })).status).toBe(400);
  });

  it('exports the list as spreadsheet-safe CSV', async () => {
    const res = await svc.request('GET', `/v1/referrals?urn=${URN_A}`, {
      token: officer,
      headers: { accept: 'text/csv' },
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('text/csv');
    const lines = res.text
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n');
    expect(lines[0]).toBe(
      'id,upn,forename,surname,urn,type,status,priority,assignee,createdAt,triageDueOn,overdue,triagedAt,closedAt,outcome,reason',
    );
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(`${id},${P1},Sam,Smith,${URN_A},penalty_notice_request,closed,high,officer-2`);
  });

  it('suggests a severely absent pupil with no open case, and not a pupil whose case is open', async () => {
    const res = await svc.request('GET', '/v1/referrals/suggestions?academicYear=2025', { token: officer });
    expect(res.status).toBe(200);
    const items = res.json().items as Array<{ upn: string; suggestedType: string }>;
    expect(items).toContainEqual(expect.objectContaining({ upn: P2, suggestedType: 'severe_absence' }));
    const open = await svc.request('POST', '/v1/referrals', {
      token: officer,
      body: { upn: P2, urn: URN_A, type: 'illness_15_days', reason: 'long illness' },
    });
    expect(open.status).toBe(201);
    const after = (await svc.request('GET', '/v1/referrals/suggestions?academicYear=2025', { token: officer })).json()
      .items as Array<{ upn: string }>;
    expect(after.map((s) => s.upn)).not.toContain(P2);
  });

  it('lets the referrer withdraw its own case while it is submitted', async () => {
    const created = (
      await svc.request('POST', '/v1/referrals', {
        token: schoolB,
        body: { upn: P3, urn: URN_B, type: 'other', reason: 'sent in error?' },
      })
    ).json();
    const res = await svc.request('PATCH', `/v1/referrals/${created.id}`, {
      token: schoolB,
      body: { status: 'withdrawn', reason: 'sent in error' },
      headers: { 'if-match': '"1"' },
    });
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ status: 'withdrawn', withdrawalReason: 'sent in error', open: false });
  });
});

describe('referral writes without transactions', () => {
  it('answers one of two concurrent changes from the same version with 412', async () => {
    const created = (
      await svc.request('POST', '/v1/referrals', {
        token: officer,
        body: { upn: P3, urn: URN_B, type: 'early_help', reason: 'family support' },
      })
    ).json();
    const send = (priority: string) =>
      svc.request('PATCH', `/v1/referrals/${created.id}`, {
        token: officer,
        body: { priority },
        headers: { 'if-match': '"1"' },
      });
    const statuses = (await Promise.all([send('high'), send('urgent')])).map((r) => r.status).sort();
    expect(statuses).toEqual([200, 412]);
    const after = (await svc.request('GET', `/v1/referrals/${created.id}`, { token: officer })).json();
    expect(after.version).toBe(2);
    expect(after.events).toHaveLength(2);
  });

  it('rolls a case forward from its event when a writer stopped after recording the event', async () => {
    const created = (
      await svc.request('POST', '/v1/referrals', {
        token: officer,
        body: { upn: P3, urn: URN_B, type: 'other', reason: 'crash test' },
      })
    ).json();
    const stored = await getReferral(created.id);
    if (!stored) throw new Error('not stored');
    // What appendChange writes first; the case item is deliberately not written (the writer "crashed").
    const { referral, event } = updateReferral(
      stored.referral,
      { status: 'triaged' },
      { actor: { sub: 'officer-1', role: 'la_officer' }, at: new Date().toISOString(), today: '2025-12-01' },
    );
    const { evidence: _evidence, ...state } = referral;
    await putItem({ ...k.referralEvent(referral.id, event.seq), referralId: referral.id, ...event, state });
    const stale = await svc.request('PATCH', `/v1/referrals/${created.id}`, {
      token: officer,
      body: { priority: 'low' },
      headers: { 'if-match': '"1"' },
    });
    expect(stale.status).toBe(412);
    const res = await svc.request('GET', `/v1/referrals/${created.id}`, { token: officer });
    expect(res.json()).toMatchObject({ status: 'triaged', version: 2 });
    expect(res.headers.etag).toBe('"2"');
    expect(res.json().events.map((e: { seq: number }) => e.seq)).toEqual([1, 2]);
    expect(res.json().evidence).toEqual(created.evidence);
  });
});
