/**
 * Query metrics (docs/design.md §4 GET /v1/metrics): DfE-methodology figures for the LA or one
 * school, any cohort, grouped by one dimension, for any period. A period that matches a materialised
 * one (the year to date, census terms, weeks) is read from the views; any other is computed exactly
 * from the registers.
 *
 * Grouping by placement (the Virtual School's "wherever they are educated"): schools in the LA against
 * schools outside it (the registry's out-of-area flag; a school not in the registry counts as in the
 * LA). Rows are sums of per-school cells, so each cohort-enrolment counts once, at its school.
 */
import {
  defaultMetricsCohort,
  mayCompareWithComplement,
  mayReadCohortMetrics,
  mayReadSchoolMetrics,
  metricsCohortsOf,
  metricsScope,
  type Principal,
} from '../domain/access.js';
import { complementOf, VIRTUAL_SCHOOL_COHORTS, type Cohort } from '../domain/cohorts.js';
import { academicYearEnd, academicYearOf, academicYearStart, todayInEngland } from '../domain/dates.js';
import { rollupLa, type LaCell, type LaView, type SchoolCell } from '../domain/la-view.js';
import {
  groupCells,
  inPopulation,
  toMetricsRow,
  type MetricsRow,
  type PeriodCells,
  type Population,
} from '../domain/metrics.js';
import { equivalentPeriod, metricRows, type GroupBy, type MetricsSource } from '../domain/metrics-query.js';
import { customPeriod, standardPeriods, type Period } from '../domain/periods.js';
import type { SchoolView } from '../domain/school-view.js';
import type { AuditTrail } from './audit.js';
import { done, refuse, type Outcome } from './outcome.js';
import type { Registers, Schools, Views } from './ports.js';

export interface MetricsDeps {
  views: Views;
  registers: Registers;
  schools: Schools;
}

export interface MetricsQuery {
  scope?: 'la' | 'school';
  urn?: string;
  cohort?: Cohort;
  groupBy?: GroupBy | 'placement';
  from?: string;
  to?: string;
  population: Population;
}

const PLACEMENTS = ['in_area', 'out_of_area'] as const;
type Placement = (typeof PLACEMENTS)[number];
export type MetricsItem = Omit<MetricsRow, 'key'> & { key: MetricsRow['key'] & { placement?: Placement } };

export interface MetricsAnswer {
  scope: 'la' | 'school';
  urn: string | null;
  cohort: Cohort;
  population: Population;
  period: { from: string; to: string; materialised: string | null };
  items: MetricsItem[];
  comparison?: { complement: MetricsRow | null; la: MetricsRow | null };
}

type Range = { from: string; to: string };

/** A year's standard periods (the year, its terms, its 40-odd weeks): worked out once per process and year, not per request. */
const periodsOfYear = new Map<number, readonly Period[]>();
function standardPeriodsOf(year: number): readonly Period[] {
  let periods = periodsOfYear.get(year);
  if (!periods) {
    if (periodsOfYear.size >= 8) periodsOfYear.delete(periodsOfYear.keys().next().value as number);
    periodsOfYear.set(year, (periods = Object.freeze(standardPeriods(year))));
  }
  return periods;
}

/** One row per placement (schools in the LA, schools outside it), summed from the per-school cells. */
async function placementRows(
  deps: MetricsDeps,
  source: MetricsSource,
  q: { cohort: Cohort; population: Population },
): Promise<MetricsItem[]> {
  const urns = [...new Set(source.bySchool.map((c) => c.urn))];
  const registry = urns.length ? await deps.schools.getMany(urns) : new Map();
  const groups = groupCells(
    source.bySchool,
    (c) => inPopulation(c, q.population) && c.cohort === q.cohort,
    (c): Placement => (registry.get(c.urn)?.outOfArea ? 'out_of_area' : 'in_area'),
  );
  return PLACEMENTS.filter((p) => groups.has(p)).map((p) => {
    const row = toMetricsRow({ cohort: q.cohort }, groups.get(p)!);
    return { ...row, key: { ...row.key, placement: p } };
  });
}

function laSource(view: Pick<LaView, 'periods'>, period: Period, range: Range): MetricsSource {
  const p = view.periods.find((x) => x.period.id === period.id);
  return {
    cells: p?.cells ?? [],
    bySchool: p?.bySchool ?? [],
    weeks: view.periods.filter(
      (x) => x.period.kind === 'week' && x.period.to >= range.from && x.period.from <= range.to,
    ),
  };
}

