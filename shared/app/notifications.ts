/**
 * The notification job as a use case (issue 19; docs/notifications.md): gather the day's facts from
 * the stores (the Virtual School's children, open cases, schools' latest returns against the LA's
 * cut-off, rejected returns) and the recipients (the people store), queue what each person chose —
 * immediate alerts on every run, the daily digest on the digest run — in the outbox (once per key),
 * then send whatever is pending or failed (up to MAX_ATTEMPTS). Running it twice sends nothing new.
 * The mailer is given: SES in AWS (shared/mail/ses-mailer.ts), files locally.
 */
import { inVirtualSchool } from '../domain/access.js';
import { isSchoolDay, schoolCalendar } from '../domain/calendar.js';
import { episodesOverlapping } from '../domain/cohorts.js';
import { academicYearEnd, academicYearOf, academicYearStart, addDays, todayInEngland } from '../domain/dates.js';
import {
  dailyDigests,
  notificationsFor,
  virtualSchoolFacts,
  type NotificationFacts,
  type Recipient,
} from '../domain/notifications.js';
import type { Enrolment } from '../domain/pupil-summary.js';
import { OPEN_STATUSES } from '../domain/referrals.js';
import { socialWorkerAbsences } from '../domain/social-worker-absences.js';
import type { VirtualSchoolChild } from '../domain/virtual-school.js';
import { calendarSourcesForSchools } from '../store/calendars.js';
import { loadCareIndex } from '../store/care.js';
import {
  childPseudonym,
  enqueue,
  ensureOutboxIndexed,
  getOutboxItem,
  isDue,
  listDue,
  markFailed,
  markSent,
} from '../store/outbox.js';
import { listPeople, recipientsOf } from '../store/people.js';
import { getEnrolmentsByKeys, getPupilEnrolments } from '../store/pupils.js';
import { listAllReferrals } from '../store/referrals.js';
import { returnsReceivedSince } from '../store/returns.js';
import { listSchools } from '../store/schools.js';
import { inParallel } from '../store/table.js';
import { laListAll } from '../store/la-lists.js';

// ---- Sending ---------------------------------------------------------------------------------------

export interface OutgoingMessage {
  to: string;
  subject: string;
  /** Shown by mail clients as the preview: the first line of the body. */
  preview: string;
  text: string;
  link: string;
  /** Idempotency: the outbox key, sent as a header so a receiving system can de-duplicate too. */
  key: string;
}

export interface Mailer {
  send(message: OutgoingMessage): Promise<{ messageId: string }>;
}

export interface JobResult {
  queued: number;
  alreadyQueued: number;
  sent: number;
  failed: number;
}

/** The facts with every child named by their pseudonym (the rules only tell children apart; keys then hold no UPN). */
async function pseudonymised(f: NotificationFacts): Promise<NotificationFacts> {
  const p = childPseudonym;
  return {
    ...f,
    ...(f.lookedAfterMarks
      ? { lookedAfterMarks: await Promise.all(f.lookedAfterMarks.map(async (m) => ({ ...m, upn: await p(m.upn) }))) }
      : {}),
    ...(f.noRegister
      ? { noRegister: await Promise.all(f.noRegister.map(async (c) => ({ ...c, upn: await p(c.upn) }))) }
      : {}),
    ...(f.continuousAbsence
      ? { continuousAbsence: await Promise.all(f.continuousAbsence.map(async (c) => ({ ...c, upn: await p(c.upn) }))) }
      : {}),
    // The list's alert keys name the child too (date#session#upn#urn).
    ...(f.socialWorkerAbsences
      ? {
          socialWorkerAbsences: await Promise.all(
            f.socialWorkerAbsences.map(async (a) => ({ ...a, upn: await p(a.upn), alertKey: await p(a.alertKey) })),
          ),
        }
      : {}),
  };
}

export async function runNotificationJob(input: {
  facts: NotificationFacts;
  recipients: readonly Recipient[];
  mailer: Mailer;
  digest?: boolean;
  now?: Date;
}): Promise<JobResult> {
  const at = (input.now ?? new Date()).toISOString();
  const all = notificationsFor(await pseudonymised(input.facts), input.recipients);
  const toQueue = [
    ...all.filter((n) => n.frequency === 'immediate'),
    ...(input.digest ? dailyDigests(all, input.facts.appUrl) : []),
  ];
  const result: JobResult = { queued: 0, alreadyQueued: 0, sent: 0, failed: 0 };
  const queued: string[] = [];
  for (const n of toQueue) {
    if (await enqueue(n, at)) {
      result.queued++;
      queued.push(n.key);
    } else result.alreadyQueued++;
  }
  // What earlier runs left pending or failed (oldest first) and what was queued now (the status index
  // may not show it yet); never the sent. Each is read again, consistently, just before it is sent: the index lags.
  const keys = [...new Set([...(await listDue()).map((i) => i.key), ...queued])];
  for (const key of keys) {
    const item = await getOutboxItem(key);
    if (!item || !isDue(item)) continue;
    try {
      const { messageId } = await input.mailer.send({
        to: item.email,
        subject: item.subject,
        preview: item.preview,
        text: item.body,
        link: item.link,
        key: item.key,
      });
      if (await markSent(item.key, new Date().toISOString(), messageId)) result.sent++;
    } catch (err) {
      await markFailed(item.key, (err as Error).message ?? String(err));
      result.failed++;
    }
  }
  return result;
}

// ---- Gathering the day's facts ---------------------------------------------------------------------

const LONDON_TIME = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

/** The time of day in England, HH:MM. */
function timeInEngland(now: Date): string {
  return LONDON_TIME.format(now);
}

