/**
 * The LA's other attendance duties end to end on the embedded engines (issue 20): new entries and
 * deletions with the statutory timing, children missing education after a deletion, part-time
 * timetables (C2), unexplained absences of children with a social worker, and a school's
 * looked-after pupils — each rule at its edges, and who may see what.
 *
 * Notification dates are the dates returns are received, so the timing scenarios are laid out in
 * school days back from today (weekdays that are not bank holidays; the schools' registers mark
 * every one of them, so the inferred calendars agree). The C2 and social-worker scenarios use fixed
 * dates in 2025/26.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, isWeekend, todayInEngland } from '../../shared/domain/dates.js';
import { englandAndWalesBankHolidays } from '../../shared/formats/bank-holidays.js';
import { returnCsv, upnFor, weekdays, type ReturnRowInput } from '../support/returns.js';
import { startTestService, type TestService } from './harness.js';

let svc: TestService;
let officer: string;
let schoolA: string;
let schoolB: string;
let vsh: string;
let admin: string;

const A = '100001'; // deletes and admits
const B = '100002'; // the destination school
const C = '100003'; // a primary's end of Year 6 (2025/26)
const SW = '100004'; // social-worker absences (2025/26)
const PT = '100005'; // part-time timetables (2025/26)
const OUT = '300001'; // outside the LA
const GIAS = [
  'URN,LA (code),EstablishmentNumber,EstablishmentName,PhaseOfEducation (name),TypeOfEstablishment (name),EstablishmentStatus (name)',
  `${A},999,2001,Brook Primary School,Primary,Community school,Open`,
  `${B},999,2002,Dale Primary School,Primary,Community school,Open`,
  `${C},999,2003,Hill Primary School,Primary,Community school,Open`,
  `${SW},999,4001,Vale Academy,Secondary,Academy converter,Open`,
  `${PT},999,4002,Moor Academy,Secondary,Academy converter,Open`,
  `${OUT},888,2009,Far Away Primary,Primary,Community school,Open`,
].join('\n');

// ---- School days back from today --------------------------------------------------------------------

const TODAY = todayInEngland();
const HOLIDAYS = englandAndWalesBankHolidays();
const isSchoolDay = (d: string) => !isWeekend(d) && !HOLIDAYS.has(d);
/** School days on or before today, latest first: back(n) has exactly n school days after it up to today. */
const SCHOOL_DAYS: string[] = [];
for (let d = TODAY; SCHOOL_DAYS.length < 30; d = addDays(d, -1)) if (isSchoolDay(d)) SCHOOL_DAYS.push(d);
const back = (n: number) => SCHOOL_DAYS[n];
const LATEST = back(0); // today when it is a school day
const between = (from: string, to: string) => weekdays(from, to).filter(isSchoolDay);
const FIRST = back(15);

/** A child of compulsory school age (nine today) and one not yet (four today). */
const DOB_NINE = `${Number(TODAY.slice(0, 4)) - 9}${TODAY.slice(4)}`.replace('-02-29', '-02-28');
const DOB_FOUR = `${Number(TODAY.slice(0, 4)) - 4}${TODAY.slice(4)}`.replace('-02-29', '-02-28');

const P1 = upnFor(1); // on roll throughout
const P2 = upnFor(2); // on roll throughout
const P3 = upnFor(3); // stops appearing three school days ago (a derived deletion)
const E5 = upnFor(5); // admitted on the fifth school day before today
const E6 = upnFor(6); // admitted on the sixth school day before today
const E0 = upnFor(7); // first listed three school days ago, no admission date (a derived entry)
const X = upnFor(10); // leaves today, notified today (on time)
const Y = upnFor(11); // left yesterday, notified today (late)
const M10 = upnFor(12); // left 11 school days ago for B; B lists them from the 10th school day after
const M11 = upnFor(13); // left 11 school days ago for B; B lists them only from the 11th
const MW = upnFor(14); // left 10 school days ago for B; not listed yet (still within ten days)
const MU = upnFor(15); // left yesterday, destination unknown
const MO = upnFor(16); // left yesterday for a school in another LA
const MH = upnFor(17); // left yesterday for elective home education
const MY = upnFor(18); // four years old, left yesterday, destination unknown
const Q1 = upnFor(30, '999', '2002'); // B's own pupil

