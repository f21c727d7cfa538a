import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { GIAS_COLUMNS, parseGiasCsv, schoolPhase } from '../../../shared/formats/gias.js';

const HEADER =
  'URN,LA (code),LA (name),EstablishmentNumber,EstablishmentName,TypeOfEstablishment (name),EstablishmentStatus (name),PhaseOfEducation (name),Postcode';
const parse = (text: string | Buffer) => parseGiasCsv(typeof text === 'string' ? Buffer.from(text, 'utf8') : text);
const lines = (...l: string[]) => l.join('\r\n') + '\r\n';

describe('parseGiasCsv', () => {
  it('reads the registry columns and ignores the other ~120 GIAS columns', () => {
    const r = parse(
      lines(HEADER, '107000,373,Sheffield,2000,Abbey Lane Primary School,Community school,Open,Primary,S8 0BN'),
    );
    expect(r).toEqual({
      schools: [
        {
          urn: '107000',
          laCode: '373',
          establishmentNumber: '2000',
          name: 'Abbey Lane Primary School',
          phase: 'primary',
          type: 'Community school',
          status: 'Open',
          open: true,
        },
      ],
      errors: [],
    });
  });

  it('matches header names case-insensitively and in any order', () => {
    const r = parse(
      lines(
        'establishmentstatus (NAME),phaseofeducation (name),urn,la (code),establishmentnumber,establishmentname,typeofestablishment (name)',
        'Closed,Secondary,107001,373,4000,Old School,Academy converter',
      ),
    );
    expect(r.schools).toEqual([
      expect.objectContaining({ urn: '107001', phase: 'secondary', open: false, status: 'Closed' }),
    ]);
  });

  it('reads a Windows-1252 extract as GIAS publishes it', () => {
    const r = parse(
      Buffer.concat([
        Buffer.from(`${HEADER}\r\n107002,373,Sheffield,3000,St Mary`),
        Buffer.from([0x92]),
        Buffer.from('s C of E School,Voluntary aided school,"Open, but proposed to close",Primary,S1\r\n'),
      ]),
    );
    expect(r.schools[0]).toMatchObject({ name: 'St Mary\u2019s C of E School', open: true });
  });

  it('accepts an empty EstablishmentNumber (settings GIAS gives none)', () => {
    expect(
      parse(lines(HEADER, '107003,373,Sheffield,,Hospital Tuition,Other independent school,Open,Not applicable,'))
        .schools[0],
    ).toMatchObject({
      establishmentNumber: '',
      phase: 'other',
    });
  });

  it('rejects bad rows with line, column and what was expected, keeping the rest', () => {
    const r = parse(
      lines(
        HEADER,
        '10700,373,x,2000,A,Community school,Open,Primary,', // 2: URN
        '107004,37,x,2000,B,Community school,Open,Primary,', // 3: LA code
        '107005,373,x,20,C,Community school,Open,Primary,', // 4: establishment number
        '107006,373,x,2000,,Community school,Open,Primary,', // 5: name
        '107007,373,x,2000,E,Community school,,Primary,', // 6: status
        '107008,373,x,2000,F,Community school,Open,Primary,', // 7: ok
        '107008,373,x,2000,F again,Community school,Open,Primary,', // 8: duplicate
        ',,,,,,,,', // blank: skipped
      ),
    );
    expect(r.errors).toEqual([
      { line: 2, field: 'URN', code: 'urn_format', message: "URN must be 6 digits, got '10700'" },
      { line: 3, field: 'LA (code)', code: 'la_code_format', message: "LA code must be 3 digits, got '37'" },
      {
        line: 4,
        field: 'EstablishmentNumber',
        code: 'establishment_number_format',
        message: "EstablishmentNumber must be 4 digits or empty, got '20'",
      },
      { line: 5, field: 'EstablishmentName', code: 'name_missing', message: 'EstablishmentName is empty' },
      {
        line: 6,
        field: 'EstablishmentStatus (name)',
        code: 'status_missing',
        message: 'EstablishmentStatus (name) is empty',
      },
      {
        line: 8,
        field: 'URN',
        code: 'duplicate_urn',
        message: 'URN 107008 already appears on line 7; this row is ignored',
      },
    ]);
    expect(r.schools.map((s) => s.urn)).toEqual(['107008']);
  });

  it('rejects an over-long name', () => {
    const r = parse(lines(HEADER, `107009,373,x,2000,${'n'.repeat(201)},Community school,Open,Primary,`));
    expect(r.errors[0]).toMatchObject({
      code: 'name_too_long',
      message: 'EstablishmentName is 201 characters; at most 200 are accepted',
    });
  });

  it('names every missing column of a file that is not a GIAS extract', () => {
    const r = parse(lines('URN,Name', '107000,Abbey Lane'));
    expect(r.schools).toEqual([]);
    expect(r.fileError).toMatchObject({ status: 422, code: 'missing_columns' });
    expect(r.fileError?.errors?.map((e) => e.field)).toEqual(Object.values(GIAS_COLUMNS).filter((c) => c !== 'URN'));
    expect(r.fileError?.detail).toBe(
      "not a GIAS extract: the header lacks 'LA (code)', 'EstablishmentNumber', 'EstablishmentName', 'PhaseOfEducation (name)', 'TypeOfEstablishment (name)', 'EstablishmentStatus (name)'",
    );
  });

  it('rejects an empty file and a spreadsheet', () => {
    expect(parse('').fileError).toMatchObject({ status: 400, code: 'empty_file' });
    expect(parse(Buffer.from([0x50, 0x4b, 0x03, 0x04])).fileError).toMatchObject({ status: 415, code: 'not_csv' });
  });

  it('never throws on arbitrary rows under a GIAS header', () => {
    const cell = fc.oneof(
      fc.constantFrom('107000', '373', '2000', 'Open', 'Primary', 'Community special school', ''),
      fc.string({ maxLength: 8 }),
    );
    fc.assert(
      fc.property(fc.array(fc.array(cell, { maxLength: 10 }), { maxLength: 6 }), (rows) => {
        const r = parse(lines(HEADER, ...rows.map((x) => x.map((c) => `"${c.replace(/"/g, '""')}"`).join(','))));
        return r.fileError === undefined && r.errors.every((e) => e.line >= 2 && e.message.length > 0);
      }),
      { numRuns: 200 },
    );
  });
});

