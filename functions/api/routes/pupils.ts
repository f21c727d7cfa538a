/**
 * Pupils: the LA's view of one pupil across schools, their marks, and the cross-school flag lists
 * (PA, SA, at risk, emerging PA, statutory triggers, threshold-gaming findings), worst first.
 */
import * as z from 'zod';
import { flagsForSchool, mayListPupil, needsCareListsForScope, ownSchoolOf, pupilReadScope, schoolScope, type Principal, type PupilReadScope } from '../../../shared/domain/access.js';
import { CODE_OF_CHAR, NO_MARK } from '../../../shared/domain/codes.js';
import { academicYearEnd, academicYearOf, academicYearStart, addDays, dayNumber, dayOfAcademicYear, todayInEngland } from '../../../shared/domain/dates.js';
import { absenceRateOf } from '../../../shared/domain/la-view.js';
import { customPeriod } from '../../../shared/domain/periods.js';
import type { FlagType, PupilFlag, PupilYearSummary } from '../../../shared/domain/pupil-summary.js';
import type { PupilRow } from '../../../shared/domain/school-view.js';
import { isAtRiskOfPersistentAbsence, isPersistentAbsence, isSevereAbsence, toStats, totalsOf } from '../../../shared/domain/stats.js';
import { runtimeConfig } from '../../../shared/config.js';
import { loadCareIndex, lookedAfterAmong } from '../../../shared/store/care.js';
import { lookedAfterAsOf } from '../../../shared/domain/virtual-school.js';
import { cohortMasksByDay, cohortsEver, episodesOverlapping, positiveCohortsOf } from '../../../shared/domain/cohorts.js';
import { getSummary, type PupilSummaryRecord } from '../../../shared/store/pupils.js';
import { getLatestPatterns, getPatternFindings, getPupilPatternFlags } from '../../../shared/store/patterns.js';
import { pupilFlagsOf } from '../../../shared/domain/patterns/pupil-flags.js';
import { CohortName, IsoDate, page, Stats, Upn, Urn } from '../../../shared/schemas/common.js';
import { pupilRowsForPeriod } from '../any-period.js';
import { csvResponse, defineRoute, json, pageOf, pageQuery, problem, wantsCsv } from '../http.js';
import { currentLaPupils, laPupilsWithFlag } from '../view-cache.js';
import { pupilDutyFields, PupilDutyFields } from './duties.js';

export const FLAG_TYPES = [
  'persistent_absence', 'severe_absence', 'at_risk_pa', 'emerging_pa', 'penalty_notice_threshold', 'ten_day_unauthorised',
  'twenty_day_unauthorised', 'illness_15_days', 'holiday_adjacent_absence', 'near_threshold_unauthorised', 'family_pattern',
  'lateness_warning',
] as const satisfies readonly FlagType[];

const Flag = z.object({ type: z.enum(FLAG_TYPES), since: z.string(), detail: z.record(z.string(), z.unknown()) }).meta({ id: 'Flag' });

const EnrolmentView = z.object({
  urn: z.string(), academicYear: z.number().int(), registration: z.enum(['C', 'M', 'S']),
  admissionDate: z.string().nullable(), leavingDate: z.string().nullable(),
  stats: Stats, persistentAbsence: z.boolean(), severeAbsence: z.boolean(),
});

export const PupilView = z
  .object({
    upn: z.string(), forename: z.string().nullable(), surname: z.string().nullable(), dob: z.string().nullable(),
    yearGroup: z.string().nullable(), academicYear: z.number().int(),
    cohorts: z.array(z.string()), enrolments: z.array(EnrolmentView), totals: Stats,
    persistentAbsence: z.boolean(), severeAbsence: z.boolean(), flags: z.array(Flag),
    ...PupilDutyFields,
  })
  .meta({ id: 'PupilView' });

const PupilListItem = z
  .object({
    upn: z.string(), forename: z.string().nullable(), surname: z.string().nullable(), yearGroup: z.string().nullable(),
    urns: z.array(z.string()), cohorts: z.array(z.string()),
    stats: z.object({
      possibleSessions: z.number().int(), attendedSessions: z.number().int(), authorisedAbsenceSessions: z.number().int(),
      unauthorisedAbsenceSessions: z.number().int(), absenceSessions: z.number().int(), lateSessions: z.number().int(),
      attendanceRate: z.number().nullable(), absenceRate: z.number().nullable(),
    }),
    flags: z.array(z.object({ type: z.string(), since: z.string() })),
    lookedAfter: z.boolean().describe('the LA looks after the child (today, or as the year ended), from its own lists; nothing more of the social-care record'),
  })
  .meta({ id: 'PupilListItem' });

