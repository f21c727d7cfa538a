/**
 * The notification job on the embedded engines (issue 19): each alert is queued and sent once for its
 * condition and never for its near-miss; re-running sends nothing new; a failed send stays visible
 * and is retried; the local outbox holds exactly the raw messages SES would receive, with no pupil
 * name or UPN in a subject line or preview.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileOutboxMailer, type Mailer } from '../../shared/mail/mailer.js';
import { runNotificationJob } from '../../shared/app/notifications.js';
import type { NotificationFacts, Recipient } from '../../shared/domain/notifications.js';
import { listOutbox } from '../../shared/store/outbox.js';
import { startTestService, type TestService } from './harness.js';

let svc: TestService;
let outboxDir: string;
const UPN = 'A999200120011';
const LATE_UPN = 'B999200120012';
const DATE = '2026-11-18';
const recipients: Recipient[] = [
  { sub: 'vsh-1', role: 'vsh', email: 'vsh@la.example' },
  { sub: 'officer-1', role: 'la_officer', email: 'o1@la.example', preferences: { case_overdue: 'immediate' } }, // default: the digest
  { sub: 'school-100001', role: 'school', urn: '100001', email: 'office@alpha.example' },
];
const facts: NotificationFacts = {
  date: DATE,
  appUrl: 'http://127.0.0.1:3000',
  lookedAfterMarks: [
    { upn: UPN, session: 'AM', code: 'N', urn: '100001' },
    { upn: LATE_UPN, session: 'AM', code: 'L', urn: '100001' }, // late: not unexplained absence
  ],
  cases: [
    { id: 'ref0000000001aaaaaaaaaaaa', status: 'submitted', assignee: 'officer-1', triageDueOn: '2026-11-17' }, // overdue
    { id: 'ref0000000002bbbbbbbbbbbb', status: 'submitted', assignee: 'officer-1', triageDueOn: '2026-11-19' }, // due tomorrow
  ],
  rejectedReturns: [{ returnId: 'r0000000001', urn: '100001', receivedAt: '2026-11-18T08:00:00Z' }],
};

const files = () =>
  readdirSync(outboxDir)
    .filter((f) => f.endsWith('.eml'))
    .sort();
function decoded(file: string): { headers: string; body: string } {
  const raw = readFileSync(join(outboxDir, file), 'utf8');
  const [headers, b64] = raw.split('\r\n\r\n');
  return { headers, body: Buffer.from(b64.replace(/\r\n/g, ''), 'base64').toString('utf8') };
}

beforeAll(async () => {
  svc = await startTestService();
  outboxDir = join(svc.dataDir, 'outbox');
});
afterAll(async () => {
  await svc?.stop();
});

describe('the notification job', () => {
  it('sends each alert once for its condition, never for its near-miss', async () => {
    const first = await runNotificationJob({ facts, recipients, mailer: fileOutboxMailer(outboxDir) });
    expect(first).toEqual({ queued: 3, alreadyQueued: 0, sent: 3, failed: 0 });
    const held = await listOutbox();
    expect(held.map((i) => `${i.kind}>${i.sub}:${i.status}`).sort()).toEqual([
      'case_overdue>officer-1:sent',
      'return_rejected>school-100001:sent',
      'vsh_unexplained_absence>vsh-1:sent',
    ]);
    expect(held.find((i) => i.kind === 'case_overdue')!.link).toContain('ref0000000001aaaaaaaaaaaa');
  });

  it('shows in the local outbox exactly the messages SES would receive, with no pupil name or UPN in subject or preview', () => {
    const sent = files().map(decoded);
    expect(sent).toHaveLength(3);
    for (const m of sent) {
      expect(m.headers).toMatch(
        /^From: Attendance Hub <no-reply@attendance-hub\.local>\r\nTo: \S+@\S+\r\nSubject: .+\r\nDate: .+\r\nMessage-ID: <[0-9a-f]+@attendance-hub\.local>/,
      );
      const subject = /Subject: (.*)/.exec(m.headers)![1];
      const preview = m.body.split('\r\n')[0];
      for (const text of [subject, preview, m.body]) {
        expect(text).not.toContain(UPN);
        expect(text).not.toContain(LATE_UPN);
      }
      expect(m.body).toMatch(/Open Attendance Hub: http:\/\/127\.0\.0\.1:3000\/#\//);
    }
    expect(sent.map((m) => /To: (.*)/.exec(m.headers)![1]).sort()).toEqual([
      'o1@la.example',
      'office@alpha.example',
      'vsh@la.example',
    ]);
  });

  it('sends nothing new when run again', async () => {
    const before = files().length;
    const again = await runNotificationJob({ facts, recipients, mailer: fileOutboxMailer(outboxDir) });
    expect(again).toEqual({ queued: 0, alreadyQueued: 3, sent: 0, failed: 0 });
    expect(files()).toHaveLength(before);
  });

  it('keeps a failed send visible with its error, and retries it on the next run', async () => {
    const failing: Mailer = { send: () => Promise.reject(new Error('SES throttled')) };
    const more: NotificationFacts = { ...facts, noRegister: [{ upn: UPN, since: '2026-08-01' }] };
    const failed = await runNotificationJob({ facts: more, recipients, mailer: failing });
    expect(failed).toEqual({ queued: 1, alreadyQueued: 3, sent: 0, failed: 1 });
    expect(
      (await listOutbox({ status: 'failed' })).map((i) => ({
        kind: i.kind,
        attempts: i.attempts,
        lastError: i.lastError,
      })),
    ).toEqual([{ kind: 'vsh_no_register', attempts: 1, lastError: 'SES throttled' }]);
    const retried = await runNotificationJob({ facts: more, recipients, mailer: fileOutboxMailer(outboxDir) });
    expect(retried).toEqual({ queued: 0, alreadyQueued: 4, sent: 1, failed: 0 });
    expect(await listOutbox({ status: 'failed' })).toEqual([]);
    expect(files()).toHaveLength(4);
  });

  it('sends the daily digest once per person and day', async () => {
    const daily: Recipient[] = recipients.map((r) => ({ ...r, preferences: { case_overdue: 'daily' } }));
    const tomorrow: NotificationFacts = { date: '2026-11-19', appUrl: facts.appUrl, cases: facts.cases };
    const digest = await runNotificationJob({
      facts: tomorrow,
      recipients: daily,
      mailer: fileOutboxMailer(outboxDir),
      digest: true,
    });
    expect(digest).toEqual({ queued: 1, alreadyQueued: 0, sent: 1, failed: 0 });
    const again = await runNotificationJob({
      facts: tomorrow,
      recipients: daily,
      mailer: fileOutboxMailer(outboxDir),
      digest: true,
    });
    expect(again.sent).toBe(0);
    const mail = decoded(files().at(-1)!);
    expect(mail.headers).toContain('Subject: Attendance Hub: your daily summary for 2026-11-19');
    expect(mail.body).toContain('ref0000000001aaaaaaaaaaaa');
  });
});