describe('schoolPhase', () => {
  it('maps the GIAS phases', () => {
    expect([
      schoolPhase('Nursery', 'LA nursery school'),
      schoolPhase('Primary', 'Community school'),
      schoolPhase('Middle deemed primary', 'Community school'),
      schoolPhase('Middle deemed secondary', 'Academy converter'),
      schoolPhase('Secondary', 'Academy sponsor led'),
      schoolPhase('All-through', 'Free schools'),
      schoolPhase('16 plus', 'Academy 16-19 converter'),
    ]).toEqual(['nursery', 'primary', 'middle', 'middle', 'secondary', 'all_through', 'post16']);
  });

  it('reports special schools and alternative provision apart, whatever phase GIAS states', () => {
    expect(schoolPhase('Not applicable', 'Community special school')).toBe('special');
    expect(schoolPhase('Secondary', 'Academy special converter')).toBe('special');
    expect(schoolPhase('Not applicable', 'Pupil referral unit')).toBe('pru');
    expect(schoolPhase('Secondary', 'Academy alternative provision sponsor led')).toBe('pru');
  });

  it('falls back on the type for phase "Not applicable", and else "other"', () => {
    expect(schoolPhase('Not applicable', 'LA nursery school')).toBe('nursery');
    expect(schoolPhase('Not applicable', 'Further education')).toBe('post16');
    expect(schoolPhase('Not applicable', 'Other independent school')).toBe('other');
  });
});
