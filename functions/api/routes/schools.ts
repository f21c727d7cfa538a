/** Schools: the registry with data freshness (latest date received, unmarked sessions) and headline figures. */
import * as z from 'zod';
import { academicYearOf, todayInEngland } from '../../../shared/domain/dates.js';
import { listSchools, getSchool } from '../../../shared/store/schools.js';
import { Urn } from '../../../shared/schemas/common.js';
import { csvResponse, defineRoute, json, problem, wantsCsv } from '../http.js';

const School = z
  .object({
    urn: z.string(), name: z.string().nullable(), phase: z.string().nullable(), type: z.string().nullable(), laCode: z.string().nullable(),
    outOfArea: z.boolean(), inRegistry: z.boolean(), latestDate: z.string().nullable(), lastReturnAt: z.string().nullable(),
    unmarkedSessions: z.number().int(), headline: z.record(z.string(), z.number().nullable()).nullable(),
  })
  .meta({ id: 'School' });

function view(s: Awaited<ReturnType<typeof getSchool>> & object) {
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
    response: School.extend({ academicYear: z.number().int() }),
    handler: async ({ principal, params, query }) => {
      const urn = Urn.safeParse(params.urn);
      if (!urn.success || (principal.role === 'school' && principal.urn !== urn.data)) throw problem(404, 'No such school.');
      const school = await getSchool(urn.data);
      if (!school) throw problem(404, 'No such school.');
      const year = query.academicYear ?? academicYearOf(todayInEngland());
      return json(200, { ...view(school), academicYear: year });
    },
  }),
];
