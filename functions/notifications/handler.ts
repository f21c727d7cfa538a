/**
 * Notifications Lambda (issue 19): run by two EventBridge Scheduler schedules (lib/notifications.ts)
 * with `{ run: 'immediate' }` every 15 minutes in the school day and `{ run: 'digest' }` once a day.
 * The work is the use case shared/app/notifications.ts; this picks the mailer (SES, as the verified
 * identity MAIL_FROM) and reports counts only (no addresses, no pupil data) in the log and metrics.
 * A failed send is not an error of the run: it stays in the outbox as failed and the next run
 * retries it; failures are counted (NotificationsFailed, alarmed) and listed for the administrator.
 */
import * as z from 'zod';
import { runScheduledNotifications } from '../../shared/app/notifications.js';
import { ENV, optionalSetting, runtimeConfig } from '../../shared/config.js';
import { logger, METRIC, recordMetric, withLambdaContext } from '../../shared/observability.js';
import { sesMailer } from '../../shared/mail/ses-mailer.js';

export const NotificationsEvent = z.object({ run: z.enum(['immediate', 'digest']) });
export type NotificationsEvent = z.infer<typeof NotificationsEvent>;

export const handler = withLambdaContext(async (event: unknown) => {
  const parsed = NotificationsEvent.safeParse(event);
  if (!parsed.success) {
    // An invalid event stays invalid: logged, not retried.
    logger.error('notifications event rejected', {
      error: parsed.error.issues.map((i) => `${i.path.join('.') || 'event'}: ${i.message}`).join('; '),
    });
    return { status: 'rejected' as const };
  }
  const config = runtimeConfig();
  const appUrl = optionalSetting('APP_URL');
  const from = optionalSetting('MAIL_FROM');
  if (!appUrl || !from) throw new Error(`environment variables ${ENV.appUrl} and ${ENV.mailFrom} must be set`);
  const result = await runScheduledNotifications({
    run: parsed.data.run,
    mailer: sesMailer(from),
    appUrl: appUrl.replace(/\/$/, ''),
    returnCutOff: config.settings.returnCutOff,
  });
  recordMetric(METRIC.notificationsSent, result.sent);
  recordMetric(METRIC.notificationsFailed, result.failed);
  logger.info('notifications run', { run: parsed.data.run, ...result });
  return { status: 'done' as const, ...result };
});
