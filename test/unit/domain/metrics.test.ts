import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ALL_CODES, CODE_OF_CHAR, MARK_CHAR } from '../../../shared/domain/codes.js';
import {
  COHORT_BIT,
  COHORTS,
  cohortMasksByDay,
  type CareEpisodeSpan,
  type Cohort,
} from '../../../shared/domain/cohorts.js';
import { addDays, dayOfAcademicYear, sessionIndex } from '../../../shared/domain/dates.js';
import {
  aggregateCells,
  emptyTotals,
  addCell,
  groupCells,
  inPopulation,
  toMetricsRow,
  type AggregationEnrolment,
  type Cell,
} from '../../../shared/domain/metrics.js';
import { equivalentPeriod, metricRows, type MetricsSource } from '../../../shared/domain/metrics-query.js';
import {
  customPeriod,
  dayRange,
  standardPeriods,
  termPeriods,
  weekPeriods,
  yearPeriod,
  type Period,
} from '../../../shared/domain/periods.js';
import { CHARACTERISTICS, EMPTY_MARKS, NOT_STATED, type Characteristic } from '../../../shared/domain/register.js';
import {
  CODE_COUNT,
  CODE_INDEX,
  INDEX_OF_CHAR,
  isPersistentAbsence,
  isSevereAbsence,
} from '../../../shared/domain/stats.js';
import { CODE_CATEGORY } from '../../../shared/domain/codes.js';
import type { LaCell, SchoolCell } from '../../../shared/domain/la-view.js';

const YEAR = 2025;

function statedWith(
  spec: Partial<Record<Characteristic, Record<string, string>>> = {},
): Record<Characteristic, string> {
  const out = {} as Record<Characteristic, string>;
  for (const c of CHARACTERISTICS) {
    const days = NOT_STATED.repeat(366).split('');
    for (const [date, v] of Object.entries(spec[c] ?? {})) days[dayOfAcademicYear(date)] = v;
    out[c] = days.join('');
  }
  return out;
}

function marksOf(days: Record<string, [string, string]>): string {
  const m = EMPTY_MARKS.split('');
  for (const [date, [am, pm]] of Object.entries(days)) {
    m[sessionIndex(date, 'AM')] = am === '' ? '-' : MARK_CHAR[am];
    m[sessionIndex(date, 'PM')] = pm === '' ? '-' : MARK_CHAR[pm];
  }
  return m.join('');
}

function enrolment(
  days: Record<string, [string, string]>,
  opts: {
    care?: CareEpisodeSpan[];
    stated?: Partial<Record<Characteristic, Record<string, string>>>;
    yearGroup?: string;
    sex?: string;
    compulsory?: boolean;
  } = {},
): AggregationEnrolment {
  return {
    marks: marksOf(days),
    masks: cohortMasksByDay(YEAR, statedWith(opts.stated), opts.care ?? []),
    yearGroup: opts.yearGroup ?? '7',
    sex: opts.sex ?? 'F',
    compulsory: opts.compulsory ?? true,
  };
}

/** Ten school days from Monday 1 September 2025 (two weeks). */
const TEN_DAYS = [
  '2025-09-01',
  '2025-09-02',
  '2025-09-03',
  '2025-09-04',
  '2025-09-05',
  '2025-09-08',
  '2025-09-09',
  '2025-09-10',
  '2025-09-11',
  '2025-09-12',
];

function days(codes: Array<[string, string]>, from = TEN_DAYS): Record<string, [string, string]> {
  return Object.fromEntries(codes.map((c, i) => [from[i], c]));
}

/**
 * The obviously-correct recomputation (docs/design.md §2.2, §2.4): for each enrolment and cohort, take the
 * sessions in the period on dates the pupil was in the cohort; sum their codes; the enrolment counts
 * once when it has ≥ 1 possible session, and is PA / SA by its own absence over its own possible.
 */
