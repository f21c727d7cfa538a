/**
 * The outbox does not grow into every run's reading (issue 19; docs/notifications.md): with many sent
 * notifications held, a run reads none of them — only the pending and failed partitions of the status
 * index, and each due item again before sending — and still sends nothing twice; the administrator
 * pages the outbox newest first, 50 a page, with signed cursors bound to the status asked for; and
 * notifications stored before the status index are given their entries once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Mailer, OutgoingMessage } from '../../shared/app/notifications.js';
import { runNotificationJob } from '../../shared/app/notifications.js';
import type { NotificationFacts, Recipient } from '../../shared/domain/notifications.js';
import { documentClient } from '../../shared/store/clients.js';
import { enqueue, ensureOutboxIndexed, listDue, listOutbox, markSent, pageOutbox } from '../../shared/store/outbox.js';
import { k } from '../../shared/store/keys.js';
import { getItem, putItem } from '../../shared/store/table.js';
import { startTestService, type TestService } from './harness.js';

let svc: TestService;
const SENT = 130;
const recipients: Recipient[] = [
  { sub: 'officer-1', role: 'la_officer', email: 'o1@la.example', preferences: { case_overdue: 'immediate' } },
];
const facts: NotificationFacts = {
  date: '2026-11-18',
  appUrl: 'http://127.0.0.1:3000',
  cases: [{ id: 'ref0000000001aaaaaaaaaaaa', status: 'submitted', assignee: 'officer-1', triageDueOn: '2026-11-17' }],
};

/** What DynamoDB hands back while `fn` runs: items read (by status) and items a query looked at. */
async function reading<T>(
  fn: () => Promise<T>,
): Promise<{ result: T; statuses: string[]; scanned: number; requests: string[] }> {
  const seen = { statuses: [] as string[], scanned: 0, requests: [] as string[] };
  const stack = documentClient().middlewareStack;
  const name = 'outbox-test-reads';
  stack.add(
    ((next: (a: unknown) => Promise<{ output: Record<string, unknown> }>, context: { commandName?: string }) =>
      async (args: unknown) => {
        const res = await next(args);
        type Read = Record<string, string | { S?: string }>; // plain or marshalled, whichever this step sees
        const out = res.output as { Items?: Read[]; Item?: Read; ScannedCount?: number };
        seen.requests.push(context.commandName ?? '?');
        for (const item of [...(out.Items ?? []), ...(out.Item ? [out.Item] : [])]) {
          const status = typeof item.status === 'string' ? item.status : item.status?.S;
          if (status) seen.statuses.push(status);
        }
        seen.scanned += out.ScannedCount ?? 0;
        return res;
      }) as never,
    { step: 'build', name, override: true },
  );
  try {
    return { result: await fn(), ...seen };
  } finally {
    stack.remove(name);
  }
}

/** An immediate mail to a school that a return was rejected, as queued at `at`. */
const rejectedReturnMail = (at: string) => ({
  kind: 'return_rejected' as const,
  sub: 'school-1',
  email: 'office@alpha.example',
  frequency: 'immediate' as const,
  date: at.slice(0, 10),
  subject: 'Attendance Hub: a return was rejected',
  preview: 'A return was rejected.',
  body: 'A return was rejected.',
  link: 'http://127.0.0.1:3000/#/returns',
});

const recorder = () => {
  const sent: OutgoingMessage[] = [];
  const mailer: Mailer = {
    send: (m) => {
      sent.push(m);
      return Promise.resolve({ messageId: `m${sent.length}` });
    },
  };
  return { sent, mailer };
};

beforeAll(async () => {
  svc = await startTestService();
  // Months of sent notifications, one a minute apart.
  for (let i = 0; i < SENT; i++) {
    const at = new Date(Date.UTC(2026, 8, 1, 8, i)).toISOString();
    const key = `return_rejected:school-1:r${String(i).padStart(10, '0')}`;
    await enqueue(
      {
        key,
        ...rejectedReturnMail(at),
      },
      at,
    );
    await markSent(key, at, `old${i}`);
  }
});
afterAll(async () => {
  await svc?.stop();
});

