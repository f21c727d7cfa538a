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
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { runtimeConfig } from '../../../shared/config.js';
import { can, caseActorOf, caseScope, everInVirtualSchool as everInVirtualSchoolCohorts, flagsForSchool, isVirtualSchool, mayListPupil, mayReferFor, ownSchoolOf, schoolScope, type Principal } from '../../../shared/domain/access.js';
import { customPeriod } from '../../../shared/domain/periods.js';
import type { FlagType } from '../../../shared/domain/pupil-summary.js';
import { isSevereAbsence } from '../../../shared/domain/stats.js';
import { pupilRowsForPeriod } from '../any-period.js';
import { academicYearEnd, academicYearOf, academicYearStart, isWeekend, todayInEngland } from '../../../shared/domain/dates.js';
import { noticeToImprove } from '../../../shared/domain/national-framework.js';
import type { PenaltyNoticeRecord } from '../../../shared/domain/penalty-notices.js';
import {
  addNote,
  closeWithOutcome,
  evidenceForSchool,
  evidenceSnapshot,
  isOverdue,
  mayWithdrawAsReferrer,
  newReferral,
  penaltyNoticesOf,
  recordAction,
  referralSuggestions,
  referralView,
  ReferralRuleError,
  triageDueOn,
  updateReferral,
  type Actor,
  type Change,
  type Referral,
  type ReferralErrorCode,
  type ReferralEvent,
  type SuggestionCandidate,
} from '../../../shared/domain/referrals.js';
import { englandAndWalesBankHolidays } from '../../../shared/formats/bank-holidays.js';
import { getPupilPatternFlags } from '../../../shared/store/patterns.js';
import { getPupilEnrolments, getSummaries, type PupilSummaryRecord } from '../../../shared/store/pupils.js';
import {
  appendChange,
  claimCreateKey,
  getReferral,
  getReferralsOfPupil,
  listAllReferrals,
  listReferrals,
  putNewReferral,
  StaleReferralError,
  upnsWithOpenReferrals,
  type ReferralListItem,
} from '../../../shared/store/referrals.js';
import { getSessionDays } from '../../../shared/store/schools.js';
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
import { csvResponse, defineRoute, header, json, jsonBody, pageOf, pageQuery, Problem, problem, resultOf, wantsCsv, type Result, type RouteAudit } from '../http.js';
import { currentLaPupils } from '../view-cache.js';
import { withChildrenMissingEducation } from './duties.js';
import { readablePupil } from '../../../shared/app/read-pupil.js';
import { app } from '../app.js';
import { newId } from '../../../shared/app/ids.js';

const STATUTORY_FLAGS: ReadonlySet<string> = new Set(['penalty_notice_threshold', 'ten_day_unauthorised', 'twenty_day_unauthorised', 'illness_15_days']);
const REFERRAL_ID = /^ref[0-9a-z]{9}[0-9a-f]{12}$/;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

// ---- Helpers -------------------------------------------------------------------------------------

function actorOf(p: Principal): Actor {
  return caseActorOf(p);
}

let workingDayCache: ((date: string) => boolean) | undefined;
/** The triage service level counts weekdays that are not bank holidays in England and Wales. */
function workingDay(): (date: string) => boolean {
  if (!workingDayCache) {
    const bankHolidays = englandAndWalesBankHolidays();
    workingDayCache = (d) => !isWeekend(d) && !bankHolidays.has(d);
  }
  return workingDayCache;
}

function everInVirtualSchool(summary: PupilSummaryRecord | undefined): boolean {
  return !!summary && everInVirtualSchoolCohorts(Object.values(summary.years));
}

/** Whether the caller may see a case (callers who may not get 404, never 403). */
async function mayReadCase(principal: Principal, r: Pick<Referral, 'urn' | 'upn'>): Promise<boolean> {
  const scope = caseScope(principal, r);
  if (scope === 'ever_in_virtual_school') return everInVirtualSchool((await getSummaries([r.upn])).get(r.upn));
  return scope === 'yes';
}

