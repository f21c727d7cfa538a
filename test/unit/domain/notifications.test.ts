/**
 * Notification rules (issue 19): each alert fires for its condition and never for its near-miss, goes
 * only to whom it concerns and as they chose, carries no pupil name or UPN, and has a stable key.
 */
import { describe, expect, it } from 'vitest';
import {
  caseOverdue,
  dailyDigests,
  noRegisterSince,
  notificationsFor,
  virtualSchoolFacts,
  type NotificationFacts,
  type Recipient,
} from '../../../shared/domain/notifications.js';
import type { Enrolment } from '../../../shared/domain/pupil-summary.js';
import type { VirtualSchoolChild } from '../../../shared/domain/virtual-school.js';

const DATE = '2026-11-18';
const APP = 'https://hub.example.gov.uk';
const VSH: Recipient = { sub: 'vsh-1', role: 'vsh', email: 'vsh@la.example' };
const OFFICER: Recipient = { sub: 'officer-1', role: 'la_officer', email: 'o1@la.example' };
const OTHER_OFFICER: Recipient = { sub: 'officer-2', role: 'la_officer', email: 'o2@la.example' };
const SCHOOL: Recipient = { sub: 'school-100001', role: 'school', email: 'office@school.example', urn: '100001' };
const ALL = [VSH, OFFICER, OTHER_OFFICER, SCHOOL];
const UPN = 'A999200120011';

const facts = (f: Partial<NotificationFacts>): NotificationFacts => ({ date: DATE, appUrl: APP, ...f });
const kinds = (f: Partial<NotificationFacts>, recipients: Recipient[] = ALL) =>
  notificationsFor(facts(f), recipients).map((n) => `${n.kind}>${n.sub}`);

describe('Virtual School alerts', () => {
  it('fires for unexplained absence (N, O) and never for a late mark, authorised absence or presence', () => {
    expect(kinds({ lookedAfterMarks: [{ upn: UPN, session: 'AM', code: 'N', urn: '100001' }] })).toEqual([
      'vsh_unexplained_absence>vsh-1',
    ]);
    expect(kinds({ lookedAfterMarks: [{ upn: UPN, session: 'PM', code: 'O', urn: '100001' }] })).toEqual([
      'vsh_unexplained_absence>vsh-1',
    ]);
    for (const code of ['L', 'U', '/', '\\', 'I', 'M', 'G', 'B']) {
      expect(kinds({ lookedAfterMarks: [{ upn: UPN, session: 'AM', code, urn: '100001' }] }), code).toEqual([]);
    }
  });

  it('fires for a missing mark, a child on no register and 10 days of continuous absence', () => {
    expect(kinds({ lookedAfterMarks: [{ upn: UPN, session: 'AM', code: null, urn: '100001' }] })).toEqual([
      'vsh_unmarked>vsh-1',
    ]);
    expect(kinds({ noRegister: [{ upn: UPN, since: '2026-08-01' }] })).toEqual(['vsh_no_register>vsh-1']);
    expect(kinds({ continuousAbsence: [{ upn: UPN, since: '2026-11-04' }] })).toEqual(['vsh_continuous_absence>vsh-1']);
    expect(kinds({ noRegister: [], continuousAbsence: [] })).toEqual([]);
  });

  it("never puts a pupil's name or UPN in a subject, preview, body or link", () => {
    const all = notificationsFor(
      facts({
        lookedAfterMarks: [
          { upn: UPN, session: 'AM', code: 'N', urn: '100001' },
          { upn: UPN, session: 'PM', code: null, urn: '100001' },
        ],
        noRegister: [{ upn: UPN, since: '2026-08-01' }],
        continuousAbsence: [{ upn: UPN, since: '2026-11-04' }],
      }),
      ALL,
    );
    expect(all).toHaveLength(4);
    for (const n of all) for (const text of [n.subject, n.preview, n.body, n.link]) expect(text).not.toContain(UPN);
    expect(all.every((n) => n.link.startsWith(`${APP}/#/`))).toBe(true);
  });
});

