import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { makeUpn } from '../../../shared/domain/upn.js';
import { importCohortCsv } from '../../../shared/formats/cohort-csv.js';

const UPN = makeUpn('999400124001');
const UPN2 = makeUpn('999400124002');
const TODAY = '2025-03-31';
const run = (text: string) => importCohortCsv(Buffer.from(text, 'utf8'), { today: TODAY });

describe('importCohortCsv', () => {
  it('loads one episode per row, end date inclusive and optional', () => {
    const r = run(`upn,cohort,start_date,end_date\n${UPN},cla,2024-09-01,2024-12-31\n${UPN2},CIN,01/10/2024,\n`);
    expect(r.counts).toEqual({ records: 2, accepted: 2, rejected: 0 });
    expect(r.errors).toEqual([]);
    expect(r.episodes).toEqual([
      {
        upn: UPN,
        cohort: 'cla',
        start: '2024-09-01',
        end: '2024-12-31',
        source: 'cohort_csv',
        ref: 'cohort.csv line 2',
      },
      { upn: UPN2, cohort: 'cin', start: '2024-10-01', source: 'cohort_csv', ref: 'cohort.csv line 3' },
    ]);
  });

  it('matches header names in any case and order, and ignores other columns', () => {
    const r = run(`Notes,End Date,COHORT,Start_Date,UPN\nx,,plac,2024-09-01,${UPN.toLowerCase()}\n`);
    expect(r.episodes).toEqual([
      { upn: UPN, cohort: 'plac', start: '2024-09-01', source: 'cohort_csv', ref: 'cohort.csv line 2' },
    ]);
  });

  it('works without an end_date column at all', () => {
    expect(run(`upn,cohort,start_date\n${UPN},cpp,2024-09-01\n`).episodes).toHaveLength(1);
  });

  it('accepts a one-day episode (end equal to start) and a start of today', () => {
    const r = run(`upn,cohort,start_date,end_date\n${UPN},cpp,2024-09-01,2024-09-01\n${UPN},cla,${TODAY},\n`);
    expect(r.counts.accepted).toBe(2);
  });

  it('rejects each bad row with its line and field, loading the rest', () => {
    const r = run(
      [
        'upn,cohort,start_date,end_date',
        `${UPN},cla,2024-09-01,`, // 2 ok
        `A999400124001,cla,2024-09-01,`, // 3 check letter
        `,cla,2024-09-01,`, // 4 missing
        `UN2,cin,2024-09-01,`, // 5 unknown UPN
        `${UPN},lac,2024-09-01,`, // 6 unknown cohort
        `${UPN},cla,2024-02-30,`, // 7 not a date
        `${UPN},cla,2025-04-01,`, // 8 future (day after today)
        `${UPN},cla,2024-09-02,2024-09-01`, // 9 end before start
        `${UPN},cla,,`, // 10 no start
        `${UPN},cla,2024-09-01,someday`, // 11 bad end
      ].join('\n'),
    );
    expect(r.counts).toEqual({ records: 10, accepted: 1, rejected: 9 });
    expect(r.errors.map((e) => [e.line, e.field, e.code])).toEqual([
      [3, 'upn', 'upn_check_letter'],
      [4, 'upn', 'upn_missing'],
      [5, 'upn', 'upn_unknown'],
      [6, 'cohort', 'cohort_unknown'],
      [7, 'start_date', 'invalid_date'],
      [8, 'start_date', 'future_date'],
      [9, 'end_date', 'end_before_start'],
      [10, 'start_date', 'date_missing'],
      [11, 'end_date', 'invalid_date'],
    ]);
    expect(r.errors.every((e) => e.file === 'cohort.csv')).toBe(true);
  });

  it('reports every problem of one row, counting the row once', () => {
    const r = run('upn,cohort,start_date\nbad,nope,never\n');
    expect(r.counts).toEqual({ records: 1, accepted: 0, rejected: 1 });
    expect(r.errors.map((e) => e.field)).toEqual(['upn', 'cohort', 'start_date']);
  });

  it('rejects the whole file when a required column is missing (422)', () => {
    const r = run(`upn,start_date\n${UPN},2024-09-01\n`);
    expect(r.fileError).toMatchObject({ status: 422, code: 'missing_column' });
    expect(r.fileError?.detail).toContain('cohort');
    expect(r.episodes).toEqual([]);
    expect(r.errors).toHaveLength(1);
  });

  it('rejects a file that is not CSV (415) and an empty file (400)', () => {
    expect(importCohortCsv(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00]), { today: TODAY }).fileError?.status).toBe(415);
    expect(importCohortCsv(Buffer.from('<Message/>'), { today: TODAY }).fileError?.status).toBe(415);
    expect(importCohortCsv(Buffer.alloc(0), { today: TODAY }).fileError?.status).toBe(400);
  });

  it('names its file as told', () => {
    const r = importCohortCsv(Buffer.from(`upn,cohort,start_date\n${UPN},cla,2024-09-01\n`), {
      today: TODAY,
      fileName: 'vsh-list.csv',
    });
    expect(r.episodes[0].ref).toBe('vsh-list.csv line 2');
  });

  it('never throws, and accounts for every data row (property)', () => {
    const cell = fc.constantFrom(
      '',
      UPN,
      'UN1',
      'cla',
      'cin',
      'x',
      '2024-09-01',
      '31/12/2024',
      '"q,uoted"',
      '2025-13-01',
    );
    fc.assert(
      fc.property(fc.array(fc.array(cell, { minLength: 0, maxLength: 5 }), { maxLength: 8 }), (rows) => {
        const text = ['upn,cohort,start_date,end_date', ...rows.map((r) => r.join(','))].join('\n');
        const r = run(text);
        expect(r.counts.accepted + r.counts.rejected).toBe(r.counts.records);
        expect(r.episodes.length).toBe(r.counts.accepted);
      }),
      { numRuns: 200 },
    );
  });
});
