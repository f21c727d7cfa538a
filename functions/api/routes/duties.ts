/**
 * The LA's other attendance duties (issue 20; docs/duties.md): new entries and deletions with the
 * statutory timing checked, children missing education after a deletion, part-time timetables (C2),
 * unexplained absences of children with a social worker, and a school's looked-after pupils.
 *
 * Access (shared/domain/access.ts): a school sees only its own entries, deletions and C2 pupils, and
 * which of its own pupils the LA looks after; LA officers see every school; children missing
 * education are for LA officers; social-worker absences for LA officers and the Virtual School Head.
 * Every read is audited.
 */
import * as z from 'zod';
import { mayReadOtherSchoolsRolls, mayReadSchoolDuties, maySeeSchool, schoolScope, type Principal } from '../../../shared/domain/access.js';
import { DELETION_GROUNDS, timelinessOf, type Deletion } from '../../../shared/domain/admission-register.js';
import { countSchoolDays, schoolCalendar, schoolDaysFrom, type SchoolCalendar } from '../../../shared/domain/calendar.js';
import { assessDeletion, CME_STATUSES, type CmeAssessment, type Listing } from '../../../shared/domain/children-missing-education.js';
import { episodesOverlapping } from '../../../shared/domain/cohorts.js';
import { academicYearEnd, academicYearOf, academicYearStart, addDays, todayInEngland } from '../../../shared/domain/dates.js';
import { pastReviewLimit } from '../../../shared/domain/part-time-timetables.js';
import type { Enrolment } from '../../../shared/domain/pupil-summary.js';
import { socialWorkerAbsences } from '../../../shared/domain/social-worker-absences.js';
import { defaultAlertDate, lookedAfterAsOf, type VirtualSchoolChild } from '../../../shared/domain/virtual-school.js';
import { englandAndWalesBankHolidays } from '../../../shared/formats/bank-holidays.js';
import { runtimeConfig } from '../../../shared/config.js';
import { calendarSourcesFor } from '../../../shared/store/calendars.js';
import { loadCareIndex, lookedAfterAmong } from '../../../shared/store/care.js';
import { listSchoolDuties, type SchoolDuties } from '../../../shared/store/duties.js';
import { getEnrolmentsByKeys, getPupilEnrolments } from '../../../shared/store/pupils.js';
import { upnsWithOpenReferrals } from '../../../shared/store/referrals.js';
import { getSchools, listSchools, type SchoolRecord } from '../../../shared/store/schools.js';
import { inParallel } from '../../../shared/store/table.js';
import { IsoDate, Urn } from '../../../shared/schemas/common.js';
import { csvResponse, defineRoute, json, pageOf, pageQuery, problem, wantsCsv } from '../http.js';
import { currentLaPupils, currentSchoolView } from '../view-cache.js';

// ---- Helpers ---------------------------------------------------------------------------------------

const AcademicYear = z.coerce.number().int().min(2000).max(2100).optional().describe('default: the current academic year');

/** The school a request is about: a school's own URN (another is "not found"); LA officers any or all. */
function scopeUrn(principal: Principal, urn: string | undefined): string | undefined {
  const scope = schoolScope(principal, urn);
  if (!scope.ok) throw problem(404, 'No such school.');
  if (!mayReadSchoolDuties(principal, scope.urn)) throw problem(403, 'Admission-register duties are for schools (their own) and LA officers.');
  return scope.urn;
}

function yearOf(query: { academicYear?: number }, today: string): number {
  return query.academicYear ?? academicYearOf(today);
}

function within(date: string, from: string | undefined, to: string | undefined): boolean {
  return (from === undefined || date >= from) && (to === undefined || date <= to);
}

async function schoolNames(urns: Iterable<string>): Promise<Map<string, SchoolRecord>> {
  const list = [...new Set(urns)];
  return list.length ? getSchools(list) : new Map();
}

/**
 * The schools' duties documents for the year: one school's when asked, else every school in the LA
 * (schools outside it notify their own LA; the Virtual School's returns for them are not notices).
 */
async function dutiesOf(year: number, urn: string | undefined): Promise<SchoolDuties[]> {
  const docs = await listSchoolDuties(year, urn);
  if (urn !== undefined) return docs;
  const outside = new Set((await listSchools()).filter((s) => s.outOfArea).map((s) => s.urn));
  return docs.filter((d) => !outside.has(d.urn));
}

