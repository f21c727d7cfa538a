import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ALL_CODES, CODE_SET_2024_FROM, LEGACY_CODES, MARK_CHAR, UNMARKED } from '../../../shared/domain/codes.js';
import { addDays, isWeekend } from '../../../shared/domain/dates.js';
import { makeUpn } from '../../../shared/domain/upn.js';
import { countCtfTotals, parseCtf, tokenizeCtfMarks, type CtfParse } from '../../../shared/formats/ctf.js';
import { writeCtf } from '../../support/ctf-writer.js';
import type { ReturnRow } from '../../../shared/formats/daily-return-csv.js';

const FIXTURE = new URL('../../fixtures/formats/ctf/school-return-ctf25.xml', import.meta.url);
const SCHOOL = { urn: '100001', lea: '999', estab: '4001', name: 'Exampleshire Academy' };
const UPN1 = makeUpn('999400124001');
const UPN2 = makeUpn('999400124002');

function ok(r: CtfParse) {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.detail}`);
  return r;
}
function fileErr(r: CtfParse) {
  if (r.ok) throw new Error('expected a file error');
  return r.error;
}

interface YearSpec {
  start?: string;
  marks?: string;
  possible?: string | number;
  authorised?: string | number;
  attended?: string | number;
  unauthorised?: string | number;
  lea?: string;
  estab?: string;
}

/** A CTF with one pupil per spec; totals default to the counted figures. */
function ctf(
  pupils: { upn?: string; extra?: string; years: YearSpec[] }[],
  header = `<URN>${SCHOOL.urn}</URN>`,
): Buffer {
  const years = (ys: YearSpec[]) =>
    ys
      .map((y) => {
        const counted =
          y.marks !== undefined && tokenizeCtfMarks(y.marks).ok
            ? countCtfTotals((tokenizeCtfMarks(y.marks) as { codes: string[] }).codes)
            : undefined;
        const total = (name: string, v: string | number | undefined, c: number | undefined) =>
          v === 'omit' ? '' : `<${name}>${v ?? c ?? 0}</${name}>`;
        return [
          '<YearData>',
          y.lea !== undefined ? `<LEA>${y.lea}</LEA>` : '',
          y.estab !== undefined ? `<Estab>${y.estab}</Estab>` : '',
          total('SessionsPossible', y.possible, counted?.possible),
          total('SessionsAuthorised', y.authorised, counted?.authorised),
          total('SessionsAttended', y.attended, counted?.attended),
          total('SessionsUnauthorised', y.unauthorised, counted?.unauthorised),
          '<AttendSessions>',
          y.start !== undefined ? `<AttendanceStartDate>${y.start}</AttendanceStartDate>` : '',
          y.marks !== undefined ? `<AttendanceMarks>${y.marks}</AttendanceMarks>` : '',
          '</AttendSessions>',
          '</YearData>',
        ].join('\n');
      })
      .join('\n');
  const body = pupils
    .map(
      (p) =>
        `<Pupil>\n<UPN>${p.upn ?? UPN1}</UPN>\n${p.extra ?? ''}\n<Attendance>\n${years(p.years)}\n</Attendance>\n</Pupil>`,
    )
    .join('\n');
  return Buffer.from(
    `<?xml version="1.0" encoding="UTF-8"?>\n<CTfile>\n<Header>\n<CTFversion>25.0</CTFversion>\n<SourceSchool>\n<LEA>${SCHOOL.lea}</LEA>\n<Estab>${SCHOOL.estab}</Estab>\n${header}\n</SourceSchool>\n</Header>\n<CTFpupilData>\n${body}\n</CTFpupilData>\n</CTfile>\n`,
  );
}

const TODAY = '2025-07-31';
const parse = (b: Buffer, today = TODAY) => parseCtf(b, { today });
const marksOf = (r: { rows: ReturnRow[] }) => r.rows.map((x) => `${x.date} ${x.am}${x.pm}`);

describe('parseCtf on a realistic CTF 25 school return', () => {
  const r = ok(parseCtf(readFileSync(FIXTURE), { today: '2024-09-14' }));

  it('derives 11 rows from 19 implied days and reports 4 errors', () => {
    expect(r.rowCount).toBe(19);
    expect(r.rows).toHaveLength(11);
    expect(r.errors.map((e) => [e.line, e.field, e.code])).toEqual([
      [88, 'SessionsAuthorised', 'ctf_totals_mismatch'],
      [103, 'upn', 'upn_check_letter'],
      [125, 'am', 'legacy_code'],
      [125, 'pm', 'legacy_code'],
    ]);
  });

  it("places each session on its calendar day, skipping the weekend and a '##' closure, and stores 2-character codes as one character", () => {
    const first = r.rows.filter((x) => x.upn === 'W999400124001');
    expect(first.map((x) => `${x.date} ${x.am}${x.pm}`)).toEqual([
      '2024-09-02 /\\',
      `2024-09-03 ${MARK_CHAR.C1}N`,
      '2024-09-04 II',
      `2024-09-05 ${MARK_CHAR.Y1}${MARK_CHAR.Y1}`,
      '2024-09-06 LU',
      '2024-09-09 /\\',
      '2024-09-11 --',
      '2024-09-12 GO',
      '2024-09-13 /\\',
    ]);
  });

  it('uses the source school URN and the YearData line for every row', () => {
    expect(new Set(r.rows.map((x) => x.urn))).toEqual(new Set(['100001']));
    expect(r.rows.filter((x) => x.upn === 'W999400124001').every((x) => x.line === 65)).toBe(true);
  });

  it('carries characteristics date by date: fsm inside the FSM instance, sen from the entry in force, cla from InCare', () => {
    const first = r.rows.filter((x) => x.upn === 'W999400124001');
    expect(first.map((x) => `${x.date.slice(8)}:${x.fsm ? 'F' : '-'}${x.sen}${x.cla ? 'C' : '-'}`)).toEqual([
      '02:-KC',
      '03:-KC',
      '04:FKC',
      '05:FKC',
      '06:FKC',
      '09:FKC',
      '11:-EC',
      '12:-EC',
      '13:-EC',
    ]);
    expect(first[0]).toMatchObject({
      forename: 'Zoë',
      surname: "O'Brien & Sons",
      dob: '2013-05-17',
      sex: 'F',
      yearGroup: '7',
      ethnicity: 'WBRI',
    });
  });

  it("keeps another school's YearData in the parsed file but derives no rows from it", () => {
    const pupil = r.ctf.pupils[0];
    expect(pupil.attendance.map((y) => [y.line, y.ownSchool])).toEqual([
      [51, false],
      [65, true],
    ]);
    expect(r.rows.some((x) => x.date < '2024-08-01')).toBe(false);
  });

  it('names the pupil, the total, the stated and the counted figure when totals disagree', () => {
    expect(r.errors[0].message).toContain('K999400124002');
    expect(r.errors[0].message).toContain('SessionsAuthorised is stated as 1 but the marks count 0');
    expect(r.rows.some((x) => x.upn === 'K999400124002')).toBe(false);
  });

  it('rejects the days of a pupil with a wrong UPN check letter, counting them', () => {
    expect(r.errors[1].message).toContain('2 days of marks are not loaded');
  });

  it('rejects only the day with a legacy code after 2024-08-19, keeping the rest of the year', () => {
    expect(marksOf({ rows: r.rows.filter((x) => x.upn === 'N999400124004') })).toEqual([
      '2024-09-02 /\\',
      '2024-09-04 /\\',
    ]);
  });

  it('reads the header', () => {
    expect(r.ctf.header).toEqual({
      version: '25.0',
      dateTime: '2024-09-14T16:05:00',
      academicYear: '2024',
      source: { lea: '999', estab: '4001', urn: '100001', name: 'Exampleshire Academy' },
    });
  });
});

describe('tokenizeCtfMarks: one code per session', () => {
  it('splits single-character codes one per session', () => {
    expect(tokenizeCtfMarks('/\\LNGOU#-')).toEqual({ ok: true, codes: ['/', '\\', 'L', 'N', 'G', 'O', 'U', '#', '-'] });
  });

  it('keeps each 2024 two-character code as one session', () => {
    expect(tokenizeCtfMarks('C1C2J1Y1Y2Y3Y4Y5Y6Y7')).toEqual({
      ok: true,
      codes: ['C1', 'C2', 'J1', 'Y1', 'Y2', 'Y3', 'Y4', 'Y5', 'Y6', 'Y7'],
    });
  });

  it('tells C1 from C followed by another code', () => {
    expect(tokenizeCtfMarks('CC1C')).toEqual({ ok: true, codes: ['C', 'C1', 'C'] });
    expect(tokenizeCtfMarks('YJY1J')).toEqual({ ok: true, codes: ['Y', 'J', 'Y1', 'J'] });
  });

  it('accepts lower case and ignores white space inside the string', () => {
    expect(tokenizeCtfMarks(' c1 /\n\\ y7 ')).toEqual({ ok: true, codes: ['C1', '/', '\\', 'Y7'] });
  });

  it('rejects a lone digit and digits after other letters, at their position', () => {
    expect(tokenizeCtfMarks('/\\3')).toEqual({ ok: false, index: 2, char: '3' });
    expect(tokenizeCtfMarks('C3')).toEqual({ ok: false, index: 1, char: '3' });
    expect(tokenizeCtfMarks('Y8')).toEqual({ ok: false, index: 1, char: '8' });
    expect(tokenizeCtfMarks('Y0')).toEqual({ ok: false, index: 1, char: '0' });
    expect(tokenizeCtfMarks('J2')).toEqual({ ok: false, index: 1, char: '2' });
    expect(tokenizeCtfMarks('N1')).toEqual({ ok: false, index: 1, char: '1' });
  });
});

describe('countCtfTotals uses the docs/design.md §2.1 categories', () => {
  it('counts possible, attended (present + approved activity), authorised and unauthorised', () => {
    expect(
      countCtfTotals([
        '/',
        '\\',
        'L',
        'K',
        'V',
        'P',
        'W',
        'B',
        'C1',
        'I',
        'J1',
        'G',
        'N',
        'O',
        'U',
        'D',
        'Q',
        'X',
        'Y1',
        'Z',
        '#',
        '-',
      ]),
    ).toEqual({
      possible: 15,
      attended: 8,
      authorised: 3,
      unauthorised: 4,
    });
  });

  it('counts legacy H and F as authorised, J as attended and Y as not possible', () => {
    expect(countCtfTotals(['H', 'F', 'J', 'Y'])).toEqual({ possible: 3, attended: 1, authorised: 2, unauthorised: 0 });
  });
});

describe('parseCtf: marks layout', () => {
  it('includes weekends in the string: Friday, Saturday, Sunday, Monday', () => {
    const r = ok(parse(ctf([{ years: [{ start: '2024-09-06', marks: '/\\####NN' }] }])));
    expect(marksOf(r)).toEqual(['2024-09-06 /\\', '2024-09-09 NN']);
  });

  it('keeps a weekend day that holds a code (a Saturday school session)', () => {
    const r = ok(parse(ctf([{ years: [{ start: '2024-09-06', marks: '/\\/#' }] }])));
    expect(marksOf(r)).toEqual(['2024-09-06 /\\', '2024-09-07 /#']);
  });

  it("makes a weekday with '--' an unmarked row, but skips a weekend '--' and any '##' day", () => {
    const r = ok(parse(ctf([{ years: [{ start: '2024-09-06', marks: '--------##--' }] }])));
    expect(marksOf(r)).toEqual(['2024-09-06 --', '2024-09-09 --', '2024-09-11 --']);
  });

  it('keeps a day with one session closed and one marked', () => {
    const r = ok(parse(ctf([{ years: [{ start: '2024-09-02', marks: '#/' }] }])));
    expect(marksOf(r)).toEqual(['2024-09-02 #/']);
  });

  it("leaves the last day's PM unmarked when the string has an odd number of sessions", () => {
    const r = ok(parse(ctf([{ years: [{ start: '2024-09-02', marks: '/\\/' }] }])));
    expect(marksOf(r)).toEqual(['2024-09-02 /\\', '2024-09-03 /-']);
  });

  it('rejects the pupil-year when a digit breaks the layout, naming the position and the date near it', () => {
    const r = ok(parse(ctf([{ years: [{ start: '2024-09-02', marks: '/\\/\\N7/\\', possible: 7 }] }])));
    expect(r.rows).toEqual([]);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatchObject({ field: 'AttendanceMarks', code: 'ctf_marks_layout' });
    expect(r.errors[0].message).toContain("'7' at character 6");
    expect(r.errors[0].message).toContain('2024-09-04 PM');
    expect(r.rowCount).toBe(1);
  });

  it('rejects the pupil-year when AttendanceStartDate is missing or not a date', () => {
    for (const start of [undefined, '02/09/2024', '2024-02-30']) {
      const r = ok(parse(ctf([{ years: [{ start, marks: '/\\' }] }])));
      expect(r.rows).toEqual([]);
      expect(r.errors.map((e) => e.code)).toEqual(['ctf_start_date']);
    }
  });

  it('reports an unknown code on the day it falls, keeping the other days', () => {
    const r = ok(parse(ctf([{ years: [{ start: '2024-09-02', marks: '/\\A/', possible: 3, attended: 3 }] }])));
    expect(marksOf(r)).toEqual(['2024-09-02 /\\']);
    expect(r.errors.map((e) => [e.field, e.code])).toEqual([['am', 'unknown_code']]);
    expect(r.errors[0].message).toContain('2024-09-03 AM');
  });
});

describe('parseCtf: the 2024 code set boundary', () => {
  it('accepts legacy codes on the last day before 19 August 2024', () => {
    const r = ok(parse(ctf([{ years: [{ start: '2024-08-16', marks: 'HF' }] }])));
    expect(marksOf(r)).toEqual(['2024-08-16 HF']);
  });

  it('rejects legacy codes on 19 August 2024 itself', () => {
    const r = ok(parse(ctf([{ years: [{ start: CODE_SET_2024_FROM, marks: 'J/' }] }])));
    expect(r.rows).toEqual([]);
    expect(r.errors.map((e) => [e.field, e.code])).toEqual([['am', 'legacy_code']]);
  });
});

describe('parseCtf: marks checked against the stated totals', () => {
  const marks = '/\\NIC1G'; // possible 6, attended 2, authorised 2, unauthorised 2
  const base = { start: '2024-09-02', marks };

  it('accepts a year whose four stated totals equal the counted marks', () => {
    const r = ok(parse(ctf([{ years: [{ ...base, possible: 6, attended: 2, authorised: 2, unauthorised: 2 }] }])));
    expect(r.rows).toHaveLength(3);
    expect(r.errors).toEqual([]);
  });

  for (const [key, element, counted] of [
    ['possible', 'SessionsPossible', 6],
    ['attended', 'SessionsAttended', 2],
    ['authorised', 'SessionsAuthorised', 2],
    ['unauthorised', 'SessionsUnauthorised', 2],
  ] as const) {
    it(`rejects the pupil-year when ${element} is one more than the marks count`, () => {
      const r = ok(parse(ctf([{ years: [{ ...base, [key]: counted + 1 }] }])));
      expect(r.rows).toEqual([]);
      expect(r.rowCount).toBe(3);
      expect(r.errors).toEqual([
        {
          line: expect.any(Number),
          field: element,
          code: 'ctf_totals_mismatch',
          message: expect.stringContaining(
            `${element} is stated as ${counted + 1} but the marks count ${counted}; the year's 3 days of marks are not loaded`,
          ),
        },
      ]);
      expect(r.errors[0].message).toContain(UPN1);
    });

    it(`rejects the pupil-year when ${element} is one less than the marks count`, () => {
      const r = ok(parse(ctf([{ years: [{ ...base, [key]: counted - 1 }] }])));
      expect(r.rows).toEqual([]);
      expect(r.errors.map((e) => e.field)).toEqual([element]);
    });
  }

  it('says "1 day ... is" when the rejected year holds one day', () => {
    const r = ok(parse(ctf([{ years: [{ start: '2024-09-02', marks: '/\\', possible: 3 }] }])));
    expect(r.errors[0].message).toMatch(/; the year's 1 day of marks is not loaded$/);
  });

  it('reports every wrong total, once each', () => {
    const r = ok(parse(ctf([{ years: [{ ...base, possible: 0, attended: 0 }] }])));
    expect(r.errors.map((e) => e.field)).toEqual(['SessionsPossible', 'SessionsAttended']);
  });

  it('rejects a year that does not state SessionsPossible', () => {
    const r = ok(parse(ctf([{ years: [{ ...base, possible: 'omit' }] }])));
    expect(r.rows).toEqual([]);
    expect(r.errors.map((e) => e.code)).toEqual(['ctf_totals_missing']);
  });

  it('checks only the other totals that are stated', () => {
    const r = ok(parse(ctf([{ years: [{ ...base, attended: 'omit', authorised: 'omit', unauthorised: 'omit' }] }])));
    expect(r.rows).toHaveLength(3);
  });

  it('rejects a total that is not a whole number', () => {
    const r = ok(parse(ctf([{ years: [{ ...base, authorised: '2.5' }] }])));
    expect(r.errors.map((e) => [e.field, e.code])).toEqual([['SessionsAuthorised', 'ctf_totals_value']]);
  });

  it('counts the whole string, including days after today, against the totals', () => {
    const r = ok(parse(ctf([{ years: [{ start: '2025-07-30', marks: '/\\/\\/\\' }] }]), '2025-07-31'));
    expect(marksOf(r)).toEqual(['2025-07-30 /\\', '2025-07-31 /\\']);
    expect(r.errors.map((e) => [e.field, e.code])).toEqual([['date', 'date_future']]);
  });
});

