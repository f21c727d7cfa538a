import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backfillOf } from '../../../local/load-la.js';
import type { ManifestFile } from '../../../local/synthetic/index.js';

const HEADER = 'urn,upn,date,am,pm,forename';

describe("a school's back-fill file (local/load-la.ts)", () => {
  let dir: string;
  const file = (name: string, lines: string[]) => writeFileSync(join(dir, name), `${HEADER}\n${lines.join('\n')}\n`);
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'backfill-'));
    // The 2nd's file lists its pupils out of order; the 1st's correction replaces one row, and a
    // late file for the 3rd arrives after the correction.
    file('d2.csv', ['100001,B00000000002,2025-09-02,/,\\,Bo', '100001,A00000000001,2025-09-02,N,N,Al']);
    file('d1.csv', ['100001,A00000000001,2025-09-01,/,\\,Al', '100001,B00000000002,2025-09-01,/,\\,Bo']);
    file('c1.csv', ['100001,A00000000001,2025-09-01,I,I,Al']);
    file('d3.csv', ['100001,B00000000002,2025-09-03,/,\\,Bo']);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('holds the header once, every pupil-day once in date then pupil order, the last file given winning', () => {
    const files: ManifestFile[] = [
      { path: 'd1.csv', urn: '100001', role: 'school', kind: 'daily', date: '2025-09-01' },
      { path: 'd2.csv', urn: '100001', role: 'school', kind: 'daily', date: '2025-09-02' },
      { path: 'c1.csv', urn: '100001', role: 'school', kind: 'correction', date: '2025-09-02', dates: ['2025-09-01'] },
      { path: 'd3.csv', urn: '100001', role: 'school', kind: 'late', date: '2025-09-03' },
    ];
    expect(backfillOf(dir, files).split('\n')).toEqual([
      HEADER,
      '100001,A00000000001,2025-09-01,I,I,Al',
      '100001,B00000000002,2025-09-01,/,\\,Bo',
      '100001,A00000000001,2025-09-02,N,N,Al',
      '100001,B00000000002,2025-09-02,/,\\,Bo',
      '100001,B00000000002,2025-09-03,/,\\,Bo',
      '',
    ]);
  });
});
