/**
 * RFC 4180 CSV reader for uploads up to ~200 MB (docs/design.md §6), shared by every CSV format.
 *
 * - Input is a Buffer. A UTF-8 BOM is stripped. Line endings CRLF, LF or a lone CR.
 * - Quoted fields may hold commas, doubled quotes and line breaks (kept as written).
 * - Every record reports the physical line it STARTS on (the header is line 1), counting the
 *   line breaks inside quoted fields, so error reports point at what a person sees in an editor.
 * - Completely empty lines are skipped (Excel and hand-edited files end with them); a line holding
 *   only `""` or `,` is a record.
 * - Lenient where it is safe: a quote inside an unquoted field is kept as a character (`5'10"`),
 *   and text between a closing quote and the next comma is appended (`"ab"c` → `abc`, as Python's
 *   csv module does). An unterminated quote is an error: it would otherwise swallow the rest of the file.
 * - Rejects: empty input, binary content (NUL bytes, spreadsheet/zip/PDF signatures, UTF-16),
 *   XML or JSON sent as CSV, invalid UTF-8 (line and byte offset), records over the byte limit,
 *   more data records than allowed.
 *
 * Encoding decision: the daily return is UTF-8 only. A Windows-1252 fallback would silently
 * mis-read pupil names saved in any other 8-bit code page, so invalid UTF-8 rejects the file with
 * the line and byte offset and tells the school to save as "CSV UTF-8". Registry and calendar
 * files carry no personal data and GIAS publishes its extracts in Windows-1252, so their parsers
 * ask for `utf-8-or-windows-1252`: valid UTF-8 is read as UTF-8 (Windows-1252 text with any
 * accented letter is almost never valid UTF-8), anything else as Windows-1252.
 *
 * The Buffer is decoded once into one string and fields are slices of it; no per-line strings or
 * line arrays are built. `visitCsv` streams records to a callback so large files are never held
 * twice; `readCsv` collects them.
 */
import { isUtf8 } from 'node:buffer';
import { LIMITS } from '../config.js';

/** A per-record problem, reported with the line the record starts on (header = line 1). */
export interface RowError {
  line: number;
  field: string;
  /** Stable machine code, e.g. 'upn_check_letter'. */
  code: string;
  message: string;
}

/** A problem that rejects a whole file; shaped for an RFC 9457 problem+json response. */
export interface FileError {
  status: 400 | 403 | 413 | 415 | 422;
  code: string;
  title: string;
  detail: string;
  errors?: RowError[];
}

export type CsvEncoding = 'utf-8' | 'windows-1252';

export interface CsvReadOptions {
  /** Largest record in bytes, quoted line breaks included (default LIMITS.maxLineBytes). */
  maxRecordBytes?: number;
  /** Most data records (header excluded, blank lines not counted). Default: no limit. */
  maxRecords?: number;
  /** 'utf-8' (default) rejects invalid UTF-8; 'utf-8-or-windows-1252' falls back for non-personal files. */
  encoding?: 'utf-8' | 'utf-8-or-windows-1252';
}

export type CsvErrorCode =
  'empty' | 'not_csv' | 'invalid_utf8' | 'unterminated_quote' | 'record_too_long' | 'too_many_records';

export interface CsvError {
  code: CsvErrorCode;
  /** Physical line the problem is on (for a record, the line it starts on). */
  line: number;
  /** Byte offset into the input as received (BOM included), when meaningful. */
  byteOffset?: number;
  message: string;
}

export interface CsvRecord {
  line: number;
  fields: string[];
}

export type CsvRead =
  | { ok: true; header: string[]; headerLine: number; records: CsvRecord[]; encoding: CsvEncoding }
  | { ok: false; error: CsvError };

/** Return `false` to stop reading (the result is still ok). The first record is the header. */
export type CsvVisitor = (fields: string[], line: number) => void | boolean;

export type CsvVisit =
  | { ok: true; records: number /* data records visited (header excluded) */; encoding: CsvEncoding; stopped: boolean }
  | { ok: false; error: CsvError };

const COMMA = 44;
const QUOTE = 34;
const LF = 10;
const CR = 13;

