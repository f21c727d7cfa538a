/**
 * Create, read and change a referral (docs/design.md §5): cases about one pupil, worked by the LA's
 * School Attendance Support Team. The rules are the domain's (shared/domain/referrals.ts: state
 * machine, actions, service level; penalty-notices.ts); scope is access.ts's. Here: the order of
 * checks, optimistic versions (a stale version is refused, never overwritten), Idempotency-Key
 * replays, and what each caller is shown of the case.
 *
 * Scope: an LA officer sees every case; a school only cases with its URN; a Virtual School Head only
 * cases about pupils who were ever in its cohorts. Anyone else is told there is no such referral.
 * Only LA officers (work_referrals) triage, allocate, record actions and close; a referrer may
 * withdraw a case it raised itself while it is still submitted; whoever may see a case may add notes.
 */
import { createHash } from 'node:crypto';
import {
  can,
  caseActorOf,
  caseScope,
  everInVirtualSchool,
  mayReferFor,
  ownSchoolOf,
  type Principal,
} from '../domain/access.js';
import { isWeekend, todayInEngland } from '../domain/dates.js';
import { noticeToImprove } from '../domain/national-framework.js';
import type { PenaltyNoticeRecord } from '../domain/penalty-notices.js';
import {
  addNote,
  closeWithOutcome,
  evidenceForSchool,
  evidenceSnapshot,
  mayWithdrawAsReferrer,
  newReferral,
  penaltyNoticesOf,
  recordAction,
  referralView,
  ReferralRuleError,
  triageDueOn,
  updateReferral,
  type Change,
  type Referral,
  type ReferralErrorCode,
  type ReferralEvent,
} from '../domain/referrals.js';
import { englandAndWalesBankHolidays } from '../formats/bank-holidays.js';
import { enrolmentKeys as keys } from '../store/keys.js';
import type { CreateReferralBody, PatchReferralBody, ReferralEventBody } from '../schemas/referrals.js';
import type { AuditTrail } from './audit.js';
import { newId } from './ids.js';
import { done, refuse, type Outcome, type Refusal } from './outcome.js';
import type { PupilRecords, Referrals, Schools, Settings } from './ports.js';
import { readablePupil } from './read-pupil.js';
import type * as z from 'zod';

export type ReferralDeps = { referrals: Referrals; pupils: PupilRecords; schools: Schools } & Settings;

interface Caller {
  principal: Principal;
  audit: AuditTrail;
}

const REFERRAL_ID = /^ref[0-9a-z]{9}[0-9a-f]{12}$/;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

let workingDayCache: ((date: string) => boolean) | undefined;
/** The triage service level counts weekdays that are not bank holidays in England and Wales. */
function workingDay(): (date: string) => boolean {
  if (!workingDayCache) {
    const bankHolidays = englandAndWalesBankHolidays();
    workingDayCache = (d) => !isWeekend(d) && !bankHolidays.has(d);
  }
  return workingDayCache;
}

const CONFLICTS: ReadonlySet<ReferralErrorCode> = new Set([
  'invalid_transition',
  'case_final',
  'action_not_allowed',
  'penalty_notice_refused',
  'payment_refused',
  'notice_not_outstanding',
]);

/** A domain refusal: a conflict with the case's state or history, else unacceptable input; other errors are faults. */
function ruleRefusal(err: unknown): { ok: false } & Refusal {
  if (!(err instanceof ReferralRuleError)) throw err;
  return refuse(CONFLICTS.has(err.code) ? 'conflict' : 'unacceptable', err.message, {
    extra: { code: err.code, ...err.details },
  });
}

function staleRefusal(current: number | undefined): { ok: false } & Refusal {
  return refuse(
    'stale',
    `The case has changed since you read it${current ? ` (it is now version ${current})` : ''}: read it again and retry with the new version.`,
    current ? { extra: { currentVersion: current } } : {},
  );
}

