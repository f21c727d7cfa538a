/**
 * The LA's other attendance duties (issue 20; docs/duties.md) as use cases: new entries and deletions
 * with the statutory timing checked, children missing education after a deletion, part-time
 * timetables (C2), unexplained absences of children with a social worker, a school's looked-after
 * pupils — and what these duties add to a pupil view and to the referral suggestions.
 *
 * Access (shared/domain/access.ts): a school sees only its own entries, deletions and C2 pupils, and
 * which of its own pupils the LA looks after; LA officers see every school; whether a deleted child is
 * on another school's roll is for LA officers only. The route's declared permission admits the caller.
 */
import {
  mayReadOtherSchoolsRolls,
  mayReadSchoolDuties,
  maySeeSchool,
  schoolScope,
  type Principal,
} from '../domain/access.js';
import { timelinessOf, type Deletion, type NewEntry } from '../domain/admission-register.js';
import { countSchoolDays, schoolCalendar, schoolDaysFrom, type SchoolCalendar } from '../domain/calendar.js';
import {
  assessDeletion,
  type CmeAssessment,
  type CmeStatus,
  type Listing,
} from '../domain/children-missing-education.js';
import { episodesOverlapping } from '../domain/cohorts.js';
import { academicYearEnd, academicYearOf, academicYearStart, addDays, todayInEngland } from '../domain/dates.js';
import { pastReviewLimit, type PartTimeTimetable } from '../domain/part-time-timetables.js';
import type { Enrolment, EnrolmentKey } from '../domain/pupil-summary.js';
import type { Suggestion } from '../domain/referrals.js';
import { socialWorkerAbsences, type SocialWorkerAbsence } from '../domain/social-worker-absences.js';
import { defaultAlertDate, lookedAfterAsOf, type VirtualSchoolChild } from '../domain/virtual-school.js';
import { englandAndWalesBankHolidays } from '../formats/bank-holidays.js';
import { Urn } from '../schemas/common.js';
import type { SchoolRecord } from '../store/schools.js';
import { inParallel } from '../store/table.js';
import { done, refuse, type Outcome } from './outcome.js';
import type {
  DutyRecords,
  LaLists,
  LookedAfter,
  Referrals,
  SchoolCalendars,
  Schools,
  Settings,
  Views,
  VirtualSchoolRecords,
} from './ports.js';

export type DutiesDeps = {
  dutyRecords: DutyRecords;
  schools: Schools;
  schoolCalendars: SchoolCalendars;
  /** Enrolments and the LA's care lists (the same reads the Virtual School makes). */
  virtualSchool: VirtualSchoolRecords;
  referrals: Pick<Referrals, 'openUpns'>;
  laLists: LaLists;
  lookedAfter: LookedAfter;
  views: Views;
} & Settings;

// ---- Scope and shared reads --------------------------------------------------------------------------

/** The school a request is about: a school's own URN (another is "not found"); LA officers any or all. */
function scopeUrn(principal: Principal, urn: string | undefined): Outcome<string | undefined> {
  const scope = schoolScope(principal, urn);
  if (!scope.ok) return refuse('not_found', 'No such school.');
  if (!mayReadSchoolDuties(principal, scope.urn))
    return refuse('forbidden', 'Admission-register duties are for schools (their own) and LA officers.');
  return done(scope.urn);
}

function yearOf(query: { academicYear?: number }, today: string): number {
  return query.academicYear ?? academicYearOf(today);
}

function within(date: string, from: string | undefined, to: string | undefined): boolean {
  return (from === undefined || date >= from) && (to === undefined || date <= to);
}

async function schoolNames(deps: DutiesDeps, urns: Iterable<string>): Promise<Map<string, SchoolRecord>> {
  const list = [...new Set(urns)];
  return list.length ? deps.schools.getMany(list) : new Map();
}

/**
 * The schools' duties documents for the year: one school's when asked, else every school in the LA
 * (schools outside it notify their own LA; the Virtual School's returns for them are not notices).
 */
async function dutiesOf(deps: DutiesDeps, year: number, urn: string | undefined) {
  const docs = await deps.dutyRecords.ofYear(year, urn);
  if (urn !== undefined) return docs;
  const outside = new Set((await deps.schools.list()).filter((s) => s.outOfArea).map((s) => s.urn));
  return docs.filter((d) => !outside.has(d.urn));
}

