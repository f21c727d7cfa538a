/**
 * Notifications from what the service holds (issue 19), on the embedded engines: the job gathers the
 * day's facts from the stores (returns sent through the API, the LA's care list, cases, schools) and
 * the recipients from the people store (addresses set by an administrator, choices by each person),
 * and each alert fires once for its condition and never for its near-miss: a looked-after child
 * marked late is not unexplained absence, 9 days' absence is not 10, a case due today or tomorrow is
 * not overdue, a school before the cut-off is not missing. The SES mailer is given the very message
 * the local outbox writes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { fileOutboxMailer, type Mailer } from '../../shared/mail/mailer.js';
import { sesMailer } from '../../shared/mail/ses-mailer.js';
import { gatherFacts, loadRecipients, runScheduledNotifications } from '../../shared/app/notifications.js';
import { DEFAULT_LA_SETTINGS } from '../../shared/config.js';
import { notificationsFor } from '../../shared/domain/notifications.js';
import { createReturn } from '../../shared/store/returns.js';
import { returnCsv, upnFor, weekdays } from '../support/returns.js';
import { startTestService, type TestService } from './harness.js';

const A = '100001';
const B = '100002';
const DATE = '2026-11-18'; // a Wednesday in term
const ABSENT = upnFor(11); // looked after, N this morning (unexplained), afternoon not marked
const LATE = upnFor(12); // looked after, L: late, not absent
const TEN_DAYS = upnFor(13); // looked after, ill for the 10 school days to DATE
const NINE_DAYS = upnFor(14); // looked after, ill for 9 (present the day before)
const NO_REGISTER = upnFor(15); // in the LA's care list, on no register
const UPNS = [ABSENT, LATE, TEN_DAYS, NINE_DAYS, NO_REGISTER];
const APP = 'http://127.0.0.1:3000';
const CUT_OFF = DEFAULT_LA_SETTINGS.returnCutOff; // 10:30
/** 11:00 and 10:00 in England on DATE (GMT in November). */
const AFTER_CUT_OFF = new Date(`${DATE}T11:00:00Z`);
const BEFORE_CUT_OFF = new Date(`${DATE}T10:00:00Z`);

let svc: TestService;
let outboxDir: string;
let caseId: string;
let triageDueOn: string;

const row = (urn: string, upn: string, date: string, am: string, pm: string) => ({
  urn,
  upn,
  date,
  am,
  pm,
  cla: 'Y',
  forename: 'Test',
  surname: 'Child',
});
const files = () =>
  readdirSync(outboxDir)
    .filter((f) => f.endsWith('.eml'))
    .sort();
const kindsOf = async (now: Date) =>
  notificationsFor(await gatherFacts({ now, appUrl: APP, returnCutOff: CUT_OFF }), await loadRecipients())
    .map((n) => `${n.kind}>${n.sub}`)
    .sort();

