/**
 * The daily return CSV (docs/design.md §6): one row per pupil per date, header row required, columns in
 * any order, header names matched case-insensitively (surrounding spaces ignored; spaces or
 * hyphens may stand for underscores). Unknown columns are ignored.
 *
 * File errors reject the whole return (nothing applied); row errors reject only that row and are
 * reported with line (the line the record starts on; header = line 1), field and a stable code.
 *
 * Decisions (also in docs/decisions.md):
 * - A header-only file (no data rows) is a 422 `no_rows`: an empty register is almost always a
 *   wrong export, and the school should hear about it rather than get "accepted, 0 rows".
 * - Records whose fields are all empty (`,,,,` lines left by spreadsheets) are skipped, not counted.
 * - A record with fewer fields than the header, or more (unless the extra fields are empty), is a
 *   row error `field_count`: an unquoted comma in a name shifts every later column.
 * - Dates must be YYYY-MM-DD as docs/design.md §6 says; a spreadsheet-reformatted DD/MM/YYYY gets a hint.
 * - Flags fsm/cla/plac/cin/cpp accept Y/N and also Yes/No, True/False, 1/0 (any case): MIS exports
 *   vary and none of these is ambiguous. Empty means "not stated".
 * - Identical duplicate rows (same urn+upn+date and the same marks) are accepted once (the first);
 *   when marks differ, every row of that pupil and date is rejected, each naming the other lines.
 * - Admission/leaving: a row is checked against the dates it states itself; for a date it does not
 *   state, it uses the spell of the same urn+upn (from anywhere in the file) its date falls in: the
 *   latest admission on or before the row's date (else the earliest one), and the latest leaving date
 *   of that spell (on or after its admission, before the next admission), so a re-admission in a
 *   back-fill still works.
 */
import { LIMITS } from '../config.js';
import {
  parseDeletionGround,
  parseDestination,
  type DeletionGround,
  type Destination,
} from '../domain/admission-register.js';
import { checkMark, CODE_SET_2024_FROM, LEGACY_CODES } from '../domain/codes.js';
import { isIsoDate } from '../domain/dates.js';
import { checkUpn, upnCheckLetter } from '../domain/upn.js';
import { csvFileError, excerpt, normaliseHeaderName, visitCsv, type FileError, type RowError } from './csv.js';

export type { FileError, RowError } from './csv.js';

export interface ReturnRow {
  line: number; // line the record starts on; header is line 1
  urn: string;
  upn: string;
  date: string; // upn upper-cased, date ISO
  am: string;
  pm: string; // STORED mark characters (MARK_CHAR from codes.ts), UNMARKED '-' for empty or '-'
  forename?: string;
  surname?: string;
  dob?: string;
  sex?: 'M' | 'F';
  ethnicity?: string;
  yearGroup?: string; // 'N1','N2','R','1'..'14'
  fsm?: boolean;
  sen?: 'N' | 'K' | 'E';
  cla?: boolean;
  plac?: boolean;
  cin?: boolean;
  cpp?: boolean;
  admissionDate?: string;
  leavingDate?: string;
  registration?: 'C' | 'M' | 'S';
  uprn?: string;
  /** Ground for deletion (issue 20): a code of DELETION_GROUNDS; only with a leaving date on the row. */
  deletionGround?: DeletionGround;
  /** Where the pupil went: a 6-digit URN, or elective_home_education, another_country, unknown. */
  destination?: Destination;
}

export type ReturnParse =
  | { ok: true; rows: ReturnRow[]; errors: RowError[]; rowCount: number /* data records read */ }
  | { ok: false; error: FileError };

export interface ReturnParseOptions {
  /** Today's date (YYYY-MM-DD, Europe/London): marks and dates of birth after it are row errors. */
  today: string;
  /** Whether the uploader may send returns for this URN; a refusal rejects the file (403). */
  urnAllowed?: (urn: string) => boolean;
  /** Most data rows accepted (default LIMITS.maxRowsPerReturn); more is a 413. */
  maxRows?: number;
  /** Largest file accepted in bytes (default LIMITS.maxPresignedUploadBytes); more is a 413. */
  maxBytes?: number;
}

