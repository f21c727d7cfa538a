/**
 * Term-date calendars (docs/design.md §4 POST /v1/calendars, §6 "Calendars"): the LA's, or one school's own
 * (`?urn=`), as iCalendar or CSV, imported by shared/app/import-calendar.ts (415 not a calendar, 422
 * nothing to import, 413 too large; otherwise 201 with the per-record report). Admin only.
 * `GET /v1/calendars` lists what is held.
 */
import * as z from 'zod';
import { academicYearsOf, type HeldCalendar } from '../../../shared/store/calendars.js';
import { Urn } from '../../../shared/schemas/common.js';
import { importCalendar } from '../../../shared/app/import-calendar.js';
import { app } from '../app.js';
import { defineRoute, header, json, rawBody, resultOf } from '../http.js';

const ClosureSchema = z.object({ start: z.string(), end: z.string(), label: z.string() });
const RecordError = z.object({ line: z.number().int(), field: z.string(), code: z.string(), message: z.string() });

const CalendarReport = z
  .object({
    importId: z.string(),
    format: z.enum(['ics', 'csv']),
    mode: z.enum(['replace', 'add']),
    counts: z.object({
      records: z.number().int().describe('events (ICS) or data rows (CSV) read'),
      imported: z.number().int(),
      rejected: z.number().int(),
      skipped: z.number().int().describe('timed, cancelled or term events, deliberately not closures'),
    }),
    errors: z.array(RecordError),
    warnings: z.array(RecordError),
    calendars: z.array(
      z.object({
        urn: z.string().nullable().describe('null for the LA calendar'),
        imported: z.number().int(),
        academicYears: z.array(z.number().int()).describe('academic years replaced (mode replace) or added to'),
        closures: z.number().int().describe('closures the calendar holds now'),
      }),
    ),
  })
  .meta({ id: 'CalendarImport' });

const HeldCalendarSchema = z
  .object({
    urn: z.string().nullable(),
    updatedAt: z.string(),
    academicYears: z.array(z.number().int()),
    closures: z.array(ClosureSchema),
    imports: z.array(
      z.object({
        importId: z.string(),
        at: z.string(),
        format: z.string(),
        mode: z.string(),
        closures: z.number().int(),
        academicYears: z.array(z.number().int()),
      }),
    ),
  })
  .meta({ id: 'HeldCalendar' });

const PostQuery = z.object({
  urn: Urn.optional().describe(
    "a school's own calendar; without it, the LA calendar (CSV rows with a urn go to that school)",
  ),
  format: z.enum(['ics', 'csv']).optional().describe('recognised from the content type or the content when absent'),
  mode: z
    .enum(['replace', 'add'])
    .default('replace')
    .describe('replace: the file is the calendar for each academic year it covers; add: its closures are added'),
});

function heldView(c: HeldCalendar, academicYear: number | undefined) {
  const closures = c.closures.filter(
    (x) => academicYear === undefined || (x.start <= `${academicYear + 1}-07-31` && x.end >= `${academicYear}-08-01`),
  );
  return {
    urn: c.urn ?? null,
    updatedAt: c.updatedAt,
    academicYears: academicYearsOf(c.closures),
    closures: closures.map(({ start, end, label }) => ({ start, end, label })),
    imports: c.imports.map(({ importId, at, format, mode, closures: n, academicYears }) => ({
      importId,
      at,
      format,
      mode,
      closures: n,
      academicYears,
    })),
  };
}

export const calendarRoutes = [
  defineRoute({
    method: 'POST',
    path: '/v1/calendars',
    access: 'manage_calendars',
    audit: { action: 'import_calendar' },
    tags: ['calendars'],
    summary:
      "Upload the LA's term dates, or a school's own (?urn=): iCalendar or CSV; answered with a per-record report",
    query: PostQuery,
    body: {
      mediaTypes: ['text/calendar', 'text/csv'],
      description:
        'an iCalendar file of all-day closures (DTEND exclusive) or a CSV start_date, end_date, label, urn (end inclusive)',
    },
    response: CalendarReport,
    handler: async ({ audit, event, principal, query }) => {
      const report = resultOf(
        await importCalendar(
          app,
          { principal, audit },
          { body: rawBody(event), contentType: header(event, 'content-type'), query },
        ),
      );
      return json(201, report);
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/calendars',
    access: 'manage_calendars',
    audit: { none: 'term dates and closures: nothing about pupils' },
    tags: ['calendars'],
    summary: "The calendars held: the LA's and schools' own, with their closures and recent uploads",
    query: z.object({
      urn: Urn.optional().describe("only this school's own calendar"),
      academicYear: z.coerce
        .number()
        .int()
        .min(2000)
        .max(2100)
        .optional()
        .describe('only closures overlapping this academic year'),
    }),
    response: z.object({ items: z.array(HeldCalendarSchema), nextCursor: z.null() }),
    handler: async ({ query }) => {
      const q = query;
      const all = await app.calendars.list();
      const items = all.filter((c) => q.urn === undefined || c.urn === q.urn).map((c) => heldView(c, q.academicYear));
      return json(200, { items, nextCursor: null });
    },
  }),
];
