import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { absenceRateOf } from '../../../shared/domain/la-view.js';
import type { PupilRow } from '../../../shared/domain/school-view.js';
import { k } from '../../../shared/store/keys.js';
import { laListCountKeys, laListPartitions, laListQuery, partitionKind } from '../../../shared/store/la-lists.js';

const row = (over: Partial<PupilRow> = {}): PupilRow => ({
  upn: 'A999200120001',
  v: 1,
  urns: ['100001'],
  cohorts: [],
  everCohorts: [],
  possible: 20,
  present: 17,
  approvedActivity: 0,
  authorised: 1,
  unauthorised: 2,
  late: 0,
  flags: [],
  yearGroup: '7',
  ...over,
});

describe('LA list partitions', () => {
  it('lists a pupil under each of its flags, for the LA and for each school, cohort, year group and the Virtual School', () => {
    const parts = laListPartitions(
      2025,
      row({
        urns: ['100001', '100002'],
        everCohorts: ['fsm', 'cla'],
        flags: [
          { type: 'persistent_absence', since: '2025-09-10' },
          { type: 'severe_absence', since: '2025-09-12' },
        ],
      }),
    );
    for (const list of ['persistent_absence', 'severe_absence', 'vs']) {
      expect(parts).toContain(`LALIST#2025#${list}`);
      for (const scope of ['URN#100001', 'URN#100002', 'COHORT#fsm', 'COHORT#cla', 'YG#7', 'VS#all'])
        expect(parts).toContain(`LALIST#2025#${list}#${scope}`);
    }
    expect(new Set(parts).size).toBe(parts.length);
    // The referral suggestions read the lists of the flags that make one: no list of their own to move.
    expect(parts.filter((pk) => pk.startsWith('LALIST#2025#suggest'))).toEqual([]);
    expect(parts).toHaveLength(3 * 7);
  });

  it('puts a pupil without a year group in a year group of its own, counted but with no pair count', () => {
    const parts = laListPartitions(
      2025,
      row({ yearGroup: undefined, everCohorts: ['fsm'], flags: [{ type: 'persistent_absence', since: '2025-09-10' }] }),
    );
    expect(parts.sort()).toEqual(
      [
        'LALIST#2025#persistent_absence',
        'LALIST#2025#persistent_absence#URN#100001',
        'LALIST#2025#persistent_absence#COHORT#fsm',
        `LALIST#2025#persistent_absence#YG#${k.laListNoYearGroup}`,
      ].sort(),
    );
    // Its year group's count is kept like any partition's; no cohort-and-year-group pair (no filter names it).
    expect(laListCountKeys(parts).sort()).toEqual(parts);
    // No API filter can name it: a year group filter is at most 3 characters.
    expect(k.laListNoYearGroup.length).toBeGreaterThan(3);
  });

  it("serves the LA partition from the year groups' items: none of its own, their gsi1 keys at their own place", () => {
    expect(partitionKind('LALIST#2025#persistent_absence')).toBe('indexed');
    expect(partitionKind('LALIST#2025#persistent_absence#YG#7')).toBe('worstFirst');
    expect(partitionKind(`LALIST#2025#persistent_absence#YG#${k.laListNoYearGroup}`)).toBe('worstFirst');
    expect(partitionKind('LALIST#2025#persistent_absence#COHORT#fsm')).toBe('counted');
    expect(partitionKind('LALIST#2025#persistent_absence#COHORT#cla')).toBe('worstFirst');
    expect(partitionKind('LALIST#2025#vs#URN#100001')).toBe('byUpn');
    const sk = k.laListSort(12.34, 'A999200120001');
    expect(k.laListIndexKeys('LALIST#2025#vs#YG#R', sk)).toEqual({ gsi1pk: 'LALIST#2025#vs', gsi1sk: sk });
    expect(k.laListIndexKeys(`LALIST#2025#severe_absence#YG#${k.laListNoYearGroup}`, sk)).toEqual({
      gsi1pk: 'LALIST#2025#severe_absence',
      gsi1sk: sk,
    });
  });

  it('lists an unflagged pupil outside the Virtual School nowhere', () => {
    expect(laListPartitions(2025, row())).toEqual([]);
  });

  it('orders the sort keys worst first as the rate is shown (one decimal place), then UPN', () => {
    const arb = fc
      .record({
        possible: fc.integer({ min: 0, max: 400 }),
        a: fc.integer({ min: 0, max: 400 }),
        u: fc.integer({ min: 0, max: 400 }),
        n: fc.integer({ min: 10000, max: 10099 }),
      })
      .map(({ possible, a, u, n }) =>
        row({
          upn: `A9992001${n}`,
          possible,
          authorised: Math.min(a, possible),
          unauthorised: Math.min(u, possible - Math.min(a, possible)),
        }),
      );
    fc.assert(
      fc.property(fc.array(arb, { minLength: 2, maxLength: 30 }), (rows) => {
        const unique = [...new Map(rows.map((r) => [r.upn, r])).values()];
        const shown = (r: PupilRow) => Number(absenceRateOf(r).toFixed(1));
        const byRate = [...unique].sort((x, y) => shown(y) - shown(x) || (x.upn < y.upn ? -1 : 1)).map((r) => r.upn);
        const bySk = [...unique]
          .sort((x, y) => (k.laListSort(absenceRateOf(x), x.upn) < k.laListSort(absenceRateOf(y), y.upn) ? -1 : 1))
          .map((r) => r.upn);
        expect(bySk).toEqual(byRate);
      }),
      { numRuns: 200 },
    );
  });

  it('moves a pupil only when the rate shown moves', () => {
    const upn = 'A999200120001';
    // 1 of 30 sessions (3.33…%) and 2 of 60 show the same rate: the same key, so no item is rewritten.
    expect(k.laListSort((1 / 30) * 100, upn)).toBe(k.laListSort((2 / 60) * 100, upn));
    expect(k.laListSort((1 / 30) * 100, upn)).toBe(`096.7#${upn}`);
    // 3.34 % shows as 3.3 %, 3.36 % as 3.4 %: different keys, the worse first.
    expect(k.laListSort(3.36, upn) < k.laListSort(3.34, upn)).toBe(true);
    expect(k.laListSort(0, upn)).toBe(`100.0#${upn}`);
    expect(k.laListSort(100, upn)).toBe(`000.0#${upn}`);
  });

  it('answers a filter from the narrowest partition it names, filtering only what is left', () => {
    expect(laListQuery(2025, 'severe_absence', { yearGroup: '9' })).toEqual({
      pk: 'LALIST#2025#severe_absence#YG#9',
      values: { ':pk': 'LALIST#2025#severe_absence#YG#9' },
      count: 'LALIST#2025#severe_absence#YG#9',
    });
    // A school's partition is by UPN, and a filter left over is counted by reading it (bounded by its roll).
    const both = laListQuery(2025, 'severe_absence', { urn: '100001', cohort: 'fsm', vs: true });
    expect(both.pk).toBe('LALIST#2025#severe_absence#URN#100001');
    expect(both.filter).toBe('contains(everCohorts, :cohort) AND vs = :vs');
    expect(both.byUpn).toBe(true);
    expect(both.count).toBeUndefined();
    // A rarer cohort has its partition; the Virtual School's is narrower than a year group's.
    expect(laListQuery(2025, 'severe_absence', { cohort: 'cla', yearGroup: '9' })).toMatchObject({
      pk: 'LALIST#2025#severe_absence#COHORT#cla',
      filter: 'yearGroup = :yg',
    });
    expect(laListQuery(2025, 'severe_absence', { vs: true, yearGroup: '9' }).pk).toBe(
      'LALIST#2025#severe_absence#VS#all',
    );
  });

  it('answers a commoner cohort from the LA (or year group) partition, with a count kept for it', () => {
    expect(laListQuery(2025, 'persistent_absence', { cohort: 'fsm' })).toEqual({
      pk: 'LALIST#2025#persistent_absence',
      filter: 'contains(everCohorts, :cohort)',
      values: { ':pk': 'LALIST#2025#persistent_absence', ':cohort': 'fsm' },
      count: 'LALIST#2025#persistent_absence#COHORT#fsm',
    });
    expect(laListQuery(2025, 'persistent_absence', { cohort: 'sen_support', yearGroup: '9' })).toMatchObject({
      pk: 'LALIST#2025#persistent_absence#YG#9',
      filter: 'contains(everCohorts, :cohort)',
      count: 'LALIST#2025#persistent_absence#COHORT#sen_support#YG#9',
    });
    // With the Virtual School's children: its partition, counted by reading it.
    const vs = laListQuery(2025, 'persistent_absence', { cohort: 'fsm', vs: true });
    expect(vs.pk).toBe('LALIST#2025#persistent_absence#VS#all');
    expect(vs.count).toBeUndefined();
  });

  it('counts each partition, and each commoner cohort with the year group, of the same list', () => {
    const parts = laListPartitions(
      2025,
      row({
        everCohorts: ['fsm', 'sen_none', 'cin'],
        flags: [{ type: 'persistent_absence', since: '2025-09-10' }],
      }),
    );
    const keys = laListCountKeys(parts);
    expect(keys.slice(0, parts.length)).toEqual(parts);
    expect(keys.slice(parts.length).sort()).toEqual(
      [
        // cin is in the Virtual School's scope: the vs list too.
        'LALIST#2025#persistent_absence#COHORT#fsm#YG#7',
        'LALIST#2025#persistent_absence#COHORT#sen_none#YG#7',
        'LALIST#2025#vs#COHORT#fsm#YG#7',
        'LALIST#2025#vs#COHORT#sen_none#YG#7',
      ].sort(),
    );
    expect(laListCountKeys([])).toEqual([]);
  });
});