function schoolSource(
  periods: readonly PeriodCells[],
  period: Period,
  urn: string,
  phase: string | undefined,
  range: Range,
): MetricsSource {
  const p = periods.find((x) => x.period.id === period.id);
  const cells: LaCell[] = (p?.cells ?? []).map((c) => ({ ...c, phase }));
  const bySchool: SchoolCell[] = (p?.cells ?? []).map((c) => ({
    ...c,
    urn,
    phase,
    yearGroup: undefined,
    sex: undefined,
  }));
  return {
    cells,
    bySchool,
    weeks: periods.filter((x) => x.period.kind === 'week' && x.period.to >= range.from && x.period.from <= range.to),
  };
}

/** A custom period's figures as a one-period LA view built from the schools' registers. */
async function customLaView(
  deps: MetricsDeps,
  period: Period,
  urns?: ReadonlySet<string>,
  phases?: Map<string, string | undefined>,
  outOfArea?: ReadonlySet<string>,
): Promise<LaView> {
  const perSchool = await deps.registers.cellsForPeriod(period, urns);
  const asViews = perSchool.map(({ urn, cells }) => ({
    view: {
      urn,
      academicYear: period.academicYear,
      registerVersion: 0,
      periods: [cells],
      pupils: [],
      unmarkedSessions: 0,
      markedDays: '',
    } satisfies SchoolView,
    version: 0,
    phase: phases?.get(urn),
    outOfArea: outOfArea?.has(urn) ?? false,
  }));
  return rollupLa(period.academicYear, asViews);
}

/**
 * A custom period cuts its first and last weeks: those rows must count only the period's own days,
 * so the materialised whole-week cells are replaced by the clipped week computed from the registers.
 */
async function clipWeeks(
  source: MetricsSource,
  range: Range,
  cellsOf: (p: Period) => Promise<LaView>,
): Promise<MetricsSource> {
  const weeks = await Promise.all(
    source.weeks.map(async (w) => {
      if (w.period.from >= range.from && w.period.to <= range.to) return w;
      const clipped = customPeriod(
        w.period.academicYear,
        w.period.from < range.from ? range.from : w.period.from,
        w.period.to > range.to ? range.to : w.period.to,
      );
      const view = await cellsOf(clipped);
      return { period: w.period, cells: view.periods.find((p) => p.period.id === clipped.id)?.cells ?? [] };
    }),
  );
  return { ...source, weeks };
}

interface Plan {
  year: number;
  requested: Period;
  range: Range;
  /** Standard periods that may answer the request as its materialised equivalent. */
  candidates: Period[];
}

/** The LA's figures: the materialised period when one is equivalent, else computed from every school's register. */
async function laFigures(deps: MetricsDeps, q: MetricsQuery, plan: Plan, groupBy: GroupBy | undefined) {
  const { year, requested, range, candidates } = plan;
  const laView = await deps.views.laView(year);
  const materialised = laView ? equivalentPeriod(candidates, requested, laView.markedDays) : undefined;
  if (laView && materialised) {
    let source = laSource(laView, materialised, range);
    // Per-school cells are kept a school an item (the LA aggregate does not grow with the schools): read only when rows are per school.
    if (groupBy === 'school' || groupBy === 'phase')
      source = { ...source, bySchool: await deps.views.schoolCells(year, materialised.id) };
    return { source, materialised, laForComparison: undefined };
  }
  // A custom LA period is rolled up from the registers: give it the schools' phases when rows show
  // them, and which schools are out of area. Only here is the registry read: a materialised period
  // needs nothing of it, so an ordinary LA metrics request reads no list that grows with the LA.
  const registry = await deps.schools.list();
  const phases =
    groupBy === 'school' || groupBy === 'phase' ? new Map(registry.map((s) => [s.urn, s.phase] as const)) : undefined;
  const outOfArea = new Set(registry.filter((s) => s.outOfArea).map((s) => s.urn));
  let source = laSource(await customLaView(deps, requested, undefined, phases, outOfArea), requested, range);
  if (q.groupBy === 'week' && laView) {
    source = await clipWeeks({ ...source, weeks: laSource(laView, requested, range).weeks }, range, (p) =>
      customLaView(deps, p, undefined, phases, outOfArea),
    );
  }
  return { source, materialised, laForComparison: undefined };
}

