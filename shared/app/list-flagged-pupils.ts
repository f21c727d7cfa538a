/**
 * List flagged pupils (docs/design.md §4 GET /v1/pupils): across all schools (a pupil who moved or is
 * dual registered counts once, on combined figures), worst first — PA, SA, at risk, emerging PA,
 * the statutory triggers and the threshold-gaming findings. A school sees its own figures only
 * (issue 15); what each caller may list is asked of access.ts row by row.
 */
import {
  flagsForSchool,
  isVirtualSchool,
  mayListPupil,
  ownSchoolOf,
  schoolScope,
  type Principal,
} from '../domain/access.js';
import { academicYearEnd, academicYearOf, academicYearStart, todayInEngland } from '../domain/dates.js';
import { shownAbsenceRate } from '../domain/la-view.js';
import { pupilFlagsOf } from '../domain/patterns/pupil-flags.js';
import { customPeriod } from '../domain/periods.js';
import type { FlagType } from '../domain/pupil-summary.js';
import { pupilRow, type PupilRow } from '../domain/school-view.js';
import { isAtRiskOfPersistentAbsence, isPersistentAbsence, isSevereAbsence } from '../domain/stats.js';
import { lookedAfterAsOf } from '../domain/virtual-school.js';
import type { LaListFilter } from '../store/la-lists.js';
import { done, refuse, type Outcome } from './outcome.js';
import type { LaListPage, LaLists, LookedAfter, PatternFindings, PupilRecords, Registers, Settings } from './ports.js';

export type FlaggedPupilsDeps = {
  laLists: LaLists;
  pupils: PupilRecords;
  lookedAfter: LookedAfter;
  registers: Registers;
  patterns: PatternFindings;
} & Settings;

export interface FlaggedPupilsQuery {
  flag: FlagType;
  urn?: string;
  cohort?: string;
  yearGroup?: string;
  from?: string;
  to?: string;
  /** Every row (an export), rather than a page. */
  all?: boolean;
  limit?: number;
  cursor?: string;
}

export interface FlaggedPupils {
  /** Every row (the door pages them), or, for the stored list of the standard period, one page already cut. */
  rows: PupilRow[];
  page?: LaListPage;
  /** What the list was drawn from, binding a page cursor to this list as it now stands. */
  snapshot: string;
  from: string;
  to: string;
  urn: string | undefined;
  /** Which of the rows given (the page's, else all) the LA looks after (issue 20: a school is told, and nothing more). */
  lookedAfter: Set<string>;
}

const ATTENDANCE_FLAGS = new Set<FlagType>(['persistent_absence', 'severe_absence', 'at_risk_pa']);
/** Flags the nightly threshold-gaming run raises (the latest run's findings, not the ingest's pupil rows). */
const PATTERN_FLAGS = new Set<FlagType>(['holiday_adjacent_absence', 'near_threshold_unauthorised', 'family_pattern']);

/** Worst first as shown, as the stored lists are ordered (shared/store/keys.ts laListSort). */
const byRate = (a: PupilRow, b: PupilRow) => shownAbsenceRate(b) - shownAbsenceRate(a) || (a.upn < b.upn ? -1 : 1);

/** The attendance flag's test on a period's own figures. */
function attendanceTest(flag: FlagType, atRiskLowerPercent: number): (absence: number, possible: number) => boolean {
  return flag === 'persistent_absence'
    ? isPersistentAbsence
    : flag === 'severe_absence'
      ? isSevereAbsence
      : (a, p) => isAtRiskOfPersistentAbsence(a, p, atRiskLowerPercent);
}

