/** GET /v1/audit (admin): who read or changed what, when, with what outcome — by pupil, user and date. */
import * as z from 'zod';
import { readAuditLog } from '../../../shared/app/audit-log.js';
import { IsoDate, page, Upn } from '../../../shared/schemas/common.js';
import { app } from '../app.js';
import { csvResponse, defineRoute, json, pageQuery, resultOf, wantsCsv } from '../http.js';

const AuditEntrySchema = z
  .object({
    at: z.string(),
    sub: z.string(),
    role: z.string(),
    action: z.string(),
    target: z.string(),
    outcome: z.string(),
    urn: z.string().optional(),
    upn: z.string().optional(),
    count: z.number().int().optional(),
  })
  .meta({ id: 'AuditEntry' });

const CSV_COLUMNS = ['at', 'sub', 'role', 'action', 'target', 'outcome', 'urn', 'upn', 'count'];

export const auditRoutes = [
  defineRoute({
    method: 'GET',
    path: '/v1/audit',
    access: 'read_audit',
    audit: { action: 'read_audit' },
    tags: ['audit'],
    summary:
      'The audit log, newest first: every read of pupil-level data and every write; filter by pupil, user and dates',
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
      const { from, to, items, nextCursor } = resultOf(await readAuditLog(app, audit, query));
      if (wantsCsv(event))
        return csvResponse(`audit-${from}-${to}.csv`, CSV_COLUMNS, items as unknown as Array<Record<string, unknown>>);
      return json(200, { items, nextCursor });
    },
  }),
];
