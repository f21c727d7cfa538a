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
import { DELETION_GROUNDS } from '../../../shared/domain/admission-register.js';
import { CME_STATUSES } from '../../../shared/domain/children-missing-education.js';
import {
  childrenMissingEducation,
  deletions,
  lookedAfterPupils,
  newEntries,
  notificationTimeliness,
  partTimeTimetables,
  socialWorkerAbsencesOn,
  type DeletionView,
} from '../../../shared/app/duties.js';
import { IsoDate, Urn } from '../../../shared/schemas/common.js';
import { app } from '../app.js';
import { csvResponse, defineRoute, json, pageOf, pageQuery, resultOf, wantsCsv } from '../http.js';

const AcademicYear = z.coerce
  .number()
  .int()
  .min(2000)
  .max(2100)
  .optional()
  .describe('default: the current academic year');

/** A page of a year's list, with the total before paging. */
function listPage<T>(
  year: number,
  items: readonly T[],
  query: { limit?: number; cursor?: string },
  snapshot: string,
  more: Record<string, unknown> = {},
) {
  const paged = pageOf(items, query, snapshot);
  return json(200, {
    academicYear: year,
    ...more,
    items: paged.items,
    nextCursor: paged.nextCursor,
    total: items.length,
  });
}

// ---- Schemas ----------------------------------------------------------------------------------------

const Timeliness = z.enum(['on_time', 'late', 'exempt', 'unknown']);
const Ground = z.enum(
  Object.keys(DELETION_GROUNDS) as [keyof typeof DELETION_GROUNDS, ...(keyof typeof DELETION_GROUNDS)[]],
);
/** A pupil at a school, as each duty list names them (with the date of birth where the list needs it). */
const PupilAtSchool = {
  upn: z.string(),
  forename: z.string().nullable(),
  surname: z.string().nullable(),
  yearGroup: z.string().nullable(),
  urn: z.string(),
  schoolName: z.string().nullable(),
};
const { upn, forename, surname, ...atSchool } = PupilAtSchool;
const PupilFields = { upn, forename, surname, dob: z.string().nullable(), ...atSchool };
const NewEntrySchema = z
  .object({
    ...PupilFields,
    entryDate: z.string(),
    source: z.enum(['stated', 'derived']).describe('stated: an admission date; derived: the first date listed'),
    notifiedOn: z.string().nullable(),
    schoolDaysToNotice: z.number().int().nullable(),
    timeliness: Timeliness,
  })
  .meta({ id: 'NewEntry' });
const CmeSchema = z
  .object({
    status: z.enum(CME_STATUSES),
    flagged: z.boolean(),
    ageUnknown: z.boolean(),
    listingDeadline: z.string().nullable(),
    listedBy: z.string().nullable(),
    listedFrom: z.string().nullable(),
    schoolDaysToListing: z.number().int().nullable(),
    withinTenSchoolDays: z.boolean().nullable(),
  })
  .meta({ id: 'ChildMissingEducationStatus' });
const DeletionSchema = z
  .object({
    ...PupilFields,
    leavingDate: z.string(),
    source: z
      .enum(['stated', 'derived'])
      .describe('stated: a leaving date; derived: the school stopped listing the pupil'),
    ground: Ground.nullable(),
    destination: z.string().nullable().describe('a URN, elective_home_education, another_country or unknown'),
    notifiedOn: z.string().nullable(),
    standardTransition: z.boolean(),
    timeliness: Timeliness,
    cme: CmeSchema.nullable().describe('LA officers only: whether the child is on a roll since'),
  })
  .meta({ id: 'Deletion' });
const TimelinessFigure = z.object({
  total: z.number().int(),
  onTime: z.number().int(),
  late: z.number().int(),
  exempt: z.number().int(),
  unknown: z.number().int(),
  onTimeRate: z.number().nullable(),
});
const CmeItem = DeletionSchema.extend({
  hasOpenReferral: z.boolean(),
  suggestedReferralType: z.literal('children_missing_education').nullable(),
}).meta({ id: 'ChildMissingEducation' });
const PartTimeItem = z
  .object({
    ...PupilAtSchool,
    start: z.string(),
    latest: z.string(),
    weeks: z.number().int(),
    c2Sessions: z.number().int(),
    sessionsLatestWeek: z.number().int(),
    sessionsPerWeek: z.number(),
    current: z.boolean(),
    pastReviewLimit: z.boolean(),
  })
  .meta({ id: 'PartTimeTimetable' });