interface OracleCell {
  enrolments: number;
  pa: number;
  sa: number;
  codes: Record<string, number>;
}
const POSSIBLE = new Set(['present', 'approved_activity', 'authorised', 'unauthorised']);
function oracle(
  enrolments: AggregationEnrolment[],
  period: Period,
  cohort: Cohort,
  population: 'all' | 'compulsory' = 'all',
): OracleCell {
  const out: OracleCell = { enrolments: 0, pa: 0, sa: 0, codes: {} };
  for (const e of enrolments) {
    if (population === 'compulsory' && !e.compulsory) continue;
    let possible = 0;
    let absence = 0;
    for (let date = period.from; date <= period.to; date = addDays(date, 1)) {
      const day = dayOfAcademicYear(date);
      if ((e.masks[day] & COHORT_BIT[cohort]) === 0) continue;
      for (const s of [day * 2, day * 2 + 1]) {
        const code = CODE_OF_CHAR[e.marks[s]];
        if (code === undefined) continue; // no row, or not yet marked
        out.codes[code] = (out.codes[code] ?? 0) + 1;
        const cat = CATEGORY[code];
        if (POSSIBLE.has(cat)) possible++;
        if (cat === 'authorised' || cat === 'unauthorised') absence++;
      }
    }
    if (possible === 0) continue;
    out.enrolments++;
    if (absence / possible >= 0.1 - 1e-12) out.pa++;
    if (absence / possible >= 0.5 - 1e-12) out.sa++;
  }
  return out;
}
const CATEGORY: Record<string, string> = {
  '/': 'present',
  '\\': 'present',
  L: 'present',
  K: 'approved_activity',
  V: 'approved_activity',
  P: 'approved_activity',
  W: 'approved_activity',
  B: 'approved_activity',
  J: 'approved_activity',
  C: 'authorised',
  C1: 'authorised',
  C2: 'authorised',
  E: 'authorised',
  I: 'authorised',
  J1: 'authorised',
  M: 'authorised',
  R: 'authorised',
  S: 'authorised',
  T: 'authorised',
  H: 'authorised',
  F: 'authorised',
  G: 'unauthorised',
  N: 'unauthorised',
  O: 'unauthorised',
  U: 'unauthorised',
  D: 'not_possible',
  Q: 'not_possible',
  X: 'not_possible',
  Y: 'not_possible',
  Y1: 'not_possible',
  Y2: 'not_possible',
  Y3: 'not_possible',
  Y4: 'not_possible',
  Y5: 'not_possible',
  Y6: 'not_possible',
  Y7: 'not_possible',
  Z: 'administrative',
  '#': 'administrative',
};

/** The cells of a period summed for one cohort (all year groups, sexes), in oracle form. */
function summed(cells: Cell[], cohort: Cohort, population: 'all' | 'compulsory' = 'all'): OracleCell {
  const t = emptyTotals();
  for (const c of cells) if (c.cohort === cohort && inPopulation(c, population)) addCell(t, c);
  const codes: Record<string, number> = {};
  t.counts.forEach((n, i) => {
    if (n) codes[ALL_CODES[i]] = n;
  });
  return { enrolments: t.enrolments, pa: t.persistentAbsence, sa: t.severeAbsence, codes };
}

const SEPT = customPeriod(YEAR, '2025-09-01', '2025-09-12');

