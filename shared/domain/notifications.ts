/**
 * Alerts that reach people (issue 19): which notifications a day's facts call for, to whom, how
 * often, and with what words. Pure: the job that gathers the facts and the mailer that sends (SES in
 * AWS, an outbox locally) are elsewhere.
 *
 * Rules:
 * - VSH: a looked-after child's **unexplained absence** today (N, no reason yet; O, unauthorised with
 *   no other reason) — never a late mark (L, U), an authorised absence or a present mark; a session
 *   **not marked**; a child **on no register**; **10 school days of continuous absence**.
 * - LA officer: cases **past the triage due date** (overdue from the day after it; a case due
 *   tomorrow or today is not overdue): the assignee's, or every officer's while the case is unassigned
 *   (a submitted case always is: triage is the team's queue).
 * - LA (officers): schools that have **not sent today's return** by the cut-off the LA sets.
 * - School: a **rejected return**.
 * - LA officers (standing in for the children's social care team) and the VSH: the day's
 *   **unexplained absences of children with a social worker** (issue 20: in need or on a protection
 *   plan, marked O or not marked where a mark was due; docs/duties.md), as `GET /v1/social-worker-absences` lists them.
 *
 * Special-category data: no subject line or preview carries a pupil's name or UPN, and neither does
 * the body or the link (links go to the app's lists or to a case by its id; the app asks for sign-in).
 * Every notification has a key that names its fact, so sending it twice is detectable: the outbox
 * accepts a key once.
 */
import type { Role } from './access.js';
import { CODE_OF_CHAR, isAbsence, isLate, isPossible, NO_MARK, UNMARKED } from './codes.js';
import { COHORT_BIT } from './cohorts.js';
import { academicYearOf, addDays, dateOfAcademicDay, dayOfAcademicYear } from './dates.js';
import {
  careMasks,
  dailyAlerts,
  DEFAULT_NEW_IN_CARE_DAYS,
  groupBits,
  type VirtualSchoolChild,
} from './virtual-school.js';

export const NOTIFICATION_KINDS = [
  'vsh_unexplained_absence',
  'vsh_unmarked',
  'vsh_no_register',
  'vsh_continuous_absence',
  'case_overdue',
  'return_missing',
  'return_rejected',
  'social_worker_absence',
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];
export type Frequency = 'immediate' | 'daily' | 'off';

/** Who may receive each kind (others never do, whatever they choose). */
const KIND_ROLES: Readonly<Record<NotificationKind, readonly Role[]>> = {
  vsh_unexplained_absence: ['vsh'],
  vsh_unmarked: ['vsh'],
  vsh_no_register: ['vsh'],
  vsh_continuous_absence: ['vsh'],
  case_overdue: ['la_officer'],
  return_missing: ['la_officer'],
  return_rejected: ['school'],
  social_worker_absence: ['la_officer', 'vsh'],
};

/** The kinds of notification a person in this role receives (whatever they choose, no other kind reaches them). */
export function kindsReceivedBy(p: { role: Role }): NotificationKind[] {
  return NOTIFICATION_KINDS.filter((kind) => KIND_ROLES[kind].includes(p.role));
}

/** What a person gets when they have not chosen: what needs them today at once, the rest in the digest. */
export const DEFAULT_FREQUENCY: Readonly<Record<NotificationKind, Frequency>> = {
  vsh_unexplained_absence: 'immediate',
  vsh_unmarked: 'daily',
  vsh_no_register: 'immediate',
  vsh_continuous_absence: 'immediate',
  case_overdue: 'daily',
  return_missing: 'immediate',
  return_rejected: 'immediate',
  social_worker_absence: 'immediate',
};

/** Unexplained absence: no reason yet (N) or unauthorised for no other reason (O). Late (L, U) is not absence here. */
const UNEXPLAINED_CODES: ReadonlySet<string> = new Set(['N', 'O']);

export interface Recipient {
  sub: string;
  role: Role;
  email: string;
  urn?: string;
  preferences?: Partial<Record<NotificationKind, Frequency>>;
}