/** One school's figures, and the LA's for the same period to compare with when it is materialised. */
async function schoolFigures(deps: MetricsDeps, q: MetricsQuery, plan: Plan, urn: string) {
  const { year, requested, range, candidates } = plan;
  // Independent reads: one round trip's wait, not three.
  const [laView, school, view] = await Promise.all([
    deps.views.laView(year),
    deps.schools.get(urn),
    deps.views.schoolView(urn, year),
  ]);
  if (!view && !school) return undefined;
  const materialised = view ? equivalentPeriod(candidates, requested, view.markedDays) : undefined;
  let source: MetricsSource;
  if (view && materialised) {
    source = schoolSource(view.periods, materialised, urn, school?.phase, range);
  } else {
    const ofSchool = (p: Period) => customLaView(deps, p, new Set([urn]), new Map([[urn, school?.phase]]));
    source = laSource(await ofSchool(requested), requested, range);
    if (q.groupBy === 'week' && view)
      source = await clipWeeks(
        { ...source, weeks: schoolSource(view.periods, requested, urn, school?.phase, range).weeks },
        range,
        ofSchool,
      );
  }
  const laPeriod = laView ? equivalentPeriod(standardPeriodsOf(year), requested, laView.markedDays) : undefined;
  return { source, materialised, laForComparison: laView && laPeriod ? laSource(laView, laPeriod, range) : undefined };
}

export async function queryMetrics(
  deps: MetricsDeps,
  { principal, audit }: { principal: Principal; audit: AuditTrail },
  q: MetricsQuery,
): Promise<Outcome<MetricsAnswer>> {
  const { scope, urn } = metricsScope(principal, q);
  if (scope === 'school' && !urn)
    return refuse('invalid', 'scope=school needs ?urn=', {
      errors: [{ field: 'urn', message: 'required with scope=school' }],
    });
  if (!mayReadSchoolMetrics(principal, urn, scope)) return refuse('not_found', 'No such school.');
  const cohort: Cohort = q.cohort ?? defaultMetricsCohort(principal);
  if (!mayReadCohortMetrics(principal, cohort)) {
    return refuse('forbidden', `The Virtual School sees the ${VIRTUAL_SCHOOL_COHORTS.join(', ')} cohorts.`, {
      errors: [{ field: 'cohort', message: 'not a Virtual School cohort' }],
    });
  }
  const to = q.to ?? todayInEngland();
  const year = academicYearOf(q.from ?? to);
  if (academicYearOf(to) !== year)
    return refuse('invalid', 'A period must lie within one academic year (1 August to 31 July).', {
      errors: [{ field: 'to', message: 'in a different academic year from `from`' }],
    });
  const from = q.from ?? academicYearStart(year);
  if (from > to)
    return refuse('invalid', '`from` is after `to`.', { errors: [{ field: 'from', message: 'must not be after to' }] });
  const requested = customPeriod(year, from, to < academicYearEnd(year) ? to : academicYearEnd(year));
  const groupBy = q.groupBy === 'placement' ? 'school' : q.groupBy;
  const question = { cohort, groupBy, population: q.population, allowedCohorts: metricsCohortsOf(principal) };
  // Week cells are kept by cohort and population only (no school, year group or sex), so a week
  // answers a request as its materialised equivalent only when no such grouping is asked for.
  const weekServes = q.groupBy === undefined || q.groupBy === 'cohort';
  const plan: Plan = {
    year,
    requested,
    range: { from, to },
    candidates: standardPeriodsOf(year).filter((p) => p.kind !== 'week' || weekServes),
  };
  const figures =
    scope === 'la' ? await laFigures(deps, q, plan, groupBy) : await schoolFigures(deps, q, plan, urn as string);
  if (!figures) return refuse('not_found', 'No such school.');
  const { source, materialised, laForComparison } = figures;
  const items = q.groupBy === 'placement' ? await placementRows(deps, source, question) : metricRows(source, question);
  let comparison: MetricsAnswer['comparison'];
  if (!q.groupBy) {
    const complement = complementOf(cohort);
    comparison = {
      complement:
        complement && mayCompareWithComplement(principal)
          ? (metricRows(source, { ...question, cohort: complement })[0] ?? null)
          : null,
      la: laForComparison ? (metricRows(laForComparison, question)[0] ?? null) : null,
    };
  }
  audit.record({ target: `${scope}:${urn ?? 'la'}:${cohort}:${q.groupBy ?? '-'}`, outcome: 'ok' });
  return done({
    scope,
    urn: urn ?? null,
    cohort,
    population: q.population,
    period: { from, to, materialised: materialised?.id ?? null },
    items,
    ...(comparison ? { comparison } : {}),
  });
}