/** Read the whole file: header plus data records. */
export function readCsv(input: Buffer, options: CsvReadOptions = {}): CsvRead {
  let header: string[] | undefined;
  let headerLine = 0;
  const records: CsvRecord[] = [];
  const result = visitCsv(input, options, (fields, line) => {
    if (header === undefined) {
      header = fields;
      headerLine = line;
    } else records.push({ line, fields });
  });
  if (!result.ok) return result;
  if (header === undefined) return { ok: false, error: { code: 'empty', line: 1, message: 'the file is empty' } };
  return { ok: true, header, headerLine, records, encoding: result.encoding };
}

/** Stream every record (header first) to `visit`. Never throws on any input. */
export function visitCsv(input: Buffer, options: CsvReadOptions, visit: CsvVisitor): CsvVisit {
  const decoded = decodeCsvText(input, options.encoding ?? 'utf-8');
  if (!decoded.ok) return decoded;
  return scanRecords(decoded.text, decoded.encoding, options, visit);
}

type Decoded = { ok: true; text: string; encoding: CsvEncoding; bomBytes: number } | { ok: false; error: CsvError };

/** Decode the input to one string after the checks that make it "a CSV file" at all. */
export function decodeCsvText(input: Buffer, encoding: 'utf-8' | 'utf-8-or-windows-1252' = 'utf-8'): Decoded {
  if (input.length === 0) return fail('empty', 1, 'the file is empty', 0);
  const binary = binarySignature(input);
  if (binary) return fail('not_csv', 1, `not a CSV file: ${binary}`, 0);
  const nul = input.indexOf(0);
  if (nul >= 0) {
    return fail('not_csv', lineAtByte(input, nul), `not a CSV file: binary content (a NUL byte at byte ${nul})`, nul);
  }
  const bomBytes = input.length >= 3 && input[0] === 0xef && input[1] === 0xbb && input[2] === 0xbf ? 3 : 0;
  const body = bomBytes ? input.subarray(bomBytes) : input;
  const first = firstSignificantByte(body);
  if (first === 0x3c /* < */)
    return fail(
      'not_csv',
      1,
      'not a CSV file: it looks like XML or HTML (send CTF files as application/xml)',
      bomBytes,
    );
  if (first === 0x7b /* { */) return fail('not_csv', 1, 'not a CSV file: it looks like JSON', bomBytes);
  if (isUtf8(body)) return { ok: true, text: body.toString('utf8'), encoding: 'utf-8', bomBytes };
  if (encoding === 'utf-8-or-windows-1252')
    return { ok: true, text: decodeWindows1252(body), encoding: 'windows-1252', bomBytes };
  const bad = firstInvalidUtf8(body) + bomBytes;
  return fail(
    'invalid_utf8',
    lineAtByte(input, bad),
    `the file is not valid UTF-8: invalid byte 0x${input[bad].toString(16).padStart(2, '0')} at byte offset ${bad} on line ${lineAtByte(input, bad)}; save it as "CSV UTF-8"`,
    bad,
  );
}

function fail(code: CsvErrorCode, line: number, message: string, byteOffset?: number): { ok: false; error: CsvError } {
  return { ok: false, error: byteOffset === undefined ? { code, line, message } : { code, line, byteOffset, message } };
}

/** Names a recognisable non-CSV format from its first bytes. */
function binarySignature(b: Buffer): string | undefined {
  if (b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04) {
    return 'it is a zip archive or an Excel workbook (.xlsx); save the sheet as "CSV UTF-8"';
  }
  if (b.length >= 4 && b[0] === 0xd0 && b[1] === 0xcf && b[2] === 0x11 && b[3] === 0xe0) {
    return 'it is an old Excel workbook (.xls); save the sheet as "CSV UTF-8"';
  }
  if (b.length >= 4 && b[0] === 0x25 && b[1] === 0x50 && b[2] === 0x44 && b[3] === 0x46) return 'it is a PDF document';
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return 'it is gzip-compressed';
  if (b.length >= 2 && ((b[0] === 0xff && b[1] === 0xfe) || (b[0] === 0xfe && b[1] === 0xff))) {
    return 'it is UTF-16 text; save it as "CSV UTF-8"';
  }
  return undefined;
}

