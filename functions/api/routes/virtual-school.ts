/**
 * The Virtual School (docs/design.md §1, §4): the looked-after, previously looked-after and social-worker
 * children as one school, wherever they are educated — the roll with figures while in the cohort, the
 * daily alerts, and the termly summary for a child's Personal Education Plan.
 *
 * Scope: a Virtual School Head sees only children who were cla, plac, cin or cpp at any time in the
 * period (from the LA's lists or a school's return), at any school in the LA or out of it; any other
 * child is "not found". LA officers see the same routes; schools and admins do not use them.
 */
import * as z from 'zod';
import { inVirtualSchool, mayReadPupil, mayUseVirtualSchool, type Principal } from '../../../shared/domain/access.js';
import { episodesOverlapping } from '../../../shared/domain/cohorts.js';
import { academicYearEnd, academicYearOf, academicYearStart, addDays, todayInEngland } from '../../../shared/domain/dates.js';
import type { Enrolment } from '../../../shared/domain/pupil-summary.js';
import { totalsOf, toStats } from '../../../shared/domain/stats.js';
import {
  ALERT_TYPES,
  careEntries,
  dailyAlerts,
  DEFAULT_NEW_IN_CARE_DAYS,
  defaultAlertDate,
  pepSummary,
  rollEntry,
  VIRTUAL_SCHOOL_GROUPS,
  type RollEntry,
  type VirtualSchoolChild,
} from '../../../shared/domain/virtual-school.js';
import { englandAndWalesBankHolidays } from '../../../shared/formats/bank-holidays.js';
import { loadCareIndex, type CareIndex } from '../../../shared/store/care.js';
import { getEnrolmentsByKeys, getPupilEnrolments, getSummary } from '../../../shared/store/pupils.js';
import { getSchools, type SchoolRecord } from '../../../shared/store/schools.js';
import { inParallel } from '../../../shared/store/table.js';
import { IsoDate, Stats, Upn, Urn } from '../../../shared/schemas/common.js';
import { csvResponse, defineRoute, json, pageOf, pageQuery, problem, wantsCsv } from '../http.js';
import { laListAll } from '../../../shared/store/la-lists.js';

// ---- Who and whom ----------------------------------------------------------------------------------

/** The Virtual School's routes are for the Virtual School Head and the LA's officers. */
function requireVirtualSchoolRole(principal: Principal): void {
  if (!mayUseVirtualSchool(principal)) {
    throw problem(403, 'The Virtual School routes are for the Virtual School Head and LA officers.');
  }
}

/**
 * Every child the Virtual School holds for the academic year: anyone whose combined figures show a
 * Virtual School cohort at any time in the year (LA lists or a school's flag), and anyone in the LA's
 * lists for the year, on a register or not. Enrolments are those of the year, except for the UPNs
 * in `allYears` (every year: entering care may straddle 1 August).
 */
async function virtualSchoolChildren(year: number, care: CareIndex, allYears: ReadonlySet<string> = new Set()): Promise<VirtualSchoolChild[]> {
  // The roll's own partition: as many rows as the Virtual School's children, not the LA's pupils.
  const rows = new Map((await laListAll(year, 'vs', {})).map((r) => [r.upn, r]));
  const from = academicYearStart(year);
  const to = academicYearEnd(year);
  const upns = new Set<string>();
  for (const r of rows.values()) if (inVirtualSchool(r.everCohorts)) upns.add(r.upn);
  for (const [upn, spans] of care) if (episodesOverlapping(spans, from, to).length > 0) upns.add(upn);

  const enrolments = new Map<string, Enrolment[]>();
  const keys: Array<{ upn: string; academicYear: number; urn: string }> = [];
  const queried: string[] = [];
  for (const upn of upns) {
    const row = rows.get(upn);
    if (row && !allYears.has(upn)) for (const urn of row.urns) keys.push({ upn, academicYear: year, urn });
    else queried.push(upn); // not in the year's pupil lists (yet): ask for whatever is held
  }
  for (const e of await getEnrolmentsByKeys(keys)) {
    const list = enrolments.get(e.upn);
    if (list) list.push(e);
    else enrolments.set(e.upn, [e]);
  }
  await inParallel(queried, 16, async (upn) => {
    enrolments.set(upn, await getPupilEnrolments(upn));
  });
  return [...upns].sort().map((upn) => ({ upn, enrolments: enrolments.get(upn) ?? [], care: care.get(upn) ?? [] }));
}