/** Calendars by URN for school-day arithmetic, built once per request. */
function calendars(year: number): (urn: string) => Promise<SchoolCalendar> {
  const held = new Map<string, Promise<SchoolCalendar>>();
  return (urn) => {
    let c = held.get(urn);
    if (!c) held.set(urn, (c = calendarSourcesFor(urn, year).then(schoolCalendar)));
    return c;
  };
}

/** The CME assessment of each deletion, today. */
async function assessDeletions(deletions: readonly Deletion[], year: number, today: string): Promise<Map<Deletion, CmeAssessment>> {
  const registry = await listSchools();
  const inLa = new Set(registry.filter((s) => !s.outOfArea && (s.inRegistry === undefined || s.inRegistry || s.latestDate !== undefined)).map((s) => s.urn));
  const calendarOf = calendars(year);
  const urnsNeeded = new Set<string>();
  for (const d of deletions) {
    urnsNeeded.add(d.urn);
    if (d.destination && /^\d{6}$/.test(d.destination)) urnsNeeded.add(d.destination);
  }
  const cals = new Map<string, SchoolCalendar>();
  await inParallel([...urnsNeeded], 8, async (urn) => {
    cals.set(urn, await calendarOf(urn));
  });
  const listings = new Map<string, Listing[]>();
  await inParallel([...new Set(deletions.map((d) => d.upn))], 16, async (upn) => {
    listings.set(upn, (await getPupilEnrolments(upn)).map((e: Enrolment) => ({
      urn: e.urn, admissionDate: e.admissionDate, leavingDate: e.leavingDate, firstListed: e.firstListed, lastListed: e.lastListed,
    })));
  });
  const calendar = (urn: string) => cals.get(urn) ?? schoolCalendar({ urn, bankHolidays: englandAndWalesBankHolidays() });
  const out = new Map<Deletion, CmeAssessment>();
  for (const d of deletions) {
    out.set(d, assessDeletion(d, listings.get(d.upn) ?? [], {
      today,
      inLa: (urn) => inLa.has(urn),
      schoolDays: (urn, from, to) => (to > from ? countSchoolDays(calendar(urn), addDays(from, 1), to) : 0),
      nthSchoolDayAfter: (urn, from, n) => schoolDaysFrom(calendar(urn), addDays(from, 1), n)[n - 1] ?? addDays(from, n),
    }));
  }
  return out;
}

// ---- Schemas ----------------------------------------------------------------------------------------

const Timeliness = z.enum(['on_time', 'late', 'exempt', 'unknown']);
const Ground = z.enum(Object.keys(DELETION_GROUNDS) as [keyof typeof DELETION_GROUNDS, ...(keyof typeof DELETION_GROUNDS)[]]);
const PupilFields = {
  upn: z.string(), forename: z.string().nullable(), surname: z.string().nullable(), dob: z.string().nullable(), yearGroup: z.string().nullable(),
  urn: z.string(), schoolName: z.string().nullable(),
};
const NewEntrySchema = z
  .object({
    ...PupilFields, entryDate: z.string(), source: z.enum(['stated', 'derived']).describe('stated: an admission date; derived: the first date listed'),
    notifiedOn: z.string().nullable(), schoolDaysToNotice: z.number().int().nullable(), timeliness: Timeliness,
  })
  .meta({ id: 'NewEntry' });
const CmeSchema = z
  .object({
    status: z.enum(CME_STATUSES), flagged: z.boolean(), ageUnknown: z.boolean(), listingDeadline: z.string().nullable(),
    listedBy: z.string().nullable(), listedFrom: z.string().nullable(), schoolDaysToListing: z.number().int().nullable(), withinTenSchoolDays: z.boolean().nullable(),
  })
  .meta({ id: 'ChildMissingEducationStatus' });
const DeletionSchema = z
  .object({
    ...PupilFields, leavingDate: z.string(), source: z.enum(['stated', 'derived']).describe('stated: a leaving date; derived: the school stopped listing the pupil'),
    ground: Ground.nullable(), destination: z.string().nullable().describe('a URN, elective_home_education, another_country or unknown'),
    notifiedOn: z.string().nullable(), standardTransition: z.boolean(), timeliness: Timeliness,
    cme: CmeSchema.nullable().describe('LA officers only: whether the child is on a roll since'),
  })
  .meta({ id: 'Deletion' });
