import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkUpn, makeUpn } from '../../../shared/domain/upn.js';
import { PLAC_REASONS, importSsda903 } from '../../../shared/formats/ssda903.js';

const FIXTURES = new URL('../../fixtures/formats/social-care/', import.meta.url);
const TODAY = '2025-03-31';
const UPN = makeUpn('999400124001');
const UPN2 = makeUpn('999400124002');

const HEADER = 'CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB';
const EPISODES = 'CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN';

/** header rows: [child, upn]; episode rows: [child, decom, dec, rec]. */
function run(children: [string, string][], episodes: [string, string, string, string][], today = TODAY) {
  const header = [HEADER, ...children.map(([c, u]) => `${c},1,01/01/2012,WBRI,${u},,`)].join('\n');
  const eps = [
    EPISODES,
    ...episodes.map(([c, decom, dec, rec]) => `${c},${decom},S,C2,N1,U1,PR1,${dec},${rec},,,,`),
  ].join('\n');
  return importSsda903({ header: Buffer.from(header), episodes: Buffer.from(eps) }, { today });
}

describe('importSsda903 on the real-format fixture (header.csv + episodes.csv)', () => {
  const r = importSsda903(
    {
      header: readFileSync(new URL('header.csv', FIXTURES)),
      episodes: readFileSync(new URL('episodes.csv', FIXTURES)),
    },
    { today: '2026-11-22' },
  );
  const headerLines = readFileSync(new URL('header.csv', FIXTURES), 'utf8').trim().split('\n').slice(1);
  const invalid = headerLines
    .map((l, k) => ({ line: k + 2, child: l.split(',')[0], upn: l.split(',')[4] }))
    .filter((h) => !checkUpn(h.upn).ok);

  it('reads 5,050 episode records: 220 loaded, 4,830 rejected', () => {
    expect(r.counts).toEqual({ records: 5050, accepted: 220, rejected: 4830 });
  });

  it('reports every one of the 2,568 wrong UPN check letters on its own header line', () => {
    expect(invalid).toHaveLength(2568);
    expect(r.errors).toHaveLength(2568);
    expect(r.errors.map((e) => [e.file, e.line, e.record, e.field, e.code])).toEqual(
      invalid.map((h) => ['header.csv', h.line, h.child, 'UPN', 'upn_check_letter']),
    );
  });

  it('names the skipped episodes of each rejected child', () => {
    expect(r.errors[0].message).toBe(
      "UPN 'D051910639385' is not valid: UPN check letter is 'D' but the digits require 'R'; 2 episodes not loaded (episodes.csv lines 2, 3)",
    );
    const skipped = r.errors.reduce((n, e) => n + Number(/; (\d+) episodes? not loaded/.exec(e.message)?.[1] ?? 0), 0);
    expect(skipped).toBe(4830);
  });

  it('loads the valid children as 88 periods of care and 8 previously-looked-after episodes', () => {
    expect(r.episodes.filter((e) => e.cohort === 'cla')).toHaveLength(88);
    expect(r.episodes.filter((e) => e.cohort === 'plac')).toHaveLength(8);
    expect(r.episodes.every((e) => checkUpn(e.upn).ok && e.source === 'ssda903')).toBe(true);
  });
});

