/**
 * Property tests (fast-check) for the parsers the unit suites had none for — cohort CSV, GIAS,
 * multipart/form-data, calendar files on arbitrary bytes, SSDA903 and CIN census on arbitrary
 * bytes — and for the log masking. Whatever the input, a parser returns: a file error with a 4xx
 * status and a message, or records and per-record errors with line, field, code and message.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkUpn } from '../../shared/domain/upn.js';
import { parseCalendarFile } from '../../shared/formats/calendar-files.js';
import { CARE_COHORTS, type CareImport } from '../../shared/formats/care-episodes.js';
import { importCinCensus } from '../../shared/formats/cin-census.js';
import { importCohortCsv } from '../../shared/formats/cohort-csv.js';
import type { FileError } from '../../shared/formats/csv.js';
import { GIAS_COLUMNS, parseGiasCsv } from '../../shared/formats/gias.js';
import { multipartBoundary, parseMultipart } from '../../shared/formats/multipart.js';
import { importSsda903 } from '../../shared/formats/ssda903.js';
import { maskPupilData } from '../../shared/observability.js';
import { upnFor } from '../support/returns.js';

const TODAY = '2026-11-23';
const RUNS = { numRuns: 300 };
const ISO = /^\d{4}-\d{2}-\d{2}$/;

/** Arbitrary bytes, biased towards text, line breaks, quotes and commas. */
const bytes = fc.oneof(
  fc.uint8Array({ maxLength: 400 }).map((a) => Buffer.from(a)),
  fc
    .array(
      fc.constantFrom('a', ',', '"', '\n', '\r\n', '\r', ' ', '0', '9', '/', '-', 'é', '\uFEFF', '<', '>', '\u0000'),
      { maxLength: 200 },
    )
    .map((a) => Buffer.from(a.join(''))),
);

function expectFileError(e: FileError): void {
  expect(e.status).toBeGreaterThanOrEqual(400);
  expect(e.status).toBeLessThan(500);
  expect(e.title.length).toBeGreaterThan(0);
  expect(e.detail.length).toBeGreaterThan(5);
}

function expectRecordErrors(
  errors: ReadonlyArray<{ line: number; field: string; code: string; message: string }>,
): void {
  for (const e of errors) {
    expect(Number.isInteger(e.line) && e.line >= 1).toBe(true);
    expect(e.field.length).toBeGreaterThan(0);
    expect(e.code.length).toBeGreaterThan(0);
    expect(e.message.length).toBeGreaterThan(5);
  }
}

/** A care import either failed as a file, or accounts for every record and loads only good episodes. */
function expectCareImport(r: CareImport): void {
  if (r.fileError) {
    expectFileError(r.fileError);
    expect(r.episodes).toEqual([]);
    return;
  }
  expect(r.counts.accepted + r.counts.rejected).toBe(r.counts.records);
  expectRecordErrors(r.errors);
  for (const e of r.episodes) {
    expect(checkUpn(e.upn).ok).toBe(true);
    expect(CARE_COHORTS).toContain(e.cohort);
    expect(e.start).toMatch(ISO);
    if (e.end !== undefined) expect(e.end >= e.start).toBe(true);
  }
}