/** Whether the caller may see a case (asked of access.ts; the Virtual School's scope needs the pupil's cohorts). */
async function mayReadCase(
  deps: ReferralDeps,
  principal: Principal,
  r: Pick<Referral, 'urn' | 'upn'>,
): Promise<boolean> {
  const scope = caseScope(principal, r);
  if (scope === 'ever_in_virtual_school') {
    const summary = await deps.pupils.summary(r.upn);
    return !!summary && everInVirtualSchool(Object.values(summary.years));
  }
  return scope === 'yes';
}

async function visibleCase(deps: ReferralDeps, principal: Principal, id: string | undefined) {
  if (!id || !REFERRAL_ID.test(id)) return undefined;
  const loaded = await deps.referrals.get(id);
  return loaded && (await mayReadCase(deps, principal, loaded.referral)) ? loaded : undefined;
}

/** Evaluate each notice to improve on the case against the pupil's marks (national-framework.ts). */
async function noticesToImproveOf(deps: ReferralDeps, r: Referral) {
  const notices = r.actions.filter((a) => a.type === 'notice_to_improve' && a.noticeToImprove);
  if (notices.length === 0) return [];
  const settings = deps.settings();
  const enrolments = (await deps.pupils.summary(r.upn))?.enrolments ?? [];
  const sessionDays = await deps.schools.sessionDays(
    enrolments.map((e) => ({ urn: e.urn, academicYear: e.academicYear })),
  );
  const bankHolidays = englandAndWalesBankHolidays();
  return notices.map((a) => {
    const { startDate, periodDays } = a.noticeToImprove as { startDate: string; periodDays: number };
    const result = enrolments.length
      ? noticeToImprove({ start: startDate, periodDays, enrolments, sessionDays, bankHolidays, settings })
      : null;
    return {
      actionId: a.id,
      startDate,
      periodDays,
      evaluation: result && {
        status: result.status,
        firstDay: result.firstDay,
        lastDay: result.lastDay,
        schoolDays: result.schoolDays,
        projectedFrom: result.projectedFrom,
        markedThrough: result.markedThrough,
        unauthorisedSessions: result.unauthorisedSessions,
      },
    };
  });
}

/** A case as the caller is shown it: a school reads the evidence its own enrolments hold, never another school's figures (issue 15). */
export interface CaseAnswer {
  version: number;
  body: ReturnType<typeof referralView> & {
    noticesToImprove: Awaited<ReturnType<typeof noticesToImproveOf>>;
    events: ReferralEvent[];
  };
}

async function caseAnswer(
  deps: ReferralDeps,
  principal: Principal,
  r: Referral,
  events: ReferralEvent[],
): Promise<CaseAnswer> {
  const view = referralView(r, todayInEngland());
  const own = ownSchoolOf(principal);
  if (own) view.evidence = evidenceForSchool(r.evidence, own, deps.settings().flagsSharedWithSchools);
  return { version: r.version, body: { ...view, noticesToImprove: await noticesToImproveOf(deps, r), events } };
}

/** Same body, same hash: keys sorted so that field order does not matter. */
function bodyHash(value: unknown): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
          )
        : v;
  return createHash('sha256')
    .update(JSON.stringify(canonical(value)))
    .digest('hex');
}

/** The schools a pupil has an enrolment at (any year). */
function schoolsOf(enrolmentKeys: readonly string[]): Set<string> {
  return new Set(enrolmentKeys.map((key) => keys.parse(key).urn));
}

