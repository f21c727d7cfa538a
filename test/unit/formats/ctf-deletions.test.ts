/**
 * The CTF equivalents of the daily return's admission, leaving, deletion_ground and destination
 * columns (issue 20; docs/ctf-attendance.md "Admission, leaving and destination"): the source
 * school's own SchoolHistory entry, and the header's DestSchool.
 */
import { describe, expect, it } from 'vitest';
import { makeUpn } from '../../../shared/domain/upn.js';
import { destinationOfDestSchool, parseCtf, type CtfParse } from '../../../shared/formats/ctf.js';

const UPN = makeUpn('999400124001');
const SOURCE = '<SourceSchool>\n<LEA>999</LEA>\n<Estab>4001</Estab>\n<URN>100001</URN>\n</SourceSchool>';

/** One pupil with two school days (Mon 15 and Tue 16 Sep 2025), a SchoolHistory and a DestSchool. */
function ctf(history: string, dest = ''): Buffer {
  return Buffer.from(
    [
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<CTfile>',
      '<Header>',
      '<CTFversion>25.0</CTFversion>',
      SOURCE,
      dest,
      '</Header>',
      '<CTFpupilData>',
      '<Pupil>',
      `<UPN>${UPN}</UPN>`,
      '<Attendance>',
      '<YearData>',
      '<SessionsPossible>4</SessionsPossible>',
      '<SessionsAuthorised>0</SessionsAuthorised>',
      '<SessionsAttended>4</SessionsAttended>',
      '<SessionsUnauthorised>0</SessionsUnauthorised>',
      '<AttendSessions>',
      '<AttendanceStartDate>2025-09-15</AttendanceStartDate>',
      '<AttendanceMarks>/\\/\\</AttendanceMarks>',
      '</AttendSessions>',
      '</YearData>',
      '</Attendance>',
      history ? `<SchoolHistory>\n${history}\n</SchoolHistory>` : '',
      '</Pupil>',
      '</CTFpupilData>',
      '</CTfile>',
      '',
    ].join('\n'),
  );
}

const own = (fields: string) => `<School>\n<LEA>999</LEA>\n<Estab>4001</Estab>\n${fields}\n</School>`;
const dest = (fields: string) => `<DestSchool>\n${fields}\n</DestSchool>`;

function ok(r: CtfParse) {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.detail}`);
  return r;
}
const parse = (b: Buffer) => ok(parseCtf(b, { today: '2025-12-01' }));

describe('CTF admission, leaving, ground and destination', () => {
  it("reads the source school's own SchoolHistory entry onto every row, with the DestSchool URN as the destination", () => {
    const r = parse(
      ctf(
        [
          '<School>\n<LEA>888</LEA>\n<Estab>2001</Estab>\n<EntryDate>2021-09-01</EntryDate>\n<LeavingDate>2025-07-18</LeavingDate>\n<LeavingReason>moved_away</LeavingReason>\n</School>',
          own(
            '<EntryDate>2025-09-01</EntryDate>\n<LeavingDate>2025-09-16</LeavingDate>\n<LeavingReason>Registered at another school</LeavingReason>',
          ),
        ].join('\n'),
        dest('<LEA>999</LEA>\n<Estab>2002</Estab>\n<URN>100002</URN>'),
      ),
    );
    expect(r.errors).toEqual([]);
    expect(r.rows).toHaveLength(2);
    for (const row of r.rows) {
      expect(row).toMatchObject({
        admissionDate: '2025-09-01',
        leavingDate: '2025-09-16',
        deletionGround: 'registered_at_another_school',
        destination: '100002',
      });
    }
    expect(r.ctf.pupils[0].ownHistory).toMatchObject({
      entryDate: '2025-09-01',
      leavingReason: 'Registered at another school',
    });
  });

  it('finds the own entry by URN too', () => {
    const r = parse(ctf('<School>\n<URN>100001</URN>\n<EntryDate>2025-09-15</EntryDate>\n</School>'));
    expect(r.rows[0]).toMatchObject({ admissionDate: '2025-09-15' });
    expect(r.rows[0].leavingDate).toBeUndefined();
  });

  it('reads the lost-pupil destination codes as unknown (XXX/XXXX, MMM/MMMM)', () => {
    for (const [lea, estab] of [
      ['XXX', 'XXXX'],
      ['MMM', 'MMMM'],
      ['xxx', 'xxxx'],
    ]) {
      const r = parse(
        ctf(own('<LeavingDate>2025-09-16</LeavingDate>'), dest(`<LEA>${lea}</LEA>\n<Estab>${estab}</Estab>`)),
      );
      expect(r.rows[0].destination, `${lea}/${estab}`).toBe('unknown');
    }
    expect(destinationOfDestSchool({ lea: '999', estab: '2002' })).toBeUndefined();
    expect(destinationOfDestSchool({ lea: '999', estab: '2002', urn: '10002' })).toBeUndefined();
  });

  it('gives a destination and a ground only with a leaving date, as the daily return does', () => {
    const r = parse(
      ctf(
        own('<EntryDate>2025-09-01</EntryDate>\n<LeavingReason>moved_away</LeavingReason>'),
        dest('<LEA>XXX</LEA>\n<Estab>XXXX</Estab>'),
      ),
    );
    expect(r.rows[0].destination).toBeUndefined();
    expect(r.rows[0].deletionGround).toBeUndefined();
  });

  it('keeps a LeavingReason that is not one of the ground codes as written, without a ground', () => {
    const r = parse(ctf(own('<LeavingDate>2025-09-16</LeavingDate>\n<LeavingReason>TRF</LeavingReason>')));
    expect(r.rows[0].deletionGround).toBeUndefined();
    expect(r.ctf.pupils[0].ownHistory?.leavingReason).toBe('TRF');
  });

  it('rejects the pupil for a date that is not a date, or a leaving date before the entry date, naming the field', () => {
    const bad = ok(parseCtf(ctf(own('<EntryDate>01/09/2025</EntryDate>')), { today: '2025-12-01' }));
    expect(bad.rows).toEqual([]);
    expect(bad.errors).toEqual([expect.objectContaining({ field: 'admission_date', code: 'admission_date_format' })]);
    const backwards = ok(
      parseCtf(ctf(own('<EntryDate>2025-09-16</EntryDate>\n<LeavingDate>2025-09-15</LeavingDate>')), {
        today: '2025-12-01',
      }),
    );
    expect(backwards.rows).toEqual([]);
    expect(backwards.errors).toEqual([
      expect.objectContaining({ field: 'leaving_date', code: 'leaving_before_admission' }),
    ]);
  });
});
