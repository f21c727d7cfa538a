/**
 * Referrals (docs/design.md §5): cases about one pupil, worked by the LA's School Attendance Support Team.
 * The rules live in shared/domain/referrals.ts (state machine, actions, events, service level) and
 * shared/domain/penalty-notices.ts (escalation); the storage in shared/store/referrals.ts. Here:
 * who may see and do what, HTTP preconditions (If-Match → 428/412, Idempotency-Key), and mapping the
 * domain's refusals to problems (409 with the allowed transitions, or the penalty-notice reason).
 *
 * Scope: an LA officer sees every case; a school only cases with its URN; a Virtual School Head only
 * cases about pupils who were ever in its cohorts. Anything else answers 404. Only LA officers
 * (work_referrals) triage, allocate, record actions and close; a referrer (school, VSH) may withdraw
 * a case it raised itself while it is still submitted; whoever may see a case may add notes.
 */
import * as z from 'zod';
import { isOverdue, type Suggestion } from '../../../shared/domain/referrals.js';
import { type ReferralListItem } from '../../../shared/store/referrals.js';
import { page, Urn } from '../../../shared/schemas/common.js';
import {
  CreateReferralBody,
  PatchReferralBody,
  ReferralEventBody,
  ReferralListItemSchema,
  ReferralListQuery,
  ReferralSchema,
  ReferralTypeSchema,
  SuggestionSchema,
} from '../../../shared/schemas/referrals.js';
import {
  csvResponse,
  defineRoute,
  header,
  json,
  jsonBody,
  pageOf,
  pageQuery,
  problem,
  resultOf,
  wantsCsv,
  type Result,
} from '../http.js';
import {
  changeReferral,
  createReferral,
  readReferral,
  recordReferralEvent,
  type CaseAnswer,
} from '../../../shared/app/referrals.js';
import { listReferralCases, suggestReferrals } from '../../../shared/app/referral-lists.js';
import { app } from '../app.js';

// ---- Helpers -------------------------------------------------------------------------------------

/** The version the caller read, from If-Match (`"3"`, `W/"3"` or `3`). */
function expectedVersion(headers: Record<string, string>): number {
  const raw = headers['if-match'];
  if (!raw)
    throw problem(
      428,
      "Send the version you read in the If-Match header (the ETag of GET /v1/referrals/{id}), so that no one else's change is overwritten.",
    );
  const m = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(raw);
  if (!m)
    throw problem(400, 'If-Match must be the ETag of the case, e.g. "3".', [
      { field: 'If-Match', message: 'expected the case version, e.g. "3"' },
    ]);
  return Number(m[1]);
}

/** A case with its version as the ETag. */
function caseResponse(status: number, answer: CaseAnswer, headers: Record<string, string> = {}): Result {
  return json(status, answer.body, { etag: `"${answer.version}"`, ...headers });
}

function listItemView(i: ReferralListItem, today: string) {
  return {
    id: i.id,
    upn: i.upn,
    urn: i.urn,
    type: i.type,
    status: i.status,
    priority: i.priority,
    assignee: i.assignee ?? null,
    reason: i.reason,
    forename: i.evidence?.pupil?.forename ?? null,
    surname: i.evidence?.pupil?.surname ?? null,
    createdAt: i.createdAt,
    updatedAt: i.updatedAt,
    triageDueOn: i.triageDueOn,
    triagedAt: i.triagedAt ?? null,
    closedAt: i.closedAt ?? null,
    outcome: i.outcome?.type ?? null,
    overdue: isOverdue(i, today),
    version: i.version,
  };
}

// ---- Routes --------------------------------------------------------------------------------------

const SUGGESTION_COLUMNS = [
  'upn',
  'forename',
  'surname',
  'yearGroup',
  'urns',
  'suggestedType',
  'reasons',
  'ageUnknown',
  'absenceRate',
  'unauthorisedSessions',
];
const suggestionCsvRow = (s: Suggestion) => ({
  ...s,
  reasons: s.reasons
    .map((r) => `${r.flag} since ${r.since}${r.route ? ` (${r.route}: ${r.firstStep})` : ''}`)
    .join('; '),
});
const CSV_COLUMNS = [
  'id',
  'upn',
  'forename',
  'surname',
  'urn',
  'type',
  'status',
  'priority',
  'assignee',
  'createdAt',
  'triageDueOn',
  'overdue',
  'triagedAt',
  'closedAt',
  'outcome',
  'reason',
];

