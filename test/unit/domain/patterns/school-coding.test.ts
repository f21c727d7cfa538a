import { describe, expect, it } from 'vitest';
import { DEFAULT_LA_SETTINGS } from '../../../../shared/config.js';
import { schoolYearAdjacency } from '../../../../shared/domain/calendar.js';
import {
  DEFAULT_PATTERN_SETTINGS,
  detectPatterns,
  patternSettings,
  schoolCodingComparisons,
  schoolCodingCounts,
  schoolCodingFindings,
  type PupilSums,
  type SchoolCodingCounts,
  type SchoolCodingFinding,
} from '../../../../shared/domain/patterns/index.js';
import { ADJ, PERIOD, calendarOf, marksFor, on, registerOf, schoolOf, termDays } from './fixtures.js';

const S = DEFAULT_PATTERN_SETTINGS;

/** A school-year's counts: illness per possible session on adjacent and other days, G share, not-possible sessions. */
function school(urn: string, o: Partial<SchoolCodingCounts> = {}): SchoolCodingCounts {
  const c: SchoolCodingCounts = {
    urn,
    academicYear: 2025,
    adjacentPossible: 10_000,
    adjacentIllness: 350,
    otherPossible: 60_000,
    otherIllness: 2_100,
    adjacentAbsence: 700,
    adjacentG: 200,
    possible: 70_000,
    notPossible: 140,
    notPossibleByCode: { Q: 140 },
    firstDate: '2025-09-03',
    lastDate: '2026-07-21',
    adjacentDates: [],
    ...o,
  };
  c.possible = c.adjacentPossible + c.otherPossible;
  return c;
}

/** Twelve ordinary schools: illness 3.5 % everywhere (a little chance variation), G 28 % of adjacent absence. */
function ordinaryLa(): SchoolCodingCounts[] {
  const wobble = [0, 12, -9, 5, -14, 8, -3, 15, -6, 10, -11, 2];
  return wobble.map((w, i) =>
    school(`2000${String(i).padStart(2, '0')}`, {
      adjacentIllness: 350 + w,
      otherIllness: 2_100 - w,
      adjacentG: 196 + w,
    }),
  );
}

function signalsOf(findings: SchoolCodingFinding[], urn: string): string[] {
  return findings.find((f) => f.urn === urn)?.signals ?? [];
}