const REQUIRED_COLUMNS = ['urn', 'upn', 'date', 'am', 'pm'] as const;
const OPTIONAL_COLUMNS = [
  'forename',
  'surname',
  'dob',
  'sex',
  'ethnicity',
  'year_group',
  'fsm',
  'sen',
  'cla',
  'plac',
  'cin',
  'cpp',
  'admission_date',
  'leaving_date',
  'registration',
  'uprn',
  'deletion_ground',
  'destination',
] as const;

type Column = (typeof REQUIRED_COLUMNS)[number] | (typeof OPTIONAL_COLUMNS)[number];
const KNOWN_COLUMNS: ReadonlySet<string> = new Set<string>([...REQUIRED_COLUMNS, ...OPTIONAL_COLUMNS]);

/** Longest accepted free-text values (characters, after trimming). */
export const TEXT_LIMITS = { name: 100, ethnicity: 100, uprn: 64 } as const;

const URN_SHAPE = /^\d{6}$/;
const UPN_SHAPE = /^[A-Z]\d{11}[0-9A-Z]$/;
const UK_DATE = /^\d{1,2}\/\d{1,2}\/\d{2,4}$/;
const YEAR_GROUP = /^(?:Y(?:EAR)?\s*)?(N1|N2|R|\d{1,2})$/;

/** Column positions by canonical name (-1 when absent). */
type ColumnIndex = Record<Column, number>;

type Checked<T> = { ok: true; value: T } | { ok: false; code: string; message: string };

const NO_FUTURE_LIMIT = '9999-12-31';
/**
 * Earliest dates accepted: a register date before 2000 (UPNs began in 1999) or any date before 1900
 * is a mistyped year, e.g. 0025 for 2025, which would otherwise land in a register of year 24.
 */
const EARLIEST_MARK_DATE = '2000-01-01';
const EARLIEST_OTHER_DATE = '1900-01-01';

export function parseDailyReturnCsv(input: Buffer, options: ReturnParseOptions): ReturnParse {
  if (!isIsoDate(options.today)) throw new RangeError(`options.today must be an ISO date, got '${options.today}'`);
  // "Over the size limit" is a file error of the format itself (docs/design.md §6), whatever path the file came by.
  const maxBytes = options.maxBytes ?? LIMITS.maxPresignedUploadBytes;
  if (input.length > maxBytes) {
    return {
      ok: false,
      error: {
        status: 413,
        code: 'too_large',
        title: 'Return too large',
        detail: `the file is ${input.length} bytes; the limit is ${maxBytes} bytes (split it by date range)`,
      },
    };
  }
  const reader = new ReturnReader(options);
  const visit = visitCsv(
    input,
    { maxRecords: options.maxRows ?? LIMITS.maxRowsPerReturn, maxRecordBytes: LIMITS.maxLineBytes, encoding: 'utf-8' },
    (fields, line) => reader.record(fields, line),
  );
  if (reader.fileError) return { ok: false, error: reader.fileError };
  if (!visit.ok) return { ok: false, error: csvFileError(visit.error) };
  if (reader.columns === undefined) {
    return { ok: false, error: csvFileError({ code: 'empty', line: 1, message: 'the file is empty' }) };
  }
  if (reader.rowCount === 0) {
    return {
      ok: false,
      error: { status: 422, code: 'no_rows', title: 'No data rows', detail: 'the file has a header but no data rows' },
    };
  }
  return reader.finish();
}

interface Stated {
  date: string;
  line: number;
}

interface PupilDates {
  admissions: Stated[];
  leavings: Stated[];
  /**
   * Indexes into the candidate rows: rows with no error of their own, and rows rejected for another
   * error whose URN, UPN, date and marks are valid — they still count in the same-date conflict check.
   */
  rows: number[];
}

class ReturnReader {
  columns: ColumnIndex | undefined;
  fileError: FileError | undefined;
  rowCount = 0;

