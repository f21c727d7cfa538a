/**
 * Reading the audit log (docs/design.md §4): who read or changed what, when, with what outcome — by
 * pupil, user and dates, newest first. Who looked at whom is itself pupil-level, so reading the log
 * is noted on the reader's own trail (after the query).
 */
import { addDays, dayNumber, todayInEngland } from '../domain/dates.js';
import type { AuditEntry } from '../store/audit.js';
import type { AuditTrail } from './audit.js';
import { done, refuse, type Outcome } from './outcome.js';
import type { AuditLog } from './ports.js';

export type AuditLogDeps = { auditLog: AuditLog };

/** The longest span one query may cover, so a query never walks years of day partitions. */
const MAX_AUDIT_DAYS = 92;

export interface AuditLogQuery {
  upn?: string;
  user?: string;
  /** Default: 7 days before `to`. */
  from?: string;
  /** Default: today. */
  to?: string;
  limit?: number;
  cursor?: string;
}

export async function readAuditLog(
  deps: AuditLogDeps,
  audit: AuditTrail,
  query: AuditLogQuery,
): Promise<Outcome<{ from: string; to: string; items: AuditEntry[]; nextCursor: string | null }>> {
  const to = query.to ?? todayInEngland();
  const from = query.from ?? addDays(to, -7);
  if (from > to)
    return refuse('invalid', '`from` is after `to`.', { errors: [{ field: 'from', message: 'must not be after to' }] });
  if (dayNumber(to) - dayNumber(from) >= MAX_AUDIT_DAYS) {
    return refuse('invalid', `Ask for at most ${MAX_AUDIT_DAYS} days at a time.`, {
      errors: [{ field: 'from', message: `at most ${MAX_AUDIT_DAYS} days before to` }],
    });
  }
  const page = await deps.auditLog.query({
    from,
    to,
    upn: query.upn,
    user: query.user,
    limit: query.limit ?? 100,
    cursor: query.cursor,
  });
  if (!page) return refuse('invalid', 'The cursor is not one this service issued.');
  const user = query.user ? `:user=${query.user.slice(0, 60)}` : '';
  audit.record({
    target: `audit:${from}:${to}${user}`,
    outcome: 'ok',
    count: page.items.length,
    ...(query.upn ? { upn: query.upn } : {}),
  });
  return done({ from, to, ...page });
}