const row = (urn: string, upn: string, date: string, extra: Record<string, string> = {}): ReturnRowInput => ({
  urn,
  upn,
  date,
  am: '/',
  pm: '/',
  year_group: '4',
  dob: DOB_NINE,
  ...extra,
});
const rows = (urn: string, upn: string, from: string, to: string, extra: Record<string, string> = {}) =>
  between(from, to).map((d) => row(urn, upn, d, extra));

async function upload(rowsIn: ReturnRowInput[], token = officer): Promise<string> {
  const res = await svc.request('POST', '/v1/returns', { token, body: returnCsv(rowsIn), contentType: 'text/csv' });
  expect(res.status).toBe(202);
  await svc.settle();
  return res.json().returnId as string;
}

async function get(path: string, token = officer) {
  const res = await svc.request('GET', path, { token });
  return res;
}

const byUpn = (items: Array<{ upn: string }>): Map<string, any> => new Map(items.map((i) => [i.upn, i]));

beforeAll(async () => {
  svc = await startTestService();
  [officer, schoolA, schoolB, vsh, admin] = await Promise.all([
    svc.token('la_officer'),
    svc.token('school', { urn: A }),
    svc.token('school', { urn: B }),
    svc.token('vsh'),
    svc.token('admin'),
  ]);
  expect((await svc.request('POST', '/v1/schools', { token: admin, body: GIAS, contentType: 'text/csv' })).status).toBe(
    200,
  );

  // School A, first return: its register up to yesterday (nobody's leaving date yet).
  const yesterday = back(1);
  await upload([
    ...rows(A, P1, FIRST, yesterday),
    ...rows(A, P2, FIRST, yesterday),
    ...rows(A, P3, FIRST, back(3)),
    ...rows(A, X, FIRST, yesterday),
    ...rows(A, Y, FIRST, yesterday),
    ...rows(A, M10, FIRST, back(11)),
    ...rows(A, M11, FIRST, back(11)),
    ...rows(A, MW, FIRST, back(10)),
    ...rows(A, MU, FIRST, yesterday),
    ...rows(A, MO, FIRST, yesterday),
    ...rows(A, MH, FIRST, yesterday),
    ...rows(A, MY, FIRST, yesterday, { year_group: 'R', dob: DOB_FOUR }),
  ]);
  // School A, today's return: the latest day, the new pupils, and the leavers with their leaving dates.
  const leaving = (
    upn: string,
    date: string,
    destination: string,
    ground = 'registered_at_another_school',
    extra: Record<string, string> = {},
  ) => row(A, upn, date, { leaving_date: date, deletion_ground: ground, destination, ...extra });
  await upload([
    row(A, P1, LATEST),
    row(A, P2, LATEST),
    ...rows(A, E5, back(5), LATEST, { admission_date: back(5) }),
    ...rows(A, E6, back(6), LATEST, { admission_date: back(6) }),
    ...rows(A, E0, back(3), LATEST),
    leaving(X, LATEST, B),
    leaving(Y, back(1), B),
    leaving(M10, back(11), B),
    leaving(M11, back(11), B),
    leaving(MW, back(10), B),
    leaving(MU, back(1), 'UNKNOWN', 'other'),
    leaving(MO, back(1), OUT),
    leaving(MH, back(1), 'EHE', 'elective_home_education'),
    leaving(MY, back(1), 'UNKNOWN', 'other', { year_group: 'R', dob: DOB_FOUR }),
  ]);
  // School B: its own pupil on every school day, and M10 from the tenth school day after M10 left A.
  await upload([...rows(B, Q1, FIRST, LATEST), ...rows(B, M10, back(1), LATEST, { admission_date: back(1) })]);
}, 240_000);