  private headerWidth = 0;
  private readonly today: string;
  private readonly urnAllowed: ((urn: string) => boolean) | undefined;
  private readonly errors: RowError[] = [];
  private readonly candidates: ReturnRow[] = [];
  /** Candidates rejected for errors of their own (already reported). */
  private readonly ownErrors: number[] = [];
  /** urn → upn → the pupil's rows and stated enrolment dates. */
  private readonly pupils = new Map<string, Map<string, PupilDates>>();
  /** One string per distinct value: a back-fill repeats each pupil's details on every day. */
  private readonly interned = new Map<string, string>();
  private readonly urnVerdicts = new Map<string, boolean>();
  private readonly upnCache = new Map<string, Checked<string>>();
  /** Per field: a file holds few distinct dates, so each is validated once. */
  private readonly dateCaches = new Map<string, Map<string, Checked<string>>>();
  private readonly markCache = new Map<string, Checked<string>>();
  /** Year groups as written → as normalised (undefined: not a year group). */
  private readonly yearGroups = new Map<string, string | undefined>();
  /** Errors of the record being read. */
  private readonly rowErrors: RowError[] = [];
  private line = 0;

  constructor(options: ReturnParseOptions) {
    this.today = options.today;
    this.urnAllowed = options.urnAllowed;
  }

  /** CSV visitor: the first record is the header. Returns false to stop reading (file error). */
  record(fields: string[], line: number): boolean {
    if (this.columns === undefined) {
      const header = resolveHeader(fields, line);
      if (!header.ok) {
        this.fileError = header.error;
        return false;
      }
      this.columns = header.columns;
      this.headerWidth = fields.length;
      return true;
    }
    if (isBlankRecord(fields)) return true;
    this.rowCount++;
    this.line = line;
    this.rowErrors.length = 0;
    const width = this.headerWidth;
    if (fields.length < width || (fields.length > width && !extraFieldsEmpty(fields, width))) {
      this.error(
        '*',
        'field_count',
        `expected ${width} fields as in the header, found ${fields.length} (an unquoted comma, or a truncated row?)`,
      );
      this.errors.push(...this.rowErrors);
      return true;
    }
    const col = this.columns;

    const urn = this.intern(fields[col.urn].trim());
    const urnOk = URN_SHAPE.test(urn);
    if (urnOk) {
      if (this.urnAllowed && !this.allowed(urn)) {
        this.fileError = {
          status: 403,
          code: 'urn_not_allowed',
          title: 'URN not permitted',
          detail: `the file holds rows for URN ${urn} (first on line ${line}), which this upload may not send returns for`,
          errors: [
            {
              line,
              field: 'urn',
              code: 'urn_not_allowed',
              message: `URN ${urn} is not one this upload may send returns for`,
            },
          ],
        };
        return false;
      }
    } else {
      this.error(
        'urn',
        urn === '' ? 'urn_missing' : 'urn_format',
        `URN must be 6 digits, got ${urn === '' ? 'nothing' : excerpt(urn, 12)}`,
      );
    }

    const upnRaw = fields[col.upn].trim();
    let upn = this.upnCache.get(upnRaw);
    if (upn === undefined) {
      upn = checkUpnField(upnRaw);
      this.upnCache.set(upnRaw, upn);
    }
    if (!upn.ok) this.error('upn', upn.code, upn.message);

    const date = this.date(fields[col.date].trim(), 'date', this.today, true);
    if (!date.ok) this.error('date', date.code, date.message);

    // Until the date is known good only "unknown code" can be judged (legacy codes depend on the
    // date), so marks are then checked against a date before the 2024 code set.
    const markDate = date.ok ? date.value : '0000-01-01';
    const am = this.mark(fields[col.am].trim(), markDate);
    if (!am.ok) this.error('am', am.code, `AM: ${am.message}`);
    const pm = this.mark(fields[col.pm].trim(), markDate);
    if (!pm.ok) this.error('pm', pm.code, `PM: ${pm.message}`);

    const row: ReturnRow = {
      line,
      urn,
      upn: upn.ok ? upn.value : '',
      date: date.ok ? date.value : '',
      am: am.ok ? am.value : '',
      pm: pm.ok ? pm.value : '',
    };
    const enrolment = this.optionalFields(row, fields, col);

