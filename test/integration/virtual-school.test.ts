/**
 * The Virtual School end to end: looked-after children at schools in and out of the LA, returns the
 * Virtual School sends for out-of-area schools, its metrics against an independent recomputation from
 * the rows uploaded and the care episodes, a child entering care mid-year, the daily alerts of a
 * small hand-built scenario, and the termly PEP summary.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from './harness.js';
import { returnCsv, upnFor, weekdays } from '../support/returns.js';

let svc: TestService;
let admin: string;
let officer: string;
let vsh: string;

const IN_A = '100001';
const IN_B = '100002';
const IN_C = '100003';
const OUT_A = '300001';
const OUT_B = '300002';
const OUT_OF_AREA = new Set([OUT_A, OUT_B]);
const GIAS = [
  'URN,LA (code),EstablishmentNumber,EstablishmentName,PhaseOfEducation (name),TypeOfEstablishment (name),EstablishmentStatus (name)',
  `${IN_A},999,2001,Brook Primary School,Primary,Community school,Open`,
  `${IN_B},999,4001,Hill Academy,Secondary,Academy converter,Open`,
  `${IN_C},999,2002,Dale Primary School,Primary,Community school,Open`,
  `${OUT_A},888,2003,Far Away Primary,Primary,Community school,Open`,
  `${OUT_B},877,4002,Coast Academy,Secondary,Academy converter,Open`,
].join('\n');

// The children. Alerts are about Wednesday 24 September 2025.
const ALERT_DATE = '2025-09-24';
const A = upnFor(1); // looked after all year, Brook Primary
const B = upnFor(2); // looked after, placed out of area (Far Away Primary): the Virtual School sends the marks
const C = upnFor(3); // enters care on Monday 15 September, Hill Academy
const D = upnFor(4); // never in any cohort, Brook Primary
const E = upnFor(5); // child in need, Hill Academy
const F = upnFor(6); // never in any cohort: the Virtual School may not send marks for them
const G = upnFor(7); // protection plan, placed out of area (Coast Academy)
const H = upnFor(8); // enters care 22 September; Dale Primary's returns stop on the 19th
const I = upnFor(9); // enters care 22 September; Brook Primary has sent returns since
const J = upnFor(10); // looked after from 1 September, on no register
const K = upnFor(11); // looked after since June, a placement change on 22 September, on no register
const L = upnFor(12); // enters care 23 September, on no register
const M = upnFor(13); // Hill Academy itself reports the child looked after from 10 September (no LA episode)
const P = upnFor(14); // previously looked after, Brook Primary
const NOBODY = upnFor(99);

interface Episode {
  upn: string;
  cohort: 'cla' | 'cin' | 'cpp' | 'plac';
  start: string;
  end?: string;
}
const EPISODES: Episode[] = [
  { upn: A, cohort: 'cla', start: '2025-06-01' },
  { upn: B, cohort: 'cla', start: '2025-06-01' },
  { upn: C, cohort: 'cla', start: '2025-09-15' },
  { upn: E, cohort: 'cin', start: '2025-07-01' },
  { upn: G, cohort: 'cpp', start: '2025-09-01', end: '2025-12-31' },
  { upn: H, cohort: 'cla', start: '2025-09-22' },
  { upn: I, cohort: 'cla', start: '2025-09-22' },
  { upn: J, cohort: 'cla', start: '2025-09-01' },
  { upn: K, cohort: 'cla', start: '2025-06-01', end: '2025-09-21' },
  { upn: K, cohort: 'cla', start: '2025-09-22' },
  { upn: L, cohort: 'cla', start: '2025-09-23' },
  { upn: P, cohort: 'plac', start: '2025-03-01' },
];

interface Row {
  urn: string;
  upn: string;
  date: string;
  am: string;
  pm: string;
  year_group: string;
  cla?: string;
}
/** Every row applied to a register (the Virtual School's rejected row is not here). */
const applied: Row[] = [];