afterAll(async () => svc?.stop());

describe('new entries (notified within five school days of admission)', () => {
  it('counts a new entry notified on the fifth school day after admission as on time, and on the sixth as late', async () => {
    const res = await get(`/v1/admission-register/entries?urn=${A}`);
    expect(res.status).toBe(200);
    const items = byUpn(
      res.json().items as Array<{
        upn: string;
        entryDate: string;
        source: string;
        notifiedOn: string;
        schoolDaysToNotice: number;
        timeliness: string;
      }>,
    );
    expect(items.get(E5)).toMatchObject({
      entryDate: back(5),
      source: 'stated',
      notifiedOn: TODAY,
      schoolDaysToNotice: 5,
      timeliness: 'on_time',
    });
    expect(items.get(E6)).toMatchObject({
      entryDate: back(6),
      source: 'stated',
      notifiedOn: TODAY,
      schoolDaysToNotice: 6,
      timeliness: 'late',
    });
  });

  it('derives a new entry from a pupil who first appears on the register, and not from the pupils of the first register held', async () => {
    const items = byUpn((await get(`/v1/admission-register/entries?urn=${A}`)).json().items);
    expect(items.get(E0)).toMatchObject({
      entryDate: back(3),
      source: 'derived',
      schoolDaysToNotice: 3,
      timeliness: 'on_time',
    });
    expect([...items.keys()].sort()).toEqual([E5, E6, E0].sort());
  });
});

describe('deletions (notified no later than the leaving date)', () => {
  it('counts a deletion notified on the leaving date as on time and one notified the day after as late, with its ground and destination', async () => {
    const items = byUpn((await get(`/v1/admission-register/deletions?urn=${A}`)).json().items);
    expect(items.get(X)).toMatchObject({
      leavingDate: LATEST,
      source: 'stated',
      ground: 'registered_at_another_school',
      destination: B,
      timeliness: LATEST === TODAY ? 'on_time' : 'late',
      standardTransition: false,
    });
    expect(items.get(Y)).toMatchObject({ leavingDate: back(1), notifiedOn: TODAY, timeliness: 'late' });
  });

  it('derives a deletion from a pupil the school stops listing: the leaving date is the last date listed and the notice the next return', async () => {
    const items = byUpn((await get(`/v1/admission-register/deletions?urn=${A}`)).json().items);
    expect(items.get(P3)).toMatchObject({
      leavingDate: back(3),
      source: 'derived',
      ground: null,
      destination: null,
      notifiedOn: TODAY,
      timeliness: 'late',
    });
    expect(items.get(P3).cme).toMatchObject({ status: 'missing', flagged: true });
  });

  it('exempts a deletion at the end of Year 6 (a standard transition) but not a Year 5 pupil leaving the same day', async () => {
    const days = between('2026-07-13', '2026-07-22');
    const t6 = upnFor(40, '999', '2003');
    const t5 = upnFor(41, '999', '2003');
    const k5 = upnFor(42, '999', '2003');
    await upload([
      ...days.map((d) =>
        row(C, t6, d, {
          year_group: '6',
          ...(d === '2026-07-22' ? { leaving_date: d, deletion_ground: 'registered_at_another_school' } : {}),
        }),
      ),
      ...days.map((d) =>
        row(C, t5, d, {
          year_group: '5',
          ...(d === '2026-07-22' ? { leaving_date: d, deletion_ground: 'moved_away' } : {}),
        }),
      ),
      ...days.map((d) => row(C, k5, d, { year_group: '5' })),
    ]);
    const res = await get(`/v1/admission-register/deletions?urn=${C}&academicYear=2025`);
    const items = byUpn(res.json().items);
    expect(items.get(t6)).toMatchObject({ leavingDate: '2026-07-22', standardTransition: true, timeliness: 'exempt' });
    expect(items.get(t6).cme).toMatchObject({ status: 'standard_transition', flagged: false });
    expect(items.get(t5)).toMatchObject({ standardTransition: false, timeliness: 'late' });
    expect(items.has(k5)).toBe(false);
  });

  it('gives each school a timeliness figure: on time over on time and late, exemptions apart', async () => {
    const res = await get('/v1/admission-register/timeliness');
    const a = (
      res.json().items as Array<{
        urn: string;
        entries: { total: number; onTime: number; late: number; onTimeRate: number };
      }>
    ).find((i) => i.urn === A)!;
    expect(a.entries).toMatchObject({ total: 3, onTime: 2, late: 1 });
    expect(a.entries.onTimeRate).toBeCloseTo((2 / 3) * 100, 6);
    const csv = await svc.request('GET', '/v1/admission-register/timeliness', {
      token: officer,
      headers: { accept: 'text/csv' },
    });
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    expect(csv.text.split('\n')[0]).toContain('entriesOnTimeRate');
  });
});