const TimelinessFigure = z.object({
  total: z.number().int(), onTime: z.number().int(), late: z.number().int(), exempt: z.number().int(), unknown: z.number().int(), onTimeRate: z.number().nullable(),
});
const CmeItem = DeletionSchema.extend({ hasOpenReferral: z.boolean(), suggestedReferralType: z.literal('children_missing_education').nullable() }).meta({ id: 'ChildMissingEducation' });
const PartTimeItem = z
  .object({
    upn: z.string(), forename: z.string().nullable(), surname: z.string().nullable(), yearGroup: z.string().nullable(), urn: z.string(), schoolName: z.string().nullable(),
    start: z.string(), latest: z.string(), weeks: z.number().int(), c2Sessions: z.number().int(), sessionsLatestWeek: z.number().int(),
    sessionsPerWeek: z.number(), current: z.boolean(), pastReviewLimit: z.boolean(),
  })
  .meta({ id: 'PartTimeTimetable' });
const SocialWorkerAbsenceItem = z
  .object({
    alertKey: z.string(), upn: z.string(), forename: z.string().nullable(), surname: z.string().nullable(), yearGroup: z.string().nullable(),
    urn: z.string(), schoolName: z.string().nullable(), date: z.string(), session: z.enum(['AM', 'PM']), code: z.string().nullable(),
    reason: z.enum(['unauthorised_no_reason', 'not_marked']), cohorts: z.array(z.string()),
  })
  .meta({ id: 'SocialWorkerAbsence' });

const list = <T extends z.ZodType>(item: T) => z.object({ academicYear: z.number().int(), items: z.array(item), nextCursor: z.string().nullable(), total: z.number().int() });

function entryOut(e: SchoolDuties['entries'][number], schools: Map<string, SchoolRecord>) {
  return {
    upn: e.upn, forename: e.forename ?? null, surname: e.surname ?? null, dob: e.dob ?? null, yearGroup: e.yearGroup ?? null,
    urn: e.urn, schoolName: schools.get(e.urn)?.name ?? null, entryDate: e.entryDate, source: e.source,
    notifiedOn: e.notifiedOn ?? null, schoolDaysToNotice: e.schoolDaysToNotice ?? null, timeliness: e.timeliness,
  };
}

function deletionOut(d: Deletion, schools: Map<string, SchoolRecord>, cme: CmeAssessment | undefined) {
  return {
    upn: d.upn, forename: d.forename ?? null, surname: d.surname ?? null, dob: d.dob ?? null, yearGroup: d.yearGroup ?? null,
    urn: d.urn, schoolName: schools.get(d.urn)?.name ?? null, leavingDate: d.leavingDate, source: d.source,
    ground: d.ground ?? null, destination: d.destination ?? null, notifiedOn: d.notifiedOn ?? null,
    standardTransition: d.standardTransition, timeliness: d.timeliness,
    cme: cme
      ? {
        status: cme.status, flagged: cme.flagged, ageUnknown: cme.ageUnknown, listingDeadline: cme.listingDeadline ?? null,
        listedBy: cme.listedBy ?? null, listedFrom: cme.listedFrom ?? null, schoolDaysToListing: cme.schoolDaysToListing ?? null,
        withinTenSchoolDays: cme.withinTenSchoolDays ?? null,
      }
      : null,
  };
}

const DELETION_CSV = ['upn', 'forename', 'surname', 'dob', 'yearGroup', 'urn', 'schoolName', 'leavingDate', 'source', 'ground', 'destination', 'notifiedOn', 'standardTransition', 'timeliness', 'cmeStatus', 'cmeFlagged', 'listingDeadline', 'listedBy', 'listedFrom'];
const deletionCsvRow = (d: ReturnType<typeof deletionOut>) => ({
  ...d, cmeStatus: d.cme?.status ?? '', cmeFlagged: d.cme?.flagged ?? '', listingDeadline: d.cme?.listingDeadline ?? '', listedBy: d.cme?.listedBy ?? '', listedFrom: d.cme?.listedFrom ?? '',
});