beforeAll(async () => {
  svc = await startTestService();
  outboxDir = join(svc.dataDir, 'outbox-gathered');
  const officer = await svc.token('la_officer', { sub: 'officer-1' });
  const admin = await svc.token('admin');
  const days = weekdays('2026-11-05', DATE);
  expect(days).toHaveLength(10);
  const rowsA = [
    row(A, ABSENT, DATE, 'N', ''),
    row(A, LATE, DATE, 'L', '/'),
    ...days.map((d) => row(A, TEN_DAYS, d, 'I', 'I')),
    ...days.map((d, i) => (i === 0 ? row(A, NINE_DAYS, d, '/', '/') : row(A, NINE_DAYS, d, 'I', 'I'))),
  ];
  const sentA = await svc.request('POST', '/v1/returns', {
    token: await svc.token('school', { urn: A }),
    body: returnCsv(rowsA),
  });
  expect(sentA.status).toBe(202);
  // School B's latest return is the day before: missing at the cut-off.
  const sentB = await svc.request('POST', '/v1/returns', {
    token: await svc.token('school', { urn: B }),
    body: returnCsv([{ urn: B, upn: upnFor(21, '999', '3001'), date: '2026-11-17', am: '/', pm: '/' }]),
  });
  expect(sentB.status).toBe(202);
  const care = await svc.request('POST', '/v1/cohorts', {
    token: officer,
    body: `upn,cohort,start_date,end_date\n${NO_REGISTER},cla,2025-09-01,\n`,
    contentType: 'text/csv',
  });
  expect(care.status).toBeLessThan(300);
  await svc.settle();
  // A return of school A refused on DATE (a whole-file rejection, as ingest records one).
  await createReturn({
    returnId: 'r0000000000000000000rej',
    urn: A,
    status: 'rejected',
    format: 'csv',
    receivedAt: `${DATE}T08:15:00.000Z`,
    uploadedBy: { sub: 'school-a', role: 'school', urn: A },
    objectKey: 'returns/x',
    rejection: { title: 'Unreadable', detail: 'not a CSV' },
  });

  const ref = await svc.request('POST', '/v1/referrals', {
    token: officer,
    body: { upn: ABSENT, urn: A, type: 'persistent_absence', reason: 'notifications test' },
  });
  expect(ref.status).toBe(201);
  caseId = ref.json().id;
  triageDueOn = ref.json().triageDueOn;

  for (const [sub, body] of [
    ['vsh-1', { email: 'vsh@la.example', role: 'vsh' }],
    ['officer-1', { email: 'o1@la.example', role: 'la_officer', name: 'Officer One' }],
    ['officer-2', { email: 'o2@la.example', role: 'la_officer' }],
    ['school-a', { email: 'office@a.example', role: 'school', urn: A }],
    ['school-b', { email: 'office@b.example', role: 'school', urn: B }],
  ] as const) {
    expect((await svc.request('PUT', `/v1/people/${sub}`, { token: admin, body })).status).toBe(200);
  }
}, 120_000);
afterAll(async () => svc?.stop());

describe('people and their choices (API)', () => {
  it('lets a person choose how often each kind for their role reaches them, and refuses a kind for another role', async () => {
    const t = await svc.token('la_officer', { sub: 'officer-1' });
    const mine = (await svc.request('GET', '/v1/me/notification-preferences', { token: t })).json();
    expect(mine.email).toBe('o1@la.example');
    expect(mine.kinds.map((k: { kind: string }) => k.kind)).toEqual([
      'case_overdue',
      'return_missing',
      'social_worker_absence',
    ]);
    expect(mine.kinds[0]).toMatchObject({ frequency: 'daily', default: 'daily', chosen: false });
    const set = await svc.request('PUT', '/v1/me/notification-preferences', {
      token: t,
      body: { preferences: { case_overdue: 'immediate' } },
    });
    expect(set.status).toBe(200);
    expect(set.json().kinds[0]).toMatchObject({ kind: 'case_overdue', frequency: 'immediate', chosen: true });
    const foreign = await svc.request('PUT', '/v1/me/notification-preferences', {
      token: t,
      body: { preferences: { vsh_unmarked: 'immediate' } },
    });
    expect(foreign.status).toBe(400);
    expect(foreign.json().errors).toEqual([expect.objectContaining({ field: 'preferences.vsh_unmarked' })]);
    const bad = await svc.request('PUT', '/v1/me/notification-preferences', {
      token: t,
      body: { preferences: { case_overdue: 'hourly' } },
    });
    expect(bad.status).toBe(400);
    // The person's own PUT never changes the address or role the administrator set.
    const people = (await svc.request('GET', '/v1/people', { token: await svc.token('admin') })).json().items;
    expect(people.find((p: { sub: string }) => p.sub === 'officer-1')).toMatchObject({
      email: 'o1@la.example',
      role: 'la_officer',
      preferences: { case_overdue: 'immediate' },
    });
  });

  it('refuses a person record that does not fit its role, and an address that is not one', async () => {
    const admin = await svc.token('admin');
    for (const body of [
      { email: 'x@la.example', role: 'school' },
      { email: 'x@la.example', role: 'vsh', urn: A },
      { email: 'not an address', role: 'vsh' },
      { email: 'x@la.example', role: 'vsh', extra: 1 },
    ]) {
      const res = await svc.request('PUT', '/v1/people/someone', { token: admin, body });
      expect([JSON.stringify(body), res.status]).toEqual([JSON.stringify(body), 400]);
    }
    expect((await svc.request('DELETE', '/v1/people/nobody-here', { token: admin })).status).toBe(404);
  });
});

