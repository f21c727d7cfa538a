/** zod schemas of the referral API (docs/design.md §5); the OpenAPI document is generated from them. */
import * as z from 'zod';
import { ACTION_TYPES, OUTCOMES, PRIORITIES, REFERRAL_STATUSES, REFERRAL_TYPES } from '../domain/referrals.js';
import { IsoDate, Stats, Upn, Urn } from './common.js';

export const ReferralTypeSchema = z.enum(REFERRAL_TYPES).meta({ id: 'ReferralType' });
const ReferralStatusSchema = z.enum(REFERRAL_STATUSES).meta({ id: 'ReferralStatus' });
const PrioritySchema = z.enum(PRIORITIES).meta({ id: 'ReferralPriority' });
const ActionTypeSchema = z.enum(ACTION_TYPES).meta({ id: 'ReferralActionType' });
const OutcomeTypeSchema = z.enum(OUTCOMES).meta({ id: 'ReferralOutcomeType' });

const Text = (max: number) => z.string().trim().min(1).max(max);
const OfficerId = z.string().trim().min(1).max(200);

const ParentInputSchema = z
  .strictObject({
    id: z
      .string()
      .trim()
      .min(1)
      .max(100)
      .optional()
      .describe("the LA's own id for the person; derived from the name when omitted"),
    name: Text(200),
    relationship: Text(60).describe('mother, father, carer, …'),
  })
  .meta({ id: 'ReferralParentInput' });

const ParentSchema = z
  .object({ id: z.string(), name: z.string(), relationship: z.string() })
  .meta({ id: 'ReferralParent' });

export const CreateReferralBody = z
  .strictObject({
    upn: Upn,
    urn: Urn.describe('the school the case is about (a school refers its own pupils)'),
    type: ReferralTypeSchema,
    reason: Text(4000),
    priority: PrioritySchema.optional(),
    parents: z.array(ParentInputSchema).max(10).optional(),
  })
  .meta({ id: 'CreateReferral' });

const OutcomeInputSchema = z
  .strictObject({ type: OutcomeTypeSchema, summary: Text(4000).optional(), date: IsoDate.optional() })
  .meta({ id: 'ReferralOutcomeInput' });

export const PatchReferralBody = z
  .strictObject({
    status: ReferralStatusSchema.optional(),
    priority: PrioritySchema.optional(),
    assignee: OfficerId.nullable().optional(),
    parents: z
      .array(ParentInputSchema)
      .max(10)
      .optional()
      .describe('the full list of parents (replaces the current one)'),
    outcome: OutcomeInputSchema.optional().describe('with status "closed"'),
    reason: Text(4000).optional().describe('why the case is withdrawn (with status "withdrawn")'),
    note: Text(4000).optional(),
  })
  .meta({
    id: 'PatchReferral',
    description: 'Send the version you read in If-Match. Events cannot be edited: only these fields.',
  });

const ActionEventBody = z
  .strictObject({
    kind: z.literal('action'),
    type: ActionTypeSchema,
    date: IsoDate.describe('the day it took place (not after today)'),
    notes: Text(4000).optional(),
    parentId: z
      .string()
      .trim()
      .min(1)
      .max(100)
      .optional()
      .describe("required for penalty notices; one of the case's parents"),
    noticeId: z
      .string()
      .regex(/^A\d{1,6}$/)
      .optional()
      .describe('penalty_notice_paid / _withdrawn: the id of the penalty_notice_issued action'),
    startDate: IsoDate.optional().describe('notice_to_improve: first day of the improvement period (default: date)'),
    periodDays: z
      .number()
      .int()
      .min(1)
      .max(120)
      .optional()
      .describe("notice_to_improve: school days (default: the LA's setting)"),
  })
  .meta({ id: 'ReferralActionInput' });

const NoteEventBody = z.strictObject({ kind: z.literal('note'), text: Text(4000) }).meta({ id: 'ReferralNoteInput' });