/** Children with a social worker (cin or cpp at any time in the year), with the year's enrolments. */
async function socialWorkerChildren(year: number): Promise<VirtualSchoolChild[]> {
  const [doc, care] = await Promise.all([currentLaPupils(year), loadCareIndex()]);
  const rows = new Map((doc?.rows ?? []).map((r) => [r.upn, r]));
  const upns = new Set<string>();
  for (const r of rows.values()) if (r.everCohorts.includes('cin') || r.everCohorts.includes('cpp')) upns.add(r.upn);
  for (const [upn, spans] of care) if (episodesOverlapping(spans.filter((s) => s.cohort === 'cin' || s.cohort === 'cpp'), academicYearStart(year), academicYearEnd(year)).length > 0) upns.add(upn);
  const keys: Array<{ upn: string; academicYear: number; urn: string }> = [];
  const queried: string[] = [];
  for (const upn of upns) {
    const row = rows.get(upn);
    if (row) for (const urn of row.urns) keys.push({ upn, academicYear: year, urn });
    else queried.push(upn);
  }
  const enrolments = new Map<string, Enrolment[]>();
  for (const e of await getEnrolmentsByKeys(keys)) enrolments.set(e.upn, [...(enrolments.get(e.upn) ?? []), e]);
  await inParallel(queried, 16, async (upn) => {
    enrolments.set(upn, (await getPupilEnrolments(upn)).filter((e) => e.academicYear === year));
  });
  return [...upns].sort().map((upn) => ({ upn, enrolments: enrolments.get(upn) ?? [], care: care.get(upn) ?? [] }));
}

// ---- Routes -----------------------------------------------------------------------------------------