describe('facts from the stores', () => {
  it('fires each alert for its condition and never for its near-miss', async () => {
    const facts = await gatherFacts({ now: AFTER_CUT_OFF, appUrl: APP, returnCutOff: CUT_OFF });
    // Late is not absence; the 10-day run is found, the 9-day one is not; the care-list child is on no register.
    expect(facts.lookedAfterMarks?.filter((m) => m.code === 'N' || m.code === 'O').map((m) => m.upn)).toEqual([ABSENT]);
    expect(facts.continuousAbsence).toEqual([{ upn: TEN_DAYS, since: '2026-11-05' }]);
    expect(facts.noRegister).toEqual([{ upn: NO_REGISTER, since: '2026-08-01' }]); // in care all year: the run began with the school year
    expect(facts.schools?.find((s) => s.urn === A)).toMatchObject({ latestDate: DATE, expected: true });
    expect(facts.schools?.find((s) => s.urn === B)).toMatchObject({ latestDate: '2026-11-17', expected: true });
    expect(facts.rejectedReturns?.map((r) => r.urn)).toEqual([A]);

    expect(await kindsOf(AFTER_CUT_OFF)).toEqual([
      'return_missing>officer-1',
      'return_missing>officer-2',
      'return_rejected>school-a',
      'vsh_continuous_absence>vsh-1',
      'vsh_no_register>vsh-1',
      'vsh_unexplained_absence>vsh-1',
      'vsh_unmarked>vsh-1',
    ]);
    const missing = notificationsFor(facts, await loadRecipients()).find((n) => n.kind === 'return_missing')!;
    expect(missing.body).toContain(B);
    expect(missing.body).not.toContain(`(${A})`);
    // Before the cut-off no school is missing yet.
    expect((await kindsOf(BEFORE_CUT_OFF)).filter((k) => k.startsWith('return_missing'))).toEqual([]);
  });

  it('tells the officers of a case the day after its triage due date, not on it and not the day before', async () => {
    const at = (date: string) => new Date(`${date}T12:00:00Z`);
    const day = (iso: string, n: number) =>
      new Date(Date.parse(`${iso}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
    const overdue = async (date: string) => (await kindsOf(at(date))).filter((k) => k.startsWith('case_overdue'));
    expect(await overdue(day(triageDueOn, -1))).toEqual([]);
    expect(await overdue(triageDueOn)).toEqual([]);
    expect(await overdue(day(triageDueOn, 1))).toEqual(['case_overdue>officer-1', 'case_overdue>officer-2']);
    const n = notificationsFor(
      await gatherFacts({ now: at(day(triageDueOn, 1)), appUrl: APP, returnCutOff: CUT_OFF }),
      await loadRecipients(),
    ).find((x) => x.kind === 'case_overdue')!;
    expect(n.link).toBe(`${APP}/#/cases/${caseId}`);
  });
});

describe('the scheduled job', () => {
  it('sends once, sends nothing new when run again, and keeps failures visible to the administrator', async () => {
    const first = await runScheduledNotifications({
      run: 'immediate',
      mailer: fileOutboxMailer(outboxDir),
      appUrl: APP,
      returnCutOff: CUT_OFF,
      now: AFTER_CUT_OFF,
    });
    expect(first).toMatchObject({ date: DATE, queued: 6, sent: 6, failed: 0 });
    const again = await runScheduledNotifications({
      run: 'immediate',
      mailer: fileOutboxMailer(outboxDir),
      appUrl: APP,
      returnCutOff: CUT_OFF,
      now: AFTER_CUT_OFF,
    });
    expect(again).toMatchObject({ queued: 0, alreadyQueued: 6, sent: 0, failed: 0 });
    expect(files()).toHaveLength(6);
    // No UPN anywhere in what SES would be given: headers (the key travels as one) or body.
    for (const f of files()) {
      const raw = readFileSync(join(outboxDir, f), 'utf8');
      const [headers, b64] = raw.split('\r\n\r\n');
      for (const text of [headers, Buffer.from(b64.replace(/\r\n/g, ''), 'base64').toString('utf8')])
        for (const upn of UPNS) expect(text).not.toContain(upn);
    }

    // The digest: one per person with "daily" items — the VSH's, for the afternoon not marked. SES refuses it.
    const failing: Mailer = {
      send: () => Promise.reject(new Error('MessageRejected: Email address is not verified.')),
    };
    const digest = await runScheduledNotifications({
      run: 'digest',
      mailer: failing,
      appUrl: APP,
      returnCutOff: CUT_OFF,
      now: new Date(`${DATE}T16:00:00Z`),
    });
    expect(digest).toMatchObject({ queued: 1, sent: 0, failed: 1 });

    const admin = await svc.token('admin');
    const outbox = (await svc.request('GET', '/v1/notifications/outbox', { token: admin })).json();
    expect(outbox.counts).toEqual({ pending: 0, sent: 6, failed: 1 });
    const failed = (await svc.request('GET', '/v1/notifications/outbox?status=failed', { token: admin })).json();
    expect(failed.items).toEqual([
      expect.objectContaining({
        key: `digest:vsh-1:${DATE}`,
        digest: true,
        status: 'failed',
        attempts: 1,
        lastError: expect.stringContaining('not verified'),
      }),
    ]);
    expect(outbox.items.every((i: { body?: string }) => i.body === undefined)).toBe(true);
    for (const i of outbox.items) for (const upn of UPNS) expect(JSON.stringify(i)).not.toContain(upn);
    expect(
      (await svc.request('GET', '/v1/notifications/outbox', { token: await svc.token('la_officer') })).status,
    ).toBe(403);
    expect((await svc.request('GET', '/v1/notifications/outbox?status=lost', { token: admin })).status).toBe(400);
  });

  it('gives SES exactly the message the local outbox holds', async () => {
    const sent: Array<{ input: any }> = [];
    const spy = vi.spyOn(SESv2Client.prototype, 'send').mockImplementation(async (command: any) => {
      sent.push(command);
      return { MessageId: 'ses-message-1' } as never;
    });
    try {
      const message = {
        to: 'vsh@la.example',
        subject: 'Looked-after children: unexplained absence on 2026-11-18',
        preview: '1 looked-after child absent with no reason given (1 session).',
        text: 'body',
        link: `${APP}/#/virtual-school`,
        key: 'k1',
      };
      expect(await sesMailer('Attendance Hub <attendance@hub.example.gov.uk>').send(message)).toEqual({
        messageId: 'ses-message-1',
      });
      const local = fileOutboxMailer(
        join(svc.dataDir, 'outbox-compare'),
        'Attendance Hub <attendance@hub.example.gov.uk>',
      );
      await local.send(message);
      const file = readdirSync(join(svc.dataDir, 'outbox-compare'))[0];
      const onDisk = readFileSync(join(svc.dataDir, 'outbox-compare', file), 'utf8');
      const given = sent[0].input;
      expect(given.Destination).toEqual({ ToAddresses: ['vsh@la.example'] });
      expect(given.FromEmailAddress).toBe('Attendance Hub <attendance@hub.example.gov.uk>');
      const raw = Buffer.from(given.Content.Raw.Data).toString('utf8');
      // The same message but for the moment it was written and the id SES replaces.
      const comparable = (m: string) =>
        m.replace(/^Date: .*$/m, 'Date: -').replace(/^Message-ID: .*$/m, 'Message-ID: -');
      expect(comparable(raw)).toBe(comparable(onDisk));
    } finally {
      spy.mockRestore();
    }
  });
});
