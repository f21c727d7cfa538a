import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  csvFileError,
  decodeWindows1252,
  excerpt,
  normaliseHeaderName,
  readCsv,
  visitCsv,
  type CsvError,
} from '../../../shared/formats/csv.js';

const read = (text: string | Buffer, options = {}) =>
  readCsv(typeof text === 'string' ? Buffer.from(text, 'utf8') : text, options);

function records(text: string | Buffer, options = {}) {
  const r = read(text, options);
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`);
  return r;
}

function error(text: string | Buffer, options = {}): CsvError {
  const r = read(text, options);
  if (r.ok) throw new Error('expected an error');
  return r.error;
}

/** RFC 4180 writer: quote a field when it holds a comma, quote or line break. */
const field = (f: string) => (/[",\r\n]/.test(f) || f === '' ? `"${f.replace(/"/g, '""')}"` : f);

describe('readCsv: records and line numbers', () => {
  it('reads the header as line 1 and each record with the line it starts on', () => {
    const r = records('a,b\n1,2\n3,4\n');
    expect(r.header).toEqual(['a', 'b']);
    expect(r.headerLine).toBe(1);
    expect(r.records).toEqual([
      { line: 2, fields: ['1', '2'] },
      { line: 3, fields: ['3', '4'] },
    ]);
  });

  it('strips a UTF-8 BOM so the first header name is clean', () => {
    const r = records(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('urn,upn\n1,2\n')]));
    expect(r.header).toEqual(['urn', 'upn']);
  });

  it('reads CRLF, LF and lone CR line endings alike', () => {
    for (const eol of ['\r\n', '\n', '\r']) {
      expect(records(['a,b', '1,2', '3,4'].join(eol)).records).toEqual([
        { line: 2, fields: ['1', '2'] },
        { line: 3, fields: ['3', '4'] },
      ]);
    }
  });

  it('keeps commas, doubled quotes and line breaks inside quoted fields', () => {
    const r = records('name,note\n"Smith, Ann","said ""hi"""\n"x","two\nlines"\n');
    expect(r.records.map((x) => x.fields)).toEqual([
      ['Smith, Ann', 'said "hi"'],
      ['x', 'two\nlines'],
    ]);
  });

  it('numbers a record after a quoted line break by the physical line it starts on', () => {
    const r = records('a,b\n"1\r\nstill 1\r\nstill 1",x\r\n2,y\r\n');
    expect(r.records.map((x) => x.line)).toEqual([2, 5]);
  });

  it('skips empty lines but still counts them', () => {
    const r = records('a,b\n\n1,2\r\n\r\n\r\n3,4\n\n');
    expect(r.records).toEqual([
      { line: 3, fields: ['1', '2'] },
      { line: 6, fields: ['3', '4'] },
    ]);
  });

  it('treats a line of "" or a lone comma as a record of empty fields', () => {
    expect(records('a,b\n""\n,\n').records).toEqual([
      { line: 2, fields: [''] },
      { line: 3, fields: ['', ''] },
    ]);
  });

  it('reads a trailing comma as a final empty field, with or without a line break after it', () => {
    expect(records('a,b\n1,').records[0].fields).toEqual(['1', '']);
    expect(records('a,b\n1,\n').records[0].fields).toEqual(['1', '']);
  });

  it('keeps a quote inside an unquoted field as a character, and text after a closing quote', () => {
    expect(records('h\n5\'10"\n').records[0].fields).toEqual(['5\'10"']);
    expect(records('h,i\n"ab"c,d\n').records[0].fields).toEqual(['abc', 'd']);
  });

  it('reads a last record with no line break at the end of the file', () => {
    expect(records('a\n1').records).toEqual([{ line: 2, fields: ['1'] }]);
  });

  it('lets the visitor stop early', () => {
    const seen: number[] = [];
    const v = visitCsv(Buffer.from('h\n1\n2\n3\n'), {}, (_f, line) => {
      seen.push(line);
      return line < 3;
    });
    expect(v).toMatchObject({ ok: true, stopped: true, records: 2 });
    expect(seen).toEqual([1, 2, 3]);
  });
});