function firstSignificantByte(b: Buffer): number | undefined {
  for (let i = 0; i < b.length && i < 1024; i++) {
    const c = b[i];
    if (c !== 0x20 && c !== 0x09 && c !== LF && c !== CR) return c;
  }
  return undefined;
}

/** 1-based physical line of a byte offset: CRLF, LF and lone CR each end a line. */
function lineAtByte(b: Buffer, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) {
    const c = b[i];
    if (c === LF) line++;
    else if (c === CR && b[i + 1] !== LF) line++;
  }
  return line;
}

/** Offset of the first byte that breaks UTF-8 (only called once isUtf8 has said no). */
function firstInvalidUtf8(b: Buffer): number {
  const n = b.length;
  let i = 0;
  while (i < n) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    let cp: number;
    if (c >= 0xc2 && c <= 0xdf) {
      need = 1;
      min = 0x80;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      min = 0x800;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      min = 0x10000;
      cp = c & 0x07;
    } else return i;
    for (let k = 1; k <= need; k++) {
      const cc = b[i + k];
      if (cc === undefined || (cc & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return n; // not reached when isUtf8 was false
}

// Windows-1252 bytes 0x80–0x9F (the rest of the range is Latin-1); unassigned bytes map to the
// C1 control of the same value, as the WHATWG decoder does.
const CP1252_HIGH =
  '\u20AC\u0081\u201A\u0192\u201E\u2026\u2020\u2021\u02C6\u2030\u0160\u2039\u0152\u008D\u017D\u008F' +
  '\u0090\u2018\u2019\u201C\u201D\u2022\u2013\u2014\u02DC\u2122\u0161\u203A\u0153\u009D\u017E\u0178';

export function decodeWindows1252(b: Buffer): string {
  const latin1 = b.toString('latin1');
  return latin1.replace(/[\u0080-\u009f]/g, (ch) => CP1252_HIGH[ch.charCodeAt(0) - 0x80]);
}

function scanRecords(s: string, encoding: CsvEncoding, options: CsvReadOptions, visit: CsvVisitor): CsvVisit {
  const maxBytes = options.maxRecordBytes ?? LIMITS.maxLineBytes;
  const maxRecords = options.maxRecords ?? Number.POSITIVE_INFINITY;
  // A UTF-16 code unit is at most 3 UTF-8 bytes, and Windows-1252 is 1 byte per character: only
  // records longer than this many characters need their exact byte length measured.
  const exactBelow = encoding === 'utf-8' ? Math.floor(maxBytes / 3) : maxBytes;
  const n = s.length;
  let i = 0;
  let line = 1;
  let dataRecords = 0;
  let seenHeader = false;
  let nextComma = -1;
  let nextLf = -1;
  let nextCr = -1;

  const tooLong = (recLine: number): CsvVisit => ({
    ok: false,
    error: {
      code: 'record_too_long',
      line: recLine,
      message: `the record starting on line ${recLine} is longer than ${maxBytes} bytes (an unclosed quote or not a register file?)`,
    },
  });

  while (i < n) {
    const recStart = i;
    const recLine = line;
    const c0 = s.charCodeAt(i);
    if (c0 === LF || c0 === CR) {
      // An empty line: skipped, but it still counts as a physical line.
      i += c0 === CR && s.charCodeAt(i + 1) === LF ? 2 : 1;
      line++;
      continue;
    }
    const fields: string[] = [];
    let endOfRecord = false;
    // Where the record's content ends: its terminating line break does not count towards the limit.
    let recEnd = n;
    while (!endOfRecord) {
      let value: string;
      if (s.charCodeAt(i) === QUOTE) {
        const openLine = line;
        i++;
        value = '';
        let segStart = i;
        for (;;) {
          const q = s.indexOf('"', i);
          if (q < 0) {
            return {
              ok: false,
              error: {
                code: 'unterminated_quote',
                line: openLine,
                message: `a quoted field opened on line ${openLine} is never closed`,
              },
            };
          }
          line += countLineBreaks(s, i, q);
          if (q - recStart > maxBytes) return tooLong(recLine);
          if (s.charCodeAt(q + 1) === QUOTE) {
            value += s.slice(segStart, q + 1);
            i = q + 2;
            segStart = i;
            continue;
          }
          value += s.slice(segStart, q);
          i = q + 1;
          break;
        }
        // Lenient: text after the closing quote, up to the delimiter, is kept.
        let j = i;
        while (j < n) {
          const c = s.charCodeAt(j);
          if (c === COMMA || c === LF || c === CR) break;
          j++;
        }
        if (j > i) {
          value += s.slice(i, j);
          i = j;
        }
      } else {
        // Native indexOf over cached positions: each delimiter is found once, so the scan is linear.
        if (nextComma < i) nextComma = position(s.indexOf(',', i), n);
        if (nextLf < i) nextLf = position(s.indexOf('\n', i), n);
        if (nextCr < i) nextCr = position(s.indexOf('\r', i), n);
        let j = nextComma < nextLf ? nextComma : nextLf;
        if (nextCr < j) j = nextCr;
        value = s.slice(i, j);
        i = j;
      }
      fields.push(value);
      if (i - recStart > maxBytes) return tooLong(recLine);
      if (i >= n) break;
      const c = s.charCodeAt(i);
      if (c === COMMA) {
        i++;
        if (i >= n) {
          fields.push('');
          endOfRecord = true;
        }
        continue;
      }
      // Line break ends the record.
      recEnd = i;
      i += c === CR && s.charCodeAt(i + 1) === LF ? 2 : 1;
      line++;
      endOfRecord = true;
    }
    if (recEnd > i) recEnd = i;
    const chars = recEnd - recStart;
    if (chars > exactBelow) {
      const bytes = encoding === 'utf-8' ? Buffer.byteLength(s.slice(recStart, recEnd), 'utf8') : chars;
      if (bytes > maxBytes) return tooLong(recLine);
    }
    if (seenHeader) {
      if (dataRecords >= maxRecords) {
        return {
          ok: false,
          error: {
            code: 'too_many_records',
            line: recLine,
            message: `the file has more than ${maxRecords} data records (the limit is reached on line ${recLine})`,
          },
        };
      }
      dataRecords++;
    }
    seenHeader = true;
    if (visit(fields, recLine) === false) return { ok: true, records: dataRecords, encoding, stopped: true };
  }
  return { ok: true, records: dataRecords, encoding, stopped: false };
}

function position(found: number, n: number): number {
  return found < 0 ? n : found;
}

/** Physical line breaks in s[from, to): LF, CRLF (once) and lone CR. */
function countLineBreaks(s: string, from: number, to: number): number {
  let count = 0;
  for (let k = from; k < to; k++) {
    const c = s.charCodeAt(k);
    if (c === LF) count++;
    else if (c === CR && s.charCodeAt(k + 1) !== LF) count++;
  }
  return count;
}

/**
 * Normalise a header name for matching: trimmed, lower-case, runs of spaces, hyphens and
 * underscores become one underscore ("Year Group", "year-group", " YEAR_GROUP " → "year_group").
 */
export function normaliseHeaderName(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[\s\-_]+/g, '_');
}

/** A short, safe excerpt of a value for an error message: never more than `max` characters. */
export function excerpt(value: string, max = 20): string {
  const flat = value.replace(/[\r\n\t]+/g, ' ');
  return flat.length > max ? `'${flat.slice(0, max)}…'` : `'${flat}'`;
}

/** The FileError a CSV-level failure becomes. */
export function csvFileError(error: CsvError): FileError {
  switch (error.code) {
    case 'empty':
      return { status: 400, code: 'empty_file', title: 'Empty file', detail: error.message };
    case 'not_csv':
      return { status: 415, code: 'not_csv', title: 'Not a CSV file', detail: error.message };
    case 'invalid_utf8':
      return { status: 415, code: 'invalid_utf8', title: 'File is not UTF-8', detail: error.message };
    case 'unterminated_quote':
      return { status: 400, code: 'unterminated_quote', title: 'Malformed CSV', detail: error.message };
    case 'record_too_long':
      return { status: 400, code: 'record_too_long', title: 'Malformed CSV', detail: error.message };
    case 'too_many_records':
      return { status: 413, code: 'too_many_rows', title: 'Too many rows', detail: error.message };
  }
}
