import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MARK_CHAR } from '../../../shared/domain/codes.js';
import { addDays } from '../../../shared/domain/dates.js';
import { makeUpn } from '../../../shared/domain/upn.js';
import {
  normaliseYearGroup,
  parseDailyReturnCsv,
  type ReturnParseOptions,
  type ReturnRow,
} from '../../../shared/formats/daily-return-csv.js';
import type { FileError, RowError } from '../../../shared/formats/csv.js';

const TODAY = '2025-09-30';
const URN = '100001';
const UPN = makeUpn('999400125001');
const UPN2 = makeUpn('999400125002');
const HEADER = 'urn,upn,date,am,pm';

function parse(text: string | Buffer, options: Partial<ReturnParseOptions> = {}) {
  return parseDailyReturnCsv(typeof text === 'string' ? Buffer.from(text, 'utf8') : text, { today: TODAY, ...options });
}

function ok(text: string | Buffer, options: Partial<ReturnParseOptions> = {}) {
  const r = parse(text, options);
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.detail}`);
  return r;
}

function fileError(text: string | Buffer, options: Partial<ReturnParseOptions> = {}): FileError {
  const r = parse(text, options);
  if (r.ok) throw new Error('expected a file error');
  return r.error;
}

/** The single row error of a one-row file. */
function rowErrors(text: string, options: Partial<ReturnParseOptions> = {}): RowError[] {
  const r = ok(text, options);
  expect(r.rows).toEqual([]);
  return r.errors;
}

const lines = (...l: string[]) => l.join('\n') + '\n';

describe('reading a valid return', () => {
  it('reads each row with its line, upper-cased UPN and stored mark characters', () => {
    const r = ok(lines(HEADER, `${URN},${UPN.toLowerCase()},2025-09-01,/,N`, `${URN},${UPN2},2025-09-01,c1,Y7`));
    expect(r.rowCount).toBe(2);
    expect(r.errors).toEqual([]);
    expect(r.rows).toEqual([
      { line: 2, urn: URN, upn: UPN, date: '2025-09-01', am: '/', pm: 'N' },
      { line: 3, urn: URN, upn: UPN2, date: '2025-09-01', am: MARK_CHAR.C1, pm: MARK_CHAR.Y7 },
    ]);
  });

  it('reads empty and "-" marks as not yet marked', () => {
    const r = ok(lines(HEADER, `${URN},${UPN},2025-09-01,,-`));
    expect(r.rows[0]).toMatchObject({ am: '-', pm: '-' });
  });

  it('matches header names in any case and order, with a BOM and CRLF, ignoring unknown columns', () => {
    const text =
      '\ufeffPM, Notes ,Date,UPN,Year Group,URN,AM\r\nN,hello,2025-09-01,' + UPN + ',Year 7,' + URN + ',/\r\n';
    const r = ok(text);
    expect(r.rows).toEqual([{ line: 2, urn: URN, upn: UPN, date: '2025-09-01', am: '/', pm: 'N', yearGroup: '7' }]);
  });

  it('numbers rows after a quoted line break by the line they start on', () => {
    const r = ok(
      `${HEADER},forename\r\n${URN},${UPN},2025-09-01,/,/,"Ann\r\nMarie"\r\n${URN},${UPN2},2025-09-01,/,/,Bo\r\n`,
    );
    expect(r.rows.map((x) => [x.line, x.forename])).toEqual([
      [2, 'Ann\r\nMarie'],
      [4, 'Bo'],
    ]);
  });

  it('reads every optional DfE item', () => {
    const header = `${HEADER},forename,surname,dob,sex,ethnicity,year_group,fsm,sen,cla,plac,cin,cpp,admission_date,leaving_date,registration,uprn`;
    const r = ok(
      lines(
        header,
        `${URN},${UPN},2025-09-01,/,/,Ann,Smith,2014-03-02,f,WBRI,r,Yes,k,N,0,true,FALSE,2025-09-01,2026-07-20,m,100012345678`,
      ),
    );
    expect(r.rows[0]).toEqual({
      line: 2,
      urn: URN,
      upn: UPN,
      date: '2025-09-01',
      am: '/',
      pm: '/',
      forename: 'Ann',
      surname: 'Smith',
      dob: '2014-03-02',
      sex: 'F',
      ethnicity: 'WBRI',
      yearGroup: 'R',
      fsm: true,
      sen: 'K',
      cla: false,
      plac: false,
      cin: true,
      cpp: false,
      admissionDate: '2025-09-01',
      leavingDate: '2026-07-20',
      registration: 'M',
      uprn: '100012345678',
    } satisfies ReturnRow);
  });

  it('leaves empty optional cells unstated', () => {
    const r = ok(lines(`${HEADER},fsm,sen,forename`, `${URN},${UPN},2025-09-01,/,/,,,`));
    expect(r.rows[0]).toEqual({ line: 2, urn: URN, upn: UPN, date: '2025-09-01', am: '/', pm: '/' });
  });

  it('skips records whose fields are all empty (spreadsheet leftovers) without counting them', () => {
    const r = ok(lines(HEADER, ',,,,', `${URN},${UPN},2025-09-01,/,/`, ' , , , , '));
    expect(r.rowCount).toBe(1);
    expect(r.rows.map((x) => x.line)).toEqual([3]);
  });

  it('accepts a row dated today, and legacy codes on 2024-08-18', () => {
    const r = ok(
      lines(HEADER, `${URN},${UPN},${TODAY},/,/`, `${URN},${UPN},2024-08-18,H,Y`, `${URN},${UPN},2024-08-16,f,J`),
    );
    expect(r.errors).toEqual([]);
    expect(r.rows.map((x) => [x.am, x.pm])).toEqual([
      ['/', '/'],
      ['H', 'Y'],
      ['F', 'J'],
    ]);
  });

  it('accepts identical duplicate rows once (the first)', () => {
    const r = ok(lines(HEADER, `${URN},${UPN},2025-09-01,/,N`, `${URN},${UPN},2025-09-01,/,n`));
    expect(r.rows.map((x) => x.line)).toEqual([2]);
    expect(r.errors).toEqual([]);
  });

  it('reads year groups written as 07, Y7, Year 7, YR, N1', () => {
    expect(['07', 'Y7', 'year 7', 'YR', 'n1', 'N2', '14', 'R'].map(normaliseYearGroup)).toEqual([
      '7',
      '7',
      '7',
      'R',
      'N1',
      'N2',
      '14',
      'R',
    ]);
    expect(['0', '15', 'Y', 'Reception', '7a'].map(normaliseYearGroup)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });
});

describe('file errors (the whole return is rejected, nothing applied)', () => {
  it('rejects an empty file', () => {
    expect(fileError('')).toMatchObject({ status: 400, code: 'empty_file', detail: 'the file is empty' });
  });

  it('rejects a spreadsheet, a PDF or binary content as not CSV', () => {
    expect(fileError(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0]))).toMatchObject({ status: 415, code: 'not_csv' });
    expect(fileError(Buffer.from('%PDF-1.7\n'))).toMatchObject({
      status: 415,
      code: 'not_csv',
      detail: 'not a CSV file: it is a PDF document',
    });
    expect(fileError(Buffer.from(`${HEADER}\n1\u00002\n`))).toMatchObject({ status: 415, code: 'not_csv' });
  });

  it('rejects XML sent as a CSV return, pointing at the CTF route', () => {
    expect(fileError('<?xml version="1.0"?>\n<CTfile/>').detail).toContain('send CTF files as application/xml');
  });

  it('rejects invalid UTF-8 with its line and byte offset', () => {
    const e = fileError(
      Buffer.concat([Buffer.from(`${HEADER},forename\n${URN},${UPN},2025-09-01,/,/,Jos`), Buffer.from([0xe9, 0x0a])]),
    );
    expect(e).toMatchObject({ status: 415, code: 'invalid_utf8' });
    expect(e.detail).toContain('on line 2');
  });

  it('rejects a malformed CSV (an unterminated quote) naming the line', () => {
    expect(fileError(lines(HEADER, `${URN},"${UPN},2025-09-01,/,/`))).toMatchObject({
      status: 400,
      code: 'unterminated_quote',
      detail: 'a quoted field opened on line 2 is never closed',
    });
  });

  it('names a missing required column', () => {
    const e = fileError(lines('urn,upn,date,am', `${URN},${UPN},2025-09-01,/`));
    expect(e).toEqual({
      status: 422,
      code: 'missing_columns',
      title: 'Required columns missing',
      detail: 'the header row lacks the required column pm (required: urn, upn, date, am, pm)',
      errors: [{ line: 1, field: 'pm', code: 'missing_column', message: "required column 'pm' is missing" }],
    });
  });

  it('names every missing required column of a file that is not a register at all', () => {
    const e = fileError(lines('hello world', 'just some text'));
    expect(e.detail).toBe(
      'the header row lacks the required columns urn, upn, date, am, pm (required: urn, upn, date, am, pm)',
    );
    expect(e.errors?.map((x) => x.field)).toEqual(['urn', 'upn', 'date', 'am', 'pm']);
  });

  it('rejects a column named twice', () => {
    expect(fileError(lines(`${HEADER},AM`, `${URN},${UPN},2025-09-01,/,/,/`))).toMatchObject({
      status: 422,
      code: 'duplicate_columns',
      errors: [
        {
          line: 1,
          field: 'am',
          code: 'duplicate_column',
          message: "column 'am' appears more than once (columns 4 and 6)",
        },
      ],
    });
  });

  it('rejects a header with no data rows', () => {
    expect(fileError(lines(HEADER, ',,,,'))).toMatchObject({
      status: 422,
      code: 'no_rows',
      detail: 'the file has a header but no data rows',
    });
  });

  it('rejects the whole file when a row is for a URN the uploader may not send', () => {
    const e = fileError(lines(HEADER, `${URN},${UPN},2025-09-01,/,/`, `100002,${UPN2},2025-09-01,/,/`), {
      urnAllowed: (u) => u === URN,
    });
    expect(e).toMatchObject({
      status: 403,
      code: 'urn_not_allowed',
      detail: 'the file holds rows for URN 100002 (first on line 3), which this upload may not send returns for',
      errors: [{ line: 3, field: 'urn', code: 'urn_not_allowed' }],
    });
  });

  it('rejects a file over the size limit', () => {
    const text = lines(HEADER, `${URN},${UPN},2025-09-01,/,/`);
    expect(fileError(text, { maxBytes: text.length - 1 })).toMatchObject({
      status: 413,
      code: 'too_large',
      detail: `the file is ${text.length} bytes; the limit is ${text.length - 1} bytes (split it by date range)`,
    });
    expect(ok(text, { maxBytes: text.length }).rows).toHaveLength(1);
  });

  it('rejects more rows than allowed', () => {
    const text = lines(
      HEADER,
      `${URN},${UPN},2025-09-01,/,/`,
      `${URN},${UPN},2025-09-02,/,/`,
      `${URN},${UPN},2025-09-03,/,/`,
    );
    expect(fileError(text, { maxRows: 2 })).toMatchObject({ status: 413, code: 'too_many_rows' });
    expect(ok(text, { maxRows: 3 }).rows).toHaveLength(3);
  });
});

