import { describe, expect, it } from 'vitest';
import { weekdayIndex } from '../../../../shared/domain/dates.js';
import { DEFAULT_LA_SETTINGS } from '../../../../shared/config.js';
import {
  detectPatterns,
  householdKey,
  patternSettings,
  type FamilyFinding,
  type PatternSettings,
} from '../../../../shared/domain/patterns/index.js';
import { ADJ, MID_TERM, PERIOD, marksFor, on, schoolOf, termDays, type Codes, type HandPupil } from './fixtures.js';

const DAYS = termDays();
/** One adjacent day at each of three breaks. */
const THREE = [ADJ.octBefore[1], ADJ.febAfter[0], ADJ.mayBefore[1]];

function child(upn: string, codes: Codes, uprn?: string): HandPupil {
  return { upn, marks: marksFor(DAYS, codes), uprn };
}

function familyFindings(
  schools: Record<string, HandPupil[]>,
  familyIds?: Map<string, string>,
  settings?: PatternSettings,
): FamilyFinding[] {
  const result = detectPatterns({
    schools: Object.entries(schools).map(([urn, pupils]) => schoolOf(urn, pupils)),
    period: PERIOD,
    familyIds,
    settings,
  });
  return result.findings.filter((f): f is FamilyFinding => f.type === 'family_pattern');
}

