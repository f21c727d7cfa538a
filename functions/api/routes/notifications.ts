/**
 * Notifications (issue 19; docs/notifications.md): each person's own choices of alert and frequency,
 * the administrator's list of who receives them (address, role, school), and the outbox — what was
 * sent, what waits and what failed, with the error and the attempts. Who may receive a kind is
 * decided by role and school (shared/domain/notifications.ts KIND_ROLES), never by the choices: a
 * person is offered only the kinds for their role.
 */
import * as z from 'zod';
import { caseActorOf, ROLES, type Principal } from '../../../shared/domain/access.js';
import {
  DEFAULT_FREQUENCY,
  kindsReceivedBy,
  NOTIFICATION_KINDS,
  type NotificationKind,
} from '../../../shared/domain/notifications.js';
import { countOutbox, OUTBOX_PAGE, pageOutbox } from '../../../shared/store/outbox.js';
import {
  deletePerson,
  getPerson,
  listPeople,
  putPersonAddress,
  putPreferences,
  type Person,
} from '../../../shared/store/people.js';
import { Urn } from '../../../shared/schemas/common.js';
import { defineRoute, json, jsonBody, pageQuery, problem } from '../http.js';

/** What each kind is, in the words the preferences page shows. */
const KIND_DESCRIPTIONS: Readonly<Record<NotificationKind, string>> = {
  vsh_unexplained_absence: 'A looked-after child is absent with no reason given (N or O)',
  vsh_unmarked: "A looked-after child's session is not marked in the school's return",
  vsh_no_register: "A child in the Virtual School is on no school's register",
  vsh_continuous_absence: 'A looked-after child has been absent for 10 school days',
  case_overdue: 'A case is past its triage due date',
  return_missing: "Schools have not sent today's return by the LA's cut-off",
  return_rejected: "Your school's attendance return was rejected",
  social_worker_absence: 'A child with a social worker is absent with no reason known, or not marked',
};

const Kind = z.enum(NOTIFICATION_KINDS);
const FrequencySchema = z.enum(['immediate', 'daily', 'off']);
/** A token subject: Cognito's are UUIDs; the local ones are short names. */
const SUB = /^[A-Za-z0-9._@:+-]{1,200}$/;

const PreferenceSchema = z
  .object({
    kind: Kind,
    description: z.string(),
    frequency: FrequencySchema,
    default: FrequencySchema,
    chosen: z.boolean(),
  })
  .meta({ id: 'NotificationPreference' });
const MyPreferencesSchema = z
  .object({
    sub: z.string(),
    role: z.enum(ROLES),
    email: z.string().nullable().describe('set by an administrator; nothing is sent without one'),
    kinds: z.array(PreferenceSchema),
  })
  .meta({ id: 'MyNotificationPreferences' });
const PreferencesBody = z
  .object({
    preferences: z
      .partialRecord(Kind, FrequencySchema)
      .describe('how often each kind reaches you; a kind left out gets its default'),
  })
  .strict();

const PersonSchema = z
  .object({
    sub: z.string(),
    email: z.string().optional(),
    name: z.string().optional(),
    role: z.enum(ROLES).optional(),
    urn: z.string().optional(),
    preferences: z.partialRecord(Kind, FrequencySchema).optional(),
    updatedAt: z.string(),
    updatedBy: z.string(),
  })
  .meta({ id: 'NotificationPerson' });
const PersonBody = z
  .object({
    email: z.email().max(254),
    name: z.string().trim().min(1).max(200).optional(),
    role: z.enum(ROLES),
    urn: Urn.optional(),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (b.role === 'school' && !b.urn)
      ctx.addIssue({ code: 'custom', path: ['urn'], message: "a school's person needs the school's URN" });
    if (b.role !== 'school' && b.urn)
      ctx.addIssue({ code: 'custom', path: ['urn'], message: 'only the school role has a URN' });
  });

const OutboxStatus = z.enum(['pending', 'sent', 'failed']);
const OutboxItemSchema = z
  .object({
    key: z.string(),
    kind: Kind,
    sub: z.string(),
    email: z.string(),
    frequency: z.enum(['immediate', 'daily']),
    date: z.string(),
    subject: z.string(),
    preview: z.string(),
    link: z.string(),
    status: OutboxStatus,
    attempts: z.number().int(),
    queuedAt: z.string(),
    sentAt: z.string().optional(),
    messageId: z.string().optional(),
    lastError: z.string().optional(),
    digest: z.boolean(),
  })
  .meta({ id: 'OutboxItem' });

/** The kinds the caller's role may receive, with their choice and the default. */
function myPreferences(principal: Principal, person: Person | undefined) {
  const kinds = kindsReceivedBy(principal).map((kind) => {
    const chosen = person?.preferences?.[kind];
    return {
      kind,
      description: KIND_DESCRIPTIONS[kind],
      frequency: chosen ?? DEFAULT_FREQUENCY[kind],
      default: DEFAULT_FREQUENCY[kind],
      chosen: chosen !== undefined,
    };
  });
  const { sub, role } = caseActorOf(principal);
  return { sub, role, email: person?.email ?? null, kinds };
}

