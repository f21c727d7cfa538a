/**
 * Import a calendar (docs/design.md §4 POST /v1/calendars, §6 "Calendars"): the LA's term dates, or one
 * school's own (`urn`), as an iCalendar file (all-day events, DTEND exclusive) or the CSV
 * `start_date, end_date, label, urn` (end inclusive; urn empty = LA-wide). Every upload is kept as
 * received and answered with a per-record report.
 *
 * Outcomes: a file that cannot be read as a calendar at all is refused (not a calendar, required
 * columns missing, too large); a readable file with no closure to import is refused with every
 * record's error; otherwise the report, rejected and skipped records listed by line. In every case
 * the file is kept and the import recorded (its `importId` is in the answer).
 */
import { LIMITS } from '../config.js';
import { actorOf, type Principal } from '../domain/access.js';
import { parseCalendarFile, type CalendarParse } from '../formats/calendar-files.js';
import { normaliseHeaderName, readCsv, type RowError } from '../formats/csv.js';
import { academicYearsOf, newCalendarImportId, type CalendarMode } from '../store/calendars.js';
import type { AuditTrail } from './audit.js';
import { done, refuse, refuseFile } from './outcome.js';
import type { Calendars, Imports } from './ports.js';

type Format = 'ics' | 'csv';

export interface CalendarDeps {
  calendars: Calendars;
  imports: Imports;
}

export interface CalendarUpload {
  body: Buffer;
  contentType: string | undefined;
  query: { urn?: string; format?: Format; mode: CalendarMode };
}

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
      errors.push({
        line,
        field: 'urn',
        code: 'urn_mismatch',
        message: `urn ${rowUrn} is another school: this upload is school ${urn}'s own calendar (leave urn empty, or upload without ?urn=)`,
      });
    }
  }
  return errors;
}

/** The parsed closures by calendar (undefined = the LA's), without those for another school than `urn`. */
function byCalendar(
  parsed: CalendarParse,
  urn: string | undefined,
): Map<string | undefined, CalendarParse['closures']> {
  const groups = new Map<string | undefined, CalendarParse['closures']>();
  for (const c of parsed.closures) {
    if (urn !== undefined && c.urn !== urn) continue;
    const list = groups.get(c.urn) ?? [];
    list.push(c);
    groups.set(c.urn, list);
  }
  return groups;
}