/** Calendars by URN for school-day arithmetic, built once per request. */
function calendars(deps: DutiesDeps, year: number): (urn: string) => Promise<SchoolCalendar> {
  const held = new Map<string, Promise<SchoolCalendar>>();
  return (urn) => {
    let c = held.get(urn);
    if (!c) held.set(urn, (c = deps.schoolCalendars.sourcesFor(urn, year).then(schoolCalendar)));
    return c;
  };
}

/** The CME assessment of each deletion, today. */
async function assessDeletions(
  deps: DutiesDeps,
  deletions: readonly Deletion[],
  year: number,
  today: string,
): Promise<Map<Deletion, CmeAssessment>> {
  const registry = await deps.schools.list();
  const inLa = new Set(
    registry
      .filter((s) => !s.outOfArea && (s.inRegistry === undefined || s.inRegistry || s.latestDate !== undefined))
      .map((s) => s.urn),
  );
  const calendarOf = calendars(deps, year);
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
    listings.set(
      upn,
      (await deps.virtualSchool.enrolments(upn)).map((e: Enrolment) => ({
        urn: e.urn,
        admissionDate: e.admissionDate,
        leavingDate: e.leavingDate,
        firstListed: e.firstListed,
        lastListed: e.lastListed,
      })),
    );
  });
  const calendar = (urn: string) =>
    cals.get(urn) ?? schoolCalendar({ urn, bankHolidays: englandAndWalesBankHolidays() });
  const out = new Map<Deletion, CmeAssessment>();
  for (const d of deletions) {
    out.set(
      d,
      assessDeletion(d, listings.get(d.upn) ?? [], {
        today,
        inLa: (urn) => inLa.has(urn),
        schoolDays: (urn, from, to) => (to > from ? countSchoolDays(calendar(urn), addDays(from, 1), to) : 0),
        nthSchoolDayAfter: (urn, from, n) =>
          schoolDaysFrom(calendar(urn), addDays(from, 1), n)[n - 1] ?? addDays(from, n),
      }),
    );
  }
  return out;
}

// ---- What is answered --------------------------------------------------------------------------------

function entryView(e: NewEntry, schools: Map<string, SchoolRecord>) {
  return {
    upn: e.upn,
    forename: e.forename ?? null,
    surname: e.surname ?? null,
    dob: e.dob ?? null,
    yearGroup: e.yearGroup ?? null,
    urn: e.urn,
    schoolName: schools.get(e.urn)?.name ?? null,
    entryDate: e.entryDate,
    source: e.source,
    notifiedOn: e.notifiedOn ?? null,
    schoolDaysToNotice: e.schoolDaysToNotice ?? null,
    timeliness: e.timeliness,
  };
}

export type EntryView = ReturnType<typeof entryView>;

function deletionView(d: Deletion, schools: Map<string, SchoolRecord>, cme: CmeAssessment | undefined) {
  return {
    upn: d.upn,
    forename: d.forename ?? null,
    surname: d.surname ?? null,
    dob: d.dob ?? null,
    yearGroup: d.yearGroup ?? null,
    urn: d.urn,
    schoolName: schools.get(d.urn)?.name ?? null,
    leavingDate: d.leavingDate,
    source: d.source,
    ground: d.ground ?? null,
    destination: d.destination ?? null,
    notifiedOn: d.notifiedOn ?? null,
    standardTransition: d.standardTransition,
    timeliness: d.timeliness,
    cme: cme
      ? {
          status: cme.status,
          flagged: cme.flagged,
          ageUnknown: cme.ageUnknown,
          listingDeadline: cme.listingDeadline ?? null,
          listedBy: cme.listedBy ?? null,
          listedFrom: cme.listedFrom ?? null,
          schoolDaysToListing: cme.schoolDaysToListing ?? null,
          withinTenSchoolDays: cme.withinTenSchoolDays ?? null,
        }
      : null,
  };
}

export type DeletionView = ReturnType<typeof deletionView>;

/** A list of one school's (or every school's) rows for a year. */
export interface DutyList<T> {
  year: number;
  urn: string | undefined;
  items: T[];
}