describe('aggregateCells: per cohort-enrolment PA and SA (docs/design.md §2.4)', () => {
  it("counts a pupil's absence before entering care outside the cla cohort (the Virtual School's view)", () => {
    // Absent every session of week 1, present every session of week 2; in care from Monday of week 2.
    const e = enrolment(days([...Array(5).fill(['N', 'N']), ...Array(5).fill(['/', '/'])]), {
      care: [{ cohort: 'cla', start: '2025-09-08' }],
    });
    const [pc] = aggregateCells([e], [SEPT]);
    expect(summed(pc.cells, 'cla')).toEqual({ enrolments: 1, pa: 0, sa: 0, codes: { '/': 10 } });
    expect(summed(pc.cells, 'non_cla')).toEqual({ enrolments: 1, pa: 1, sa: 1, codes: { N: 10 } });
    expect(summed(pc.cells, 'all')).toEqual({ enrolments: 1, pa: 1, sa: 1, codes: { N: 10, '/': 10 } });
  });

  it('counts one enrolment in a cohort and its complement when membership changes within the period', () => {
    const e = enrolment(days(Array(10).fill(['/', '/'])), {
      stated: { fsm: { '2025-09-01': 'N', '2025-09-04': 'Y' } },
    });
    const [pc] = aggregateCells([e], [SEPT]);
    expect(summed(pc.cells, 'fsm').codes).toEqual({ '/': 14 });
    expect(summed(pc.cells, 'non_fsm').codes).toEqual({ '/': 6 });
    expect([summed(pc.cells, 'fsm').enrolments, summed(pc.cells, 'non_fsm').enrolments]).toEqual([1, 1]);
  });

  it('counts exactly 10% absence as PA and 50% as SA within the cohort and period', () => {
    const ten = enrolment(days([['N', '/'], ...Array(4).fill(['/', '/'])])); // 1 of 10
    const fifty = enrolment(days([...Array(5).fill(['I', '/'])])); // 5 of 10
    const below = enrolment(days([['N', '/'], ...Array(9).fill(['/', '/'])])); // 1 of 20 = 5%
    const [pc] = aggregateCells([ten, fifty, below], [SEPT]);
    expect(summed(pc.cells, 'all')).toMatchObject({ enrolments: 3, pa: 2, sa: 1 });
  });

  it('excludes enrolments with no possible session from the enrolment count, but keeps their codes', () => {
    const notPossible = enrolment(days(Array(5).fill(['Y1', 'D'])));
    const unmarked = enrolment(days(Array(5).fill(['', ''])));
    const present = enrolment(days(Array(5).fill(['/', '/'])));
    const [pc] = aggregateCells([notPossible, unmarked, present], [SEPT]);
    const all = summed(pc.cells, 'all');
    expect(all.enrolments).toBe(1);
    expect(all.codes).toEqual({ Y1: 5, D: 5, '/': 10 });
    const row = toMetricsRow(
      { cohort: 'all' },
      (() => {
        const t = emptyTotals();
        for (const c of pc.cells) if (c.cohort === 'all') addCell(t, c);
        return t;
      })(),
    );
    expect(row).toMatchObject({
      enrolments: 1,
      persistentAbsenceCount: 0,
      persistentAbsenceRate: 0,
      possibleSessions: 10,
    });
  });

  it('splits detailed periods by year group and sex, and week periods only by cohort and population', () => {
    const a = enrolment(days([['/', '/']]), { yearGroup: '7', sex: 'F' });
    const b = enrolment(days([['/', '/']]), { yearGroup: '8', sex: 'M' });
    const week = weekPeriods(YEAR).find((w) => w.from === '2025-09-01')!;
    const [detailed, weekly] = aggregateCells([a, b], [SEPT, week]);
    expect(detailed.detailed).toBe(true);
    expect(detailed.cells.filter((c) => c.cohort === 'all').map((c) => [c.yearGroup, c.sex, c.enrolments])).toEqual([
      ['7', 'F', 1],
      ['8', 'M', 1],
    ]);
    expect(weekly.detailed).toBe(false);
    expect(weekly.cells.filter((c) => c.cohort === 'all')).toEqual([
      expect.objectContaining({ enrolments: 2, compulsory: true }),
    ]);
    expect(weekly.cells[0]).not.toHaveProperty('yearGroup');
  });

  it('counts nothing for an enrolment with no marks in the period', () => {
    const e = enrolment(days([['N', 'N']]));
    const [pc] = aggregateCells([e], [customPeriod(YEAR, '2025-10-01', '2025-10-31')]);
    expect(pc.cells).toEqual([]);
  });

  it('matches the plain recomputation for any enrolments, cohorts and periods', () => {
    const code = fc.constantFrom('/', 'L', 'V', 'I', 'C1', 'M', 'N', 'U', 'G', 'D', 'Y3', 'Z', '#', '', '.');
    const dayCodes = fc.array(fc.tuple(code, code), { minLength: 10, maxLength: 10 });
    const flagDate = fc.option(fc.constantFrom(...TEN_DAYS), { nil: undefined });
    const enrolmentArb = fc.record({
      codes: dayCodes,
      fsmFrom: flagDate,
      claFrom: flagDate,
      cinTo: flagDate,
      yearGroup: fc.constantFrom('7', '8'),
      sex: fc.constantFrom('F', 'M'),
      compulsory: fc.boolean(),
    });
    const periods = [
      SEPT,
      customPeriod(YEAR, '2025-09-03', '2025-09-09'),
      ...weekPeriods(YEAR).filter((w) => w.from === '2025-09-08'),
    ];
    fc.assert(
      fc.property(fc.array(enrolmentArb, { minLength: 1, maxLength: 6 }), (specs) => {
        const enrolments = specs.map((s) => {
          const marked: Record<string, [string, string]> = {};
          s.codes.forEach(([am, pm], i) => {
            if (am === '.' && pm === '.') return; // no row that day
            marked[TEN_DAYS[i]] = [am === '.' ? '' : am, pm === '.' ? '' : pm];
          });
          return enrolment(marked, {
            stated: s.fsmFrom ? { fsm: { [s.fsmFrom]: 'Y' } } : {},
            care: [
              ...(s.claFrom ? [{ cohort: 'cla' as const, start: s.claFrom }] : []),
              ...(s.cinTo ? [{ cohort: 'cin' as const, start: '2025-08-01', end: s.cinTo }] : []),
            ],
            yearGroup: s.yearGroup,
            sex: s.sex,
            compulsory: s.compulsory,
          });
        });
        const actual: Record<string, OracleCell> = {};
        const expected: Record<string, OracleCell> = {};
        for (const pc of aggregateCells(enrolments, periods)) {
          for (const cohort of COHORTS) {
            for (const population of ['all', 'compulsory'] as const) {
              const key = `${pc.period.id} ${cohort} ${population}`;
              actual[key] = summed(pc.cells, cohort, population);
              expected[key] = oracle(enrolments, pc.period, cohort, population);
            }
          }
        }
        expect(actual).toEqual(expected);
      }),
      { numRuns: 50 },
    );
  });
});

