/**
 * Read a pupil (docs/design.md §4 GET /v1/pupils/{upn} and its sessions): the LA's view of one child
 * across schools, or — for a school — only what its own enrolments hold (issue 15). Whether the
 * caller may read the pupil, and how much, is asked of shared/domain/access.ts for each academic
 * year; a pupil outside the caller's scope is answered as unknown.
 */
import {
  flagsForSchool,
  needsCareListsForScope,
  pupilReadScope,
  type Principal,
  type PupilReadScope,
} from '../domain/access.js';
import { CODE_OF_CHAR, NO_MARK } from '../domain/codes.js';
import { cohortMasksByDay, cohortsEver, episodesOverlapping, positiveCohortsOf } from '../domain/cohorts.js';
import {
  academicYearEnd,
  academicYearOf,
  academicYearStart,
  addDays,
  dayNumber,
  dayOfAcademicYear,
  todayInEngland,
} from '../domain/dates.js';
import type { Enrolment, EnrolmentSummary, PupilFlag, PupilYearSummary } from '../domain/pupil-summary.js';
import { isPersistentAbsence, isSevereAbsence, toStats, totalsOf, type Stats } from '../domain/stats.js';
import type { PupilSummaryRecord } from '../store/pupils.js';
import type { AuditTrail } from './audit.js';
import { done, refuse, type Outcome } from './outcome.js';
import type { PupilDuties, PupilHeadSeen, PupilRecords, Settings } from './ports.js';

export interface Caller {
  principal: Principal;
  audit: AuditTrail;
}

export type PupilDeps = { pupils: PupilRecords } & Settings;

function yearOfSummary(record: PupilSummaryRecord, requested?: number): PupilYearSummary | undefined {
  if (requested !== undefined) return record.years[String(requested)];
  const current = academicYearOf(todayInEngland());
  const years = Object.keys(record.years)
    .map(Number)
    .filter((y) => y <= current)
    .sort((a, b) => b - a);
  return years.length ? record.years[String(years[0])] : undefined;
}

/** How much of the pupil's record for this year the principal may read (docs/design.md §4; issue 15). */
async function scopeOfYear(
  deps: Pick<PupilDeps, 'pupils'>,
  principal: Principal,
  upn: string,
  year: PupilYearSummary,
): Promise<PupilReadScope> {
  const urns = year.enrolments.map((e) => e.urn);
  let everCohorts = year.everCohorts;
  if (needsCareListsForScope(principal, everCohorts)) {
    // The LA's own care lists count too, even for dates the school did not list the child (care
    // that began after the child's last register row).
    const care = await deps.pupils.careEpisodes(upn);
    everCohorts = [
      ...everCohorts,
      ...episodesOverlapping(care, academicYearStart(year.academicYear), academicYearEnd(year.academicYear)).map(
        (e) => e.cohort,
      ),
    ];
  }
  return pupilReadScope(principal, { urns, everCohorts });
}

export interface ReadablePupil {
  record: PupilSummaryRecord;
  year: PupilYearSummary;
  scope: Exclude<PupilReadScope, { kind: 'none' }>;
}

/** The pupil the caller may see for the year (the latest by default), or a refusal that never says whether the pupil exists. */
export async function readablePupil(
  deps: Pick<PupilDeps, 'pupils'>,
  principal: Principal,
  upn: string,
  academicYear?: number,
  onHead?: (head: PupilHeadSeen) => void,
): Promise<Outcome<ReadablePupil>> {
  const record = await deps.pupils.summary(upn, onHead);
  const year = record ? yearOfSummary(record, academicYear) : undefined;
  if (!record || !year) return refuse('not_found', 'No such pupil.');
  const scope = await scopeOfYear(deps, principal, upn, year);
  if (scope.kind === 'none') return refuse('not_found', 'No such pupil.');
  return done({ record, year, scope });
}

/** An enrolment as a pupil view shows it: the one Enrolment's identity and dates (absent: null), and its figures. */
export interface EnrolmentView
  extends
    Pick<Enrolment, 'urn' | 'academicYear' | 'registration'>,
    Pick<EnrolmentSummary, 'persistentAbsence' | 'severeAbsence'> {
  admissionDate: NonNullable<Enrolment['admissionDate']> | null;
  leavingDate: NonNullable<Enrolment['leavingDate']> | null;
  stats: Stats;
}

export interface PupilView {
  upn: string;
  forename: string | null;
  surname: string | null;
  dob: string | null;
  yearGroup: string | null;
  academicYear: number;
  cohorts: string[];
  enrolments: EnrolmentView[];
  totals: Stats;
  persistentAbsence: boolean;
  severeAbsence: boolean;
  flags: PupilFlag[];
}