describe('a child on no register', () => {
  const child = (care: VirtualSchoolChild['care']): VirtualSchoolChild => ({ upn: UPN, enrolments: [], care });
  const keysOn = (c: VirtualSchoolChild, date: string) =>
    notificationsFor({ date, appUrl: APP, ...virtualSchoolFacts(date, [c]) }, [VSH])
      .filter((n) => n.kind === 'vsh_no_register')
      .map((n) => n.key);

  it('is told once per run of days (keyed by its first day), not on every day it lasts', () => {
    const c = child([{ cohort: 'cla', start: '2026-10-05' }]);
    expect(noRegisterSince(c, '2026-11-18')).toBe('2026-10-05');
    const first = keysOn(c, '2026-11-18');
    expect(first).toHaveLength(1);
    expect(first[0]).toContain('2026-10-05'); // the run's first day, not the day told
    for (const later of ['2026-11-19', '2026-11-23', '2027-03-01']) expect(keysOn(c, later), later).toEqual(first);
  });

  it('starts a new run when the child comes back into the cohorts, or a new school year begins; never while on a register', () => {
    const back = child([
      { cohort: 'cla', start: '2026-09-01', end: '2026-09-30' },
      { cohort: 'cla', start: '2026-11-02' },
    ]);
    expect(noRegisterSince(back, '2026-09-15')).toBe('2026-09-01');
    expect(noRegisterSince(back, '2026-10-15')).toBeUndefined();
    expect(noRegisterSince(back, '2026-11-18')).toBe('2026-11-02');
    expect(keysOn(back, '2026-11-18')).not.toEqual(keysOn(back, '2026-09-15'));

    const always = child([{ cohort: 'cla', start: '2025-09-01' }]);
    expect(noRegisterSince(always, '2026-11-18')).toBe('2026-08-01');
    expect(keysOn(always, '2027-09-06')).not.toEqual(keysOn(always, '2027-07-01'));
    const registered = { ...always, enrolments: [{ academicYear: 2026 } as unknown as Enrolment] };
    expect(noRegisterSince(registered, '2026-11-18')).toBeUndefined();
  });
});

describe("an officer's overdue cases", () => {
  const base = { id: 'ref0000000001aaaaaaaaaaaa', status: 'submitted', assignee: 'officer-1' };

  it('fires the day after the due date, to the assignee only; not on the due date, not when due tomorrow', () => {
    expect(kinds({ cases: [{ ...base, triageDueOn: '2026-11-17' }] })).toEqual(['case_overdue>officer-1']);
    expect(kinds({ cases: [{ ...base, triageDueOn: DATE }] })).toEqual([]);
    expect(kinds({ cases: [{ ...base, triageDueOn: '2026-11-19' }] })).toEqual([]);
    expect(caseOverdue({ status: 'submitted', triageDueOn: '2026-11-19' }, DATE)).toBe(false);
  });

  it('does not fire once the case is triaged', () => {
    expect(kinds({ cases: [{ ...base, status: 'triaged', triageDueOn: '2026-11-10' }] })).toEqual([]);
  });

  it("tells every LA officer of an overdue case with no assignee (a submitted case has none: triage is the team's queue), and nobody else", () => {
    expect(kinds({ cases: [{ ...base, assignee: null, triageDueOn: '2026-11-10' }] })).toEqual([
      'case_overdue>officer-1',
      'case_overdue>officer-2',
    ]);
    expect(kinds({ cases: [{ ...base, assignee: null, triageDueOn: DATE }] })).toEqual([]);
  });
});