/**
 * The straightforward aggregation: for every enrolment and period, rescan the period's sessions,
 * group them by cohort mask, and add each cohort's sums to a cell found by a string key. The indexed
 * aggregateCells must give exactly this, cells in the same order.
 */
function aggregateByRescan(
  enrolments: AggregationEnrolment[],
  periods: readonly Period[],
): Array<{ period: Period; detailed: boolean; cells: Cell[] }> {
  const absent = (i: number) => ['authorised', 'unauthorised'].includes(CODE_CATEGORY[ALL_CODES[i]]);
  const possibleCode = (i: number) =>
    ['present', 'approved_activity', 'authorised', 'unauthorised'].includes(CODE_CATEGORY[ALL_CODES[i]]);
  return periods.map((period) => {
    const detailed = period.kind !== 'week';
    const [fromDay, toDay] = dayRange(period);
    const cells = new Map<string, Cell>();
    for (const e of enrolments) {
      const byMask = new Map<number, number[]>();
      for (let s = fromDay * 2; s <= toDay * 2 + 1; s++) {
        const ix = INDEX_OF_CHAR[e.marks.charCodeAt(s)];
        if (ix === undefined || ix < 0) continue;
        const mask = e.masks[s >> 1];
        if (!byMask.has(mask)) byMask.set(mask, new Array<number>(CODE_COUNT).fill(0));
        byMask.get(mask)![ix]++;
      }
      COHORTS.forEach((cohort, c) => {
        const mine = [...byMask].filter(([mask]) => (mask & (1 << c)) !== 0).map(([, counts]) => counts);
        if (mine.length === 0) return;
        const key = detailed ? `${c}|${e.compulsory}|${e.yearGroup}|${e.sex}` : `${c}|${e.compulsory}`;
        if (!cells.has(key)) {
          cells.set(key, {
            cohort,
            compulsory: e.compulsory,
            ...(detailed ? { yearGroup: e.yearGroup, sex: e.sex } : {}),
            enrolments: 0,
            persistentAbsence: 0,
            severeAbsence: 0,
            counts: new Array<number>(CODE_COUNT).fill(0),
          });
        }
        const cell = cells.get(key)!;
        let possible = 0;
        let absence = 0;
        for (const counts of mine) {
          counts.forEach((n, i) => {
            cell.counts[i] += n;
            if (possibleCode(i)) possible += n;
            if (absent(i)) absence += n;
          });
        }
        if (possible > 0) {
          cell.enrolments++;
          if (isPersistentAbsence(absence, possible)) cell.persistentAbsence++;
          if (isSevereAbsence(absence, possible)) cell.severeAbsence++;
        }
      });
    }
    return { period, detailed, cells: [...cells.values()] };
  });
}