function yearOfSummary(record: PupilSummaryRecord, requested?: number): PupilYearSummary | undefined {
  if (requested !== undefined) return record.years[String(requested)];
  const current = academicYearOf(todayInEngland());
  const years = Object.keys(record.years).map(Number).filter((y) => y <= current).sort((a, b) => b - a);
  return years.length ? record.years[String(years[0])] : undefined;
}

/** How much of the pupil's record for this year the principal may read (docs/design.md §4; issue 15). */
async function scopeOfYear(principal: Principal, upn: string, year: PupilYearSummary): Promise<PupilReadScope> {
  const urns = year.enrolments.map((e) => e.urn);
  let everCohorts = year.everCohorts;
  if (needsCareListsForScope(principal, everCohorts)) {
    // The LA's own care lists count too, even for dates the school did not list the child (care
    // that began after the child's last register row).
    const care = (await loadCareIndex()).get(upn) ?? [];
    everCohorts = [...everCohorts, ...episodesOverlapping(care, academicYearStart(year.academicYear), academicYearEnd(year.academicYear)).map((e) => e.cohort)];
  }
  return pupilReadScope(principal, { urns, everCohorts });
}

/** Load the pupil the caller may see, or 404 (never revealing whether the pupil exists). */
export async function readablePupil(principal: Principal, upn: string, academicYear?: number): Promise<{ record: PupilSummaryRecord; year: PupilYearSummary; scope: PupilReadScope }> {
  const record = await getSummary(upn);
  const year = record ? yearOfSummary(record, academicYear) : undefined;
  if (!record || !year) throw problem(404, 'No such pupil.');
  const scope = await scopeOfYear(principal, upn, year);
  if (scope.kind === 'none') throw problem(404, 'No such pupil.');
  return { record, year, scope };
}

/**
 * The pupil view a school gets: only what its own enrolments hold — its marks and figures, the names
 * and cohorts it stated — plus the flags the LA shares with schools (issue 15).
 */
function ownSchoolView(record: PupilSummaryRecord, year: PupilYearSummary, urn: string, patternFlags: readonly PupilFlag[]) {
  const own = year.enrolments.filter((e) => e.urn === urn);
  const counts = own.reduce((acc, e) => acc.map((n, i) => n + (e.counts[i] ?? 0)), new Array<number>(year.counts.length).fill(0));
  const t = totalsOf(counts);
  const absence = t.authorised + t.unauthorised;
  const details = record.enrolments
    .filter((e) => e.academicYear === year.academicYear && e.urn === urn)
    .sort((a, b) => (a.lastListed < b.lastListed ? 1 : -1))[0];
  const lastDay = details ? dayOfAcademicYear(details.lastListed) : 0;
  const cohorts = details ? positiveCohortsOf(cohortsEver(cohortMasksByDay(year.academicYear, details.stated), lastDay, lastDay)) : [];
  return {
    upn: year.upn, forename: details?.forename ?? null, surname: details?.surname ?? null, dob: details?.dob ?? null, yearGroup: details?.yearGroup ?? null,
    academicYear: year.academicYear, cohorts,
    enrolments: own.map((e) => ({
      urn: e.urn, academicYear: e.academicYear, registration: e.registration, admissionDate: e.admissionDate ?? null,
      leavingDate: e.leavingDate ?? null, stats: toStats(e.counts), persistentAbsence: e.persistentAbsence, severeAbsence: e.severeAbsence,
    })),
    totals: toStats(counts), persistentAbsence: isPersistentAbsence(absence, t.possible), severeAbsence: isSevereAbsence(absence, t.possible),
    flags: flagsForSchool([...year.flags, ...patternFlags], urn, runtimeConfig().settings.flagsSharedWithSchools, own.length === year.enrolments.length),
  };
}

function parseUpnParam(raw: string | undefined): string {
  const parsed = Upn.safeParse(raw ?? '');
  if (!parsed.success) throw problem(404, 'No such pupil.');
  return parsed.data;
}

function listItem(row: PupilRow, lookedAfter: boolean) {
  const absence = row.authorised + row.unauthorised;
  const attended = row.present + row.approvedActivity;
  return {
    upn: row.upn, forename: row.forename ?? null, surname: row.surname ?? null, yearGroup: row.yearGroup ?? null,
    urns: row.urns, cohorts: row.cohorts,
    stats: {
      possibleSessions: row.possible, attendedSessions: attended, authorisedAbsenceSessions: row.authorised,
      unauthorisedAbsenceSessions: row.unauthorised, absenceSessions: absence, lateSessions: row.late,
      attendanceRate: row.possible > 0 ? (attended / row.possible) * 100 : null,
      absenceRate: row.possible > 0 ? (absence / row.possible) * 100 : null,
    },
    flags: row.flags,
    lookedAfter,
  };
}

