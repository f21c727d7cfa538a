/**
 * The Virtual School (docs/design.md §1, §4): the looked-after, previously looked-after and social-worker
 * children as one school, wherever they are educated — the roll with figures while in the cohort, the
 * daily alerts, and the termly summary for a child's Personal Education Plan.
 *
 * Scope: a Virtual School Head sees only children who were cla, plac, cin or cpp at any time in the
 * period (from the LA's lists or a school's return), at any school in the LA or out of it; any other
 * child is "not found". LA officers see the same routes; schools and admins do not use them. The
 * routes parse, call the use cases (shared/app/virtual-school.ts) and present their answers.
 */
import * as z from 'zod';
import {
  virtualSchoolAlerts,
  virtualSchoolPepSummary,
  virtualSchoolRoll,
  type RollItem as RollItemView,
} from '../../../shared/app/virtual-school.js';
import { ALERT_TYPES, DEFAULT_NEW_IN_CARE_DAYS, VIRTUAL_SCHOOL_GROUPS } from '../../../shared/domain/virtual-school.js';
import { IsoDate, PupilNames, Stats, Urn } from '../../../shared/schemas/common.js';
import { app } from '../app.js';
import { csvResponse, defineRoute, json, pageOf, pageQuery, resultOf, wantsCsv } from '../http.js';

// ---- Schemas -------------------------------------------------------------------------------------

const SchoolRef = z
  .object({ urn: z.string(), name: z.string().nullable(), outOfArea: z.boolean() })
  .meta({ id: 'VirtualSchoolSchool' });

const Alert = z
  .object({
    type: z.enum(ALERT_TYPES),
    date: z.string(),
    session: z.enum(['AM', 'PM']).nullable(),
    code: z.string().nullable(),
    upn: z.string(),
    forename: z.string().nullable(),
    surname: z.string().nullable(),
    yearGroup: z.string().nullable(),
    cohorts: z.array(z.string()),
    urn: z.string().nullable(),
    schoolName: z.string().nullable(),
    outOfArea: z.boolean().nullable(),
    careStart: z.string().nullable(),
    reason: z.enum(['not_on_any_register', 'no_return_since_care_began']).nullable(),
    lastListed: z.string().nullable(),
  })
  .meta({ id: 'VirtualSchoolAlert' });

const PepSchool = SchoolRef.extend({ stats: Stats, persistentAbsence: z.boolean(), severeAbsence: z.boolean() });
const PepTerm = z
  .object({
    term: z.string(),
    label: z.string(),
    from: z.string(),
    to: z.string(),
    daysInCohort: z.number().int(),
    inCohort: z.array(z.object({ from: z.string(), to: z.string() })),
    stats: Stats,
    persistentAbsence: z.boolean(),
    severeAbsence: z.boolean(),
    exclusionSessions: z.number().int(),
    exclusions: z.array(z.object({ date: z.string(), session: z.enum(['AM', 'PM']), urn: z.string() })),
    unmarkedSessions: z.number().int(),
    schools: z.array(PepSchool),
  })
  .meta({ id: 'PepTerm' });

const RollItem = z
  .object({
    upn: z.string(),
    forename: z.string().nullable(),
    surname: z.string().nullable(),
    yearGroup: z.string().nullable(),
    everCohorts: z.array(z.string()),
    cohortsAtEnd: z.array(z.string()),
    onRegister: z.boolean(),
    schools: z.array(SchoolRef),
    daysInCohort: z.number().int(),
    stats: Stats,
    persistentAbsence: z.boolean(),
    severeAbsence: z.boolean(),
  })
  .meta({ id: 'VirtualSchoolPupil' });

const Group = z.enum(VIRTUAL_SCHOOL_GROUPS);