describe('parseCtf: dates after today', () => {
  it("skips the rest of the year when it holds only '-' and '#'", () => {
    const r = ok(parse(ctf([{ years: [{ start: '2025-07-30', marks: '/\\/\\----##' }] }]), '2025-07-31'));
    expect(marksOf(r)).toEqual(['2025-07-30 /\\', '2025-07-31 /\\']);
    expect(r.errors).toEqual([]);
  });

  it('rejects a code on the day after today', () => {
    const r = ok(parse(ctf([{ years: [{ start: '2025-07-31', marks: '/\\N-' }] }]), '2025-07-31'));
    expect(marksOf(r)).toEqual(['2025-07-31 /\\']);
    expect(r.errors[0]).toMatchObject({ field: 'date', code: 'date_future' });
  });
});

describe('parseCtf: pupils', () => {
  it('rejects both records of a UPN that appears twice, naming the other line', () => {
    const r = ok(
      parse(
        ctf([{ years: [{ start: '2024-09-02', marks: '/\\' }] }, { years: [{ start: '2024-09-03', marks: '/\\' }] }]),
      ),
    );
    expect(r.rows).toEqual([]);
    expect(r.errors.map((e) => e.code)).toEqual(['duplicate_pupil', 'duplicate_pupil']);
    expect(r.errors[0].message).toContain(`also on line ${r.ctf.pupils[1].line}`);
  });

  it('rejects a pupil with no UPN', () => {
    const r = ok(parse(ctf([{ upn: '', years: [{ start: '2024-09-02', marks: '/\\' }] }])));
    expect(r.errors.map((e) => e.code)).toEqual(['upn_missing']);
  });

  it('rejects a pupil whose characteristics are malformed, with the field named', () => {
    const cases: [string, string][] = [
      ['<DOB>17/05/2013</DOB>', 'dob_format'],
      ['<DOB>2030-01-01</DOB>', 'dob_future'],
      ['<Sex>X</Sex>', 'sex_value'],
      ['<BasicDetails><NCyearActual>15</NCyearActual></BasicDetails>', 'year_group_value'],
      ['<LookedAfter><InCare>maybe</InCare></LookedAfter>', 'cla_value'],
      ['<FSMhistory><FSMinstance><FSMstartDate>2024-13-01</FSMstartDate></FSMinstance></FSMhistory>', 'fsm_dates'],
      [
        '<FSMhistory><FSMinstance><FSMstartDate>2024-09-05</FSMstartDate><FSMendDate>2024-09-04</FSMendDate></FSMinstance></FSMhistory>',
        'fsm_dates',
      ],
      ['<SENhistory><SEN><SENprovision>Q</SENprovision></SEN></SENhistory>', 'sen_value'],
    ];
    for (const [extra, code] of cases) {
      const r = ok(parse(ctf([{ extra, years: [{ start: '2024-09-02', marks: '/\\' }] }])));
      expect(r.rows, extra).toEqual([]);
      expect(
        r.errors.map((e) => e.code),
        extra,
      ).toEqual([code]);
    }
  });

  it('accepts NCyearActual X (not following the national curriculum) as no year group, and pre-2014 SEN codes', () => {
    const r = ok(
      parse(
        ctf([
          {
            extra:
              '<BasicDetails><NCyearActual>X</NCyearActual></BasicDetails><SENhistory><SEN><SENprovision>S</SENprovision></SEN></SENhistory>',
            years: [{ start: '2024-09-02', marks: '/\\' }],
          },
        ]),
      ),
    );
    expect(r.rows[0].yearGroup).toBeUndefined();
    expect(r.rows[0].sen).toBe('E');
  });

  it('leaves fsm, sen and cla unset when the file has no FSM, SEN or looked-after section', () => {
    const r = ok(parse(ctf([{ years: [{ start: '2024-09-02', marks: '/\\' }] }])));
    expect(r.rows[0]).toEqual({
      line: expect.any(Number),
      urn: SCHOOL.urn,
      upn: UPN1,
      date: '2024-09-02',
      am: '/',
      pm: '\\',
    });
  });

  it('sets fsm false outside every instance when FSMhistory is present, and true on its first and last day', () => {
    const extra =
      '<FSMhistory><FSMinstance><FSMstartDate>2024-09-03</FSMstartDate><FSMendDate>2024-09-04</FSMendDate></FSMinstance></FSMhistory>';
    const r = ok(parse(ctf([{ extra, years: [{ start: '2024-09-02', marks: '/\\/\\/\\/\\' }] }])));
    expect(r.rows.map((x) => x.fsm)).toEqual([false, true, true, false]);
  });

  it('rejects the later of two YearData that give marks for the same day', () => {
    const r = ok(
      parse(
        ctf([
          {
            years: [
              { start: '2024-09-02', marks: '/\\/\\' },
              { start: '2024-09-03', marks: 'NN' },
            ],
          },
        ]),
      ),
    );
    expect(marksOf(r)).toEqual(['2024-09-02 /\\', '2024-09-03 /\\']);
    expect(r.errors.map((e) => e.code)).toEqual(['ctf_overlapping_years']);
  });

  it('treats YearData without LEA/Estab as the source school, and with them as another school only when they differ', () => {
    const r = ok(
      parse(
        ctf([
          {
            years: [
              { start: '2024-09-02', marks: '/\\' },
              { start: '2024-09-03', marks: '/\\', lea: SCHOOL.lea, estab: SCHOOL.estab },
              { start: '2024-09-04', marks: '/\\', lea: SCHOOL.lea, estab: '9999' },
            ],
          },
        ]),
      ),
    );
    expect(marksOf(r)).toEqual(['2024-09-02 /\\', '2024-09-03 /\\']);
  });
});