/** Name and year group from the enrolment the child was most recently listed on in the year. */
function detailsOf(child: VirtualSchoolChild, year: number): { forename: string | null; surname: string | null; dob: string | null; yearGroup: string | null } {
  const latest = child.enrolments
    .filter((e) => e.academicYear === year)
    .sort((a, b) => (a.lastListed < b.lastListed ? 1 : a.lastListed > b.lastListed ? -1 : a.urn < b.urn ? -1 : 1))[0]
    ?? [...child.enrolments].sort((a, b) => (a.lastListed < b.lastListed ? 1 : -1))[0];
  return { forename: latest?.forename ?? null, surname: latest?.surname ?? null, dob: latest?.dob ?? null, yearGroup: latest?.yearGroup ?? null };
}

async function schoolsOf(urns: Iterable<string>): Promise<Map<string, SchoolRecord>> {
  const list = [...new Set(urns)];
  return list.length ? getSchools(list) : new Map();
}

function schoolRef(urn: string, schools: Map<string, SchoolRecord>) {
  const s = schools.get(urn);
  return { urn, name: s?.name ?? null, outOfArea: s?.outOfArea ?? false };
}

function parseUpnParam(raw: string | undefined): string {
  const parsed = Upn.safeParse(raw ?? '');
  if (!parsed.success) throw problem(404, 'No such pupil.');
  return parsed.data;
}

/** A period within one academic year: explicit from/to, else the academic year to date. */
function periodOf(query: { academicYear?: number; from?: string; to?: string }, today: string): { year: number; from: string; to: string } {
  const year = query.from ? academicYearOf(query.from) : query.to ? academicYearOf(query.to) : (query.academicYear ?? academicYearOf(today));
  const yearEnd = academicYearEnd(year);
  const to = query.to ?? (today < yearEnd ? today : yearEnd);
  const from = query.from ?? academicYearStart(year);
  if (academicYearOf(to) !== year) throw problem(400, 'A period must lie within one academic year (1 August to 31 July).', [{ field: 'to', message: 'in a different academic year from `from`' }]);
  if (from > to) throw problem(400, '`from` is after `to`.', [{ field: 'from', message: 'must not be after to' }]);
  return { year, from, to };
}

// ---- Schemas -------------------------------------------------------------------------------------

const SchoolRef = z.object({ urn: z.string(), name: z.string().nullable(), outOfArea: z.boolean() }).meta({ id: 'VirtualSchoolSchool' });

const Alert = z
  .object({
    type: z.enum(ALERT_TYPES), date: z.string(), session: z.enum(['AM', 'PM']).nullable(), code: z.string().nullable(),
    upn: z.string(), forename: z.string().nullable(), surname: z.string().nullable(), yearGroup: z.string().nullable(),
    cohorts: z.array(z.string()), urn: z.string().nullable(), schoolName: z.string().nullable(), outOfArea: z.boolean().nullable(),
    careStart: z.string().nullable(), reason: z.enum(['not_on_any_register', 'no_return_since_care_began']).nullable(), lastListed: z.string().nullable(),
  })
  .meta({ id: 'VirtualSchoolAlert' });

const PepSchool = SchoolRef.extend({ stats: Stats, persistentAbsence: z.boolean(), severeAbsence: z.boolean() });
const PepTerm = z
  .object({
    term: z.string(), label: z.string(), from: z.string(), to: z.string(),
    daysInCohort: z.number().int(), inCohort: z.array(z.object({ from: z.string(), to: z.string() })),
    stats: Stats, persistentAbsence: z.boolean(), severeAbsence: z.boolean(),
    exclusionSessions: z.number().int(), exclusions: z.array(z.object({ date: z.string(), session: z.enum(['AM', 'PM']), urn: z.string() })),
    unmarkedSessions: z.number().int(), schools: z.array(PepSchool),
  })
  .meta({ id: 'PepTerm' });

