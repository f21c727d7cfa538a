/**
 * Schools (docs/design.md §3): the registry with data freshness (latest date received, unmarked
 * sessions, unresolved N) and headline figures; one school's detail adds its breaks for an academic
 * year from its merged calendar — its register (authoritative for the dates it covers), its own
 * calendar, the LA calendar and the bank holidays, in that order of authority (shared/domain/calendar.ts);
 * and a school's unresolved N sessions, by pupil (data quality, not an offence; docs/design.md §2.5).
 *
 * Scope (shared/domain/access.ts): a school sees itself only; another school is "not found".
 */
import { mayReadSchoolDataQuality, maySeeSchool, ownSchoolOf, type Principal } from '../domain/access.js';
import { breaksForYear, schoolCalendar, type SchoolCalendar, type SchoolCalendarSources } from '../domain/calendar.js';
import { countUnresolvedN, unresolvedNSessions } from '../domain/data-quality.js';
import { academicYearOf, academicYearStart, addDays, todayInEngland } from '../domain/dates.js';
import { bankHolidayCoverage } from '../formats/bank-holidays.js';
import { LIMITS } from '../config.js';
import { cachePerSource, VersionedCache } from '../lib/versioned-cache.js';
import { Urn } from '../schemas/common.js';
import type { SchoolRecord } from '../store/schools.js';
import type { AuditTrail } from './audit.js';
import { done, refuse, type Outcome } from './outcome.js';
import type { SchoolCalendars, Schools, Settings, Views } from './ports.js';

export type SchoolsDeps = { schools: Schools; schoolCalendars: SchoolCalendars; views: Views } & Settings;

/** The register's coverage of the year, as the domain calendar applies it (see calendarSourcesFor). */
function registerCoversTo(sources: SchoolCalendarSources, year: number): string | null {
  const registers = sources.registers ?? [];
  if (registers.some((r) => r.academicYear > year && r.lastMarkedDay >= 0)) return `${year + 1}-07-31`;
  const own = registers.find((r) => r.academicYear === year);
  return own && own.lastMarkedDay >= 0 ? addDays(academicYearStart(year), own.lastMarkedDay) : null;
}

function schoolView(deps: SchoolsDeps, s: SchoolRecord, calendar: SchoolCalendar | undefined, today: string) {
  const limit = deps.settings().unresolvedNSchoolDays;
  const byDate = s.nSessionsByDate ?? {};
  return {
    urn: s.urn,
    name: s.name ?? null,
    phase: s.phase ?? null,
    type: s.type ?? null,
    laCode: s.laCode ?? null,
    outOfArea: s.outOfArea ?? false,
    inRegistry: s.inRegistry ?? false,
    latestDate: s.latestDate ?? null,
    lastReturnAt: s.lastReturnAt ?? null,
    unmarkedSessions: s.unmarkedSessions ?? 0,
    unresolvedNSessions: calendar ? countUnresolvedN(byDate, calendar, today, limit) : 0,
    outstandingNSessions: Object.values(byDate).reduce((n, c) => n + c, 0),
    unresolvedNLimitSchoolDays: limit,
    headline: s.headline ?? null,
  };
}

export type SchoolView = ReturnType<typeof schoolView>;

/**
 * Merged calendars held per process and per store (shared/lib/versioned-cache.ts), by school and
 * year. A school's calendar moves only with a calendar upload (the calendars' version) or a return
 * it sends (its register's session days): its record's lastReturnAt and latestDate are written
 * after the session days, so a calendar built after reading them is at least as new as they say.
 */
const heldCalendars = cachePerSource<SchoolCalendars, VersionedCache<string, SchoolCalendar, string>>(
  () => new VersionedCache({ capacity: LIMITS.maxCachedSchools }),
);

/** Each school's calendar for the year its N sessions are in (only schools holding any N). */
async function calendarsForN(
  deps: SchoolsDeps,
  schools: readonly SchoolRecord[],
): Promise<Map<string, SchoolCalendar>> {
  const out = new Map<string, SchoolCalendar>();
  const withN = schools.filter(
    (s) => s.nSessionsByDate && Object.keys(s.nSessionsByDate).length > 0 && s.nSessionsYear !== undefined,
  );
  if (withN.length === 0) return out;
  const held = heldCalendars(deps.schoolCalendars);
  const calendars = await deps.schoolCalendars.version();
  const byYear = new Map<number, Array<{ urn: string; key: string; version: string }>>();
  for (const s of withN) {
    const year = s.nSessionsYear as number;
    const key = `${year}#${s.urn}`;
    const version = `${calendars}|${s.lastReturnAt ?? ''}|${s.latestDate ?? ''}`;
    const calendar = held.peek(key, version);
    if (calendar) out.set(s.urn, calendar);
    else byYear.set(year, [...(byYear.get(year) ?? []), { urn: s.urn, key, version }]);
  }
  for (const [year, missing] of byYear) {
    const sources = await deps.schoolCalendars.sourcesForSchools(
      missing.map((m) => m.urn),
      year,
    );
    for (const m of missing) {
      const found = sources.get(m.urn);
      if (!found) continue;
      const calendar = schoolCalendar(found);
      held.set(m.key, m.version, calendar);
      out.set(m.urn, calendar);
    }
  }
  return out;
}

