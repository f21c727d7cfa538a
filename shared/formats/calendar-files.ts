/**
 * LA or school term-date calendars (docs/design.md §6): closures (holidays, INSET days, bank holidays)
 * that add future and labelled non-school days to the calendar inferred from registers.
 *
 * (a) iCalendar (RFC 5545): all-day VEVENTs. DTSTART;VALUE=DATE (an 8-digit value without
 *     VALUE=DATE is read as a date too); DTEND is exclusive; without DTEND a DURATION in days or
 *     weeks is used, else the event is one day. Lines are unfolded (CRLF or LF followed by a space
 *     or tab); SUMMARY escapes (\, \; \\ \n) are undone. Skipped with a warning: timed events,
 *     cancelled events, and events whose summary names a term rather than a break ("Autumn term",
 *     "Term starts") — importing those as closures would wipe out real school days. A recurring
 *     event's first occurrence is imported and a warning says the repeats were not.
 * (b) CSV with header `start_date, end_date, label, urn`: end INCLUSIVE, urn empty = LA-wide.
 *     start_date and end_date are required columns; label and urn are optional.
 *
 * Both read UTF-8, or Windows-1252 when the bytes are not UTF-8 (calendars carry no personal
 * data and are often saved from Excel).
 */
import { addDays, isIsoDate } from '../domain/dates.js';
import {
  csvFileError,
  decodeCsvText,
  excerpt,
  normaliseHeaderName,
  readCsv,
  type FileError,
  type RowError,
} from './csv.js';

export interface Closure {
  start: string;
  end: string; // INCLUSIVE
  label: string;
  urn?: string;
}

export interface CalendarParse {
  closures: Closure[];
  /** Records rejected (with line, field, code). */
  errors: RowError[];
  /** Records deliberately skipped (timed, cancelled, term events) or imported partially (recurring). */
  warnings: RowError[];
  /** Set when the whole file is rejected (then `closures` is empty). */
  fileError?: FileError;
}

export interface CalendarOptions {
  /** 'ics' or 'csv'; recognised from the content when absent. */
  format?: 'ics' | 'csv';
  /** For a school's own calendar: applied to ICS events, and to CSV rows whose urn is empty. */
  urn?: string;
}

/** Longest accepted label; longer ones are cut (labels are display text, not data). */
export const MAX_LABEL_LENGTH = 200;
/** A closure longer than this is almost certainly a typo in a year. */
export const MAX_CLOSURE_DAYS = 120;

const URN_SHAPE = /^\d{6}$/;
const TERM_EVENT = /\bterm\b/i;
const BREAK_EVENT = /half[\s-]*term|holiday|closure|closed|break|inset|training|bank|staff development|occasional/i;

export function parseCalendarFile(input: Buffer, options: CalendarOptions = {}): CalendarParse {
  const format = options.format ?? (looksLikeIcs(input) ? 'ics' : 'csv');
  return format === 'ics' ? parseIcsCalendar(input, options) : parseCalendarCsv(input, options);
}

function looksLikeIcs(input: Buffer): boolean {
  const head = input
    .subarray(0, 64)
    .toString('latin1')
    .replace(/^\uFEFF|^\xEF\xBB\xBF/, '')
    .trimStart();
  return head.toUpperCase().startsWith('BEGIN:VCALENDAR');
}

function rejected(fileError: FileError): CalendarParse {
  return { closures: [], errors: [], warnings: [], fileError };
}

// ---------------------------------------------------------------- iCalendar

interface ContentLine {
  line: number; // physical line the (folded) content line starts on
  name: string;
  params: Record<string, string>;
  value: string;
}