function subParam(raw: string | undefined): string {
  const sub = raw ?? '';
  if (!SUB.test(sub)) throw problem(404, 'No such person.');
  return sub;
}

export const notificationRoutes = [
  defineRoute({
    method: 'GET',
    path: '/v1/me/notification-preferences',
    access: 'any',
    audit: { none: "the caller's own choices; no pupil data" },
    tags: ['notifications'],
    summary:
      'Your alerts: the kinds your role receives, how often each reaches you (immediate, in the daily digest, or off), and the address they go to',
    response: MyPreferencesSchema,
    handler: async ({ principal }) => json(200, myPreferences(principal, await getPerson(principal.sub))),
  }),
  defineRoute({
    method: 'PUT',
    path: '/v1/me/notification-preferences',
    access: 'any',
    audit: { action: 'set_notification_preferences' },
    tags: ['notifications'],
    summary:
      'Choose how often each kind of alert reaches you; only the kinds for your role (a kind for another role is refused with 400)',
    body: PreferencesBody,
    response: MyPreferencesSchema,
    successStatus: 200,
    handler: async ({ audit, event, principal }) => {
      const body = jsonBody(event, PreferencesBody);
      const received: ReadonlySet<string> = new Set(kindsReceivedBy(principal));
      const foreign = Object.keys(body.preferences).filter((kind) => !received.has(kind));
      if (foreign.length) {
        throw problem(
          400,
          `Your role does not receive ${foreign.join(', ')}.`,
          foreign.map((kind) => ({ field: `preferences.${kind}`, message: 'not a kind your role receives' })),
        );
      }
      const person = await putPreferences(principal.sub, body.preferences, new Date().toISOString());
      audit.record({ target: `notification_preferences:${principal.sub}`.slice(0, 200), outcome: 'ok' });
      return json(200, myPreferences(principal, person));
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/people',
    access: 'manage_people',
    audit: { action: 'list_people' },
    tags: ['notifications'],
    summary: "Everyone notifications may go to: address, role and school (the administrator's) and their own choices",
    response: z.object({ items: z.array(PersonSchema) }),
    handler: async () => json(200, { items: await listPeople() }),
  }),
  defineRoute({
    method: 'PUT',
    path: '/v1/people/{sub}',
    access: 'manage_people',
    audit: { action: 'set_person' },
    tags: ['notifications'],
    summary:
      'Give a person (by their sign-in subject) the address notifications go to, with the role and school they hold; their own choices are kept',
    body: PersonBody,
    response: PersonSchema,
    successStatus: 200,
    handler: async ({ audit, event, principal, params }) => {
      const sub = subParam(params.sub);
      const body = jsonBody(event, PersonBody);
      const person = await putPersonAddress(sub, body, principal.sub, new Date().toISOString());
      audit.record({ target: `person:${sub}`.slice(0, 200), outcome: 'ok', ...(body.urn ? { urn: body.urn } : {}) });
      return json(200, person);
    },
  }),
  defineRoute({
    method: 'DELETE',
    path: '/v1/people/{sub}',
    access: 'manage_people',
    audit: { action: 'delete_person' },
    tags: ['notifications'],
    summary: 'Stop sending a person anything: their address and choices are removed',
    successStatus: 204,
    handler: async ({ audit, params }) => {
      const sub = subParam(params.sub);
      if (!(await getPerson(sub))) throw problem(404, 'No such person.');
      await deletePerson(sub);
      audit.record({ target: `person:${sub}`.slice(0, 200), outcome: 'deleted' });
      return { statusCode: 204 };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/notifications/outbox',
    access: 'read_outbox',
    audit: { action: 'read_outbox' },
    tags: ['notifications'],
    summary:
      'Notifications sent, waiting and failed (with the error and attempts; a failed one is retried by the next run up to 5 times), newest first, 50 a page; sent ones are kept for 400 days',
    query: z.object({
      status: OutboxStatus.optional(),
      limit: z.coerce
        .number()
        .int()
        .min(1)
        .max(100)
        .optional()
        .describe(`page size (default ${OUTBOX_PAGE}, at most 100)`),
      cursor: pageQuery.cursor,
    }),
    response: z.object({
      counts: z.object({ pending: z.number().int(), sent: z.number().int(), failed: z.number().int() }),
      items: z.array(OutboxItemSchema),
      nextCursor: z.string().nullable(),
      total: z.number().int(),
    }),
    handler: async ({ query }) => {
      // A page from the status index (never the whole outbox); the counts are count queries.
      const [counts, page] = await Promise.all([
        countOutbox(),
        pageOutbox({ status: query.status, limit: query.limit, cursor: query.cursor }),
      ]);
      // The body is left out: a digest's lists it again; the subject, preview and link say what it was.
      const items = page.items.map(({ body: _body, ...i }) => ({ ...i, digest: i.key.startsWith('digest:') }));
      const total = query.status ? counts[query.status] : counts.pending + counts.sent + counts.failed;
      return json(200, { counts, items, nextCursor: page.nextCursor, total });
    },
  }),
];