describe('parseCtf: file errors', () => {
  it('rejects XML that is not a CTF (422)', () => {
    const e = fileErr(parse(Buffer.from('<Message><Children/></Message>')));
    expect(e).toMatchObject({ status: 422, code: 'not_ctf' });
  });

  it('rejects a CTF whose header has no source school URN (422)', () => {
    expect(fileErr(parse(ctf([{ years: [{ start: '2024-09-02', marks: '/\\' }] }], '')))).toMatchObject({
      status: 422,
      code: 'ctf_source_urn',
    });
    expect(fileErr(parse(ctf([{ years: [] }], '<URN>12345</URN>')))).toMatchObject({
      status: 422,
      code: 'ctf_source_urn',
    });
  });

  it('rejects a return for a URN the uploader may not send (403)', () => {
    const e = fileErr(
      parseCtf(ctf([{ years: [{ start: '2024-09-02', marks: '/\\' }] }]), {
        today: TODAY,
        urnAllowed: (urn) => urn === '999999',
      }),
    );
    expect(e).toMatchObject({ status: 403, code: 'urn_not_allowed' });
    expect(e.errors?.[0].field).toBe('SourceSchool/URN');
  });

  it('rejects a CTF with pupils but no attendance marks (422 no_rows)', () => {
    const e = fileErr(parse(ctf([{ years: [] }])));
    expect(e).toMatchObject({ status: 422, code: 'no_rows' });
  });

  it('rejects a DTD / external entity (400), a truncated file (400) and binary junk (415)', () => {
    const good = ctf([{ years: [{ start: '2024-09-02', marks: '/\\' }] }]).toString();
    const withDtd = good.replace('<CTfile>', '<!DOCTYPE CTfile [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<CTfile>');
    expect(fileErr(parse(Buffer.from(withDtd)))).toMatchObject({ status: 400, code: 'xml_doctype' });
    const truncated = good.slice(0, good.indexOf('</Pupil>'));
    const e = fileErr(parse(Buffer.from(truncated)));
    expect(e).toMatchObject({ status: 400, code: 'xml_truncated' });
    expect(e.detail).toMatch(/before <\w+> opened on line \d+ is closed/);
    expect(fileErr(parse(Buffer.from([0x00, 0x01, 0xff, 0xfe, 0x3c])))).toMatchObject({ status: 415 });
  });

  it('gives the line of a DTD, a foreign entity, a truncation and a missing header as a structured error', () => {
    const good = ctf([{ years: [{ start: '2024-09-02', marks: '/\\' }] }]).toString();
    const cases: Array<[string, number, string, string]> = [
      [good.replace('<CTfile>', '<!DOCTYPE CTfile>\n<CTfile>'), 2, 'file', 'xml_doctype'],
      [
        good.replace('<UPN>', '<Surname>&xxe;</Surname>\n<UPN>'),
        good.slice(0, good.indexOf('<UPN>')).split('\n').length,
        'file',
        'xml_entity',
      ],
      // A truncation is reported on the last line that holds anything.
      [
        good.slice(0, good.indexOf('</Pupil>')),
        good.slice(0, good.indexOf('</Pupil>')).trimEnd().split('\n').length,
        'file',
        'xml_truncated',
      ],
      [good.replace(/<Header>[\s\S]*<\/Header>/, ''), 2, 'Header/SourceSchool', 'ctf_header'],
      [good.replace(`<URN>${SCHOOL.urn}</URN>`, '<URN>12345</URN>'), 8, 'Header/SourceSchool/URN', 'ctf_source_urn'],
    ];
    for (const [text, line, field, code] of cases) {
      const e = fileErr(parse(Buffer.from(text)));
      expect(e.errors, code).toEqual([{ line, field, code, message: expect.any(String) }]);
      expect(e.code).toBe(code);
    }
  });

  it('rejects a file over the byte limit (413) and one implying too many rows (413)', () => {
    const b = ctf([{ years: [{ start: '2024-09-02', marks: '/\\/\\/\\' }] }]);
    expect(fileErr(parseCtf(b, { today: TODAY, maxBytes: b.length - 1 }))).toMatchObject({
      status: 413,
      code: 'xml_too_large',
    });
    expect(ok(parseCtf(b, { today: TODAY, maxBytes: b.length })).rows).toHaveLength(3);
    expect(fileErr(parseCtf(b, { today: TODAY, maxRows: 2 }))).toMatchObject({ status: 413, code: 'too_many_rows' });
    expect(ok(parseCtf(b, { today: TODAY, maxRows: 3 })).rows).toHaveLength(3);
  });
});

