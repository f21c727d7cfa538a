import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ALL_CODES } from '../../../shared/domain/codes.js';
import { COHORTS, type Cohort } from '../../../shared/domain/cohorts.js';
import { addDays, dayOfAcademicYear, isWeekend } from '../../../shared/domain/dates.js';
import {
  absenceRateOf,
  emptyAggregate,
  laViewOf,
  replaceContribution,
  rollupLa,
  schoolContribution,
  type LaView,
} from '../../../shared/domain/la-view.js';
import { addCell, aggregateCells, emptyTotals, inPopulation, type Cell } from '../../../shared/domain/metrics.js';
import { metricRows } from '../../../shared/domain/metrics-query.js';
import { customPeriod, weekPeriods, type Period } from '../../../shared/domain/periods.js';
import { applyRows, emptyRegister, type RegisterRow, type SchoolRegister } from '../../../shared/domain/register.js';
import {
  aggregationEnrolments,
  markedDaysOf,
  pupilRow,
  schoolCells,
  type PupilRow,
  type SchoolView,
} from '../../../shared/domain/school-view.js';
import { summarisePupilYear } from '../../../shared/domain/pupil-summary.js';
import { MARK_CHAR } from '../../../shared/domain/codes.js';
import { makeUpn } from '../../../shared/domain/upn.js';

const YEAR = 2025;
const DAYS = (() => {
  const out: string[] = [];
  for (let d = '2025-09-01'; out.length < 10; d = addDays(d, 1)) if (!isWeekend(d)) out.push(d);
  return out;
})();
const PERIODS: Period[] = [
  customPeriod(YEAR, '2025-09-01', '2025-09-12'),
  ...weekPeriods(YEAR).filter((w) => w.from === '2025-09-01' || w.from === '2025-09-08'),
];

const upn = (n: number) => makeUpn(`9994001250${String(n).padStart(2, '0')}`);

function row(
  urn: string,
  pupil: number,
  date: string,
  am: string,
  pm: string,
  extra: Partial<RegisterRow> = {},
): RegisterRow {
  const stored = (c: string) => (c === '' ? '-' : MARK_CHAR[c]);
  return { urn, upn: upn(pupil), date, am: stored(am), pm: stored(pm), ...extra };
}

function register(urn: string, rows: RegisterRow[]): SchoolRegister {
  const r = emptyRegister(urn, YEAR);
  applyRows(r, rows, 'r1');
  return r;
}

function view(r: SchoolRegister, pupils: PupilRow[] = []): SchoolView {
  return {
    urn: r.urn,
    academicYear: YEAR,
    registerVersion: r.version,
    periods: schoolCells(r, () => [], PERIODS),
    pupils,
    unmarkedSessions: 0,
    markedDays: markedDaysOf(r),
  };
}

function sum(cells: readonly Cell[], cohort: Cohort, population: 'all' | 'compulsory' = 'all') {
  const t = emptyTotals();
  for (const c of cells) if (c.cohort === cohort && inPopulation(c, population)) addCell(t, c);
  return t;
}

describe('school view', () => {
  it("aggregates a register's pupils with their year group, sex and compulsory-age flag", () => {
    const r = register('100001', [
      row('100001', 1, DAYS[0], '/', 'N', { yearGroup: '7', sex: 'F', dob: '2014-01-01' }),
      row('100001', 2, DAYS[0], '/', '/'),
    ]);
    const list = [...aggregationEnrolments(r, () => [])];
    expect(list.map((e) => [e.yearGroup, e.sex, e.compulsory])).toEqual([
      ['7', 'F', true],
      ['unknown', 'unknown', false],
    ]);
  });

  it('marks a day in markedDays when any pupil has any code that day, # included, unmarked excluded', () => {
    const r = register('100001', [
      row('100001', 1, DAYS[0], '#', '#'),
      row('100001', 1, DAYS[1], '', ''),
      row('100001', 2, DAYS[2], 'D', ''),
    ]);
    const m = markedDaysOf(r);
    expect(m).toHaveLength(366);
    expect([m[dayOfAcademicYear(DAYS[0])], m[dayOfAcademicYear(DAYS[1])], m[dayOfAcademicYear(DAYS[2])]]).toEqual([
      '1',
      '0',
      '1',
    ]);
  });

  it('turns a pupil summary into a list row with combined counts and flags', () => {
    const r = register(
      '100001',
      DAYS.map((d) => row('100001', 1, d, 'N', '/')),
    );
    const p = r.pupils.get(upn(1))!;
    const summary = summarisePupilYear(upn(1), YEAR, [{ ...p, urn: '100001', academicYear: YEAR }], [], {
      atRiskLowerPercent: 5,
      emergingWeeks: 4,
    });
    const line = pupilRow(summary, 7, [{ type: 'penalty_notice_threshold', since: DAYS[9] }]);
    expect(line).toMatchObject({
      upn: upn(1),
      v: 7,
      urns: ['100001'],
      possible: 20,
      present: 10,
      unauthorised: 10,
      authorised: 0,
      late: 0,
      flags: [
        { type: 'persistent_absence' },
        { type: 'severe_absence' },
        { type: 'penalty_notice_threshold', since: DAYS[9] },
      ],
    });
  });
});