describe('returns', () => {
  const schools = [
    { urn: '100001', name: 'Alpha Primary', latestDate: '2026-11-17', expected: true },
    { urn: '100002', name: 'Beta Academy', latestDate: DATE, expected: true },
    { urn: '100003', name: 'Out of area', latestDate: null, expected: false },
  ];

  it("names the schools without today's return once the cut-off has passed, and not before it", () => {
    const after = notificationsFor(facts({ schools, returnCutOff: '10:00', timeNow: '10:00' }), ALL);
    expect(after.map((n) => `${n.kind}>${n.sub}`)).toEqual(['return_missing>officer-1', 'return_missing>officer-2']);
    expect(after[0].body).toContain('Alpha Primary (100001)');
    expect(after[0].body).not.toContain('Beta Academy');
    expect(kinds({ schools, returnCutOff: '10:00', timeNow: '09:59' })).toEqual([]);
  });

  it('tells the school that sent a rejected return, and no other school', () => {
    const rejected = [{ returnId: 'r0001', urn: '100001', receivedAt: '2026-11-18T08:12:00Z' }];
    expect(kinds({ rejectedReturns: rejected })).toEqual(['return_rejected>school-100001']);
    expect(kinds({ rejectedReturns: [{ ...rejected[0], urn: '100009' }] })).toEqual([]);
  });
});

describe('preferences, keys and digests', () => {
  const f = facts({
    lookedAfterMarks: [
      { upn: UPN, session: 'AM', code: 'N', urn: '100001' },
      { upn: UPN, session: 'PM', code: null, urn: '100001' },
    ],
  });

  it("follows each person's choice: off sends nothing, daily goes to the digest", () => {
    expect(
      notificationsFor(f, [{ ...VSH, preferences: { vsh_unexplained_absence: 'off', vsh_unmarked: 'off' } }]),
    ).toEqual([]);
    const daily = notificationsFor(f, [{ ...VSH, preferences: { vsh_unexplained_absence: 'daily' } }]);
    expect(daily.map((n) => n.frequency)).toEqual(['daily', 'daily']);
    const digests = dailyDigests(daily, APP);
    expect(digests).toHaveLength(1);
    expect(digests[0]).toMatchObject({ key: `digest:vsh-1:${DATE}`, preview: '2 items need you.' });
    expect(digests[0].body).not.toContain(UPN);
  });

  it('gives the same fact the same key every run, so the outbox sends it once', () => {
    const a = notificationsFor(f, [VSH]).map((n) => n.key);
    const b = notificationsFor(f, [VSH]).map((n) => n.key);
    expect(a).toEqual(b);
    expect(new Set(a).size).toBe(a.length);
  });
});

describe('social-worker absences (issue 20)', () => {
  const absence = (session: 'AM' | 'PM', code: string | null) => ({
    alertKey: `${DATE}#${session}#${UPN}#100001`,
    upn: UPN,
    session,
    code,
    urn: '100001',
  });

  it('tells LA officers and the VSH, never a school, and names no child', () => {
    const list = notificationsFor(facts({ socialWorkerAbsences: [absence('AM', 'O'), absence('PM', null)] }), ALL);
    expect(list.map((n) => `${n.kind}>${n.sub}`).sort()).toEqual([
      'social_worker_absence>officer-1',
      'social_worker_absence>officer-2',
      'social_worker_absence>vsh-1',
    ]);
    for (const n of list) {
      expect(`${n.subject} ${n.preview} ${n.body} ${n.link}`).not.toContain(UPN);
      expect(n.link).toBe(`${APP}/#/duties/social-worker?date=${DATE}`);
      expect(n.preview).toContain('1 child');
      expect(n.preview).toContain('2 sessions');
    }
  });

  it('sends nothing for a day without one, and the same key for the same list', () => {
    expect(kinds({ socialWorkerAbsences: [] })).toEqual([]);
    const a = notificationsFor(facts({ socialWorkerAbsences: [absence('AM', 'O')] }), [VSH])[0].key;
    expect(notificationsFor(facts({ socialWorkerAbsences: [absence('AM', 'O')] }), [VSH])[0].key).toBe(a);
    expect(
      notificationsFor(facts({ socialWorkerAbsences: [absence('AM', 'O'), absence('PM', 'O')] }), [VSH])[0].key,
    ).not.toBe(a);
  });
});