// ---------------------------------------------------------------------------------------------
// Writer

const CODES_2024 = ALL_CODES.filter((c) => !LEGACY_CODES.has(c)).map((c) => MARK_CHAR[c]);
const CODES_LEGACY = ALL_CODES.map((c) => MARK_CHAR[c]);

const arbUpn = fc.stringMatching(/^\d{11}[0-9]$/).map((body) => makeUpn(body));
const arbDayOffsets = fc.uniqueArray(fc.integer({ min: 0, max: 420 }), { minLength: 1, maxLength: 25 });

interface PupilSpec {
  upn: string;
  offsets: number[];
  withFsm: boolean;
  withSen: boolean;
  cla?: boolean;
  yearGroup?: string;
  surname?: string;
  seed: number;
}

const arbPupil: fc.Arbitrary<PupilSpec> = fc.record({
  upn: arbUpn,
  offsets: arbDayOffsets,
  withFsm: fc.boolean(),
  withSen: fc.boolean(),
  cla: fc.option(fc.boolean(), { nil: undefined }),
  yearGroup: fc.option(fc.constantFrom('N1', 'R', '1', '7', '11', '14'), { nil: undefined }),
  surname: fc.option(
    fc
      .string({ minLength: 1, maxLength: 12 })
      .filter((s) => s.trim() === s && s.length > 0 && !/[\u0000-\u001f<>&\uFFFE\uFFFF\uD800-\uDFFF]/.test(s)),
    { nil: undefined },
  ),
  seed: fc.integer({ min: 0, max: 1_000_000 }),
});