export const dutyRoutes = [
  defineRoute({
    method: 'GET', path: '/v1/admission-register/entries', access: 'read_admission_register', audit: { action: 'list_new_entries' }, tags: ['admission register'],
    summary: 'New entries to schools\' admission registers by school and date, each with when the LA was notified and whether that was within five school days (a school sees its own)',
    query: z.object({
      academicYear: AcademicYear, urn: Urn.optional(), from: IsoDate.optional(), to: IsoDate.optional(),
      timeliness: Timeliness.optional(), ...pageQuery,
    }),
    response: list(NewEntrySchema),
    csv: true,
    handler: async ({ audit, principal, query, event }) => {
      const urn = scopeUrn(principal, query.urn);
      const year = yearOf(query, todayInEngland());
      const docs = await dutiesOf(year, urn);
      const entries = docs.flatMap((d) => d.entries).filter((e) => within(e.entryDate, query.from, query.to) && (!query.timeliness || e.timeliness === query.timeliness));
      entries.sort((a, b) => (a.entryDate < b.entryDate ? -1 : a.entryDate > b.entryDate ? 1 : a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : a.upn < b.upn ? -1 : 1));
      const schools = await schoolNames(entries.map((e) => e.urn));
      const items = entries.map((e) => entryOut(e, schools));
      audit.pupils({ target: `entries:${year}`, outcome: 'ok', urn }, items.map((i) => i.upn));
      if (wantsCsv(event)) {
        return csvResponse(`new-entries-${year}.csv`, ['upn', 'forename', 'surname', 'dob', 'yearGroup', 'urn', 'schoolName', 'entryDate', 'source', 'notifiedOn', 'schoolDaysToNotice', 'timeliness'], items);
      }
      const paged = pageOf(items, query, `entries:${year}:${urn ?? '*'}`);
      return json(200, { academicYear: year, items: paged.items, nextCursor: paged.nextCursor, total: items.length });
    },
  }),

  defineRoute({
    method: 'GET', path: '/v1/admission-register/deletions', access: 'read_admission_register', audit: { action: 'list_deletions' }, tags: ['admission register'],
    summary: 'Deletions from schools\' admission registers by school and date: ground, destination, whether the LA was notified no later than the leaving date (standard transitions exempt) and, for LA officers, whether the child is on a roll since',
    query: z.object({
      academicYear: AcademicYear, urn: Urn.optional(), from: IsoDate.optional(), to: IsoDate.optional(),
      timeliness: Timeliness.optional(), ...pageQuery,
    }),
    response: list(DeletionSchema),
    csv: true,
    handler: async ({ audit, principal, query, event }) => {
      const urn = scopeUrn(principal, query.urn);
      const today = todayInEngland();
      const year = yearOf(query, today);
      const docs = await dutiesOf(year, urn);
      const deletions = docs.flatMap((d) => d.deletions).filter((d) => within(d.leavingDate, query.from, query.to) && (!query.timeliness || d.timeliness === query.timeliness));
      deletions.sort((a, b) => (a.leavingDate < b.leavingDate ? -1 : a.leavingDate > b.leavingDate ? 1 : a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : a.upn < b.upn ? -1 : 1));
      // Whether a child is on another school's roll is not the deleting school's to read.
      const cme = mayReadOtherSchoolsRolls(principal) ? await assessDeletions(deletions, year, today) : new Map<Deletion, CmeAssessment>();
      const schools = await schoolNames(deletions.map((d) => d.urn));
      const items = deletions.map((d) => deletionOut(d, schools, cme.get(d)));
      audit.pupils({ target: `deletions:${year}`, outcome: 'ok', urn }, items.map((i) => i.upn));
      if (wantsCsv(event)) return csvResponse(`deletions-${year}.csv`, DELETION_CSV, items.map(deletionCsvRow));
      const paged = pageOf(items, query, `deletions:${year}:${urn ?? '*'}`);
      return json(200, { academicYear: year, items: paged.items, nextCursor: paged.nextCursor, total: items.length });
    },
  }),

  defineRoute({
    method: 'GET', path: '/v1/admission-register/timeliness', access: 'read_admission_register', audit: { action: 'read_notification_timeliness' }, tags: ['admission register'],
    summary: 'Per school: new entries notified within five school days and deletions notified by the leaving date, as counts and an on-time rate (a school sees its own)',
    query: z.object({ academicYear: AcademicYear, urn: Urn.optional() }),
    response: z.object({
      academicYear: z.number().int(),
      items: z.array(z.object({ urn: z.string(), schoolName: z.string().nullable(), entries: TimelinessFigure, deletions: TimelinessFigure, all: TimelinessFigure }).meta({ id: 'NotificationTimeliness' })),
    }),
    csv: true,
    handler: async ({ audit, principal, query, event }) => {
      const urn = scopeUrn(principal, query.urn);
      const year = yearOf(query, todayInEngland());
      const docs = await dutiesOf(year, urn);
      const schools = await schoolNames(docs.map((d) => d.urn));
      const items = docs.map((d) => ({
        urn: d.urn, schoolName: schools.get(d.urn)?.name ?? null,
        entries: timelinessOf(d.entries), deletions: timelinessOf(d.deletions), all: timelinessOf([...d.entries, ...d.deletions]),
      }));
      audit.record({ target: `timeliness:${year}`, outcome: 'ok', count: items.length, urn });
      if (wantsCsv(event)) {
        return csvResponse(`notification-timeliness-${year}.csv`,
          ['urn', 'schoolName', 'entries', 'entriesOnTime', 'entriesLate', 'entriesOnTimeRate', 'deletions', 'deletionsOnTime', 'deletionsLate', 'deletionsExempt', 'deletionsOnTimeRate', 'onTimeRate'],
          items.map((i) => ({
            urn: i.urn, schoolName: i.schoolName, entries: i.entries.total, entriesOnTime: i.entries.onTime, entriesLate: i.entries.late, entriesOnTimeRate: i.entries.onTimeRate,
            deletions: i.deletions.total, deletionsOnTime: i.deletions.onTime, deletionsLate: i.deletions.late, deletionsExempt: i.deletions.exempt,
            deletionsOnTimeRate: i.deletions.onTimeRate, onTimeRate: i.all.onTimeRate,
          })));
      }
      return json(200, { academicYear: year, items });
    },
  }),

  defineRoute({
    method: 'GET', path: '/v1/children-missing-education', access: 'work_referrals', audit: { action: 'list_children_missing_education' }, tags: ['admission register'],
    summary: 'Children missing education after a deletion: compulsory-age children deleted to an unknown destination, or not listed by their destination school in the LA within ten school days (cleared once any school lists them); out-of-LA destinations to confirm with the other LA',
    query: z.object({
      academicYear: AcademicYear,
      status: z.enum(CME_STATUSES).optional().describe('default: missing and confirm_with_other_la'),
      urn: Urn.optional().describe('the deleting school'),
      ...pageQuery,
    }),
    response: list(CmeItem),
    csv: true,
    handler: async ({ audit, query, event }) => {
      const today = todayInEngland();
      const year = yearOf(query, today);
      const docs = await dutiesOf(year, query.urn);
      const deletions = docs.flatMap((d) => d.deletions);
      const cme = await assessDeletions(deletions, year, today);
      const wanted = (s: string) => (query.status ? s === query.status : s === 'missing' || s === 'confirm_with_other_la');
      const chosen = deletions.filter((d) => wanted(cme.get(d)!.status));
      chosen.sort((a, b) => Number(cme.get(b)!.flagged) - Number(cme.get(a)!.flagged) || (a.leavingDate < b.leavingDate ? -1 : a.leavingDate > b.leavingDate ? 1 : a.upn < b.upn ? -1 : 1));
      const open = await upnsWithOpenReferrals();
      const schools = await schoolNames(chosen.map((d) => d.urn));
      const items = chosen.map((d) => {
        const c = cme.get(d)!;
        return { ...deletionOut(d, schools, c), hasOpenReferral: open.has(d.upn), suggestedReferralType: c.flagged && !open.has(d.upn) ? ('children_missing_education' as const) : null };
      });
      audit.pupils({ target: `cme:${year}:${query.status ?? 'default'}`, outcome: 'ok', urn: query.urn }, items.map((i) => i.upn));
      if (wantsCsv(event)) return csvResponse(`children-missing-education-${year}.csv`, [...DELETION_CSV, 'hasOpenReferral', 'suggestedReferralType'], items.map((i) => ({ ...deletionCsvRow(i), hasOpenReferral: i.hasOpenReferral, suggestedReferralType: i.suggestedReferralType })));
      const paged = pageOf(items, query, `cme:${year}:${today}`);
      return json(200, { academicYear: year, items: paged.items, nextCursor: paged.nextCursor, total: items.length });
    },
  }),

  defineRoute({
    method: 'GET', path: '/v1/part-time-timetables', access: 'read_admission_register', audit: { action: 'list_part_time_timetables' }, tags: ['part-time timetables'],
    summary: 'Pupils on a part-time timetable (C2) per school: start, C2 sessions per week, school weeks so far, flagged past the LA\'s review limit (a school sees its own)',
    query: z.object({
      academicYear: AcademicYear, urn: Urn.optional(),
      reviewWeeks: z.coerce.number().int().min(1).max(52).optional().describe('the review limit in school weeks (default: the LA setting, six)'),
      pastReviewLimit: z.enum(['true', 'false']).optional().describe('only those past (or within) the limit'),
      current: z.enum(['true', 'false']).optional().describe('only timetables still running at the latest return (or ended)'),
      ...pageQuery,
    }),
    response: list(PartTimeItem).extend({ reviewWeeks: z.number().int() }),
    csv: true,
    handler: async ({ audit, principal, query, event }) => {
      const urn = scopeUrn(principal, query.urn);
      const year = yearOf(query, todayInEngland());
      const reviewWeeks = query.reviewWeeks ?? runtimeConfig().settings.partTimeTimetableReviewWeeks;
      const docs = await dutiesOf(year, urn);
      const all = docs.flatMap((d) => d.partTimeTimetables).map((t) => ({ ...t, pastReviewLimit: pastReviewLimit(t, reviewWeeks) }));
      const chosen = all.filter((t) => (query.pastReviewLimit === undefined || String(t.pastReviewLimit) === query.pastReviewLimit) && (query.current === undefined || String(t.current) === query.current));
      chosen.sort((a, b) => b.weeks - a.weeks || (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : a.upn < b.upn ? -1 : 1));
      const schools = await schoolNames(chosen.map((t) => t.urn));
      const items = chosen.map((t) => ({
        upn: t.upn, forename: t.forename ?? null, surname: t.surname ?? null, yearGroup: t.yearGroup ?? null, urn: t.urn, schoolName: schools.get(t.urn)?.name ?? null,
        start: t.start, latest: t.latest, weeks: t.weeks, c2Sessions: t.c2Sessions, sessionsLatestWeek: t.sessionsLatestWeek, sessionsPerWeek: t.sessionsPerWeek,
        current: t.current, pastReviewLimit: t.pastReviewLimit,
      }));
      audit.pupils({ target: `c2:${year}`, outcome: 'ok', urn }, items.map((i) => i.upn));
      if (wantsCsv(event)) {
        return csvResponse(`part-time-timetables-${year}.csv`, ['upn', 'forename', 'surname', 'yearGroup', 'urn', 'schoolName', 'start', 'latest', 'weeks', 'c2Sessions', 'sessionsLatestWeek', 'sessionsPerWeek', 'current', 'pastReviewLimit'], items);
      }
      const paged = pageOf(items, query, `c2:${year}:${urn ?? '*'}:${reviewWeeks}`);
      return json(200, { academicYear: year, reviewWeeks, items: paged.items, nextCursor: paged.nextCursor, total: items.length });
    },
  }),

  defineRoute({
    method: 'GET', path: '/v1/social-worker-absences', access: 'read_social_worker_absences', audit: { action: 'list_social_worker_absences' }, tags: ['children with a social worker'],
    summary: 'A day\'s unexplained absences of children in need and on child protection plans (O, or listed with no mark yet): for the children\'s social care team and the Virtual School Head; each item\'s alertKey identifies it for notifications',
    query: z.object({ date: IsoDate.optional().describe('default: the previous weekday that is not a bank holiday'), urn: Urn.optional(), ...pageQuery }),
    response: z.object({ date: z.string(), items: z.array(SocialWorkerAbsenceItem), nextCursor: z.string().nullable(), total: z.number().int() }),
    csv: true,
    handler: async ({ audit, query, event }) => {
      const today = todayInEngland();
      const date = query.date ?? defaultAlertDate(today, englandAndWalesBankHolidays());
      if (date > today) throw problem(400, 'Absences are about a day that has happened: `date` is after today.', [{ field: 'date', message: 'must not be after today' }]);
      const year = academicYearOf(date);
      const children = await socialWorkerChildren(year);
      const byUpn = new Map(children.map((c) => [c.upn, c]));
      const absences = socialWorkerAbsences(date, children).filter((a) => !query.urn || a.urn === query.urn);
      const schools = await schoolNames(absences.map((a) => a.urn));
      const items = absences.map((a) => {
        const e = byUpn.get(a.upn)!.enrolments.find((x) => x.urn === a.urn);
        return {
          alertKey: a.alertKey, upn: a.upn, forename: e?.forename ?? null, surname: e?.surname ?? null, yearGroup: e?.yearGroup ?? null,
          urn: a.urn, schoolName: schools.get(a.urn)?.name ?? null, date: a.date, session: a.session, code: a.code, reason: a.reason, cohorts: a.cohorts,
        };
      });
      audit.pupils({ target: `date:${date}`, outcome: 'ok', urn: query.urn }, items.map((i) => i.upn));
      if (wantsCsv(event)) return csvResponse(`social-worker-absences-${date}.csv`, ['alertKey', 'date', 'session', 'code', 'reason', 'upn', 'forename', 'surname', 'yearGroup', 'cohorts', 'urn', 'schoolName'], items);
      const paged = pageOf(items, query, `swa:${date}`);
      return json(200, { date, items: paged.items, nextCursor: paged.nextCursor, total: items.length });
    },
  }),

  defineRoute({
    method: 'GET', path: '/v1/schools/{urn}/looked-after-pupils', access: 'read_admission_register', audit: { action: 'list_looked_after_pupils' }, tags: ['virtual school'],
    summary: 'Which of a school\'s pupils the LA looks after today (from the LA\'s lists), and nothing more of their social-care record: for the school itself and LA officers',
    query: z.object({ academicYear: AcademicYear }),
    response: z.object({
      urn: z.string(), date: z.string(),
      items: z.array(z.object({ upn: z.string(), forename: z.string().nullable(), surname: z.string().nullable(), yearGroup: z.string().nullable(), lookedAfter: z.literal(true) }).meta({ id: 'LookedAfterPupil' })),
    }),
    csv: true,
    handler: async ({ audit, principal, params, query, event }) => {
      const urn = Urn.safeParse(params.urn ?? '');
      if (!urn.success) throw problem(404, 'No such school.');
      scopeUrn(principal, urn.data);
      const today = todayInEngland();
      const year = yearOf(query, today);
      const view = await currentSchoolView(urn.data, year);
      const onDate = lookedAfterAsOf(year, today);
      const lookedAfter = await lookedAfterAmong((view?.pupils ?? []).map((p) => p.upn), onDate);
      const items = (view?.pupils ?? [])
        .filter((p) => lookedAfter.has(p.upn))
        .map((p) => ({ upn: p.upn, forename: p.forename ?? null, surname: p.surname ?? null, yearGroup: p.yearGroup ?? null, lookedAfter: true as const }));
      audit.pupils({ target: `school:${urn.data}`, outcome: 'ok', urn: urn.data }, items.map((i) => i.upn));
      if (wantsCsv(event)) return csvResponse(`looked-after-pupils-${urn.data}.csv`, ['upn', 'forename', 'surname', 'yearGroup', 'lookedAfter'], items);
      return json(200, { urn: urn.data, date: onDate, items });
    },
  }),
];

