/**
 * Schools: the registry with data freshness (latest date received, unmarked sessions) and headline
 * figures; one school's detail adds its breaks (holidays) for an academic year from its merged
 * calendar — its register (authoritative for the dates it covers), its own calendar, the LA
 * calendar and the bank holidays, in that order of authority (shared/domain/calendar.ts).
 */
import * as z from 'zod';
import { breaksForYear, schoolCalendar } from '../../../shared/domain/calendar.js';
import { academicYearOf, academicYearStart, addDays, todayInEngland } from '../../../shared/domain/dates.js';
import { bankHolidayCoverage } from '../../../shared/formats/bank-holidays.js';
import { calendarSourcesFor } from '../../../shared/store/calendars.js';
import { listSchools, getSchool, type SchoolRecord } from '../../../shared/store/schools.js';
import { Urn } from '../../../shared/schemas/common.js';
import { csvResponse, defineRoute, json, problem, wantsCsv } from '../http.js';

const School = z
  .object({
    urn: z.string(), name: z.string().nullable(), phase: z.string().nullable(), type: z.string().nullable(), laCode: z.string().nullable(),
    outOfArea: z.boolean(), inRegistry: z.boolean(), latestDate: z.string().nullable(), lastReturnAt: z.string().nullable(),
    unmarkedSessions: z.number().int(), headline: z.record(z.string(), z.number().nullable()).nullable(),
  })
  .meta({ id: 'School' });

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
    registerCoversTo: z.string().nullable().describe("last date of the year for which the school's own register decides (null: no register this year)"),
    ownCalendar: z.boolean().describe('the school has its own term dates'),
    laCalendar: z.boolean().describe('the LA calendar is loaded'),
    bankHolidays: z.object({ from: z.string(), to: z.string() }).describe('dates the shipped bank holidays cover'),
  })
  .meta({ id: 'CalendarSources' });

/** The register's coverage of the year, as the domain calendar applies it (see calendarSourcesFor). */
function registerCoversTo(sources: Awaited<ReturnType<typeof calendarSourcesFor>>, year: number): string | null {
  const registers = sources.registers ?? [];
  if (registers.some((r) => r.academicYear > year && r.lastMarkedDay >= 0)) return `${year + 1}-07-31`;
  const own = registers.find((r) => r.academicYear === year);
  return own && own.lastMarkedDay >= 0 ? addDays(academicYearStart(year), own.lastMarkedDay) : null;
}

function view(s: SchoolRecord) {
  return {
    urn: s.urn, name: s.name ?? null, phase: s.phase ?? null, type: s.type ?? null, laCode: s.laCode ?? null,
    outOfArea: s.outOfArea ?? false, inRegistry: s.inRegistry ?? false, latestDate: s.latestDate ?? null,
    lastReturnAt: s.lastReturnAt ?? null, unmarkedSessions: s.unmarkedSessions ?? 0, headline: s.headline ?? null,
  };
}

export const schoolRoutes = [
  defineRoute({
    method: 'GET', path: '/v1/schools', access: 'read_schools', tags: ['schools'],
    summary: 'Every school: registry details, latest date received, unmarked sessions and headline figures',
    response: z.object({ items: z.array(School), nextCursor: z.null() }),
    csv: true,
    handler: async ({ principal, event }) => {
      let schools = await listSchools();
      if (principal.role === 'school') schools = schools.filter((s) => s.urn === principal.urn);
      const items = schools.map(view);
      if (wantsCsv(event)) {
        return csvResponse('schools.csv', ['urn', 'name', 'phase', 'type', 'laCode', 'outOfArea', 'latestDate', 'lastReturnAt', 'unmarkedSessions', 'attendanceRate', 'absenceRate', 'persistentAbsenceRate', 'severeAbsenceRate'],
          items.map((s) => ({ ...s, ...(s.headline ?? {}) })));
      }
      return json(200, { items, nextCursor: null });
    },
  }),
  defineRoute({
    method: 'GET', path: '/v1/schools/{urn}', access: 'read_schools', tags: ['schools'],
    summary: 'One school, with its breaks (holidays) for the academic year from its register and calendars',
    query: z.object({ academicYear: z.coerce.number().int().min(2000).max(2100).optional() }),
    response: School.extend({ academicYear: z.number().int(), breaks: z.array(SchoolBreak), calendar: CalendarSources }),
    handler: async ({ principal, params, query }) => {
      const urn = Urn.safeParse(params.urn);
      if (!urn.success || (principal.role === 'school' && principal.urn !== urn.data)) throw problem(404, 'No such school.');
      const year = query.academicYear ?? academicYearOf(todayInEngland());
      const [school, sources] = await Promise.all([getSchool(urn.data), calendarSourcesFor(urn.data, year)]);
      // A school known only by the term dates uploaded for it (not yet in the registry, no returns) is still shown.
      if (!school && !sources.held.own) throw problem(404, 'No such school.');
      const calendar = schoolCalendar(sources);
      return json(200, {
        ...view(school ?? { urn: urn.data }),
        academicYear: year,
        breaks: breaksForYear(calendar, year),
        calendar: {
          registerCoversTo: registerCoversTo(sources, year),
          ownCalendar: sources.held.own,
          laCalendar: sources.held.la,
          bankHolidays: bankHolidayCoverage(),
        },
      });
    },
  }),
];