/** Refer a pupil; with an Idempotency-Key, a retry answers the case the first request created (`replayed`). */
export async function createReferral(
  deps: ReferralDeps,
  { principal, audit }: Caller,
  input: { body: z.infer<typeof CreateReferralBody>; idempotencyKey?: string },
): Promise<Outcome<CaseAnswer & { id: string; replayed: boolean }>> {
  const { body, idempotencyKey: key } = input;
  if (!mayReferFor(principal, body.urn)) {
    return refuse('forbidden', `A school refers its own pupils: this token is for URN ${principal.urn}.`, {
      errors: [{ field: 'urn', message: `must be ${principal.urn}` }],
    });
  }
  if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
    return refuse('invalid', 'Idempotency-Key must be 1–200 visible ASCII characters.', {
      errors: [{ field: 'Idempotency-Key', message: 'invalid' }],
    });
  }
  const readable = await readablePupil(deps, principal, body.upn);
  if (!readable.ok) {
    audit.record({ target: 'pupil', upn: body.upn, outcome: 'not_found' });
    return readable;
  }
  const { record, year } = readable.value;
  if (!schoolsOf(record.enrolmentKeys).has(body.urn)) {
    return refuse(
      'unacceptable',
      `The pupil has no enrolment at URN ${body.urn}; refer them for a school they attend or attended.`,
      { errors: [{ field: 'urn', message: "not one of the pupil's schools" }] },
    );
  }
  const now = new Date();
  const at = now.toISOString();
  const today = todayInEngland(now);
  const evidence = evidenceSnapshot(year, {
    takenAt: at,
    summaryVersion: record.version,
    extraFlags: await deps.pupils.patternFlags(body.upn, year.academicYear),
  });
  const build = (id: string) =>
    newReferral(
      {
        id,
        upn: body.upn,
        urn: body.urn,
        type: body.type,
        reason: body.reason,
        priority: body.priority,
        parents: body.parents,
        evidence,
      },
      {
        actor: caseActorOf(principal),
        at,
        today,
        triageDueOn: triageDueOn(today, deps.settings().referralTriageDays, workingDay()),
      },
    );
  let change: Change;
  try {
    change = build(newId('ref'));
  } catch (err) {
    return ruleRefusal(err);
  }
  if (key !== undefined) {
    const hash = bodyHash(body);
    const claim = await deps.referrals.claimCreateKey(principal.sub, key, {
      referralId: change.referral.id,
      bodyHash: hash,
      at,
    });
    if (!claim.claimed) {
      if (claim.bodyHash !== hash) {
        return refuse(
          'unacceptable',
          'This Idempotency-Key was already used with a different request body. Use a new key for a new referral.',
          {
            errors: [{ field: 'Idempotency-Key', message: 'reused with a different body' }],
            extra: { code: 'idempotency_key_reused' },
          },
        );
      }
      const existing = await deps.referrals.get(claim.referralId);
      if (existing) {
        audit.record({ target: `referral:${claim.referralId}`, outcome: 'replayed', upn: body.upn, urn: body.urn });
        return done({
          id: claim.referralId,
          replayed: true,
          ...(await caseAnswer(deps, principal, existing.referral, existing.events)),
        });
      }
      // The first request stopped before storing the case: finish it under the recorded id.
      change = build(claim.referralId);
    }
  }
  const stored = await deps.referrals.putNew(change);
  audit.record({ target: `referral:${stored.referral.id}`, outcome: 'created', upn: body.upn, urn: body.urn });
  return done({
    id: stored.referral.id,
    replayed: false,
    ...(await caseAnswer(deps, principal, stored.referral, stored.events)),
  });
}

/** A case with its evidence, actions, penalty notices, notice-to-improve evaluations and history. */
export async function readReferral(
  deps: ReferralDeps,
  { principal, audit }: Caller,
  id: string,
): Promise<Outcome<CaseAnswer>> {
  const loaded = await visibleCase(deps, principal, id);
  if (!loaded) {
    audit.record({ target: `referral:${id.slice(0, 40)}`, outcome: 'not_found' });
    return refuse('not_found', 'No such referral.');
  }
  audit.record({
    target: `referral:${loaded.referral.id}`,
    outcome: 'ok',
    upn: loaded.referral.upn,
    urn: loaded.referral.urn,
  });
  return done(await caseAnswer(deps, principal, loaded.referral, loaded.events));
}