export interface RegisterQuery {
  academicYear?: number;
  urn?: string;
  from?: string;
  to?: string;
  timeliness?: NewEntry['timeliness'];
}

// ---- The admission register ---------------------------------------------------------------------------

/** New entries by date and school, each with when the LA was notified and whether on time. */
export async function newEntries(
  deps: DutiesDeps,
  principal: Principal,
  query: RegisterQuery,
): Promise<Outcome<DutyList<EntryView>>> {
  const scope = scopeUrn(principal, query.urn);
  if (!scope.ok) return scope;
  const urn = scope.value;
  const year = yearOf(query, todayInEngland());
  const docs = await dutiesOf(deps, year, urn);
  const entries = docs
    .flatMap((d) => d.entries)
    .filter(
      (e) => within(e.entryDate, query.from, query.to) && (!query.timeliness || e.timeliness === query.timeliness),
    );
  entries.sort(byDateSchoolPupil((e) => e.entryDate));
  const schools = await schoolNames(
    deps,
    entries.map((e) => e.urn),
  );
  return done({ year, urn, items: entries.map((e) => entryView(e, schools)) });
}

/** Deletions by date and school; for LA officers, whether each child is on a roll since. */
export async function deletions(
  deps: DutiesDeps,
  principal: Principal,
  query: RegisterQuery,
): Promise<Outcome<DutyList<DeletionView>>> {
  const scope = scopeUrn(principal, query.urn);
  if (!scope.ok) return scope;
  const urn = scope.value;
  const today = todayInEngland();
  const year = yearOf(query, today);
  const docs = await dutiesOf(deps, year, urn);
  const chosen = docs
    .flatMap((d) => d.deletions)
    .filter(
      (d) => within(d.leavingDate, query.from, query.to) && (!query.timeliness || d.timeliness === query.timeliness),
    );
  chosen.sort(byDateSchoolPupil((d) => d.leavingDate));
  // Whether a child is on another school's roll is not the deleting school's to read.
  const cme = mayReadOtherSchoolsRolls(principal)
    ? await assessDeletions(deps, chosen, year, today)
    : new Map<Deletion, CmeAssessment>();
  const schools = await schoolNames(
    deps,
    chosen.map((d) => d.urn),
  );
  return done({ year, urn, items: chosen.map((d) => deletionView(d, schools, cme.get(d))) });
}

/** Per school: entries and deletions notified on time, as counts and a rate. */
export async function notificationTimeliness(
  deps: DutiesDeps,
  principal: Principal,
  query: { academicYear?: number; urn?: string },
) {
  const scope = scopeUrn(principal, query.urn);
  if (!scope.ok) return scope;
  const urn = scope.value;
  const year = yearOf(query, todayInEngland());
  const docs = await dutiesOf(deps, year, urn);
  const schools = await schoolNames(
    deps,
    docs.map((d) => d.urn),
  );
  const items = docs.map((d) => ({
    urn: d.urn,
    schoolName: schools.get(d.urn)?.name ?? null,
    entries: timelinessOf(d.entries),
    deletions: timelinessOf(d.deletions),
    all: timelinessOf([...d.entries, ...d.deletions]),
  }));
  return done({ year, urn, items });
}

export type CmeItem = DeletionView & {
  hasOpenReferral: boolean;
  suggestedReferralType: 'children_missing_education' | null;
};

/**
 * Children missing education after a deletion (by default those missing or to confirm with another
 * LA), flagged first; whether each has an open case, and the referral to suggest when not.
 */
export async function childrenMissingEducation(
  deps: DutiesDeps,
  query: { academicYear?: number; status?: CmeStatus; urn?: string },
): Promise<Outcome<DutyList<CmeItem> & { today: string }>> {
  const today = todayInEngland();
  const year = yearOf(query, today);
  const all = (await dutiesOf(deps, year, query.urn)).flatMap((d) => d.deletions);
  const cme = await assessDeletions(deps, all, year, today);
  const wanted = (s: string) => (query.status ? s === query.status : s === 'missing' || s === 'confirm_with_other_la');
  const chosen = all.filter((d) => wanted(cme.get(d)!.status));
  chosen.sort(
    (a, b) =>
      Number(cme.get(b)!.flagged) - Number(cme.get(a)!.flagged) ||
      (a.leavingDate < b.leavingDate ? -1 : a.leavingDate > b.leavingDate ? 1 : a.upn < b.upn ? -1 : 1),
  );
  const open = await deps.referrals.openUpns();
  const schools = await schoolNames(
    deps,
    chosen.map((d) => d.urn),
  );
  const items = chosen.map((d) => {
    const c = cme.get(d)!;
    return {
      ...deletionView(d, schools, c),
      hasOpenReferral: open.has(d.upn),
      suggestedReferralType: c.flagged && !open.has(d.upn) ? ('children_missing_education' as const) : null,
    };
  });
  return done({ year, urn: query.urn, today, items });
}