describe('school coding: illness next to breaks', () => {
  it('flags a school whose illness on holiday-adjacent days is twice its other days, with the evidence', () => {
    const findings = schoolCodingFindings([...ordinaryLa(), school('300001', { adjacentIllness: 700 })], S);
    expect(findings.map((f) => f.urn)).toEqual(['300001']);
    const [f] = findings;
    expect(f.signals).toEqual(['illness_next_to_breaks']);
    expect(f.illness.value).toBeCloseTo(700 / 10_000 / (2_100 / 60_000), 2);
    expect(f.illness.laValue).toBeCloseTo(1, 1);
    expect(f.illness.value as number).toBeGreaterThan(f.illness.upper as number);
    expect(f.observed).toBe(700);
    expect(f.expected).toBeCloseTo(350, -1);
    expect(f.statistic).toMatchObject({ flaggedWhen: 'at_least' });
    expect(f.statistic.threshold).toBeCloseTo(3.09, 2);
    expect(f.statistic.value).toBeGreaterThan(3.09);
    expect(f.explanation).toMatch(
      /^On the 2 school days either side of its holidays this school recorded illness in 7\.0% of sessions, 2\.00 times its rate on other days \(3\.5%\), against a median of 1\.00 times at the LA's other schools \(700 illness sessions where about 35\d would be expected; control limit \d\.\d\d for a school of its size\)\.$/,
    );
  });

  it('flags exactly when the ratio passes the upper control limit (one session either side of it)', () => {
    const S = patternSettings(DEFAULT_LA_SETTINGS, { schoolCoding: { minExcessRatio: 1 } });
    let previous: ReturnType<typeof schoolCodingComparisons>[number] | undefined;
    let crossings = 0;
    for (let x = 350; x <= 700; x++) {
      const cmp = schoolCodingComparisons([...ordinaryLa(), school('300001', { adjacentIllness: x })], S).find(
        (c) => c.counts.urn === '300001',
      );
      if (!cmp) throw new Error('missing school');
      const flagged = cmp.signals.includes('illness_next_to_breaks');
      expect(flagged).toBe((cmp.illness.value as number) > (cmp.illness.upper as number));
      if (previous && flagged && !previous.signals.includes('illness_next_to_breaks')) {
        crossings++;
        expect(previous.illness.value as number).toBeLessThanOrEqual(previous.illness.upper as number);
      }
      previous = cmp;
    }
    expect(crossings).toBe(1);
  });

  it("needs the ratio to be at least 1.3 times the other schools' ratio, however significant", () => {
    // A ratio of 1.25 at a large school is far outside its limits, yet not an excess to act on.
    const big = school('300001', {
      adjacentPossible: 100_000,
      adjacentIllness: 4_375,
      otherPossible: 600_000,
      otherIllness: 21_000,
    });
    const cmp = schoolCodingComparisons([...ordinaryLa(), big], S).find((c) => c.counts.urn === '300001');
    expect(cmp?.illness.value as number).toBeGreaterThan(cmp?.illness.upper as number);
    expect(cmp?.signals).toEqual([]);
    const bigger = school('300001', {
      adjacentPossible: 100_000,
      adjacentIllness: 4_725,
      otherPossible: 600_000,
      otherIllness: 21_000,
    });
    expect(signalsOf(schoolCodingFindings([...ordinaryLa(), bigger], S), '300001')).toEqual(['illness_next_to_breaks']);
  });

  it('leaves out the pupils whose own absence shows the pattern, so a few families cannot make their school an outlier', () => {
    const counts = [...ordinaryLa(), school('300001', { adjacentIllness: 700 })];
    const families = Array.from({ length: 10 }, (_, i) => ({
      upn: `F${i}`,
      urn: '300001',
      academicYear: 2025,
      adjacentPossible: 56,
      adjacentIllness: 35,
      otherPossible: 330,
      otherIllness: 4,
      adjacentAbsence: 35,
      adjacentG: 0,
    }));
    expect(schoolCodingFindings(counts, S).map((f) => f.urn)).toEqual(['300001']);
    expect(schoolCodingFindings(counts, S, families)).toEqual([]);
  });

  it('widens the limits for small schools: the same ratio is an outlier at 10,000 sessions and not at 500', () => {
    const big = school('300001', { adjacentIllness: 560 }); // ratio 1.6
    const small = school('300002', {
      adjacentPossible: 500,
      adjacentIllness: 28,
      otherPossible: 3_000,
      otherIllness: 105,
      notPossible: 7,
    }); // ratio 1.6
    const findings = schoolCodingFindings([...ordinaryLa(), big, small], S);
    expect(signalsOf(findings, '300001')).toEqual(['illness_next_to_breaks']);
    expect(signalsOf(findings, '300002')).toEqual([]);
  });

  it("allows for illness coming in spells per pupil: the same counts are an outlier spread one day a pupil, not in a few pupils' 3-day spells", () => {
    // A school of 100 pupils (20 adjacent and 120 other possible sessions each), illness 3.5 % on other
    // days (60 pupils, 7 sessions each) and 7.0 % on adjacent days: 140 sessions.
    const pupils = (adjacent: number[]): Array<[number, number, number, number]> =>
      Array.from({ length: 100 }, (_, i) => [adjacent[i] ?? 0, 20, i >= 40 ? 7 : 0, 120]);
    const sums = (list: Array<[number, number, number, number]>): PupilSums => {
      const s: PupilSums = {
        pupils: 0,
        aa: 0,
        ana: 0,
        nana: 0,
        oo: 0,
        ono: 0,
        nono: 0,
        ao: 0,
        ano: 0,
        nao: 0,
        nano: 0,
      };
      for (const [a, na, o, no] of list) {
        s.pupils++;
        s.aa += a * a;
        s.ana += a * na;
        s.nana += na * na;
        s.oo += o * o;
        s.ono += o * no;
        s.nono += no * no;
        s.ao += a * o;
        s.ano += a * no;
        s.nao += na * o;
        s.nano += na * no;
      }
      return s;
    };
    const counts = (adjacent: number[]) =>
      school('300005', {
        adjacentPossible: 2_000,
        adjacentIllness: 140,
        otherPossible: 12_000,
        otherIllness: 420,
        notPossible: 4,
        pupilSums: sums(pupils(adjacent)),
      });
    const spread = Array.from({ length: 70 }, () => 2); // 70 pupils, one day each
    const spells = [...Array.from({ length: 23 }, () => 6), 2]; // 24 pupils, mostly 3-day spells
    const at = (adjacent: number[]) =>
      schoolCodingComparisons([...ordinaryLa(), counts(adjacent)], S).find((c) => c.counts.urn === '300005');
    const a = at(spread);
    const b = at(spells);
    expect(a?.illness.value).toBeCloseTo(b?.illness.value as number, 10);
    expect(a?.signals).toEqual(['illness_next_to_breaks']);
    expect(b?.signals).toEqual([]);
    expect(b?.illness.upper as number).toBeGreaterThan(a?.illness.upper as number);
  });

  it('needs 20 illness sessions on adjacent days: 19 are not enough, 20 are', () => {
    const tiny = (n: number) =>
      school('300003', {
        adjacentPossible: 100,
        adjacentIllness: n,
        otherPossible: 600,
        otherIllness: 21,
        notPossible: 1,
      });
    expect(signalsOf(schoolCodingFindings([...ordinaryLa(), tiny(19)], S), '300003')).toEqual([]);
    expect(signalsOf(schoolCodingFindings([...ordinaryLa(), tiny(20)], S), '300003')).toEqual([
      'illness_next_to_breaks',
    ]);
  });

  it('raises no illness signal for a school of fewer than 50 pupils: 49 pupils are held back, 50 are flagged, counts without per-pupil sums are judged as before', () => {
    // Each pupil: 20 adjacent and 120 other possible sessions; the first 35 pupils ill 4 adjacent
    // sessions and 6 other ones (140 adjacent of 1,000, 14 %, against 210 of 6,000, 3.5 %: 4 times the
    // rate elsewhere, far past the limit at either size).
    const counts = (n: number): SchoolCodingCounts => {
      const pupils = Array.from({ length: n }, (_, i) => (i < 35 ? [4, 20, 6, 120] : [0, 20, 0, 120]));
      const s: PupilSums = {
        pupils: 0,
        aa: 0,
        ana: 0,
        nana: 0,
        oo: 0,
        ono: 0,
        nono: 0,
        ao: 0,
        ano: 0,
        nao: 0,
        nano: 0,
      };
      for (const [a, na, o, no] of pupils) {
        s.pupils++;
        s.aa += a * a;
        s.ana += a * na;
        s.nana += na * na;
        s.oo += o * o;
        s.ono += o * no;
        s.nono += no * no;
        s.ao += a * o;
        s.ano += a * no;
        s.nao += na * o;
        s.nano += na * no;
      }
      return school('300006', {
        adjacentPossible: 20 * n,
        adjacentIllness: 140,
        otherPossible: 120 * n,
        otherIllness: 210,
        notPossible: 0,
        pupilSums: s,
      });
    };
    const at = (c: SchoolCodingCounts) =>
      schoolCodingComparisons([...ordinaryLa(), c], S).find((x) => x.counts.urn === '300006');
    const small = at(counts(49));
    const enough = at(counts(50));
    expect(small?.illness.z as number).toBeGreaterThan(5);
    expect(small?.illness.value as number).toBeGreaterThan(small?.illness.upper as number);
    expect(small?.signals).toEqual([]);
    expect(enough?.signals).toEqual(['illness_next_to_breaks']);
    const { pupilSums: _, ...withoutSums } = counts(49);
    expect(at(withoutSums)?.signals).toEqual(['illness_next_to_breaks']);
    const lowered = patternSettings(DEFAULT_LA_SETTINGS, { schoolCoding: { minPupils: 49 } });
    expect(
      schoolCodingComparisons([...ordinaryLa(), counts(49)], lowered).find((x) => x.counts.urn === '300006')?.signals,
    ).toEqual(['illness_next_to_breaks']);
  });

  it('draws no funnel with fewer than 5 schools: 4 give no finding, 5 do', () => {
    const outlier = school('300001', { adjacentIllness: 700 });
    expect(schoolCodingFindings([...ordinaryLa().slice(0, 3), outlier], S)).toEqual([]);
    expect(schoolCodingFindings([...ordinaryLa().slice(0, 4), outlier], S).map((f) => f.urn)).toEqual(['300001']);
  });

  it('allows for real differences between large schools (overdispersion): a spread that plain binomial limits would call outliers', () => {
    const ratios = [0.85, 0.9, 0.95, 1, 1.05, 1.1, 1.15, 0.88, 1.12, 0.97, 1.03, 1.08];
    const la = ratios.map((r, i) =>
      school(`4000${String(i).padStart(2, '0')}`, {
        adjacentPossible: 100_000,
        adjacentIllness: Math.round(3_500 * r),
        otherPossible: 600_000,
        otherIllness: 21_000,
      }),
    );
    const cmps = schoolCodingComparisons(la, S);
    expect(cmps.filter((c) => c.signals.length > 0)).toEqual([]);
    const top = cmps.find((c) => c.counts.urn === '400006');
    // The 1.15 school is more than 3.09 binomial standard errors from the others' ratio…
    const se = Math.sqrt(1 / 4025.5 - 1 / 100_000.5 + 1 / 21_000.5 - 1 / 600_000.5);
    expect(Math.log(top?.illness.value as number) - Math.log(top?.illness.laValue as number)).toBeGreaterThan(
      3.09 * se,
    );
    // …but within the limits once the between-school variance is allowed for.
    expect(top?.illness.z as number).toBeLessThan(3.09);
  });

  it('compares each school with the OTHER schools, so an outlier does not move its own centre line', () => {
    const cmps = schoolCodingComparisons([...ordinaryLa(), school('300001', { adjacentIllness: 2_000 })], S);
    expect(cmps.find((c) => c.counts.urn === '300001')?.illness.laValue).toBeCloseTo(1, 1);
  });
});