export const referralRoutes = [
  defineRoute({
    method: 'POST',
    path: '/v1/referrals',
    access: 'create_referral',
    audit: { action: 'create_referral' },
    tags: ['referrals'],
    summary:
      'Refer a pupil (a school its own pupils; LA officers and the VSH within their scope). Idempotency-Key makes a retry return the same case',
    body: CreateReferralBody,
    response: ReferralSchema,
    handler: async ({ audit, event, principal }) => {
      const body = jsonBody(event, CreateReferralBody);
      const created = resultOf(
        await createReferral(app, { principal, audit }, { body, idempotencyKey: header(event, 'idempotency-key') }),
      );
      return caseResponse(201, created, {
        location: `/v1/referrals/${created.id}`,
        ...(created.replayed ? { 'idempotent-replayed': 'true' } : {}),
      });
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/referrals',
    access: 'read_referrals',
    audit: { action: 'list_referrals' },
    tags: ['referrals'],
    summary:
      'Cases, newest first, by status, type, school (urn), assignee, pupil (upn) and overdue; Accept: text/csv exports every match',
    query: ReferralListQuery.extend(pageQuery),
    response: page(ReferralListItemSchema, 'ReferralList'),
    csv: true,
    handler: async ({ audit, principal, query, event }) => {
      const all = wantsCsv(event);
      const { items, nextCursor, urn, today } = resultOf(await listReferralCases(app, principal, { ...query, all }));
      audit.pupils(
        { target: all ? 'referrals:csv' : 'referrals', outcome: 'ok', urn },
        items.map((i) => i.upn),
      );
      if (all)
        return csvResponse(
          `referrals-${today}.csv`,
          CSV_COLUMNS,
          items.map((i) => listItemView(i, today)),
        );
      return json(200, { items: items.map((i) => listItemView(i, today)), nextCursor });
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/referrals/suggestions',
    access: 'read_referrals',
    audit: { action: 'list_referral_suggestions' },
    tags: ['referrals'],
    summary:
      'Pupils whose flags call for a case and who have none open (every SA pupil, penalty-notice threshold met, CME risk, 15 days of illness), worst first',
    query: z.object({
      academicYear: z.coerce.number().int().min(2000).max(2100).optional(),
      urn: Urn.optional(),
      type: ReferralTypeSchema.optional().describe('only suggestions of this referral type'),
      ...pageQuery,
    }),
    response: page(SuggestionSchema, 'ReferralSuggestionList'),
    csv: true,
    handler: async ({ audit, principal, query, event }) => {
      const { suggestions, year, urn, snapshot } = resultOf(await suggestReferrals(app, principal, query));
      const note = { target: `suggestions:${year}`, outcome: 'ok', urn };
      if (wantsCsv(event)) {
        audit.pupils(
          note,
          suggestions.map((x) => x.upn),
        );
        return csvResponse(`referral-suggestions-${year}.csv`, SUGGESTION_COLUMNS, suggestions.map(suggestionCsvRow));
      }
      const paged = pageOf(suggestions, query, snapshot);
      audit.pupils(
        note,
        paged.items.map((x) => x.upn),
      );
      return json(200, { items: paged.items, nextCursor: paged.nextCursor, total: suggestions.length });
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/referrals/{id}',
    access: 'read_referrals',
    audit: { action: 'read_referral' },
    tags: ['referrals'],
    summary:
      'A case with its evidence, actions, penalty notices, notice-to-improve evaluations and full event history; ETag = version',
    response: ReferralSchema,
    handler: async ({ audit, principal, params }) =>
      caseResponse(200, resultOf(await readReferral(app, { principal, audit }, String(params.id)))),
  }),
  defineRoute({
    method: 'PATCH',
    path: '/v1/referrals/{id}',
    access: 'read_referrals',
    audit: { action: 'update_referral' },
    tags: ['referrals'],
    summary:
      'Change status (triage, allocate, start, close with an outcome, withdraw with a reason), priority, assignee or parents. If-Match required',
    body: PatchReferralBody,
    response: ReferralSchema,
    handler: async ({ audit, event, principal, params, headers }) => {
      const patch = jsonBody(event, PatchReferralBody);
      const expected = expectedVersion(headers);
      return caseResponse(
        200,
        resultOf(
          await changeReferral(app, { principal, audit }, { id: String(params.id), expectedVersion: expected, patch }),
        ),
      );
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/referrals/{id}/events',
    access: 'read_referrals',
    audit: { action: 'record_referral_event' },
    tags: ['referrals'],
    summary:
      'Append to the case: an action (letter, meeting, contracts, notice to improve, penalty notice issued/paid/withdrawn, ESO, prosecution), an outcome (closes the case) or a note. If-Match required',
    body: ReferralEventBody,
    response: ReferralSchema,
    handler: async ({ audit, event, principal, params, headers }) => {
      const body = jsonBody(event, ReferralEventBody);
      const expected = expectedVersion(headers);
      return caseResponse(
        201,
        resultOf(
          await recordReferralEvent(
            app,
            { principal, audit },
            { id: String(params.id), expectedVersion: expected, event: body },
          ),
        ),
      );
    },
  }),
];