// ---- On the pupil view ------------------------------------------------------------------------------

export const PupilDutyFields = {
  lookedAfter: z.boolean().describe('the LA looks after the child today (or at the end of a past year), from the LA\'s lists'),
  partTimeTimetables: z.array(PartTimeItem.omit({ forename: true, surname: true, yearGroup: true, schoolName: true })).describe('C2 part-time timetables at the schools the caller may see'),
};

/**
 * What the pupil view adds for these duties: whether the LA looks after the child (nothing more of
 * the social-care record), and the child's part-time timetables — a school sees its own only.
 */
export async function pupilDutyFields(principal: Principal, upn: string, academicYear: number, urns: readonly string[]) {
  const visible = urns.filter((u) => maySeeSchool(principal, u));
  const [cared, docs] = await Promise.all([lookedAfterAmong([upn], lookedAfterAsOf(academicYear, todayInEngland())), Promise.all(visible.map((u) => listSchoolDuties(academicYear, u)))]);
  const reviewWeeks = runtimeConfig().settings.partTimeTimetableReviewWeeks;
  const lookedAfter = cared.has(upn);
  const partTimeTimetables = docs.flat().flatMap((d) => d.partTimeTimetables.filter((t) => t.upn === upn)).map((t) => ({
    upn: t.upn, urn: t.urn, start: t.start, latest: t.latest, weeks: t.weeks, c2Sessions: t.c2Sessions, sessionsLatestWeek: t.sessionsLatestWeek,
    sessionsPerWeek: t.sessionsPerWeek, current: t.current, pastReviewLimit: pastReviewLimit(t, reviewWeeks),
  }));
  return { lookedAfter, partTimeTimetables };
}

