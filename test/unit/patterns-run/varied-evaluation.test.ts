import { describe, expect, it } from 'vitest';
import { dayNumber } from '../../../shared/domain/dates.js';
import type { PatternsResult } from '../../../shared/domain/patterns/index.js';
import {
  claimsFamily,
  claimsHoliday,
  claimsNearThreshold,
  FAMILY_CLAIM_LEVEL,
  claimsSchoolCoding,
  detectAsOf,
  evidencePieces,
  meetsVariedTargets,
  pupilControls,
  plantedEvidenceChance,
  pupilTruth,
  scoreVariedAsOf,
} from '../../../local/evaluation/varied-evaluation.js';
import {
  generateVariedLa,
  registerAsOf,
  variedCalendar,
  type PlantedMark,
} from '../../../local/evaluation/varied-la.js';
import { schoolYearAdjacency } from '../../../shared/domain/calendar.js';

const LA = generateVariedLa({ seed: 'unit', schools: 6, pupils: 1500 });

describe('the varied LA (issue 21)', () => {
  it('is the same for the same seed and different for another', () => {
    const again = generateVariedLa({ seed: 'unit', schools: 6, pupils: 1500 });
    expect(again.behaviours.map((b) => b.detail)).toEqual(LA.behaviours.map((b) => b.detail));
    expect(generateVariedLa({ seed: 'other', schools: 6, pupils: 1500 }).behaviours.map((b) => b.detail)).not.toEqual(
      LA.behaviours.map((b) => b.detail),
    );
  });

  it('varies school sizes from 30 to 2,000 and plants every kind of behaviour and control', () => {
    const sizes = LA.schools.map((s) => s.size);
    expect(Math.min(...sizes)).toBe(30);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(2000);
    const kinds = new Set(LA.behaviours.map((b) => b.kind));
    for (const k of [
      'holiday_pupil',
      'family',
      'coding_extension',
      'control_r',
      'control_e',
      'control_c2',
      'control_spanning_illness',
      'control_same_school_siblings',
      'control_siblings_ill_together',
    ]) {
      expect(kinds.has(k as never)).toBe(true);
    }
    for (const b of LA.behaviours.filter((x) => x.kind === 'family'))
      expect(new Set(b.upns.map((u) => LA.pupils.get(u)?.urn)).size).toBeGreaterThanOrEqual(2);
    for (const s of LA.schools.filter((x) => x.codingShare > 0)) {
      expect(s.codingShare).toBeGreaterThanOrEqual(0.05);
      expect(s.codingShare).toBeLessThanOrEqual(0.3);
    }
  });

  it("claims a family only when two children's planted evidence multiplies to at most 10⁻⁴ (issue 21, sixth pass, family)", () => {
    const truth = pupilTruth(LA, '2026-07-21', '2025-07-22');
    const b = LA.behaviours.find((x) => x.kind === 'family' && claimsFamily(LA, x, truth));
    if (!b) throw new Error('the unit LA has a claimed family by July');
    // Every child's evidence set to 0.01: 10⁻⁴ together, at the level; a little weaker is not claimed.
    const withChance = (chance: number) =>
      new Map([...truth].map(([u, t]) => [u, b.upns.includes(u) ? { ...t, chance } : t]));
    expect(FAMILY_CLAIM_LEVEL).toBe(1e-4);
    expect(claimsFamily(LA, b, withChance(0.01))).toBe(true);
    expect(claimsFamily(LA, b, withChance(0.0101))).toBe(false);
  });

  it('claims a coding school only from 100 pupils, 2 breaks, 60 sessions and 4 % of its adjacent sessions', () => {
    const b = LA.behaviours.find((x) => x.kind === 'coding_extension');
    const school = LA.schools.find((s) => s.urn === b?.urn);
    if (!b || !school) throw new Error('the unit LA has a coding school');
    const july = dayNumber('2026-07-21');
    const got = claimsSchoolCoding(school, b, july);
    expect(got.breaks).toBeGreaterThanOrEqual(2);
    expect(got.claimed).toBe(school.size >= 100 && got.sessions >= 60 && got.share >= 0.04);
    // The same planting at a school of 99 pupils is not claimed; nothing is claimed before any extension.
    expect(claimsSchoolCoding({ ...school, size: 99 }, b, july).claimed).toBe(false);
    expect(claimsSchoolCoding(school, b, dayNumber('2025-09-01')).claimed).toBe(false);
  });

  it('holds a register as of a date: no sessions after it, the pupil listed up to it at most', () => {
    const r = registerAsOf(LA.registers[0], '2026-01-31');
    const cut = (dayNumber('2026-01-31') - dayNumber('2025-08-01') + 1) * 2;
    for (const p of r.pupils.values()) {
      expect(/^\.*$/.test(p.marks.slice(cut))).toBe(true);
      expect(p.lastListed <= '2026-01-31').toBe(true);
    }
  });

  it("gives every school's calendar the summer before the register reaches it: the last two school days of July are beside it, an academy with its own term dates too", () => {
    // Issue 21, sixth pass, second part: an academy's own term dates replace the LA calendar (calendar.ts),
    // so they hold its summer; as of 21 July (the last school day) the summer is known only from them.
    const previous = new Map(LA.previousRegisters.map((r) => [r.urn, r]));
    expect(LA.schools.some((s) => s.ownDates)).toBe(true);
    for (const r of LA.registers) {
      const registers = [previous.get(r.urn), registerAsOf(r, '2026-07-21')].filter((x) => x !== undefined);
      const adj = schoolYearAdjacency(variedCalendar(r.urn, registers, LA.closures), 2025, 2);
      const slot = (d: string) => dayNumber(d) - dayNumber('2025-08-01');
      for (const d of ['2026-07-20', '2026-07-21']) {
        const b = adj.breaks[adj.breakOfDay[slot(d)]];
        expect(b?.start, `${r.urn} ${d}`).toBe('2026-07-22');
      }
    }
  });

  it('claims a pupil for the holiday-adjacent detector by the strength of the planted evidence: 2 breaks, chance at most 1e-4, at least 4 more pieces of evidence than other absences', () => {
    const base = {
      plantedAdjacent: 8,
      breaks: new Set(['october', 'christmas']),
      sides: 4,
      pieces: 4,
      counted: 10,
      adjacentDays: new Set<number>(),
      otherSpells: 0,
      chance: 1e-4,
    };
    expect(claimsHoliday(base)).toBe(true);
    expect(claimsHoliday({ ...base, breaks: new Set(['october']) })).toBe(false);
    expect(claimsHoliday({ ...base, chance: 1.1e-4 })).toBe(false); // weak evidence, however many pieces
    expect(claimsHoliday({ ...base, pieces: 9, chance: 3e-3 })).toBe(false);
    expect(claimsHoliday({ ...base, chance: undefined })).toBe(false);
    expect(claimsHoliday({ ...base, otherSpells: 1 })).toBe(false); // ordinary absence elsewhere counts against
    expect(claimsHoliday({ ...base, pieces: 5, otherSpells: 1 })).toBe(true);
    // A day either side of a break touches two sides but is one piece, as one spanning illness would be.
    expect(claimsHoliday({ ...base, sides: 5, pieces: 3 })).toBe(false);
  });

  it('counts a planted absence as two pieces of evidence only when it covers the K days on both sides of a break', () => {
    const side = new Int32Array(40).fill(-1);
    for (let i = 10; i < 14; i++) side[i] = 0; // K = 2 school days (4 sessions) before break 0
    for (let i = 14; i < 18; i++) side[i] = 1; // and after it
    const pieces = (start: number, length: number, planted = true) =>
      evidencePieces({ side, absences: [{ start, length, planted }] }, 2);
    expect(pieces(10, 8)).toBe(2); // both sides whole: a holiday taken both sides
    expect(pieces(8, 12)).toBe(2);
    expect(pieces(12, 4)).toBe(1); // a day either side: what one illness spanning the break looks like
    expect(pieces(10, 4)).toBe(1);
    expect(pieces(10, 8, false)).toBe(0); // not planted
  });

  it('counts a planted absence of one school day as 0.8 of a piece (seventh pass): five lone days beside breaks are 4, four are 3.2', () => {
    const side = new Int32Array(200).fill(-1);
    for (let b = 0; b < 5; b++) for (let i = 0; i < 4; i++) side[20 + 40 * b + i] = 2 * b; // 4 sessions before each of 5 breaks
    const lone = (n: number) =>
      evidencePieces(
        { side, absences: Array.from({ length: n }, (_, b) => ({ start: 22 + 40 * b, length: 2, planted: true })) },
        2,
      );
    expect(lone(4)).toBeCloseTo(3.2, 12);
    expect(lone(5)).toBe(4);
    const truth = {
      plantedAdjacent: 10,
      breaks: new Set(['a', 'b']),
      sides: 5,
      counted: 10,
      adjacentDays: new Set<number>(),
      otherSpells: 0,
      chance: 1e-5,
    };
    expect(claimsHoliday({ ...truth, pieces: lone(5) })).toBe(true);
    expect(claimsHoliday({ ...truth, pieces: lone(4) })).toBe(false);
    // Two school days are one piece, as before.
    expect(evidencePieces({ side, absences: [{ start: 20, length: 4, planted: true }] }, 2)).toBe(1);
  });

  it('measures the planted evidence exactly, apart from the detector: each absence placed at random, its length kept', () => {
    // 100 sessions; two breaks, each with 4 sessions before and 4 after (10–17 and 50–57).
    const side = new Int32Array(100).fill(-1);
    for (const [from, id] of [
      [10, 0],
      [14, 1],
      [50, 2],
      [54, 3],
    ])
      for (let i = from; i < from + 4; i++) side[i] = id;
    // One planted day (2 sessions) beside a break: 16 of the 99 starts put both sessions there, 2 more one of them.
    const day = { start: 12, length: 2, planted: true };
    expect(plantedEvidenceChance({ side, absences: [day] })).toBeCloseTo(14 / 99, 12);
    // A 4-day run filling both sides of a break (8 sessions): 2 of the 93 starts fill 8 adjacent sessions.
    expect(plantedEvidenceChance({ side, absences: [{ start: 10, length: 8, planted: true }] })).toBeCloseTo(
      2 / 93,
      12,
    );
    // Two such days: the product; an ordinary absence elsewhere dilutes (the chance grows), never strengthens.
    const two = plantedEvidenceChance({ side, absences: [day, { start: 52, length: 2, planted: true }] });
    expect(two).toBeCloseTo((14 / 99) ** 2, 12);
    const diluted = plantedEvidenceChance({
      side,
      absences: [day, { start: 52, length: 2, planted: true }, { start: 30, length: 6, planted: false }],
    });
    expect(diluted).toBeGreaterThan(two);
    // Not planted: no evidence at all.
    expect(plantedEvidenceChance({ side, absences: [{ ...day, planted: false }] })).toBeCloseTo(1, 12);
  });

  it("computes each claimed pupil's chance over the window, and claims no pupil whose evidence is weak", () => {
    const truth = pupilTruth(LA, '2026-07-21', '2025-07-22');
    const withChance = [...truth.values()].filter((t) => t.chance !== undefined);
    expect(withChance.length).toBeGreaterThan(0);
    for (const t of withChance) {
      expect(t.chance).toBeGreaterThan(0);
      expect(t.chance).toBeLessThanOrEqual(1);
      if (claimsHoliday(t)) expect(t.chance).toBeLessThanOrEqual(1e-4);
    }
    expect(withChance.some((t) => claimsHoliday(t))).toBe(true);
  });

  it('generates last year too: most pupils on a register then, habits kept, a pupil new this year without one', () => {
    expect(LA.previousRegisters.length).toBeGreaterThan(0);
    expect(LA.previousRegisters.every((r) => r.academicYear === 2024)).toBe(true);
    const pupils = [...LA.pupils.values()];
    const returning = pupils.filter((p) => p.previousMarks).length / pupils.length;
    expect(returning).toBeGreaterThan(0.8);
    expect(returning).toBeLessThan(0.95);
    const lastYear = new Set(LA.previousRegisters.flatMap((r) => [...r.pupils.keys()]));
    for (const p of pupils) expect(lastYear.has(p.upn)).toBe(p.previousMarks !== undefined);
    // Some holiday-takers planted in both years, and none planted last year without a register then.
    const cut = dayNumber('2025-08-01');
    const both = LA.behaviours.filter(
      (b) =>
        b.kind === 'holiday_pupil' &&
        [...b.planted.values()].some((m) => m.some((x) => x.day < cut)) &&
        [...b.planted.values()].some((m) => m.some((x) => x.day >= cut)),
    );
    expect(both.length).toBeGreaterThan(0);
    for (const b of LA.behaviours)
      for (const [u, m] of b.planted)
        if (m.some((x) => x.day < cut)) expect(LA.pupils.get(u)?.previousMarks).toBeDefined();
  });

  it("judges a pupil's claim over the window: last year's planting counts from the window's start, not before", () => {
    const jan = pupilTruth(LA, '2026-01-31', '2025-02-01');
    const year = pupilTruth(LA, '2026-01-31');
    for (const [u, t] of year) expect((jan.get(u)?.plantedAdjacent ?? 0) >= t.plantedAdjacent).toBe(true);
    const newThisYear = [...LA.pupils.values()].filter((p) => !p.previousMarks).map((p) => p.upn);
    for (const u of newThisYear) if (jan.has(u)) expect(jan.get(u)?.plantedAdjacent).toBe(year.get(u)?.plantedAdjacent);
  });

  it('claims a near-threshold holiday only as the LA counts it: an unbroken run of G, O, U (a planted N breaks it, since issue 22)', () => {
    const marks = (codes: string): PlantedMark[] =>
      [...codes].map((code, i) => ({
        day: 20400 + (i >> 1),
        session: (i & 1) as 0 | 1,
        code: code as PlantedMark['code'],
      }));
    expect(claimsNearThreshold('near_threshold', marks('GGGGGOOO'))).toBe(true);
    expect(claimsNearThreshold('near_threshold', marks('GGGGGNOOO'))).toBe(false);
    expect(claimsNearThreshold('near_threshold', marks('GGGOOOOO'))).toBe(false); // under half G
    expect(claimsNearThreshold('split_holiday', marks('GGGGGGIIII'))).toBe(true);
    expect(claimsNearThreshold('split_holiday', marks('GGGGGGIII'))).toBe(false); // 9 with the illness
    expect(claimsNearThreshold('split_holiday', marks('GGGGGGNIIII'))).toBe(false); // N between the holiday and the illness
  });

  it('does not count as a control a pupil who also had holiday extensions planted (a coding school draws afresh at each break)', () => {
    const holiday = new Set(
      LA.behaviours
        .filter((b) => b.kind === 'coding_extension' || b.kind === 'holiday_pupil' || b.kind === 'family')
        .flatMap((b) => [...b.planted.keys()]),
    );
    const controls = pupilControls(LA);
    expect(controls.size).toBeGreaterThan(0);
    for (const u of controls) expect(holiday.has(u)).toBe(false);
  });

  it('judges a behaviour by what it had become by the date: fewer claimed pupils at the end of January than in July', () => {
    const jan = [...pupilTruth(LA, '2026-01-31').values()].filter(claimsHoliday).length;
    const jul = [...pupilTruth(LA, '2026-07-21').values()].filter(claimsHoliday).length;
    expect(jul).toBeGreaterThan(jan);
  });

  it('counts a flag on a pupil with nothing planted as a false positive, and a flagged control as a control', () => {
    const planted = new Set(LA.behaviours.flatMap((b) => [...b.upns, ...b.planted.keys()]));
    const unplanted = [...LA.pupils.keys()].find((u) => !planted.has(u)) as string;
    const clean = pupilControls(LA);
    const control = LA.behaviours.find((b) => b.kind === 'control_r' && clean.has(b.upns[0]))?.upns[0] as string;
    const result = {
      findings: [
        { type: 'holiday_adjacent_absence', upn: unplanted },
        { type: 'holiday_adjacent_absence', upn: control },
      ],
    } as unknown as PatternsResult;
    const [holiday] = scoreVariedAsOf(LA, '2026-07-21', result);
    expect(holiday).toMatchObject({ flag: 'holiday_adjacent_absence', fp: 1, controls: 1, tp: 0 });
    expect(meetsVariedTargets(holiday)).toBe(false);
  });

  it('runs the detectors as of a date and never flags a control', () => {
    const scores = scoreVariedAsOf(LA, '2026-04-30', detectAsOf(LA, '2026-04-30'));
    expect(scores.map((s) => s.flag)).toEqual([
      'holiday_adjacent_absence',
      'near_threshold_unauthorised',
      'family_pattern',
      'school_coding',
    ]);
    expect(scores.every((s) => s.controls === 0)).toBe(true);
  });
});