describe('school coding: unauthorised-holiday share', () => {
  it('flags a low G share when the illness excess is past the warning limit but not the control limit', () => {
    // Find an illness count between the 95 % warning limit and the 99.8 % control limit.
    let x = 350;
    for (; x < 700; x++) {
      const c = schoolCodingComparisons([...ordinaryLa(), school('300001', { adjacentIllness: x })], S).find(
        (y) => y.counts.urn === '300001',
      );
      if ((c?.illness.value as number) > (c?.illness.warningUpper as number)) break;
    }
    const lowG = schoolCodingFindings([...ordinaryLa(), school('300001', { adjacentIllness: x, adjacentG: 20 })], S);
    expect(signalsOf(lowG, '300001')).toEqual(['low_unauthorised_holiday_share']);
    const f = lowG[0];
    expect(f.unauthorisedHolidayShare.value as number).toBeLessThan(f.unauthorisedHolidayShare.lower as number);
    expect(f.statistic).toMatchObject({ flaggedWhen: 'at_most' });
    expect(f.explanation).toMatch(
      /warning limit .*; and only 2\.9% of its absence on those days was coded as an unauthorised holiday \(G\), against 28\.\d% at the other schools/,
    );
    // The same illness excess with an ordinary G share is not a finding.
    expect(
      signalsOf(schoolCodingFindings([...ordinaryLa(), school('300001', { adjacentIllness: x })], S), '300001'),
    ).toEqual([]);
  });

  it("allows for holidays coming as runs of one pupil's G sessions: a low G share spread over 100 pupils is flagged, the same share in 10 pupils' holidays is not", () => {
    let x = 350;
    for (; x < 700; x++) {
      const c = schoolCodingComparisons([...ordinaryLa(), school('300001', { adjacentIllness: x })], S).find(
        (y) => y.counts.urn === '300001',
      );
      if ((c?.illness.value as number) > (c?.illness.warningUpper as number)) break;
    }
    // 100 G sessions of 700 adjacent absences (14 % against the others' 28 %); each pupil's [G, absence].
    const sums = (list: Array<[number, number]>): PupilSums => {
      const s: PupilSums = {
        pupils: 0,
        aa: 0,
        ana: 0,
        nana: 0,
        oo: 0,
        ono: 0,
        nono: 0,
        ao: 0,
        ano: 0,
        nao: 0,
        nano: 0,
      };
      s.gg = 0;
      s.gd = 0;
      s.dd = 0;
      for (const [g, d] of list) {
        s.pupils++;
        s.gg += g * g;
        s.gd += g * d;
        s.dd += d * d;
      }
      return s;
    };
    const spread = Array.from({ length: 100 }, (): [number, number] => [1, 7]);
    const holidays: Array<[number, number]> = [
      ...Array.from({ length: 10 }, (): [number, number] => [10, 10]),
      ...Array.from({ length: 60 }, (): [number, number] => [0, 7]),
      ...Array.from({ length: 30 }, (): [number, number] => [0, 6]),
    ];
    const at = (pupils: Array<[number, number]>) =>
      schoolCodingComparisons(
        [...ordinaryLa(), school('300001', { adjacentIllness: x, adjacentG: 100, pupilSums: sums(pupils) })],
        S,
      ).find((c) => c.counts.urn === '300001');
    const a = at(spread);
    const b = at(holidays);
    expect(a?.unauthorisedHolidayShare.value).toBeCloseTo(b?.unauthorisedHolidayShare.value as number, 10);
    expect(a?.signals).toEqual(['low_unauthorised_holiday_share']);
    expect(b?.signals).toEqual([]);
    expect(b?.unauthorisedHolidayShare.lower as number).toBeLessThan(a?.unauthorisedHolidayShare.lower as number);
  });

  it('does not flag a low G share without an illness excess', () => {
    expect(schoolCodingFindings([...ordinaryLa(), school('300001', { adjacentG: 10 })], S)).toEqual([]);
  });
});