describe('the outbox', () => {
  it(`reads none of ${SENT} sent notifications in a run, and sends nothing twice`, async () => {
    const first = recorder();
    const run1 = await reading(() => runNotificationJob({ facts, recipients, mailer: first.mailer }));
    expect(run1.result).toEqual({ queued: 1, alreadyQueued: 0, sent: 1, failed: 0 });
    expect(first.sent.map((m) => m.key)).toEqual(['case_overdue:officer-1:ref0000000001aaaaaaaaaaaa:2026-11-17']);
    expect(run1.statuses).toEqual(['pending', 'pending']); // the new one from the pending partition, then read again to send
    expect(run1.scanned).toBeLessThanOrEqual(1); // the new one, at most, from the pending partition
    expect(run1.requests).not.toContain('ScanCommand');

    const second = recorder();
    const run2 = await reading(() => runNotificationJob({ facts, recipients, mailer: second.mailer }));
    expect(run2.result).toEqual({ queued: 0, alreadyQueued: 1, sent: 0, failed: 0 });
    expect(second.sent).toEqual([]);
    expect(run2.statuses).toEqual([]);
    expect(run2.scanned).toBe(0);
    expect((await listOutbox({ status: 'sent' })).length).toBe(SENT + 1);
  });

  it('retries a failed one by reading only it, once sent never again', async () => {
    const more: NotificationFacts = { ...facts, noRegister: [{ upn: 'A999200120011', since: '2026-08-01' }] };
    const vsh: Recipient[] = [...recipients, { sub: 'vsh-1', role: 'vsh', email: 'vsh@la.example' }];
    const failing: Mailer = { send: () => Promise.reject(new Error('SES throttled')) };
    expect((await runNotificationJob({ facts: more, recipients: vsh, mailer: failing })).failed).toBe(1);
    const retry = recorder();
    const run = await reading(() => runNotificationJob({ facts: more, recipients: vsh, mailer: retry.mailer }));
    expect(run.result).toEqual({ queued: 0, alreadyQueued: 2, sent: 1, failed: 0 });
    expect(run.statuses).toEqual(['failed', 'failed']); // from the failed partition, then read again before sending
    const again = recorder();
    expect((await runNotificationJob({ facts: more, recipients: vsh, mailer: again.mailer })).sent).toBe(0);
    expect(again.sent).toEqual([]);
  });

  it('pages the outbox for the administrator, newest first, 50 a page, with cursors bound to the list', async () => {
    const admin = await svc.token('admin');
    const get = async (query: string) => svc.request('GET', `/v1/notifications/outbox${query}`, { token: admin });
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await get(cursor ? `?cursor=${encodeURIComponent(cursor)}` : '');
      expect(res.status).toBe(200);
      const body = res.json<{
        items: Array<{ key: string; queuedAt: string }>;
        nextCursor: string | null;
        total: number;
        counts: Record<string, number>;
      }>();
      expect(body.counts).toEqual({ pending: 0, sent: SENT + 2, failed: 0 });
      expect(body.total).toBe(SENT + 2);
      expect(body.items.length).toBe(body.nextCursor ? 50 : (SENT + 2) % 50);
      seen.push(...body.items.map((i) => `${i.queuedAt}#${i.key}`));
      cursor = body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(SENT + 2);
    expect(seen).toEqual([...seen].sort().reverse());

    const sentPage = (await get('?status=sent&limit=10')).json<{ items: unknown[]; nextCursor: string }>();
    expect(sentPage.items).toHaveLength(10);
    // A cursor is for the list it came from, and cannot be made up.
    expect((await get(`?cursor=${encodeURIComponent(sentPage.nextCursor)}`)).status).toBe(400);
    expect((await get(`?status=sent&cursor=${encodeURIComponent(sentPage.nextCursor)}x`)).status).toBe(400);
    expect((await get('?status=sent&cursor=eyJiZWZvcmUiOiJ6In0.forged')).status).toBe(400);
    expect((await get(`?status=sent&cursor=${encodeURIComponent(sentPage.nextCursor)}`)).status).toBe(200);
    expect((await get('?limit=101')).status).toBe(400);
  });

  it('gives notifications stored before the status index their entry once, so a pending one is still sent once', async () => {
    const legacy = (key: string, status: 'pending' | 'sent', at: string) =>
      putItem({
        ...k.outboxItem(key),
        key,
        ...rejectedReturnMail(at),
        status,
        attempts: status === 'sent' ? 1 : 0,
        queuedAt: at,
        ...(status === 'sent' ? { sentAt: at, messageId: 'old' } : {}),
      });
    await legacy('return_rejected:school-1:legacy-pending', 'pending', '2026-08-03T08:00:00.000Z');
    await legacy('return_rejected:school-1:legacy-sent', 'sent', '2026-08-03T08:01:00.000Z');
    expect((await listDue()).map((i) => i.key)).toEqual([]);

    expect(await ensureOutboxIndexed()).toBe(2);
    expect((await listDue()).map((i) => i.key)).toEqual(['return_rejected:school-1:legacy-pending']);
    const sent = await getItem<{ gsi1pk: string; expiresAt: number }>(
      k.outboxItem('return_rejected:school-1:legacy-sent'),
    );
    expect(sent).toMatchObject({
      gsi1pk: k.outboxByStatus('sent'),
      expiresAt: Math.floor(Date.parse('2026-08-03T08:01:00.000Z') / 1000) + 400 * 86_400,
    });
    expect(
      (await pageOutbox({ status: 'sent', limit: 200 })).items.some(
        (i) => i.key === 'return_rejected:school-1:legacy-sent',
      ),
    ).toBe(true);
    expect(await ensureOutboxIndexed()).toBe(0); // the marker: one read from now on

    const once = recorder();
    expect(
      (
        await runNotificationJob({
          facts: { date: '2026-11-18', appUrl: facts.appUrl },
          recipients,
          mailer: once.mailer,
        })
      ).sent,
    ).toBe(1);
    expect(
      (
        await runNotificationJob({
          facts: { date: '2026-11-18', appUrl: facts.appUrl },
          recipients,
          mailer: once.mailer,
        })
      ).sent,
    ).toBe(0);
    expect(once.sent.map((m) => m.key)).toEqual(['return_rejected:school-1:legacy-pending']);
  });
});