describe('children missing education after a deletion', () => {
  it('clears a child whose destination school lists them on the tenth school day after they left, within ten days', async () => {
    const items = byUpn((await get(`/v1/admission-register/deletions?urn=${A}`)).json().items);
    expect(items.get(M10).cme).toMatchObject({
      status: 'listed',
      flagged: false,
      listedBy: B,
      listedFrom: back(1),
      schoolDaysToListing: 10,
      withinTenSchoolDays: true,
    });
  });

  it('flags a child their destination school has not listed by the tenth school day, and clears them when it lists them on the eleventh', async () => {
    const before = byUpn((await get('/v1/children-missing-education')).json().items);
    expect(before.get(M11)).toMatchObject({
      cme: { status: 'missing', flagged: true, listingDeadline: back(1) },
      suggestedReferralType: 'children_missing_education',
      hasOpenReferral: false,
    });
    expect(before.has(M10)).toBe(false);
    expect(before.has(MW)).toBe(false);

    await upload([row(B, M11, LATEST, { admission_date: LATEST })]);
    const after = byUpn((await get('/v1/children-missing-education')).json().items);
    expect(after.has(M11)).toBe(false);
    const deletion = byUpn((await get(`/v1/admission-register/deletions?urn=${A}`)).json().items).get(M11);
    expect(deletion.cme).toMatchObject({
      status: 'listed',
      listedBy: B,
      schoolDaysToListing: 11,
      withinTenSchoolDays: false,
    });
  });

  it('waits for the destination school up to and including the tenth school day', async () => {
    // MW left ten school days before the latest school day: today is the deadline (on a weekend it has passed).
    const status = LATEST === TODAY ? 'awaiting' : 'missing';
    const res = await get(`/v1/children-missing-education?status=${status}`);
    expect(byUpn(res.json().items).get(MW)).toMatchObject({
      cme: { status, flagged: status === 'missing', listingDeadline: LATEST },
    });
  });

  it('flags a compulsory-age child deleted to an unknown destination at once, lists an out-of-LA destination to confirm, and never flags home education or a four-year-old', async () => {
    const items = byUpn((await get('/v1/children-missing-education')).json().items);
    expect(items.get(MU)).toMatchObject({ destination: 'unknown', cme: { status: 'missing', flagged: true } });
    expect(items.get(MO)).toMatchObject({
      destination: OUT,
      cme: { status: 'confirm_with_other_la', flagged: false },
      suggestedReferralType: null,
    });
    expect(items.has(MH)).toBe(false);
    expect(items.has(MY)).toBe(false);
    const all = byUpn((await get(`/v1/admission-register/deletions?urn=${A}`)).json().items);
    expect(all.get(MH).cme.status).toBe('elective_home_education');
    expect(all.get(MY).cme.status).toBe('not_compulsory_school_age');
  });

  it('suggests a children_missing_education referral for each flagged child, and not for a child to confirm with another LA', async () => {
    const res = await get('/v1/referrals/suggestions?type=children_missing_education');
    expect(res.status).toBe(200);
    const items = byUpn(res.json().items);
    expect(items.get(MU)).toMatchObject({
      suggestedType: 'children_missing_education',
      urns: [A],
      reasons: [{ flag: 'children_missing_education', since: back(1), referralType: 'children_missing_education' }],
    });
    expect(items.get(P3)?.suggestedType).toBe('children_missing_education');
    expect(items.has(MO)).toBe(false);
    expect(items.has(MH)).toBe(false);
    // A school's suggestions do not read other schools' rolls.
    expect(byUpn((await get('/v1/referrals/suggestions', schoolA)).json().items).has(MU)).toBe(false);
  });
});