const ROLL_CSV_COLUMNS = [
  'upn',
  'forename',
  'surname',
  'yearGroup',
  'everCohorts',
  'cohortsAtEnd',
  'onRegister',
  'schools',
  'outOfArea',
  'daysInCohort',
  'possibleSessions',
  'attendedSessions',
  'authorisedAbsenceSessions',
  'unauthorisedAbsenceSessions',
  'absenceSessions',
  'attendanceRate',
  'absenceRate',
  'persistentAbsence',
  'severeAbsence',
];
const ALERT_CSV_COLUMNS = [
  'type',
  'date',
  'session',
  'code',
  'upn',
  'forename',
  'surname',
  'yearGroup',
  'cohorts',
  'urn',
  'schoolName',
  'outOfArea',
  'careStart',
  'reason',
  'lastListed',
];
const PEP_CSV_COLUMNS = [
  'upn',
  'academicYear',
  'cohort',
  'term',
  'from',
  'to',
  'daysInCohort',
  'inCohort',
  'possibleSessions',
  'attendedSessions',
  'attendanceRate',
  'authorisedAbsenceSessions',
  'unauthorisedAbsenceSessions',
  'absenceSessions',
  'absenceRate',
  'lateSessions',
  'persistentAbsence',
  'severeAbsence',
  'exclusionSessions',
  'exclusionDates',
  'unmarkedSessions',
  'codes',
  'schools',
];

const upnsOf = (items: ReadonlyArray<{ upn: string }>) => items.map((i) => i.upn);

const rollCsvRow = (i: RollItemView) => ({
  ...i,
  ...i.stats,
  schools: i.schools.map((s) => s.urn),
  outOfArea: i.schools.some((s) => s.outOfArea),
});

// ---- Routes --------------------------------------------------------------------------------------