describe('aggregateCells: the standard periods of a year', () => {
  it('gives exactly the cells of a per-period rescan, in the same order, for any registers over a whole year', () => {
    const code = fc.constantFrom('/', '/', '/', 'L', 'V', 'I', 'C1', 'M', 'N', 'U', 'G', 'D', 'Y3', 'Z', '#', '-', '.');
    const run = fc.record({
      from: fc.integer({ min: 0, max: 365 }),
      length: fc.integer({ min: 1, max: 60 }),
      am: code,
      pm: code,
    });
    const care = fc.array(
      fc
        .record({
          cohort: fc.constantFrom('cla', 'cin', 'cpp', 'plac' as const),
          start: fc.integer({ min: 0, max: 365 }).map((d) => addDays('2025-08-01', d)),
          days: fc.option(fc.integer({ min: 0, max: 200 }), { nil: undefined }),
        })
        .map((e) => ({
          cohort: e.cohort,
          start: e.start,
          ...(e.days === undefined ? {} : { end: addDays(e.start, e.days) }),
        })),
      { maxLength: 2 },
    );
    const enrolmentArb = fc.record({
      runs: fc.array(run, { maxLength: 5 }),
      fsm: fc.array(fc.tuple(fc.integer({ min: 0, max: 365 }), fc.constantFrom('Y', 'N')), { maxLength: 3 }),
      sen: fc.array(fc.tuple(fc.integer({ min: 0, max: 365 }), fc.constantFrom('E', 'K', 'N')), { maxLength: 2 }),
      care,
      yearGroup: fc.constantFrom('R', '7', '8', '11'),
      sex: fc.constantFrom('F', 'M', 'unknown'),
      compulsory: fc.boolean(),
    });
    const periods = standardPeriods(YEAR);
    fc.assert(
      fc.property(fc.array(enrolmentArb, { maxLength: 8 }), (specs) => {
        const enrolments: AggregationEnrolment[] = specs.map((s) => {
          const m = EMPTY_MARKS.split('');
          for (const r of s.runs) {
            for (let d = r.from; d < Math.min(366, r.from + r.length); d++) {
              if (r.am !== '.') m[d * 2] = MARK_CHAR[r.am] ?? r.am;
              if (r.pm !== '.') m[d * 2 + 1] = MARK_CHAR[r.pm] ?? r.pm;
            }
          }
          const st = statedWith();
          const withPoints = (base: string, points: Array<[number, string]>) => {
            const days = base.split('');
            for (const [d, v] of points) days[d] = v;
            return days.join('');
          };
          return {
            marks: m.join(''),
            masks: cohortMasksByDay(
              YEAR,
              { ...st, fsm: withPoints(st.fsm, s.fsm), sen: withPoints(st.sen, s.sen) },
              s.care,
            ),
            yearGroup: s.yearGroup,
            sex: s.sex,
            compulsory: s.compulsory,
          };
        });
        expect(aggregateCells(enrolments, periods)).toEqual(aggregateByRescan(enrolments, periods));
      }),
      { numRuns: 60 },
    );
  });
});