describe('part-time timetables (C2)', () => {
  beforeAll(async () => {
    const days = between('2025-09-08', '2025-10-24');
    const c6 = upnFor(50, '999', '4002');
    const c7 = upnFor(51, '999', '4002');
    const other = upnFor(52, '999', '4002');
    // c6: C2 every afternoon for exactly six school weeks (8 Sep – 17 Oct); c7: the same and one day more (Monday 20 Oct).
    await upload([
      ...days.map((d) => row(PT, c6, d, { year_group: '9', pm: d <= '2025-10-17' ? 'C2' : '/' })),
      ...days.map((d) => row(PT, c7, d, { year_group: '9', pm: d <= '2025-10-20' ? 'C2' : '/' })),
      ...days.map((d) => row(PT, other, d, { year_group: '9' })),
    ]);
  });

  it('does not flag a part-time timetable of exactly six school weeks, and flags six weeks and a day', async () => {
    const res = await get(`/v1/part-time-timetables?academicYear=2025&urn=${PT}`);
    expect(res.status).toBe(200);
    expect(res.json().reviewWeeks).toBe(6);
    const items = byUpn(res.json().items);
    expect(items.get(upnFor(50, '999', '4002'))).toMatchObject({
      start: '2025-09-08',
      latest: '2025-10-17',
      weeks: 6,
      c2Sessions: 30,
      sessionsPerWeek: 5,
      current: false,
      pastReviewLimit: false,
    });
    expect(items.get(upnFor(51, '999', '4002'))).toMatchObject({
      start: '2025-09-08',
      latest: '2025-10-20',
      weeks: 7,
      c2Sessions: 31,
      sessionsLatestWeek: 1,
      current: true,
      pastReviewLimit: true,
    });
    expect(items.has(upnFor(52, '999', '4002'))).toBe(false);
  });

  it('shows the part-time timetable on the pupil view', async () => {
    const res = await get(`/v1/pupils/${upnFor(51, '999', '4002')}?academicYear=2025`);
    expect(res.status).toBe(200);
    expect(res.json().partTimeTimetables).toEqual([
      expect.objectContaining({ urn: PT, start: '2025-09-08', weeks: 7, pastReviewLimit: true }),
    ]);
    expect(res.json().lookedAfter).toBe(false);
  });

  it('takes the review limit from the query when the LA asks for another', async () => {
    const res = await get(`/v1/part-time-timetables?academicYear=2025&urn=${PT}&reviewWeeks=7&pastReviewLimit=true`);
    expect(res.json().items).toEqual([]);
  });
});