describe('school coding: not-possible share', () => {
  it('flags an unusual share of not-possible sessions as its own signal, naming the codes', () => {
    const findings = schoolCodingFindings(
      [...ordinaryLa(), school('300001', { notPossible: 2_000, notPossibleByCode: { Y7: 1_500, Q: 500 } })],
      S,
    );
    expect(findings.map((f) => [f.urn, f.signals])).toEqual([['300001', ['not_possible_share']]]);
    expect(findings[0].notPossible).toMatchObject({
      sessions: 2_000,
      ofSessions: 72_000,
      codes: { Y7: 1_500, Q: 500 },
    });
    expect(findings[0].explanation).toMatch(
      /^2\.8% of its sessions were coded as not possible \(Y7 1500, Q 500\), against 0\.2% at the other schools \(upper limit .*\), which shrinks the sessions its absence rates are measured against\.$/,
    );
  });

  it('needs 20 not-possible sessions', () => {
    const small = (n: number) =>
      school('300004', {
        adjacentPossible: 100,
        adjacentIllness: 3,
        otherPossible: 600,
        otherIllness: 21,
        notPossible: n,
      });
    expect(signalsOf(schoolCodingFindings([...ordinaryLa(), small(19)], S), '300004')).toEqual([]);
    expect(signalsOf(schoolCodingFindings([...ordinaryLa(), small(20)], S), '300004')).toEqual(['not_possible_share']);
  });
});