async function visibleCase(principal: Principal, id: string | undefined): Promise<{ referral: Referral; events: ReferralEvent[] }> {
  if (!id || !REFERRAL_ID.test(id)) throw problem(404, 'No such referral.');
  const loaded = await getReferral(id);
  if (!loaded || !(await mayReadCase(principal, loaded.referral))) throw problem(404, 'No such referral.');
  return loaded;
}

/** The version the caller read, from If-Match (`"3"`, `W/"3"` or `3`). */
function expectedVersion(headers: Record<string, string>): number {
  const raw = headers['if-match'];
  if (!raw) throw problem(428, 'Send the version you read in the If-Match header (the ETag of GET /v1/referrals/{id}), so that no one else\'s change is overwritten.');
  const m = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(raw);
  if (!m) throw problem(400, 'If-Match must be the ETag of the case, e.g. "3".', [{ field: 'If-Match', message: 'expected the case version, e.g. "3"' }]);
  return Number(m[1]);
}

function staleProblem(current: number | undefined): Problem {
  return problem(412, `The case has changed since you read it${current ? ` (it is now version ${current})` : ''}: read it again and retry with the new version.`, undefined, current ? { currentVersion: current } : {});
}

const CONFLICTS: ReadonlySet<ReferralErrorCode> = new Set([
  'invalid_transition', 'case_final', 'action_not_allowed', 'penalty_notice_refused', 'payment_refused', 'notice_not_outstanding',
]);

/** A domain refusal as a problem: 409 for conflicts with the case's state or history, else 422. */
function ruleProblem(err: ReferralRuleError): Problem {
  return problem(CONFLICTS.has(err.code) ? 409 : 422, err.message, undefined, { code: err.code, ...err.details });
}

function etag(version: number): string {
  return `"${version}"`;
}

/** Evaluate each notice to improve on the case against the pupil's marks (national-framework.ts). */
async function noticesToImproveOf(r: Referral) {
  const notices = r.actions.filter((a) => a.type === 'notice_to_improve' && a.noticeToImprove);
  if (notices.length === 0) return [];
  const settings = runtimeConfig().settings;
  const enrolments = await getPupilEnrolments(r.upn);
  const sessionDays = await getSessionDays(enrolments.map((e) => ({ urn: e.urn, academicYear: e.academicYear })));
  const bankHolidays = englandAndWalesBankHolidays();
  return notices.map((a) => {
    const { startDate, periodDays } = a.noticeToImprove as { startDate: string; periodDays: number };
    const result = enrolments.length
      ? noticeToImprove({ start: startDate, periodDays, enrolments, sessionDays, bankHolidays, settings })
      : null;
    return {
      actionId: a.id, startDate, periodDays,
      evaluation: result && {
        status: result.status, firstDay: result.firstDay, lastDay: result.lastDay, schoolDays: result.schoolDays,
        projectedFrom: result.projectedFrom, markedThrough: result.markedThrough, unauthorisedSessions: result.unauthorisedSessions,
      },
    };
  });
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

async function caseBody(principal: Principal, r: Referral, events: ReferralEvent[]) {
  const today = todayInEngland();
  const view = referralView(r, today);
  // A school reads the evidence its own enrolments hold, never another school's figures (issue 15).
  const own = ownSchoolOf(principal);
  if (own) view.evidence = evidenceForSchool(r.evidence, own, runtimeConfig().settings.flagsSharedWithSchools);
  return { ...view, noticesToImprove: await noticesToImproveOf(r), events };
}

async function caseResponse(principal: Principal, status: number, r: Referral, events: ReferralEvent[], headers: Record<string, string> = {}): Promise<Result> {
  return json(status, await caseBody(principal, r, events), { etag: etag(r.version), ...headers });
}

function listItemView(i: ReferralListItem, today: string) {
  return {
    id: i.id, upn: i.upn, urn: i.urn, type: i.type, status: i.status, priority: i.priority, assignee: i.assignee ?? null, reason: i.reason,
    forename: i.evidence?.pupil?.forename ?? null, surname: i.evidence?.pupil?.surname ?? null,
    createdAt: i.createdAt, updatedAt: i.updatedAt, triageDueOn: i.triageDueOn, triagedAt: i.triagedAt ?? null, closedAt: i.closedAt ?? null,
    outcome: i.outcome?.type ?? null, overdue: isOverdue(i, today), version: i.version,
  };
}

/** Same body, same hash: keys sorted so that field order does not matter. */
function bodyHash(value: unknown): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(canonical) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])])) : v;
  return createHash('sha256').update(JSON.stringify(canonical(value))).digest('hex');
}

