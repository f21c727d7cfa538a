/**
 * Answering a metrics question from cells: filter by cohort and population, group by one dimension,
 * and turn each group's totals into a metrics row (docs/design.md §4). Also decides whether a requested
 * period can be answered from a materialised one: exactly when both contain the same marked days.
 */
import { COHORTS, type Cohort } from './cohorts.js';
import { groupCells, inPopulation, toMetricsRow, type Cell, type MetricsRow, type Population } from './metrics.js';
import type { LaCell, SchoolCell } from './la-view.js';
import { dayRange, weekOfPeriod, type Period } from './periods.js';

export const GROUP_BY = ['cohort', 'school', 'phase', 'year_group', 'sex', 'week'] as const;
export type GroupBy = (typeof GROUP_BY)[number];

export interface MetricsSource {
  /** Cells of the period (LA: with phase; school: without). */
  cells: ReadonlyArray<LaCell>;
  /** Per-school cells of the period (for groupBy school / phase). */
  bySchool: ReadonlyArray<SchoolCell>;
  /** Week periods with their cells, for groupBy week. */
  weeks: ReadonlyArray<{ period: Period; cells: ReadonlyArray<Cell> }>;
}

export interface MetricsQuestion {
  cohort: Cohort;
  groupBy?: GroupBy;
  population: Population;
  /** Cohorts the caller may see (a Virtual School Head's); all when undefined. */
  allowedCohorts?: readonly Cohort[];
}

const byKey = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const YEAR_GROUP_ORDER = [
  'N1',
  'N2',
  'R',
  '1',
  '2',
  '3',
  '4',
  '5',
  '6',
  '7',
  '8',
  '9',
  '10',
  '11',
  '12',
  '13',
  '14',
  'unknown',
];
const yearGroupOrder = (a: string, b: string) => {
  const ia = YEAR_GROUP_ORDER.indexOf(a);
  const ib = YEAR_GROUP_ORDER.indexOf(b);
  return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || byKey(a, b);
};

export function metricRows(source: MetricsSource, q: MetricsQuestion): MetricsRow[] {
  const inScope = (c: Cell) => inPopulation(c, q.population);
  switch (q.groupBy) {
    case undefined:
      return [
        ...groupCells(
          source.cells,
          (c) => inScope(c) && c.cohort === q.cohort,
          () => '',
        ).values(),
      ].map((t) => toMetricsRow({ cohort: q.cohort }, t));
    case 'cohort': {
      const allowed = new Set(q.allowedCohorts ?? COHORTS);
      const groups = groupCells(
        source.cells,
        (c) => inScope(c) && allowed.has(c.cohort),
        (c) => c.cohort,
      );
      return COHORTS.filter((c) => groups.has(c)).map((c) => toMetricsRow({ cohort: c }, groups.get(c)!));
    }
    case 'year_group': {
      const groups = groupCells(
        source.cells,
        (c) => inScope(c) && c.cohort === q.cohort,
        (c) => c.yearGroup ?? 'unknown',
      );
      return [...groups.keys()]
        .sort(yearGroupOrder)
        .map((k) => toMetricsRow({ cohort: q.cohort, yearGroup: k }, groups.get(k)!));
    }
    case 'sex': {
      const groups = groupCells(
        source.cells,
        (c) => inScope(c) && c.cohort === q.cohort,
        (c) => c.sex ?? 'unknown',
      );
      return [...groups.keys()].sort(byKey).map((k) => toMetricsRow({ cohort: q.cohort, sex: k }, groups.get(k)!));
    }
    case 'school': {
      const groups = groupCells(
        source.bySchool,
        (c) => inScope(c) && c.cohort === q.cohort,
        (c) => c.urn,
      );
      const phase = new Map(source.bySchool.map((c) => [c.urn, c.phase]));
      return [...groups.keys()]
        .sort(byKey)
        .map((k) =>
          toMetricsRow({ cohort: q.cohort, urn: k, ...(phase.get(k) ? { phase: phase.get(k) } : {}) }, groups.get(k)!),
        );
    }
    case 'phase': {
      const groups = groupCells(
        source.bySchool,
        (c) => inScope(c) && c.cohort === q.cohort,
        (c) => c.phase ?? 'unknown',
      );
      return [...groups.keys()].sort(byKey).map((k) => toMetricsRow({ cohort: q.cohort, phase: k }, groups.get(k)!));
    }
    case 'week':
      return source.weeks
        .map((w) => ({
          week: weekOfPeriod(w.period) ?? w.period.from,
          totals: [
            ...groupCells(
              w.cells,
              (c) => inScope(c) && c.cohort === q.cohort,
              () => '',
            ).values(),
          ][0],
        }))
        .filter((w) => w.totals !== undefined)
        .sort((a, b) => byKey(a.week, b.week))
        .map((w) => toMetricsRow({ cohort: q.cohort, week: w.week }, w.totals));
  }
}

/** Day slots with any mark in [fromDay, toDay], from a '0'/'1' string of marked days. */
function markedIn(markedDays: string, fromDay: number, toDay: number): number[] {
  const out: number[] = [];
  for (let d = Math.max(0, fromDay); d <= Math.min(toDay, markedDays.length - 1); d++)
    if (markedDays[d] === '1') out.push(d);
  return out;
}

/**
 * The materialised period that covers exactly the same marked days as [from, to], if any — then its
 * figures are the requested period's figures, exactly (no mark lies in one and not the other).
 */
export function equivalentPeriod(
  candidates: readonly Period[],
  requested: Period,
  markedDays: string,
): Period | undefined {
  const [rf, rt] = dayRange(requested);
  const wanted = markedIn(markedDays, rf, rt).join(',');
  for (const p of candidates) {
    const [pf, pt] = dayRange(p);
    if (markedIn(markedDays, pf, pt).join(',') === wanted) return p;
  }
  return undefined;
}
