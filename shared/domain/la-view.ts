/**
 * LA-wide figures: the sum of the schools' cells (an enrolment belongs to one school, so per-enrolment
 * PA/SA counts add up across schools), kept as the sum of per-school contributions so one school's
 * change replaces only its own share. The LA lists (a pupil at two schools appears once, from the most
 * recent computation of their combined figures) are DynamoDB items: shared/store/la-lists.ts.
 */
import { inVirtualSchool } from './access.js';
import { VIRTUAL_SCHOOL_COHORTS } from './cohorts.js';
import type { Cell } from './metrics.js';
import type { Period } from './periods.js';
import type { PupilRow, SchoolView } from './school-view.js';

export interface LaCell extends Cell {
  phase?: string;
}

export interface SchoolCell extends Cell {
  urn: string;
  phase?: string;
}

export interface LaPeriodCells {
  period: Period;
  detailed: boolean;
  /** Summed over schools, keyed by cohort, population, phase, year group and sex (weeks: cohort and population). */
  cells: LaCell[];
  /** For detailed periods: per school, by cohort and population (groupBy school / phase). */
  bySchool: SchoolCell[];
}

export interface LaView {
  academicYear: number;
  /** The school view versions this was built from. */
  sources: Record<string, number>;
  periods: LaPeriodCells[];
  /** Union over schools of the days with any mark ('0'/'1' per day slot). */
  markedDays: string;
}

const VIRTUAL_SCHOOL_COHORT_SET: ReadonlySet<string> = new Set(VIRTUAL_SCHOOL_COHORTS);

function add(into: Cell, from: Cell): void {
  into.enrolments += from.enrolments;
  into.persistentAbsence += from.persistentAbsence;
  into.severeAbsence += from.severeAbsence;
  for (let i = 0; i < from.counts.length; i++) into.counts[i] += from.counts[i];
}

function copy<C extends Cell>(c: Cell, extra: Partial<C>): C {
  return { ...c, counts: [...c.counts], ...extra } as C;
}

/**
 * LA-wide figures cover the LA's own schools. A school outside the LA (where the Virtual School
 * sends registers for looked-after children placed there) adds only to the Virtual School's cohorts
 * (cla, plac, cin, cpp, social_worker): the virtual school counts its children wherever they are
 * educated, but the LA's figures for all pupils, FSM or SEND are its own schools'.
 */
export function rollupLa(
  academicYear: number,
  schools: ReadonlyArray<{ view: SchoolView; version: number; phase?: string; outOfArea?: boolean }>,
): LaView {
  const byPeriod = new Map<
    string,
    { period: Period; detailed: boolean; cells: Map<string, LaCell>; bySchool: Map<string, SchoolCell> }
  >();
  const sources: Record<string, number> = {};
  const marked = new Uint8Array(366);
  for (const { view, version, phase, outOfArea } of schools) {
    sources[view.urn] = version;
    for (let d = 0; d < (view.markedDays?.length ?? 0); d++) if (view.markedDays[d] === '1') marked[d] = 1;
    for (const pc of view.periods) {
      let acc = byPeriod.get(pc.period.id);
      if (!acc)
        byPeriod.set(
          pc.period.id,
          (acc = { period: pc.period, detailed: pc.detailed, cells: new Map(), bySchool: new Map() }),
        );
      for (const cell of pc.cells) {
        if (outOfArea && !VIRTUAL_SCHOOL_COHORT_SET.has(cell.cohort)) continue;
        const key = pc.detailed
          ? `${cell.cohort}|${cell.compulsory}|${phase}|${cell.yearGroup}|${cell.sex}`
          : `${cell.cohort}|${cell.compulsory}`;
        const held = acc.cells.get(key);
        if (held) add(held, cell);
        else acc.cells.set(key, copy<LaCell>(cell, pc.detailed ? { phase } : {}));
        if (pc.detailed) {
          const sk = `${cell.cohort}|${cell.compulsory}|${view.urn}`;
          const s = acc.bySchool.get(sk);
          if (s) add(s, cell);
          else
            acc.bySchool.set(
              sk,
              copy<SchoolCell>({ ...cell, yearGroup: undefined, sex: undefined }, { urn: view.urn, phase }),
            );
        }
      }
    }
  }
  const periods = [...byPeriod.values()].map((p) => ({
    period: p.period,
    detailed: p.detailed,
    cells: [...p.cells.values()],
    bySchool: [...p.bySchool.values()].map((c) => {
      const { yearGroup: _y, sex: _s, ...rest } = c;
      return rest;
    }),
  }));
  periods.sort((a, b) =>
    a.period.from < b.period.from ? -1 : a.period.from > b.period.from ? 1 : a.period.kind < b.period.kind ? 1 : -1,
  );
  return { academicYear, sources, periods, markedDays: Array.from(marked).join('') };
}

/** Absence as a share of possible sessions, for ordering lists worst first. */
/** Whether a pupil's row is in any LA list: flagged, or on the Virtual School's roll. */
export function listedInLaLists(row: Pick<PupilRow, 'flags' | 'everCohorts'>): boolean {
  return row.flags.length > 0 || inVirtualSchool(row.everCohorts);
}

export function absenceRateOf(row: Pick<PupilRow, 'authorised' | 'unauthorised' | 'possible'>): number {
  return row.possible > 0 ? ((row.authorised + row.unauthorised) / row.possible) * 100 : 0;
}

/**
 * The absence rate as the lists show it (one decimal place): the lists' order is worst first by this,
 * then by UPN (docs/decisions.md, "The sort key is the rate as shown").
 */
export function shownAbsenceRate(row: Pick<PupilRow, 'authorised' | 'unauthorised' | 'possible'>): number {
  return rateAsShown(absenceRateOf(row));
}