/** The LA's pupil rows carrying the latest patterns run's flag of this type (since = first evidence date). */
async function patternFlagRows(
  deps: FlaggedPupilsDeps,
  year: number,
  flag: FlagType,
): Promise<{ rows: PupilRow[]; snapshot: string }> {
  const latest = await deps.patterns.latest();
  const doc = latest && latest.academicYear === year ? await deps.patterns.findings(latest.runId) : undefined;
  if (!doc) return { rows: [], snapshot: `patterns:none:${year}` };
  const since = new Map<string, string>();
  for (const [upn, flags] of pupilFlagsOf(doc.findings)) {
    const f = flags.find((x) => x.type === flag);
    if (f) since.set(upn, f.since);
  }
  // The LA rows of the pupils found (as many as the findings, never the whole LA), worst first. A pupil
  // listed nowhere else has no LA row: its combined row is its record's, as its schools' views have it.
  const [held, version] = await Promise.all([deps.laLists.rows(year, [...since.keys()]), deps.laLists.version(year)]);
  const unlisted = [...since.keys()].filter((upn) => !held.has(upn));
  if (unlisted.length)
    for (const [upn, record] of await deps.pupils.summaries(unlisted)) {
      const ofYear = record.years[String(year)];
      if (ofYear) held.set(upn, pupilRow(ofYear, record.version));
    }
  const rows = [...held.values()]
    .sort(byRate)
    .map((r) => ({ ...r, flags: [...r.flags, { type: flag, since: since.get(r.upn) as string }] }));
  return { rows, snapshot: `patterns:${doc.runId}:${version}` };
}

/**
 * A school's flagged pupils: its own figures from its own register only (never another school's marks,
 * and never any other school's register read; issue 15). PA, SA and at-risk are judged on its own
 * figures for the period; other flags only when the LA shares them with schools, and only for pupils
 * on its register, still on its own figures.
 */
async function ownSchoolRows(
  deps: FlaggedPupilsDeps,
  urn: string,
  flag: FlagType,
  year: number,
  from: string,
  to: string,
  standard: boolean,
): Promise<{ rows: PupilRow[]; snapshot: string }> {
  const settings = deps.settings();
  const own = await deps.registers.pupilRowsForPeriod(customPeriod(year, from, to), {
    urns: new Set([urn]),
    withCare: false,
  });
  const snapshot = `school:${urn}:${from}:${to}`;
  if (ATTENDANCE_FLAGS.has(flag)) {
    const test = attendanceTest(flag, settings.atRiskLowerPercent);
    const rows = own
      .filter((r) => test(r.authorised + r.unauthorised, r.possible))
      .map((r) => ({ ...r, flags: [{ type: flag, since: from }] }))
      .sort(byRate);
    return { rows, snapshot };
  }
  if (!flagsForSchool([{ type: flag, since: from, detail: {} }], urn, settings.flagsSharedWithSchools).length)
    return { rows: [], snapshot };
  const flagged = PATTERN_FLAGS.has(flag)
    ? (await patternFlagRows(deps, year, flag)).rows
    : await deps.laLists.all(year, flag, { urn });
  const ownByUpn = new Map(own.map((r) => [r.upn, r]));
  const rows: PupilRow[] = [];
  for (const r of flagged) {
    const mine = ownByUpn.get(r.upn);
    const f = r.flags.find((x) => x.type === flag);
    if (!mine || !f || (!standard && (f.since < from || f.since > to))) continue;
    rows.push({ ...mine, flags: [{ type: flag, since: f.since }] });
  }
  return { rows: rows.sort(byRate), snapshot: `${snapshot}:${flagged.length}` };
}

/**
 * The LA's (or the Virtual School's) flagged pupils: the stored list for the standard period (a page,
 * one Query, whatever the LA's size; docs/design.md §7), else recomputed.
 */