    // Admission and leaving dates given on any row of the pupil apply to the pupil's other rows.
    const clean = this.rowErrors.length === 0;
    // A row rejected for, say, a bad sex value still contradicts another row's marks for that date:
    // docs/design.md §6 rejects both rows of a conflict, so such rows stay in the duplicate check.
    const keyed = urnOk && upn.ok && date.ok && am.ok && pm.ok;
    if (urnOk && upn.ok && (keyed || enrolment.admission !== undefined || enrolment.leaving !== undefined)) {
      let school = this.pupils.get(urn);
      if (school === undefined) {
        school = new Map();
        this.pupils.set(urn, school);
      }
      let p = school.get(upn.value);
      if (p === undefined) {
        p = { admissions: [], leavings: [], rows: [] };
        school.set(upn.value, p);
      }
      if (enrolment.admission !== undefined) p.admissions.push({ date: enrolment.admission, line });
      if (enrolment.leaving !== undefined) p.leavings.push({ date: enrolment.leaving, line });
      if (keyed) p.rows.push(this.candidates.length);
    }
    if (keyed) {
      if (!clean) this.ownErrors.push(this.candidates.length);
      this.candidates.push(row);
    }
    if (!clean) this.errors.push(...this.rowErrors);
    return true;
  }

  finish(): ReturnParse {
    const rows = this.candidates;
    const rejected = new Uint8Array(rows.length);
    for (const i of this.ownErrors) rejected[i] = 1;
    for (const school of this.pupils.values()) {
      for (const p of school.values()) {
        if (p.rows.length === 0) continue;
        checkEnrolmentDates(p, rows, rejected, this.errors);
        if (p.rows.length > 1) checkDuplicates(p, rows, rejected, this.errors);
      }
    }
    const accepted: ReturnRow[] = [];
    for (let i = 0; i < rows.length; i++) if (rejected[i] === 0) accepted.push(rows[i]);
    this.errors.sort((a, b) => a.line - b.line); // stable: one row's errors keep their column order
    return { ok: true, rows: accepted, errors: this.errors, rowCount: this.rowCount };
  }

  private intern(v: string): string {
    const known = this.interned.get(v);
    if (known !== undefined) return known;
    if (this.interned.size < 1_000_000) this.interned.set(v, v);
    return v;
  }

  private error(field: string, code: string, message: string): void {
    this.rowErrors.push({ line: this.line, field, code, message });
  }

  private allowed(urn: string): boolean {
    let verdict = this.urnVerdicts.get(urn);
    if (verdict === undefined) {
      verdict = this.urnAllowed ? this.urnAllowed(urn) : true;
      this.urnVerdicts.set(urn, verdict);
    }
    return verdict;
  }

  private date(raw: string, field: string, notAfter: string, required: boolean): Checked<string> {
    let cache = this.dateCaches.get(field);
    if (cache === undefined) {
      cache = new Map();
      this.dateCaches.set(field, cache);
    }
    let result = cache.get(raw);
    if (result === undefined) {
      result = checkDateField(raw, field, notAfter, required);
      cache.set(raw, result);
    }
    return result;
  }

  private mark(raw: string, date: string): Checked<string> {
    // checkMark depends on the date only through the code-set switch.
    const key = date < CODE_SET_2024_FROM ? `<${raw}` : `>${raw}`;
    let result = this.markCache.get(key);
    if (result === undefined) {
      const m = checkMark(raw, date);
      result = m.ok
        ? { ok: true, value: m.mark }
        : { ok: false, code: LEGACY_CODES.has(raw.toUpperCase()) ? 'legacy_code' : 'unknown_code', message: m.message };
      this.markCache.set(key, result);
    }
    return result;
  }

