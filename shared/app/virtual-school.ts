/**
 * The Virtual School (docs/design.md §1, §4): the looked-after, previously looked-after and social-worker
 * children as one school, wherever they are educated — the roll with figures while in the cohort, the
 * daily alerts, and the termly summary for a child's Personal Education Plan.
 *
 * Scope: a Virtual School Head sees only children who were cla, plac, cin or cpp at any time in the
 * period (from the LA's lists or a school's return), at any school in the LA or out of it; any other
 * child is "not found". LA officers see the same routes; schools and admins do not use them.
 */
import { inVirtualSchool, mayReadPupil, mayUseVirtualSchool, type Principal } from '../domain/access.js';
import { episodesOverlapping } from '../domain/cohorts.js';
import { academicYearEnd, academicYearOf, academicYearStart, addDays, todayInEngland } from '../domain/dates.js';
import type { Enrolment, EnrolmentKey } from '../domain/pupil-summary.js';
import { totalsOf, toStats, type Stats } from '../domain/stats.js';
import {
  ALERT_TYPES,
  careEntries,
  dailyAlerts,
  defaultAlertDate,
  pepSummary,
  rollEntry,
  type AlertType,
  type PepSummary,
  type RollEntry,
  type VirtualSchoolChild,
  type VirtualSchoolGroup,
} from '../domain/virtual-school.js';
import { englandAndWalesBankHolidays } from '../formats/bank-holidays.js';
import { Upn } from '../schemas/common.js';
import type { CareIndex } from '../store/care.js';
import type { SchoolRecord } from '../store/schools.js';
import { inParallel } from '../store/table.js';
import type { AuditTrail } from './audit.js';
import { done, refuse, type Outcome } from './outcome.js';
import type { LaLists, PupilRecords, Schools, VirtualSchoolRecords } from './ports.js';

export type VirtualSchoolDeps = {
  laLists: LaLists;
  schools: Schools;
  pupils: PupilRecords;
  virtualSchool: VirtualSchoolRecords;
};

// ---- Who and whom ----------------------------------------------------------------------------------

const NOT_FOR_ROLE = 'The Virtual School routes are for the Virtual School Head and LA officers.';

/**
 * Every child the Virtual School holds for the academic year: anyone whose combined figures show a
 * Virtual School cohort at any time in the year (LA lists or a school's flag), and anyone in the LA's
 * lists for the year, on a register or not. Enrolments are those of the year, except for the UPNs
 * in `allYears` (every year: entering care may straddle 1 August).
 */
async function virtualSchoolChildren(
  deps: VirtualSchoolDeps,
  year: number,
  care: CareIndex,
  allYears: ReadonlySet<string> = new Set(),
): Promise<VirtualSchoolChild[]> {
  // The roll's own partition: as many rows as the Virtual School's children, not the LA's pupils.
  const rows = new Map((await deps.laLists.all(year, 'vs', {})).map((r) => [r.upn, r]));
  const from = academicYearStart(year);
  const to = academicYearEnd(year);
  const upns = new Set<string>();
  for (const r of rows.values()) if (inVirtualSchool(r.everCohorts)) upns.add(r.upn);
  for (const [upn, spans] of care) if (episodesOverlapping(spans, from, to).length > 0) upns.add(upn);

  const enrolments = new Map<string, Enrolment[]>();
  const keys: EnrolmentKey[] = [];
  const queried: string[] = [];
  for (const upn of upns) {
    const row = rows.get(upn);
    if (row && !allYears.has(upn)) for (const urn of row.urns) keys.push({ upn, academicYear: year, urn });
    else queried.push(upn); // not in the year's pupil lists (yet): ask for whatever is held
  }
  for (const e of await deps.virtualSchool.enrolmentsByKeys(keys)) {
    const list = enrolments.get(e.upn);
    if (list) list.push(e);
    else enrolments.set(e.upn, [e]);
  }
  await inParallel(queried, 16, async (upn) => {
    enrolments.set(upn, await deps.virtualSchool.enrolments(upn));
  });
  return [...upns].sort().map((upn) => ({ upn, enrolments: enrolments.get(upn) ?? [], care: care.get(upn) ?? [] }));
}

export interface ChildDetails {
  forename: string | null;
  surname: string | null;
  dob: string | null;
  yearGroup: string | null;
}

/** Name and year group from the enrolment the child was most recently listed on in the year. */
function detailsOf(child: VirtualSchoolChild, year: number): ChildDetails {
  const latest =
    child.enrolments
      .filter((e) => e.academicYear === year)
      .sort((a, b) =>
        a.lastListed < b.lastListed ? 1 : a.lastListed > b.lastListed ? -1 : a.urn < b.urn ? -1 : 1,
      )[0] ?? [...child.enrolments].sort((a, b) => (a.lastListed < b.lastListed ? 1 : -1))[0];
  return {
    forename: latest?.forename ?? null,
    surname: latest?.surname ?? null,
    dob: latest?.dob ?? null,
    yearGroup: latest?.yearGroup ?? null,
  };
}