export interface NotificationFacts {
  /** The day the facts are about (England). */
  date: string;
  /** The app's address, for links (no trailing slash). */
  appUrl: string;
  /** Looked-after children's marks on `date` (the Virtual School's alerts and register rows). */
  lookedAfterMarks?: Array<{ upn: string; session: 'AM' | 'PM'; code: string | null; urn: string }>;
  /** Children in the Virtual School's cohorts on no school's register (the run's first day: noRegisterSince). */
  noRegister?: Array<{ upn: string; since: string }>;
  /** Looked-after children with 10 school days of continuous absence (the run's first day). */
  continuousAbsence?: Array<{ upn: string; since: string }>;
  /** Open cases: their assignee and triage due date (a case is overdue while submitted after it). */
  cases?: Array<{ id: string; status: string; assignee: string | null; triageDueOn: string }>;
  /** In-area schools expected to send a return for `date`, and the latest date each has sent. */
  schools?: Array<{ urn: string; name: string | null; latestDate: string | null; expected: boolean }>;
  /** The LA's cut-off for today's return ("HH:MM", England) and the time now in England ("HH:MM"). */
  returnCutOff?: string;
  timeNow?: string;
  /** Returns refused (status rejected) and the school that sent each. */
  rejectedReturns?: Array<{ returnId: string; urn: string; receivedAt: string }>;
  /** The day's unexplained absences of children with a social worker: the items of `GET /v1/social-worker-absences` (issue 20). */
  socialWorkerAbsences?: Array<{
    alertKey: string;
    upn: string;
    session: 'AM' | 'PM';
    code: string | null;
    urn: string;
  }>;
}

export interface Notification {
  /** Names the fact and the recipient: the outbox accepts a key once. */
  key: string;
  kind: NotificationKind;
  sub: string;
  email: string;
  frequency: Exclude<Frequency, 'off'>;
  date: string;
  subject: string;
  /** The first line a mail client shows. */
  preview: string;
  body: string;
  link: string;
}