const OutcomeEventBody = z
  .strictObject({
    kind: z.literal('outcome'),
    type: OutcomeTypeSchema,
    summary: Text(4000).optional(),
    date: IsoDate.optional(),
  })
  .meta({ id: 'ReferralOutcomeEventInput', description: 'Records the outcome and closes an in-progress case' });

export const ReferralEventBody = z
  .discriminatedUnion('kind', [ActionEventBody, NoteEventBody, OutcomeEventBody])
  .meta({ id: 'ReferralEventInput' });

const ActorSchema = z.object({ sub: z.string(), role: z.string(), urn: z.string().optional() });

const AmountSchema = z.object({
  full: z.number(),
  fullPayableWithinDays: z.number().int(),
  reduced: z.number().nullable(),
  reducedIfPaidWithinDays: z.number().int().nullable(),
});
const PeriodSchema = z.object({ start: z.string(), end: z.string() });

const ReferralActionSchema = z
  .object({
    id: z.string(),
    type: ActionTypeSchema,
    date: z.string(),
    recordedAt: z.string(),
    recordedBy: ActorSchema,
    notes: z.string().optional(),
    parentId: z.string().optional(),
    noticeId: z.string().optional(),
    penaltyNotice: z
      .object({
        sequence: z.number().int(),
        amount: AmountSchema,
        period: PeriodSchema,
        ageUnknown: z
          .literal(true)
          .optional()
          .describe('issued for a child with no date of birth: check compulsory school age'),
      })
      .optional(),
    payment: z
      .object({ amount: z.number(), band: z.enum(['reduced', 'full']), daysAfterIssue: z.number().int() })
      .optional(),
    noticeToImprove: z.object({ startDate: z.string(), periodDays: z.number().int() }).optional(),
  })
  .meta({ id: 'ReferralAction' });

const ReferralEventSchema = z
  .object({
    seq: z.number().int().describe('the case version this event produced'),
    at: z.string(),
    by: ActorSchema,
    kind: z.enum(['created', 'updated', 'action', 'note']),
    changes: z.array(z.object({ field: z.string(), from: z.unknown(), to: z.unknown() })),
    action: ReferralActionSchema.optional(),
    note: z.string().optional(),
  })
  .meta({ id: 'ReferralEvent' });

const EvidenceSchema = z
  .object({
    takenAt: z.string(),
    academicYear: z.number().int(),
    summaryVersion: z.number().int(),
    pupil: z.object({
      forename: z.string().nullable(),
      surname: z.string().nullable(),
      dob: z.string().nullable(),
      yearGroup: z.string().nullable(),
    }),
    cohorts: z.array(z.string()),
    everCohorts: z.array(z.string()),
    totals: Stats,
    persistentAbsence: z.boolean(),
    severeAbsence: z.boolean(),
    enrolments: z.array(
      z.object({
        urn: z.string(),
        academicYear: z.number().int(),
        registration: z.string(),
        admissionDate: z.string().nullable(),
        leavingDate: z.string().nullable(),
        stats: Stats,
        persistentAbsence: z.boolean(),
        severeAbsence: z.boolean(),
      }),
    ),
    flags: z.array(z.object({ type: z.string(), since: z.string(), detail: z.record(z.string(), z.unknown()) })),
    thresholdWindow: z.record(z.string(), z.unknown()).nullable(),
  })
  .meta({ id: 'ReferralEvidence', description: 'The pupil across schools when the case was opened; never changes' });

const CasePenaltyNoticeSchema = z
  .object({
    id: z.string(),
    referralId: z.string(),
    actionId: z.string(),
    parentId: z.string(),
    upn: z.string(),
    issuedOn: z.string(),
    status: z.enum(['issued', 'paid', 'withdrawn']),
    sequence: z.number().int().optional(),
    amount: AmountSchema,
    period: PeriodSchema,
    paidOn: z.string().optional(),
    withdrawnOn: z.string().optional(),
    amountPaid: z.number().optional(),
    payableUntil: z.string(),
  })
  .meta({ id: 'ReferralPenaltyNotice' });