describe('importSsda903: looked after from DECOM to the day before DEC', () => {
  it('ends the episode the day before DEC (inclusive end)', () => {
    const r = run([['1', UPN]], [['1', '01/09/2024', '05/09/2024', 'E13']]);
    expect(r.episodes).toEqual([
      {
        upn: UPN,
        cohort: 'cla',
        start: '2024-09-01',
        end: '2024-09-04',
        source: 'ssda903',
        ref: 'episodes.csv line 2',
      },
    ]);
  });

  it('leaves the episode open when DEC is empty', () => {
    const r = run([['1', UPN]], [['1', '01/09/2024', '', '']]);
    expect(r.episodes).toEqual([
      { upn: UPN, cohort: 'cla', start: '2024-09-01', source: 'ssda903', ref: 'episodes.csv line 2' },
    ]);
  });

  it('gives a one-day episode when DEC is the day after DECOM, and none when DEC equals DECOM', () => {
    expect(run([['1', UPN]], [['1', '01/09/2024', '02/09/2024', 'E13']]).episodes[0]).toMatchObject({
      start: '2024-09-01',
      end: '2024-09-01',
    });
    const same = run([['1', UPN]], [['1', '01/09/2024', '01/09/2024', 'E13']]);
    expect(same.episodes).toEqual([]);
    expect(same.counts).toEqual({ records: 1, accepted: 1, rejected: 0 });
  });

  it('merges a placement change (DECOM = previous DEC) into one period of care', () => {
    const r = run(
      [['1', UPN]],
      [
        ['1', '10/09/2024', '', ''],
        ['1', '01/09/2024', '10/09/2024', 'X1'],
      ],
    );
    expect(r.episodes).toEqual([
      { upn: UPN, cohort: 'cla', start: '2024-09-01', source: 'ssda903', ref: 'episodes.csv lines 3, 2' },
    ]);
  });

  it('keeps two periods apart when there is a one-day gap', () => {
    const r = run(
      [['1', UPN]],
      [
        ['1', '01/09/2024', '10/09/2024', 'E13'],
        ['1', '11/09/2024', '', ''],
      ],
    );
    expect(r.episodes.map((e) => [e.start, e.end])).toEqual([
      ['2024-09-01', '2024-09-09'],
      ['2024-09-11', undefined],
    ]);
  });

  it('rejects an episode that overlaps an earlier one by a day, naming it', () => {
    const r = run(
      [['1', UPN]],
      [
        ['1', '01/09/2024', '10/09/2024', 'X1'],
        ['1', '09/09/2024', '', ''],
      ],
    );
    expect(r.errors).toEqual([
      expect.objectContaining({
        file: 'episodes.csv',
        line: 3,
        record: '1',
        field: 'DECOM',
        code: 'overlapping_episodes',
        message: expect.stringContaining('line 2'),
      }),
    ]);
    expect(r.counts).toEqual({ records: 2, accepted: 1, rejected: 1 });
    expect(r.episodes.map((e) => [e.start, e.end])).toEqual([['2024-09-01', '2024-09-09']]);
  });

  it('rejects an episode that starts while an earlier one is still open', () => {
    const r = run(
      [['1', UPN]],
      [
        ['1', '01/09/2024', '', ''],
        ['1', '01/10/2024', '', ''],
      ],
    );
    expect(r.errors.map((e) => [e.line, e.code])).toEqual([[3, 'overlapping_episodes']]);
  });
});

describe('importSsda903: previously looked after', () => {
  for (const rec of [...PLAC_REASONS.keys()]) {
    it(`makes REC ${rec} a previously-looked-after episode from DEC, open`, () => {
      const r = run([['1', UPN]], [['1', '01/09/2023', '15/03/2024', rec]]);
      expect(r.episodes.find((e) => e.cohort === 'plac')).toEqual({
        upn: UPN,
        cohort: 'plac',
        start: '2024-03-15',
        source: 'ssda903',
        ref: `episodes.csv line 2 (REC ${rec})`,
      });
    });
  }

  for (const rec of ['E13', 'E4A', 'E2', 'E3', 'E8', 'X1']) {
    it(`does not make REC ${rec} previously looked after`, () => {
      const r = run([['1', UPN]], [['1', '01/09/2023', '15/03/2024', rec]]);
      expect(r.episodes.map((e) => e.cohort)).toEqual(['cla']);
    });
  }

  it('looks only at how the whole period of care ended, not at a placement change inside it', () => {
    const r = run(
      [['1', UPN]],
      [
        ['1', '01/09/2023', '01/12/2023', 'E11'],
        ['1', '01/12/2023', '15/03/2024', 'E13'],
      ],
    );
    expect(r.episodes.map((e) => e.cohort)).toEqual(['cla']);
  });

  it('ends previously-looked-after status the day before the child is looked after again', () => {
    const r = run(
      [['1', UPN]],
      [
        ['1', '01/09/2023', '15/03/2024', 'E45'],
        ['1', '01/06/2024', '', ''],
      ],
    );
    expect(r.episodes.map((e) => [e.cohort, e.start, e.end])).toEqual([
      ['cla', '2023-09-01', '2024-03-14'],
      ['plac', '2024-03-15', '2024-05-31'],
      ['cla', '2024-06-01', undefined],
    ]);
  });
});