const ATTENDANCE_FLAGS = new Set<FlagType>(['persistent_absence', 'severe_absence', 'at_risk_pa']);
/** Flags the nightly threshold-gaming run raises (the latest run's findings, not the ingest's pupil rows). */
const PATTERN_FLAGS = new Set<FlagType>(['holiday_adjacent_absence', 'near_threshold_unauthorised', 'family_pattern']);

/** The LA's pupil rows carrying the latest patterns run's flag of this type (since = first evidence date). */
async function patternFlagRows(year: number, flag: FlagType): Promise<{ rows: PupilRow[]; snapshot: string }> {
  const latest = await getLatestPatterns();
  const doc = latest && latest.academicYear === year ? await getPatternFindings(latest.runId) : undefined;
  if (!doc) return { rows: [], snapshot: `patterns:none:${year}` };
  const since = new Map<string, string>();
  for (const [upn, flags] of pupilFlagsOf(doc.findings)) {
    const f = flags.find((x) => x.type === flag);
    if (f) since.set(upn, f.since);
  }
  const pupils = await currentLaPupils(year);
  const rows = (pupils?.rows ?? [])
    .filter((r) => since.has(r.upn))
    .map((r) => ({ ...r, flags: [...r.flags, { type: flag, since: since.get(r.upn) as string }] }));
  return { rows, snapshot: `patterns:${doc.runId}:${pupils?.version ?? 0}` };
}

/**
 * A school's flagged pupils: its own figures from its own register only (never another school's marks,
 * and never any other school's register read; issue 15). PA, SA and at-risk are judged on its own
 * figures for the period; other flags only when the LA shares them with schools, and only for pupils
 * on its register, still on its own figures.
 */