describe('rollupLa', () => {
  const a = register('100001', [
    ...DAYS.map((d) => row('100001', 1, d, 'N', '/', { yearGroup: '7', sex: 'F' })),
    ...DAYS.map((d) => row('100001', 2, d, '/', '/', { yearGroup: '8', sex: 'M' })),
  ]);
  const b = register(
    '100002',
    DAYS.slice(0, 5).map((d, i) => row('100002', 3, d, i === 0 ? 'N' : '/', '/', { yearGroup: 'R', sex: 'F' })),
  );

  it("sums the schools' cells: an enrolment belongs to one school, so PA counts add up", () => {
    const la = rollupLa(YEAR, [
      { view: view(a), version: 3, phase: 'secondary' },
      { view: view(b), version: 5, phase: 'primary' },
    ]);
    expect(la.sources).toEqual({ 100001: 3, 100002: 5 });
    const sept = la.periods.find((p) => p.period.id === PERIODS[0].id)!;
    expect(sum(sept.cells, 'all')).toMatchObject({ enrolments: 3, persistentAbsence: 2, severeAbsence: 1 });
    expect(
      sept.cells
        .filter((c) => c.cohort === 'all')
        .map((c) => [c.phase, c.yearGroup, c.sex])
        .sort(),
    ).toEqual([
      ['primary', 'R', 'F'],
      ['secondary', '7', 'F'],
      ['secondary', '8', 'M'],
    ]);
  });

  it("counts a school outside the LA only towards the Virtual School's cohorts", () => {
    const careOf = (u: string) => (u === upn(3) ? [{ cohort: 'cla' as const, start: '2025-01-01' }] : []);
    const outside: SchoolView = { ...view(b), periods: schoolCells(b, careOf, PERIODS) };
    const la = rollupLa(YEAR, [
      { view: view(a), version: 1, phase: 'secondary' },
      { view: outside, version: 1, phase: 'primary', outOfArea: true },
    ]);
    const sept = la.periods.find((p) => p.period.id === PERIODS[0].id)!;
    expect(sum(sept.cells, 'all')).toMatchObject({ enrolments: 2 });
    expect(sum(sept.cells, 'cla')).toMatchObject({ enrolments: 1, persistentAbsence: 1 });
    expect(sum(sept.cells, 'social_worker')).toMatchObject({ enrolments: 1 });
    expect(
      sept.bySchool
        .filter((c) => c.urn === '100002')
        .map((c) => c.cohort)
        .sort(),
    ).toEqual(['cla', 'social_worker']);
  });

  it('keeps per-school cells (by cohort and population) for detailed periods only', () => {
    const la = rollupLa(YEAR, [
      { view: view(a), version: 1, phase: 'secondary' },
      { view: view(b), version: 1, phase: 'primary' },
    ]);
    const sept = la.periods.find((p) => p.period.id === PERIODS[0].id)!;
    const schoolAll = sept.bySchool.filter((c) => c.cohort === 'all');
    expect(schoolAll.map((c) => [c.urn, c.phase, c.enrolments, c.persistentAbsence])).toEqual([
      ['100001', 'secondary', 2, 1],
      ['100002', 'primary', 1, 1],
    ]);
    for (const c of schoolAll) expect(c).not.toHaveProperty('yearGroup');
    const week = la.periods.find((p) => p.period.kind === 'week')!;
    expect(week.bySchool).toEqual([]);
  });

  it("unions the schools' marked days", () => {
    const la = rollupLa(YEAR, [
      { view: view(b), version: 1 },
      { view: view(a), version: 1 },
    ]);
    expect(la.markedDays[dayOfAcademicYear(DAYS[9])]).toBe('1');
    expect(la.markedDays[dayOfAcademicYear(DAYS[0])]).toBe('1');
    expect(la.markedDays.replace(/0/g, '')).toHaveLength(10);
  });

  it("gives the same figures as aggregating every school's enrolments together, for any registers", () => {
    const code = fc.constantFrom('/', 'L', 'I', 'N', 'U', 'D', 'Y1', '#', '');
    const rowArb = fc.record({
      school: fc.constantFrom('100001', '100002', '100003'),
      pupil: fc.integer({ min: 1, max: 6 }),
      day: fc.integer({ min: 0, max: 9 }),
      am: code,
      pm: code,
      fsm: fc.boolean(),
      yg: fc.constantFrom('3', '9'),
    });
    fc.assert(
      fc.property(fc.array(rowArb, { minLength: 1, maxLength: 40 }), (specs) => {
        const regs = new Map<string, RegisterRow[]>();
        for (const s of specs) {
          const list = regs.get(s.school) ?? [];
          list.push(row(s.school, s.pupil, DAYS[s.day], s.am, s.pm, { fsm: s.fsm, yearGroup: s.yg }));
          regs.set(s.school, list);
        }
        const registers = [...regs.entries()].map(([urn, rows]) => register(urn, rows));
        const la = rollupLa(
          YEAR,
          registers.map((r, i) => ({ view: view(r), version: i + 1, phase: i % 2 ? 'primary' : 'secondary' })),
        );
        const together = aggregateCells(
          registers.flatMap((r) => [...aggregationEnrolments(r, () => [])]),
          PERIODS,
        );
        for (const pc of together) {
          const laPeriod = la.periods.find((p) => p.period.id === pc.period.id);
          for (const cohort of COHORTS) {
            const expected = sum(pc.cells, cohort);
            if (expected.enrolments === 0 && expected.counts.every((n) => n === 0)) continue;
            expect(laPeriod).toBeDefined();
            expect(sum(laPeriod!.cells, cohort)).toEqual(expected);
            // And the metrics answer from the LA cells equals the one from all enrolments together.
            const [row1] = metricRows(
              { cells: laPeriod!.cells, bySchool: laPeriod!.bySchool, weeks: [] },
              { cohort, population: 'all' },
            );
            expect(row1.enrolments).toBe(expected.enrolments);
            expect(row1.persistentAbsenceCount).toBe(expected.persistentAbsence);
          }
        }
      }),
      { numRuns: 40 },
    );
  });
});