async function viewsOf(deps: SchoolsDeps, schools: readonly SchoolRecord[]): Promise<SchoolView[]> {
  const today = todayInEngland();
  const calendars = await calendarsForN(deps, schools);
  return schools.map((s) => schoolView(deps, s, calendars.get(s.urn), today));
}

/** Every school the caller may see, with its freshness and headline figures (the CSV export). */
export async function schoolList(deps: SchoolsDeps, principal: Principal): Promise<SchoolView[]> {
  const own = ownSchoolOf(principal);
  const schools = own ? [await deps.schools.get(own)].filter((s) => s !== undefined) : await deps.schools.list();
  return viewsOf(
    deps,
    schools.filter((s) => maySeeSchool(principal, s.urn)),
  );
}

/**
 * A page of the schools the caller may see, in URN order (issue 17): what one request reads and
 * builds is a page, not the LA, however many schools it has. A school sees a page of one: itself.
 */
export async function schoolPage(
  deps: SchoolsDeps,
  principal: Principal,
  q: { limit?: number; cursor?: string },
): Promise<{ items: SchoolView[]; nextCursor: string | null }> {
  const own = ownSchoolOf(principal);
  if (own) {
    const school = q.cursor ? undefined : await deps.schools.get(own);
    return { items: await viewsOf(deps, school ? [school] : []), nextCursor: null };
  }
  const page = await deps.schools.page(q.limit ?? DEFAULT_SCHOOLS_PAGE, q.cursor);
  return {
    items: await viewsOf(
      deps,
      page.items.filter((s) => maySeeSchool(principal, s.urn)),
    ),
    nextCursor: page.nextCursor,
  };
}

/** Schools a page when the caller does not say (the API's page size). */
const DEFAULT_SCHOOLS_PAGE = 50;

/** One school (`urn` as given in the path), with its breaks for the academic year and where its calendar comes from. */
export async function schoolDetail(
  deps: SchoolsDeps,
  principal: Principal,
  query: { urn: string | undefined; academicYear?: number },
) {
  const urn = Urn.safeParse(query.urn);
  if (!urn.success || !maySeeSchool(principal, urn.data)) return refuse('not_found', 'No such school.');
  const year = query.academicYear ?? academicYearOf(todayInEngland());
  const [school, sources] = await Promise.all([
    deps.schools.get(urn.data),
    deps.schoolCalendars.sourcesFor(urn.data, year),
  ]);
  // A school known only by the term dates uploaded for it (not yet in the registry, no returns) is still shown.
  if (!school && !sources.held.own) return refuse('not_found', 'No such school.');
  const calendar = schoolCalendar(sources);
  const nCalendar =
    school?.nSessionsYear === undefined || school.nSessionsYear === year
      ? calendar
      : (await calendarsForN(deps, [school])).get(urn.data);
  return done({
    ...schoolView(deps, school ?? { urn: urn.data }, nCalendar, todayInEngland()),
    academicYear: year,
    breaks: breaksForYear(calendar, year),
    calendar: {
      registerCoversTo: registerCoversTo(sources, year),
      ownCalendar: sources.held.own,
      laCalendar: sources.held.la,
      bankHolidays: bankHolidayCoverage(),
    },
  });
}

export type UnresolvedN = {
  upn: string;
  forename: string | null;
  surname: string | null;
  date: string;
  session: 'AM' | 'PM';
  schoolDaysSince: number;
};

/**
 * A school's sessions still coded N more than the LA's limit of school days after their date, as at
 * today. Refused as not found (noted on the caller's trail) for a school outside the caller's scope
 * or one the service does not know; the list read itself is noted by the door.
 */
export async function unresolvedNOf(
  deps: SchoolsDeps,
  { principal, audit }: { principal: Principal; audit: AuditTrail },
  query: { urn: string | undefined; academicYear?: number },
): Promise<
  Outcome<{
    urn: string;
    academicYear: number;
    asAt: string;
    limitSchoolDays: number;
    outstandingNSessions: number;
    items: UnresolvedN[];
  }>
> {
  const urn = Urn.safeParse(query.urn);
  if (!urn.success || !mayReadSchoolDataQuality(principal, urn.data)) {
    audit.record({ target: `school:${String(query.urn).slice(0, 20)}`, outcome: 'not_found' });
    return refuse('not_found', 'No such school.');
  }
  const today = todayInEngland();
  const year = query.academicYear ?? academicYearOf(today);
  const [held, sources] = await Promise.all([
    deps.views.schoolView(urn.data, year),
    deps.schoolCalendars.sourcesFor(urn.data, year),
  ]);
  if (!held && !(await deps.schools.get(urn.data))) {
    audit.record({ target: `school:${urn.data}`, outcome: 'not_found', urn: urn.data });
    return refuse('not_found', 'No such school.');
  }
  const limit = deps.settings().unresolvedNSchoolDays;
  const names = new Map((held?.pupils ?? []).map((r) => [r.upn, r]));
  const outstanding = held?.nSessions ?? [];
  const items = unresolvedNSessions(outstanding, schoolCalendar(sources), today, limit).map((n) => ({
    upn: n.upn,
    forename: names.get(n.upn)?.forename ?? null,
    surname: names.get(n.upn)?.surname ?? null,
    date: n.date,
    session: n.session,
    schoolDaysSince: n.schoolDaysSince,
  }));
  return done({
    urn: urn.data,
    academicYear: year,
    asAt: today,
    limitSchoolDays: limit,
    outstandingNSessions: outstanding.length,
    items,
  });
}
