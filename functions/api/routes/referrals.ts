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
import { runtimeConfig } from '../../../shared/config.js';
import { everInVirtualSchool as everInVirtualSchoolCohorts, flagsForSchool, isVirtualSchool, mayListPupil, ownSchoolOf, schoolScope } from '../../../shared/domain/access.js';
import { customPeriod } from '../../../shared/domain/periods.js';
import type { FlagType } from '../../../shared/domain/pupil-summary.js';
import { isSevereAbsence } from '../../../shared/domain/stats.js';
import { pupilRowsForPeriod } from '../any-period.js';
import { academicYearEnd, academicYearOf, academicYearStart, todayInEngland } from '../../../shared/domain/dates.js';
import {
  isOverdue,
  referralSuggestions,
  type SuggestionCandidate,
} from '../../../shared/domain/referrals.js';
import { getSummaries, type PupilSummaryRecord } from '../../../shared/store/pupils.js';
import {
  listAllReferrals,
  listReferrals,
  upnsWithOpenReferrals,
  type ReferralListItem,
} from '../../../shared/store/referrals.js';
import { InvalidCursorError } from '../../../shared/store/table.js';
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
import { csvResponse, defineRoute, header, json, jsonBody, pageOf, pageQuery, problem, resultOf, wantsCsv, type Result } from '../http.js';
import { getLaRows, laListAll } from '../../../shared/store/la-lists.js';
import { currentSchoolView } from '../view-cache.js';
import { getLaViewPointer } from '../../../shared/store/views.js';
import { withChildrenMissingEducation } from './duties.js';
import { changeReferral, createReferral, readReferral, recordReferralEvent, type CaseAnswer } from '../../../shared/app/referrals.js';
import { app } from '../app.js';

const STATUTORY_FLAGS: ReadonlySet<string> = new Set(['penalty_notice_threshold', 'ten_day_unauthorised', 'twenty_day_unauthorised', 'illness_15_days']);

// ---- Helpers -------------------------------------------------------------------------------------

function everInVirtualSchool(summary: PupilSummaryRecord | undefined): boolean {
  return !!summary && everInVirtualSchoolCohorts(Object.values(summary.years));
}

/** The version the caller read, from If-Match (`"3"`, `W/"3"` or `3`). */
function expectedVersion(headers: Record<string, string>): number {
  const raw = headers['if-match'];
  if (!raw) throw problem(428, 'Send the version you read in the If-Match header (the ETag of GET /v1/referrals/{id}), so that no one else\'s change is overwritten.');
  const m = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(raw);
  if (!m) throw problem(400, 'If-Match must be the ETag of the case, e.g. "3".', [{ field: 'If-Match', message: 'expected the case version, e.g. "3"' }]);
  return Number(m[1]);
}

/**
 * Suggestions as a school sees them (issue 15): its own figures from its own register, SA judged on
 * them, and only the flags the LA shares (no evidence from other schools). A pupil only this school
 * had that year keeps every flag: they are its own figures.
 */
async function ownSchoolCandidates(candidates: SuggestionCandidate[], urn: string, year: number): Promise<SuggestionCandidate[]> {
  const today = todayInEngland();
  const end = academicYearEnd(year) < today ? academicYearEnd(year) : today;
  if (end < academicYearStart(year)) return [];
  const own = new Map((await pupilRowsForPeriod(customPeriod(year, academicYearStart(year), end), { urns: new Set([urn]), withCare: false })).map((r) => [r.upn, r]));
  const shared = runtimeConfig().settings.flagsSharedWithSchools;
  const out: SuggestionCandidate[] = [];
  for (const c of candidates) {
    const mine = own.get(c.upn);
    if (!mine) continue;
    const sole = c.urns.length === 1 && c.urns[0] === urn;
    const flags = sole ? c.flags : [
      ...flagsForSchool(c.flags.map((f) => ({ type: f.type as FlagType, since: f.since, detail: f.detail ?? {} })), urn, shared),
      ...(isSevereAbsence(mine.authorised + mine.unauthorised, mine.possible) ? [{ type: 'severe_absence', since: academicYearStart(year) }] : []),
    ];
    out.push({ ...c, urns: [urn], possible: mine.possible, authorised: mine.authorised, unauthorised: mine.unauthorised, flags });
  }
  return out;
}

/** A case with its version as the ETag. */
function caseResponse(status: number, answer: CaseAnswer, headers: Record<string, string> = {}): Result {
  return json(status, answer.body, { etag: `"${answer.version}"`, ...headers });
}

