/**
 * Term-date calendars (docs/design.md §4 POST /v1/calendars, §6 "Calendars"): the LA's, or one school's own
 * (`?urn=`), as an iCalendar file (all-day events, DTEND exclusive) or the CSV `start_date, end_date,
 * label, urn` (end inclusive; urn empty = LA-wide). Admin only. Every upload is kept as received and
 * answered with a per-record report; `GET /v1/calendars` lists what is held.
 *
 * Outcomes: a file that cannot be read as a calendar at all is a 4xx problem (415 not a calendar,
 * 422 required columns missing, 413 too large); a readable file with no closure to import is a 422
 * with every record's error; otherwise 201 with the report, rejected and skipped records listed by
 * line. In every case the file is kept and the import recorded (its `importId` is in the answer).
 */
import * as z from 'zod';
import { LIMITS } from '../../../shared/config.js';
import { parseCalendarFile, type CalendarParse } from '../../../shared/formats/calendar-files.js';
import { normaliseHeaderName, readCsv, type RowError } from '../../../shared/formats/csv.js';
import { keepImportFile } from '../../../shared/store/imports.js';
import {
  CalendarTooLargeError,
  academicYearsOf,
  listCalendars,
  newCalendarImportId,
  putCalendarImport,
  storeClosures,
  type HeldCalendar,
} from '../../../shared/store/calendars.js';
import { Urn } from '../../../shared/schemas/common.js';
import { actorOf } from '../../../shared/domain/access.js';
import { defineRoute, header, json, Problem, problem, rawBody, type RouteContext } from '../http.js';

type Format = 'ics' | 'csv';

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
    calendars: z.array(z.object({
      urn: z.string().nullable().describe('null for the LA calendar'),
      imported: z.number().int(),
      academicYears: z.array(z.number().int()).describe('academic years replaced (mode replace) or added to'),
      closures: z.number().int().describe('closures the calendar holds now'),
    })),
  })
  .meta({ id: 'CalendarImport' });

const HeldCalendarSchema = z
  .object({
    urn: z.string().nullable(),
    updatedAt: z.string(),
    academicYears: z.array(z.number().int()),
    closures: z.array(ClosureSchema),
    imports: z.array(z.object({ importId: z.string(), at: z.string(), format: z.string(), mode: z.string(), closures: z.number().int(), academicYears: z.array(z.number().int()) })),
  })
  .meta({ id: 'HeldCalendar' });

const PostQuery = z.object({
  urn: Urn.optional().describe("a school's own calendar; without it, the LA calendar (CSV rows with a urn go to that school)"),
  format: z.enum(['ics', 'csv']).optional().describe('recognised from the content type or the content when absent'),
  mode: z.enum(['replace', 'add']).default('replace').describe('replace: the file is the calendar for each academic year it covers; add: its closures are added'),
});

function formatOf(contentType: string | undefined, explicit: Format | undefined): Format | 'unknown' | undefined {
  if (explicit) return explicit;
  const t = (contentType ?? '').toLowerCase();
  if (/^text\/calendar\b/.test(t)) return 'ics';
  if (/^(text|application)\/csv\b/.test(t)) return 'csv';
  // A file sent without a meaningful type is recognised from its first line.
  if (t === '' || /^(application\/octet-stream|text\/plain)\b/.test(t)) return 'unknown';
  return undefined;
}

const MEDIA = { ics: 'text/calendar', csv: 'text/csv' } as const;

/**
 * CSV rows naming another school than the one whose calendar this upload is: found by line here,
 * since a parsed closure does not carry its line.
 */
function foreignRows(body: Buffer, urn: string): RowError[] {
  const csv = readCsv(body, { encoding: 'utf-8-or-windows-1252' });
  if (!csv.ok) return [];
  const col = csv.header.findIndex((h) => normaliseHeaderName(h) === 'urn');
  if (col < 0) return [];
  const errors: RowError[] = [];
  for (const { line, fields } of csv.records) {
    const rowUrn = (fields[col] ?? '').trim();
    if (/^\d{6}$/.test(rowUrn) && rowUrn !== urn) {
      errors.push({ line, field: 'urn', code: 'urn_mismatch', message: `urn ${rowUrn} is another school: this upload is school ${urn}'s own calendar (leave urn empty, or upload without ?urn=)` });
    }
  }
  return errors;
}