describe('importSsda903: bad records are reported with line and field', () => {
  it('rejects the episodes of a child with no UPN, an UPN-unknown code or a wrong check letter', () => {
    const r = run(
      [
        ['1', ''],
        ['2', 'UN3'],
        ['3', 'A999400124001'],
        ['4', UPN],
      ],
      [
        ['1', '01/09/2024', '', ''],
        ['2', '01/09/2024', '', ''],
        ['3', '01/09/2024', '', ''],
        ['3', '01/10/2024', '', ''],
        ['4', '01/09/2024', '', ''],
      ],
    );
    expect(r.errors.map((e) => [e.file, e.line, e.record, e.field, e.code])).toEqual([
      ['header.csv', 2, '1', 'UPN', 'upn_missing'],
      ['header.csv', 3, '2', 'UPN', 'upn_unknown'],
      ['header.csv', 4, '3', 'UPN', 'upn_check_letter'],
    ]);
    expect(r.errors[2].message).toContain('2 episodes not loaded (episodes.csv lines 4, 5)');
    expect(r.counts).toEqual({ records: 5, accepted: 1, rejected: 4 });
    expect(r.episodes.map((e) => e.upn)).toEqual([UPN]);
  });

  it('accepts every UPN-unknown code UN1 to UN10 as such, and UN11 as a malformed UPN', () => {
    for (let k = 1; k <= 10; k++) expect(run([['1', `UN${k}`]], []).errors[0].code).toBe('upn_unknown');
    expect(run([['1', 'UN11']], []).errors[0].code).toBe('upn_format');
  });

  it('reports a bad UPN even when the child has no episodes', () => {
    const r = run([['1', 'A999400124001']], []);
    expect(r.errors.map((e) => e.code)).toEqual(['upn_check_letter']);
    expect(r.errors[0].message).not.toContain('not loaded');
  });

  it('rejects an episode for a CHILD absent from header.csv', () => {
    const r = run([['1', UPN]], [['9', '01/09/2024', '', '']]);
    expect(r.errors).toEqual([
      expect.objectContaining({
        file: 'episodes.csv',
        line: 2,
        record: '9',
        field: 'CHILD',
        code: 'child_not_in_header',
      }),
    ]);
  });

  it('rejects bad, ISO-written, impossible and future dates, and DEC before DECOM', () => {
    const r = run(
      [['1', UPN]],
      [
        ['1', '2024-09-01', '', ''],
        ['1', '31/02/2024', '', ''],
        ['1', '01/04/2025', '', ''],
        ['1', '01/09/2023', '31/08/2023', 'E13'],
        ['1', '01/09/2022', 'soon', 'E13'],
        ['1', '', '', ''],
        ['1', '31/03/2025', '', ''],
      ],
    );
    expect(r.errors.map((e) => [e.line, e.field, e.code])).toEqual([
      [2, 'DECOM', 'invalid_date'],
      [3, 'DECOM', 'invalid_date'],
      [4, 'DECOM', 'future_date'],
      [5, 'DEC', 'dec_before_decom'],
      [6, 'DEC', 'invalid_date'],
      [7, 'DECOM', 'date_missing'],
    ]);
    expect(r.counts).toEqual({ records: 7, accepted: 1, rejected: 6 });
    expect(r.episodes.map((e) => e.start)).toEqual(['2025-03-31']);
  });

  it('rejects both children when a CHILD appears twice in header.csv', () => {
    const r = run(
      [
        ['1', UPN],
        ['1', UPN2],
      ],
      [['1', '01/09/2024', '', '']],
    );
    expect(r.errors.map((e) => [e.line, e.code])).toEqual([[2, 'duplicate_child']]);
    expect(r.episodes).toEqual([]);
  });

  it('rejects the upload when a file lacks a required column, naming the file', () => {
    const r = importSsda903(
      { header: Buffer.from('CHILD,SEX\n1,1\n'), episodes: Buffer.from(`${EPISODES}\n`) },
      { today: TODAY },
    );
    expect(r.fileError).toMatchObject({ status: 422, code: 'missing_column' });
    expect(r.errors[0]).toMatchObject({ file: 'header.csv', line: 1 });
    const swapped = importSsda903(
      { header: Buffer.from(`${EPISODES}\n`), episodes: Buffer.from(`${HEADER}\n`) },
      { today: TODAY },
    );
    expect(swapped.fileError?.detail).toBe(
      'header.csv: the header (line 1) has no UPN column (is this the right SSDA903 file?)',
    );
  });

  it('rejects the upload when a file is not CSV', () => {
    const r = importSsda903(
      { header: Buffer.from([0x50, 0x4b, 0x03, 0x04]), episodes: Buffer.from(`${EPISODES}\n`) },
      { today: TODAY },
    );
    expect(r.fileError?.status).toBe(415);
  });

  it('never throws, and accounts for every episode row (property)', () => {
    const date = fc.constantFrom('', '01/09/2024', '10/09/2024', '2024-09-01', '31/12/2025', 'x');
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('1', '2', '3', ''), date, date, fc.constantFrom('', 'E11', 'X1', 'E13')), {
          maxLength: 10,
        }),
        (eps) => {
          const r = run(
            [
              ['1', UPN],
              ['2', 'UN1'],
            ],
            eps,
          );
          expect(r.counts.accepted + r.counts.rejected).toBe(r.counts.records);
          for (const e of r.episodes) if (e.end !== undefined) expect(e.end >= e.start).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });
});