function enrolmentView(e: EnrolmentSummary): EnrolmentView {
  return {
    urn: e.urn,
    academicYear: e.academicYear,
    registration: e.registration,
    admissionDate: e.admissionDate ?? null,
    leavingDate: e.leavingDate ?? null,
    stats: toStats(e.counts),
    persistentAbsence: e.persistentAbsence,
    severeAbsence: e.severeAbsence,
  };
}

/**
 * The pupil view a school gets: only what its own enrolments hold — its marks and figures, the names
 * and cohorts it stated — plus the flags the LA shares with schools (issue 15).
 */
function ownSchoolView(
  record: PupilSummaryRecord,
  year: PupilYearSummary,
  urn: string,
  patternFlags: readonly PupilFlag[],
  shared: readonly string[],
): PupilView {
  const own = year.enrolments.filter((e) => e.urn === urn);
  const counts = own.reduce(
    (acc, e) => acc.map((n, i) => n + (e.counts[i] ?? 0)),
    new Array<number>(year.counts.length).fill(0),
  );
  const t = totalsOf(counts);
  const absence = t.authorised + t.unauthorised;
  const details = record.enrolments
    .filter((e) => e.academicYear === year.academicYear && e.urn === urn)
    .sort((a, b) => (a.lastListed < b.lastListed ? 1 : -1))[0];
  const lastDay = details ? dayOfAcademicYear(details.lastListed) : 0;
  const cohorts = details
    ? positiveCohortsOf(cohortsEver(cohortMasksByDay(year.academicYear, details.stated), lastDay, lastDay))
    : [];
  return {
    upn: year.upn,
    forename: details?.forename ?? null,
    surname: details?.surname ?? null,
    dob: details?.dob ?? null,
    yearGroup: details?.yearGroup ?? null,
    academicYear: year.academicYear,
    cohorts,
    enrolments: own.map(enrolmentView),
    totals: toStats(counts),
    persistentAbsence: isPersistentAbsence(absence, t.possible),
    severeAbsence: isSevereAbsence(absence, t.possible),
    flags: flagsForSchool([...year.flags, ...patternFlags], urn, shared, own.length === year.enrolments.length),
  };
}

/**
 * The reads a pupil view will make once it has the record — the pattern flags and the duties' fields
 * of the year's schools — asked for as soon as the pupil's head says which year and schools those
 * are, so they go with the enrolments' read (one round trip fewer; issue 17). Only a guess: the view
 * uses them only if the record then names the same year and the same schools for the caller, else
 * asks again; nothing read here is shown otherwise.
 */
interface EarlyReads {
  academicYear: number;
  dutyUrns: readonly string[];
  patternFlags: Promise<PupilFlag[]>;
  duties: Promise<(order: readonly string[]) => Record<string, unknown>>;
}

function earlyReads(
  deps: PupilDeps & { duties: PupilDuties },
  principal: Principal,
  upn: string,
  requested: number | undefined,
  head: PupilHeadSeen,
): EarlyReads | undefined {
  const readsFor = deps.duties.readsFor;
  if (!readsFor) return undefined;
  // As yearOfSummary: the year asked for, else the latest held up to the current one.
  const current = academicYearOf(todayInEngland());
  const academicYear =
    requested ??
    head.enrolments.reduce<number | undefined>(
      (y, e) => (e.academicYear <= current && (y === undefined || e.academicYear > y) ? e.academicYear : y),
      undefined,
    );
  if (academicYear === undefined) return undefined;
  const urns = [...new Set(head.enrolments.filter((e) => e.academicYear === academicYear).map((e) => e.urn))];
  // As readPupil below: a school its own enrolment only; anyone else every school of the year.
  const dutyUrns =
    principal.role === 'school' ? (principal.urn && urns.includes(principal.urn) ? [principal.urn] : []) : urns;
  if (dutyUrns.length === 0) return undefined;
  const early: EarlyReads = {
    academicYear,
    dutyUrns,
    patternFlags: deps.pupils.patternFlags(upn, academicYear),
    duties: readsFor(principal, upn, academicYear, dutyUrns),
  };
  // A guess the view does not use is dropped, its failure with it.
  early.patternFlags.catch(() => undefined);
  early.duties.catch(() => undefined);
  return early;
}

const sameSchools = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((u) => b.includes(u));