  /** The DfE daily-data items: each is optional and empty means "not stated". */
  private optionalFields(row: ReturnRow, fields: string[], col: ColumnIndex): { admission?: string; leaving?: string } {
    let v: string;
    let t: string | undefined;
    if (
      col.forename >= 0 &&
      (v = fields[col.forename].trim()) !== '' &&
      (t = this.text(v, 'forename', TEXT_LIMITS.name))
    )
      row.forename = t;
    if (col.surname >= 0 && (v = fields[col.surname].trim()) !== '' && (t = this.text(v, 'surname', TEXT_LIMITS.name)))
      row.surname = t;
    if (
      col.ethnicity >= 0 &&
      (v = fields[col.ethnicity].trim()) !== '' &&
      (t = this.text(v, 'ethnicity', TEXT_LIMITS.ethnicity))
    )
      row.ethnicity = t;
    if (col.uprn >= 0 && (v = fields[col.uprn].trim()) !== '' && (t = this.text(v, 'uprn', TEXT_LIMITS.uprn)))
      row.uprn = t;

    if (col.dob >= 0 && (v = fields[col.dob].trim()) !== '') {
      const d = this.date(v, 'dob', this.today, false);
      if (d.ok) row.dob = d.value;
      else this.error('dob', d.code, d.message);
    }
    if (col.sex >= 0 && (v = fields[col.sex].trim().toUpperCase()) !== '') {
      if (v === 'M' || v === 'F') row.sex = v;
      else this.error('sex', 'sex_value', `sex must be M or F, got ${excerpt(v, 8)}`);
    }
    if (col.year_group >= 0 && (v = fields[col.year_group].trim()) !== '') {
      let yg = this.yearGroups.get(v);
      if (yg === undefined && !this.yearGroups.has(v)) this.yearGroups.set(v, (yg = normaliseYearGroup(v)));
      if (yg) row.yearGroup = yg;
      else this.error('year_group', 'year_group_value', `year_group must be N1, N2, R or 1–14, got ${excerpt(v, 10)}`);
    }
    if (col.sen >= 0 && (v = fields[col.sen].trim().toUpperCase()) !== '') {
      if (v === 'N' || v === 'K' || v === 'E') row.sen = v;
      else
        this.error('sen', 'sen_value', `sen must be N (no SEN), K (SEN support) or E (EHC plan), got ${excerpt(v, 8)}`);
    }
    if (col.registration >= 0 && (v = fields[col.registration].trim().toUpperCase()) !== '') {
      if (v === 'C' || v === 'M' || v === 'S') row.registration = v;
      else
        this.error(
          'registration',
          'registration_value',
          `registration must be C (single), M (dual main) or S (dual subsidiary), got ${excerpt(v, 8)}`,
        );
    }
    let f: boolean | undefined;
    if (col.fsm >= 0 && (f = this.flag(fields[col.fsm], 'fsm')) !== undefined) row.fsm = f;
    if (col.cla >= 0 && (f = this.flag(fields[col.cla], 'cla')) !== undefined) row.cla = f;
    if (col.plac >= 0 && (f = this.flag(fields[col.plac], 'plac')) !== undefined) row.plac = f;
    if (col.cin >= 0 && (f = this.flag(fields[col.cin], 'cin')) !== undefined) row.cin = f;
    if (col.cpp >= 0 && (f = this.flag(fields[col.cpp], 'cpp')) !== undefined) row.cpp = f;

    // Admission dates may lie in the future (a pupil about to start): any mark would then be before
    // it and rejected, so no future check on either enrolment date.
    let admission: string | undefined;
    if (col.admission_date >= 0 && (v = fields[col.admission_date].trim()) !== '') {
      const d = this.date(v, 'admission_date', NO_FUTURE_LIMIT, false);
      if (d.ok) admission = d.value;
      else this.error('admission_date', d.code, d.message);
    }
    let leaving: string | undefined;
    if (col.leaving_date >= 0 && (v = fields[col.leaving_date].trim()) !== '') {
      const d = this.date(v, 'leaving_date', NO_FUTURE_LIMIT, false);
      if (d.ok) leaving = d.value;
      else this.error('leaving_date', d.code, d.message);
    }
    if (admission !== undefined && leaving !== undefined && leaving < admission) {
      this.error(
        'leaving_date',
        'leaving_before_admission',
        `leaving_date ${leaving} is before admission_date ${admission}`,
      );
      return {};
    }
    if (admission !== undefined) row.admissionDate = admission;
    if (leaving !== undefined) row.leavingDate = leaving;
    // The deletion's ground and destination (issue 20) belong with the leaving date they explain.
    if (col.deletion_ground >= 0 && (v = fields[col.deletion_ground].trim()) !== '') {
      const g = parseDeletionGround(v);
      if (g === undefined)
        this.error(
          'deletion_ground',
          'deletion_ground_value',
          `deletion_ground must be one of the codes in docs/duties.md (e.g. registered_at_another_school, elective_home_education), got ${excerpt(v, 40)}`,
        );
      else if (leaving === undefined)
        this.error(
          'deletion_ground',
          'deletion_without_leaving_date',
          'deletion_ground is given without a leaving_date on the same row',
        );
      else row.deletionGround = g;
    }
    if (col.destination >= 0 && (v = fields[col.destination].trim()) !== '') {
      const d = parseDestination(v);
      if (d === undefined)
        this.error(
          'destination',
          'destination_value',
          `destination must be a 6-digit URN, EHE, ABROAD or UNKNOWN, got ${excerpt(v, 20)}`,
        );
      else if (leaving === undefined)
        this.error(
          'destination',
          'deletion_without_leaving_date',
          'destination is given without a leaving_date on the same row',
        );
      else row.destination = d;
    }
    return { admission, leaving };
  }