const ABSENCE_CODES = ['N', 'I', 'G', 'M', 'U', 'C', 'O', 'R'];
/** A deterministic register: `level` in 20 sessions absent, some late. */
function generated(p: number, level: number, date: string, dayIndex: number, session: 0 | 1): string {
  if ((p * 7 + dayIndex * 3 + session * 5) % 20 < level)
    return ABSENCE_CODES[(p + dayIndex + session) % ABSENCE_CODES.length];
  return (dayIndex + session + p) % 9 === 0 ? 'L' : '/';
}

function rowsFor(
  p: number,
  upn: string,
  urn: string,
  level: number,
  yearGroup: string,
  dates: string[],
  planted: Record<string, [string, string]> = {},
): Row[] {
  return dates.map((date, i) => {
    const [am, pm] = planted[date] ?? [generated(p, level, date, i, 0), generated(p, level, date, i, 1)];
    return { urn, upn, date, am, pm, year_group: yearGroup };
  });
}

const SEPT = weekdays('2025-09-01', '2025-09-26');

async function upload(token: string, rows: Row[]) {
  const res = await svc.request('POST', '/v1/returns', {
    token,
    body: returnCsv(rows as never),
    contentType: 'text/csv',
  });
  await svc.settle();
  return res;
}

let vshUpload: { status: number; returnId: string; rows: number };

beforeAll(async () => {
  svc = await startTestService();
  admin = await svc.token('admin');
  officer = await svc.token('la_officer');
  vsh = await svc.token('vsh', { sub: 'virtual-school-head' });

  expect((await svc.request('POST', '/v1/schools', { token: admin, body: GIAS, contentType: 'text/csv' })).status).toBe(
    200,
  );
  const cohortCsv = [
    'upn,cohort,start_date,end_date',
    ...EPISODES.map((e) => `${e.upn},${e.cohort},${e.start},${e.end ?? ''}`),
  ].join('\n');
  const imported = await svc.request('POST', '/v1/cohorts', {
    token: officer,
    body: cohortCsv,
    contentType: 'text/csv',
  });
  expect(imported.json().counts).toEqual({ records: EPISODES.length, accepted: EPISODES.length, rejected: 0 });

  // Brook Primary (in the LA).
  const brook = [
    ...rowsFor(1, A, IN_A, 2, '5', SEPT, { [ALERT_DATE]: ['N', '/'] }),
    ...rowsFor(4, D, IN_A, 7, '5', SEPT, { [ALERT_DATE]: ['N', 'N'] }),
    ...rowsFor(9, I, IN_A, 1, '6', SEPT, { [ALERT_DATE]: ['/', '/'] }),
    ...rowsFor(14, P, IN_A, 3, '2', SEPT, { [ALERT_DATE]: ['E', '/'] }),
  ];
  // Hill Academy: C absent (N) the week before care began, one session not yet marked on the alert date;
  // M flagged looked after by the school from 10 September.
  const cPlanted: Record<string, [string, string]> = { [ALERT_DATE]: ['/', '-'], '2025-09-16': ['I', '/'] };
  for (const d of weekdays('2025-09-08', '2025-09-12')) cPlanted[d] = ['N', 'N'];
  for (const d of weekdays('2025-09-01', '2025-09-05').concat(weekdays('2025-09-15', '2025-09-26')))
    cPlanted[d] ??= ['/', '/'];
  const hill = [
    ...rowsFor(3, C, IN_B, 0, '8', SEPT, cPlanted),
    ...rowsFor(5, E, IN_B, 4, '9', SEPT, { [ALERT_DATE]: ['E', 'I'] }),
    ...rowsFor(13, M, IN_B, 3, '7', SEPT, { [ALERT_DATE]: ['G', '/'] }).map((r) => ({
      ...r,
      cla: r.date >= '2025-09-10' ? 'Y' : 'N',
    })),
  ];
  const dale = rowsFor(8, H, IN_C, 2, '3', weekdays('2025-09-01', '2025-09-19'));
  for (const [urn, rows] of [
    [IN_A, brook],
    [IN_B, hill],
    [IN_C, dale],
  ] as const) {
    const school = await svc.token('school', { urn });
    expect((await upload(school, rows)).status).toBe(202);
    applied.push(...rows);
  }

  // Out of area: the Virtual School sends the registers; F (in no cohort) is the last row of the first file.
  const farAway = rowsFor(2, B, OUT_A, 3, '4', SEPT, { [ALERT_DATE]: ['E', 'E'] });
  const fRow: Row = { urn: OUT_A, upn: F, date: '2025-09-01', am: '/', pm: '/', year_group: '4' };
  const res = await upload(vsh, [...farAway, fRow]);
  vshUpload = { status: res.status, returnId: res.json().returnId, rows: farAway.length + 1 };
  applied.push(...farAway);
  const coast = rowsFor(7, G, OUT_B, 10, '10', SEPT, { [ALERT_DATE]: ['N', 'N'] });
  expect((await upload(vsh, coast)).status).toBe(202);
  applied.push(...coast);
});
afterAll(async () => svc?.stop());