async function laRows(
  deps: FlaggedPupilsDeps,
  principal: Principal,
  q: FlaggedPupilsQuery,
  scopeUrn: string | undefined,
  year: number,
  from: string,
  to: string,
  standard: boolean,
): Promise<{ rows: PupilRow[]; snapshot: string; page?: LaListPage } | undefined> {
  const flag = q.flag;
  if (PATTERN_FLAGS.has(flag)) {
    const found = await patternFlagRows(deps, year, flag);
    return {
      rows: found.rows.filter(
        (r) => standard || r.flags.some((f) => f.type === flag && f.since >= from && f.since <= to),
      ),
      snapshot: found.snapshot,
    };
  }
  if (standard) {
    const filter: LaListFilter = {
      ...(scopeUrn ? { urn: scopeUrn } : {}),
      ...(q.cohort && q.cohort !== 'all' ? { cohort: q.cohort } : {}),
      ...(q.yearGroup ? { yearGroup: q.yearGroup } : {}),
      ...(isVirtualSchool(principal) ? { vs: true } : {}),
    };
    if (q.all) return { rows: await deps.laLists.all(year, flag, filter), snapshot: '' };
    const { limit, cursor, all: _all, ...binding } = q;
    const page = await deps.laLists.page(year, flag, filter, limit ?? 50, cursor, binding);
    return page ? { rows: page.rows, snapshot: '', page } : undefined;
  }
  if (!ATTENDANCE_FLAGS.has(flag)) {
    const rows = (await deps.laLists.all(year, flag, scopeUrn ? { urn: scopeUrn } : {})).filter((r) =>
      r.flags.some((f) => f.type === flag && f.since >= from && f.since <= to),
    );
    return { rows, snapshot: `${year}:${await deps.laLists.version(year)}` };
  }
  const test = attendanceTest(flag, deps.settings().atRiskLowerPercent);
  const computed = await deps.registers.pupilRowsForPeriod(customPeriod(year, from, to));
  const rows = computed
    .filter((r) => test(r.authorised + r.unauthorised, r.possible))
    .map((r) => ({ ...r, flags: [{ type: flag, since: from }] }))
    .sort(byRate);
  return { rows, snapshot: `${from}:${to}` };
}

/** Every pupil carrying the flag in the period that the caller may list, worst first (the door pages and audits what it shows). */
export async function listFlaggedPupils(
  deps: FlaggedPupilsDeps,
  principal: Principal,
  q: FlaggedPupilsQuery,
): Promise<Outcome<FlaggedPupils>> {
  const today = todayInEngland();
  const to = q.to ?? today;
  const year = academicYearOf(q.from ?? to);
  if (academicYearOf(to) !== year)
    return refuse('invalid', 'A period must lie within one academic year (1 August to 31 July).', {
      errors: [{ field: 'to', message: 'in a different academic year from `from`' }],
    });
  const from = q.from ?? academicYearStart(year);
  if (from > to)
    return refuse('invalid', '`from` is after `to`.', { errors: [{ field: 'from', message: 'must not be after to' }] });
  const scope = schoolScope(principal, q.urn);
  if (!scope.ok) return refuse('not_found', 'No such school.');
  const own = ownSchoolOf(principal);
  const standard =
    from <= academicYearStart(year) && to >= (today < academicYearEnd(year) ? today : academicYearEnd(year));
  const urn = scope.urn;
  const asOf = lookedAfterAsOf(year, today);
  // The rows, and those shown (a stored page: its partition and filter already chose them, the Virtual
  // School's by its own partition).
  const chosen = (
    own
      ? ownSchoolRows(deps, own, q.flag, year, from, to, standard)
      : laRows(deps, principal, q, scope.urn, year, from, to, standard)
  ).then(
    (found: { rows: PupilRow[]; snapshot: string; page?: LaListPage } | undefined) =>
      found && {
        found,
        shown: found.page
          ? found.page.rows
          : found.rows.filter(
              (r) =>
                (!urn || r.urns.includes(urn)) &&
                (!q.cohort || r.everCohorts.includes(q.cohort) || q.cohort === 'all') &&
                (!q.yearGroup || r.yearGroup === q.yearGroup) &&
                mayListPupil(principal, r),
            ),
      },
  );
  // Which of them the LA looks after: the care lists' stamp is read alongside the rows, not after them.
  const [got, lookedAfter] = await Promise.all([
    chosen,
    deps.lookedAfter.among(
      chosen.then((c) => (c ? c.shown.map((r) => r.upn) : [])),
      asOf,
    ),
  ]);
  if (!got)
    return refuse('invalid', 'The cursor is not one this service issued for this list; start the list again.', {
      errors: [{ field: 'cursor', message: 'unrecognised cursor' }],
    });
  return done({
    rows: got.shown,
    ...(got.found.page ? { page: got.found.page } : {}),
    snapshot: got.found.snapshot,
    from,
    to,
    urn,
    lookedAfter,
  });
}