const NoticeToImproveEvaluationSchema = z
  .object({
    actionId: z.string(),
    startDate: z.string(),
    periodDays: z.number().int(),
    evaluation: z
      .object({
        status: z.enum(['in_progress', 'met', 'not_met']),
        firstDay: z.string(),
        lastDay: z.string(),
        schoolDays: z.array(z.string()),
        projectedFrom: z.string().nullable(),
        markedThrough: z.string().nullable(),
        unauthorisedSessions: z.array(z.record(z.string(), z.unknown())),
      })
      .nullable(),
  })
  .meta({ id: 'NoticeToImproveEvaluation' });

export const ReferralSchema = z
  .object({
    id: z.string(),
    upn: z.string(),
    urn: z.string(),
    type: ReferralTypeSchema,
    reason: z.string(),
    priority: PrioritySchema,
    status: ReferralStatusSchema,
    assignee: z.string().nullable(),
    parents: z.array(ParentSchema),
    evidence: EvidenceSchema,
    actions: z.array(ReferralActionSchema),
    outcome: z.object({ type: OutcomeTypeSchema, summary: z.string().optional(), date: z.string() }).nullable(),
    createdAt: z.string(),
    createdBy: ActorSchema,
    createdOn: z.string(),
    triageDueOn: z.string(),
    triagedAt: z.string().nullable(),
    closedAt: z.string().nullable(),
    withdrawnAt: z.string().nullable(),
    withdrawalReason: z.string().nullable(),
    updatedAt: z.string(),
    version: z.number().int(),
    open: z.boolean(),
    overdue: z.boolean(),
    triagedLate: z.boolean().nullable(),
    allowedTransitions: z.array(ReferralStatusSchema),
    penaltyNotices: z.array(CasePenaltyNoticeSchema),
    noticesToImprove: z.array(NoticeToImproveEvaluationSchema),
    events: z.array(ReferralEventSchema),
  })
  .meta({ id: 'Referral' });

export const ReferralListItemSchema = z
  .object({
    id: z.string(),
    upn: z.string(),
    urn: z.string(),
    type: ReferralTypeSchema,
    status: ReferralStatusSchema,
    priority: PrioritySchema,
    assignee: z.string().nullable(),
    reason: z.string(),
    forename: z.string().nullable(),
    surname: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
    triageDueOn: z.string(),
    triagedAt: z.string().nullable(),
    closedAt: z.string().nullable(),
    outcome: z.string().nullable(),
    overdue: z.boolean(),
    version: z.number().int(),
  })
  .meta({ id: 'ReferralListItem' });

export const ReferralListQuery = z.object({
  status: ReferralStatusSchema.optional(),
  type: ReferralTypeSchema.optional(),
  urn: Urn.optional(),
  assignee: OfficerId.optional(),
  upn: Upn.optional(),
  overdue: z.enum(['true', 'false']).optional().describe('true: still submitted after the triage due date'),
});

export const SuggestionSchema = z
  .object({
    upn: z.string(),
    forename: z.string().nullable(),
    surname: z.string().nullable(),
    yearGroup: z.string().nullable(),
    urns: z.array(z.string()),
    suggestedType: ReferralTypeSchema,
    reasons: z.array(
      z.object({
        flag: z.string(),
        since: z.string(),
        referralType: ReferralTypeSchema,
        route: z
          .enum(['leave_in_term_time', 'irregular_attendance'])
          .optional()
          .describe(
            'penalty_notice_threshold: the route the policies set (docs/design.md §2.5) — leave in term time (G) or irregular attendance (O, U)',
          ),
        firstStep: z
          .enum(['penalty_notice_request', 'notice_to_improve'])
          .optional()
          .describe('what the LA does first on this route'),
        why: z.string().optional().describe("why this route applies, with the window's sessions by code"),
        ageUnknown: z
          .literal(true)
          .optional()
          .describe('no date of birth: check the pupil is of compulsory school age'),
      }),
    ),
    ageUnknown: z
      .boolean()
      .describe('a reason rests on a pupil with no date of birth (compulsory school age unchecked)'),
    absenceRate: z.number().nullable(),
    unauthorisedSessions: z.number().int(),
  })
  .meta({ id: 'ReferralSuggestion' });