async function ownSchoolRows(urn: string, flag: FlagType, year: number, from: string, to: string, standard: boolean): Promise<{ rows: PupilRow[]; snapshot: string }> {
  const settings = runtimeConfig().settings;
  const own = await pupilRowsForPeriod(customPeriod(year, from, to), { urns: new Set([urn]), withCare: false });
  const byRate = (a: PupilRow, b: PupilRow) => absenceRateOf(b) - absenceRateOf(a) || (a.upn < b.upn ? -1 : 1);
  const snapshot = `school:${urn}:${from}:${to}`;
  if (ATTENDANCE_FLAGS.has(flag)) {
    const test = flag === 'persistent_absence' ? isPersistentAbsence : flag === 'severe_absence' ? isSevereAbsence
      : (a: number, p: number) => isAtRiskOfPersistentAbsence(a, p, settings.atRiskLowerPercent);
    const rows = own.filter((r) => test(r.authorised + r.unauthorised, r.possible)).map((r) => ({ ...r, flags: [{ type: flag, since: from }] })).sort(byRate);
    return { rows, snapshot };
  }
  if (!flagsForSchool([{ type: flag, since: from, detail: {} }], urn, settings.flagsSharedWithSchools).length) return { rows: [], snapshot };
  const flagged = PATTERN_FLAGS.has(flag) ? (await patternFlagRows(year, flag)).rows : laPupilsWithFlag((await currentLaPupils(year)) ?? { academicYear: year, version: 0, rows: [] }, flag);
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

export const pupilRoutes = [
  defineRoute({
    method: 'GET', path: '/v1/pupils/{upn}', access: 'read_pupil', audit: { action: 'read_pupil' }, tags: ['pupils'],
    summary: 'A pupil across all their schools: per-enrolment and combined figures, PA/SA, cohorts and flags',
    query: z.object({ academicYear: z.coerce.number().int().min(2000).max(2100).optional() }),
    response: PupilView,
    handler: async ({ audit, principal, params, query }) => {
      const upn = parseUpnParam(params.upn);
      const { record, year, scope } = await readablePupil(principal, upn, query.academicYear).catch(async (err: unknown) => {
        audit.record({ target: 'pupil', upn, outcome: 'not_found' });
        throw err;
      });
      const patternFlags = await getPupilPatternFlags(upn, year.academicYear);
      // A school is told only of its own part-time timetables, and whether the LA looks after the child.
      const dutyUrns = scope.kind === 'own' ? [scope.urn] : year.enrolments.map((e) => e.urn);
      const duties = await pupilDutyFields(principal, upn, year.academicYear, dutyUrns);
      audit.record({ target: 'pupil', upn, outcome: 'ok' });
      if (scope.kind === 'own') return json(200, { ...ownSchoolView(record, year, scope.urn, patternFlags), ...duties });
      return json(200, {
        upn, forename: year.forename ?? null, surname: year.surname ?? null, dob: year.dob ?? null, yearGroup: year.yearGroup ?? null,
        academicYear: year.academicYear, cohorts: year.cohorts,
        enrolments: year.enrolments.map((e) => ({
          urn: e.urn, academicYear: e.academicYear, registration: e.registration, admissionDate: e.admissionDate ?? null,
          leavingDate: e.leavingDate ?? null, stats: toStats(e.counts), persistentAbsence: e.persistentAbsence, severeAbsence: e.severeAbsence,
        })),
        totals: toStats(year.counts), persistentAbsence: year.persistentAbsence, severeAbsence: year.severeAbsence,
        flags: [...year.flags, ...patternFlags],
        ...duties,
      });
    },
  }),
  defineRoute({
    method: 'GET', path: '/v1/pupils/{upn}/sessions', access: 'read_pupil', audit: { action: 'read_sessions' }, tags: ['pupils'],
    summary: 'A pupil\'s marks by date and session, with the school that recorded each',
    query: z.object({ from: IsoDate.optional(), to: IsoDate.optional() }),
    response: z.object({ upn: z.string(), from: z.string(), to: z.string(), sessions: z.array(z.object({ date: z.string(), session: z.enum(['AM', 'PM']), code: z.string().nullable(), urn: z.string() })) }),
    csv: true,
    handler: async ({ audit, principal, params, query, event }) => {
      const upn = parseUpnParam(params.upn);
      const today = todayInEngland();
      const to = query.to ?? today;
      const from = query.from ?? academicYearStart(academicYearOf(to));
      if (from > to) throw problem(400, '`from` is after `to`.', [{ field: 'from', message: 'must not be after to' }]);
      if (dayNumber(to) - dayNumber(from) > 3 * 366) throw problem(400, 'Ask for at most three years of sessions at a time.');
      // Scope is checked for every academic year the answer would cover, each on its own: a year the
      // caller may not read is left out, never read on the strength of another year (issue 15).
      const record = await getSummary(upn);
      const scopes = new Map<number, PupilReadScope>();
      for (let y = academicYearOf(from); record && y <= academicYearOf(to); y++) {
        const summary = record.years[String(y)];
        const scope = summary ? await scopeOfYear(principal, upn, summary) : undefined;
        if (scope && scope.kind !== 'none') scopes.set(y, scope);
      }
      if (!record || scopes.size === 0) {
        audit.record({ target: 'pupil', upn, outcome: 'not_found' });
        throw problem(404, 'No such pupil.');
      }
      const enrolments = record.enrolments.filter((e) => {
        const scope = scopes.get(e.academicYear);
        return scope !== undefined && (scope.kind === 'all' || (scope.kind === 'own' && e.urn === scope.urn));
      });
      const sessions: Array<{ date: string; session: 'AM' | 'PM'; code: string | null; urn: string }> = [];
      for (const e of enrolments.sort((a, b) => a.academicYear - b.academicYear || (a.urn < b.urn ? -1 : 1))) {
        const yFrom = from > academicYearStart(e.academicYear) ? from : academicYearStart(e.academicYear);
        const yTo = to < academicYearEnd(e.academicYear) ? to : academicYearEnd(e.academicYear);
        for (let d = yFrom; d <= yTo; d = addDays(d, 1)) {
          const i = dayOfAcademicYear(d) * 2;
          for (const [offset, session] of [[0, 'AM'], [1, 'PM']] as const) {
            const ch = e.marks[i + offset];
            if (ch === NO_MARK) continue;
            sessions.push({ date: d, session, code: CODE_OF_CHAR[ch] ?? null, urn: e.urn });
          }
        }
      }
      sessions.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : a.session < b.session ? -1 : a.session > b.session ? 1 : a.urn < b.urn ? -1 : 1));
      audit.record({ target: 'pupil', upn, outcome: 'ok' });
      if (wantsCsv(event)) return csvResponse(`sessions-${upn}.csv`, ['date', 'session', 'code', 'urn'], sessions);
      return json(200, { upn, from, to, sessions });
    },
  }),
  defineRoute({
    method: 'GET', path: '/v1/pupils', access: 'list_pupils', audit: { action: 'list_pupils' }, tags: ['pupils'],
    summary: 'Flagged pupils across all schools (a pupil who moved or is dual registered counts once, on combined figures), worst first',
    query: z.object({
      flag: z.enum(FLAG_TYPES),
      urn: Urn.optional(),
      cohort: CohortName.optional(),
      yearGroup: z.string().max(3).optional(),
      from: IsoDate.optional(),
      to: IsoDate.optional(),
      ...pageQuery,
    }),
    response: page(PupilListItem, 'PupilList'),
    csv: true,
    handler: async ({ audit, principal, query, event }) => {
      const today = todayInEngland();
      const to = query.to ?? today;
      const year = academicYearOf(query.from ?? to);
      if (academicYearOf(to) !== year) throw problem(400, 'A period must lie within one academic year (1 August to 31 July).', [{ field: 'to', message: 'in a different academic year from `from`' }]);
      const from = query.from ?? academicYearStart(year);
      if (from > to) throw problem(400, '`from` is after `to`.', [{ field: 'from', message: 'must not be after to' }]);
      const scope = schoolScope(principal, query.urn);
      if (!scope.ok) throw problem(404, 'No such school.');
      const own = ownSchoolOf(principal);
      const standard = from <= academicYearStart(year) && to >= (today < academicYearEnd(year) ? today : academicYearEnd(year));
      let rows: PupilRow[];
      let snapshot: string;
      if (own) {
        ({ rows, snapshot } = await ownSchoolRows(own, query.flag, year, from, to, standard));
      } else if (PATTERN_FLAGS.has(query.flag)) {
        const found = await patternFlagRows(year, query.flag);
        rows = found.rows.filter((r) => standard || r.flags.some((f) => f.type === query.flag && f.since >= from && f.since <= to));
        snapshot = found.snapshot;
      } else if (standard || !ATTENDANCE_FLAGS.has(query.flag)) {
        const doc = await currentLaPupils(year);
        rows = !doc ? [] : standard ? laPupilsWithFlag(doc, query.flag)
          : doc.rows.filter((r) => r.flags.some((f) => f.type === query.flag && f.since >= from && f.since <= to));
        snapshot = `${year}:${doc?.version ?? 0}`;
      } else {
        const settings = runtimeConfig().settings;
        const computed = await pupilRowsForPeriod(customPeriod(year, from, to));
        const test = query.flag === 'persistent_absence' ? isPersistentAbsence : query.flag === 'severe_absence' ? isSevereAbsence
          : (a: number, p: number) => isAtRiskOfPersistentAbsence(a, p, settings.atRiskLowerPercent);
        rows = computed
          .filter((r) => test(r.authorised + r.unauthorised, r.possible))
          .map((r) => ({ ...r, flags: [{ type: query.flag, since: from }] }))
          .sort((a, b) => absenceRateOf(b) - absenceRateOf(a) || (a.upn < b.upn ? -1 : 1));
        snapshot = `${from}:${to}`;
      }
      const urn = scope.urn;
      const filtered = rows.filter(
        (r) =>
          (!urn || r.urns.includes(urn)) &&
          (!query.cohort || r.everCohorts.includes(query.cohort) || (query.cohort === 'all')) &&
          (!query.yearGroup || r.yearGroup === query.yearGroup) &&
          mayListPupil(principal, r),
      );
      // Which of the listed pupils the LA looks after (issue 20: a school is told, and nothing more).
      const lookedAfter = await lookedAfterAmong(filtered.map((r) => r.upn), lookedAfterAsOf(year, today));
      if (wantsCsv(event)) {
        audit.pupils({ target: `flag:${query.flag}:csv`, outcome: 'ok', urn }, filtered.map((r) => r.upn));
        return csvResponse(`${query.flag}-${from}-${to}.csv`,
          ['upn', 'forename', 'surname', 'yearGroup', 'urns', 'cohorts', 'possibleSessions', 'absenceSessions', 'unauthorisedAbsenceSessions', 'absenceRate', 'flags', 'lookedAfter'],
          filtered.map((r) => {
            const item = listItem(r, lookedAfter.has(r.upn));
            return { ...item, ...item.stats, flags: r.flags.map((f) => `${f.type} since ${f.since}`).join('; ') };
          }));
      }
      const paged = pageOf(filtered, query, snapshot);
      audit.pupils({ target: `flag:${query.flag}`, outcome: 'ok', urn }, paged.items.map((r) => r.upn));
      return json(200, { items: paged.items.map((r) => listItem(r, lookedAfter.has(r.upn))), nextCursor: paged.nextCursor, total: filtered.length });
    },
  }),
];