/** Rows a school could send for these pupils, starting 2024-07-01 (so both code sets occur). */
function rowsFor(pupils: PupilSpec[]): ReturnRow[] {
  const rows: ReturnRow[] = [];
  let line = 2;
  const seen = new Set<string>();
  for (const p of pupils) {
    if (seen.has(p.upn)) continue;
    seen.add(p.upn);
    let s = p.seed;
    const next = () => (s = (s * 1103515245 + 12345) % 2147483648);
    for (const off of [...p.offsets].sort((a, b) => a - b)) {
      const date = addDays('2024-07-01', off);
      const pool = date < CODE_SET_2024_FROM ? CODES_LEGACY : CODES_2024;
      const pick = () => (next() % 10 === 0 ? UNMARKED : pool[next() % pool.length]);
      let am = pick();
      let pm = pick();
      if (am === '#' && pm === '#') pm = '/';
      if (isWeekend(date) && (am === '#' || am === UNMARKED) && (pm === '#' || pm === UNMARKED)) am = '/';
      const row: ReturnRow = { line: line++, urn: SCHOOL.urn, upn: p.upn, date, am, pm };
      if (p.surname !== undefined) row.surname = p.surname;
      if (p.yearGroup !== undefined) row.yearGroup = p.yearGroup;
      if (p.withFsm) row.fsm = next() % 3 === 0;
      if (p.withSen) row.sen = (['N', 'K', 'E'] as const)[next() % 3];
      if (p.cla !== undefined) row.cla = p.cla;
      rows.push(row);
    }
  }
  return rows;
}

