/**
 * GET /v1/metrics: DfE-methodology figures for the LA or one school, any cohort, grouped by one
 * dimension, for any period. Materialised periods (the year to date, census terms, weeks) are read
 * from the views; any other period is computed exactly from the registers.
 *
 * `groupBy=placement` (the Virtual School's "wherever they are educated"): schools in the LA against
 * schools outside it (the registry's out-of-area flag; a school not in the registry counts as in the
 * LA). Rows are sums of per-school cells, so each cohort-enrolment counts once, at its school.
 */
import * as z from 'zod';
import { defaultMetricsCohort, mayCompareWithComplement, mayReadCohortMetrics, mayReadSchoolMetrics, metricsCohortsOf, metricsScope } from '../../../shared/domain/access.js';
import { VIRTUAL_SCHOOL_COHORTS, complementOf, type Cohort } from '../../../shared/domain/cohorts.js';
import { academicYearEnd, academicYearOf, academicYearStart, todayInEngland } from '../../../shared/domain/dates.js';
import { rollupLa, type LaCell, type LaView, type SchoolCell } from '../../../shared/domain/la-view.js';
import { groupCells, inPopulation, toMetricsRow, type MetricsRow, type PeriodCells, type Population } from '../../../shared/domain/metrics.js';
import { equivalentPeriod, GROUP_BY, metricRows, type MetricsSource } from '../../../shared/domain/metrics-query.js';
import { customPeriod, standardPeriods, type Period } from '../../../shared/domain/periods.js';
import type { SchoolView } from '../../../shared/domain/school-view.js';
import { getSchool, getSchools, listSchools } from '../../../shared/store/schools.js';
import { listSchoolCells } from '../../../shared/store/views.js';
import { CohortName, IsoDate, Stats, Urn } from '../../../shared/schemas/common.js';
import { cellsForPeriod } from '../any-period.js';
import { csvResponse, defineRoute, json, problem, wantsCsv } from '../http.js';
import { currentLaView, currentSchoolView } from '../view-cache.js';

export const MetricsRowSchema = Stats.extend({
  key: z.object({ cohort: z.string().optional(), urn: z.string().optional(), phase: z.string().optional(), yearGroup: z.string().optional(), sex: z.string().optional(), week: z.string().optional(), placement: z.enum(['in_area', 'out_of_area']).optional() }),
  enrolments: z.number().int(),
  persistentAbsenceCount: z.number().int(),
  persistentAbsenceRate: z.number().nullable(),
  severeAbsenceCount: z.number().int(),
  severeAbsenceRate: z.number().nullable(),
}).meta({ id: 'MetricsRow' });

const Query = z.object({
  scope: z.enum(['la', 'school']).optional(),
  urn: Urn.optional(),
  cohort: CohortName.optional(),
  groupBy: z.enum([...GROUP_BY, 'placement']).optional(),
  from: IsoDate.optional(),
  to: IsoDate.optional(),
  population: z.enum(['all', 'compulsory']).default('all'),
});

const PLACEMENTS = ['in_area', 'out_of_area'] as const;
type Placement = (typeof PLACEMENTS)[number];
type Row = Omit<MetricsRow, 'key'> & { key: MetricsRow['key'] & { placement?: Placement } };