  private text(v: string, field: string, max: number): string | undefined {
    if (v.length <= max) return this.intern(v);
    // Never echo the value (names are pupil data): its length is enough to find the cell.
    this.error(field, `${field}_too_long`, `${field} is ${v.length} characters; at most ${max} are accepted`);
    return undefined;
  }

  private flag(cell: string, field: string): boolean | undefined {
    const v = cell.trim();
    if (v === '') return undefined;
    const b = parseFlag(v);
    if (b === undefined) this.error(field, `${field}_value`, `${field} must be Y or N, got ${excerpt(v, 8)}`);
    return b;
  }
}

function resolveHeader(
  fields: string[],
  line: number,
): { ok: true; columns: ColumnIndex } | { ok: false; error: FileError } {
  const columns = Object.fromEntries([...KNOWN_COLUMNS].map((c) => [c, -1])) as ColumnIndex;
  const duplicates: RowError[] = [];
  for (let i = 0; i < fields.length; i++) {
    const name = normaliseHeaderName(fields[i]);
    if (!KNOWN_COLUMNS.has(name)) continue;
    const c = name as Column;
    if (columns[c] >= 0) {
      duplicates.push({
        line,
        field: c,
        code: 'duplicate_column',
        message: `column '${c}' appears more than once (columns ${columns[c] + 1} and ${i + 1})`,
      });
    } else columns[c] = i;
  }
  const missing = REQUIRED_COLUMNS.filter((c) => columns[c] < 0);
  if (missing.length > 0) {
    return {
      ok: false,
      error: {
        status: 422,
        code: 'missing_columns',
        title: 'Required columns missing',
        detail: `the header row lacks the required column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (required: ${REQUIRED_COLUMNS.join(', ')})`,
        errors: missing.map((c) => ({
          line,
          field: c,
          code: 'missing_column',
          message: `required column '${c}' is missing`,
        })),
      },
    };
  }
  if (duplicates.length > 0) {
    return {
      ok: false,
      error: {
        status: 422,
        code: 'duplicate_columns',
        title: 'Duplicate columns',
        detail: `the header row names ${duplicates.map((d) => d.field).join(', ')} more than once`,
        errors: duplicates,
      },
    };
  }
  return { ok: true, columns };
}

function isBlankRecord(fields: string[]): boolean {
  for (const f of fields) if (f !== '' && f.trim() !== '') return false;
  return true;
}

function extraFieldsEmpty(fields: string[], width: number): boolean {
  for (let i = width; i < fields.length; i++) if (fields[i].trim() !== '') return false;
  return true;
}

