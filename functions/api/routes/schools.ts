/**
 * Schools: the registry with data freshness (latest date received, unmarked sessions) and headline
 * figures; one school's detail adds its breaks (holidays) for an academic year from its merged
 * calendar — its register (authoritative for the dates it covers), its own calendar, the LA
 * calendar and the bank holidays, in that order of authority (shared/domain/calendar.ts).
 */
import * as z from 'zod';
import { runtimeConfig } from '../../../shared/config.js';
import { mayReadSchoolDataQuality, maySeeSchool } from '../../../shared/domain/access.js';
import { breaksForYear, schoolCalendar, type SchoolCalendar } from '../../../shared/domain/calendar.js';
import { countUnresolvedN, unresolvedNSessions } from '../../../shared/domain/data-quality.js';
import { academicYearOf, academicYearStart, addDays, todayInEngland } from '../../../shared/domain/dates.js';
import { bankHolidayCoverage } from '../../../shared/formats/bank-holidays.js';
import { calendarSourcesFor, calendarSourcesForSchools } from '../../../shared/store/calendars.js';
import { listSchools, getSchool, type SchoolRecord } from '../../../shared/store/schools.js';
import { Urn } from '../../../shared/schemas/common.js';
import { csvResponse, defineRoute, json, problem, wantsCsv } from '../http.js';
import { currentSchoolView } from '../view-cache.js';

const School = z
  .object({
    urn: z.string(), name: z.string().nullable(), phase: z.string().nullable(), type: z.string().nullable(), laCode: z.string().nullable(),
    outOfArea: z.boolean(), inRegistry: z.boolean(), latestDate: z.string().nullable(), lastReturnAt: z.string().nullable(),
    unmarkedSessions: z.number().int(),
    unresolvedNSessions: z.number().int()
      .describe("sessions still coded N (reason not yet provided) more than the LA's limit of school days after their date, as at today (data quality, not an offence)"),
    outstandingNSessions: z.number().int().describe('sessions the register holds coded N, however recent'),
    unresolvedNLimitSchoolDays: z.number().int().describe("the LA's limit (LaSettings.unresolvedNSchoolDays, default 5)"),
    headline: z.record(z.string(), z.number().nullable()).nullable(),
  })
  .meta({ id: 'School' });