describe('toMetricsRow', () => {
  it("gives a group's PA rate as PA enrolments over enrolments with a possible session", () => {
    const t = {
      enrolments: 8,
      persistentAbsence: 2,
      severeAbsence: 1,
      counts: new Array<number>(ALL_CODES.length).fill(0),
    };
    t.counts[CODE_INDEX['/']] = 90;
    t.counts[CODE_INDEX.N] = 10;
    const row = toMetricsRow({ cohort: 'fsm' }, t);
    expect(row).toMatchObject({
      key: { cohort: 'fsm' },
      enrolments: 8,
      persistentAbsenceCount: 2,
      persistentAbsenceRate: 25,
      severeAbsenceCount: 1,
      severeAbsenceRate: 12.5,
      possibleSessions: 100,
      absenceRate: 10,
      unauthorisedAbsenceRate: 10,
      attendanceRate: 90,
    });
  });

  it('gives null rates for a group with no enrolments', () => {
    expect(toMetricsRow({}, emptyTotals())).toMatchObject({
      enrolments: 0,
      persistentAbsenceRate: null,
      severeAbsenceRate: null,
      absenceRate: null,
    });
  });
});

describe('metricRows (metrics-query)', () => {
  // Two schools' cells, built by aggregation so they are real.
  const school1 = [
    enrolment(days(Array(10).fill(['N', '/'])), { yearGroup: '7', sex: 'F', stated: { fsm: { '2025-09-01': 'Y' } } }), // 50%: PA, SA, fsm
    enrolment(days(Array(10).fill(['/', '/'])), { yearGroup: '8', sex: 'M' }),
  ];
  const school2 = [
    enrolment(days([['N', '/'], ...Array(4).fill(['/', '/'])]), { yearGroup: 'R', sex: 'F', compulsory: false }), // 10%: PA
  ];
  const periods = [SEPT, ...weekPeriods(YEAR).filter((w) => w.from === '2025-09-01' || w.from === '2025-09-08')];
  const [c1, ...w1] = aggregateCells(school1, periods);
  const [c2, ...w2] = aggregateCells(school2, periods);
  const source: MetricsSource = {
    cells: [
      ...c1.cells.map((c): LaCell => ({ ...c, phase: 'secondary' })),
      ...c2.cells.map((c): LaCell => ({ ...c, phase: 'primary' })),
    ],
    bySchool: [
      ...c1.cells.map((c): SchoolCell => ({ ...c, urn: '100001', phase: 'secondary' })),
      ...c2.cells.map((c): SchoolCell => ({ ...c, urn: '100002', phase: 'primary' })),
    ],
    weeks: w1.map((w, i) => ({ period: w.period, cells: [...w.cells, ...w2[i].cells] })),
  };

  it('answers one row for the whole scope and cohort without groupBy', () => {
    const rows = metricRows(source, { cohort: 'all', population: 'all' });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      key: { cohort: 'all' },
      enrolments: 3,
      persistentAbsenceCount: 2,
      severeAbsenceCount: 1,
      possibleSessions: 50,
      absenceSessions: 11,
    });
    expect(rows[0].persistentAbsenceRate).toBeCloseTo(200 / 3, 10);
  });

  it('limits the compulsory population to pupils of compulsory school age', () => {
    const [row] = metricRows(source, { cohort: 'all', population: 'compulsory' });
    expect(row).toMatchObject({ enrolments: 2, persistentAbsenceCount: 1, possibleSessions: 40 });
  });

  it("groups by cohort in the canonical order, only within the caller's allowed cohorts", () => {
    const rows = metricRows(source, { cohort: 'all', population: 'all', groupBy: 'cohort' });
    expect(rows.map((r) => r.key.cohort).slice(0, 3)).toEqual(['all', 'fsm', 'non_fsm']);
    expect(rows.find((r) => r.key.cohort === 'fsm')).toMatchObject({ enrolments: 1, persistentAbsenceCount: 1 });
    const vsh = metricRows(source, {
      cohort: 'cla',
      population: 'all',
      groupBy: 'cohort',
      allowedCohorts: ['cla', 'non_cla'],
    });
    expect(vsh.map((r) => r.key.cohort)).toEqual(['non_cla']);
  });

  it('groups by year group in school order (R before 7 before 8)', () => {
    const rows = metricRows(source, { cohort: 'all', population: 'all', groupBy: 'year_group' });
    expect(rows.map((r) => [r.key.yearGroup, r.enrolments])).toEqual([
      ['R', 1],
      ['7', 1],
      ['8', 1],
    ]);
  });

  it('groups by sex, school and phase', () => {
    expect(
      metricRows(source, { cohort: 'all', population: 'all', groupBy: 'sex' }).map((r) => [r.key.sex, r.enrolments]),
    ).toEqual([
      ['F', 2],
      ['M', 1],
    ]);
    expect(
      metricRows(source, { cohort: 'all', population: 'all', groupBy: 'school' }).map((r) => [
        r.key.urn,
        r.key.phase,
        r.enrolments,
      ]),
    ).toEqual([
      ['100001', 'secondary', 2],
      ['100002', 'primary', 1],
    ]);
    expect(
      metricRows(source, { cohort: 'all', population: 'all', groupBy: 'phase' }).map((r) => [
        r.key.phase,
        r.persistentAbsenceCount,
      ]),
    ).toEqual([
      ['primary', 1],
      ['secondary', 1],
    ]);
  });

  it("groups by week, each week's PA judged on that week alone", () => {
    const rows = metricRows(source, { cohort: 'all', population: 'all', groupBy: 'week' });
    expect(rows.map((r) => [r.key.week, r.enrolments, r.persistentAbsenceCount])).toEqual([
      ['2025-09-01', 3, 2], // school 2's pupil: 1 of 10 in week 1 = 10 %
      ['2025-09-08', 2, 1], // school 2 has no marks in week 2
    ]);
  });

  it('returns no rows for a cohort nobody is in', () => {
    expect(metricRows(source, { cohort: 'cla', population: 'all' })).toEqual([]);
  });
});