// ---- Part-time timetables -----------------------------------------------------------------------------

export interface PartTimeQuery {
  academicYear?: number;
  urn?: string;
  reviewWeeks?: number;
  pastReviewLimit?: 'true' | 'false';
  current?: 'true' | 'false';
}

/** Pupils on a part-time timetable (C2), longest first, each flagged past the review limit or not. */
export async function partTimeTimetables(deps: DutiesDeps, principal: Principal, query: PartTimeQuery) {
  const scope = scopeUrn(principal, query.urn);
  if (!scope.ok) return scope;
  const urn = scope.value;
  const year = yearOf(query, todayInEngland());
  const reviewWeeks = query.reviewWeeks ?? deps.settings().partTimeTimetableReviewWeeks;
  const docs = await dutiesOf(deps, year, urn);
  const all = docs
    .flatMap((d) => d.partTimeTimetables)
    .map((t) => ({ ...t, pastReviewLimit: pastReviewLimit(t, reviewWeeks) }));
  const chosen = all.filter(
    (t) =>
      (query.pastReviewLimit === undefined || String(t.pastReviewLimit) === query.pastReviewLimit) &&
      (query.current === undefined || String(t.current) === query.current),
  );
  chosen.sort((a, b) => b.weeks - a.weeks || (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : a.upn < b.upn ? -1 : 1));
  const schools = await schoolNames(
    deps,
    chosen.map((t) => t.urn),
  );
  const items = chosen.map((t) => {
    const { upn, urn: school, ...figures } = timetableView(t, t.pastReviewLimit);
    return {
      upn,
      forename: t.forename ?? null,
      surname: t.surname ?? null,
      yearGroup: t.yearGroup ?? null,
      urn: school,
      schoolName: schools.get(school)?.name ?? null,
      ...figures,
    };
  });
  return done({ year, urn, reviewWeeks, items });
}

function timetableView(t: PartTimeTimetable, pastLimit: boolean) {
  return {
    upn: t.upn,
    urn: t.urn,
    start: t.start,
    latest: t.latest,
    weeks: t.weeks,
    c2Sessions: t.c2Sessions,
    sessionsLatestWeek: t.sessionsLatestWeek,
    sessionsPerWeek: t.sessionsPerWeek,
    current: t.current,
    pastReviewLimit: pastLimit,
  };
}

// ---- Children with a social worker ------------------------------------------------------------------

/** Children with a social worker (cin or cpp at any time in the year), with the year's enrolments. */
async function socialWorkerChildren(deps: DutiesDeps, year: number): Promise<VirtualSchoolChild[]> {
  // The Virtual School's roll partitions for cin and cpp: as many rows as those children, not the LA's.
  const [cin, cpp, care] = await Promise.all([
    deps.laLists.all(year, 'vs', { cohort: 'cin' }),
    deps.laLists.all(year, 'vs', { cohort: 'cpp' }),
    deps.virtualSchool.careIndex(),
  ]);
  const rows = new Map([...cin, ...cpp].map((r) => [r.upn, r]));
  const upns = new Set<string>();
  for (const r of rows.values()) if (r.everCohorts.includes('cin') || r.everCohorts.includes('cpp')) upns.add(r.upn);
  for (const [upn, spans] of care)
    if (
      episodesOverlapping(
        spans.filter((s) => s.cohort === 'cin' || s.cohort === 'cpp'),
        academicYearStart(year),
        academicYearEnd(year),
      ).length > 0
    )
      upns.add(upn);
  const keys: EnrolmentKey[] = [];
  const queried: string[] = [];
  for (const upn of upns) {
    const row = rows.get(upn);
    if (row) for (const urn of row.urns) keys.push({ upn, academicYear: year, urn });
    else queried.push(upn);
  }
  const enrolments = new Map<string, Enrolment[]>();
  for (const e of await deps.virtualSchool.enrolmentsByKeys(keys))
    enrolments.set(e.upn, [...(enrolments.get(e.upn) ?? []), e]);
  await inParallel(queried, 16, async (upn) => {
    enrolments.set(
      upn,
      (await deps.virtualSchool.enrolments(upn)).filter((e) => e.academicYear === year),
    );
  });
  return [...upns].sort().map((upn) => ({ upn, enrolments: enrolments.get(upn) ?? [], care: care.get(upn) ?? [] }));
}