// ---- An independent recomputation, straight from the rows and the episodes -------------------------

const CATEGORY: Record<string, 'present' | 'authorised' | 'unauthorised'> = {
  '/': 'present',
  L: 'present',
  I: 'authorised',
  M: 'authorised',
  C: 'authorised',
  R: 'authorised',
  E: 'authorised',
  N: 'unauthorised',
  G: 'unauthorised',
  U: 'unauthorised',
  O: 'unauthorised',
};

/** In the cohort on the date: an LA episode covers it, or this school's latest statement on or before it says so. */
function inCohort(upn: string, urn: string, date: string, cohort: string): boolean {
  const wanted = cohort === 'social_worker' ? ['cin', 'cpp', 'cla'] : [cohort];
  if (EPISODES.some((e) => e.upn === upn && wanted.includes(e.cohort) && e.start <= date && (!e.end || date <= e.end)))
    return true;
  if (!wanted.includes('cla')) return false;
  const stated = applied
    .filter((r) => r.upn === upn && r.urn === urn && r.date <= date && r.cla)
    .sort((a, b) => (a.date < b.date ? -1 : 1));
  return stated[stated.length - 1]?.cla === 'Y';
}

function monday(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
  return d.toISOString().slice(0, 10);
}

interface Figures {
  enrolments: number;
  possibleSessions: number;
  attendedSessions: number;
  authorisedAbsenceSessions: number;
  unauthorisedAbsenceSessions: number;
  persistentAbsenceCount: number;
  severeAbsenceCount: number;
}

/** Per group: sum the sessions in the cohort; PA/SA per (group, pupil, school) — a cohort-enrolment. */
function recompute(
  cohort: string,
  from: string,
  to: string,
  groupOf: (r: Row) => string,
  unitOf: (r: Row) => string = (r) => `${r.upn}|${r.urn}`,
): Map<string, Figures> {
  const units = new Map<
    string,
    { group: string; possible: number; attended: number; authorised: number; unauthorised: number }
  >();
  for (const r of applied) {
    if (r.date < from || r.date > to || !inCohort(r.upn, r.urn, r.date, cohort)) continue;
    for (const code of [r.am, r.pm]) {
      const category = CATEGORY[code];
      if (!category) continue; // not yet marked
      const key = `${groupOf(r)}|${unitOf(r)}`;
      let u = units.get(key);
      if (!u) units.set(key, (u = { group: groupOf(r), possible: 0, attended: 0, authorised: 0, unauthorised: 0 }));
      u.possible++;
      if (category === 'present') u.attended++;
      if (category === 'authorised') u.authorised++;
      if (category === 'unauthorised') u.unauthorised++;
    }
  }
  const groups = new Map<string, Figures>();
  for (const u of units.values()) {
    let g = groups.get(u.group);
    if (!g)
      groups.set(
        u.group,
        (g = {
          enrolments: 0,
          possibleSessions: 0,
          attendedSessions: 0,
          authorisedAbsenceSessions: 0,
          unauthorisedAbsenceSessions: 0,
          persistentAbsenceCount: 0,
          severeAbsenceCount: 0,
        }),
      );
    g.possibleSessions += u.possible;
    g.attendedSessions += u.attended;
    g.authorisedAbsenceSessions += u.authorised;
    g.unauthorisedAbsenceSessions += u.unauthorised;
    if (u.possible > 0) {
      g.enrolments++;
      const absence = u.authorised + u.unauthorised;
      if (absence * 10 >= u.possible) g.persistentAbsenceCount++;
      if (absence * 2 >= u.possible) g.severeAbsenceCount++;
    }
  }
  return groups;
}