describe('children with a social worker: unexplained absences', () => {
  const DAY = '2025-10-08';
  const inNeedO = upnFor(60, '999', '4001');
  const inNeedL = upnFor(61, '999', '4001');
  const protectedUnmarked = upnFor(62, '999', '4001');
  const noSocialWorker = upnFor(63, '999', '4001');
  beforeAll(async () => {
    await upload([
      { urn: SW, upn: inNeedO, date: DAY, am: 'O', pm: '/', cin: 'Y' },
      { urn: SW, upn: inNeedL, date: DAY, am: 'L', pm: '/', cin: 'Y' },
      { urn: SW, upn: protectedUnmarked, date: DAY, am: '/', pm: '', cpp: 'Y' },
      { urn: SW, upn: noSocialWorker, date: DAY, am: 'O', pm: 'O' },
    ]);
  });

  it('lists a child in need marked O, and not one marked L (late is present)', async () => {
    const res = await get(`/v1/social-worker-absences?date=${DAY}`);
    expect(res.status).toBe(200);
    const items = res.json().items as Array<{
      upn: string;
      session: string;
      code: string | null;
      reason: string;
      cohorts: string[];
      alertKey: string;
    }>;
    expect(items.filter((i) => i.upn === inNeedO)).toEqual([
      expect.objectContaining({
        session: 'AM',
        code: 'O',
        reason: 'unauthorised_no_reason',
        cohorts: ['cin'],
        alertKey: `${DAY}#AM#${inNeedO}#${SW}`,
      }),
    ]);
    expect(items.some((i) => i.upn === inNeedL)).toBe(false);
    expect(items.some((i) => i.upn === noSocialWorker)).toBe(false);
  });

  it('lists a child on a protection plan with no mark where one was due', async () => {
    const items = (await get(`/v1/social-worker-absences?date=${DAY}`, vsh)).json().items as Array<{
      upn: string;
      session: string;
      reason: string;
    }>;
    expect(items.filter((i) => i.upn === protectedUnmarked)).toEqual([
      expect.objectContaining({ session: 'PM', reason: 'not_marked' }),
    ]);
  });

  it("gives the Virtual School Head the social_worker cohort's metrics beside the other care cohorts", async () => {
    const res = await get(`/v1/metrics?groupBy=cohort&from=${DAY}&to=${DAY}`, vsh);
    expect(res.status).toBe(200);
    const rows = new Map(
      (
        res.json().items as Array<{ key: { cohort: string }; enrolments: number; unauthorisedAbsenceSessions: number }>
      ).map((r) => [r.key.cohort, r]),
    );
    // In need (O and L) and on a plan that day: three enrolments; the one O session is the only unauthorised absence.
    expect(rows.get('social_worker')).toMatchObject({ enrolments: 3, unauthorisedAbsenceSessions: 1 });
    expect(rows.get('cin')).toMatchObject({ enrolments: 2, unauthorisedAbsenceSessions: 1 });
  });

  it('is not for schools or the admin role', async () => {
    expect((await get(`/v1/social-worker-absences?date=${DAY}`, schoolA)).status).toBe(403);
    expect((await get(`/v1/social-worker-absences?date=${DAY}`, admin)).status).toBe(403);
  });
});

describe('who sees what', () => {
  it('shows a school only its own entries and deletions, without where a deleted child went since', async () => {
    expect((await get(`/v1/admission-register/entries?urn=${B}`, schoolA)).status).toBe(404);
    const own = await get('/v1/admission-register/deletions', schoolA);
    expect(own.status).toBe(200);
    const items = own.json().items as Array<{ urn: string; cme: unknown }>;
    expect(items.length).toBeGreaterThan(0);
    expect(items.every((i) => i.urn === A && i.cme === null)).toBe(true);
    expect((await get('/v1/part-time-timetables?academicYear=2025', schoolA)).json().items).toEqual([]);
    expect((await get(`/v1/part-time-timetables?academicYear=2025&urn=${PT}`, schoolA)).status).toBe(404);
  });

  it('keeps children missing education to LA officers', async () => {
    expect((await get('/v1/children-missing-education', schoolA)).status).toBe(403);
    expect((await get('/v1/children-missing-education', vsh)).status).toBe(403);
    expect((await get('/v1/admission-register/entries', vsh)).status).toBe(403);
  });

  it('audits each read', async () => {
    const res = await get(`/v1/audit?from=${addDays(TODAY, -1)}&to=${TODAY}&limit=500`, admin);
    const actions = new Set((res.json().items as Array<{ action: string }>).map((e) => e.action));
    for (const a of [
      'list_new_entries',
      'list_deletions',
      'list_children_missing_education',
      'list_part_time_timetables',
      'list_social_worker_absences',
    ])
      expect(actions).toContain(a);
  });
});

