/**
 * The notification job (issue 19): the use case lives in shared/app/notifications.ts (gathering the
 * facts, queueing once per key, sending what is pending or failed); kept here for its callers.
 */
export { runNotificationJob, runScheduledNotifications, type JobResult } from '../../shared/app/notifications.js';