function absenceView(
  a: SocialWorkerAbsence,
  child: VirtualSchoolChild | undefined,
  schools: Map<string, SchoolRecord>,
) {
  const e = child?.enrolments.find((x) => x.urn === a.urn);
  return {
    alertKey: a.alertKey,
    upn: a.upn,
    forename: e?.forename ?? null,
    surname: e?.surname ?? null,
    yearGroup: e?.yearGroup ?? null,
    urn: a.urn,
    schoolName: schools.get(a.urn)?.name ?? null,
    date: a.date,
    session: a.session,
    code: a.code,
    reason: a.reason,
    cohorts: a.cohorts,
  };
}

/** A day's unexplained absences of children in need and on child protection plans (the previous working day by default). */
export async function socialWorkerAbsencesOn(deps: DutiesDeps, query: { date?: string; urn?: string }) {
  const today = todayInEngland();
  const date = query.date ?? defaultAlertDate(today, englandAndWalesBankHolidays());
  if (date > today)
    return refuse('invalid', 'Absences are about a day that has happened: `date` is after today.', {
      errors: [{ field: 'date', message: 'must not be after today' }],
    });
  const children = await socialWorkerChildren(deps, academicYearOf(date));
  const byUpn = new Map(children.map((c) => [c.upn, c]));
  const absences = socialWorkerAbsences(date, children).filter((a) => !query.urn || a.urn === query.urn);
  const schools = await schoolNames(
    deps,
    absences.map((a) => a.urn),
  );
  return done({ date, items: absences.map((a) => absenceView(a, byUpn.get(a.upn), schools)) });
}

// ---- Looked after ---------------------------------------------------------------------------------------

/**
 * Which of a school's pupils the LA looks after today (or as a past year ended), from the LA's lists,
 * and nothing more of their social-care record. `urn` is as given in the path.
 */
export async function lookedAfterPupils(
  deps: DutiesDeps,
  principal: Principal,
  query: { urn: string | undefined; academicYear?: number },
) {
  const parsed = Urn.safeParse(query.urn ?? '');
  if (!parsed.success) return refuse('not_found', 'No such school.');
  const urn = parsed.data;
  const scope = scopeUrn(principal, urn);
  if (!scope.ok) return scope;
  const today = todayInEngland();
  const year = yearOf(query, today);
  const view = await deps.views.schoolView(urn, year);
  const date = lookedAfterAsOf(year, today);
  const lookedAfter = await deps.lookedAfter.among(
    (view?.pupils ?? []).map((p) => p.upn),
    date,
  );
  const items = (view?.pupils ?? [])
    .filter((p) => lookedAfter.has(p.upn))
    .map((p) => ({
      upn: p.upn,
      forename: p.forename ?? null,
      surname: p.surname ?? null,
      yearGroup: p.yearGroup ?? null,
      lookedAfter: true as const,
    }));
  return done({ urn, date, items });
}

// ---- On the pupil view ------------------------------------------------------------------------------

/**
 * What the pupil view adds for these duties: whether the LA looks after the child (nothing more of
 * the social-care record), and the child's part-time timetables — a school sees its own only.
 */
export async function pupilDutyFields(
  deps: DutiesDeps,
  principal: Principal,
  upn: string,
  academicYear: number,
  urns: readonly string[],
) {
  return (await pupilDutyReads(deps, principal, upn, academicYear, urns))(urns);
}

/**
 * The reads behind `pupilDutyFields`, made now; the fields follow for the same schools in any order
 * (`order`, the order the view lists them in, gives the part-time timetables' order). So a pupil view
 * can ask for them as soon as it knows the pupil's schools, with its other reads (shared/app/read-pupil.ts).
 */