/** Save a change made to the version the caller read, and answer the case as it now stands. */
async function save(
  deps: ReferralDeps,
  { principal, audit }: Caller,
  change: Change,
  expected: number,
): Promise<Outcome<CaseAnswer>> {
  const { id, upn, urn } = change.referral;
  const saved = await deps.referrals.append(change, expected);
  if (!saved.saved) {
    audit.record({ target: `referral:${id}`, outcome: 'stale', upn, urn });
    return staleRefusal(saved.currentVersion);
  }
  audit.record({ target: `referral:${id}`, outcome: `version:${change.referral.version}`, upn, urn });
  const now = await deps.referrals.get(id);
  if (!now) return refuse('not_found', 'No such referral.');
  return done(await caseAnswer(deps, principal, now.referral, now.events));
}

/** Change status, priority, assignee or parents of the case as read at `expectedVersion`. */
export async function changeReferral(
  deps: ReferralDeps,
  caller: Caller,
  input: { id: string; expectedVersion: number; patch: z.infer<typeof PatchReferralBody> },
): Promise<Outcome<CaseAnswer>> {
  const { principal } = caller;
  const loaded = await visibleCase(deps, principal, input.id);
  if (!loaded) return refuse('not_found', 'No such referral.');
  const { referral } = loaded;
  if (!can(principal, 'work_referrals') && !mayWithdrawAsReferrer(referral, input.patch, caseActorOf(principal))) {
    return refuse(
      'forbidden',
      "Only the LA's attendance team works cases; a referrer may only withdraw a case it raised itself, before it is triaged.",
    );
  }
  if (referral.version !== input.expectedVersion) return staleRefusal(referral.version);
  let change: Change;
  try {
    change = updateReferral(referral, input.patch, {
      actor: caseActorOf(principal),
      at: new Date().toISOString(),
      today: todayInEngland(),
    });
  } catch (err) {
    return ruleRefusal(err);
  }
  return save(deps, caller, change, input.expectedVersion);
}

/** Every penalty notice recorded for the pupil on other cases, plus this case's own (as it now stands). */
async function penaltyNoticeHistory(deps: ReferralDeps, r: Referral): Promise<PenaltyNoticeRecord[]> {
  const others = (await deps.referrals.ofPupil(r.upn)).filter((o) => o.id !== r.id);
  return [...others.flatMap((o) => penaltyNoticesOf(o)), ...penaltyNoticesOf(r)];
}

/** Append an action, an outcome (closes the case) or a note to the case as read at `expectedVersion`. */
export async function recordReferralEvent(
  deps: ReferralDeps,
  caller: Caller,
  input: { id: string; expectedVersion: number; event: z.infer<typeof ReferralEventBody> },
): Promise<Outcome<CaseAnswer>> {
  const { principal, audit } = caller;
  const body = input.event;
  const loaded = await visibleCase(deps, principal, input.id);
  if (!loaded) return refuse('not_found', 'No such referral.');
  const { referral } = loaded;
  if (body.kind !== 'note' && !can(principal, 'work_referrals')) {
    return refuse(
      'forbidden',
      "Only the LA's attendance team records actions and outcomes; a referrer may add a note.",
    );
  }
  if (referral.version !== input.expectedVersion) return staleRefusal(referral.version);
  const ctx = { actor: caseActorOf(principal), at: new Date().toISOString(), today: todayInEngland() };
  let change: Change;
  try {
    if (body.kind === 'note') change = addNote(referral, body.text, ctx);
    else if (body.kind === 'outcome')
      change = closeWithOutcome(referral, { type: body.type, summary: body.summary, date: body.date }, ctx);
    else {
      const { kind: _kind, ...action } = body;
      const history =
        action.type === 'penalty_notice_issued'
          ? await penaltyNoticeHistory(deps, referral)
          : penaltyNoticesOf(referral);
      change = recordAction(referral, action, {
        ...ctx,
        penaltyNoticeHistory: history,
        noticeToImprovePeriodDays: deps.settings().noticeToImprovePeriodDays,
      });
    }
  } catch (err) {
    if (err instanceof ReferralRuleError)
      audit.record({
        target: `referral:${referral.id}`,
        outcome: `refused:${err.code}`,
        upn: referral.upn,
        urn: referral.urn,
      });
    return ruleRefusal(err);
  }
  return save(deps, caller, change, input.expectedVersion);
}