/** Import the calendar file into the calendars it names (the LA's, or `urn`'s own). */
export async function importCalendar(
  deps: CalendarDeps,
  { principal, audit }: { principal: Principal; audit: AuditTrail },
  input: CalendarUpload,
) {
  const { query } = input;
  const { body, contentType } = input;
  const format = formatOf(contentType, query.format);
  if (format === undefined) {
    return refuse(
      'unsupported',
      `Send the calendar as text/calendar (iCalendar) or text/csv (start_date, end_date, label, urn); got ${contentType}.`,
    );
  }
  if (body.length === 0) return refuse('invalid', 'The request body is empty: send the calendar file itself.');
  if (body.length > LIMITS.maxDirectUploadBytes) {
    return refuse(
      'too_large',
      `This file is ${body.length} bytes; a calendar upload may be at most ${LIMITS.maxDirectUploadBytes} bytes.`,
    );
  }

  const importId = newCalendarImportId();
  const at = new Date().toISOString();
  const parsed = parseCalendarFile(body, { format: format === 'unknown' ? undefined : format, urn: query.urn });
  const actual: Format =
    format !== 'unknown'
      ? format
      : /^\s*(\uFEFF)?BEGIN:VCALENDAR/i.test(body.subarray(0, 64).toString('latin1'))
        ? 'ics'
        : 'csv';
  const file = await deps.imports.keepFile(importId, `${query.urn ?? 'la'}-calendar.${actual}`, body, MEDIA[actual]);
  const record = {
    importId,
    kind: 'calendar' as const,
    format: actual,
    importedAt: at,
    importedBy: actorOf(principal),
    files: [file],
  };

  if (parsed.fileError) {
    const e = parsed.fileError;
    await deps.calendars.putImport({
      ...record,
      counts: { records: 0, accepted: 0, rejected: 0, skipped: 0 },
      errors: e.errors ?? [],
      warnings: [],
      errorsTruncated: false,
      outcome: `rejected:${e.status}`,
    });
    audit.record({ target: `import:${importId}`, outcome: `rejected:${e.status}`, urn: query.urn });
    return refuseFile(e, { importId }, Number.POSITIVE_INFINITY);
  }

  const groups = byCalendar(parsed, query.urn);
  const scopeErrors = query.urn !== undefined && actual === 'csv' ? foreignRows(body, query.urn) : [];
  const errors = [...parsed.errors, ...scopeErrors].sort((a, b) => a.line - b.line);
  const skipped = parsed.warnings.filter((w) => w.code !== 'recurring_event').length;
  const imported = [...groups.values()].reduce((n, list) => n + list.length, 0);
  const rejected = new Set(errors.map((e) => e.line)).size;
  const counts = { records: imported + rejected + skipped, imported, rejected, skipped };
  const report = {
    importId,
    format: actual,
    mode: query.mode,
    counts,
    errors: errors.slice(0, LIMITS.maxInlineRowErrors),
    warnings: parsed.warnings.slice(0, LIMITS.maxInlineRowErrors),
  };

  if (imported === 0) {
    await deps.calendars.putImport({
      ...record,
      counts: { ...counts, accepted: 0 },
      errors: report.errors,
      warnings: report.warnings,
      errorsTruncated: errors.length > report.errors.length,
      outcome: 'rejected:422',
    });
    audit.record({ target: `import:${importId}`, outcome: 'rejected:422', urn: query.urn });
    return refuse(
      'unacceptable',
      counts.records === 0
        ? 'The file holds no closures: an iCalendar file needs all-day VEVENTs, a CSV needs data rows under start_date, end_date, label, urn.'
        : `None of the file's ${counts.records} records could be imported (${counts.rejected} rejected, ${counts.skipped} skipped); see errors and warnings. Nothing held was changed.`,
      { title: 'No closures to import', errors: report.errors, extra: { importId, counts, warnings: report.warnings } },
    );
  }

  const calendars: Array<{ urn: string | null; imported: number; academicYears: number[]; closures: number }> = [];
  // The LA's calendar (key undefined) first, then schools' by URN.
  const order = [...groups.keys()]
    .map((urn) => ({ urn }))
    .sort((a, b) => ((a.urn ?? '') < (b.urn ?? '') ? -1 : 1))
    .map((g) => g.urn);
  for (const urn of order) {
    const list = groups.get(urn)!;
    const held = await deps.calendars.store(urn, list, { importId, at, format: actual, mode: query.mode, file });
    if ('tooLarge' in held) {
      await deps.calendars.putImport({
        ...record,
        counts: { ...counts, accepted: 0 },
        errors: report.errors,
        warnings: report.warnings,
        errorsTruncated: false,
        outcome: 'rejected:413',
      });
      return refuse(
        'too_large',
        `${held.tooLarge}; upload with mode=replace to replace whole years rather than add to them.`,
        { title: 'Calendar too large', extra: { importId, calendarsUpdated: calendars } },
      );
    }
    calendars.push({
      urn: urn ?? null,
      imported: list.length,
      academicYears: academicYearsOf(list),
      closures: held.closures.length,
    });
  }
  const outcome = errors.length > 0 ? 'imported_with_errors' : 'imported';
  await deps.calendars.putImport({
    ...record,
    counts: { ...counts, accepted: imported },
    errors: report.errors,
    warnings: report.warnings,
    errorsTruncated: errors.length > report.errors.length,
    outcome,
  });
  audit.record({ target: `import:${importId}`, outcome, urn: query.urn, count: imported });
  return done({ ...report, calendars });
}