/** A rate (per cent) to the one decimal place the lists show. */
export const rateAsShown = (rate: number): number => Number(rate.toFixed(1));

// ---- Incremental LA figures (docs/design.md §3 "LA-wide rollup") -----------------------------------

/** One school's share of the LA figures, as the rollup applied it (phase and area as they were then). */
export interface SchoolContribution {
  urn: string;
  academicYear: number;
  /** The school view version it was computed from. */
  version: number;
  phase?: string;
  outOfArea: boolean;
  /** The school's cells keyed as the LA keeps them, per period (bySchool: its own per-school cells). */
  periods: LaPeriodCells[];
  markedDays: string;
  /** A digest per pupil row of the view, so the next contribution knows which rows changed. */
  rows: Record<string, string>;
}

export interface AggregateCell extends LaCell {
  /** How many schools' contributions hold this cell: removed when the last one goes. */
  n: number;
}

/**
 * The LA figures as the sum of the applied contributions. Its size depends on the cohorts, phases,
 * year groups and periods, not on the number of schools (apart from `sources`, one number a school).
 */
export interface LaAggregate {
  academicYear: number;
  version: number;
  /** The school view version whose contribution is in the sums, per school. */
  sources: Record<string, number>;
  periods: Array<{ period: Period; detailed: boolean; n: number; cells: AggregateCell[] }>;
  /** Per day slot, how many schools have a mark that day. */
  markedCounts: number[];
  /** Rows per LA list partition (docs/design.md §7), for the lists' totals. */
  listCounts: Record<string, number>;
}

export function emptyAggregate(academicYear: number): LaAggregate {
  return {
    academicYear,
    version: 0,
    sources: {},
    periods: [],
    markedCounts: new Array<number>(366).fill(0),
    listCounts: {},
  };
}

/** A school's contribution: the LA rollup of that school alone (the same keys, cells and rules). */
export function schoolContribution(
  view: SchoolView,
  version: number,
  phase: string | undefined,
  outOfArea: boolean,
  rowDigest: (row: PupilRow) => string,
): SchoolContribution {
  const la = rollupLa(view.academicYear, [{ view, version, phase, outOfArea }]);
  return {
    urn: view.urn,
    academicYear: view.academicYear,
    version,
    ...(phase !== undefined ? { phase } : {}),
    outOfArea,
    periods: la.periods,
    markedDays: la.markedDays,
    rows: Object.fromEntries(view.pupils.map((r) => [r.upn, rowDigest(r)])),
  };
}

const cellKey = (c: LaCell, detailed: boolean) =>
  detailed ? `${c.cohort}|${c.compulsory}|${c.phase}|${c.yearGroup}|${c.sex}` : `${c.cohort}|${c.compulsory}`;

function periodOrder(a: { period: Period }, b: { period: Period }): number {
  return a.period.from < b.period.from
    ? -1
    : a.period.from > b.period.from
      ? 1
      : a.period.kind < b.period.kind
        ? 1
        : a.period.kind > b.period.kind
          ? -1
          : 0;
}

/**
 * Replace one school's contribution in the aggregate: take out `old` (the one it holds, if any) and
 * put in `next` (if any). Work in proportion to the one school's cells; the aggregate is changed in place.
 */
export function replaceContribution(
  agg: LaAggregate,
  old: SchoolContribution | undefined,
  next: SchoolContribution | undefined,
): void {
  const byId = new Map(
    agg.periods.map((p) => [p.period.id, { p, cells: new Map(p.cells.map((c) => [cellKey(c, p.detailed), c])) }]),
  );
  const apply = (c: SchoolContribution, sign: 1 | -1) => {
    for (let d = 0; d < c.markedDays.length; d++)
      if (c.markedDays[d] === '1') agg.markedCounts[d] = (agg.markedCounts[d] ?? 0) + sign;
    for (const pc of c.periods) {
      let held = byId.get(pc.period.id);
      if (!held) {
        if (sign < 0) throw new Error(`aggregate lacks period ${pc.period.id} it should hold`);
        held = { p: { period: pc.period, detailed: pc.detailed, n: 0, cells: [] }, cells: new Map() };
        byId.set(pc.period.id, held);
      }
      held.p.n += sign;
      for (const cell of pc.cells) {
        const key = cellKey(cell, pc.detailed);
        const into = held.cells.get(key);
        if (into) {
          into.n += sign;
          into.enrolments += sign * cell.enrolments;
          into.persistentAbsence += sign * cell.persistentAbsence;
          into.severeAbsence += sign * cell.severeAbsence;
          for (let i = 0; i < cell.counts.length; i++) into.counts[i] += sign * cell.counts[i];
        } else {
          if (sign < 0) throw new Error(`aggregate lacks a cell it should hold (${pc.period.id})`);
          held.cells.set(key, { ...cell, counts: [...cell.counts], n: 1 });
        }
      }
    }
  };
  if (old) apply(old, -1);
  if (next) apply(next, 1);
  agg.periods = [...byId.values()]
    .filter(({ p }) => p.n > 0)
    .map(({ p, cells }) => ({ ...p, cells: [...cells.values()].filter((c) => c.n > 0) }))
    .sort(periodOrder);
}

/** The aggregate as the LA view the metrics read (per-school cells are kept per school: bySchool empty). */
export function laViewOf(agg: LaAggregate): LaView {
  return {
    academicYear: agg.academicYear,
    sources: agg.sources,
    periods: agg.periods.map((p) => ({
      period: p.period,
      detailed: p.detailed,
      bySchool: [],
      cells: p.cells.map(({ n: _n, ...c }) => c),
    })),
    markedDays: agg.markedCounts.map((n) => (n > 0 ? '1' : '0')).join(''),
  };
}