describe('readCsv: rejected input', () => {
  it('rejects an empty file and a file of blank lines as empty', () => {
    expect(error('')).toMatchObject({ code: 'empty', line: 1, message: 'the file is empty' });
    expect(error('\r\n\n\n')).toMatchObject({ code: 'empty' });
  });

  it('rejects an unterminated quote naming the line it opened on', () => {
    expect(error('a,b\n1,2\n3,"never closed\n4,5\n')).toEqual({
      code: 'unterminated_quote',
      line: 3,
      message: 'a quoted field opened on line 3 is never closed',
    });
  });

  it('names spreadsheets, PDFs, archives and UTF-16 as not CSV', () => {
    const cases: Array<[number[], string]> = [
      [[0x50, 0x4b, 0x03, 0x04, 0x14], '.xlsx'],
      [[0xd0, 0xcf, 0x11, 0xe0, 0xa1], '.xls'],
      [[0x25, 0x50, 0x44, 0x46, 0x2d], 'PDF'],
      [[0x1f, 0x8b, 0x08], 'gzip'],
      [[0xff, 0xfe, 0x75, 0x00], 'UTF-16'],
      [[0xfe, 0xff, 0x00, 0x75], 'UTF-16'],
    ];
    for (const [bytes, named] of cases) {
      const e = error(Buffer.from(bytes));
      expect(e.code).toBe('not_csv');
      expect(e.message).toContain(named);
    }
  });

  it('rejects binary content at its NUL byte, with line and offset', () => {
    expect(error(Buffer.from('a,b\n1,\u00002\n'))).toEqual({
      code: 'not_csv',
      line: 2,
      byteOffset: 6,
      message: 'not a CSV file: binary content (a NUL byte at byte 6)',
    });
  });

  it('rejects XML and JSON sent as CSV', () => {
    expect(error('  <?xml version="1.0"?><CTfile/>').message).toContain('XML');
    expect(error('\ufeff{"rows": []}').message).toContain('JSON');
  });

  it('rejects invalid UTF-8 with the line and byte offset, counted from the start of the file', () => {
    const e = error(
      Buffer.concat([
        Buffer.from([0xef, 0xbb, 0xbf]),
        Buffer.from('name\nJos'),
        Buffer.from([0xe9]),
        Buffer.from('\n'),
      ]),
    );
    expect(e).toMatchObject({ code: 'invalid_utf8', line: 2, byteOffset: 11 });
    expect(e.message).toBe(
      'the file is not valid UTF-8: invalid byte 0xe9 at byte offset 11 on line 2; save it as "CSV UTF-8"',
    );
  });

  it('rejects overlong encodings and UTF-16 surrogates as invalid UTF-8', () => {
    expect(error(Buffer.from([0x61, 0x0a, 0xc0, 0xaf])).code).toBe('invalid_utf8');
    expect(error(Buffer.from([0x61, 0x0a, 0xed, 0xa0, 0x80])).byteOffset).toBe(2);
  });

  it('reads Windows-1252 when asked to fall back (GIAS, calendars)', () => {
    const r = records(Buffer.from([0x6e, 0x0a, 0xa3, 0x35, 0x20, 0x80, 0x0a]), { encoding: 'utf-8-or-windows-1252' });
    expect(r.encoding).toBe('windows-1252');
    expect(r.records[0].fields).toEqual(['£5 €']);
    expect(decodeWindows1252(Buffer.from([0x93, 0x94, 0x81]))).toBe('\u201C\u201D\u0081');
  });

  it('still reads valid UTF-8 as UTF-8 when the fallback is allowed', () => {
    expect(records('n\n£5\n', { encoding: 'utf-8-or-windows-1252' })).toMatchObject({
      encoding: 'utf-8',
      records: [{ fields: ['£5'] }],
    });
  });

  it('rejects a record over the byte limit, naming the line it starts on', () => {
    expect(error(`a\nshort\n${'x'.repeat(101)}\n`, { maxRecordBytes: 100 })).toMatchObject({
      code: 'record_too_long',
      line: 3,
    });
    expect(records(`a\n${'x'.repeat(100)}\n`, { maxRecordBytes: 100 }).records).toHaveLength(1);
  });

  it('measures the limit in UTF-8 bytes, not characters', () => {
    expect(error(`a\n${'é'.repeat(51)}\n`, { maxRecordBytes: 100 }).code).toBe('record_too_long');
    expect(records(`a\n${'é'.repeat(50)}\n`, { maxRecordBytes: 100 }).records).toHaveLength(1);
  });

  it('catches a runaway quoted field by the byte limit before reading the whole file', () => {
    expect(error(`a\n"${'x\n'.repeat(200)}"\n`, { maxRecordBytes: 100 })).toMatchObject({
      code: 'record_too_long',
      line: 2,
    });
  });

  it('rejects more data records than allowed, at the first one over', () => {
    expect(error('h\n1\n2\n3\n', { maxRecords: 2 })).toMatchObject({ code: 'too_many_records', line: 4 });
    expect(records('h\n1\n2\n\n', { maxRecords: 2 }).records).toHaveLength(2);
  });
});