export function parseIcsCalendar(input: Buffer, options: Pick<CalendarOptions, 'urn'> = {}): CalendarParse {
  const decoded = decodeCsvText(input, 'utf-8-or-windows-1252');
  if (!decoded.ok) return rejected(csvFileError(decoded.error));
  const lines = unfold(decoded.text);
  if (!lines.some((l) => l.name === 'BEGIN' && l.value.toUpperCase() === 'VCALENDAR')) {
    return rejected({
      status: 415,
      code: 'not_icalendar',
      title: 'Not an iCalendar file',
      detail: 'the file has no BEGIN:VCALENDAR',
    });
  }
  if (options.urn !== undefined && !URN_SHAPE.test(options.urn))
    throw new RangeError(`urn must be 6 digits, got '${options.urn}'`);

  const closures: Closure[] = [];
  const errors: RowError[] = [];
  const warnings: RowError[] = [];
  let event: ContentLine[] | undefined;
  let eventLine = 0;
  let nested = 0; // depth of components inside the VEVENT (VALARM)
  for (const l of lines) {
    const component = l.value.toUpperCase();
    if (event === undefined) {
      if (l.name === 'BEGIN' && component === 'VEVENT') {
        event = [];
        eventLine = l.line;
        nested = 0;
      }
      continue;
    }
    if (l.name === 'BEGIN') nested++;
    else if (l.name === 'END' && nested > 0) nested--;
    else if (l.name === 'END' && component === 'VEVENT') {
      readEvent(event, eventLine, options.urn, closures, errors, warnings);
      event = undefined;
    } else if (nested === 0) event.push(l);
  }
  if (event !== undefined) {
    errors.push({
      line: eventLine,
      field: 'VEVENT',
      code: 'unterminated_event',
      message: `the event starting on line ${eventLine} has no END:VEVENT`,
    });
  }
  return { closures, errors, warnings };
}

/** Split into content lines, joining folded continuation lines; names upper-cased. */
function unfold(text: string): ContentLine[] {
  const physical = text.split(/\r\n|\n|\r/);
  const out: ContentLine[] = [];
  let current = '';
  let startLine = 0;
  const flush = (): void => {
    if (current.trim() !== '') {
      const parsed = parseContentLine(current, startLine);
      if (parsed) out.push(parsed);
    }
  };
  for (let i = 0; i < physical.length; i++) {
    const p = physical[i];
    if ((p.startsWith(' ') || p.startsWith('\t')) && startLine > 0) {
      current += p.slice(1);
      continue;
    }
    flush();
    current = p;
    startLine = i + 1;
  }
  flush();
  return out;
}

function parseContentLine(text: string, line: number): ContentLine | undefined {
  // name *(";" param) ":" value — a colon inside a quoted parameter value is not the separator.
  let i = 0;
  let inQuote = false;
  for (; i < text.length; i++) {
    const c = text[i];
    if (c === '"') inQuote = !inQuote;
    else if (c === ':' && !inQuote) break;
  }
  if (i >= text.length) return undefined;
  const [rawName, ...rawParams] = splitParams(text.slice(0, i));
  const params: Record<string, string> = {};
  for (const p of rawParams) {
    const eq = p.indexOf('=');
    if (eq > 0) params[p.slice(0, eq).trim().toUpperCase()] = p.slice(eq + 1).replace(/^"|"$/g, '');
  }
  return { line, name: rawName.trim().toUpperCase(), params, value: text.slice(i + 1) };
}