/** The parsed closures by calendar (undefined = the LA's), without those for another school than `urn`. */
function byCalendar(parsed: CalendarParse, urn: string | undefined): Map<string | undefined, CalendarParse['closures']> {
  const groups = new Map<string | undefined, CalendarParse['closures']>();
  for (const c of parsed.closures) {
    if (urn !== undefined && c.urn !== urn) continue;
    const list = groups.get(c.urn) ?? [];
    list.push(c);
    groups.set(c.urn, list);
  }
  return groups;
}

async function postCalendar({ audit, event, principal, query }: RouteContext<z.infer<typeof PostQuery>>) {
  const body = rawBody(event);
  const contentType = header(event, 'content-type');
  const format = formatOf(contentType, query.format);
  if (format === undefined) {
    throw problem(415, `Send the calendar as text/calendar (iCalendar) or text/csv (start_date, end_date, label, urn); got ${contentType}.`);
  }
  if (body.length === 0) throw problem(400, 'The request body is empty: send the calendar file itself.');
  if (body.length > LIMITS.maxDirectUploadBytes) {
    throw problem(413, `This file is ${body.length} bytes; a calendar upload may be at most ${LIMITS.maxDirectUploadBytes} bytes.`);
  }

  const importId = newCalendarImportId();
  const at = new Date().toISOString();
  const parsed = parseCalendarFile(body, { format: format === 'unknown' ? undefined : format, urn: query.urn });
  const actual: Format = format !== 'unknown' ? format : /^\s*(\uFEFF)?BEGIN:VCALENDAR/i.test(body.subarray(0, 64).toString('latin1')) ? 'ics' : 'csv';
  const file = await keepImportFile(importId, `${query.urn ?? 'la'}-calendar.${actual}`, body, MEDIA[actual]);
  const record = {
    importId, kind: 'calendar' as const, format: actual, importedAt: at, importedBy: actorOf(principal), files: [file],
  };

  if (parsed.fileError) {
    const e = parsed.fileError;
    await putCalendarImport({ ...record, counts: { records: 0, accepted: 0, rejected: 0, skipped: 0 }, errors: e.errors ?? [], warnings: [], errorsTruncated: false, outcome: `rejected:${e.status}` });
    audit.record({ target: `import:${importId}`, outcome: `rejected:${e.status}`, urn: query.urn });
    throw new Problem(e.status, e.title, e.detail, e.errors, { importId, code: e.code });
  }

  const groups = byCalendar(parsed, query.urn);
  const scopeErrors = query.urn !== undefined && actual === 'csv' ? foreignRows(body, query.urn) : [];
  const errors = [...parsed.errors, ...scopeErrors].sort((a, b) => a.line - b.line);
  const skipped = parsed.warnings.filter((w) => w.code !== 'recurring_event').length;
  const imported = [...groups.values()].reduce((n, list) => n + list.length, 0);
  const rejected = new Set(errors.map((e) => e.line)).size;
  const counts = { records: imported + rejected + skipped, imported, rejected, skipped };
  const report = { importId, format: actual, mode: query.mode, counts, errors: errors.slice(0, LIMITS.maxInlineRowErrors), warnings: parsed.warnings.slice(0, LIMITS.maxInlineRowErrors) };

  if (imported === 0) {
    await putCalendarImport({ ...record, counts: { ...counts, accepted: 0 }, errors: report.errors, warnings: report.warnings, errorsTruncated: errors.length > report.errors.length, outcome: 'rejected:422' });
    audit.record({ target: `import:${importId}`, outcome: 'rejected:422', urn: query.urn });
    throw new Problem(
      422, 'No closures to import',
      counts.records === 0
        ? 'The file holds no closures: an iCalendar file needs all-day VEVENTs, a CSV needs data rows under start_date, end_date, label, urn.'
        : `None of the file's ${counts.records} records could be imported (${counts.rejected} rejected, ${counts.skipped} skipped); see errors and warnings. Nothing held was changed.`,
      report.errors, { importId, counts, warnings: report.warnings },
    );
  }

  const calendars: Array<{ urn: string | null; imported: number; academicYears: number[]; closures: number }> = [];
  // The LA's calendar (key undefined) first, then schools' by URN.
  const order = [...groups.keys()].map((urn) => ({ urn })).sort((a, b) => ((a.urn ?? '') < (b.urn ?? '') ? -1 : 1)).map((g) => g.urn);
  try {
    for (const urn of order) {
      const list = groups.get(urn)!;
      const held = await storeClosures(urn, list, { importId, at, format: actual, mode: query.mode, file });
      calendars.push({ urn: urn ?? null, imported: list.length, academicYears: academicYearsOf(list), closures: held.closures.length });
    }
  } catch (err) {
    if (err instanceof CalendarTooLargeError) {
      await putCalendarImport({ ...record, counts: { ...counts, accepted: 0 }, errors: report.errors, warnings: report.warnings, errorsTruncated: false, outcome: 'rejected:413' });
      throw new Problem(413, 'Calendar too large', `${err.message}; upload with mode=replace to replace whole years rather than add to them.`, undefined, { importId, calendarsUpdated: calendars });
    }
    throw err;
  }
  const outcome = errors.length > 0 ? 'imported_with_errors' : 'imported';
  await putCalendarImport({ ...record, counts: { ...counts, accepted: imported }, errors: report.errors, warnings: report.warnings, errorsTruncated: errors.length > report.errors.length, outcome });
  audit.record({ target: `import:${importId}`, outcome, urn: query.urn, count: imported });
  return json(201, { ...report, calendars });
}