function checkUpnField(raw: string): Checked<string> {
  if (raw === '') return { ok: false, code: 'upn_missing', message: 'UPN is required' };
  const result = checkUpn(raw);
  if (result.ok) return { ok: true, value: result.upn };
  // Classify only; checkUpn owns the rule and the wording.
  const upper = raw.toUpperCase();
  const wrongLetter = UPN_SHAPE.test(upper) && upnCheckLetter(upper.slice(1)) !== undefined;
  return { ok: false, code: wrongLetter ? 'upn_check_letter' : 'upn_format', message: result.message };
}

function checkDateField(raw: string, field: string, notAfter: string, required: boolean): Checked<string> {
  const notBefore = field === 'date' ? EARLIEST_MARK_DATE : EARLIEST_OTHER_DATE;
  if (raw === '') {
    return required
      ? { ok: false, code: `${field}_missing`, message: `${field} is required (YYYY-MM-DD)` }
      : { ok: true, value: '' };
  }
  if (!isIsoDate(raw)) {
    const hint = UK_DATE.test(raw) ? ' (it looks like a spreadsheet reformatted it as DD/MM/YYYY)' : '';
    return {
      ok: false,
      code: `${field}_format`,
      message: `${field} must be a real date written YYYY-MM-DD, got ${excerpt(raw, 12)}${hint}`,
    };
  }
  if (raw > notAfter)
    return { ok: false, code: `${field}_future`, message: `${field} ${raw} is in the future (today is ${notAfter})` };
  if (raw < notBefore)
    return { ok: false, code: `${field}_too_early`, message: `${field} ${raw} is before ${notBefore}; check the year` };
  return { ok: true, value: raw };
}

function parseFlag(v: string): boolean | undefined {
  // Nearly every cell is one of these two.
  if (v === 'Y') return true;
  if (v === 'N') return false;
  switch (v.length <= 5 ? v.toUpperCase() : '') {
    case 'Y':
    case 'YES':
    case 'TRUE':
    case '1':
      return true;
    case 'N':
    case 'NO':
    case 'FALSE':
    case '0':
      return false;
    default:
      return undefined;
  }
}

/** 'N1', 'N2', 'R', '1'..'14'; also 'r', '07', 'Y7', 'Year 7', 'YR'. */
export function normaliseYearGroup(v: string): string | undefined {
  const m = YEAR_GROUP.exec(v.trim().toUpperCase());
  if (!m) return undefined;
  const g = m[1];
  if (g === 'N1' || g === 'N2' || g === 'R') return g;
  const n = Number(g);
  return n >= 1 && n <= 14 ? String(n) : undefined;
}

function checkEnrolmentDates(p: PupilDates, rows: ReturnRow[], rejected: Uint8Array, errors: RowError[]): void {
  if (p.admissions.length === 0 && p.leavings.length === 0) return;
  // A back-fill repeats the same dates on every row: scan each distinct date once (first line kept).
  const admissions = distinctDates(p.admissions);
  const leavings = distinctDates(p.leavings);
  for (const idx of p.rows) {
    if (rejected[idx] !== 0) continue; // already rejected for its own errors
    const row = rows[idx];
    // The spell the row's date falls in. (Taking the earliest admission and the latest leaving for
    // every row rejected the days after a re-admission as "after the leaving date".)
    let admission: Stated | undefined =
      row.admissionDate !== undefined ? { date: row.admissionDate, line: row.line } : undefined;
    if (admission === undefined) {
      let earliest: Stated | undefined;
      for (const a of admissions) {
        if (a.date <= row.date && (!admission || a.date > admission.date)) admission = a;
        if (!earliest || a.date < earliest.date) earliest = a;
      }
      // No admission on or before the date: the earliest one rejects it, unless the row's own leaving
      // date shows that admission starts a later spell.
      if (
        admission === undefined &&
        earliest !== undefined &&
        !(row.leavingDate !== undefined && row.leavingDate < earliest.date)
      )
        admission = earliest;
    }
    let leaving: Stated | undefined =
      row.leavingDate !== undefined ? { date: row.leavingDate, line: row.line } : undefined;
    if (leaving === undefined) {
      let nextAdmission: string | undefined;
      for (const a of admissions) {
        if (
          (admission === undefined || a.date > admission.date) &&
          (nextAdmission === undefined || a.date < nextAdmission)
        )
          nextAdmission = a.date;
      }
      for (const l of leavings) {
        if (admission !== undefined && l.date < admission.date) continue; // ends an earlier spell at the school
        if (nextAdmission !== undefined && l.date >= nextAdmission) continue; // ends a later spell
        if (!leaving || l.date > leaving.date) leaving = l;
      }
    }
    if (admission !== undefined && row.date < admission.date) {
      rejected[idx] = 1;
      errors.push({
        line: row.line,
        field: 'date',
        code: 'date_before_admission',
        message: `date ${row.date} is before the pupil's admission date ${admission.date} (given ${givenOn(admission, row)})`,
      });
    } else if (leaving !== undefined && row.date > leaving.date) {
      rejected[idx] = 1;
      errors.push({
        line: row.line,
        field: 'date',
        code: 'date_after_leaving',
        message: `date ${row.date} is after the pupil's leaving date ${leaving.date} (given ${givenOn(leaving, row)})`,
      });
    }
  }
}