describe('file errors', () => {
  it('maps each CSV failure to a problem status and code', () => {
    const status = (code: CsvError['code']) => csvFileError({ code, line: 1, message: 'm' });
    expect(status('empty')).toMatchObject({ status: 400, code: 'empty_file' });
    expect(status('not_csv')).toMatchObject({ status: 415, code: 'not_csv', title: 'Not a CSV file' });
    expect(status('invalid_utf8')).toMatchObject({ status: 415, code: 'invalid_utf8' });
    expect(status('unterminated_quote')).toMatchObject({ status: 400, code: 'unterminated_quote' });
    expect(status('record_too_long')).toMatchObject({ status: 400, code: 'record_too_long' });
    expect(status('too_many_records')).toMatchObject({ status: 413, code: 'too_many_rows' });
  });
});

describe('header names and excerpts', () => {
  it('normalises header names: trimmed, lower case, spaces/hyphens/underscores to one underscore', () => {
    expect(['Year Group', 'year-group', ' YEAR_GROUP ', 'Year _ Group'].map(normaliseHeaderName)).toEqual([
      'year_group',
      'year_group',
      'year_group',
      'year_group',
    ]);
  });

  it('cuts excerpts short and flattens line breaks', () => {
    expect(excerpt('abc')).toBe("'abc'");
    expect(excerpt('a\r\nb')).toBe("'a b'");
    expect(excerpt('x'.repeat(30), 5)).toBe("'xxxxx…'");
  });
});

describe('properties', () => {
  it('never throws, and either reads records or names a CSV error with a message', () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc
        .string({ unit: fc.constantFrom('a', ',', '"', '\n', '\r', ' ', 'é', '\u0000'), maxLength: 80 })
        .map((s) => Buffer.from(s, 'utf8')),
    );
    fc.assert(
      fc.property(bytes, (b) => {
        const r = readCsv(Buffer.from(b), { maxRecordBytes: 64 });
        if (r.ok) return Array.isArray(r.header) && r.records.every((x) => x.line >= 2);
        return r.error.message.length > 0 && r.error.line >= 1;
      }),
      { numRuns: 500 },
    );
  });

  it('reads back exactly the fields and lines of any RFC 4180 file it is given', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'b', ' ', ',', '"', '\n', '\r\n', 'é', '£'), maxLength: 8 });
    const table = fc
      .integer({ min: 1, max: 4 })
      .chain((w) => fc.array(fc.array(text, { minLength: w, maxLength: w }), { minLength: 2, maxLength: 6 }));
    fc.assert(
      fc.property(table, fc.constantFrom('\n', '\r\n'), (rows, eol) => {
        const csv = rows.map((r) => r.map(field).join(',')).join(eol) + eol;
        const r = readCsv(Buffer.from(csv, 'utf8'));
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        expect([r.header, ...r.records.map((x) => x.fields)]).toEqual(rows);
        // Each record starts on the line after the previous record's last physical line.
        let line = 1;
        const lines = [r.headerLine, ...r.records.map((x) => x.line)];
        rows.forEach((row, i) => {
          expect(lines[i]).toBe(line);
          line += row.join(',').split(/\r\n|\n/).length;
        });
      }),
      { numRuns: 300 },
    );
  });
});