const GROUPINGS: Record<string, { groupOf: (r: Row) => string; keyOf: (k: Record<string, string>) => string }> = {
  none: { groupOf: () => 'all', keyOf: () => 'all' },
  school: { groupOf: (r) => r.urn, keyOf: (k) => k.urn },
  year_group: { groupOf: (r) => r.year_group, keyOf: (k) => k.yearGroup },
  week: { groupOf: (r) => monday(r.date), keyOf: (k) => k.week },
  placement: { groupOf: (r) => (OUT_OF_AREA.has(r.urn) ? 'out_of_area' : 'in_area'), keyOf: (k) => k.placement },
};

function figuresOf(
  items: Array<Record<string, unknown> & { key: Record<string, string> }>,
  keyOf: (k: Record<string, string>) => string,
): Map<string, Figures> {
  return new Map(
    items.map((i) => [
      keyOf(i.key),
      {
        enrolments: i.enrolments,
        possibleSessions: i.possibleSessions,
        attendedSessions: i.attendedSessions,
        authorisedAbsenceSessions: i.authorisedAbsenceSessions,
        unauthorisedAbsenceSessions: i.unauthorisedAbsenceSessions,
        persistentAbsenceCount: i.persistentAbsenceCount,
        severeAbsenceCount: i.severeAbsenceCount,
      } as Figures,
    ]),
  );
}

async function metrics(token: string, params: Record<string, string>) {
  const res = await svc.request('GET', `/v1/metrics?${new URLSearchParams(params)}`, { token });
  expect(res.status, res.text).toBe(200);
  return res.json();
}

// ---- Tests ----------------------------------------------------------------------------------------

