/**
 * Pupils: the LA's view of one pupil across schools, their marks, and the cross-school flag lists
 * (PA, SA, at risk, emerging PA, statutory triggers, threshold-gaming findings), worst first.
 */
import * as z from 'zod';
import { flagsForSchool, mayListPupil, ownSchoolOf, schoolScope } from '../../../shared/domain/access.js';
import { academicYearEnd, academicYearOf, academicYearStart, todayInEngland } from '../../../shared/domain/dates.js';
import { absenceRateOf } from '../../../shared/domain/la-view.js';
import { customPeriod } from '../../../shared/domain/periods.js';
import type { FlagType } from '../../../shared/domain/pupil-summary.js';
import type { PupilRow } from '../../../shared/domain/school-view.js';
import { isAtRiskOfPersistentAbsence, isPersistentAbsence, isSevereAbsence } from '../../../shared/domain/stats.js';
import { runtimeConfig } from '../../../shared/config.js';
import { lookedAfterAmong } from '../../../shared/store/care.js';
import { lookedAfterAsOf } from '../../../shared/domain/virtual-school.js';
import { getLatestPatterns, getPatternFindings } from '../../../shared/store/patterns.js';
import { pupilFlagsOf } from '../../../shared/domain/patterns/pupil-flags.js';
import { CohortName, IsoDate, page, Stats, Upn, Urn } from '../../../shared/schemas/common.js';
import { pupilRowsForPeriod } from '../any-period.js';
import { pupilSessions, readPupil } from '../../../shared/app/read-pupil.js';
import { app } from '../app.js';
import { csvResponse, defineRoute, json, pageOf, pageQuery, problem, resultOf, wantsCsv } from '../http.js';
import { currentLaView } from '../view-cache.js';
import { getLaRows, laListAll, laListCount, laListPage, laListQuery, type LaListFilter } from '../../../shared/store/la-lists.js';
import { canonicalJson, decodeCursor, encodeCursor } from '../../../shared/store/table.js';
import { getLaViewPointer } from '../../../shared/store/views.js';
import { PupilDutyFields } from './duties.js';

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
  // The LA rows of the pupils found (as many as the findings, never the whole LA), worst first.
  const [held, pointer] = await Promise.all([getLaRows(year, [...since.keys()]), getLaViewPointer(year)]);
  const rows = [...held.values()]
    .sort((a, b) => absenceRateOf(b) - absenceRateOf(a) || (a.upn < b.upn ? -1 : 1))
    .map((r) => ({ ...r, flags: [...r.flags, { type: flag, since: since.get(r.upn) as string }] }));
  return { rows, snapshot: `patterns:${doc.runId}:${pointer?.version ?? 0}` };
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
  const flagged = PATTERN_FLAGS.has(flag) ? (await patternFlagRows(year, flag)).rows : await laListAll(year, flag, { urn });
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
 * One page of an LA list from its DynamoDB partition. The cursor is the signed key of the last row
 * given, bound to the query; the total is the count the rollup keeps per partition, or (two filters at
 * once) a count over the narrower partition.
 */
async function laFlagPage(
  year: number, flag: FlagType, filter: LaListFilter, query: { limit?: number; cursor?: string } & Record<string, unknown>,
): Promise<{ rows: PupilRow[]; nextCursor: string | null; total: number }> {
  const { limit, cursor, ...rest } = query;
  const binding = `lalist:${year}|${canonicalJson(rest)}`;
  const { pk, filter: leftOver } = laListQuery(year, flag, filter);
  let start: Record<string, unknown> | undefined;
  if (cursor) {
    let parsed: Record<string, unknown> | undefined;
    try {
      parsed = decodeCursor(cursor, binding);
    } catch {
      parsed = undefined;
    }
    if (!parsed || parsed.pk !== pk || typeof parsed.sk !== 'string') {
      throw problem(400, 'The cursor is not one this service issued for this list; start the list again.', [{ field: 'cursor', message: 'unrecognised cursor' }]);
    }
    start = { pk, sk: parsed.sk };
  }
  const [page, total] = await Promise.all([
    laListPage(year, flag, filter, limit ?? 50, start),
    leftOver ? laListCount(year, flag, filter) : currentLaView(year).then((v) => v?.listCounts[pk] ?? 0),
  ]);
  return { rows: page.rows, nextCursor: page.lastKey ? encodeCursor({ pk, sk: page.lastKey.sk }, binding) : null, total };
}

export const pupilRoutes = [
  defineRoute({
    method: 'GET', path: '/v1/pupils/{upn}', access: 'read_pupil', audit: { action: 'read_pupil' }, tags: ['pupils'],
    summary: 'A pupil across all their schools: per-enrolment and combined figures, PA/SA, cohorts and flags',
    query: z.object({ academicYear: z.coerce.number().int().min(2000).max(2100).optional() }),
    response: PupilView,
    handler: async ({ audit, principal, params, query }) => {
      const upn = parseUpnParam(params.upn);
      return json(200, resultOf(await readPupil(app, { principal, audit }, { upn, academicYear: query.academicYear })));
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
      const answer = resultOf(await pupilSessions(app, { principal, audit }, { upn, from: query.from, to: query.to }));
      if (wantsCsv(event)) return csvResponse(`sessions-${upn}.csv`, ['date', 'session', 'code', 'urn'], answer.sessions);
      return json(200, answer);
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
      } else if (standard) {
        // The LA's list as stored (docs/design.md §7): one Query a page, whatever the size of the LA.
        const filter: LaListFilter = {
          ...(scope.urn ? { urn: scope.urn } : {}),
          ...(query.cohort && query.cohort !== 'all' ? { cohort: query.cohort } : {}),
          ...(query.yearGroup ? { yearGroup: query.yearGroup } : {}),
          ...(principal.role === 'vsh' ? { vs: true } : {}),
        };
        if (wantsCsv(event)) {
          rows = (await laListAll(year, query.flag, filter)).filter((r) => mayListPupil(principal, r));
          snapshot = '';
        } else {
          const found = await laFlagPage(year, query.flag, filter, query);
          audit.pupils({ target: `flag:${query.flag}`, outcome: 'ok', urn: scope.urn }, found.rows.map((r) => r.upn));
          const lookedAfter = await lookedAfterAmong(found.rows.map((r) => r.upn), lookedAfterAsOf(year, today));
          return json(200, { items: found.rows.map((r) => listItem(r, lookedAfter.has(r.upn))), nextCursor: found.nextCursor, total: found.total });
        }
      } else if (!ATTENDANCE_FLAGS.has(query.flag)) {
        const filter: LaListFilter = scope.urn ? { urn: scope.urn } : {};
        rows = (await laListAll(year, query.flag, filter)).filter((r) => r.flags.some((f) => f.type === query.flag && f.since >= from && f.since <= to));
        snapshot = `${year}:${(await getLaViewPointer(year))?.version ?? 0}`;
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