function heldView(c: HeldCalendar, academicYear: number | undefined) {
  const closures = c.closures.filter((x) => academicYear === undefined || (x.start <= `${academicYear + 1}-07-31` && x.end >= `${academicYear}-08-01`));
  return {
    urn: c.urn ?? null,
    updatedAt: c.updatedAt,
    academicYears: academicYearsOf(c.closures),
    closures: closures.map(({ start, end, label }) => ({ start, end, label })),
    imports: c.imports.map(({ importId, at, format, mode, closures: n, academicYears }) => ({ importId, at, format, mode, closures: n, academicYears })),
  };
}

export const calendarRoutes = [
  defineRoute({
    method: 'POST', path: '/v1/calendars', access: 'manage_calendars', audit: { action: 'import_calendar' }, tags: ['calendars'],
    summary: "Upload the LA's term dates, or a school's own (?urn=): iCalendar or CSV; answered with a per-record report",
    query: PostQuery,
    body: { mediaTypes: ['text/calendar', 'text/csv'], description: 'an iCalendar file of all-day closures (DTEND exclusive) or a CSV start_date, end_date, label, urn (end inclusive)' },
    response: CalendarReport,
    handler: postCalendar,
  }),
  defineRoute({
    method: 'GET', path: '/v1/calendars', access: 'manage_calendars', audit: { none: 'term dates and closures: nothing about pupils' }, tags: ['calendars'],
    summary: "The calendars held: the LA's and schools' own, with their closures and recent uploads",
    query: z.object({
      urn: Urn.optional().describe("only this school's own calendar"),
      academicYear: z.coerce.number().int().min(2000).max(2100).optional().describe('only closures overlapping this academic year'),
    }),
    response: z.object({ items: z.array(HeldCalendarSchema), nextCursor: z.null() }),
    handler: async ({ query }) => {
      const q = query;
      const all = await listCalendars();
      const items = all.filter((c) => q.urn === undefined || c.urn === q.urn).map((c) => heldView(c, q.academicYear));
      return json(200, { items, nextCursor: null });
    },
  }),
];