describe('schools know their looked-after pupils', () => {
  it('tells a school which of its pupils the LA looks after, and nothing of anyone else', async () => {
    const res = await svc.request('POST', '/v1/cohorts', {
      token: officer,
      body: `upn,cohort,start_date,end_date\n${P1},cla,2025-01-01,\n${Q1},cla,2025-01-01,\n${P2},cin,2025-01-01,\n`,
      contentType: 'text/csv',
    });
    expect(res.status).toBe(200);
    await svc.settle();
    const own = await get(`/v1/schools/${A}/looked-after-pupils`, schoolA);
    expect(own.status).toBe(200);
    expect(own.json().items).toEqual([{ upn: P1, forename: null, surname: null, yearGroup: '4', lookedAfter: true }]);
    expect((await get(`/v1/schools/${A}/looked-after-pupils`, schoolB)).status).toBe(404);
    const view = (await get(`/v1/pupils/${P1}`, schoolA)).json();
    expect(view).toMatchObject({ lookedAfter: true, partTimeTimetables: [] });
    expect((await get(`/v1/pupils/${P2}`, schoolA)).json().lookedAfter).toBe(false);
  });

  it("says on a school's pupil list which of its pupils the LA looks after (and only that)", async () => {
    // Both pupils absent (O) on four school days of their sixteen: persistently absent at school A.
    await upload(
      [back(2), back(3), back(4), back(5)].flatMap((d) => [
        row(A, P1, d, { am: 'O', pm: 'O' }),
        row(A, P2, d, { am: 'O', pm: 'O' }),
      ]),
    );
    const res = await get('/v1/pupils?flag=persistent_absence', schoolA);
    expect(res.status).toBe(200);
    const items = byUpn(res.json().items);
    expect(items.get(P1)).toMatchObject({ lookedAfter: true, cohorts: [] });
    expect(items.get(P2)).toMatchObject({ lookedAfter: false });
    const csv = await svc.request('GET', '/v1/pupils?flag=persistent_absence', {
      token: schoolA,
      headers: { accept: 'text/csv' },
    });
    expect(csv.text.split('\n')[0]).toContain('lookedAfter');
  });
});

describe('the return columns', () => {
  it('rejects a row with an unknown ground or a destination without a leaving date, naming the line and field', async () => {
    const returnId = await upload([
      row(A, P1, LATEST),
      row(A, P2, LATEST, { leaving_date: LATEST, deletion_ground: 'went_away' }),
      { ...row(A, P1, back(1)), destination: 'UNKNOWN' },
    ]);
    const status = (await get(`/v1/returns/${returnId}`)).json();
    expect(status.status).toBe('accepted_with_errors');
    expect(status.errors).toEqual([
      expect.objectContaining({ line: 3, field: 'deletion_ground', code: 'deletion_ground_value' }),
      expect.objectContaining({ line: 4, field: 'destination', code: 'deletion_without_leaving_date' }),
    ]);
  });

  it('documents the routes in the OpenAPI document', async () => {
    const doc = (await svc.request('GET', '/openapi.json')).json();
    for (const p of [
      '/v1/admission-register/entries',
      '/v1/admission-register/deletions',
      '/v1/admission-register/timeliness',
      '/v1/children-missing-education',
      '/v1/part-time-timetables',
      '/v1/social-worker-absences',
      '/v1/schools/{urn}/looked-after-pupils',
    ]) {
      expect(Object.keys(doc.paths)).toContain(p);
    }
  });
});

