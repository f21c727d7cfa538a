import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { convert } from '../../../local/reference/dfe-attendance.js';
import { CHARACTERISTICS, referenceFor } from '../../../shared/domain/reference.js';

const CSV = '../shared/data/dfe-statistics/EES_ytd_data.csv';

describe('published comparators (DfE 2025/26 year to date)', () => {
  it('ships exactly what the DfE file holds (the conversion is reproducible)', () => {
    const shipped = JSON.parse(readFileSync('shared/reference/dfe-attendance.json', 'utf8')).rows;
    let source: string | undefined;
    try {
      source = readFileSync(CSV, 'utf8');
    } catch {
      /* the shared copy is outside the repository: skip when absent */
    }
    if (source) expect(convert(source)).toEqual(shipped);
    expect(shipped.filter((r: { level: string }) => r.level === 'national')).toHaveLength(4);
  });

  it('gives the national, regional and LA figures for an LA the DfE lists, its region ranked by absence', () => {
    const ref = referenceFor('211', 'total'); // Tower Hamlets, London
    expect(ref.la?.name).toBe('Tower Hamlets');
    expect(ref.region?.name).toBe('London');
    expect(ref.national?.name).toBe('England');
    expect(ref.national?.absenceRate).toBeGreaterThan(4);
    expect(ref.national?.absenceRate).toBeLessThan(10);
    expect(ref.regionLas.some((r) => r.laCode === '211')).toBe(true);
    const rates = ref.regionLas.map((r) => r.absenceRate).filter((r): r is number => r !== null);
    expect(rates).toEqual([...rates].sort((a, b) => a - b));
    expect(ref.regionLas.every((r) => r.regionCode === ref.region?.code && r.phase === 'total')).toBe(true);
  });

  it('has no LA or region for an LA the DfE does not list unless a region is asked for', () => {
    const ref = referenceFor('999', 'primary');
    expect(ref.la).toBeNull();
    expect(ref.region).toBeNull();
    expect(ref.regions.length).toBe(9);
    const asked = referenceFor('999', 'primary', ref.regions[0].code);
    expect(asked.region?.code).toBe(ref.regions[0].code);
    expect(asked.regionLas.length).toBeGreaterThan(3);
  });

  it('names a source and period for every national figure by characteristic', () => {
    for (const c of CHARACTERISTICS) {
      expect(c.source.length).toBeGreaterThan(10);
      expect(c.period).toMatch(/20\d\d/);
    }
  });
});