const withoutLine = (rows: ReturnRow[]) =>
  rows
    .map(({ line: _line, ...rest }) => rest)
    .sort((a, b) => (a.upn === b.upn ? a.date.localeCompare(b.date) : a.upn.localeCompare(b.upn)));

describe('writeCtf', () => {
  it('writes a CTF that parses back to exactly the same rows (property)', () => {
    fc.assert(
      fc.property(fc.array(arbPupil, { minLength: 1, maxLength: 4 }), (pupils) => {
        const rows = rowsFor(pupils);
        const xml = writeCtf(rows, { school: SCHOOL, dateTime: '2025-08-01T09:00:00' });
        const r = ok(parseCtf(Buffer.from(xml), { today: '2025-12-31' }));
        expect(r.errors).toEqual([]);
        expect(r.rowCount).toBe(rows.length);
        expect(withoutLine(r.rows)).toEqual(withoutLine(rows));
      }),
      { numRuns: 60 },
    );
  });

  it('splits marks into one YearData per academic year, with the totals it states', () => {
    const rows: ReturnRow[] = [
      { line: 2, urn: SCHOOL.urn, upn: UPN1, date: '2024-07-19', am: '/', pm: 'H' },
      { line: 3, urn: SCHOOL.urn, upn: UPN1, date: '2024-09-02', am: MARK_CHAR.C1, pm: 'N' },
      { line: 4, urn: SCHOOL.urn, upn: UPN1, date: '2024-09-04', am: 'I', pm: UNMARKED },
    ];
    const xml = writeCtf(rows, { school: SCHOOL, dateTime: '2025-01-01T00:00:00' });
    expect(xml).toContain('<AttendanceMarks>/H</AttendanceMarks>');
    expect(xml).toContain('<AttendanceMarks>C1N##I-</AttendanceMarks>');
    expect(xml).toContain('<SessionsPossible>3</SessionsPossible>');
    expect(xml.match(/<YearData>/g)).toHaveLength(2);
    expect(xml).toContain('<URN>100001</URN>');
  });

  it('refuses rows a CTF cannot carry, naming the row', () => {
    const row: ReturnRow = { line: 7, urn: SCHOOL.urn, upn: UPN1, date: '2024-09-02', am: '/', pm: '\\' };
    const refuse = (rows: ReturnRow[], message: RegExp) =>
      expect(() => writeCtf(rows, { school: SCHOOL })).toThrow(message);
    refuse([{ ...row, urn: '100002' }], /URN 100002/);
    refuse([{ ...row, cin: true }], /no place for cin/);
    refuse([row, { ...row, line: 8 }], /two rows for .* on 2024-09-02/);
    refuse([row, { ...row, date: '2024-09-03', surname: 'Changed' }], /surname changes/);
    refuse([row, { ...row, date: '2024-09-03', fsm: true }], /fsm is given on some rows/);
    refuse([{ ...row, am: '#', pm: '#' }], /both sessions '#'/);
    refuse([{ ...row, date: '2024-09-07', am: UNMARKED, pm: '#' }], /weekend/);
    refuse([{ ...row, am: '?' }], /not a stored mark/);
  });
});