// ---- In the referral suggestions ----------------------------------------------------------------------

interface SuggestionLike {
  upn: string; forename: string | null; surname: string | null; yearGroup: string | null; urns: string[];
  suggestedType: string; reasons: Array<{ flag: string; since: string; referralType: string }>;
  absenceRate: number | null; unauthorisedSessions: number;
}

/**
 * The referral suggestions with each child missing education after a deletion added (docs/design.md §5 "CME
 * risk"): a `children_missing_education` reason (since the leaving date, or the day after the
 * destination school's deadline), first in rank. For LA officers only (it reads other schools' rolls);
 * children with an open case are left out, as for every suggestion.
 */
export async function withChildrenMissingEducation<S extends SuggestionLike>(
  principal: Principal, suggestions: S[], year: number, hasOpenCase: (upn: string) => boolean, urn?: string,
): Promise<S[]> {
  if (!mayReadOtherSchoolsRolls(principal)) return suggestions;
  const today = todayInEngland();
  const deletions = (await dutiesOf(year, undefined)).flatMap((d) => d.deletions);
  const cme = await assessDeletions(deletions, year, today);
  const flagged = new Map<string, { since: string; deletion: Deletion }>();
  for (const d of deletions) {
    const c = cme.get(d)!;
    if (!c.flagged || hasOpenCase(d.upn) || (urn !== undefined && d.urn !== urn)) continue;
    const since = c.listingDeadline !== undefined ? addDays(c.listingDeadline, 1) : d.leavingDate;
    const held = flagged.get(d.upn);
    if (!held || since < held.since) flagged.set(d.upn, { since, deletion: d });
  }
  if (flagged.size === 0) return suggestions;
  const out: S[] = [];
  for (const s of suggestions) {
    const f = flagged.get(s.upn);
    if (!f) continue;
    flagged.delete(s.upn);
    out.push({ ...s, suggestedType: 'children_missing_education', reasons: [{ flag: 'children_missing_education', since: f.since, referralType: 'children_missing_education' }, ...s.reasons] });
  }
  for (const { since, deletion: d } of [...flagged.values()].sort((a, b) => (a.since < b.since ? -1 : a.since > b.since ? 1 : a.deletion.upn < b.deletion.upn ? -1 : 1))) {
    out.push({
      upn: d.upn, forename: d.forename ?? null, surname: d.surname ?? null, yearGroup: d.yearGroup ?? null, urns: [d.urn],
      suggestedType: 'children_missing_education', reasons: [{ flag: 'children_missing_education', since, referralType: 'children_missing_education' }],
      absenceRate: null, unauthorisedSessions: 0,
    } as S);
  }
  const merged = new Set(out.map((s) => s.upn));
  return [...out, ...suggestions.filter((s) => !merged.has(s.upn))];
}
