/**
 * `npm run evaluate`: how the ground truth is scored, and (issue 5) the National Framework flags
 * against a generated LA's ground truth, with no behaviour raising a flag it must not.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  evaluate,
  meetsTargets,
  scoreFlag,
  withHolidayClaim,
  type Evaluation,
  type GroundTruth,
  type LoadedLa,
  type Raised,
  type ScoredFlag,
} from '../../../bin/commands/evaluate.js';
import { ADJ, MID_TERM, marksFor, on, schoolOf, termDays } from '../domain/patterns/fixtures.js';
import { generateLa, type Behaviour } from '../../../local/synthetic/index.js';

function behaviour(b: Partial<Behaviour> & Pick<Behaviour, 'id' | 'kind'>): Behaviour {
  return { class: 'planted', unit: 'pupil', expectFlags: [], mayFlag: [], mustNotFlag: [], detail: '', ...b };
}

function raised(
  pupils: Partial<Record<ScoredFlag, string[]>>,
  families: string[][] = [],
  schools: string[] = [],
): Raised {
  return {
    pupils: new Map(Object.entries(pupils).map(([f, upns]) => [f as ScoredFlag, new Set(upns)])),
    families: families.map((children) => ({ household: 'uprn:x', children: new Set(children) })),
    schools: new Set(schools),
  };
}

const TRUTH: GroundTruth = {
  from: '2025-09-01',
  to: '2026-07-21',
  behaviours: [
    behaviour({ id: 'B1', kind: 'holiday_adjacent_illness', upn: 'P1', expectFlags: ['holiday_adjacent_absence'] }),
    behaviour({ id: 'B2', kind: 'holiday_adjacent_illness', upn: 'P2', expectFlags: ['holiday_adjacent_absence'] }),
    behaviour({
      id: 'B3',
      kind: 'family_holiday_adjacent',
      unit: 'family',
      members: [
        { upn: 'F1', urn: 'A', marks: [] },
        { upn: 'F2', urn: 'B', marks: [] },
      ],
      expectFlags: ['family_pattern'],
      mayFlag: ['holiday_adjacent_absence'],
    }),
    behaviour({
      id: 'B4',
      kind: 'religious_observance_adjacent',
      class: 'control',
      upn: 'C1',
      mustNotFlag: ['holiday_adjacent_absence', 'family_pattern'],
    }),
    behaviour({
      id: 'B5',
      kind: 'near_threshold_holiday',
      upn: 'N1',
      expectFlags: ['near_threshold_unauthorised'],
      mustNotFlag: ['penalty_notice_threshold'],
    }),
    behaviour({
      id: 'B6',
      kind: 'school_codes_holiday_as_illness',
      unit: 'school',
      urn: '100009',
      expectFlags: ['school_coding'],
    }),
    behaviour({ id: 'B7', kind: 'long_illness', upn: 'L1', expectFlags: ['illness_15_days'] }),
  ],
  background: [
    { kind: 'illness_15_days', upn: 'L2', urn: 'A', from: '2026-01-01', to: '2026-01-01', code: 'I', sessions: 30 },
  ],
};

describe('scoring a flag against the ground truth', () => {
  it('counts expected behaviours found (TP) and missed (FN), and flags nobody expects or allows (FP); allowed ones are neither', () => {
    const s = scoreFlag(TRUTH, raised({ holiday_adjacent_absence: ['P1', 'F1', 'X9'] }), 'holiday_adjacent_absence');
    expect(s).toMatchObject({
      tp: 1,
      fn: 1,
      fp: 1,
      allowed: 1,
      controlsFlagged: 0,
      breaches: 0,
      precision: 0.5,
      recall: 0.5,
    });
    expect(meetsTargets(s)).toBe(false);
  });

  it('counts a control flagged, and a planted behaviour raising a flag it must not, as failures whatever the rates', () => {
    const control = scoreFlag(
      TRUTH,
      raised({ holiday_adjacent_absence: ['P1', 'P2', 'C1'] }),
      'holiday_adjacent_absence',
    );
    expect(control).toMatchObject({ tp: 2, fp: 1, controlsFlagged: 1 });
    expect(meetsTargets(control)).toBe(false);
    const breach = scoreFlag(TRUTH, raised({ penalty_notice_threshold: ['N1'] }), 'penalty_notice_threshold');
    expect(breach).toMatchObject({ breaches: 1 });
    expect(meetsTargets(breach)).toBe(false);
  });

  it('finds a family when a finding names at least two of its members, and a school by its URN', () => {
    expect(scoreFlag(TRUTH, raised({}, [['F1', 'F2']]), 'family_pattern')).toMatchObject({
      tp: 1,
      fp: 0,
      precision: 1,
      recall: 1,
    });
    expect(scoreFlag(TRUTH, raised({}, [['F1', 'Z1']]), 'family_pattern')).toMatchObject({ tp: 0, fn: 1, fp: 1 });
    expect(scoreFlag(TRUTH, raised({}, [], ['100009', '100010']), 'school_coding')).toMatchObject({ tp: 1, fp: 1 });
  });

  it("counts the background's incidental 15-day illnesses as positives of that rule", () => {
    expect(scoreFlag(TRUTH, raised({ illness_15_days: ['L1', 'L2'] }), 'illness_15_days')).toMatchObject({
      tp: 2,
      fn: 0,
      fp: 0,
    });
    expect(scoreFlag(TRUTH, raised({ illness_15_days: ['L1'] }), 'illness_15_days')).toMatchObject({ tp: 1, fn: 1 });
  });

  it('counts an unlisted flag the definition confirms as incidental, and one it does not as a false positive', () => {
    const s = scoreFlag(
      TRUTH,
      raised({ penalty_notice_threshold: ['Q1', 'Q2'] }),
      'penalty_notice_threshold',
      (upn) => upn === 'Q1',
    );
    expect(s).toMatchObject({ incidental: 1, fp: 1 });
  });
});

describe("the holiday-adjacent claim on the generator's LA (issue 21, third pass)", () => {
  const five = [ADJ.octBefore[1], ADJ.xmasAfter[0], ADJ.febBefore[1], ADJ.easterAfter[0], ADJ.mayBefore[1]];
  const spanning = [...ADJ.octBefore, ...ADJ.octAfter, ADJ.xmasAfter[0], ADJ.febBefore[1], ADJ.easterAfter[0]];
  const planted = (dates: readonly string[]) => dates.map((date) => ({ date, am: 'I', pm: 'I' }));
  const days = termDays();
  const school = schoolOf('100001', [
    { upn: 'P1', marks: marksFor(days, on(five, 'I')) },
    { upn: 'P2', marks: marksFor(days, on([...five.slice(0, 4), MID_TERM[0]], 'I')) },
    { upn: 'P3', marks: marksFor(days, on(spanning, 'I')) },
  ]);
  const la: LoadedLa = {
    from: '2025-09-01',
    to: '2026-07-21',
    academicYear: 2025,
    registers: [...school.registers],
    schools: [school],
    rows: 0,
    rowErrors: 0,
    received: [],
  };
  const plant = (id: string, upn: string, dates: readonly string[]) =>
    behaviour({
      id,
      kind: 'holiday_adjacent_illness',
      upn,
      urn: '100001',
      marks: planted(dates),
      expectFlags: ['holiday_adjacent_absence'],
    });

  it('keeps a plant that meets the claim as a positive and makes one below it "may"', () => {
    const truth = withHolidayClaim(
      {
        from: la.from,
        to: la.to,
        background: [],
        behaviours: [plant('H1', 'P1', five), plant('H2', 'P2', five.slice(0, 4)), plant('H3', 'P3', spanning)],
      },
      la,
    );
    const [h1, h2, h3] = truth.behaviours;
    // Five sides of five breaks, nothing else: claimed.
    expect(h1).toMatchObject({ expectFlags: ['holiday_adjacent_absence'], mayFlag: [] });
    // Four sides and an ordinary sick day: below the claim, may be flagged.
    expect(h2).toMatchObject({ expectFlags: [], mayFlag: ['holiday_adjacent_absence'] });
    // Both sides of October count two sides in the claim: five sides of four breaks, claimed.
    expect(h3).toMatchObject({ expectFlags: ['holiday_adjacent_absence'], mayFlag: [] });
  });
});

describe('the National Framework flags on a generated LA (issue 5)', () => {
  let dir: string;
  let result: Evaluation;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'attendance-hub-evaluate-test-'));
    await generateLa({
      schools: 8,
      pupils: 2000,
      from: '2025-09-01',
      to: '2025-12-19',
      seed: 'flags',
      out: dir,
      characteristics: 'on-change',
    });
    result = await evaluate({ dir });
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('raises penalty_notice_threshold, ten_day_unauthorised, twenty_day_unauthorised and illness_15_days for every planted case and incidental illness, and nowhere the definition does not confirm', () => {
    for (const flag of [
      'penalty_notice_threshold',
      'ten_day_unauthorised',
      'twenty_day_unauthorised',
      'illness_15_days',
    ]) {
      const s = result.scores.find((x) => x.flag === flag);
      expect(s && { flag, fn: s.fn, fp: s.fp, breaches: s.breaches, controls: s.controlsFlagged }).toEqual({
        flag,
        fn: 0,
        fp: 0,
        breaches: 0,
        controls: 0,
      });
      expect(s?.tp).toBeGreaterThan(0);
    }
  });

  it('flags no control and raises no flag a behaviour must not, for any detector', () => {
    expect(result.scores.filter((s) => s.controlsFlagged > 0 || s.breaches > 0).map((s) => s.flag)).toEqual([]);
  });
});