// ---------------------------------------------------------------------------------------------
// Robustness

describe('parseCtf never throws', () => {
  const valid = writeCtf(
    rowsFor([
      {
        upn: UPN1,
        offsets: [60, 61, 62, 65, 66, 70],
        withFsm: true,
        withSen: true,
        cla: true,
        yearGroup: '7',
        surname: 'Ng',
        seed: 7,
      },
      { upn: UPN2, offsets: [60, 61], withFsm: false, withSen: false, seed: 3 },
    ]),
    { school: SCHOOL, dateTime: '2025-01-01T00:00:00' },
  );

  const expectPrecise = (r: CtfParse) => {
    if (r.ok) {
      for (const e of r.errors) {
        expect(e.line).toBeGreaterThanOrEqual(1);
        expect(e.code.length).toBeGreaterThan(0);
        expect(e.message.length).toBeGreaterThan(0);
      }
      expect(r.rowCount).toBeGreaterThanOrEqual(r.rows.length);
    } else {
      expect([400, 403, 413, 415, 422]).toContain(r.error.status);
      expect(r.error.detail.length).toBeGreaterThan(0);
    }
  };

  it('on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) =>
        expectPrecise(parseCtf(Buffer.from(bytes), { today: TODAY })),
      ),
      { numRuns: 200 },
    );
  });

  it('on random mutations of a valid CTF (deletions, insertions, replacements, truncation)', () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 30 }) }),
      fc.record({
        kind: fc.constant('insert' as const),
        at: fc.nat(),
        text: fc.constantFrom(
          '<',
          '>',
          '&',
          '&x;',
          '</Pupil>',
          '<Pupil>',
          '9',
          'C',
          '#',
          '-',
          'ÿ',
          '<!DOCTYPE x>',
          '\u0000',
          '<![CDATA[',
        ),
      }),
      fc.record({
        kind: fc.constant('replace' as const),
        at: fc.nat(),
        ch: fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }),
      }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 5 }), (mutations) => {
        let s = valid;
        for (const m of mutations) {
          const at = m.at % (s.length + 1);
          if (m.kind === 'delete') s = s.slice(0, at) + s.slice(at + m.len);
          else if (m.kind === 'insert') s = s.slice(0, at) + m.text + s.slice(at);
          else if (m.kind === 'replace') s = s.slice(0, at) + m.ch + s.slice(at + 1);
          else s = s.slice(0, at);
        }
        expectPrecise(parseCtf(Buffer.from(s), { today: TODAY }));
      }),
      { numRuns: 300 },
    );
  });

  it('a changed digit in a stated total is either consistent or reported, never silently accepted', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 9 }), fc.nat(), (digit, pick) => {
        const totals = [...valid.matchAll(/<Sessions\w+>(\d+)</g)];
        const m = totals[pick % totals.length];
        const at = m.index + m[0].length - 2;
        const mutated = valid.slice(0, at) + String(digit) + valid.slice(at + 1);
        const r = ok(parseCtf(Buffer.from(mutated), { today: TODAY }));
        if (mutated !== valid) expect(r.errors.map((e) => e.code)).toContain('ctf_totals_mismatch');
        else expect(r.errors).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });
});