describe('row errors (the row is rejected, the rest applied)', () => {
  it('rejects a wrong UPN check letter, naming the letter the digits require', () => {
    const wrong = (UPN[0] === 'A' ? 'B' : 'A') + UPN.slice(1);
    expect(rowErrors(lines(HEADER, `${URN},${wrong},2025-09-01,/,/`))).toEqual([
      {
        line: 2,
        field: 'upn',
        code: 'upn_check_letter',
        message: `UPN check letter is '${wrong[0]}' but the digits require '${UPN[0]}'`,
      },
    ]);
  });

  it('rejects a malformed or missing UPN', () => {
    expect(rowErrors(lines(HEADER, `${URN},12345,2025-09-01,/,/`))).toEqual([
      { line: 2, field: 'upn', code: 'upn_format', message: 'UPN must be 13 characters, got 5' },
    ]);
    expect(rowErrors(lines(HEADER, `${URN},,2025-09-01,/,/`))).toEqual([
      { line: 2, field: 'upn', code: 'upn_missing', message: 'UPN is required' },
    ]);
  });

  it('rejects an unknown code naming the session, the code and what was expected', () => {
    expect(rowErrors(lines(HEADER, `${URN},${UPN},2025-09-01,A,/`))).toEqual([
      {
        line: 2,
        field: 'am',
        code: 'unknown_code',
        message:
          "AM: unknown attendance code 'A'; expected a DfE code such as /, \\, L, I, M, N, G or empty when not yet marked",
      },
    ]);
  });

  it('rejects a legacy code on or after 2024-08-19', () => {
    expect(rowErrors(lines(HEADER, `${URN},${UPN},2024-08-19,/,h`))).toEqual([
      {
        line: 2,
        field: 'pm',
        code: 'legacy_code',
        message: "PM: legacy code 'H' is not valid on or after 2024-08-19 (2024 code set)",
      },
    ]);
  });

  it('rejects a date that is not a real YYYY-MM-DD date, hinting at spreadsheet reformatting', () => {
    expect(rowErrors(lines(HEADER, `${URN},${UPN},01/09/2025,/,/`))).toEqual([
      {
        line: 2,
        field: 'date',
        code: 'date_format',
        message:
          "date must be a real date written YYYY-MM-DD, got '01/09/2025' (it looks like a spreadsheet reformatted it as DD/MM/YYYY)",
      },
    ]);
    expect(rowErrors(lines(HEADER, `${URN},${UPN},2025-02-29,/,/`))[0]).toMatchObject({
      field: 'date',
      code: 'date_format',
    });
    expect(rowErrors(lines(HEADER, `${URN},${UPN},,/,/`))[0]).toMatchObject({
      field: 'date',
      code: 'date_missing',
      message: 'date is required (YYYY-MM-DD)',
    });
  });

  it('rejects a date after today', () => {
    expect(rowErrors(lines(HEADER, `${URN},${UPN},${addDays(TODAY, 1)},/,/`))).toEqual([
      { line: 2, field: 'date', code: 'date_future', message: `date 2025-10-01 is in the future (today is ${TODAY})` },
    ]);
  });

  it('rejects a date with a mistyped year (before 2000), and a date of birth before 1900', () => {
    expect(rowErrors(lines(HEADER, `${URN},${UPN},0025-09-01,/,/`))).toEqual([
      {
        line: 2,
        field: 'date',
        code: 'date_too_early',
        message: 'date 0025-09-01 is before 2000-01-01; check the year',
      },
    ]);
    expect(ok(lines(HEADER, `${URN},${UPN},2000-01-01,/,/`)).rows).toHaveLength(1);
    expect(rowErrors(lines(`${HEADER},dob`, `${URN},${UPN},2025-09-01,/,/,1899-12-31`))[0]).toMatchObject({
      field: 'dob',
      code: 'dob_too_early',
    });
  });

  it('rejects a URN that is not 6 digits', () => {
    expect(rowErrors(lines(HEADER, `1234,${UPN},2025-09-01,/,/`))).toEqual([
      { line: 2, field: 'urn', code: 'urn_format', message: "URN must be 6 digits, got '1234'" },
    ]);
  });

  it('reports every problem of a row, in column order', () => {
    expect(rowErrors(lines(HEADER, `${URN},X,2025-13-01,A,Q1`)).map((e) => e.field)).toEqual([
      'upn',
      'date',
      'am',
      'pm',
    ]);
  });

  it('rejects a row with fewer fields than the header, or more non-empty ones', () => {
    expect(rowErrors(lines(HEADER, `${URN},${UPN},2025-09-01,/`))).toEqual([
      {
        line: 2,
        field: '*',
        code: 'field_count',
        message: 'expected 5 fields as in the header, found 4 (an unquoted comma, or a truncated row?)',
      },
    ]);
    expect(rowErrors(lines(HEADER, `${URN},${UPN},2025-09-01,/,/,extra`))[0].code).toBe('field_count');
    expect(ok(lines(HEADER, `${URN},${UPN},2025-09-01,/,/,,`)).rows).toHaveLength(1);
  });

  it('rejects bad optional values with the field named, never echoing a long name', () => {
    const header = `${HEADER},sex,sen,registration,year_group,fsm,dob,forename`;
    const errors = rowErrors(
      lines(header, `${URN},${UPN},2025-09-01,/,/,X,Q,D,15,maybe,2030-01-01,${'a'.repeat(101)}`),
    );
    expect(errors.map((e) => [e.field, e.code])).toEqual([
      ['forename', 'forename_too_long'],
      ['dob', 'dob_future'],
      ['sex', 'sex_value'],
      ['year_group', 'year_group_value'],
      ['sen', 'sen_value'],
      ['registration', 'registration_value'],
      ['fsm', 'fsm_value'],
    ]);
    expect(errors[0].message).toBe('forename is 101 characters; at most 100 are accepted');
  });

  it('rejects a row whose leaving date is before its admission date', () => {
    expect(
      rowErrors(lines(`${HEADER},admission_date,leaving_date`, `${URN},${UPN},2025-09-01,/,/,2025-09-05,2025-09-02`)),
    ).toEqual([
      {
        line: 2,
        field: 'leaving_date',
        code: 'leaving_before_admission',
        message: 'leaving_date 2025-09-02 is before admission_date 2025-09-05',
      },
    ]);
  });

  it('rejects a date before the admission date the row gives', () => {
    expect(rowErrors(lines(`${HEADER},admission_date`, `${URN},${UPN},2025-09-01,/,/,2025-09-02`))).toEqual([
      {
        line: 2,
        field: 'date',
        code: 'date_before_admission',
        message: "date 2025-09-01 is before the pupil's admission date 2025-09-02 (given on this row)",
      },
    ]);
  });

  it('accepts a row dated on the admission date and on the leaving date', () => {
    expect(
      ok(lines(`${HEADER},admission_date,leaving_date`, `${URN},${UPN},2025-09-01,/,/,2025-09-01,2025-09-01`)).rows,
    ).toHaveLength(1);
  });

  it('applies an admission or leaving date given on another row of the pupil to rows that give none', () => {
    const r = ok(
      lines(
        `${HEADER},admission_date,leaving_date`,
        `${URN},${UPN},2025-09-01,/,/,,`, // 2: before the admission stated on line 4
        `${URN},${UPN},2025-09-03,/,/,,`, // 3: fine
        `${URN},${UPN},2025-09-02,/,/,2025-09-02,`, // 4
        `${URN},${UPN},2025-09-05,/,/,,2025-09-04`, // 5: after its own leaving date
        `${URN},${UPN},2025-09-08,/,/,,`, // 6: after the leaving date on line 5
        `${URN},${UPN2},2025-09-01,/,/,,`, // 7: another pupil, unaffected
      ),
    );
    expect(r.rows.map((x) => x.line)).toEqual([3, 4, 7]);
    expect(r.errors).toEqual([
      {
        line: 2,
        field: 'date',
        code: 'date_before_admission',
        message: "date 2025-09-01 is before the pupil's admission date 2025-09-02 (given on line 4)",
      },
      {
        line: 5,
        field: 'date',
        code: 'date_after_leaving',
        message: "date 2025-09-05 is after the pupil's leaving date 2025-09-04 (given on this row)",
      },
      {
        line: 6,
        field: 'date',
        code: 'date_after_leaving',
        message: "date 2025-09-08 is after the pupil's leaving date 2025-09-04 (given on line 5)",
      },
    ]);
  });

  it('keeps a re-admission in a back-fill: each row is checked against the spell its date falls in', () => {
    const r = ok(
      lines(
        `${HEADER},admission_date,leaving_date`,
        `${URN},${UPN},2025-09-01,/,/,2025-09-01,2025-09-05`, // 2: first spell
        `${URN},${UPN},2025-09-15,/,/,2025-09-15,`, // 3: re-admitted
        `${URN},${UPN},2025-09-16,/,/,,`, // 4: in the second spell
        `${URN},${UPN},2025-09-04,/,/,,`, // 5: in the first spell
        `${URN},${UPN},2025-09-10,/,/,,`, // 6: between the spells
        `${URN},${UPN},2025-08-29,/,/,,2025-08-30`, // 7: an earlier spell known only by its leaving date
      ),
    );
    expect(r.rows.map((x) => x.line)).toEqual([2, 3, 4, 5, 7]);
    expect(r.errors).toEqual([
      {
        line: 6,
        field: 'date',
        code: 'date_after_leaving',
        message: "date 2025-09-10 is after the pupil's leaving date 2025-09-05 (given on line 2)",
      },
    ]);
  });

  it('uses the latest leaving date stated for a spell', () => {
    const r = ok(
      lines(
        `${HEADER},admission_date,leaving_date`,
        `${URN},${UPN},2025-09-01,/,/,2025-09-01,2025-09-05`,
        `${URN},${UPN},2025-09-08,/,/,2025-09-01,2025-09-12`,
        `${URN},${UPN},2025-09-10,/,/,,`,
      ),
    );
    expect(r.rows.map((x) => x.line)).toEqual([2, 3, 4]); // 10 Sep: within the spell ending 12 Sep
    expect(r.errors).toEqual([]);
  });

  it('rejects both rows for the same pupil and date when their marks differ, each naming the other', () => {
    const r = ok(
      lines(HEADER, `${URN},${UPN},2025-09-01,/,/`, `${URN},${UPN2},2025-09-01,/,/`, `${URN},${UPN},2025-09-01,/,N`),
    );
    expect(r.rows.map((x) => x.line)).toEqual([3]);
    expect(r.errors).toEqual([
      {
        line: 2,
        field: 'pm',
        code: 'conflicting_duplicate',
        message: 'PM mark differs from line 4 for the same pupil and date 2025-09-01; all these rows are rejected',
      },
      {
        line: 4,
        field: 'pm',
        code: 'conflicting_duplicate',
        message: 'PM mark differs from line 2 for the same pupil and date 2025-09-01; all these rows are rejected',
      },
    ]);
  });

  it('rejects both rows of a conflict even when one of them is already rejected for another error', () => {
    const r = ok(lines(`${HEADER},sex`, `${URN},${UPN},2025-09-01,/,/,X`, `${URN},${UPN},2025-09-01,N,/,F`));
    expect(r.rows).toEqual([]);
    expect(r.errors.map((e) => [e.line, e.field, e.code])).toEqual([
      [2, 'sex', 'sex_value'],
      [2, 'am', 'conflicting_duplicate'],
      [3, 'am', 'conflicting_duplicate'],
    ]);
  });

  it('rejects both rows of a conflict when one is dated before the admission date it gives', () => {
    // Line 3 gives its own (earlier) admission date, so only the conflict rejects it.
    const r = ok(
      lines(
        `${HEADER},admission_date`,
        `${URN},${UPN},2025-09-01,/,/,2025-09-02`,
        `${URN},${UPN},2025-09-01,N,/,2025-08-20`,
      ),
    );
    expect(r.rows).toEqual([]);
    expect(r.errors.map((e) => [e.line, e.code])).toEqual([
      [2, 'date_before_admission'],
      [2, 'conflicting_duplicate'],
      [3, 'conflicting_duplicate'],
    ]);
  });

  it('accepts the first good row of identical duplicates when an earlier one has an error of its own', () => {
    const r = ok(
      lines(
        `${HEADER},sex`,
        `${URN},${UPN},2025-09-01,/,N,X`,
        `${URN},${UPN},2025-09-01,/,N,F`,
        `${URN},${UPN},2025-09-01,/,N,F`,
      ),
    );
    expect(r.rows.map((x) => x.line)).toEqual([3]);
    expect(r.errors.map((e) => [e.line, e.code])).toEqual([[2, 'sex_value']]);
  });

  it('treats the same pupil and date at two schools as two enrolments, not a conflict', () => {
    const r = ok(lines(HEADER, `${URN},${UPN},2025-09-01,/,/`, `100002,${UPN},2025-09-01,D,D`));
    expect(r.rows).toHaveLength(2);
  });

  it('reports errors in line order and keeps the good rows', () => {
    const r = ok(
      lines(
        HEADER,
        `${URN},${UPN},2025-09-02,/,/`,
        `${URN},${UPN},2025-09-01,Q9,/`,
        `${URN},${UPN2},2025-09-01,/,/`,
        `${URN},X,2025-09-01,/,/`,
      ),
    );
    expect(r.rowCount).toBe(4);
    expect(r.rows.map((x) => x.line)).toEqual([2, 4]);
    expect(r.errors.map((e) => e.line)).toEqual([3, 5]);
  });
});