describe('equivalentPeriod', () => {
  it('answers a requested period from a materialised one with exactly the same marked days', () => {
    const marked = '0'.repeat(366).split('');
    for (const d of TEN_DAYS) marked[dayOfAcademicYear(d)] = '1';
    const markedDays = marked.join('');
    const [autumn] = termPeriods(YEAR);
    // 1 Aug – 31 Dec has the same marked days as 25 Aug – 20 Sep …
    expect(
      equivalentPeriod([yearPeriod(YEAR), autumn], customPeriod(YEAR, '2025-08-25', '2025-09-20'), markedDays),
    ).toEqual(yearPeriod(YEAR));
    // … but not 2 Sep – 20 Sep, which leaves out a marked day.
    expect(
      equivalentPeriod([yearPeriod(YEAR), autumn], customPeriod(YEAR, '2025-09-02', '2025-09-20'), markedDays),
    ).toBeUndefined();
    expect(dayRange(SEPT)[0]).toBe(dayOfAcademicYear('2025-09-01'));
  });
});

describe('groupCells', () => {
  it('sums only the cells that pass the filter, per group key', () => {
    const cell = (cohort: Cohort, n: number): Cell => ({
      cohort,
      compulsory: true,
      enrolments: n,
      persistentAbsence: 1,
      severeAbsence: 0,
      counts: new Array<number>(ALL_CODES.length).fill(n),
    });
    const groups = groupCells(
      [cell('all', 2), cell('all', 3), cell('fsm', 5)],
      (c) => c.cohort === 'all',
      () => 'x',
    );
    expect(groups.get('x')).toMatchObject({ enrolments: 5, persistentAbsence: 2 });
    expect(groups.get('x')!.counts[0]).toBe(5);
  });
});