export async function pupilDutyReads(
  deps: DutiesDeps,
  principal: Principal,
  upn: string,
  academicYear: number,
  urns: readonly string[],
): Promise<
  (order: readonly string[]) => { lookedAfter: boolean; partTimeTimetables: ReturnType<typeof timetableView>[] }
> {
  const visible = urns.filter((u) => maySeeSchool(principal, u));
  const [cared, docs] = await Promise.all([
    deps.lookedAfter.among([upn], lookedAfterAsOf(academicYear, todayInEngland())),
    Promise.all(visible.map((u) => deps.dutyRecords.ofYear(academicYear, u))),
  ]);
  const reviewWeeks = deps.settings().partTimeTimetableReviewWeeks;
  const bySchool = new Map(visible.map((u, i) => [u, docs[i]]));
  return (order) => ({
    lookedAfter: cared.has(upn),
    partTimeTimetables: order
      .filter((u) => maySeeSchool(principal, u))
      .flatMap((u) => bySchool.get(u) ?? [])
      .flatMap((d) => d.partTimeTimetables.filter((t) => t.upn === upn))
      .map((t) => timetableView(t, pastReviewLimit(t, reviewWeeks))),
  });
}

// ---- In the referral suggestions ----------------------------------------------------------------------

/**
 * The referral suggestions with each child missing education after a deletion added (docs/design.md §5 "CME
 * risk"): a `children_missing_education` reason (since the leaving date, or the day after the
 * destination school's deadline), first in rank. For LA officers only (it reads other schools' rolls);
 * children with an open case are left out, as for every suggestion.
 */
export async function withChildrenMissingEducation(
  deps: DutiesDeps,
  principal: Principal,
  suggestions: Suggestion[],
  year: number,
  hasOpenCase: (upn: string) => boolean,
  urn?: string,
): Promise<Suggestion[]> {
  if (!mayReadOtherSchoolsRolls(principal)) return suggestions;
  const today = todayInEngland();
  const all = (await dutiesOf(deps, year, undefined)).flatMap((d) => d.deletions);
  const cme = await assessDeletions(deps, all, year, today);
  const flagged = new Map<string, { since: string; deletion: Deletion }>();
  for (const d of all) {
    const c = cme.get(d)!;
    if (!c.flagged || hasOpenCase(d.upn) || (urn !== undefined && d.urn !== urn)) continue;
    const since = c.listingDeadline !== undefined ? addDays(c.listingDeadline, 1) : d.leavingDate;
    const held = flagged.get(d.upn);
    if (!held || since < held.since) flagged.set(d.upn, { since, deletion: d });
  }
  if (flagged.size === 0) return suggestions;
  const out: Suggestion[] = [];
  for (const s of suggestions) {
    const f = flagged.get(s.upn);
    if (!f) continue;
    flagged.delete(s.upn);
    out.push({
      ...s,
      suggestedType: 'children_missing_education',
      reasons: [
        { flag: 'children_missing_education', since: f.since, referralType: 'children_missing_education' },
        ...s.reasons,
      ],
    });
  }
  for (const { since, deletion: d } of [...flagged.values()].sort((a, b) =>
    a.since < b.since ? -1 : a.since > b.since ? 1 : a.deletion.upn < b.deletion.upn ? -1 : 1,
  )) {
    out.push({
      upn: d.upn,
      forename: d.forename ?? null,
      surname: d.surname ?? null,
      yearGroup: d.yearGroup ?? null,
      urns: [d.urn],
      suggestedType: 'children_missing_education',
      reasons: [{ flag: 'children_missing_education', since, referralType: 'children_missing_education' }],
      absenceRate: null,
      unauthorisedSessions: 0,
    } as Suggestion);
  }
  const merged = new Set(out.map((s) => s.upn));
  return [...out, ...suggestions.filter((s) => !merged.has(s.upn))];
}

/** Date order, then school, then pupil: the order an officer reads a register's entries or deletions in. */
function byDateSchoolPupil<T extends { urn: string; upn: string }>(dateOf: (x: T) => string) {
  const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  return (a: T, b: T) => cmp(dateOf(a), dateOf(b)) || cmp(a.urn, b.urn) || cmp(a.upn, b.upn);
}