/** One row per placement (schools in the LA, schools outside it), summed from the per-school cells. */
async function placementRows(source: MetricsSource, q: { cohort: Cohort; population: Population }): Promise<Row[]> {
  const urns = [...new Set(source.bySchool.map((c) => c.urn))];
  const registry = urns.length ? await getSchools(urns) : new Map();
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

function laSource(view: Pick<LaView, 'periods'>, period: Period, range: { from: string; to: string }): MetricsSource {
  const p = view.periods.find((x) => x.period.id === period.id);
  return {
    cells: p?.cells ?? [],
    bySchool: p?.bySchool ?? [],
    weeks: view.periods.filter((x) => x.period.kind === 'week' && x.period.to >= range.from && x.period.from <= range.to),
  };
}

function schoolSource(periods: readonly PeriodCells[], period: Period, urn: string, phase: string | undefined, range: { from: string; to: string }): MetricsSource {
  const p = periods.find((x) => x.period.id === period.id);
  const cells: LaCell[] = (p?.cells ?? []).map((c) => ({ ...c, phase }));
  const bySchool: SchoolCell[] = (p?.cells ?? []).map((c) => ({ ...c, urn, phase, yearGroup: undefined, sex: undefined }));
  return { cells, bySchool, weeks: periods.filter((x) => x.period.kind === 'week' && x.period.to >= range.from && x.period.from <= range.to) };
}

/** A custom period's figures as a one-period LA view built from the schools' registers. */
async function customLaView(period: Period, urns?: ReadonlySet<string>, phases?: Map<string, string | undefined>, outOfArea?: ReadonlySet<string>): Promise<LaView> {
  const perSchool = await cellsForPeriod(period, urns);
  const asViews = perSchool.map(({ urn, cells }) => ({
    view: { urn, academicYear: period.academicYear, registerVersion: 0, periods: [cells], pupils: [], unmarkedSessions: 0, markedDays: '' } satisfies SchoolView,
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
async function clipWeeks(source: MetricsSource, range: { from: string; to: string }, cellsOf: (p: Period) => Promise<LaView>): Promise<MetricsSource> {
  const weeks = await Promise.all(
    source.weeks.map(async (w) => {
      if (w.period.from >= range.from && w.period.to <= range.to) return w;
      const clipped = customPeriod(w.period.academicYear, w.period.from < range.from ? range.from : w.period.from, w.period.to > range.to ? range.to : w.period.to);
      const view = await cellsOf(clipped);
      return { period: w.period, cells: view.periods.find((p) => p.period.id === clipped.id)?.cells ?? [] };
    }),
  );
  return { ...source, weeks };
}

export const metricsRoutes = [
  defineRoute({
    method: 'GET', path: '/v1/metrics', access: 'read_metrics', audit: { action: 'read_metrics' }, tags: ['metrics'],
    summary: 'Attendance, absence, PA and SA by the DfE methodology for the LA or a school, by cohort, school, phase, year group, sex, week or placement (in or out of the LA)',
    query: Query,
    response: z.object({
      scope: z.enum(['la', 'school']), urn: z.string().nullable(), cohort: z.string(), population: z.enum(['all', 'compulsory']),
      period: z.object({ from: z.string(), to: z.string(), materialised: z.string().nullable() }),
      items: z.array(MetricsRowSchema),
      comparison: z.object({ complement: MetricsRowSchema.nullable(), la: MetricsRowSchema.nullable() }).optional(),
    }),
    csv: true,
    handler: async ({ audit, principal, query, event }) => {
      const today = todayInEngland();
      const { scope, urn } = metricsScope(principal, query);
      if (scope === 'school' && !urn) throw problem(400, 'scope=school needs ?urn=', [{ field: 'urn', message: 'required with scope=school' }]);
      if (!mayReadSchoolMetrics(principal, urn, scope)) throw problem(404, 'No such school.');
      const cohort: Cohort = query.cohort ?? defaultMetricsCohort(principal);
      if (!mayReadCohortMetrics(principal, cohort)) {
        throw problem(403, `The Virtual School sees the ${VIRTUAL_SCHOOL_COHORTS.join(', ')} cohorts.`, [{ field: 'cohort', message: 'not a Virtual School cohort' }]);
      }
      const to = query.to ?? today;
      const year = academicYearOf(query.from ?? to);
      if (academicYearOf(to) !== year) throw problem(400, 'A period must lie within one academic year (1 August to 31 July).', [{ field: 'to', message: 'in a different academic year from `from`' }]);
      const from = query.from ?? academicYearStart(year);
      if (from > to) throw problem(400, '`from` is after `to`.', [{ field: 'from', message: 'must not be after to' }]);
      const requested = customPeriod(year, from, to < academicYearEnd(year) ? to : academicYearEnd(year));
      const range = { from, to };
      const byPlacement = query.groupBy === 'placement';
      const groupBy = query.groupBy === 'placement' ? 'school' : query.groupBy;
      const question = { cohort, groupBy, population: query.population, allowedCohorts: metricsCohortsOf(principal) };
      // Week cells are kept by cohort and population only (no school, year group or sex), so a week
      // answers a request as its materialised equivalent only when no such grouping is asked for.
      const weekServes = query.groupBy === undefined || query.groupBy === 'cohort';
      const candidates = standardPeriods(year).filter((p) => p.kind !== 'week' || weekServes);
      // A custom LA period is rolled up from the registers: give it the schools' phases when rows show them.
      const registry = scope === 'la' ? await listSchools() : [];
      const phases = scope === 'la' && (groupBy === 'school' || groupBy === 'phase')
        ? new Map(registry.map((s) => [s.urn, s.phase] as const))
        : undefined;
      const outOfArea = new Set(registry.filter((s) => s.outOfArea).map((s) => s.urn));

      let source: MetricsSource | undefined;
      let laForComparison: MetricsSource | undefined;
      let materialised: Period | undefined;
      const laView = await currentLaView(year);
      if (scope === 'la') {
        materialised = laView ? equivalentPeriod(candidates, requested, laView.markedDays) : undefined;
        source = laView && materialised ? laSource(laView, materialised, range) : laSource(await customLaView(requested, undefined, phases, outOfArea), requested, range);
        // Per-school cells are kept a school an item (the aggregate does not grow with the schools): read only when rows are per school.
        if (laView && materialised && (groupBy === 'school' || groupBy === 'phase')) source = { ...source, bySchool: await listSchoolCells(year, materialised.id) };
        if (!materialised && query.groupBy === 'week' && laView) {
          source = await clipWeeks({ ...source, weeks: laSource(laView, requested, range).weeks }, range, (p) => customLaView(p, undefined, phases, outOfArea));
        }
      } else {
        const school = await getSchool(urn!);
        const view = await currentSchoolView(urn!, year);
        if (!view && !school) throw problem(404, 'No such school.');
        materialised = view ? equivalentPeriod(candidates, requested, view.markedDays) : undefined;
        if (view && materialised) {
          source = schoolSource(view.periods, materialised, urn!, school?.phase, range);
        } else {
          const custom = await customLaView(requested, new Set([urn!]), new Map([[urn!, school?.phase]]));
          source = laSource(custom, requested, range);
          if (query.groupBy === 'week' && view) {
            source = await clipWeeks({ ...source, weeks: schoolSource(view.periods, requested, urn!, school?.phase, range).weeks }, range, (p) => customLaView(p, new Set([urn!]), new Map([[urn!, school?.phase]])));
          }
        }
        if (laView) {
          const laPeriod = equivalentPeriod(standardPeriods(year), requested, laView.markedDays);
          laForComparison = laPeriod ? laSource(laView, laPeriod, range) : undefined;
        }
      }

      const items: Row[] = byPlacement ? await placementRows(source, question) : metricRows(source, question);
      let comparison: { complement: MetricsRow | null; la: MetricsRow | null } | undefined;
      if (!query.groupBy) {
        const complement = complementOf(cohort);
        comparison = {
          complement: complement && mayCompareWithComplement(principal) ? (metricRows(source, { ...question, cohort: complement })[0] ?? null) : null,
          la: laForComparison ? (metricRows(laForComparison, question)[0] ?? null) : null,
        };
      }
      audit.record({ target: `${scope}:${urn ?? 'la'}:${cohort}:${query.groupBy ?? '-'}`, outcome: 'ok' });
      if (wantsCsv(event)) {
        const columns = ['cohort', 'urn', 'phase', 'yearGroup', 'sex', 'week', ...(byPlacement ? ['placement'] : []), 'enrolments', 'possibleSessions', 'attendedSessions', 'authorisedAbsenceSessions',
          'unauthorisedAbsenceSessions', 'absenceSessions', 'lateSessions', 'attendanceRate', 'absenceRate', 'authorisedAbsenceRate',
          'unauthorisedAbsenceRate', 'persistentAbsenceCount', 'persistentAbsenceRate', 'severeAbsenceCount', 'severeAbsenceRate'];
        return csvResponse(`metrics-${scope}-${cohort}-${from}-${to}.csv`, columns, items.map((r) => ({ ...r.key, ...r })));
      }
      return json(200, {
        scope, urn: urn ?? null, cohort, population: query.population,
        period: { from, to, materialised: materialised?.id ?? null },
        items, ...(comparison ? { comparison } : {}),
      });
    },
  }),
];