describe('school coding counts from a register', () => {
  const days = termDays();
  const register = registerOf('100001', [
    {
      upn: 'P1',
      marks: marksFor(days, {
        [ADJ.octBefore[1]]: 'I',
        '2025-10-08': 'I',
        '2025-10-09': 'Q',
        '2025-10-10': 'D',
        '2025-10-13': 'X',
        [ADJ.febAfter[0]]: 'G',
        [ADJ.febAfter[1]]: 'R',
      }),
    },
    { upn: 'P2', marks: marksFor(days, { '2025-10-14': 'Y7' }) },
  ]);
  const counts = schoolCodingCounts(register, schoolYearAdjacency(calendarOf('100001', [register]), 2025, 2), S);

  it('splits illness between holiday-adjacent and other days', () => {
    expect(counts).toMatchObject({ adjacentIllness: 2, otherIllness: 2 });
    expect(counts.adjacentPossible).toBe(2 * 2 * 28);
  });

  it('counts absence and G on adjacent days (R is absence, and not G)', () => {
    expect(counts).toMatchObject({ adjacentAbsence: 6, adjacentG: 2 });
  });

  it('counts Q and Y7 as not possible and leaves D and X out (structural)', () => {
    expect(counts.notPossibleByCode).toEqual({ Q: 2, Y7: 2 });
    expect(counts.notPossible).toBe(4);
    expect(counts.possible).toBe(2 * 388 - 8);
  });

  it('lists the holiday-adjacent dates with their breaks', () => {
    expect(counts.adjacentDates).toHaveLength(28);
    expect(counts.adjacentDates.find((d) => d.date === ADJ.octBefore[1])).toEqual({
      date: ADJ.octBefore[1],
      breakStart: '2025-10-25',
      breakEnd: '2025-11-02',
    });
  });
});