const UnresolvedN = z
  .object({
    upn: z.string(), forename: z.string().nullable(), surname: z.string().nullable(), date: z.string(), session: z.enum(['AM', 'PM']),
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

function view(s: SchoolRecord, calendar: SchoolCalendar | undefined, today: string) {
  const limit = runtimeConfig().settings.unresolvedNSchoolDays;
  const byDate = s.nSessionsByDate ?? {};
  return {
    urn: s.urn, name: s.name ?? null, phase: s.phase ?? null, type: s.type ?? null, laCode: s.laCode ?? null,
    outOfArea: s.outOfArea ?? false, inRegistry: s.inRegistry ?? false, latestDate: s.latestDate ?? null,
    lastReturnAt: s.lastReturnAt ?? null, unmarkedSessions: s.unmarkedSessions ?? 0,
    unresolvedNSessions: calendar ? countUnresolvedN(byDate, calendar, today, limit) : 0,
    outstandingNSessions: Object.values(byDate).reduce((n, c) => n + c, 0),
    unresolvedNLimitSchoolDays: limit,
    headline: s.headline ?? null,
  };
}

/** Each school's calendar for the year its N sessions are in (only schools holding any N). */
async function calendarsForN(schools: readonly SchoolRecord[]): Promise<Map<string, SchoolCalendar>> {
  const out = new Map<string, SchoolCalendar>();
  const byYear = new Map<number, string[]>();
  for (const s of schools) {
    if (!s.nSessionsByDate || Object.keys(s.nSessionsByDate).length === 0 || s.nSessionsYear === undefined) continue;
    const list = byYear.get(s.nSessionsYear) ?? [];
    list.push(s.urn);
    byYear.set(s.nSessionsYear, list);
  }
  for (const [year, urns] of byYear) {
    for (const [urn, sources] of await calendarSourcesForSchools(urns, year)) out.set(urn, schoolCalendar(sources));
  }
  return out;
}

export const schoolRoutes = [
  defineRoute({
    method: 'GET', path: '/v1/schools', access: 'read_schools', audit: { none: 'registry details, freshness and headline figures: nothing about pupils' }, tags: ['schools'],
    summary: 'Every school: registry details, latest date received, unmarked sessions and headline figures',
    response: z.object({ items: z.array(School), nextCursor: z.null() }),
    csv: true,
    handler: async ({ principal, event }) => {
      let schools = await listSchools();
      schools = schools.filter((s) => maySeeSchool(principal, s.urn));
      const today = todayInEngland();
      const calendars = await calendarsForN(schools);
      const items = schools.map((s) => view(s, calendars.get(s.urn), today));
      if (wantsCsv(event)) {
        return csvResponse('schools.csv', ['urn', 'name', 'phase', 'type', 'laCode', 'outOfArea', 'latestDate', 'lastReturnAt', 'unmarkedSessions', 'unresolvedNSessions', 'outstandingNSessions', 'attendanceRate', 'absenceRate', 'persistentAbsenceRate', 'severeAbsenceRate'],
          items.map((s) => ({ ...s, ...(s.headline ?? {}) })));
      }
      return json(200, { items, nextCursor: null });
    },
  }),
  defineRoute({
    method: 'GET', path: '/v1/schools/{urn}', access: 'read_schools', audit: { none: 'registry details, breaks and headline figures: nothing about pupils' }, tags: ['schools'],
    summary: 'One school, with its breaks (holidays) for the academic year from its register and calendars',
    query: z.object({ academicYear: z.coerce.number().int().min(2000).max(2100).optional() }),
    response: School.extend({ academicYear: z.number().int(), breaks: z.array(SchoolBreak), calendar: CalendarSources }),
    handler: async ({ principal, params, query }) => {
      const urn = Urn.safeParse(params.urn);
      if (!urn.success || !maySeeSchool(principal, urn.data)) throw problem(404, 'No such school.');
      const year = query.academicYear ?? academicYearOf(todayInEngland());
      const [school, sources] = await Promise.all([getSchool(urn.data), calendarSourcesFor(urn.data, year)]);
      // A school known only by the term dates uploaded for it (not yet in the registry, no returns) is still shown.
      if (!school && !sources.held.own) throw problem(404, 'No such school.');
      const calendar = schoolCalendar(sources);
      const nCalendar = school?.nSessionsYear === undefined || school.nSessionsYear === year ? calendar : (await calendarsForN([school])).get(urn.data);
      return json(200, {
        ...view(school ?? { urn: urn.data }, nCalendar, todayInEngland()),
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
  defineRoute({
    method: 'GET', path: '/v1/schools/{urn}/unresolved-n', access: 'read_data_quality', audit: { action: 'read_unresolved_n' }, tags: ['schools'],
    summary: "A school's unresolved N: sessions still coded N (reason not yet provided) more than the LA's limit of school days after their date (data quality, not an offence; docs/design.md §2.5)",
    query: z.object({ academicYear: z.coerce.number().int().min(2000).max(2100).optional() }),
    response: z.object({
      urn: z.string(), academicYear: z.number().int(), asAt: z.string(), limitSchoolDays: z.number().int(),
      outstandingNSessions: z.number().int(), items: z.array(UnresolvedN), nextCursor: z.null(),
    }),
    csv: true,
    handler: async ({ audit, principal, params, query, event }) => {
      const urn = Urn.safeParse(params.urn);
      if (!urn.success || !mayReadSchoolDataQuality(principal, urn.data)) {
        audit.record({ target: `school:${String(params.urn).slice(0, 20)}`, outcome: 'not_found' });
        throw problem(404, 'No such school.');
      }
      const today = todayInEngland();
      const year = query.academicYear ?? academicYearOf(today);
      const [held, sources] = await Promise.all([currentSchoolView(urn.data, year), calendarSourcesFor(urn.data, year)]);
      if (!held && !(await getSchool(urn.data))) {
        audit.record({ target: `school:${urn.data}`, outcome: 'not_found', urn: urn.data });
        throw problem(404, 'No such school.');
      }
      const limit = runtimeConfig().settings.unresolvedNSchoolDays;
      const names = new Map((held?.pupils ?? []).map((r) => [r.upn, r]));
      const outstanding = held?.nSessions ?? [];
      const items = unresolvedNSessions(outstanding, schoolCalendar(sources), today, limit).map((n) => ({
        upn: n.upn, forename: names.get(n.upn)?.forename ?? null, surname: names.get(n.upn)?.surname ?? null,
        date: n.date, session: n.session, schoolDaysSince: n.schoolDaysSince,
      }));
      audit.pupils({ target: `school:${urn.data}:unresolved-n`, outcome: 'ok', urn: urn.data }, items.map((i) => i.upn));
      if (wantsCsv(event)) return csvResponse(`unresolved-n-${urn.data}-${today}.csv`, ['upn', 'forename', 'surname', 'date', 'session', 'schoolDaysSince'], items);
      return json(200, { urn: urn.data, academicYear: year, asAt: today, limitSchoolDays: limit, outstandingNSessions: outstanding.length, items, nextCursor: null });
    },
  }),
];