/** Every penalty notice recorded for the pupil on other cases, plus this case's own (as it now stands). */
async function penaltyNoticeHistory(r: Referral): Promise<PenaltyNoticeRecord[]> {
  const others = (await getReferralsOfPupil(r.upn)).filter((o) => o.id !== r.id);
  return [...others.flatMap((o) => penaltyNoticesOf(o)), ...penaltyNoticesOf(r)];
}

async function save(audit: RouteAudit, change: Change, expected: number): Promise<void> {
  try {
    await appendChange(change, expected);
  } catch (err) {
    if (err instanceof StaleReferralError) {
      audit.record({ target: `referral:${change.referral.id}`, outcome: 'stale', upn: change.referral.upn, urn: change.referral.urn });
      throw staleProblem(err.currentVersion);
    }
    throw err;
  }
  audit.record({ target: `referral:${change.referral.id}`, outcome: `version:${change.referral.version}`, upn: change.referral.upn, urn: change.referral.urn });
}

function refuse(err: unknown): never {
  if (err instanceof ReferralRuleError) throw ruleProblem(err);
  throw err;
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
      if (!mayReferFor(principal, body.urn)) {
        throw problem(403, `A school refers its own pupils: this token is for URN ${principal.urn}.`, [{ field: 'urn', message: `must be ${principal.urn}` }]);
      }
      const key = header(event, 'idempotency-key');
      if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
        throw problem(400, 'Idempotency-Key must be 1–200 visible ASCII characters.', [{ field: 'Idempotency-Key', message: 'invalid' }]);
      }
      const readable = await readablePupil(app, principal, body.upn);
      if (!readable.ok) audit.record({ target: 'pupil', upn: body.upn, outcome: 'not_found' });
      const { record, year } = resultOf(readable);
      const urns = new Set(record.enrolmentKeys.map((k) => k.slice(k.indexOf('#') + 1)));
      if (!urns.has(body.urn)) {
        throw problem(422, `The pupil has no enrolment at URN ${body.urn}; refer them for a school they attend or attended.`, [{ field: 'urn', message: 'not one of the pupil\'s schools' }]);
      }
      const now = new Date();
      const at = now.toISOString();
      const today = todayInEngland(now);
      const settings = runtimeConfig().settings;
      const evidence = evidenceSnapshot(year, { takenAt: at, summaryVersion: record.version, extraFlags: await getPupilPatternFlags(body.upn, year.academicYear) });
      const build = (id: string) =>
        newReferral(
          { id, upn: body.upn, urn: body.urn, type: body.type, reason: body.reason, priority: body.priority, parents: body.parents, evidence },
          { actor: actorOf(principal), at, today, triageDueOn: triageDueOn(today, settings.referralTriageDays, workingDay()) },
        );
      let change: Change;
      try {
        change = build(newId('ref'));
      } catch (err) {
        refuse(err);
      }
      if (key !== undefined) {
        const hash = bodyHash(body);
        const claim = await claimCreateKey(principal.sub, key, { referralId: change.referral.id, bodyHash: hash, at });
        if (!claim.claimed) {
          if (claim.bodyHash !== hash) {
            throw problem(422, 'This Idempotency-Key was already used with a different request body. Use a new key for a new referral.', [{ field: 'Idempotency-Key', message: 'reused with a different body' }], { code: 'idempotency_key_reused' });
          }
          const existing = await getReferral(claim.referralId);
          if (existing) {
            audit.record({ target: `referral:${claim.referralId}`, outcome: 'replayed', upn: body.upn, urn: body.urn });
            return caseResponse(principal, 201, existing.referral, existing.events, { location: `/v1/referrals/${claim.referralId}`, 'idempotent-replayed': 'true' });
          }
          // The first request stopped before storing the case: finish it under the recorded id.
          change = build(claim.referralId);
        }
      }
      const stored = await putNewReferral(change);
      audit.record({ target: `referral:${stored.referral.id}`, outcome: 'created', upn: body.upn, urn: body.urn });
      return caseResponse(principal, 201, stored.referral, stored.events, { location: `/v1/referrals/${stored.referral.id}` });
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
      const doc = await currentLaPupils(year);
      const rows = (doc?.rows ?? []).filter(
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
      const paged = pageOf(suggestions, query, `${year}:${doc?.version ?? 0}`);
      audit.pupils(note, paged.items.map((x) => x.upn));
      return json(200, { items: paged.items, nextCursor: paged.nextCursor, total: suggestions.length });
    },
  }),
  defineRoute({
    method: 'GET', path: '/v1/referrals/{id}', access: 'read_referrals', audit: { action: 'read_referral' }, tags: ['referrals'],
    summary: 'A case with its evidence, actions, penalty notices, notice-to-improve evaluations and full event history; ETag = version',
    response: ReferralSchema,
    handler: async ({ audit, principal, params }) => {
      const { referral, events } = await visibleCase(principal, params.id).catch(async (err: unknown) => {
        audit.record({ target: `referral:${String(params.id).slice(0, 40)}`, outcome: 'not_found' });
        throw err;
      });
      audit.record({ target: `referral:${referral.id}`, outcome: 'ok', upn: referral.upn, urn: referral.urn });
      return caseResponse(principal, 200, referral, events);
    },
  }),
  defineRoute({
    method: 'PATCH', path: '/v1/referrals/{id}', access: 'read_referrals', audit: { action: 'update_referral' }, tags: ['referrals'],
    summary: 'Change status (triage, allocate, start, close with an outcome, withdraw with a reason), priority, assignee or parents. If-Match required',
    body: PatchReferralBody,
    response: ReferralSchema,
    handler: async ({ audit, event, principal, params, headers }) => {
      const patch = jsonBody(event, PatchReferralBody);
      const expected = expectedVersion(headers);
      const { referral } = await visibleCase(principal, params.id);
      if (!can(principal, 'work_referrals') && !mayWithdrawAsReferrer(referral, patch, actorOf(principal))) {
        throw problem(403, 'Only the LA\'s attendance team works cases; a referrer may only withdraw a case it raised itself, before it is triaged.');
      }
      if (referral.version !== expected) throw staleProblem(referral.version);
      let change: Change;
      try {
        change = updateReferral(referral, patch, { actor: actorOf(principal), at: new Date().toISOString(), today: todayInEngland() });
      } catch (err) {
        refuse(err);
      }
      await save(audit, change, expected);
      const saved = await getReferral(referral.id);
      if (!saved) throw problem(404, 'No such referral.');
      return caseResponse(principal, 200, saved.referral, saved.events);
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
      const { referral } = await visibleCase(principal, params.id);
      if (body.kind !== 'note' && !can(principal, 'work_referrals')) {
        throw problem(403, 'Only the LA\'s attendance team records actions and outcomes; a referrer may add a note.');
      }
      if (referral.version !== expected) throw staleProblem(referral.version);
      const ctx = { actor: actorOf(principal), at: new Date().toISOString(), today: todayInEngland() };
      let change: Change;
      try {
        if (body.kind === 'note') change = addNote(referral, body.text, ctx);
        else if (body.kind === 'outcome') change = closeWithOutcome(referral, { type: body.type, summary: body.summary, date: body.date }, ctx);
        else {
          const { kind: _kind, ...input } = body;
          const history = input.type === 'penalty_notice_issued' ? await penaltyNoticeHistory(referral) : penaltyNoticesOf(referral);
          change = recordAction(referral, input, { ...ctx, penaltyNoticeHistory: history, noticeToImprovePeriodDays: runtimeConfig().settings.noticeToImprovePeriodDays });
        }
      } catch (err) {
        if (err instanceof ReferralRuleError) {
          audit.record({ target: `referral:${referral.id}`, outcome: `refused:${err.code}`, upn: referral.upn, urn: referral.urn });
        }
        refuse(err);
      }
      await save(audit, change, expected);
      const saved = await getReferral(referral.id);
      if (!saved) throw problem(404, 'No such referral.');
      return caseResponse(principal, 201, saved.referral, saved.events);
    },
  }),
];