describe('cohort CSV (upn, cohort, start_date, end_date)', () => {
  it('never throws on arbitrary bytes: a 4xx file error or a full account of every row', () => {
    fc.assert(
      fc.property(bytes, (b) => expectCareImport(importCohortCsv(b, { today: TODAY }))),
      RUNS,
    );
  });

  it('loads only valid episodes from any table of good and bad cells, in any column order', () => {
    const cell = fc.constantFrom(
      upnFor(1),
      upnFor(2),
      `A${upnFor(1).slice(1)}`,
      'cla',
      'CIN',
      'cpp',
      'plac',
      'xyz',
      '2025-09-01',
      '01/09/2025',
      '31/02/2025',
      '2024-01-01',
      '',
      ' ',
      '"',
      'upn',
    );
    const table = fc.tuple(
      fc.shuffledSubarray(['upn', 'cohort', 'start_date', 'end_date', 'note'], { minLength: 2 }),
      fc.array(fc.array(cell, { minLength: 0, maxLength: 6 }), { maxLength: 12 }),
    );
    fc.assert(
      fc.property(table, ([header, rows]) => {
        const csv = [
          header.join(','),
          ...rows.map((r) => r.map((c) => (/[",]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(',')),
        ].join('\n');
        expectCareImport(importCohortCsv(Buffer.from(csv), { today: TODAY }));
      }),
      RUNS,
    );
  });
});

describe('GIAS registry extract', () => {
  const expectGias = (r: ReturnType<typeof parseGiasCsv>) => {
    if (r.fileError) {
      expectFileError(r.fileError);
      expect(r.schools).toEqual([]);
      return;
    }
    expectRecordErrors(r.errors);
    for (const s of r.schools) expect(s.urn).toMatch(/^\d{6}$/);
  };

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(bytes, (b) => expectGias(parseGiasCsv(b))),
      RUNS,
    );
  });

  it('reads any table under the GIAS header into valid schools and per-line errors', () => {
    const cell = fc.constantFrom(
      '100001',
      '10000X',
      '999',
      '2001',
      'Open',
      'Closed',
      'Primary',
      'Secondary',
      'Community school',
      'Academy converter',
      '',
      '=1+1',
      'Zoë',
      '"',
    );
    fc.assert(
      fc.property(fc.array(fc.array(cell, { minLength: 0, maxLength: 8 }), { maxLength: 10 }), (rows) => {
        const csv = [
          Object.values(GIAS_COLUMNS).join(','),
          ...rows.map((r) => r.map((c) => (/[",]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(',')),
        ].join('\r\n');
        expectGias(parseGiasCsv(Buffer.from(csv, 'latin1')));
      }),
      RUNS,
    );
  });
});

describe('multipart/form-data', () => {
  it('never throws on arbitrary bodies and boundaries; parts are slices of the body', () => {
    fc.assert(
      fc.property(bytes, fc.string({ minLength: 1, maxLength: 12 }), (body, boundary) => {
        const r = parseMultipart(body, boundary);
        if (!r.ok) {
          expect(r.message.length).toBeGreaterThan(5);
          return;
        }
        expect(r.parts.length).toBeLessThanOrEqual(20);
        for (const p of r.parts) expect(p.body.length === 0 || body.includes(p.body)).toBe(true);
      }),
      RUNS,
    );
  });

  it('gives back exactly the files put in, whatever bytes they hold (round trip)', () => {
    const file = fc.record({
      name: fc.stringMatching(/^[a-z]{1,8}$/),
      filename: fc.stringMatching(/^[a-z0-9._-]{1,12}$/),
      body: fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
    });
    fc.assert(
      fc.property(fc.array(file, { minLength: 1, maxLength: 5 }), fc.constantFrom('\r\n', '\n'), (files, eol) => {
        const boundary = 'b0undary-7f3a9c';
        fc.pre(files.every((f) => !f.body.includes(`--${boundary}`)));
        const chunks = files.flatMap((f) => [
          Buffer.from(
            `--${boundary}${eol}Content-Disposition: form-data; name="${f.name}"; filename="${f.filename}"${eol}${eol}`,
          ),
          f.body,
          Buffer.from(eol),
        ]);
        const r = parseMultipart(Buffer.concat([...chunks, Buffer.from(`--${boundary}--${eol}`)]), boundary);
        expect(r.ok).toBe(true);
        if (r.ok)
          expect(r.parts.map((p) => [p.name, p.filename, p.body.toString('hex')])).toEqual(
            files.map((f) => [f.name, f.filename, f.body.toString('hex')]),
          );
      }),
      RUNS,
    );
  });

  it('reads a boundary of 1 to 70 characters from any Content-Type, or none', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 120 }), (suffix) => {
        const b = multipartBoundary(`multipart/form-data; ${suffix}`);
        expect(b === undefined || (b.length >= 1 && b.length <= 70)).toBe(true);
      }),
      RUNS,
    );
  });
});

describe('calendar files (ICS and CSV) on arbitrary bytes', () => {
  it('never throws, as either format or recognised: a 4xx file error or closures with start ≤ end', () => {
    fc.assert(
      fc.property(bytes, fc.constantFrom<'ics' | 'csv' | undefined>('ics', 'csv', undefined), (b, format) => {
        const r = parseCalendarFile(b, { format });
        if (r.fileError) {
          expectFileError(r.fileError);
          return;
        }
        expectRecordErrors([...r.errors, ...r.warnings]);
        for (const c of r.closures) {
          expect(c.start).toMatch(ISO);
          expect(c.end >= c.start).toBe(true);
        }
      }),
      RUNS,
    );
  });
});

describe('SSDA903 and CIN census on arbitrary bytes', () => {
  it('SSDA903: never throws whatever the two files hold', () => {
    fc.assert(
      fc.property(bytes, bytes, (header, episodes) =>
        expectCareImport(importSsda903({ header, episodes }, { today: TODAY })),
      ),
      RUNS,
    );
  });

  it('CIN census: never throws on arbitrary bytes or arbitrary text inside <Message>', () => {
    const inside = fc.array(
      fc.constantFrom(
        '<Child>',
        '</Child>',
        '<UPN>',
        '</UPN>',
        upnFor(3),
        '<CINdetails>',
        '</CINdetails>',
        '<CINreferralDate>',
        '</CINreferralDate>',
        '2025-09-01',
        '&amp;',
        '&',
        '<',
        'x',
      ),
      { maxLength: 40 },
    );
    fc.assert(
      fc.property(
        fc.oneof(
          bytes,
          inside.map((parts) =>
            Buffer.from(`<?xml version="1.0"?><Message><Children>${parts.join('')}</Children></Message>`),
          ),
        ),
        (b) => expectCareImport(importCinCensus(b, { today: TODAY })),
      ),
      RUNS,
    );
  });
});

describe('masking pupil data in logged error messages', () => {
  it('leaves no UPN, date or quoted text from any message', () => {
    const piece = fc.oneof(
      fc.string({ maxLength: 10 }),
      fc.constantFrom(upnFor(7), '2014-03-17', '17/03/2014', '"Quintessa"', "'Q'", '`x`', '..."forename":Zoë}"'),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }), (pieces) => {
        const masked = maskPupilData(pieces.join(' '));
        expect(masked).not.toContain(upnFor(7));
        expect(masked).not.toMatch(/\d{4}-\d{2}-\d{2}|\d{1,2}\/\d{1,2}\/\d{4}/);
        expect(masked).not.toMatch(/Quintessa|forename|Zoë/);
        expect((masked.match(/["'`]/g) ?? []).length).toBeLessThanOrEqual(1);
      }),
      RUNS,
    );
  });

  it('keeps a message without quotes or identifiers readable', () => {
    expect(maskPupilData('Unexpected end of JSON input')).toBe('Unexpected end of JSON input');
    expect(maskPupilData(`Unexpected token 'Q', ..."forename":Quintessa}" is not valid JSON`)).toBe(
      'Unexpected token [quoted text] is not valid JSON',
    );
  });
});
