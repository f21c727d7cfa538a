/**
 * GET /v1/metrics/reference: the published figures the LA's own are compared with (issue 18) —
 * national, its region and every LA in the region by phase, from the DfE's statistics, and national
 * figures by pupil characteristic — with their source and period. Aggregates only, nothing about
 * pupils, so nothing is audited.
 */
import * as z from 'zod';
import { REFERENCE_PHASES, referenceFor } from '../../../shared/domain/reference.js';
import { runtimeConfig } from '../../../shared/config.js';
import { defineRoute, json } from '../http.js';

const Row = z
  .object({
    level: z.enum(['national', 'regional', 'la']),
    code: z.string(),
    laCode: z.string().nullable(),
    name: z.string(),
    regionCode: z.string().nullable(),
    regionName: z.string().nullable(),
    phase: z.string(),
    schools: z.number().nullable(),
    enrolments: z.number().nullable(),
    attendanceRate: z.number().nullable(),
    absenceRate: z.number().nullable(),
    authorisedAbsenceRate: z.number().nullable(),
    unauthorisedAbsenceRate: z.number().nullable(),
    persistentAbsenceRate: z.number().nullable(),
  })
  .meta({ id: 'PublishedRow' });

export const referenceRoutes = [
  defineRoute({
    method: 'GET',
    path: '/v1/metrics/reference',
    access: 'read_metrics',
    audit: { none: 'published aggregates only' },
    tags: ['metrics'],
    summary:
      "Published comparators: national, regional and each LA's year-to-date rates by phase (DfE statistics), and national figures by characteristic, with source and period",
    query: z.object({
      phase: z.enum(REFERENCE_PHASES).default('total'),
      region: z
        .string()
        .regex(/^E\d{8}$/)
        .optional()
        .describe("a region code (E12…); default: the LA's own region"),
    }),
    response: z.object({
      source: z.object({
        title: z.string(),
        publisher: z.string(),
        period: z.string(),
        retrieved: z.string(),
        url: z.string(),
        licence: z.string(),
      }),
      phase: z.string(),
      national: Row.nullable(),
      region: Row.nullable(),
      la: Row.nullable(),
      regionLas: z.array(Row),
      regions: z.array(z.object({ code: z.string(), name: z.string() })),
      characteristics: z.array(
        z.object({
          cohort: z.string(),
          label: z.string(),
          absenceRate: z.number().nullable(),
          persistentAbsenceRate: z.number().nullable(),
          severeAbsenceRate: z.number().nullable(),
          period: z.string(),
          source: z.string(),
        }),
      ),
    }),
    handler: async ({ query }) => json(200, referenceFor(runtimeConfig().laCode, query.phase, query.region)),
  }),
];
