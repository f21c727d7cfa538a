/**
 * Schools: the registry with data freshness (latest date received, unmarked sessions) and headline
 * figures; one school's detail adds its breaks (holidays) for an academic year from its merged
 * calendar — its register (authoritative for the dates it covers), its own calendar, the LA
 * calendar and the bank holidays, in that order of authority (shared/domain/calendar.ts).
 */
import * as z from 'zod';
import { schoolDetail, schoolList, schoolPage, unresolvedNOf } from '../../../shared/app/schools.js';
import { app } from '../app.js';
import { csvResponse, defineRoute, json, pageQuery, resultOf, wantsCsv } from '../http.js';

const School = z
  .object({
    urn: z.string(),
    name: z.string().nullable(),
    phase: z.string().nullable(),
    type: z.string().nullable(),
    laCode: z.string().nullable(),
    outOfArea: z.boolean(),
    inRegistry: z.boolean(),
    latestDate: z.string().nullable(),
    lastReturnAt: z.string().nullable(),
    unmarkedSessions: z.number().int(),
    unresolvedNSessions: z
      .number()
      .int()
      .describe(
        "sessions still coded N (reason not yet provided) more than the LA's limit of school days after their date, as at today (data quality, not an offence)",
      ),
    outstandingNSessions: z.number().int().describe('sessions the register holds coded N, however recent'),
    unresolvedNLimitSchoolDays: z
      .number()
      .int()
      .describe("the LA's limit (LaSettings.unresolvedNSchoolDays, default 5)"),
    headline: z.record(z.string(), z.number().nullable()).nullable(),
  })
  .meta({ id: 'School' });

const UnresolvedN = z
  .object({
    upn: z.string(),
    forename: z.string().nullable(),
    surname: z.string().nullable(),
    date: z.string(),
    session: z.enum(['AM', 'PM']),
    schoolDaysSince: z.number().int().describe('school days after the session up to and including today'),
  })
  .meta({ id: 'UnresolvedN' });

const SchoolBreak = z
  .object({
    start: z.string().describe('first calendar day without sessions'),
    end: z.string().describe('last calendar day without sessions (inclusive)'),
    days: z.number().int(),
    label: z.string().nullable().describe('the closure label in force, else a bank holiday title'),
    labels: z.array(z.string()),
  })
  .meta({ id: 'SchoolBreak' });

const CalendarSources = z
  .object({
    registerCoversTo: z
      .string()
      .nullable()
      .describe("last date of the year for which the school's own register decides (null: no register this year)"),
    ownCalendar: z.boolean().describe('the school has its own term dates'),
    laCalendar: z.boolean().describe('the LA calendar is loaded'),
    bankHolidays: z.object({ from: z.string(), to: z.string() }).describe('dates the shipped bank holidays cover'),
  })
  .meta({ id: 'CalendarSources' });

const UNRESOLVED_N_CSV = ['upn', 'forename', 'surname', 'date', 'session', 'schoolDaysSince'];
const SCHOOL_CSV = [
  'urn',
  'name',
  'phase',
  'type',
  'laCode',
  'outOfArea',
  'latestDate',
  'lastReturnAt',
  'unmarkedSessions',
  'unresolvedNSessions',
  'outstandingNSessions',
  'attendanceRate',
  'absenceRate',
  'persistentAbsenceRate',
  'severeAbsenceRate',
];

export const schoolRoutes = [
  defineRoute({
    method: 'GET',
    path: '/v1/schools',
    access: 'read_schools',
    audit: { none: 'registry details, freshness and headline figures: nothing about pupils' },
    tags: ['schools'],
    summary:
      'The schools, a page at a time in URN order (follow nextCursor for the rest): registry details, latest date received, unmarked sessions and headline figures; the CSV has every school',
    query: z.object(pageQuery),
    response: z.object({ items: z.array(School), nextCursor: z.string().nullable() }),
    csv: true,
    handler: async ({ principal, event, query }) => {
      if (wantsCsv(event)) {
        const items = await schoolList(app, principal);
        return csvResponse(
          'schools.csv',
          SCHOOL_CSV,
          items.map((s) => ({ ...s, ...(s.headline ?? {}) })),
        );
      }
      return json(200, await schoolPage(app, principal, query));
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/schools/{urn}',
    access: 'read_schools',
    audit: { none: 'registry details, breaks and headline figures: nothing about pupils' },
    tags: ['schools'],
    summary: 'One school, with its breaks (holidays) for the academic year from its register and calendars',
    query: z.object({ academicYear: z.coerce.number().int().min(2000).max(2100).optional() }),
    response: School.extend({
      academicYear: z.number().int(),
      breaks: z.array(SchoolBreak),
      calendar: CalendarSources,
    }),
    handler: async ({ principal, params, query }) =>
      json(200, resultOf(await schoolDetail(app, principal, { urn: params.urn, academicYear: query.academicYear }))),
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/schools/{urn}/unresolved-n',
    access: 'read_data_quality',
    audit: { action: 'read_unresolved_n' },
    tags: ['schools'],
    summary:
      "A school's unresolved N: sessions still coded N (reason not yet provided) more than the LA's limit of school days after their date (data quality, not an offence; docs/design.md §2.5)",
    query: z.object({ academicYear: z.coerce.number().int().min(2000).max(2100).optional() }),
    response: z.object({
      urn: z.string(),
      academicYear: z.number().int(),
      asAt: z.string(),
      limitSchoolDays: z.number().int(),
      outstandingNSessions: z.number().int(),
      items: z.array(UnresolvedN),
      nextCursor: z.null(),
    }),
    csv: true,
    handler: async ({ audit, principal, params, query, event }) => {
      const held = resultOf(
        await unresolvedNOf(app, { principal, audit }, { urn: params.urn, academicYear: query.academicYear }),
      );
      audit.pupils(
        { target: `school:${held.urn}:unresolved-n`, outcome: 'ok', urn: held.urn },
        held.items.map((i) => i.upn),
      );
      if (wantsCsv(event))
        return csvResponse(`unresolved-n-${held.urn}-${held.asAt}.csv`, UNRESOLVED_N_CSV, held.items);
      return json(200, { ...held, nextCursor: null });
    },
  }),
];
