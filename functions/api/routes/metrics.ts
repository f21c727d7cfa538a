/**
 * GET /v1/metrics: DfE-methodology figures for the LA or one school, any cohort, grouped by one
 * dimension, for any period; the query is planned and answered by shared/app/query-metrics.ts.
 */
import * as z from 'zod';
import { GROUP_BY } from '../../../shared/domain/metrics-query.js';
import { CohortName, IsoDate, Stats, Urn } from '../../../shared/schemas/common.js';
import { queryMetrics } from '../../../shared/app/query-metrics.js';
import { app } from '../app.js';
import { csvResponse, defineRoute, json, resultOf, wantsCsv } from '../http.js';

const MetricsRowSchema = Stats.extend({
  key: z.object({
    cohort: z.string().optional(),
    urn: z.string().optional(),
    phase: z.string().optional(),
    yearGroup: z.string().optional(),
    sex: z.string().optional(),
    week: z.string().optional(),
    placement: z.enum(['in_area', 'out_of_area']).optional(),
  }),
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

const CSV_COLUMNS = [
  'enrolments',
  'possibleSessions',
  'attendedSessions',
  'authorisedAbsenceSessions',
  'unauthorisedAbsenceSessions',
  'absenceSessions',
  'lateSessions',
  'attendanceRate',
  'absenceRate',
  'authorisedAbsenceRate',
  'unauthorisedAbsenceRate',
  'persistentAbsenceCount',
  'persistentAbsenceRate',
  'severeAbsenceCount',
  'severeAbsenceRate',
];

export const metricsRoutes = [
  defineRoute({
    method: 'GET',
    path: '/v1/metrics',
    access: 'read_metrics',
    audit: { action: 'read_metrics' },
    tags: ['metrics'],
    summary:
      'Attendance, absence, PA and SA by the DfE methodology for the LA or a school, by cohort, school, phase, year group, sex, week or placement (in or out of the LA)',
    query: Query,
    response: z.object({
      scope: z.enum(['la', 'school']),
      urn: z.string().nullable(),
      cohort: z.string(),
      population: z.enum(['all', 'compulsory']),
      period: z.object({ from: z.string(), to: z.string(), materialised: z.string().nullable() }),
      items: z.array(MetricsRowSchema),
      comparison: z.object({ complement: MetricsRowSchema.nullable(), la: MetricsRowSchema.nullable() }).optional(),
    }),
    csv: true,
    handler: async ({ audit, principal, query, event }) => {
      const answer = resultOf(await queryMetrics(app, { principal, audit }, query));
      if (wantsCsv(event)) {
        const { scope, cohort, period, items } = answer;
        const columns = [
          'cohort',
          'urn',
          'phase',
          'yearGroup',
          'sex',
          'week',
          ...(query.groupBy === 'placement' ? ['placement'] : []),
          ...CSV_COLUMNS,
        ];
        return csvResponse(
          `metrics-${scope}-${cohort}-${period.from}-${period.to}.csv`,
          columns,
          items.map((r) => ({ ...r.key, ...r })),
        );
      }
      return json(200, answer);
    },
  }),
];