describe('replaceContribution', () => {
  const digest = (r: PupilRow) => `${r.v}`;
  /** Cells as a comparable set: order of cells and schools does not matter to any figure. */
  const canonical = (la: LaView) =>
    la.periods.map((p) => ({
      id: p.period.id,
      cells: p.cells
        .map((c) =>
          JSON.stringify([
            c.cohort,
            c.compulsory,
            c.phase,
            c.yearGroup,
            c.sex,
            c.enrolments,
            c.persistentAbsence,
            c.severeAbsence,
            c.counts,
          ]),
        )
        .sort(),
    }));

  it("keeps the LA figures equal to a full rollup while schools' views are replaced one at a time, in any order", () => {
    const code = fc.constantFrom('/', 'L', 'I', 'N', 'U', '#', '');
    const rowArb = fc.record({
      school: fc.constantFrom('100001', '100002', '100003'),
      pupil: fc.integer({ min: 1, max: 5 }),
      day: fc.integer({ min: 0, max: 9 }),
      am: code,
      pm: code,
      yg: fc.constantFrom('3', '9'),
    });
    fc.assert(
      fc.property(
        fc.array(fc.array(rowArb, { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 5 }),
        fc.boolean(),
        (batches, outside) => {
          const agg = emptyAggregate(YEAR);
          const applied = new Map<string, ReturnType<typeof schoolContribution>>();
          const rows = new Map<string, RegisterRow[]>();
          let version = 0;
          for (const batch of batches) {
            for (const s of batch)
              rows.set(s.school, [
                ...(rows.get(s.school) ?? []),
                row(s.school, s.pupil, DAYS[s.day], s.am, s.pm, { yearGroup: s.yg }),
              ]);
            // Only the schools this batch touched are replaced, as the rollup does.
            for (const urn of new Set(batch.map((s) => s.school))) {
              const next = schoolContribution(
                view(register(urn, rows.get(urn)!)),
                ++version,
                urn === '100002' ? 'primary' : 'secondary',
                outside && urn === '100003',
                digest,
              );
              replaceContribution(agg, applied.get(urn), next);
              applied.set(urn, next);
            }
          }
          const full = rollupLa(
            YEAR,
            [...rows.entries()].map(([urn, list]) => ({
              view: view(register(urn, list)),
              version: 1,
              phase: urn === '100002' ? 'primary' : 'secondary',
              outOfArea: outside && urn === '100003',
            })),
          );
          const incremental = laViewOf(agg);
          expect(canonical(incremental)).toEqual(canonical(full));
          expect(incremental.markedDays).toBe(full.markedDays);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("removes a school's cells entirely when its contribution is taken out", () => {
    const agg = emptyAggregate(YEAR);
    const a = schoolContribution(
      view(register('100001', [row('100001', 1, DAYS[0], '/', 'N')])),
      1,
      'primary',
      false,
      digest,
    );
    replaceContribution(agg, undefined, a);
    expect(agg.periods.length).toBeGreaterThan(0);
    replaceContribution(agg, a, undefined);
    expect(agg.periods).toEqual([]);
    expect(agg.markedCounts.every((n) => n === 0)).toBe(true);
  });
});

describe('absenceRateOf', () => {
  it('orders worst first by absence over possible, 0 when there are no possible sessions', () => {
    expect(absenceRateOf({ authorised: 1, unauthorised: 1, possible: 20 })).toBe(10);
    expect(absenceRateOf({ authorised: 0, unauthorised: 0, possible: 0 })).toBe(0);
  });
});

describe('cells', () => {
  it('keep a count per code in ALL_CODES order', () => {
    const r = register('100001', [row('100001', 1, DAYS[0], 'C1', 'Y7')]);
    const [pc] = schoolCells(r, () => [], PERIODS);
    const t = sum(pc.cells, 'all');
    expect(t.counts[ALL_CODES.indexOf('C1')]).toBe(1);
    expect(t.counts[ALL_CODES.indexOf('Y7')]).toBe(1);
    expect(t.enrolments).toBe(1);
  });
});