function splitParams(s: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let inQuote = false;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '"') inQuote = !inQuote;
    else if (s[i] === ';' && !inQuote) {
      parts.push(s.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(s.slice(start));
  return parts;
}

/** SUMMARY text: undo RFC 5545 escapes; line breaks become spaces in a label. */
export function unescapeIcsText(v: string): string {
  return v.replace(/\\([\\;,nN])/g, (_, c: string) => (c === 'n' || c === 'N' ? ' ' : c));
}

function icsDate(prop: ContentLine): { kind: 'date'; date: string } | { kind: 'timed' } | { kind: 'bad' } {
  const v = prop.value.trim();
  const valueType = (prop.params.VALUE ?? '').toUpperCase();
  if (/^\d{8}$/.test(v) && valueType !== 'DATE-TIME') {
    const iso = `${v.slice(0, 4)}-${v.slice(4, 6)}-${v.slice(6, 8)}`;
    return isIsoDate(iso) ? { kind: 'date', date: iso } : { kind: 'bad' };
  }
  if (/^\d{8}T\d{6}Z?$/.test(v)) return { kind: 'timed' };
  return { kind: 'bad' };
}

/** Whole days of an RFC 5545 duration such as P1D, P2W; undefined for times or anything else. */
function durationDays(v: string): number | undefined {
  const m = /^\+?P(?:(\d+)W|(\d+)D)$/.exec(v.trim().toUpperCase());
  if (!m) return undefined;
  return m[1] !== undefined ? Number(m[1]) * 7 : Number(m[2]);
}

function readEvent(
  props: ContentLine[],
  line: number,
  urn: string | undefined,
  closures: Closure[],
  errors: RowError[],
  warnings: RowError[],
): void {
  const prop = (name: string): ContentLine | undefined => props.find((p) => p.name === name);
  const summary = prop('SUMMARY');
  const label = cleanLabel(summary ? unescapeIcsText(summary.value) : '') || 'Closure';
  const shown = excerpt(label, 40);
  const status = prop('STATUS')?.value.trim().toUpperCase();
  if (status === 'CANCELLED') {
    warnings.push({
      line,
      field: 'STATUS',
      code: 'cancelled_event',
      message: `event ${shown} is cancelled and was skipped`,
    });
    return;
  }
  const dtstart = prop('DTSTART');
  if (!dtstart) {
    errors.push({ line, field: 'DTSTART', code: 'dtstart_missing', message: `event ${shown} has no DTSTART` });
    return;
  }
  const start = icsDate(dtstart);
  if (start.kind === 'timed') {
    warnings.push({
      line,
      field: 'DTSTART',
      code: 'timed_event',
      message: `event ${shown} has a start time, not a whole day; only all-day events are closures, so it was skipped`,
    });
    return;
  }
  if (start.kind === 'bad') {
    errors.push({
      line: dtstart.line,
      field: 'DTSTART',
      code: 'dtstart_format',
      message: `DTSTART must be a date (YYYYMMDD), got ${excerpt(dtstart.value, 20)}`,
    });
    return;
  }
  let end = start.date; // inclusive
  const dtend = prop('DTEND');
  const duration = prop('DURATION');
  if (dtend) {
    const e = icsDate(dtend);
    if (e.kind !== 'date') {
      errors.push({
        line: dtend.line,
        field: 'DTEND',
        code: 'dtend_format',
        message: `DTEND must be a date (YYYYMMDD) like DTSTART, got ${excerpt(dtend.value, 20)}`,
      });
      return;
    }
    if (e.date < start.date) {
      errors.push({
        line: dtend.line,
        field: 'DTEND',
        code: 'end_before_start',
        message: `event ${shown} ends (${e.date}) before it starts (${start.date})`,
      });
      return;
    }
    // DTEND is exclusive; some producers write DTEND = DTSTART for a one-day event.
    end = e.date === start.date ? start.date : addDays(e.date, -1);
  } else if (duration) {
    const days = durationDays(duration.value);
    if (days === undefined || days < 1) {
      errors.push({
        line: duration.line,
        field: 'DURATION',
        code: 'duration_format',
        message: `DURATION must be whole days or weeks (e.g. P3D), got ${excerpt(duration.value, 20)}`,
      });
      return;
    }
    end = addDays(start.date, days - 1);
  }
  if (TERM_EVENT.test(label) && !BREAK_EVENT.test(label)) {
    warnings.push({
      line,
      field: 'SUMMARY',
      code: 'term_event',
      message: `event ${shown} looks like a term or a term start/end, not a closure, and was skipped`,
    });
    return;
  }
  const span = spanCheck(start.date, end);
  if (span) {
    errors.push({ line, field: 'DTEND', code: 'closure_too_long', message: `event ${shown} ${span}` });
    return;
  }
  if (prop('RRULE') || prop('RDATE')) {
    warnings.push({
      line,
      field: 'RRULE',
      code: 'recurring_event',
      message: `event ${shown} repeats; only its first occurrence (${start.date}) was imported`,
    });
  }
  closures.push(urn === undefined ? { start: start.date, end, label } : { start: start.date, end, label, urn });
}

function cleanLabel(v: string): string {
  const t = v.replace(/\s+/g, ' ').trim();
  return t.length > MAX_LABEL_LENGTH ? t.slice(0, MAX_LABEL_LENGTH) : t;
}

function spanCheck(start: string, end: string): string | undefined {
  const days = Math.round((Date.parse(end) - Date.parse(start)) / 86_400_000) + 1;
  return days > MAX_CLOSURE_DAYS
    ? `spans ${days} days (${start} to ${end}); at most ${MAX_CLOSURE_DAYS} are accepted`
    : undefined;
}

// ---------------------------------------------------------------- CSV

export function parseCalendarCsv(input: Buffer, options: Pick<CalendarOptions, 'urn'> = {}): CalendarParse {
  if (options.urn !== undefined && !URN_SHAPE.test(options.urn))
    throw new RangeError(`urn must be 6 digits, got '${options.urn}'`);
  const csv = readCsv(input, { encoding: 'utf-8-or-windows-1252' });
  if (!csv.ok) return rejected(csvFileError(csv.error));
  const col: Record<'start_date' | 'end_date' | 'label' | 'urn', number> = {
    start_date: -1,
    end_date: -1,
    label: -1,
    urn: -1,
  };
  csv.header.forEach((h, i) => {
    const name = normaliseHeaderName(h);
    if (name in col && col[name as keyof typeof col] < 0) col[name as keyof typeof col] = i;
  });
  const missing = (['start_date', 'end_date'] as const).filter((c) => col[c] < 0);
  if (missing.length > 0) {
    return rejected({
      status: 422,
      code: 'missing_columns',
      title: 'Required columns missing',
      detail: `the header row lacks ${missing.join(', ')} (expected start_date, end_date, label, urn)`,
      errors: missing.map((c) => ({
        line: csv.headerLine,
        field: c,
        code: 'missing_column',
        message: `required column '${c}' is missing`,
      })),
    });
  }
  const closures: Closure[] = [];
  const errors: RowError[] = [];
  for (const { line, fields } of csv.records) {
    if (fields.every((f) => f.trim() === '')) continue;
    const get = (i: number): string => (i >= 0 ? (fields[i] ?? '').trim() : '');
    const rowErrors: RowError[] = [];
    const start = get(col.start_date);
    const end = get(col.end_date);
    if (!isIsoDate(start))
      rowErrors.push({
        line,
        field: 'start_date',
        code: 'start_date_format',
        message: `start_date must be a real date written YYYY-MM-DD, got ${excerpt(start, 12)}`,
      });
    if (!isIsoDate(end))
      rowErrors.push({
        line,
        field: 'end_date',
        code: 'end_date_format',
        message: `end_date must be a real date written YYYY-MM-DD, got ${excerpt(end, 12)}`,
      });
    if (rowErrors.length === 0 && end < start)
      rowErrors.push({
        line,
        field: 'end_date',
        code: 'end_before_start',
        message: `end_date ${end} is before start_date ${start} (end_date is inclusive)`,
      });
    if (rowErrors.length === 0) {
      const span = spanCheck(start, end);
      if (span) rowErrors.push({ line, field: 'end_date', code: 'closure_too_long', message: `the closure ${span}` });
    }
    const rowUrn = get(col.urn);
    if (rowUrn !== '' && !URN_SHAPE.test(rowUrn))
      rowErrors.push({
        line,
        field: 'urn',
        code: 'urn_format',
        message: `urn must be 6 digits or empty (LA-wide), got ${excerpt(rowUrn, 12)}`,
      });
    if (rowErrors.length > 0) {
      errors.push(...rowErrors);
      continue;
    }
    const label = cleanLabel(get(col.label)) || 'Closure';
    const urn = rowUrn !== '' ? rowUrn : options.urn;
    closures.push(urn === undefined ? { start, end, label } : { start, end, label, urn });
  }
  return { closures, errors, warnings: [] };
}