/**
 * Every child the Virtual School holds for the year (as its roll does, functions/api/routes/virtual-school.ts):
 * anyone whose figures show one of its cohorts, and anyone in the LA's care lists for the year.
 */
async function virtualSchoolChildren(year: number): Promise<VirtualSchoolChild[]> {
  // The roll's own partition (shared/store/la-lists.ts): as many rows as the Virtual School's children.
  const [roll, care] = await Promise.all([laListAll(year, 'vs', {}), loadCareIndex()]);
  const rows = new Map(roll.filter((r) => inVirtualSchool(r.everCohorts)).map((r) => [r.upn, r]));
  const upns = new Set(rows.keys());
  for (const [upn, spans] of care)
    if (episodesOverlapping(spans, academicYearStart(year), academicYearEnd(year)).length > 0) upns.add(upn);
  const enrolments = new Map<string, Enrolment[]>();
  const keys = [...rows.values()].flatMap((r) => r.urns.map((urn) => ({ upn: r.upn, academicYear: year, urn })));
  for (const e of await getEnrolmentsByKeys(keys)) enrolments.set(e.upn, [...(enrolments.get(e.upn) ?? []), e]);
  // In the care lists but not (yet) in the year's pupil list: whatever is held.
  await inParallel(
    [...upns].filter((u) => !rows.has(u)),
    16,
    async (upn) => {
      enrolments.set(upn, await getPupilEnrolments(upn));
    },
  );
  return [...upns].sort().map((upn) => ({ upn, enrolments: enrolments.get(upn) ?? [], care: care.get(upn) ?? [] }));
}

/**
 * Schools expected to send a return for `date`: in the LA (out-of-area schools' returns come from the
 * Virtual School, not from them), open, known to the service (in the registry or having sent a
 * return), and with `date` a school day in their calendar.
 */
async function schoolsAndReturns(date: string): Promise<NonNullable<NotificationFacts['schools']>> {
  const schools = (await listSchools()).filter(
    (s) => !s.outOfArea && s.open !== false && (s.inRegistry || s.lastReturnAt),
  );
  const calendars = await calendarSourcesForSchools(
    schools.map((s) => s.urn),
    academicYearOf(date),
  );
  return schools.map((s) => {
    const sources = calendars.get(s.urn);
    return {
      urn: s.urn,
      name: s.name ?? null,
      latestDate: s.latestDate ?? null,
      expected: sources ? isSchoolDay(schoolCalendar(sources), date) : true,
    };
  });
}

/** Returns refused that were received on `date` (England), from any school. */
async function rejectedOn(date: string): Promise<NonNullable<NotificationFacts['rejectedReturns']>> {
  const out: NonNullable<NotificationFacts['rejectedReturns']> = [];
  // Midnight in England is 23:00 or 00:00 UTC: read from the evening before, keep the day's.
  const since = `${addDays(date, -1)}T23:00:00`;
  await inParallel(await listSchools(), 8, async (s) => {
    for (const r of await returnsReceivedSince(s.urn, since)) {
      if (r.status === 'rejected' && todayInEngland(new Date(r.receivedAt)) === date)
        out.push({ returnId: r.returnId, urn: r.urn, receivedAt: r.receivedAt });
    }
  });
  return out.sort((a, b) => (a.returnId < b.returnId ? -1 : 1));
}

/** Open cases with an assignee and a triage due date (those a due date can pass on). */
async function openCases(date: string): Promise<NonNullable<NotificationFacts['cases']>> {
  const items = await listAllReferrals({ status: 'submitted', today: date });
  return items
    .filter((c) => OPEN_STATUSES.includes(c.status) && c.triageDueOn)
    .map((c) => ({ id: c.id, status: c.status, assignee: c.assignee ?? null, triageDueOn: c.triageDueOn }));
}

/** The day's facts, as of `now`, from the stores. */
export async function gatherFacts(input: {
  now: Date;
  appUrl: string;
  returnCutOff: string;
}): Promise<NotificationFacts> {
  const date = todayInEngland(input.now);
  const [children, schools, rejectedReturns, cases] = await Promise.all([
    virtualSchoolChildren(academicYearOf(date)),
    schoolsAndReturns(date),
    rejectedOn(date),
    openCases(date),
  ]);
  // Children in need and on protection plans are in the Virtual School's cohorts too (issue 20's list).
  const swa = socialWorkerAbsences(date, children).map((a) => ({
    alertKey: a.alertKey,
    upn: a.upn,
    session: a.session,
    code: a.code ?? null,
    urn: a.urn,
  }));
  return {
    date,
    appUrl: input.appUrl,
    ...virtualSchoolFacts(date, children),
    socialWorkerAbsences: swa,
    cases,
    schools,
    rejectedReturns,
    returnCutOff: input.returnCutOff,
    timeNow: timeInEngland(input.now),
  };
}

export async function loadRecipients(): Promise<Recipient[]> {
  return recipientsOf(await listPeople());
}

/** One scheduled run: immediate alerts (every run) or those and the daily digest (the digest run). */
export async function runScheduledNotifications(input: {
  run: 'immediate' | 'digest';
  mailer: Mailer;
  appUrl: string;
  returnCutOff: string;
  now?: Date;
}): Promise<JobResult & { date: string }> {
  const now = input.now ?? new Date();
  await ensureOutboxIndexed(); // one read, once the outbox's older items have their index entries
  const [facts, recipients] = await Promise.all([
    gatherFacts({ now, appUrl: input.appUrl, returnCutOff: input.returnCutOff }),
    loadRecipients(),
  ]);
  const result = await runNotificationJob({
    facts,
    recipients,
    mailer: input.mailer,
    digest: input.run === 'digest',
    now,
  });
  return { ...result, date: facts.date };
}