export const virtualSchoolRoutes = [
  defineRoute({
    method: 'GET',
    path: '/v1/virtual-school/pupils',
    access: 'list_pupils',
    audit: { action: 'list_virtual_school' },
    tags: ['virtual school'],
    summary:
      "The Virtual School's roll: children in the cohort at any time in the period, at any school in or out of the LA (or on no register), with figures for the sessions while in the cohort; worst first",
    query: z.object({
      academicYear: z.coerce
        .number()
        .int()
        .min(2000)
        .max(2100)
        .optional()
        .describe('the academic year to date, when from/to are not given'),
      from: IsoDate.optional(),
      to: IsoDate.optional(),
      cohort: Group.default('any').describe(
        'cla, plac, cin, cpp, social_worker, or any (in any of cla, plac, cin, cpp)',
      ),
      flag: z
        .enum(['persistent_absence', 'severe_absence'])
        .optional()
        .describe('only children PA (or SA) on their sessions while in the cohort'),
      urn: Urn.optional(),
      ...pageQuery,
    }),
    response: z.object({
      from: z.string(),
      to: z.string(),
      cohort: Group,
      items: z.array(RollItem),
      nextCursor: z.string().nullable(),
      total: z.number().int(),
    }),
    csv: true,
    handler: async ({ audit, principal, query, event }) => {
      const { from, to, items } = resultOf(await virtualSchoolRoll(app, principal, query));
      const note = { target: `cohort:${query.cohort}:${query.flag ?? '-'}`, outcome: 'ok', urn: query.urn };
      if (wantsCsv(event)) {
        audit.pupils(note, upnsOf(items));
        return csvResponse(`virtual-school-${query.cohort}-${from}-${to}.csv`, ROLL_CSV_COLUMNS, items.map(rollCsvRow));
      }
      const paged = pageOf(items, query, `${query.cohort}:${from}:${to}`);
      audit.pupils(note, upnsOf(paged.items));
      return json(200, {
        from,
        to,
        cohort: query.cohort,
        items: paged.items,
        nextCursor: paged.nextCursor,
        total: items.length,
      });
    },
  }),

  defineRoute({
    method: 'GET',
    path: '/v1/virtual-school/alerts',
    access: 'list_pupils',
    audit: { action: 'read_virtual_school_alerts' },
    tags: ['virtual school'],
    summary:
      'Daily alerts: absences of looked-after children (code, school), exclusions (E) in the Virtual School cohorts, sessions not yet marked for looked-after children, and children new in care with no return since care began',
    query: z.object({
      date: IsoDate.optional().describe(
        'the day the alerts are about (default: the previous weekday that is not a bank holiday)',
      ),
      newInCareDays: z.coerce
        .number()
        .int()
        .min(1)
        .max(366)
        .default(DEFAULT_NEW_IN_CARE_DAYS)
        .describe('care that began on the date or the N − 1 days before it is new'),
      type: z.enum(ALERT_TYPES).optional(),
      ...pageQuery,
    }),
    response: z.object({
      date: z.string(),
      newInCareDays: z.number().int(),
      counts: z.object(
        Object.fromEntries(ALERT_TYPES.map((t) => [t, z.number().int()])) as Record<
          (typeof ALERT_TYPES)[number],
          z.ZodNumber
        >,
      ),
      items: z.array(Alert),
      nextCursor: z.string().nullable(),
      total: z.number().int(),
    }),
    csv: true,
    handler: async ({ audit, principal, query, event }) => {
      const { date, counts, items } = resultOf(await virtualSchoolAlerts(app, principal, query));
      const note = { target: `date:${date}`, outcome: 'ok' };
      if (wantsCsv(event)) {
        audit.pupils(
          note,
          items.map((i) => i.upn),
        );
        return csvResponse(`virtual-school-alerts-${date}.csv`, ALERT_CSV_COLUMNS, items);
      }
      const paged = pageOf(items, query, `alerts:${date}`);
      audit.pupils(
        note,
        paged.items.map((i) => i.upn),
      );
      return json(200, {
        date,
        newInCareDays: query.newInCareDays,
        counts,
        items: paged.items,
        nextCursor: paged.nextCursor,
        total: items.length,
      });
    },
  }),

  defineRoute({
    method: 'GET',
    path: '/v1/virtual-school/pupils/{upn}/pep-summary',
    access: 'read_pupil',
    audit: { action: 'read_pep_summary' },
    tags: ['virtual school'],
    summary:
      "A child's termly attendance for the Personal Education Plan: per census term, only the sessions while looked after (or in the cohort asked for), across schools",
    query: z.object({
      academicYear: z.coerce.number().int().min(2000).max(2100).optional(),
      term: z.enum(['autumn', 'spring', 'summer']).optional().describe('one census term (default: all three)'),
      cohort: Group.default('cla'),
    }),
    response: z.object({
      ...PupilNames,
      academicYear: z.number().int(),
      cohort: Group,
      terms: z.array(PepTerm),
    }),
    csv: true,
    handler: async ({ audit, principal, params, query, event }) => {
      const pep = { upn: params.upn, academicYear: query.academicYear, term: query.term, cohort: query.cohort };
      const { upn, year, details, terms } = resultOf(await virtualSchoolPepSummary(app, { principal, audit }, pep));
      if (wantsCsv(event)) {
        return csvResponse(
          `pep-summary-${upn}-${year}.csv`,
          PEP_CSV_COLUMNS,
          terms.map((t) => ({
            upn,
            academicYear: year,
            cohort: query.cohort,
            ...t,
            ...t.stats,
            inCohort: t.inCohort.map((s) => `${s.from} to ${s.to}`).join('; '),
            exclusionDates: t.exclusions.map((x) => `${x.date} ${x.session}`).join('; '),
            codes: Object.entries(t.stats.codes)
              .map(([c, n]) => `${c}:${n}`)
              .join(' '),
            schools: t.schools.map((s) => (s.name ? `${s.urn} ${s.name}` : s.urn)).join('; '),
          })),
        );
      }
      return json(200, { upn, ...details, academicYear: year, cohort: query.cohort, terms });
    },
  }),
];