async function schoolsOf(deps: VirtualSchoolDeps, urns: Iterable<string>): Promise<Map<string, SchoolRecord>> {
  const list = [...new Set(urns)];
  return list.length ? deps.schools.getMany(list) : new Map();
}

export interface SchoolRef {
  urn: string;
  name: string | null;
  outOfArea: boolean;
}

function schoolRef(urn: string, schools: Map<string, SchoolRecord>): SchoolRef {
  const s = schools.get(urn);
  return { urn, name: s?.name ?? null, outOfArea: s?.outOfArea ?? false };
}

/** A period within one academic year: explicit from/to, else the academic year to date. */
function periodOf(
  query: { academicYear?: number; from?: string; to?: string },
  today: string,
): Outcome<{ year: number; from: string; to: string }> {
  const year = query.from
    ? academicYearOf(query.from)
    : query.to
      ? academicYearOf(query.to)
      : (query.academicYear ?? academicYearOf(today));
  const yearEnd = academicYearEnd(year);
  const to = query.to ?? (today < yearEnd ? today : yearEnd);
  const from = query.from ?? academicYearStart(year);
  if (academicYearOf(to) !== year)
    return refuse('invalid', 'A period must lie within one academic year (1 August to 31 July).', {
      errors: [{ field: 'to', message: 'in a different academic year from `from`' }],
    });
  if (from > to)
    return refuse('invalid', '`from` is after `to`.', { errors: [{ field: 'from', message: 'must not be after to' }] });
  return done({ year, from, to });
}

// ---- The roll ------------------------------------------------------------------------------------

export interface RollQuery {
  academicYear?: number;
  from?: string;
  to?: string;
  cohort: VirtualSchoolGroup;
  flag?: 'persistent_absence' | 'severe_absence';
  urn?: string;
}

export interface RollItem {
  upn: string;
  forename: string | null;
  surname: string | null;
  yearGroup: string | null;
  everCohorts: string[];
  cohortsAtEnd: string[];
  onRegister: boolean;
  schools: SchoolRef[];
  daysInCohort: number;
  stats: Stats;
  persistentAbsence: boolean;
  severeAbsence: boolean;
}

/** The Virtual School's roll for the period: children in the cohort at any time in it, worst first. */
export async function virtualSchoolRoll(
  deps: VirtualSchoolDeps,
  principal: Principal,
  query: RollQuery,
): Promise<Outcome<{ from: string; to: string; items: RollItem[] }>> {
  if (!mayUseVirtualSchool(principal)) return refuse('forbidden', NOT_FOR_ROLE);
  const period = periodOf(query, todayInEngland());
  if (!period.ok) return period;
  const { year, from, to } = period.value;
  const care = await deps.virtualSchool.careIndex();
  const children = await virtualSchoolChildren(deps, year, care);
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
  const schools = await schoolsOf(
    deps,
    entries.flatMap((x) => x.entry.urns),
  );
  const items = entries.map(({ child, entry }) => {
    const d = detailsOf(child, year);
    return {
      upn: entry.upn,
      forename: d.forename,
      surname: d.surname,
      yearGroup: d.yearGroup,
      everCohorts: entry.everCohorts,
      cohortsAtEnd: entry.cohortsAtEnd,
      onRegister: entry.onRegister,
      schools: entry.urns.map((u) => schoolRef(u, schools)),
      daysInCohort: entry.daysInCohort,
      stats: toStats(entry.counts),
      persistentAbsence: entry.persistentAbsence,
      severeAbsence: entry.severeAbsence,
    };
  });
  return done({ from, to, items });
}

// ---- Daily alerts --------------------------------------------------------------------------------

export interface AlertsQuery {
  date?: string;
  newInCareDays: number;
  type?: AlertType;
}

export type AlertItem = {
  type: AlertType;
  date: string;
  session: 'AM' | 'PM' | null;
  code: string | null;
  upn: string;
  forename: string | null;
  surname: string | null;
  yearGroup: string | null;
  cohorts: string[];
  urn: string | null;
  schoolName: string | null;
  outOfArea: boolean | null;
  careStart: string | null;
  reason: 'not_on_any_register' | 'no_return_since_care_began' | null;
  lastListed: string | null;
};