function distinctDates(stated: readonly Stated[]): Stated[] {
  const byDate = new Map<string, Stated>();
  for (const s of stated) if (!byDate.has(s.date)) byDate.set(s.date, s);
  return [...byDate.values()];
}

function givenOn(stated: Stated, row: ReturnRow): string {
  return stated.line === row.line ? 'on this row' : `on line ${stated.line}`;
}

/** Rows of one pupil for one date: identical ones are accepted once; differing ones all rejected. */
function checkDuplicates(p: PupilDates, rows: ReturnRow[], rejected: Uint8Array, errors: RowError[]): void {
  // Every row with valid marks takes part, even one already rejected: both rows of a conflict are rejected.
  const live = p.rows.slice();
  // Files are normally in date order, so sorting is usually skipped.
  let sorted = true;
  for (let k = 1; k < live.length; k++) if (rows[live[k]].date < rows[live[k - 1]].date) sorted = false;
  if (!sorted) live.sort((a, b) => (rows[a].date < rows[b].date ? -1 : rows[a].date > rows[b].date ? 1 : a - b));
  let start = 0;
  while (start < live.length) {
    let end = start + 1;
    while (end < live.length && rows[live[end]].date === rows[live[start]].date) end++;
    if (end - start > 1) resolveSameDate(live.slice(start, end), rows, rejected, errors);
    start = end;
  }
}

function resolveSameDate(group: number[], rows: ReturnRow[], rejected: Uint8Array, errors: RowError[]): void {
  group.sort((a, b) => a - b);
  const first = rows[group[0]];
  if (group.every((i) => rows[i].am === first.am && rows[i].pm === first.pm)) {
    // Identical duplicates: accepted once (the first row not rejected for another reason).
    const kept = group.find((i) => rejected[i] === 0);
    for (const i of group) if (i !== kept) rejected[i] = 1;
    return;
  }
  for (const i of group) {
    const row = rows[i];
    rejected[i] = 1;
    // Some other row always differs from this one, since the group is not all alike.
    const amOthers = group.filter((j) => j !== i && rows[j].am !== row.am).map((j) => rows[j].line);
    const pmOthers = group.filter((j) => j !== i && rows[j].pm !== row.pm).map((j) => rows[j].line);
    if (amOthers.length > 0) errors.push(conflict(row, 'am', amOthers));
    if (pmOthers.length > 0) errors.push(conflict(row, 'pm', pmOthers));
  }
}

function conflict(row: ReturnRow, field: 'am' | 'pm', otherLines: number[]): RowError {
  const shown = otherLines.slice(0, 5).join(', ') + (otherLines.length > 5 ? ` and ${otherLines.length - 5} more` : '');
  return {
    line: row.line,
    field,
    code: 'conflicting_duplicate',
    message: `${field.toUpperCase()} mark differs from line${otherLines.length > 1 ? 's' : ''} ${shown} for the same pupil and date ${row.date}; all these rows are rejected`,
  };
}
