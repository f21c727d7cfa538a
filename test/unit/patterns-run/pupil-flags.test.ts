import { describe, expect, it } from 'vitest';
import { ownEvidenceOnly, pupilFlagsOf } from '../../../shared/domain/patterns/pupil-flags.js';
import { detectPatterns } from '../../../shared/domain/patterns/index.js';
import { ADJ, PERIOD, marksFor, on, schoolOf, termDays } from '../domain/patterns/fixtures.js';

const DAYS = termDays();
const FIVE = [ADJ.octBefore[1], ADJ.xmasAfter[0], ADJ.febBefore[1], ADJ.easterAfter[0], ADJ.mayBefore[1]];
const SHARED = [...ADJ.octBefore, ...ADJ.xmasAfter, ...ADJ.febBefore];
const NEAR = ['2025-10-20', '2025-10-21', '2025-10-22', '2025-10-23'];

function findings() {
  const schools = [
    schoolOf('100001', [
      { upn: 'HA', marks: marksFor(DAYS, on(FIVE, 'I')) },
      { upn: 'NT', marks: marksFor(DAYS, on(NEAR, 'G')) },
      { upn: 'F1', marks: marksFor(DAYS, on(SHARED, 'I')), uprn: 'U1' },
    ]),
    schoolOf('100002', [{ upn: 'F2', marks: marksFor(DAYS, on(SHARED, 'I')), uprn: 'U1' }]),
    ...['100003', '100004', '100005'].map((urn) => schoolOf(urn, [{ upn: `${urn}-1`, marks: marksFor(DAYS) }])),
  ];
  return detectPatterns({ schools, period: PERIOD }).findings;
}

describe('pattern findings as flags on the pupil view', () => {
  const all = findings();
  const flags = pupilFlagsOf(all);

  it('gives each pupil finding one flag, dated from the first session in its evidence, with the evidence as detail', () => {
    expect(all.map((f) => f.type).sort()).toEqual([
      'family_pattern',
      'holiday_adjacent_absence',
      'near_threshold_unauthorised',
    ]);
    expect(flags.get('HA')).toEqual([expect.objectContaining({ type: 'holiday_adjacent_absence', since: FIVE[0] })]);
    expect(flags.get('HA')?.[0].detail).toMatchObject({
      urn: '100001',
      observed: 10,
      breaks: expect.any(Array),
      explanation: expect.any(String),
    });
    expect(flags.get('HA')?.[0].detail).not.toHaveProperty('upn');
    expect(flags.get('NT')).toEqual([expect.objectContaining({ type: 'near_threshold_unauthorised', since: NEAR[0] })]);
  });

  it('flags every child of a family finding, each with only that a household pattern exists and its own evidence', () => {
    const f1 = flags.get('F1')?.find((f) => f.type === 'family_pattern');
    const f2 = flags.get('F2')?.find((f) => f.type === 'family_pattern');
    expect(f1).toMatchObject({ since: SHARED[0], detail: { householdPattern: true, child: { urn: '100001' } } });
    expect(f2).toMatchObject({ detail: { child: { urn: '100002' } } });
    // A school reading its own pupil never sees the sibling at the other school.
    expect(JSON.stringify(f1)).not.toContain('F2');
    expect(JSON.stringify(f2)).not.toContain('F1');
    expect((f1?.detail.child as { sessions: unknown[] }).sessions).toHaveLength(12);
  });

  it("never carries the household key, the sibling's school, the shared dates or the number of children (issue 15)", () => {
    for (const [own, other] of [
      ['F1', '100002'],
      ['F2', '100001'],
    ] as const) {
      const flag = flags.get(own)?.find((f) => f.type === 'family_pattern');
      expect(flag?.detail).not.toHaveProperty('household');
      expect(flag?.detail).not.toHaveProperty('urns');
      expect(flag?.detail).not.toHaveProperty('sharedDates');
      expect(flag?.detail).not.toHaveProperty('children');
      expect(flag?.detail).not.toHaveProperty('breaks');
      expect(JSON.stringify(flag)).not.toContain('U1');
      expect(JSON.stringify(flag)).not.toContain(other);
    }
  });

  it("narrows a family flag stored by an earlier run to the child's own evidence when it is read", () => {
    const stored = {
      type: 'family_pattern' as const,
      since: '2025-10-23',
      detail: {
        household: 'uprn:U1',
        urns: ['100001', '100002'],
        sharedDates: ['2025-10-23'],
        children: 2,
        child: {
          urn: '100001',
          observed: 2,
          expected: 0.1,
          pValue: 0.01,
          sessions: [{ date: '2025-10-23', session: 'AM', code: 'I' }],
        },
      },
    };
    const read = ownEvidenceOnly(stored);
    expect(read.detail).toMatchObject({
      householdPattern: true,
      from: '2025-10-23',
      to: '2025-10-23',
      child: { urn: '100001', observed: 2 },
    });
    expect(JSON.stringify(read)).not.toMatch(/U1|100002|sharedDates|household"/);
    const current = flags.get('F1')!.find((f) => f.type === 'family_pattern')!;
    expect(ownEvidenceOnly(current)).toBe(current);
  });

  it('flags no pupil for a school coding finding, and nobody the run did not find', () => {
    expect([...flags.keys()].sort()).toEqual(['F1', 'F2', 'HA', 'NT']);
    expect(pupilFlagsOf([])).toEqual(new Map());
  });
});