/** The day's alerts about the Virtual School's children (the previous working day by default). */
export async function virtualSchoolAlerts(
  deps: VirtualSchoolDeps,
  principal: Principal,
  query: AlertsQuery,
): Promise<Outcome<{ date: string; counts: Record<AlertType, number>; items: AlertItem[] }>> {
  if (!mayUseVirtualSchool(principal)) return refuse('forbidden', NOT_FOR_ROLE);
  const today = todayInEngland();
  const date = query.date ?? defaultAlertDate(today, englandAndWalesBankHolidays());
  if (date > today)
    return refuse('invalid', 'Alerts are about a day that has happened: `date` is after today.', {
      errors: [{ field: 'date', message: 'must not be after today' }],
    });
  const year = academicYearOf(date);
  const care = await deps.virtualSchool.careIndex();
  const windowFrom = addDays(date, -(query.newInCareDays - 1));
  const entering = new Set<string>();
  for (const [upn, spans] of care) if (careEntries(spans, windowFrom, date).length > 0) entering.add(upn);
  const children = await virtualSchoolChildren(deps, year, care, entering);
  const byUpn = new Map(children.map((c) => [c.upn, c]));
  const all = dailyAlerts(date, children, { newInCareDays: query.newInCareDays });
  const counts = Object.fromEntries(ALERT_TYPES.map((t) => [t, all.filter((a) => a.type === t).length])) as Record<
    AlertType,
    number
  >;
  const chosen = query.type ? all.filter((a) => a.type === query.type) : all;
  const schools = await schoolsOf(
    deps,
    chosen.flatMap((a) => (a.urn ? [a.urn] : [])),
  );
  const items = chosen.map((a) => {
    const d = detailsOf(byUpn.get(a.upn)!, year);
    const s = a.urn ? schoolRef(a.urn, schools) : undefined;
    return {
      type: a.type,
      date: a.date,
      session: a.session ?? null,
      code: a.code ?? null,
      upn: a.upn,
      forename: d.forename,
      surname: d.surname,
      yearGroup: d.yearGroup,
      cohorts: a.cohorts,
      urn: a.urn ?? null,
      schoolName: s?.name ?? null,
      outOfArea: s ? s.outOfArea : null,
      careStart: a.careStart ?? null,
      reason: a.reason ?? null,
      lastListed: a.lastListed ?? null,
    };
  });
  return done({ date, counts, items });
}

// ---- The PEP summary -----------------------------------------------------------------------------

export interface PepQuery {
  /** As given in the path (checked after the caller's role, as a malformed UPN is a pupil not found). */
  upn: string | undefined;
  academicYear?: number;
  term?: 'autumn' | 'spring' | 'summer';
  cohort: VirtualSchoolGroup;
}

export type PepTermView = Omit<PepSummary['terms'][number], 'schools'> & {
  schools: Array<SchoolRef & PepSummary['terms'][number]['schools'][number]>;
};

/**
 * A child's termly attendance for the Personal Education Plan. Refused as not found (existence not
 * revealed) when the child was in no Virtual School cohort in the year or is outside the caller's scope;
 * the read (or the refusal of a well-formed UPN) is noted on the caller's audit trail.
 */
export async function virtualSchoolPepSummary(
  deps: VirtualSchoolDeps,
  { principal, audit }: { principal: Principal; audit: AuditTrail },
  query: PepQuery,
): Promise<Outcome<{ upn: string; year: number; details: ChildDetails; terms: PepTermView[] }>> {
  if (!mayUseVirtualSchool(principal)) return refuse('forbidden', NOT_FOR_ROLE);
  const parsed = Upn.safeParse(query.upn ?? '');
  if (!parsed.success) return refuse('not_found', 'No such pupil.');
  const upn = parsed.data;
  const notFound = () => {
    audit.record({ target: 'pupil', upn, outcome: 'not_found' });
    return refuse('not_found', 'No such pupil.');
  };
  const year = query.academicYear ?? academicYearOf(todayInEngland());
  // In scope: a Virtual School cohort at any time in the year, from the child's combined figures
  // or from the LA's own lists (a child on no register, or listed only before care began).
  const [summary, care] = await Promise.all([deps.pupils.summary(upn), deps.virtualSchool.careIndex()]);
  const yearSummary = summary?.years[String(year)];
  const spans = care.get(upn) ?? [];
  const careCohorts = episodesOverlapping(spans, academicYearStart(year), academicYearEnd(year)).map((e) => e.cohort);
  if (!yearSummary && careCohorts.length === 0) return notFound();
  const everCohorts = [...new Set([...(yearSummary?.everCohorts ?? []), ...careCohorts])];
  if (!mayReadPupil(principal, { urns: yearSummary?.enrolments.map((e) => e.urn) ?? [], everCohorts }))
    return notFound();

  const child: VirtualSchoolChild = {
    upn,
    enrolments: (await deps.virtualSchool.enrolments(upn)).filter((e) => e.academicYear === year),
    care: spans,
  };
  const pep = pepSummary(child, year, { cohort: query.cohort, term: query.term });
  const schools = await schoolsOf(
    deps,
    pep.terms.flatMap((t) => t.schools.map((s) => s.urn)),
  );
  const terms = pep.terms.map((t) => ({
    ...t,
    schools: t.schools.map((s) => ({ ...schoolRef(s.urn, schools), ...s })),
  }));
  audit.record({ target: 'pupil', upn, outcome: 'ok' });
  return done({ upn, year, details: detailsOf(child, year), terms });
}
