/**
 * The notification job (issue 19): from the day's facts, queue what each person chose — immediate
 * alerts on every run, the daily digest on the digest run — in the outbox (once per key), then send
 * whatever is pending or failed (up to MAX_ATTEMPTS). Running it twice sends nothing new.
 */
import { dailyDigests, notificationsFor, type NotificationFacts, type Recipient } from '../../shared/domain/notifications.js';
import { enqueue, listOutbox, markFailed, markSent, MAX_ATTEMPTS } from '../../shared/store/outbox.js';
import type { Mailer } from './mailer.js';

export interface JobResult { queued: number; alreadyQueued: number; sent: number; failed: number }

export async function runNotificationJob(input: { facts: NotificationFacts; recipients: readonly Recipient[]; mailer: Mailer; digest?: boolean; now?: Date }): Promise<JobResult> {
  const at = (input.now ?? new Date()).toISOString();
  const all = notificationsFor(input.facts, input.recipients);
  const toQueue = [...all.filter((n) => n.frequency === 'immediate'), ...(input.digest ? dailyDigests(all, input.facts.appUrl) : [])];
  const result: JobResult = { queued: 0, alreadyQueued: 0, sent: 0, failed: 0 };
  for (const n of toQueue) {
    if (await enqueue(n, at)) result.queued++;
    else result.alreadyQueued++;
  }
  const due = (await listOutbox()).filter((i) => i.status === 'pending' || (i.status === 'failed' && i.attempts < MAX_ATTEMPTS));
  for (const item of due) {
    try {
      const { messageId } = await input.mailer.send({ to: item.email, subject: item.subject, preview: item.preview, text: item.body, link: item.link, key: item.key });
      if (await markSent(item.key, new Date().toISOString(), messageId)) result.sent++;
    } catch (err) {
      await markFailed(item.key, (err as Error).message ?? String(err));
      result.failed++;
    }
  }
  return result;
}