/** The pupil for one academic year (the latest by default): every school's part, or the caller's own school's. */
export async function readPupil(
  deps: PupilDeps & { duties: PupilDuties },
  { principal, audit }: Caller,
  input: { upn: string; academicYear?: number },
): Promise<Outcome<PupilView & Record<string, unknown>>> {
  const { upn } = input;
  let early: EarlyReads | undefined;
  const found = await readablePupil(deps, principal, upn, input.academicYear, (head) => {
    early = earlyReads(deps, principal, upn, input.academicYear, head);
  });
  if (!found.ok) {
    audit.record({ target: 'pupil', upn, outcome: 'not_found' });
    return found;
  }
  const { record, year, scope } = found.value;
  // A school is told only of its own part-time timetables, and whether the LA looks after the child.
  const dutyUrns = scope.kind === 'own' ? [scope.urn] : year.enrolments.map((e) => e.urn);
  const guessed = early && early.academicYear === year.academicYear && sameSchools(early.dutyUrns, dutyUrns);
  // Asked together: one wait, and their DynamoDB reads go as one batch (shared/store/table.ts).
  const [patternFlags, duties] = guessed
    ? await Promise.all([early!.patternFlags, early!.duties.then((fields) => fields(dutyUrns))])
    : await Promise.all([
        deps.pupils.patternFlags(upn, year.academicYear),
        deps.duties.fieldsFor(principal, upn, year.academicYear, dutyUrns),
      ]);
  audit.record({ target: 'pupil', upn, outcome: 'ok' });
  if (scope.kind === 'own')
    return done({
      ...ownSchoolView(record, year, scope.urn, patternFlags, deps.settings().flagsSharedWithSchools),
      ...duties,
    });
  return done({
    upn,
    forename: year.forename ?? null,
    surname: year.surname ?? null,
    dob: year.dob ?? null,
    yearGroup: year.yearGroup ?? null,
    academicYear: year.academicYear,
    cohorts: year.cohorts,
    enrolments: year.enrolments.map(enrolmentView),
    totals: toStats(year.counts),
    persistentAbsence: year.persistentAbsence,
    severeAbsence: year.severeAbsence,
    flags: [...year.flags, ...patternFlags],
    ...duties,
  });
}

export type PupilSession = { date: string; session: 'AM' | 'PM'; code: string | null; urn: string };

/**
 * The pupil's marks by date and session, with the school that recorded each. Scope is checked for
 * every academic year the answer would cover, each on its own: a year the caller may not read is
 * left out, never read on the strength of another year (issue 15).
 */
export async function pupilSessions(
  deps: Pick<PupilDeps, 'pupils'>,
  { principal, audit }: Caller,
  input: { upn: string; from?: string; to?: string },
): Promise<Outcome<{ upn: string; from: string; to: string; sessions: PupilSession[] }>> {
  const { upn } = input;
  const to = input.to ?? todayInEngland();
  const from = input.from ?? academicYearStart(academicYearOf(to));
  if (from > to)
    return refuse('invalid', '`from` is after `to`.', { errors: [{ field: 'from', message: 'must not be after to' }] });
  if (dayNumber(to) - dayNumber(from) > 3 * 366)
    return refuse('invalid', 'Ask for at most three years of sessions at a time.');
  const record = await deps.pupils.summary(upn);
  const scopes = new Map<number, PupilReadScope>();
  for (let y = academicYearOf(from); record && y <= academicYearOf(to); y++) {
    const summary = record.years[String(y)];
    const scope = summary ? await scopeOfYear(deps, principal, upn, summary) : undefined;
    if (scope && scope.kind !== 'none') scopes.set(y, scope);
  }
  if (!record || scopes.size === 0) {
    audit.record({ target: 'pupil', upn, outcome: 'not_found' });
    return refuse('not_found', 'No such pupil.');
  }
  const enrolments = record.enrolments.filter((e) => {
    const scope = scopes.get(e.academicYear);
    return scope !== undefined && (scope.kind === 'all' || (scope.kind === 'own' && e.urn === scope.urn));
  });
  const sessions: PupilSession[] = [];
  for (const e of enrolments.sort((a, b) => a.academicYear - b.academicYear || (a.urn < b.urn ? -1 : 1))) {
    const yFrom = from > academicYearStart(e.academicYear) ? from : academicYearStart(e.academicYear);
    const yTo = to < academicYearEnd(e.academicYear) ? to : academicYearEnd(e.academicYear);
    for (let d = yFrom; d <= yTo; d = addDays(d, 1)) {
      const i = dayOfAcademicYear(d) * 2;
      for (const [offset, session] of [
        [0, 'AM'],
        [1, 'PM'],
      ] as const) {
        const ch = e.marks[i + offset];
        if (ch === NO_MARK) continue;
        sessions.push({ date: d, session, code: CODE_OF_CHAR[ch] ?? null, urn: e.urn });
      }
    }
  }
  sessions.sort((a, b) =>
    a.date < b.date
      ? -1
      : a.date > b.date
        ? 1
        : a.session < b.session
          ? -1
          : a.session > b.session
            ? 1
            : a.urn < b.urn
              ? -1
              : 1,
  );
  audit.record({ target: 'pupil', upn, outcome: 'ok' });
  return done({ upn, from, to, sessions });
}