const RollItem = z
  .object({
    upn: z.string(), forename: z.string().nullable(), surname: z.string().nullable(), yearGroup: z.string().nullable(),
    everCohorts: z.array(z.string()), cohortsAtEnd: z.array(z.string()), onRegister: z.boolean(),
    schools: z.array(SchoolRef), daysInCohort: z.number().int(), stats: Stats, persistentAbsence: z.boolean(), severeAbsence: z.boolean(),
  })
  .meta({ id: 'VirtualSchoolPupil' });

const Group = z.enum(VIRTUAL_SCHOOL_GROUPS);

// ---- Routes --------------------------------------------------------------------------------------

export const virtualSchoolRoutes = [
  defineRoute({
    method: 'GET', path: '/v1/virtual-school/pupils', access: 'list_pupils', audit: { action: 'list_virtual_school' }, tags: ['virtual school'],
    summary: 'The Virtual School\'s roll: children in the cohort at any time in the period, at any school in or out of the LA (or on no register), with figures for the sessions while in the cohort; worst first',
    query: z.object({
      academicYear: z.coerce.number().int().min(2000).max(2100).optional().describe('the academic year to date, when from/to are not given'),
      from: IsoDate.optional(),
      to: IsoDate.optional(),
      cohort: Group.default('any').describe('cla, plac, cin, cpp, social_worker, or any (in any of cla, plac, cin, cpp)'),
      flag: z.enum(['persistent_absence', 'severe_absence']).optional().describe('only children PA (or SA) on their sessions while in the cohort'),
      urn: Urn.optional(),
      ...pageQuery,
    }),
    response: z.object({ from: z.string(), to: z.string(), cohort: Group, items: z.array(RollItem), nextCursor: z.string().nullable(), total: z.number().int() }),
    csv: true,
    handler: async ({ audit, principal, query, event }) => {
      requireVirtualSchoolRole(principal);
      const { year, from, to } = periodOf(query, todayInEngland());
      const care = await loadCareIndex();
      const children = await virtualSchoolChildren(year, care);
      const entries: Array<{ child: VirtualSchoolChild; entry: RollEntry }> = [];
      for (const child of children) {
        const entry = rollEntry(child, year, query.cohort, from, to);
        if (!entry) continue;
        if (query.flag === 'persistent_absence' && !entry.persistentAbsence) continue;
        if (query.flag === 'severe_absence' && !entry.severeAbsence) continue;
        if (query.urn && !entry.urns.includes(query.urn)) continue;
        entries.push({ child, entry });
      }
      const rate = (e: RollEntry) => {
        const t = totalsOf(e.counts);
        return t.possible > 0 ? (t.authorised + t.unauthorised) / t.possible : -1;
      };
      entries.sort((a, b) => rate(b.entry) - rate(a.entry) || (a.entry.upn < b.entry.upn ? -1 : 1));
      const schools = await schoolsOf(entries.flatMap((x) => x.entry.urns));
      const items = entries.map(({ child, entry }) => {
        const d = detailsOf(child, year);
        return {
          upn: entry.upn, forename: d.forename, surname: d.surname, yearGroup: d.yearGroup,
          everCohorts: entry.everCohorts, cohortsAtEnd: entry.cohortsAtEnd, onRegister: entry.onRegister,
          schools: entry.urns.map((u) => schoolRef(u, schools)), daysInCohort: entry.daysInCohort,
          stats: toStats(entry.counts), persistentAbsence: entry.persistentAbsence, severeAbsence: entry.severeAbsence,
        };
      });
      const note = { target: `cohort:${query.cohort}:${query.flag ?? '-'}`, outcome: 'ok', urn: query.urn };
      if (wantsCsv(event)) {
        audit.pupils(note, items.map((i) => i.upn));
        return csvResponse(`virtual-school-${query.cohort}-${from}-${to}.csv`,
          ['upn', 'forename', 'surname', 'yearGroup', 'everCohorts', 'cohortsAtEnd', 'onRegister', 'schools', 'outOfArea', 'daysInCohort',
            'possibleSessions', 'attendedSessions', 'authorisedAbsenceSessions', 'unauthorisedAbsenceSessions', 'absenceSessions', 'attendanceRate',
            'absenceRate', 'persistentAbsence', 'severeAbsence'],
          items.map((i) => ({ ...i, ...i.stats, schools: i.schools.map((s) => s.urn), outOfArea: i.schools.some((s) => s.outOfArea) })));
      }
      const paged = pageOf(items, query, `${query.cohort}:${from}:${to}`);
      audit.pupils(note, paged.items.map((i) => i.upn));
      return json(200, { from, to, cohort: query.cohort, items: paged.items, nextCursor: paged.nextCursor, total: items.length });
    },
  }),

  defineRoute({
    method: 'GET', path: '/v1/virtual-school/alerts', access: 'list_pupils', audit: { action: 'read_virtual_school_alerts' }, tags: ['virtual school'],
    summary: 'Daily alerts: absences of looked-after children (code, school), exclusions (E) in the Virtual School cohorts, sessions not yet marked for looked-after children, and children new in care with no return since care began',
    query: z.object({
      date: IsoDate.optional().describe('the day the alerts are about (default: the previous weekday that is not a bank holiday)'),
      newInCareDays: z.coerce.number().int().min(1).max(366).default(DEFAULT_NEW_IN_CARE_DAYS).describe('care that began on the date or the N − 1 days before it is new'),
      type: z.enum(ALERT_TYPES).optional(),
      ...pageQuery,
    }),
    response: z.object({
      date: z.string(), newInCareDays: z.number().int(),
      counts: z.object(Object.fromEntries(ALERT_TYPES.map((t) => [t, z.number().int()])) as Record<(typeof ALERT_TYPES)[number], z.ZodNumber>),
      items: z.array(Alert), nextCursor: z.string().nullable(), total: z.number().int(),
    }),
    csv: true,
    handler: async ({ audit, principal, query, event }) => {
      requireVirtualSchoolRole(principal);
      const today = todayInEngland();
      const date = query.date ?? defaultAlertDate(today, englandAndWalesBankHolidays());
      if (date > today) throw problem(400, 'Alerts are about a day that has happened: `date` is after today.', [{ field: 'date', message: 'must not be after today' }]);
      const year = academicYearOf(date);
      const care = await loadCareIndex();
      const windowFrom = addDays(date, -(query.newInCareDays - 1));
      const entering = new Set<string>();
      for (const [upn, spans] of care) if (careEntries(spans, windowFrom, date).length > 0) entering.add(upn);
      const children = await virtualSchoolChildren(year, care, entering);
      const byUpn = new Map(children.map((c) => [c.upn, c]));
      const all = dailyAlerts(date, children, { newInCareDays: query.newInCareDays });
      const counts = Object.fromEntries(ALERT_TYPES.map((t) => [t, all.filter((a) => a.type === t).length]));
      const chosen = query.type ? all.filter((a) => a.type === query.type) : all;
      const schools = await schoolsOf(chosen.flatMap((a) => (a.urn ? [a.urn] : [])));
      const items = chosen.map((a) => {
        const d = detailsOf(byUpn.get(a.upn)!, year);
        const s = a.urn ? schoolRef(a.urn, schools) : undefined;
        return {
          type: a.type, date: a.date, session: a.session ?? null, code: a.code ?? null,
          upn: a.upn, forename: d.forename, surname: d.surname, yearGroup: d.yearGroup, cohorts: a.cohorts,
          urn: a.urn ?? null, schoolName: s?.name ?? null, outOfArea: s ? s.outOfArea : null,
          careStart: a.careStart ?? null, reason: a.reason ?? null, lastListed: a.lastListed ?? null,
        };
      });
      const note = { target: `date:${date}`, outcome: 'ok' };
      if (wantsCsv(event)) {
        audit.pupils(note, items.map((i) => i.upn));
        return csvResponse(`virtual-school-alerts-${date}.csv`,
          ['type', 'date', 'session', 'code', 'upn', 'forename', 'surname', 'yearGroup', 'cohorts', 'urn', 'schoolName', 'outOfArea', 'careStart', 'reason', 'lastListed'],
          items);
      }
      const paged = pageOf(items, query, `alerts:${date}`);
      audit.pupils(note, paged.items.map((i) => i.upn));
      return json(200, { date, newInCareDays: query.newInCareDays, counts, items: paged.items, nextCursor: paged.nextCursor, total: items.length });
    },
  }),

  defineRoute({
    method: 'GET', path: '/v1/virtual-school/pupils/{upn}/pep-summary', access: 'read_pupil', audit: { action: 'read_pep_summary' }, tags: ['virtual school'],
    summary: 'A child\'s termly attendance for the Personal Education Plan: per census term, only the sessions while looked after (or in the cohort asked for), across schools',
    query: z.object({
      academicYear: z.coerce.number().int().min(2000).max(2100).optional(),
      term: z.enum(['autumn', 'spring', 'summer']).optional().describe('one census term (default: all three)'),
      cohort: Group.default('cla'),
    }),
    response: z.object({
      upn: z.string(), forename: z.string().nullable(), surname: z.string().nullable(), dob: z.string().nullable(), yearGroup: z.string().nullable(),
      academicYear: z.number().int(), cohort: Group, terms: z.array(PepTerm),
    }),
    csv: true,
    handler: async ({ audit, principal, params, query, event }) => {
      requireVirtualSchoolRole(principal);
      const upn = parseUpnParam(params.upn);
      const year = query.academicYear ?? academicYearOf(todayInEngland());
      const notFound = async () => {
        audit.record({ target: 'pupil', upn, outcome: 'not_found' });
        return problem(404, 'No such pupil.');
      };
      // In scope: a Virtual School cohort at any time in the year, from the child's combined figures
      // or from the LA's own lists (a child on no register, or listed only before care began).
      const [summary, care] = await Promise.all([getSummary(upn), loadCareIndex()]);
      const yearSummary = summary?.years[String(year)];
      const spans = care.get(upn) ?? [];
      const careCohorts = episodesOverlapping(spans, academicYearStart(year), academicYearEnd(year)).map((e) => e.cohort);
      if (!yearSummary && careCohorts.length === 0) throw await notFound();
      const everCohorts = [...new Set([...(yearSummary?.everCohorts ?? []), ...careCohorts])];
      if (!mayReadPupil(principal, { urns: yearSummary?.enrolments.map((e) => e.urn) ?? [], everCohorts })) throw await notFound();

      const child: VirtualSchoolChild = { upn, enrolments: (await getPupilEnrolments(upn)).filter((e) => e.academicYear === year), care: spans };
      const pep = pepSummary(child, year, { cohort: query.cohort, term: query.term });
      const schools = await schoolsOf(pep.terms.flatMap((t) => t.schools.map((s) => s.urn)));
      const d = detailsOf(child, year);
      const terms = pep.terms.map((t) => ({ ...t, schools: t.schools.map((s) => ({ ...schoolRef(s.urn, schools), ...s })) }));
      audit.record({ target: 'pupil', upn, outcome: 'ok' });
      if (wantsCsv(event)) {
        return csvResponse(`pep-summary-${upn}-${year}.csv`,
          ['upn', 'academicYear', 'cohort', 'term', 'from', 'to', 'daysInCohort', 'inCohort', 'possibleSessions', 'attendedSessions', 'attendanceRate',
            'authorisedAbsenceSessions', 'unauthorisedAbsenceSessions', 'absenceSessions', 'absenceRate', 'lateSessions', 'persistentAbsence', 'severeAbsence',
            'exclusionSessions', 'exclusionDates', 'unmarkedSessions', 'codes', 'schools'],
          terms.map((t) => ({
            upn, academicYear: year, cohort: query.cohort, ...t, ...t.stats,
            inCohort: t.inCohort.map((s) => `${s.from} to ${s.to}`).join('; '),
            exclusionDates: t.exclusions.map((x) => `${x.date} ${x.session}`).join('; '),
            codes: Object.entries(t.stats.codes).map(([c, n]) => `${c}:${n}`).join(' '),
            schools: t.schools.map((s) => (s.name ? `${s.urn} ${s.name}` : s.urn)).join('; '),
          })));
      }
      return json(200, { upn, ...d, academicYear: year, cohort: query.cohort, terms });
    },
  }),
];