const SocialWorkerAbsenceItem = z
  .object({
    alertKey: z.string(),
    ...PupilAtSchool,
    date: z.string(),
    session: z.enum(['AM', 'PM']),
    code: z.string().nullable(),
    reason: z.enum(['unauthorised_no_reason', 'not_marked']),
    cohorts: z.array(z.string()),
  })
  .meta({ id: 'SocialWorkerAbsence' });

const list = <T extends z.ZodType>(item: T) =>
  z.object({
    academicYear: z.number().int(),
    items: z.array(item),
    nextCursor: z.string().nullable(),
    total: z.number().int(),
  });

/** The pupil columns every duty list's CSV starts with (PupilFields' order). */
const PUPIL_CSV = ['upn', 'forename', 'surname', 'dob', 'yearGroup', 'urn', 'schoolName'];
const ENTRY_CSV = [...PUPIL_CSV, 'entryDate', 'source', 'notifiedOn', 'schoolDaysToNotice', 'timeliness'];
const DELETION_CSV = [
  ...PUPIL_CSV,
  'leavingDate',
  'source',
  'ground',
  'destination',
  'notifiedOn',
  'standardTransition',
  'timeliness',
  'cmeStatus',
  'cmeFlagged',
  'listingDeadline',
  'listedBy',
  'listedFrom',
];
const deletionCsvRow = (d: DeletionView) => ({
  ...d,
  cmeStatus: d.cme?.status ?? '',
  cmeFlagged: d.cme?.flagged ?? '',
  listingDeadline: d.cme?.listingDeadline ?? '',
  listedBy: d.cme?.listedBy ?? '',
  listedFrom: d.cme?.listedFrom ?? '',
});
const CME_CSV = [...DELETION_CSV, 'hasOpenReferral', 'suggestedReferralType'];
const cmeCsvRow = (i: DeletionView & { hasOpenReferral: boolean; suggestedReferralType: string | null }) => ({
  ...deletionCsvRow(i),
  hasOpenReferral: i.hasOpenReferral,
  suggestedReferralType: i.suggestedReferralType,
});
const TIMELINESS_CSV = [
  'urn',
  'schoolName',
  'entries',
  'entriesOnTime',
  'entriesLate',
  'entriesOnTimeRate',
  'deletions',
  'deletionsOnTime',
  'deletionsLate',
  'deletionsExempt',
  'deletionsOnTimeRate',
  'onTimeRate',
];
type Figure = { total: number; onTime: number; late: number; exempt: number; onTimeRate: number | null };
const timelinessCsvRow = (i: {
  urn: string;
  schoolName: string | null;
  entries: Figure;
  deletions: Figure;
  all: Figure;
}) => ({
  urn: i.urn,
  schoolName: i.schoolName,
  entries: i.entries.total,
  entriesOnTime: i.entries.onTime,
  entriesLate: i.entries.late,
  entriesOnTimeRate: i.entries.onTimeRate,
  deletions: i.deletions.total,
  deletionsOnTime: i.deletions.onTime,
  deletionsLate: i.deletions.late,
  deletionsExempt: i.deletions.exempt,
  deletionsOnTimeRate: i.deletions.onTimeRate,
  onTimeRate: i.all.onTimeRate,
});
const PART_TIME_CSV = [
  'upn',
  'forename',
  'surname',
  'yearGroup',
  'urn',
  'schoolName',
  'start',
  'latest',
  'weeks',
  'c2Sessions',
  'sessionsLatestWeek',
  'sessionsPerWeek',
  'current',
  'pastReviewLimit',
];
const SOCIAL_WORKER_CSV = [
  'alertKey',
  'date',
  'session',
  'code',
  'reason',
  'upn',
  'forename',
  'surname',
  'yearGroup',
  'cohorts',
  'urn',
  'schoolName',
];

// ---- Routes -----------------------------------------------------------------------------------------

