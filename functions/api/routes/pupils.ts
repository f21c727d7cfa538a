/**
 * Pupils: the LA's view of one pupil across schools, their marks, and the cross-school flag lists
 * (PA, SA, at risk, emerging PA, statutory triggers, threshold-gaming findings), worst first.
 */
import * as z from 'zod';
import { FLAG_TYPES } from '../../../shared/domain/pupil-summary.js';
import type { PupilRow } from '../../../shared/domain/school-view.js';
import { CohortName, IsoDate, page, PupilNames, Stats, Upn, Urn, exactly } from '../../../shared/schemas/common.js';
import { listFlaggedPupils } from '../../../shared/app/list-flagged-pupils.js';
import { pupilSessions, readPupil, type EnrolmentView as EnrolmentViewOf } from '../../../shared/app/read-pupil.js';
import { app } from '../app.js';
import { csvResponse, defineRoute, json, pageOf, pageQuery, problem, resultOf, wantsCsv } from '../http.js';
import { PupilDutyFields } from './duties.js';

const Flag = z
  .object({ type: z.enum(FLAG_TYPES), since: z.string(), detail: z.record(z.string(), z.unknown()) })
  .meta({ id: 'Flag' });

// Typed against the use case's EnrolmentView (itself derived from the one Enrolment): they cannot drift.
const EnrolmentView = exactly<EnrolmentViewOf>()(
  z.object({
    urn: z.string(),
    academicYear: z.number().int(),
    registration: z.enum(['C', 'M', 'S']),
    admissionDate: z.string().nullable(),
    leavingDate: z.string().nullable(),
    stats: Stats,
    persistentAbsence: z.boolean(),
    severeAbsence: z.boolean(),
  }),
);

const PupilView = z
  .object({
    ...PupilNames,
    academicYear: z.number().int(),
    cohorts: z.array(z.string()),
    enrolments: z.array(EnrolmentView),
    totals: Stats,
    persistentAbsence: z.boolean(),
    severeAbsence: z.boolean(),
    flags: z.array(Flag),
    ...PupilDutyFields,
  })
  .meta({ id: 'PupilView' });

const PupilListItem = z
  .object({
    upn: z.string(),
    forename: z.string().nullable(),
    surname: z.string().nullable(),
    yearGroup: z.string().nullable(),
    urns: z.array(z.string()),
    cohorts: z.array(z.string()),
    stats: Stats.pick({
      possibleSessions: true,
      attendedSessions: true,
      authorisedAbsenceSessions: true,
      unauthorisedAbsenceSessions: true,
      absenceSessions: true,
      lateSessions: true,
      attendanceRate: true,
      absenceRate: true,
    }),
    flags: z.array(z.object({ type: z.string(), since: z.string() })),
    lookedAfter: z
      .boolean()
      .describe(
        'the LA looks after the child (today, or as the year ended), from its own lists; nothing more of the social-care record',
      ),
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
    upn: row.upn,
    forename: row.forename ?? null,
    surname: row.surname ?? null,
    yearGroup: row.yearGroup ?? null,
    urns: row.urns,
    cohorts: row.cohorts,
    stats: {
      possibleSessions: row.possible,
      attendedSessions: attended,
      authorisedAbsenceSessions: row.authorised,
      unauthorisedAbsenceSessions: row.unauthorised,
      absenceSessions: absence,
      lateSessions: row.late,
      attendanceRate: row.possible > 0 ? (attended / row.possible) * 100 : null,
      absenceRate: row.possible > 0 ? (absence / row.possible) * 100 : null,
    },
    flags: row.flags,
    lookedAfter,
  };
}

const upnsOf = (rows: readonly PupilRow[]) => rows.map((r) => r.upn);

function csvRow(row: PupilRow, item: ReturnType<typeof listItem>) {
  return { ...item, ...item.stats, flags: row.flags.map((f) => `${f.type} since ${f.since}`).join('; ') };
}

const CSV_COLUMNS = [
  'upn',
  'forename',
  'surname',
  'yearGroup',
  'urns',
  'cohorts',
  'possibleSessions',
  'absenceSessions',
  'unauthorisedAbsenceSessions',
  'absenceRate',
  'flags',
  'lookedAfter',
];

export const pupilRoutes = [
  defineRoute({
    method: 'GET',
    path: '/v1/pupils/{upn}',
    access: 'read_pupil',
    audit: { action: 'read_pupil' },
    tags: ['pupils'],
    summary: 'A pupil across all their schools: per-enrolment and combined figures, PA/SA, cohorts and flags',
    query: z.object({ academicYear: z.coerce.number().int().min(2000).max(2100).optional() }),
    response: PupilView,
    handler: async ({ audit, principal, params, query }) => {
      const upn = parseUpnParam(params.upn);
      return json(200, resultOf(await readPupil(app, { principal, audit }, { upn, academicYear: query.academicYear })));
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/pupils/{upn}/sessions',
    access: 'read_pupil',
    audit: { action: 'read_sessions' },
    tags: ['pupils'],
    summary: "A pupil's marks by date and session, with the school that recorded each",
    query: z.object({ from: IsoDate.optional(), to: IsoDate.optional() }),
    response: z.object({
      upn: z.string(),
      from: z.string(),
      to: z.string(),
      sessions: z.array(
        z.object({ date: z.string(), session: z.enum(['AM', 'PM']), code: z.string().nullable(), urn: z.string() }),
      ),
    }),
    csv: true,
    handler: async ({ audit, principal, params, query, event }) => {
      const upn = parseUpnParam(params.upn);
      const answer = resultOf(await pupilSessions(app, { principal, audit }, { upn, from: query.from, to: query.to }));
      if (wantsCsv(event))
        return csvResponse(`sessions-${upn}.csv`, ['date', 'session', 'code', 'urn'], answer.sessions);
      return json(200, answer);
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/pupils',
    access: 'list_pupils',
    audit: { action: 'list_pupils' },
    tags: ['pupils'],
    summary:
      'Flagged pupils across all schools (a pupil who moved or is dual registered counts once, on combined figures), worst first (the absence rate as shown, to one decimal place, then UPN)',
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
      const csv = wantsCsv(event);
      const listed = resultOf(await listFlaggedPupils(app, principal, { ...query, all: csv }));
      const { rows, from, to, urn } = listed;
      const item = (r: PupilRow) => listItem(r, listed.lookedAfter.has(r.upn));
      if (csv) {
        audit.pupils({ target: `flag:${query.flag}:csv`, outcome: 'ok', urn }, upnsOf(rows));
        return csvResponse(
          `${query.flag}-${from}-${to}.csv`,
          CSV_COLUMNS,
          rows.map((r) => csvRow(r, item(r))),
        );
      }
      const paged = listed.page ?? { ...pageOf(rows, query, listed.snapshot), total: rows.length };
      const shown = 'rows' in paged ? paged.rows : paged.items;
      audit.pupils({ target: `flag:${query.flag}`, outcome: 'ok', urn }, upnsOf(shown));
      return json(200, { items: shown.map(item), nextCursor: paged.nextCursor, total: paged.total });
    },
  }),
];