describe('properties', () => {
  it('never throws: any input ends in rows with row errors, or a file error with a message', () => {
    const cell = fc.oneof(
      fc.constantFrom(
        URN,
        UPN,
        UPN.toLowerCase(),
        'A801200005001',
        '2025-09-01',
        '2024-08-18',
        '2099-01-01',
        '/',
        'N',
        'H',
        'c1',
        '',
        '-',
        '"',
        ',',
        '\n',
        'urn',
        'upn',
        'date',
        'am',
        'pm',
        'admission_date',
        'leaving_date',
        '2025-09-05',
      ),
      fc.string({ maxLength: 6 }),
    );
    const text = fc
      .array(
        fc.array(cell, { maxLength: 8 }).map((cells) => cells.join(',')),
        { maxLength: 8 },
      )
      .map((ls) => ls.join('\n'));
    const withHeader = fc
      .tuple(
        fc.shuffledSubarray(['urn', 'upn', 'date', 'am', 'pm', 'admission_date', 'leaving_date', 'sex'], {
          minLength: 4,
        }),
        text,
      )
      .map(([h, t]) => `${h.join(',')}\n${t}`);
    const input = fc.oneof(text, withHeader).map((s) => Buffer.from(s, 'utf8'));
    fc.assert(
      fc.property(
        fc.oneof(
          input,
          fc.uint8Array({ maxLength: 100 }).map((b) => Buffer.from(b)),
        ),
        (b) => {
          const r = parseDailyReturnCsv(b, { today: TODAY, urnAllowed: (u) => u !== '999999' });
          if (!r.ok) return typeof r.error.status === 'number' && r.error.detail.length > 0;
          const rejected = new Set(r.errors.map((e) => e.line));
          for (const e of r.errors) if (!(e.line >= 2 && e.field && e.code && e.message)) return false;
          return r.rows.every((x) => !rejected.has(x.line)) && r.rows.length + rejected.size <= r.rowCount;
        },
      ),
      { numRuns: 400 },
    );
  });

  it('reads back any generated valid rows exactly, in any column order and header case', () => {
    const code = fc.constantFrom(
      '/',
      '\\',
      'L',
      'K',
      'V',
      'P',
      'W',
      'B',
      'C',
      'C1',
      'C2',
      'E',
      'I',
      'J1',
      'M',
      'R',
      'S',
      'T',
      'G',
      'N',
      'O',
      'U',
      'D',
      'Q',
      'X',
      'Y1',
      'Y7',
      'Z',
      '#',
      '',
      '-',
    );
    const name = fc
      .string({ unit: fc.constantFrom('a', 'B', ' ', ',', '"', "'", '\n', 'é', '-'), minLength: 1, maxLength: 10 })
      .filter((s) => s.trim() === s && s !== '' && s !== '-');
    const rowArb = fc.record({
      serial: fc.integer({ min: 0, max: 99 }),
      day: fc.integer({ min: 0, max: 29 }),
      am: code,
      pm: code,
      forename: fc.option(name, { nil: undefined }),
      fsm: fc.option(fc.boolean(), { nil: undefined }),
    });
    const columns = ['urn', 'upn', 'date', 'am', 'pm', 'forename', 'fsm'];
    const quote = (f: string) => (/[",\r\n]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f);
    fc.assert(
      fc.property(
        fc.uniqueArray(rowArb, { selector: (x) => `${x.serial}|${x.day}`, minLength: 1, maxLength: 25 }),
        fc.shuffledSubarray(columns, { minLength: columns.length }),
        fc.array(fc.boolean(), { minLength: columns.length, maxLength: columns.length }),
        fc.constantFrom('\n', '\r\n'),
        (specs, order, upper, eol) => {
          const expected = specs.map((s) => ({
            urn: URN,
            upn: makeUpn(`9994001250${String(s.serial).padStart(2, '0')}`),
            date: addDays('2025-09-01', s.day),
            am: s.am === '' || s.am === '-' ? '-' : MARK_CHAR[s.am],
            pm: s.pm === '' || s.pm === '-' ? '-' : MARK_CHAR[s.pm],
            ...(s.forename === undefined ? {} : { forename: s.forename }),
            ...(s.fsm === undefined ? {} : { fsm: s.fsm }),
          }));
          const cells = (s: (typeof specs)[number], i: number): Record<string, string> => ({
            urn: URN,
            upn: expected[i].upn,
            date: expected[i].date,
            am: s.am,
            pm: s.pm,
            forename: s.forename ?? '',
            fsm: s.fsm === undefined ? '' : s.fsm ? 'Y' : 'N',
          });
          const header = order.map((c, i) => (upper[i] ? c.toUpperCase() : c)).join(',');
          let text = header + eol;
          let line = 2;
          const lineOf: number[] = [];
          specs.forEach((s, i) => {
            const c = cells(s, i);
            const record = order.map((col) => quote(c[col])).join(',');
            lineOf.push(line);
            line += record.split(/\r\n|\n/).length;
            text += record + eol;
          });
          const r = parseDailyReturnCsv(Buffer.from(text, 'utf8'), { today: TODAY });
          expect(r.ok).toBe(true);
          if (!r.ok) return;
          expect(r.errors).toEqual([]);
          expect(r.rows).toEqual(expected.map((e, i) => ({ line: lineOf[i], ...e })));
        },
      ),
      { numRuns: 150 },
    );
  });
});