function listItemView(i: ReferralListItem, today: string) {
  return {
    id: i.id, upn: i.upn, urn: i.urn, type: i.type, status: i.status, priority: i.priority, assignee: i.assignee ?? null, reason: i.reason,
    forename: i.evidence?.pupil?.forename ?? null, surname: i.evidence?.pupil?.surname ?? null,
    createdAt: i.createdAt, updatedAt: i.updatedAt, triageDueOn: i.triageDueOn, triagedAt: i.triagedAt ?? null, closedAt: i.closedAt ?? null,
    outcome: i.outcome?.type ?? null, overdue: isOverdue(i, today), version: i.version,
  };
}

// ---- Routes --------------------------------------------------------------------------------------

const CSV_COLUMNS = ['id', 'upn', 'forename', 'surname', 'urn', 'type', 'status', 'priority', 'assignee', 'createdAt', 'triageDueOn', 'overdue', 'triagedAt', 'closedAt', 'outcome', 'reason'];

export const referralRoutes = [
  defineRoute({
    method: 'POST', path: '/v1/referrals', access: 'create_referral', audit: { action: 'create_referral' }, tags: ['referrals'],
    summary: 'Refer a pupil (a school its own pupils; LA officers and the VSH within their scope). Idempotency-Key makes a retry return the same case',
    body: CreateReferralBody,
    response: ReferralSchema,
    handler: async ({ audit, event, principal }) => {
      const body = jsonBody(event, CreateReferralBody);
      const created = resultOf(await createReferral(app, { principal, audit }, { body, idempotencyKey: header(event, 'idempotency-key') }));
      return caseResponse(201, created, { location: `/v1/referrals/${created.id}`, ...(created.replayed ? { 'idempotent-replayed': 'true' } : {}) });
    },
  }),
  defineRoute({
    method: 'GET', path: '/v1/referrals', access: 'read_referrals', audit: { action: 'list_referrals' }, tags: ['referrals'],
    summary: 'Cases, newest first, by status, type, school (urn), assignee, pupil (upn) and overdue; Accept: text/csv exports every match',
    query: ReferralListQuery.extend(pageQuery),
    response: page(ReferralListItemSchema, 'ReferralList'),
    csv: true,
    handler: async ({ audit, principal, query, event }) => {
      const today = todayInEngland();
      const scope = schoolScope(principal, query.urn);
      if (!scope.ok) throw problem(404, 'No such school.');
      const filter = {
        status: query.status, type: query.type, assignee: query.assignee, upn: query.upn, today,
        urn: scope.urn,
        overdue: query.overdue === undefined ? undefined : query.overdue === 'true',
      };
      const keep = isVirtualSchool(principal)
        ? async (items: ReferralListItem[]) => {
            const summaries = await getSummaries([...new Set(items.map((i) => i.upn))]);
            return items.filter((i) => everInVirtualSchool(summaries.get(i.upn)));
          }
        : undefined;
      if (wantsCsv(event)) {
        const all = await listAllReferrals(filter, keep);
        audit.pupils({ target: 'referrals:csv', outcome: 'ok', urn: filter.urn }, all.map((i) => i.upn));
        return csvResponse(`referrals-${today}.csv`, CSV_COLUMNS, all.map((i) => listItemView(i, today)));
      }
      const result = await listReferrals(filter, query.limit ?? 50, query.cursor, keep).catch((err: unknown) => {
        if (err instanceof InvalidCursorError) throw problem(400, 'The cursor is not one this service issued.', [{ field: 'cursor', message: 'unrecognised cursor' }]);
        throw err;
      });
      audit.pupils({ target: 'referrals', outcome: 'ok', urn: filter.urn }, result.items.map((i) => i.upn));
      return json(200, { items: result.items.map((i) => listItemView(i, today)), nextCursor: result.nextCursor });
    },
  }),
  defineRoute({
    method: 'GET', path: '/v1/referrals/suggestions', access: 'read_referrals', audit: { action: 'list_referral_suggestions' }, tags: ['referrals'],
    summary: 'Pupils whose flags call for a case and who have none open (every SA pupil, penalty-notice threshold met, CME risk, 15 days of illness), worst first',
    query: z.object({
      academicYear: z.coerce.number().int().min(2000).max(2100).optional(),
      urn: Urn.optional(),
      type: ReferralTypeSchema.optional().describe('only suggestions of this referral type'),
      ...pageQuery,
    }),
    response: page(SuggestionSchema, 'ReferralSuggestionList'),
    csv: true,
    handler: async ({ audit, principal, query, event }) => {
      const year = query.academicYear ?? academicYearOf(todayInEngland());
      const scope = schoolScope(principal, query.urn);
      if (!scope.ok) throw problem(404, 'No such school.');
      const urn = scope.urn;
      // Only a pupil with a flag that makes a suggestion can be suggested: that list's partition. A school
      // judges SA on its own figures, so it takes every pupil it has (its view's UPNs), as many as it has.
      const own = ownSchoolOf(principal) && urn ? ((await currentSchoolView(urn, year))?.pupils ?? []).map((p) => p.upn) : undefined;
      const [listed, pointer] = await Promise.all([
        own ? getLaRows(year, own).then((m) => [...m.values()])
          : laListAll(year, 'suggest', { ...(urn ? { urn } : {}), ...(principal.role === 'vsh' ? { vs: true } : {}) }),
        getLaViewPointer(year),
      ]);
      const rows = listed.filter(
        (r) => (!urn || r.urns.includes(urn)) && mayListPupil(principal, r),
      );
      // The LA list holds flag types only; a continuous-absence flag's detail says whether it is a CME risk,
      // a statutory flag's whether the pupil's age is unknown, and the threshold's which route applies.
      const needDetail = rows.filter((r) => r.flags.some((f) => STATUTORY_FLAGS.has(f.type)));
      const summaries = needDetail.length ? await getSummaries(needDetail.map((r) => r.upn)) : new Map<string, PupilSummaryRecord>();
      let candidates: SuggestionCandidate[] = rows.map((r) => ({
        ...r,
        flags: r.flags.map((f) => ({ ...f, detail: summaries.get(r.upn)?.years[String(year)]?.flags.find((g) => g.type === f.type)?.detail })),
      }));
      if (ownSchoolOf(principal) && urn) candidates = await ownSchoolCandidates(candidates, urn, year);
      const open = await upnsWithOpenReferrals();
      const suggestions = (await withChildrenMissingEducation(principal, referralSuggestions(candidates, (upn) => open.has(upn)), year, (upn) => open.has(upn), urn))
        .filter((s) => !query.type || s.suggestedType === query.type);
      const note = { target: `suggestions:${year}`, outcome: 'ok', urn };
      if (wantsCsv(event)) {
        audit.pupils(note, suggestions.map((x) => x.upn));
        return csvResponse(`referral-suggestions-${year}.csv`,
          ['upn', 'forename', 'surname', 'yearGroup', 'urns', 'suggestedType', 'reasons', 'ageUnknown', 'absenceRate', 'unauthorisedSessions'],
          suggestions.map((s) => ({ ...s, reasons: s.reasons.map((r) => `${r.flag} since ${r.since}${r.route ? ` (${r.route}: ${r.firstStep})` : ''}`).join('; ') })));
      }
      const paged = pageOf(suggestions, query, `${year}:${pointer?.version ?? 0}`);
      audit.pupils(note, paged.items.map((x) => x.upn));
      return json(200, { items: paged.items, nextCursor: paged.nextCursor, total: suggestions.length });
    },
  }),
  defineRoute({
    method: 'GET', path: '/v1/referrals/{id}', access: 'read_referrals', audit: { action: 'read_referral' }, tags: ['referrals'],
    summary: 'A case with its evidence, actions, penalty notices, notice-to-improve evaluations and full event history; ETag = version',
    response: ReferralSchema,
    handler: async ({ audit, principal, params }) => caseResponse(200, resultOf(await readReferral(app, { principal, audit }, String(params.id)))),
  }),
  defineRoute({
    method: 'PATCH', path: '/v1/referrals/{id}', access: 'read_referrals', audit: { action: 'update_referral' }, tags: ['referrals'],
    summary: 'Change status (triage, allocate, start, close with an outcome, withdraw with a reason), priority, assignee or parents. If-Match required',
    body: PatchReferralBody,
    response: ReferralSchema,
    handler: async ({ audit, event, principal, params, headers }) => {
      const patch = jsonBody(event, PatchReferralBody);
      const expected = expectedVersion(headers);
      return caseResponse(200, resultOf(await changeReferral(app, { principal, audit }, { id: String(params.id), expectedVersion: expected, patch })));
    },
  }),
  defineRoute({
    method: 'POST', path: '/v1/referrals/{id}/events', access: 'read_referrals', audit: { action: 'record_referral_event' }, tags: ['referrals'],
    summary: 'Append to the case: an action (letter, meeting, contracts, notice to improve, penalty notice issued/paid/withdrawn, ESO, prosecution), an outcome (closes the case) or a note. If-Match required',
    body: ReferralEventBody,
    response: ReferralSchema,
    handler: async ({ audit, event, principal, params, headers }) => {
      const body = jsonBody(event, ReferralEventBody);
      const expected = expectedVersion(headers);
      return caseResponse(201, resultOf(await recordReferralEvent(app, { principal, audit }, { id: String(params.id), expectedVersion: expected, event: body })));
    },
  }),
];