describe('family pattern', () => {
  it('flags two children of one household at different schools absent together next to three breaks, naming both', () => {
    const [f] = familyFindings({
      '100001': [child('A1', on(THREE, 'I'), 'U1')],
      '100002': [child('B1', on(THREE, 'I'), 'U1')],
    });
    expect(f).toBeDefined();
    expect(f.household).toBe('uprn:U1');
    expect(f.children.map((c) => [c.upn, c.urn])).toEqual([
      ['A1', '100001'],
      ['B1', '100002'],
    ]);
    expect(f.sharedDates).toEqual([...THREE]);
    expect(f.urns).toEqual(['100001', '100002']);
    expect(f.observed).toBe(3);
    expect(f.children[0].sessions).toHaveLength(6);
    expect(f.children[0].sessions[0]).toEqual({ date: THREE[0], session: 'AM', code: 'I', urn: '100001' });
    // 3 shared of 3 days each among 28 adjacent days: about 0.3 expected by chance.
    expect(f.expected).toBeCloseTo((3 * 3) / 28, 5);
    expect(f.statistic).toMatchObject({ threshold: 1.5, flaggedWhen: 'at_least' });
    expect(f.statistic.value).toBeCloseTo(3 / ((3 * 3) / 28), 5);
    expect(f.children.every((c) => c.pValue <= 0.2)).toBe(true);
    expect(f.breaks.map((b) => b.label)).toEqual(['October half term', 'February half term', 'May half term']);
    expect(f.explanation).toMatch(
      /^2 children in this household, at 2 different schools, were absent together on 3 school days next to 3 different holidays \(October half term, February half term and May half term\) between 24 October 2025 and 22 May 2026, when about 0\.3 such shared days would be expected if their absences next to holidays were unrelated \(the chance of so many is 1 in 3,300\)\.$/,
    );
  });

  it('names every child of the household in the pattern (three children at three schools)', () => {
    const [f] = familyFindings({
      '100001': [child('A1', on(THREE, 'I'), 'U1')],
      '100002': [child('B1', on(THREE, 'G'), 'U1')],
      '100003': [child('C1', on(THREE, 'I'), 'U1')],
    });
    expect(f.children.map((c) => c.upn)).toEqual(['A1', 'B1', 'C1']);
  });

  it('does not flag children at the same school (the school sees that itself)', () => {
    expect(
      familyFindings({ '100001': [child('A1', on(THREE, 'I'), 'U1'), child('B1', on(THREE, 'I'), 'U1')] }),
    ).toEqual([]);
  });

  it('never flags one shared illness spanning a half term (one break)', () => {
    const spanning = on([...ADJ.octBefore, ...ADJ.octAfter], 'I');
    expect(
      familyFindings({ '100001': [child('A1', spanning, 'U1')], '100002': [child('B1', spanning, 'U1')] }),
    ).toEqual([]);
  });

  it('needs 3 shared days: 2 are not enough', () => {
    const two = on(THREE.slice(0, 2), 'I');
    const schools = { '100001': [child('A1', two, 'U1')], '100002': [child('B1', two, 'U1')] };
    expect(familyFindings(schools)).toEqual([]);
    // (2 days both absent, both next to breaks when a seventh of days are: a chance of 1 in 50, so that test is loosened too.)
    expect(
      familyFindings(
        schools,
        undefined,
        patternSettings(DEFAULT_LA_SETTINGS, { family: { minSharedDays: 2, sharedDaysAlpha: 0.05 } }),
      ),
    ).toHaveLength(1);
  });

  // Each child off on 12 of the 28 adjacent days, 7 of them shared: chance gives 12 × 12 / 28 ≈ 5.1 (ratio 1.4).
  const adjacent = Object.values(ADJ).flat();
  const offMost = adjacent.filter((_, i) => i % 7 < 3).slice(0, 12);
  const offMostToo = [...offMost.slice(0, 7), ...adjacent.filter((d) => !offMost.includes(d)).slice(0, 5)];
  const offMostSchools = {
    '100001': [child('A1', on(offMost, 'I'), 'U1')],
    '100002': [child('B1', on(offMostToo, 'I'), 'U1')],
  };

  it('on the shared days alone, needs more than chance explains (exact, and 1.5 times the expected): two children off on most days next to holidays share many by chance', () => {
    // The second way in (each child's own test) closed, to pin the coincidence test.
    const shared = (family: Partial<PatternSettings['family']>) =>
      familyFindings(
        offMostSchools,
        undefined,
        patternSettings(DEFAULT_LA_SETTINGS, { family: { childAlpha: 1, jointChildAlpha: 0, ...family } }),
      );
    expect(shared({})).toEqual([]);
    expect(shared({ minRatio: 1 })).toEqual([]);
    const [f] = shared({ minRatio: 1, alpha: 1 });
    expect(f.statistic).toMatchObject({ threshold: 1, flaggedWhen: 'at_least' });
  });

  it("flags children off on most days next to holidays when their own tests multiply to at most 10⁻⁴, and says the evidence is each child's own (issue 21, sixth pass)", () => {
    const [f] = familyFindings(offMostSchools);
    expect(f).toBeDefined();
    expect(f.observed).toBe(7);
    expect(f.expected).toBeCloseTo((12 * 12) / 28, 5);
    const product = f.children[0].pValue * f.children[1].pValue;
    expect(product).toBeLessThanOrEqual(1e-4);
    expect(f.statistic).toMatchObject({ value: product, threshold: 1e-4, flaggedWhen: 'at_most' });
    expect(f.explanation).toMatch(
      /^2 children in this household, at 2 different schools, were absent together on 7 school days next to \d+ different holidays \(.*\) between .*\. Each child's own absence sits next to holidays more than chance explains \(chances of .* and .*; both by chance, .*\); they were off on so many of the days next to these holidays that about 5\.1 shared days would be expected anyway, so it is the children's own patterns, kept together, that are the evidence\.$/,
    );
    // The boundary: the product just over the level is not enough, the product at it is.
    const at = (jointChildAlpha: number) =>
      familyFindings(offMostSchools, undefined, patternSettings(DEFAULT_LA_SETTINGS, { family: { jointChildAlpha } }));
    expect(at(product * 0.999)).toEqual([]);
    expect(at(product)).toHaveLength(1);
  });

  it('the second way in still needs 3 shared days at 2 breaks and no shared illness elsewhere outweighing them', () => {
    // Strong children (every absence beside a break) sharing 2 days, or sharing days at one break only.
    const a = [...ADJ.octBefore, ...ADJ.octAfter, ...ADJ.febAfter, ...ADJ.mayBefore, ...ADJ.easterAfter];
    const twoShared = [ADJ.octBefore[0], ADJ.febAfter[0], ...ADJ.xmasBefore, ...ADJ.summerBefore, ...ADJ.mayAfter];
    const oneBreak = [...ADJ.octBefore, ...ADJ.octAfter, ...ADJ.xmasBefore, ...ADJ.summerBefore, ...ADJ.mayAfter];
    for (const b of [twoShared, oneBreak])
      expect(
        familyFindings({ '100001': [child('A1', on(a, 'I'), 'U1')], '100002': [child('B1', on(b, 'I'), 'U1')] }),
      ).toEqual([]);
    // Siblings off together beside two breaks, ill together on four ordinary days: 2 − 4, however strong.
    const ill = on([...ADJ.octBefore, ...ADJ.mayBefore, ...MID_TERM.slice(0, 4)], 'I');
    expect(
      familyFindings(
        { '100001': [child('A1', ill, 'U1')], '100002': [child('B1', ill, 'U1')] },
        undefined,
        patternSettings(DEFAULT_LA_SETTINGS, { family: { jointChildAlpha: 1 } }),
      ),
    ).toEqual([]);
  });

  // Issue 21, eighth pass: the day test's shared days "elsewhere" are those of the shared absences
  // elsewhere. fresh-28's two misses at 31 January and varied-2's at 30 April: three shared days at two
  // breaks, one of them a three-day extension whose third day lies beyond the K = 2 adjacent days.
  const THIRD_DAY_AFTER_OCTOBER = '2025-11-05';
  const extension = [...ADJ.octAfter, THIRD_DAY_AFTER_OCTOBER, ADJ.xmasAfter[0]];

  it('counts the days beyond K of a shared extension beside a break as part of it, not as shared illness elsewhere, up to K of them (issue 21, eighth pass)', () => {
    const schools = (days: readonly string[]) => ({
      '100001': [child('A1', on(days, 'I'), 'U1')],
      '100002': [child('B1', on(days, 'I'), 'U1')],
    });
    const [f] = familyFindings(schools(extension));
    expect(f).toBeDefined();
    // The three adjacent days are the evidence; the third day after October is neither for nor against.
    expect(f.sharedDates).toEqual([...ADJ.octAfter, ADJ.xmasAfter[0]]);
    expect(f.breaks.map((b) => b.label)).toEqual(['October half term', 'Christmas holiday']);
    // The day test is now 3 of 3 days beside breaks (a seventh cubed, about 0.003); counted elsewhere,
    // as until this pass, it was 3 of 4 (about 0.011 > 0.01).
    const at = (days: readonly string[], sharedDaysAlpha: number) =>
      familyFindings(schools(days), undefined, patternSettings(DEFAULT_LA_SETTINGS, { family: { sharedDaysAlpha } }));
    expect(at(extension, 0.004)).toHaveLength(1);
    expect(at(extension, 0.003)).toEqual([]);
    // Up to K = 2 days beyond the adjacent ones: a four-day extension after October is the same finding;
    // a five-day absence (3 days beyond) keeps its days elsewhere — 3 of 6 days beside breaks, about
    // 0.04: no finding (a week's illness touching a break is no evidence of a holiday). Each child's
    // own filter is opened here (a five-day absence and one day is p > 0.1 by itself), to pin the day test.
    const fourDays = [...ADJ.octAfter, '2025-11-05', '2025-11-06', ADJ.xmasAfter[0]];
    const fiveDays = [...ADJ.octAfter, '2025-11-05', '2025-11-06', '2025-11-07', ADJ.xmasAfter[0]];
    const open = (days: readonly string[], family: Partial<PatternSettings['family']> = {}) =>
      familyFindings(
        schools(days),
        undefined,
        patternSettings(DEFAULT_LA_SETTINGS, { family: { childAlpha: 1, ...family } }),
      );
    expect(familyFindings(schools(fourDays))).toHaveLength(1);
    expect(open(fourDays)).toHaveLength(1);
    expect(open(fiveDays)).toEqual([]);
    expect(open(fiveDays, { sharedDaysAlpha: 0.05 })).toHaveLength(1);
  });

  it('still counts a separate shared sick day elsewhere against the shared days beside breaks (issue 21, eighth pass)', () => {
    // One shared day beside each of three breaks and one shared sick day mid-term: 3 − 1 = 2 net breaks,
    // and 3 of the 4 shared days beside breaks (about 0.011 > 0.01): not a finding. The same four days
    // with the fourth the tail of an extension (above) is one.
    const sick = on([...THREE, MID_TERM[4]], 'I');
    const schools = { '100001': [child('A1', sick, 'U1')], '100002': [child('B1', sick, 'U1')] };
    expect(familyFindings(schools)).toEqual([]);
    expect(
      familyFindings(schools, undefined, patternSettings(DEFAULT_LA_SETTINGS, { family: { sharedDaysAlpha: 0.012 } })),
    ).toHaveLength(1);
  });

  it('never flags one shared illness spanning a half term, however long its days beyond K, with one shared day beside another break', () => {
    // Two weeks off together across October half term (20 Oct – 7 Nov school days) and the day after
    // Christmas: two breaks, nothing shared elsewhere. Each side of the illness runs 3 days beyond the
    // K = 2 adjacent days, more than K, so those 6 days count elsewhere: 5 of 11 shared days beside
    // breaks, about 0.015 > 0.01 (dropping them too would make it 5 of 5 and a finding).
    const illness = on(
      [
        '2025-10-20',
        '2025-10-21',
        '2025-10-22',
        ...ADJ.octBefore,
        ...ADJ.octAfter,
        '2025-11-05',
        '2025-11-06',
        '2025-11-07',
        ADJ.xmasAfter[0],
      ],
      'I',
    );
    expect(familyFindings({ '100001': [child('A1', illness, 'U1')], '100002': [child('B1', illness, 'U1')] })).toEqual(
      [],
    );
  });

  it('does not link children of different households', () => {
    expect(
      familyFindings({ '100001': [child('A1', on(THREE, 'I'), 'U1')], '100002': [child('B1', on(THREE, 'I'), 'U2')] }),
    ).toEqual([]);
  });

  it("links children by the LA's family id before the UPRN", () => {
    const [f] = familyFindings(
      { '100001': [child('A1', on(THREE, 'I'), 'U1')], '100002': [child('B1', on(THREE, 'I'))] },
      new Map([
        ['A1', 'F7'],
        ['B1', 'F7'],
      ]),
    );
    expect(f?.household).toBe('family:F7');
    expect(householdKey(undefined, 'U9')).toBe('uprn:U9');
    expect(householdKey('  ', undefined)).toBeUndefined();
  });

  it("does not flag when one child's own absence is not concentrated next to holidays (absent together all year)", () => {
    const mostDays = on(
      DAYS.filter((d) => weekdayIndex(d) <= 2),
      'N',
    );
    expect(
      familyFindings({
        '100001': [child('A1', { ...mostDays, ...on(THREE, 'I') }, 'U1')],
        '100002': [child('B1', on(THREE, 'I'), 'U1')],
      }),
    ).toEqual([]);
  });

  it('never counts religious observance (R) on the shared dates', () => {
    expect(
      familyFindings({ '100001': [child('A1', on(THREE, 'R'), 'U1')], '100002': [child('B1', on(THREE, 'R'), 'U1')] }),
    ).toEqual([]);
  });
  it('never flags siblings ill together through the year: shared illness away from breaks cancels the breaks', () => {
    // Two shared illnesses that happened to span the October and May half terms, and four shared
    // sick days elsewhere (issue 21's fifth pass: fresh-12's control). Every test on days passes it;
    // on the absences it is 2 breaks less 4 absences elsewhere.
    const together = on(
      [...ADJ.octBefore, ...ADJ.octAfter, ...ADJ.mayBefore, ...ADJ.mayAfter, ...MID_TERM.slice(0, 4)],
      'I',
    );
    const schools = { '100001': [child('A1', together, 'U1')], '100002': [child('B1', together, 'U1')] };
    expect(familyFindings(schools)).toEqual([]);
    expect(
      familyFindings(schools, undefined, patternSettings(DEFAULT_LA_SETTINGS, { family: { minNetSharedBreaks: -4 } })),
    ).toHaveLength(1);
    // A family off together beside four breaks and sharing one sick day elsewhere: 4 − 1 = 3, still flagged.
    const family = on([...THREE, ADJ.easterAfter[0], MID_TERM[0]], 'I');
    expect(
      familyFindings({ '100001': [child('A1', family, 'U1')], '100002': [child('B1', family, 'U1')] }),
    ).toHaveLength(1);
  });
});