describe('Virtual School scope', () => {
  it('lets the Virtual School Head read a looked-after child at an out-of-area school', async () => {
    const res = await svc.request('GET', `/v1/pupils/${B}?academicYear=2025`, { token: vsh });
    expect(res.status).toBe(200);
    expect(res.json().enrolments.map((e: { urn: string }) => e.urn)).toEqual([OUT_A]);
    expect(res.json().cohorts).toContain('cla');
  });

  it('answers 404 for a child never in the cohorts, exactly as for a child who does not exist', async () => {
    const never = await svc.request('GET', `/v1/pupils/${D}?academicYear=2025`, { token: vsh });
    const missing = await svc.request('GET', `/v1/pupils/${NOBODY}?academicYear=2025`, { token: vsh });
    expect(never.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(never.json()).toEqual(missing.json());
    expect((await svc.request('GET', `/v1/pupils/${D}?academicYear=2025`, { token: officer })).status).toBe(200);
  });

  it('answers 404 to the Virtual School for the PEP summary of a child never in the cohorts', async () => {
    const never = await svc.request('GET', `/v1/virtual-school/pupils/${D}/pep-summary?academicYear=2025`, {
      token: vsh,
    });
    const missing = await svc.request('GET', `/v1/virtual-school/pupils/${NOBODY}/pep-summary?academicYear=2025`, {
      token: vsh,
    });
    expect(never.status).toBe(404);
    expect(never.json()).toEqual(missing.json());
    expect(
      (await svc.request('GET', `/v1/virtual-school/pupils/${D}/pep-summary?academicYear=2025`, { token: officer }))
        .status,
    ).toBe(200);
  });

  it('keeps schools off the Virtual School routes (403)', async () => {
    const school = await svc.token('school', { urn: IN_A });
    for (const path of [
      '/v1/virtual-school/alerts?date=2025-09-24',
      '/v1/virtual-school/pupils',
      `/v1/virtual-school/pupils/${A}/pep-summary`,
    ]) {
      expect((await svc.request('GET', path, { token: school })).status).toBe(403);
    }
  });

  it('refuses the Virtual School metrics outside its cohorts (403)', async () => {
    for (const cohort of ['all', 'fsm', 'non_cla']) {
      expect(
        (await svc.request('GET', `/v1/metrics?cohort=${cohort}&from=2025-09-01&to=2025-09-30`, { token: vsh })).status,
      ).toBe(403);
    }
  });

  it('lists only cohort children in the PA list the Virtual School sees', async () => {
    const asVsh = (
      await svc.request('GET', '/v1/pupils?flag=persistent_absence&from=2025-08-01&to=2026-07-31', { token: vsh })
    ).json();
    const asOfficer = (
      await svc.request('GET', '/v1/pupils?flag=persistent_absence&from=2025-08-01&to=2026-07-31', { token: officer })
    ).json();
    const upns = (x: { items: Array<{ upn: string }> }) => x.items.map((i) => i.upn);
    expect(upns(asOfficer)).toContain(D);
    expect(upns(asVsh)).not.toContain(D);
    expect(upns(asVsh).length).toBeGreaterThan(0);
    const cla = (
      await svc.request('GET', '/v1/pupils?flag=persistent_absence&cohort=cla&from=2025-08-01&to=2026-07-31', {
        token: vsh,
      })
    ).json();
    expect(upns(cla).every((u: string) => [A, B, C, H, I, M].includes(u))).toBe(true);
  });
});

describe('returns the Virtual School sends for out-of-area schools', () => {
  it("applies the cohort children's rows and rejects the others as row errors", async () => {
    expect(vshUpload.status).toBe(202);
    const st = (await svc.request('GET', `/v1/returns/${vshUpload.returnId}`, { token: vsh })).json();
    expect(st.status).toBe('accepted_with_errors');
    expect(st.counts).toEqual({ rows: vshUpload.rows, accepted: vshUpload.rows - 1, rejected: 1 });
    expect(st.errors).toEqual([
      expect.objectContaining({ line: vshUpload.rows + 1, field: 'upn', code: 'not_in_virtual_school' }),
    ]);
    expect((await svc.request('GET', `/v1/pupils/${F}?academicYear=2025`, { token: officer })).status).toBe(404);
    const sessions = (
      await svc.request('GET', `/v1/pupils/${B}/sessions?from=2025-09-24&to=2025-09-24`, { token: vsh })
    ).json();
    expect(sessions.sessions).toEqual([
      { date: ALERT_DATE, session: 'AM', code: 'E', urn: OUT_A },
      { date: ALERT_DATE, session: 'PM', code: 'E', urn: OUT_A },
    ]);
  });

  it('refuses a Virtual School return for a school in the LA (403)', async () => {
    const res = await svc.request('POST', '/v1/returns', {
      token: vsh,
      body: returnCsv([{ urn: IN_A, upn: A, date: '2025-09-26', am: '/', pm: '/' }]),
      contentType: 'text/csv',
    });
    expect(res.status).toBe(403);
  });
});

describe("the Virtual School's metrics", () => {
  const periods = [
    ['2025-09-01', '2025-09-30'], // the materialised year
    ['2025-09-08', '2025-09-19'], // computed from the registers
    ['2025-09-22', '2025-09-26'], // exactly one materialised week
  ] as const;

  for (const cohort of ['cla', 'plac', 'cin', 'cpp', 'social_worker']) {
    for (const [name, grouping] of Object.entries(GROUPINGS)) {
      it(`equal an independent recomputation: ${cohort}, by ${name}`, async () => {
        for (const [from, to] of periods) {
          const body = await metrics(vsh, { cohort, from, to, ...(name === 'none' ? {} : { groupBy: name }) });
          expect(figuresOf(body.items, grouping.keyOf), `${from}..${to}`).toEqual(
            recompute(cohort, from, to, grouping.groupOf),
          );
        }
      });
    }
  }

  it('shows looked-after children in and out of the LA as two placement rows', async () => {
    const body = await metrics(vsh, { cohort: 'cla', groupBy: 'placement', from: '2025-09-01', to: '2025-09-30' });
    expect(body.items.map((r: { key: unknown }) => r.key)).toEqual([
      { cohort: 'cla', placement: 'in_area' },
      { cohort: 'cla', placement: 'out_of_area' },
    ]);
    const csv = await svc.request('GET', '/v1/metrics?cohort=cla&groupBy=placement&from=2025-09-01&to=2025-09-30', {
      token: vsh,
      headers: { accept: 'text/csv' },
    });
    const lines = csv.text
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n');
    expect(lines[0].split(',')).toContain('placement');
    expect(lines).toHaveLength(3);
  });

  it('counts a child entering care mid-year only from the day care began', async () => {
    // C was absent (N) all of 8–12 September and entered care on the 15th: none of it is the Virtual School's.
    const before = await metrics(vsh, {
      cohort: 'cla',
      scope: 'school',
      urn: IN_B,
      from: '2025-09-01',
      to: '2025-09-09',
    });
    expect(before.items).toEqual([]);
    const pep = (
      await svc.request('GET', `/v1/virtual-school/pupils/${C}/pep-summary?academicYear=2025&term=autumn`, {
        token: vsh,
      })
    ).json();
    expect(pep.terms).toHaveLength(1);
    expect(pep.terms[0]).toMatchObject({
      term: 'autumn',
      inCohort: [{ from: '2025-09-15', to: '2025-12-31' }],
      unmarkedSessions: 1,
      persistentAbsence: false,
      stats: {
        possibleSessions: 19,
        authorisedAbsenceSessions: 1,
        unauthorisedAbsenceSessions: 0,
        codes: { '/': 18, I: 1 },
      },
      schools: [expect.objectContaining({ urn: IN_B, name: 'Hill Academy', outOfArea: false })],
    });
    const wholeYear = (await svc.request('GET', `/v1/pupils/${C}?academicYear=2025`, { token: officer })).json();
    expect(wholeYear.totals.unauthorisedAbsenceSessions).toBe(10);
    const bySchool = await metrics(vsh, { cohort: 'cla', groupBy: 'school', from: '2025-09-01', to: '2025-09-30' });
    const hill = bySchool.items.find((r: { key: { urn: string } }) => r.key.urn === IN_B);
    expect(hill).toMatchObject(recompute('cla', '2025-09-01', '2025-09-30', (r) => r.urn).get(IN_B)!);
  });
});

describe("the Virtual School's roll", () => {
  const rollUpns = async (query: string) => {
    const res = await svc.request('GET', `/v1/virtual-school/pupils?${query}`, { token: vsh });
    expect(res.status, res.text).toBe(200);
    return res
      .json()
      .items.map((i: { upn: string }) => i.upn)
      .sort();
  };

  it('holds every child in a Virtual School cohort in the period, at any school or on no register, and nobody else', async () => {
    expect(await rollUpns('from=2025-09-01&to=2025-09-30&limit=100')).toEqual(
      [A, B, C, E, G, H, I, J, K, L, M, P].sort(),
    );
    expect(await rollUpns('from=2025-09-01&to=2025-09-30&cohort=cla&limit=100')).toEqual(
      [A, B, C, H, I, J, K, L, M].sort(),
    );
    expect(await rollUpns('from=2025-09-01&to=2025-09-12&cohort=cla&limit=100')).toEqual([A, B, J, K, M].sort());
  });

  it('lists as persistently absent exactly the children PA on their sessions while in the cohort', async () => {
    const perChild = recompute(
      'cla',
      '2025-09-01',
      '2025-09-30',
      (r) => r.upn,
      () => 'child',
    );
    const expected = [...perChild]
      .filter(([, f]) => f.persistentAbsenceCount === 1)
      .map(([upn]) => upn)
      .sort();
    expect(expected.length).toBeGreaterThan(0);
    expect(await rollUpns('from=2025-09-01&to=2025-09-30&cohort=cla&flag=persistent_absence&limit=100')).toEqual(
      expected,
    );
    const sa = [...perChild]
      .filter(([, f]) => f.severeAbsenceCount === 1)
      .map(([upn]) => upn)
      .sort();
    expect(await rollUpns('from=2025-09-01&to=2025-09-30&cohort=cla&flag=severe_absence&limit=100')).toEqual(sa);
  });

  it('shows a looked-after child on no register, and where each child is educated', async () => {
    const res = (
      await svc.request('GET', '/v1/virtual-school/pupils?from=2025-09-01&to=2025-09-30&cohort=cla&limit=100', {
        token: vsh,
      })
    ).json();
    const byUpn = new Map(res.items.map((i: { upn: string }) => [i.upn, i]));
    expect(byUpn.get(J)).toMatchObject({ onRegister: false, schools: [], stats: { possibleSessions: 0 } });
    expect(byUpn.get(B)).toMatchObject({
      onRegister: true,
      schools: [{ urn: OUT_A, name: 'Far Away Primary', outOfArea: true }],
    });
    expect(byUpn.get(H)).toMatchObject({ onRegister: true, schools: [], everCohorts: ['cla'] });
  });
});

describe('daily alerts', () => {
  it('list exactly the planted events of the day', async () => {
    const res = await svc.request('GET', `/v1/virtual-school/alerts?date=${ALERT_DATE}&limit=100`, { token: vsh });
    expect(res.status, res.text).toBe(200);
    const body = res.json();
    const got = body.items.map((a: Record<string, unknown>) => [
      a.type,
      a.upn,
      a.session,
      a.code,
      a.urn,
      a.careStart,
      a.reason,
    ]);
    expect(got).toEqual([
      ['exclusion', P, 'AM', 'E', IN_A, null, null],
      ['exclusion', E, 'AM', 'E', IN_B, null, null],
      ['exclusion', B, 'AM', 'E', OUT_A, null, null],
      ['exclusion', B, 'PM', 'E', OUT_A, null, null],
      ['absence', A, 'AM', 'N', IN_A, null, null],
      ['absence', M, 'AM', 'G', IN_B, null, null],
      ['unmarked', C, 'PM', null, IN_B, null, null],
      ['new_in_care', L, null, null, null, '2025-09-23', 'not_on_any_register'],
      ['new_in_care', H, null, null, IN_C, '2025-09-22', 'no_return_since_care_began'],
    ]);
    expect(body.counts).toEqual({ exclusion: 4, absence: 2, unmarked: 1, new_in_care: 2 });
    expect(body.items.find((a: { upn: string }) => a.upn === B)).toMatchObject({
      schoolName: 'Far Away Primary',
      outOfArea: true,
      cohorts: ['cla'],
      date: ALERT_DATE,
      yearGroup: '4',
    });
    expect(body.items.find((a: { upn: string }) => a.upn === E)).toMatchObject({ cohorts: ['cin'], outOfArea: false });
    expect(body.items.find((a: { upn: string }) => a.upn === H)).toMatchObject({
      lastListed: '2025-09-19',
      schoolName: 'Dale Primary School',
    });
  });

  it('widens or narrows "new in care" with newInCareDays', async () => {
    const newInCare = async (days: number) =>
      (
        await svc.request(
          'GET',
          `/v1/virtual-school/alerts?date=${ALERT_DATE}&type=new_in_care&newInCareDays=${days}`,
          { token: vsh },
        )
      )
        .json()
        .items.map((a: { upn: string }) => a.upn)
        .sort();
    expect(await newInCare(1)).toEqual([]);
    expect(await newInCare(2)).toEqual([L]);
    expect(await newInCare(3)).toEqual([H, L].sort());
    expect(await newInCare(30)).toEqual([H, J, L].sort()); // K's move on the 22nd is a placement change
  });

  it('gives the same alerts as CSV, one line each', async () => {
    const res = await svc.request('GET', `/v1/virtual-school/alerts?date=${ALERT_DATE}`, {
      token: vsh,
      headers: { accept: 'text/csv' },
    });
    expect(res.headers['content-type']).toContain('text/csv');
    const lines = res.text
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n');
    expect(lines[0]).toBe(
      'type,date,session,code,upn,forename,surname,yearGroup,cohorts,urn,schoolName,outOfArea,careStart,reason,lastListed',
    );
    expect(lines).toHaveLength(10);
  });

  it('refuses a date in the future', async () => {
    expect((await svc.request('GET', '/v1/virtual-school/alerts?date=2099-01-05', { token: vsh })).status).toBe(400);
  });
});

describe('PEP summary', () => {
  it('gives a child on no register the three census terms with no sessions', async () => {
    const res = await svc.request('GET', `/v1/virtual-school/pupils/${J}/pep-summary?academicYear=2025`, {
      token: vsh,
    });
    expect(res.status).toBe(200);
    const body = res.json();
    expect(body.terms.map((t: { term: string }) => t.term)).toEqual(['autumn', 'spring', 'summer']);
    expect(body.terms[0]).toMatchObject({
      inCohort: [{ from: '2025-09-01', to: '2025-12-31' }],
      stats: { possibleSessions: 0 },
      schools: [],
    });
  });

  it("summarises an out-of-area child's exclusions and codes per term, as JSON and as CSV", async () => {
    const json = (
      await svc.request('GET', `/v1/virtual-school/pupils/${B}/pep-summary?academicYear=2025`, { token: vsh })
    ).json();
    const autumn = json.terms[0];
    const mine = applied.filter((r) => r.upn === B);
    const codes: Record<string, number> = {};
    for (const r of mine) for (const c of [r.am, r.pm]) codes[c] = (codes[c] ?? 0) + 1;
    expect(autumn.stats.codes).toEqual(codes);
    expect(autumn.stats.possibleSessions).toBe(mine.length * 2);
    expect(autumn.exclusions).toEqual([
      { date: ALERT_DATE, session: 'AM', urn: OUT_A },
      { date: ALERT_DATE, session: 'PM', urn: OUT_A },
    ]);
    expect(autumn.schools).toEqual([expect.objectContaining({ urn: OUT_A, outOfArea: true })]);

    const csv = await svc.request('GET', `/v1/virtual-school/pupils/${B}/pep-summary?academicYear=2025`, {
      token: vsh,
      headers: { accept: 'text/csv' },
    });
    const [header, ...rows] = csv.text
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n');
    const cols = header.split(',');
    expect(rows).toHaveLength(3);
    const first = rows[0].split(',');
    expect(first[cols.indexOf('term')]).toBe('autumn');
    expect(Number(first[cols.indexOf('possibleSessions')])).toBe(mine.length * 2);
    expect(first[cols.indexOf('exclusionSessions')]).toBe('2');
  });
});

describe('audit', () => {
  it('records every Virtual School read of pupil data, found or not', async () => {
    const res = await svc.request('GET', '/v1/audit?user=virtual-school-head&limit=1000', { token: admin });
    expect(res.status, res.text).toBe(200);
    const entries: Array<{ action: string; outcome: string; upn?: string }> = res.json().items;
    const actions = new Set(entries.map((e) => `${e.action}:${e.outcome}`));
    for (const a of [
      'read_virtual_school_alerts:ok',
      'read_pep_summary:ok',
      'read_pep_summary:not_found',
      'list_virtual_school:ok',
      'read_metrics:ok',
    ]) {
      expect(actions).toContain(a);
    }
    const pepOfB = await svc.request('GET', `/v1/audit?upn=${B}&limit=1000`, { token: admin });
    expect(
      pepOfB
        .json()
        .items.some(
          (e: { action: string; sub: string }) => e.action === 'read_pep_summary' && e.sub === 'virtual-school-head',
        ),
    ).toBe(true);
  });
});

describe('API document', () => {
  it('documents the Virtual School routes and the placement grouping', async () => {
    const doc = (await svc.request('GET', '/openapi.json')).json();
    for (const path of [
      '/v1/virtual-school/alerts',
      '/v1/virtual-school/pupils',
      '/v1/virtual-school/pupils/{upn}/pep-summary',
    ])
      expect(doc.paths[path]?.get).toBeDefined();
    const groupBy = doc.paths['/v1/metrics'].get.parameters.find((p: { name: string }) => p.name === 'groupBy');
    expect(groupBy.schema.enum).toContain('placement');
  });
});