function frequencyFor(r: Recipient, kind: NotificationKind): Frequency {
  if (!KIND_ROLES[kind].includes(r.role)) return 'off';
  return r.preferences?.[kind] ?? DEFAULT_FREQUENCY[kind];
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** An open case is overdue while still submitted after its triage due date (docs/referrals.md). */
export function caseOverdue(c: { status: string; triageDueOn: string }, date: string): boolean {
  return c.status === 'submitted' && date > c.triageDueOn;
}

interface Draft {
  kind: NotificationKind;
  fact: string;
  subject: string;
  preview: string;
  body: string;
  path: string;
  for: (r: Recipient) => boolean;
}

function drafts(f: NotificationFacts): Draft[] {
  const out: Draft[] = [];
  const vsh = (r: Recipient) => r.role === 'vsh';
  const officer = (r: Recipient) => r.role === 'la_officer';

  const unexplained = (f.lookedAfterMarks ?? []).filter((m) => m.code !== null && UNEXPLAINED_CODES.has(m.code));
  const unexplainedChildren = new Set(unexplained.map((m) => m.upn));
  if (unexplainedChildren.size) {
    out.push({
      kind: 'vsh_unexplained_absence',
      fact: `${f.date}:${[...unexplainedChildren].sort().join(',')}`,
      for: vsh,
      path: `#/virtual-school?date=${f.date}`,
      subject: `Looked-after children: unexplained absence on ${f.date}`,
      preview: `${plural(unexplainedChildren.size, 'looked-after child', 'looked-after children')} absent with no reason given (${plural(unexplained.length, 'session')}).`,
      body: `${plural(unexplainedChildren.size, 'looked-after child', 'looked-after children')} had an absence with no reason given (code N or O) on ${f.date}, ${plural(unexplained.length, 'session')} in all. See who and where in Attendance Hub.`,
    });
  }
  const unmarked = (f.lookedAfterMarks ?? []).filter((m) => m.code === null);
  if (unmarked.length) {
    out.push({
      kind: 'vsh_unmarked',
      fact: `${f.date}:${unmarked
        .map((m) => `${m.upn}${m.session}`)
        .sort()
        .join(',')}`,
      for: vsh,
      path: `#/virtual-school?date=${f.date}`,
      subject: `Looked-after children: sessions not marked on ${f.date}`,
      preview: `${plural(unmarked.length, 'session')} of looked-after children not yet marked.`,
      body: `${plural(unmarked.length, 'session')} of looked-after children on ${f.date} had no mark in the school's return. See which in Attendance Hub.`,
    });
  }
  for (const c of f.noRegister ?? []) {
    // Once per child and run (keyed by the run's first day, as a continuous absence is), not every
    // day it lasts: the roll shows who is still on no register; the words never name the child.
    out.push({
      kind: 'vsh_no_register',
      fact: `${c.since}:${c.upn}`,
      for: vsh,
      path: '#/virtual-school',
      subject: 'A child in the Virtual School is on no school register',
      preview: `A child in the Virtual School’s cohorts has been on no school’s register since ${c.since}.`,
      body: `A child in the Virtual School's cohorts has been on no school's register since ${c.since} (as of ${f.date}). You are told once; the roll in Attendance Hub lists everyone still on no register ("On no register").`,
    });
  }
  for (const c of f.continuousAbsence ?? []) {
    out.push({
      kind: 'vsh_continuous_absence',
      fact: `${c.since}:${c.upn}`,
      for: vsh,
      path: '#/virtual-school',
      subject: 'A looked-after child has been absent for 10 school days',
      preview: `A looked-after child has been absent every school day since ${c.since}.`,
      body: `A looked-after child has 10 school days of continuous absence, from ${c.since}. See the roll in Attendance Hub.`,
    });
  }
  for (const c of f.cases ?? []) {
    if (!caseOverdue(c, f.date)) continue;
    // A submitted case has no assignee yet (one is given only at allocation, shared/domain/referrals.ts):
    // its triage is the LA officers' queue, so each is told; a case with an assignee, only them.
    const assignee = c.assignee;
    out.push({
      kind: 'case_overdue',
      fact: `${c.id}:${c.triageDueOn}`,
      for: (r) => officer(r) && (assignee === null || r.sub === assignee),
      path: `#/cases/${c.id}`,
      subject: `Case ${c.id} is past its triage due date`,
      preview: `Due for triage on ${c.triageDueOn}; still submitted.`,
      body: `Case ${c.id} was due for triage on ${c.triageDueOn} and is still submitted. Open it in Attendance Hub.`,
    });
  }
  if (f.returnCutOff && f.timeNow && f.timeNow >= f.returnCutOff) {
    const missing = (f.schools ?? []).filter((s) => s.expected && (s.latestDate === null || s.latestDate < f.date));
    if (missing.length) {
      out.push({
        kind: 'return_missing',
        fact: `${f.date}:${missing
          .map((s) => s.urn)
          .sort()
          .join(',')}`,
        for: officer,
        path: '#/schools',
        subject: `${plural(missing.length, 'school')} without today's return at ${f.returnCutOff}`,
        preview:
          missing
            .map((s) => s.name ?? `URN ${s.urn}`)
            .slice(0, 5)
            .join(', ') + (missing.length > 5 ? ` and ${missing.length - 5} more` : ''),
        body: `By the cut-off (${f.returnCutOff}) these schools had not sent their return for ${f.date}: ${missing.map((s) => `${s.name ?? 'URN'} (${s.urn})`).join(', ')}.`,
      });
    }
  }
  const swa = f.socialWorkerAbsences ?? [];
  if (swa.length) {
    // Keyed by the list's alert keys: a later return that adds a session sends again; the same list never.
    const children = new Set(swa.map((a) => a.upn)).size;
    out.push({
      kind: 'social_worker_absence',
      fact: `${f.date}:${swa
        .map((a) => a.alertKey)
        .sort()
        .join(',')}`,
      for: (r) => officer(r) || vsh(r),
      path: `#/duties/social-worker?date=${f.date}`,
      subject: `Children with a social worker: unexplained absence on ${f.date}`,
      preview: `${plural(children, 'child', 'children')} in need or on a protection plan absent with no reason known or not marked (${plural(swa.length, 'session')}).`,
      body: `${plural(children, 'child', 'children')} in need or on a child protection plan had an unexplained absence (code O, or no mark where one was due) on ${f.date}, ${plural(swa.length, 'session')} in all. Their social workers should hear of it. See who and where in Attendance Hub.`,
    });
  }
  for (const r of f.rejectedReturns ?? []) {
    out.push({
      kind: 'return_rejected',
      fact: r.returnId,
      for: (p) => p.role === 'school' && p.urn === r.urn,
      path: `#/returns/${r.returnId}`,
      subject: 'Your attendance return was rejected',
      preview: `Return ${r.returnId}, received ${r.receivedAt.slice(0, 16).replace('T', ' ')}, was not accepted.`,
      body: `Return ${r.returnId} was not accepted. See why, line by line, in Attendance Hub, then send it again.`,
    });
  }
  return out;
}

/** Every notification the facts call for, for each recipient who wants it (immediate or for the digest). */
export function notificationsFor(facts: NotificationFacts, recipients: readonly Recipient[]): Notification[] {
  const out: Notification[] = [];
  for (const d of drafts(facts)) {
    for (const r of recipients) {
      if (!d.for(r)) continue;
      const frequency = frequencyFor(r, d.kind);
      if (frequency === 'off') continue;
      out.push({
        key: `${d.kind}:${r.sub}:${d.fact}`,
        kind: d.kind,
        sub: r.sub,
        email: r.email,
        frequency,
        date: facts.date,
        subject: d.subject,
        preview: d.preview,
        body: d.body,
        link: `${facts.appUrl}/${d.path}`,
      });
    }
  }
  return out;
}

/** One digest per person and day from their "daily" notifications (none when there are none). */
export function dailyDigests(items: readonly Notification[], appUrl: string): Notification[] {
  const by = new Map<string, Notification[]>();
  for (const n of items) {
    if (n.frequency !== 'daily') continue;
    const k = `${n.sub}\u0000${n.date}`;
    by.set(k, [...(by.get(k) ?? []), n]);
  }
  return [...by.values()].map((list) => {
    const first = list[0];
    return {
      key: `digest:${first.sub}:${first.date}`,
      kind: first.kind,
      sub: first.sub,
      email: first.email,
      frequency: 'daily',
      date: first.date,
      subject: `Attendance Hub: your daily summary for ${first.date}`,
      preview: `${plural(list.length, 'item')} need${list.length === 1 ? 's' : ''} you.`,
      body: list.map((n) => `- ${n.subject}: ${n.body} ${n.link}`).join('\n'),
      link: `${appUrl}/#/`,
    };
  });
}

// ---- The Virtual School's facts ------------------------------------------------------------------

/** School days of continuous absence that call for `vsh_continuous_absence`. */
const CONTINUOUS_ABSENCE_DAYS = 10;

/**
 * The first day of a looked-after child's run of continuous absence that reaches `date`, when it is
 * at least `days` school days long: every marked session of each school day an absence (late, L or U,
 * is not absence); a day with no row (weekend, holiday, not on a roll that day) or a non-possible mark
 * only (X, Z…) neither breaks nor extends the run; a present or unmarked session ends it. Within one
 * academic year.
 */
function continuousAbsenceSince(
  child: VirtualSchoolChild,
  date: string,
  days = CONTINUOUS_ABSENCE_DAYS,
): string | undefined {
  const year = academicYearOf(date);
  const enrolments = child.enrolments.filter((e) => e.academicYear === year);
  let count = 0;
  let since: string | undefined;
  for (let d = dayOfAcademicYear(date), at = date; d >= 0; d--, at = addDays(at, -1)) {
    let absent = 0;
    let broken = false;
    for (const e of enrolments) {
      for (const ch of [e.marks[d * 2], e.marks[d * 2 + 1]]) {
        if (ch === undefined || ch === NO_MARK) continue;
        const code = ch === UNMARKED ? undefined : CODE_OF_CHAR[ch];
        if (code !== undefined && isAbsence(code) && !isLate(code)) absent++;
        else if (code === undefined || isPossible(code)) broken = true;
      }
    }
    if (broken) break;
    if (absent === 0) {
      if (at === date) return undefined; // the run must reach the day asked about
      continue;
    }
    count++;
    since = at;
  }
  return count >= days ? since : undefined;
}

/**
 * The first day of the run, reaching `date`, on which a child has been in the Virtual School's cohorts
 * and on no school's register this school year: the day they came into the cohorts, or the year's
 * first day. Undefined when they are on a register this year or not in the cohorts on `date`. A child
 * who leaves the cohorts and comes back still unregistered starts a new run; so does a new school year.
 */
export function noRegisterSince(child: VirtualSchoolChild, date: string): string | undefined {
  const year = academicYearOf(date);
  if (child.enrolments.some((e) => e.academicYear === year)) return undefined;
  const masks = careMasks(child, year);
  const any = groupBits('any');
  let day = dayOfAcademicYear(date);
  if ((masks[day] & any) === 0) return undefined;
  while (day > 0 && (masks[day - 1] & any) !== 0) day--;
  return dateOfAcademicDay(year, day);
}

/**
 * The Virtual School's part of a day's facts, from its children (docs/design.md §1): looked-after
 * children's marks that day (absences and sessions not marked, from the daily alerts), children in
 * its cohorts that day on no school's register this year, and looked-after children absent for
 * CONTINUOUS_ABSENCE_DAYS school days.
 */
export function virtualSchoolFacts(
  date: string,
  children: readonly VirtualSchoolChild[],
): Pick<NotificationFacts, 'lookedAfterMarks' | 'noRegister' | 'continuousAbsence'> {
  const year = academicYearOf(date);
  const day = dayOfAcademicYear(date);
  const lookedAfterMarks: NonNullable<NotificationFacts['lookedAfterMarks']> = [];
  for (const a of dailyAlerts(date, children, { newInCareDays: DEFAULT_NEW_IN_CARE_DAYS })) {
    if (!a.urn || !a.session) continue;
    if (a.type === 'absence' && a.code)
      lookedAfterMarks.push({ upn: a.upn, session: a.session, code: a.code, urn: a.urn });
    else if (a.type === 'unmarked') lookedAfterMarks.push({ upn: a.upn, session: a.session, code: null, urn: a.urn });
  }
  const noRegister: NonNullable<NotificationFacts['noRegister']> = [];
  const continuousAbsence: Array<{ upn: string; since: string }> = [];
  for (const child of children) {
    const mask = careMasks(child, year)[day];
    if ((mask & groupBits('any')) === 0) continue;
    const unregistered = noRegisterSince(child, date);
    if (unregistered) noRegister.push({ upn: child.upn, since: unregistered });
    if ((mask & COHORT_BIT.cla) === 0) continue;
    const since = continuousAbsenceSince(child, date);
    if (since) continuousAbsence.push({ upn: child.upn, since });
  }
  return { lookedAfterMarks, noRegister, continuousAbsence };
}
