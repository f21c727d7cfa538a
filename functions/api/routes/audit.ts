/** GET /v1/audit (admin): who read or changed what, when, with what outcome — by pupil, user and date. */
import * as z from 'zod';
import { addDays, dayNumber, todayInEngland } from '../../../shared/domain/dates.js';
import { queryAudit } from '../../../shared/store/audit.js';
import { IsoDate, page, Upn } from '../../../shared/schemas/common.js';
import { csvResponse, defineRoute, json, pageQuery, problem, wantsCsv } from '../http.js';

const AuditEntrySchema = z
  .object({
    at: z.string(), sub: z.string(), role: z.string(), action: z.string(), target: z.string(), outcome: z.string(),
    urn: z.string().optional(), upn: z.string().optional(), count: z.number().int().optional(),
  })
  .meta({ id: 'AuditEntry' });

/** The longest span one query may cover, so a query never walks years of day partitions. */
const MAX_DAYS = 92;

export const auditRoutes = [
  defineRoute({
    method: 'GET', path: '/v1/audit', access: 'read_audit', audit: { action: 'read_audit' }, tags: ['audit'],
    summary: 'The audit log, newest first: every read of pupil-level data and every write; filter by pupil, user and dates',
    query: z.object({
      upn: Upn.optional().describe('entries about one pupil'),
      user: z.string().min(1).max(200).optional().describe('entries by one user (token subject)'),
      from: IsoDate.optional().describe('default: 7 days before `to`'),
      to: IsoDate.optional().describe('default: today'),
      ...pageQuery,
    }),
    response: page(AuditEntrySchema, 'AuditPage'),
    csv: true,
    handler: async ({ audit, query, event }) => {
      const to = query.to ?? todayInEngland();
      const from = query.from ?? addDays(to, -7);
      if (from > to) throw problem(400, '`from` is after `to`.', [{ field: 'from', message: 'must not be after to' }]);
      if (dayNumber(to) - dayNumber(from) >= MAX_DAYS) throw problem(400, `Ask for at most ${MAX_DAYS} days at a time.`, [{ field: 'from', message: `at most ${MAX_DAYS} days before to` }]);
      const result = await queryAudit({ from, to, upn: query.upn, user: query.user, limit: query.limit ?? 100, cursor: query.cursor }).catch((err: unknown) => {
        if ((err as Error).name === 'InvalidCursorError' || (err as Error).message?.includes('cursor')) throw problem(400, 'The cursor is not one this service issued.');
        throw err;
      });
      // Who looked at whom is itself pupil-level: reading the log is recorded too (after the query).
      audit.record({ target: `audit:${from}:${to}${query.user ? `:user=${query.user.slice(0, 60)}` : ''}`, outcome: 'ok', count: result.items.length, ...(query.upn ? { upn: query.upn } : {}) });
      if (wantsCsv(event)) return csvResponse(`audit-${from}-${to}.csv`, ['at', 'sub', 'role', 'action', 'target', 'outcome', 'urn', 'upn', 'count'], result.items as unknown as Array<Record<string, unknown>>);
      return json(200, result);
    },
  }),
];