describe('school coding end to end', () => {
  it('flags the school that codes holidays as illness among ordinary schools, and no other', () => {
    const days = termDays();
    const adjacent = Object.values(ADJ).flat();
    const mid = days.filter((d) => !adjacent.includes(d as never));
    const pupils = (urn: string, coded: boolean) =>
      // 60 pupils a school: under 50 a school raises no illness signal (issue 21, ninth pass; 40 until then).
      Array.from({ length: 60 }, (_, i) => {
        // Everyone has some ordinary illness; at the coding school a fifth of pupils have "illness" next to two breaks.
        const codes = on([mid[(i * 7) % mid.length], mid[(i * 11 + 3) % mid.length]], 'I');
        if (coded && i % 5 === 0) Object.assign(codes, on([ADJ.octBefore[1], ADJ.febAfter[0], ADJ.mayBefore[1]], 'I'));
        return { upn: `${urn}-${i}`, marks: marksFor(days, codes) };
      });
    const schools = ['500001', '500002', '500003', '500004', '500005', '500006'].map((urn, i) =>
      schoolOf(urn, pupils(urn, i === 0)),
    );
    const result = detectPatterns({ schools, period: PERIOD, settings: patternSettings(DEFAULT_LA_SETTINGS) });
    const coding = result.findings.filter((f): f is SchoolCodingFinding => f.type === 'school_coding');
    expect(coding.map((f) => [f.urn, f.signals])).toEqual([['500001', ['illness_next_to_breaks']]]);
    expect(result.counts.holiday_adjacent_absence).toBe(0);
  });
});
