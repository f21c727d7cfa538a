/** The daily return's deletion columns (issue 20): `deletion_ground` and `destination`, with a leaving date. */
import { describe, expect, it } from 'vitest';
import { parseDailyReturnCsv } from '../../../shared/formats/daily-return-csv.js';
import { upnFor } from '../../support/returns.js';

const UPN = upnFor(1);
const parse = (lines: string[]) => {
  const r = parseDailyReturnCsv(Buffer.from(lines.join('\n')), { today: '2025-12-01' });
  if (!r.ok) throw new Error(r.error.detail);
  return r;
};

describe('deletion ground and destination columns', () => {
  it('reads a ground code and a destination given with a leaving date', () => {
    const r = parse([
      'urn,upn,date,am,pm,leaving_date,Deletion Ground,destination',
      `100001,${UPN},2025-09-19,/,/,2025-09-19,Moved away,ehe`,
    ]);
    expect(r.errors).toEqual([]);
    expect(r.rows[0]).toMatchObject({
      leavingDate: '2025-09-19',
      deletionGround: 'moved_away',
      destination: 'elective_home_education',
    });
  });

  it('takes a 6-digit URN as a destination school', () => {
    const r = parse(['urn,upn,date,am,pm,leaving_date,destination', `100001,${UPN},2025-09-19,/,/,2025-09-19,100002`]);
    expect(r.rows[0].destination).toBe('100002');
  });

  it('rejects an unknown ground, a malformed destination, and either without a leaving date on the row', () => {
    const r = parse([
      'urn,upn,date,am,pm,leaving_date,deletion_ground,destination',
      `100001,${UPN},2025-09-15,/,/,2025-09-19,went_away,`,
      `100001,${UPN},2025-09-16,/,/,2025-09-19,,10002`,
      `100001,${UPN},2025-09-17,/,/,,died,`,
      `100001,${UPN},2025-09-18,/,/,,,UNKNOWN`,
    ]);
    expect(r.errors.map((e) => [e.line, e.field, e.code])).toEqual([
      [2, 'deletion_ground', 'deletion_ground_value'],
      [3, 'destination', 'destination_value'],
      [4, 'deletion_ground', 'deletion_without_leaving_date'],
      [5, 'destination', 'deletion_without_leaving_date'],
    ]);
    expect(r.rows).toEqual([]);
  });
});