describe('schools outside the LA', () => {
  it('leaves a school outside the LA out of the LA-wide lists (it notifies its own LA), and shows it when asked by URN', async () => {
    const child = upnFor(70, '999', '2009');
    expect(
      (
        await svc.request('POST', '/v1/cohorts', {
          token: officer,
          body: `upn,cohort,start_date,end_date\n${child},cla,2025-01-01,\n`,
          contentType: 'text/csv',
        })
      ).status,
    ).toBe(200);
    await svc.settle();
    // The Virtual School sends the placed child's marks for the out-of-area school; first a baseline day, then the new admission.
    await upload([row(OUT, child, back(3)), row(OUT, child, back(2))], vsh);
    const later = upnFor(72, '999', '2009');
    expect(
      (
        await svc.request('POST', '/v1/cohorts', {
          token: officer,
          body: `upn,cohort,start_date,end_date\n${later},cla,2025-01-01,\n`,
          contentType: 'text/csv',
        })
      ).status,
    ).toBe(200);
    await svc.settle();
    await upload([row(OUT, later, back(1), { admission_date: back(1) }), row(OUT, child, back(1))], vsh);
    const all = (await get('/v1/admission-register/entries')).json().items as Array<{ urn: string }>;
    expect(all.some((e) => e.urn === OUT)).toBe(false);
    const asked = byUpn((await get(`/v1/admission-register/entries?urn=${OUT}`)).json().items);
    expect(asked.get(later)).toMatchObject({ urn: OUT, entryDate: back(1), timeliness: 'on_time' });
  });
});

describe('a CTF says the same', () => {
  it("takes a leaver's leaving date from the school's own SchoolHistory entry and a lost-pupil DestSchool (XXX) as unknown: a CME flag", async () => {
    const lost = upnFor(40);
    const from = back(2);
    const to = back(1);
    let marks = '';
    let days = 0;
    for (let d = from; d <= to; d = addDays(d, 1)) {
      if (isSchoolDay(d)) {
        marks += '/\\';
        days++;
      } else marks += '##';
    }
    const xml = [
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<CTfile>',
      '<Header>',
      '<CTFversion>25.0</CTFversion>',
      `<SourceSchool><LEA>999</LEA><Estab>2001</Estab><URN>${A}</URN></SourceSchool>`,
      '<DestSchool><LEA>XXX</LEA><Estab>XXXX</Estab></DestSchool>',
      '</Header>',
      '<CTFpupilData>',
      '<Pupil>',
      `<UPN>${lost}</UPN>`,
      `<DOB>${DOB_NINE}</DOB>`,
      '<BasicDetails><NCyearActual>4</NCyearActual></BasicDetails>',
      '<Attendance><YearData>',
      `<SessionsPossible>${2 * days}</SessionsPossible><SessionsAuthorised>0</SessionsAuthorised><SessionsAttended>${2 * days}</SessionsAttended><SessionsUnauthorised>0</SessionsUnauthorised>`,
      `<AttendSessions><AttendanceStartDate>${from}</AttendanceStartDate><AttendanceMarks>${marks}</AttendanceMarks></AttendSessions>`,
      '</YearData></Attendance>',
      `<SchoolHistory><School><LEA>999</LEA><Estab>2001</Estab><EntryDate>${from}</EntryDate><LeavingDate>${to}</LeavingDate><LeavingReason>moved_away</LeavingReason></School></SchoolHistory>`,
      '</Pupil>',
      '</CTFpupilData>',
      '</CTfile>',
      '',
    ].join('\n');
    const res = await svc.request('POST', '/v1/returns', { token: schoolA, body: xml, contentType: 'application/xml' });
    expect(res.status).toBe(202);
    await svc.settle();
    const deletion = byUpn((await get(`/v1/admission-register/deletions?urn=${A}&limit=500`)).json().items).get(lost);
    expect(deletion).toMatchObject({
      leavingDate: to,
      source: 'stated',
      ground: 'moved_away',
      destination: 'unknown',
      timeliness: 'late',
    });
    const cme = byUpn((await get('/v1/children-missing-education?limit=500')).json().items).get(lost);
    expect(cme).toMatchObject({
      destination: 'unknown',
      cme: { status: 'missing', flagged: true },
      suggestedReferralType: 'children_missing_education',
    });
  });
});