export const dutyRoutes = [
  defineRoute({
    method: 'GET',
    path: '/v1/admission-register/entries',
    access: 'read_admission_register',
    audit: { action: 'list_new_entries' },
    tags: ['admission register'],
    summary:
      "New entries to schools' admission registers by school and date, each with when the LA was notified and whether that was within five school days (a school sees its own)",
    query: z.object({
      academicYear: AcademicYear,
      urn: Urn.optional(),
      from: IsoDate.optional(),
      to: IsoDate.optional(),
      timeliness: Timeliness.optional(),
      ...pageQuery,
    }),
    response: list(NewEntrySchema),
    csv: true,
    handler: async ({ audit, principal, query, event }) => {
      const { year, urn, items } = resultOf(await newEntries(app, principal, query));
      audit.pupils(
        { target: `entries:${year}`, outcome: 'ok', urn },
        items.map((i) => i.upn),
      );
      if (wantsCsv(event)) return csvResponse(`new-entries-${year}.csv`, ENTRY_CSV, items);
      return listPage(year, items, query, `entries:${year}:${urn ?? '*'}`);
    },
  }),

  defineRoute({
    method: 'GET',
    path: '/v1/admission-register/deletions',
    access: 'read_admission_register',
    audit: { action: 'list_deletions' },
    tags: ['admission register'],
    summary:
      "Deletions from schools' admission registers by school and date: ground, destination, whether the LA was notified no later than the leaving date (standard transitions exempt) and, for LA officers, whether the child is on a roll since",
    query: z.object({
      academicYear: AcademicYear,
      urn: Urn.optional(),
      from: IsoDate.optional(),
      to: IsoDate.optional(),
      timeliness: Timeliness.optional(),
      ...pageQuery,
    }),
    response: list(DeletionSchema),
    csv: true,
    handler: async ({ audit, principal, query, event }) => {
      const { year, urn, items } = resultOf(await deletions(app, principal, query));
      audit.pupils(
        { target: `deletions:${year}`, outcome: 'ok', urn },
        items.map((i) => i.upn),
      );
      if (wantsCsv(event)) return csvResponse(`deletions-${year}.csv`, DELETION_CSV, items.map(deletionCsvRow));
      return listPage(year, items, query, `deletions:${year}:${urn ?? '*'}`);
    },
  }),

  defineRoute({
    method: 'GET',
    path: '/v1/admission-register/timeliness',
    access: 'read_admission_register',
    audit: { action: 'read_notification_timeliness' },
    tags: ['admission register'],
    summary:
      'Per school: new entries notified within five school days and deletions notified by the leaving date, as counts and an on-time rate (a school sees its own)',
    query: z.object({ academicYear: AcademicYear, urn: Urn.optional() }),
    response: z.object({
      academicYear: z.number().int(),
      items: z.array(
        z
          .object({
            urn: z.string(),
            schoolName: z.string().nullable(),
            entries: TimelinessFigure,
            deletions: TimelinessFigure,
            all: TimelinessFigure,
          })
          .meta({ id: 'NotificationTimeliness' }),
      ),
    }),
    csv: true,
    handler: async ({ audit, principal, query, event }) => {
      const { year, urn, items } = resultOf(await notificationTimeliness(app, principal, query));
      audit.record({ target: `timeliness:${year}`, outcome: 'ok', count: items.length, urn });
      if (wantsCsv(event))
        return csvResponse(`notification-timeliness-${year}.csv`, TIMELINESS_CSV, items.map(timelinessCsvRow));
      return json(200, { academicYear: year, items });
    },
  }),

  defineRoute({
    method: 'GET',
    path: '/v1/children-missing-education',
    access: 'work_referrals',
    audit: { action: 'list_children_missing_education' },
    tags: ['admission register'],
    summary:
      'Children missing education after a deletion: compulsory-age children deleted to an unknown destination, or not listed by their destination school in the LA within ten school days (cleared once any school lists them); out-of-LA destinations to confirm with the other LA',
    query: z.object({
      academicYear: AcademicYear,
      status: z.enum(CME_STATUSES).optional().describe('default: missing and confirm_with_other_la'),
      urn: Urn.optional().describe('the deleting school'),
      ...pageQuery,
    }),
    response: list(CmeItem),
    csv: true,
    handler: async ({ audit, query, event }) => {
      const { year, today, items } = resultOf(await childrenMissingEducation(app, query));
      audit.pupils(
        { target: `cme:${year}:${query.status ?? 'default'}`, outcome: 'ok', urn: query.urn },
        items.map((i) => i.upn),
      );
      if (wantsCsv(event)) return csvResponse(`children-missing-education-${year}.csv`, CME_CSV, items.map(cmeCsvRow));
      return listPage(year, items, query, `cme:${year}:${today}`);
    },
  }),

  defineRoute({
    method: 'GET',
    path: '/v1/part-time-timetables',
    access: 'read_admission_register',
    audit: { action: 'list_part_time_timetables' },
    tags: ['part-time timetables'],
    summary:
      "Pupils on a part-time timetable (C2) per school: start, C2 sessions per week, school weeks so far, flagged past the LA's review limit (a school sees its own)",
    query: z.object({
      academicYear: AcademicYear,
      urn: Urn.optional(),
      reviewWeeks: z.coerce
        .number()
        .int()
        .min(1)
        .max(52)
        .optional()
        .describe('the review limit in school weeks (default: the LA setting, six)'),
      pastReviewLimit: z.enum(['true', 'false']).optional().describe('only those past (or within) the limit'),
      current: z
        .enum(['true', 'false'])
        .optional()
        .describe('only timetables still running at the latest return (or ended)'),
      ...pageQuery,
    }),
    response: list(PartTimeItem).extend({ reviewWeeks: z.number().int() }),
    csv: true,
    handler: async ({ audit, principal, query, event }) => {
      const { year, urn, reviewWeeks, items } = resultOf(await partTimeTimetables(app, principal, query));
      audit.pupils(
        { target: `c2:${year}`, outcome: 'ok', urn },
        items.map((i) => i.upn),
      );
      if (wantsCsv(event)) return csvResponse(`part-time-timetables-${year}.csv`, PART_TIME_CSV, items);
      return listPage(year, items, query, `c2:${year}:${urn ?? '*'}:${reviewWeeks}`, { reviewWeeks });
    },
  }),

  defineRoute({
    method: 'GET',
    path: '/v1/social-worker-absences',
    access: 'read_social_worker_absences',
    audit: { action: 'list_social_worker_absences' },
    tags: ['children with a social worker'],
    summary:
      "A day's unexplained absences of children in need and on child protection plans (O, or listed with no mark yet): for the children's social care team and the Virtual School Head; each item's alertKey identifies it for notifications",
    query: z.object({
      date: IsoDate.optional().describe('default: the previous weekday that is not a bank holiday'),
      urn: Urn.optional(),
      ...pageQuery,
    }),
    response: z.object({
      date: z.string(),
      items: z.array(SocialWorkerAbsenceItem),
      nextCursor: z.string().nullable(),
      total: z.number().int(),
    }),
    csv: true,
    handler: async ({ audit, query, event }) => {
      const { date, items } = resultOf(await socialWorkerAbsencesOn(app, query));
      audit.pupils(
        { target: `date:${date}`, outcome: 'ok', urn: query.urn },
        items.map((i) => i.upn),
      );
      if (wantsCsv(event)) return csvResponse(`social-worker-absences-${date}.csv`, SOCIAL_WORKER_CSV, items);
      const paged = pageOf(items, query, `swa:${date}`);
      return json(200, { date, items: paged.items, nextCursor: paged.nextCursor, total: items.length });
    },
  }),

  defineRoute({
    method: 'GET',
    path: '/v1/schools/{urn}/looked-after-pupils',
    access: 'read_admission_register',
    audit: { action: 'list_looked_after_pupils' },
    tags: ['virtual school'],
    summary:
      "Which of a school's pupils the LA looks after today (from the LA's lists), and nothing more of their social-care record: for the school itself and LA officers",
    query: z.object({ academicYear: AcademicYear }),
    response: z.object({
      urn: z.string(),
      date: z.string(),
      items: z.array(
        z
          .object({
            upn: z.string(),
            forename: z.string().nullable(),
            surname: z.string().nullable(),
            yearGroup: z.string().nullable(),
            lookedAfter: z.literal(true),
          })
          .meta({ id: 'LookedAfterPupil' }),
      ),
    }),
    csv: true,
    handler: async ({ audit, principal, params, query, event }) => {
      const { urn, date, items } = resultOf(
        await lookedAfterPupils(app, principal, { urn: params.urn, academicYear: query.academicYear }),
      );
      audit.pupils(
        { target: `school:${urn}`, outcome: 'ok', urn },
        items.map((i) => i.upn),
      );
      if (wantsCsv(event))
        return csvResponse(
          `looked-after-pupils-${urn}.csv`,
          ['upn', 'forename', 'surname', 'yearGroup', 'lookedAfter'],
          items,
        );
      return json(200, { urn, date, items });
    },
  }),
];

// ---- On the pupil view ------------------------------------------------------------------------------

export const PupilDutyFields = {
  lookedAfter: z
    .boolean()
    .describe("the LA looks after the child today (or at the end of a past year), from the LA's lists"),
  partTimeTimetables: z
    .array(PartTimeItem.omit({ forename: true, surname: true, yearGroup: true, schoolName: true }))
    .describe('C2 part-time timetables at the schools the caller may see'),
};
