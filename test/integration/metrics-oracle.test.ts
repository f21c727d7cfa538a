/**
 * The metrics oracle (issue 4): on a generated LA loaded through the API, every row of
 * GET /v1/metrics — the LA and each school, every cohort, every grouping, both populations, over the
 * materialised year and a custom period — and the PA / SA / at-risk lists equal DuckDB's
 * recomputation straight from the raw CSV files (bench/duckdb-metrics.ts, which shares no code with
 * the service's aggregation). Then the rules' edges on a small hand-built LA in another academic
 * year of the same service, checked against hand-worked figures and the same oracle.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGeneratedLa, type LoadSummary } from '../../local/load-la.js';
import { generateLa } from '../../local/synthetic/index.js';
import { todayInEngland } from '../../shared/domain/dates.js';
import {
  COHORT_NAMES,
  DuckDbLa,
  openGeneratedLa,
  type CareSpan,
  type Dimension,
  type OraclePupil,
  type OracleRow,
  type Population,
} from '../../bench/duckdb-metrics.js';
import { metricsDifferences, type ApiMetricsRow } from '../../bench/metrics-check.js';
import { startTestService, type TestService } from './harness.js';
import { upnFor, weekdays } from '../support/returns.js';

// The generated LA: eight schools (plus out-of-area placements), about 2,000 pupils, four weeks of
// 2025/26. Everything before the last day arrives as one back-fill per school; the last day's
// returns and the week's corrections (which also correct back-filled days) follow one by one.
const GENERATED = { schools: 8, pupils: 2000, from: '2025-09-01', to: '2025-09-26', seed: 'metrics-oracle' } as const;
const YEAR = { from: '2025-08-01', to: '2026-07-31' };
// Wednesday to Tuesday: partial weeks at both ends, so no materialised period is equivalent.
const CUSTOM = { from: '2025-09-10', to: '2025-09-23' };

const POPULATIONS: readonly Population[] = ['all', 'compulsory'];
const PER_COHORT: readonly Exclude<Dimension, 'cohort'>[] = ['none', 'school', 'phase', 'year_group', 'sex', 'week'];
const NOT_WEEK = PER_COHORT.filter((d) => d !== 'week');
const FLAGS = ['persistent_absence', 'severe_absence', 'at_risk_pa'] as const;
/** ORACLE_FULL=1 asks every (cohort, grouping, population) of every scope; by default a covering sample (see questionsFor). */
const FULL = process.env.ORACLE_FULL === '1';

let svc: TestService;
let officer: string;
let work: string;
let generatedDir: string;
let loaded: LoadSummary;
let oracle: DuckDbLa;
const expected = new Map<string, OracleRow[]>();
let urns: string[] = [];

type ApiRow = ApiMetricsRow;
const differences = metricsDifferences;

async function inPool<T>(items: readonly T[], size: number, work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: size }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
    }),
  );
}

interface Question {
  scope: 'la' | 'school';
  urn?: string;
  cohort?: string;
  groupBy?: Exclude<Dimension, 'none'>;
  population: Population;
  period: { from: string; to: string };
}

/** Ask the API each question and compare its rows with the oracle's; returns every difference. */
async function compareAll(
  questions: readonly Question[],
  rowsOf: (q: Question) => readonly OracleRow[],
): Promise<{ differences: string[]; rows: number }> {
  const found: string[] = [];
  let rows = 0;
  await inPool(questions, 4, async (q) => {
    const params = new URLSearchParams({
      scope: q.scope,
      population: q.population,
      from: q.period.from,
      to: q.period.to,
    });
    if (q.urn) params.set('urn', q.urn);
    if (q.cohort) params.set('cohort', q.cohort);
    if (q.groupBy) params.set('groupBy', q.groupBy);
    const res = await svc.request('GET', `/v1/metrics?${params}`, { token: officer });
    if (res.status !== 200) {
      found.push(`${params}: HTTP ${res.status} ${res.text.slice(0, 200)}`);
      return;
    }
    const items = res.json().items as ApiRow[];
    rows += items.length;
    found.push(...differences(params.toString(), items, rowsOf(q)));
  });
  return { differences: found, rows };
}

/**
 * The questions for one scope and period: by cohort (every cohort at once) for both populations, and
 * each (cohort, grouping, population) of the cross product. `spread` 1 asks all of them; a larger
 * prime asks every spread-th (offset by `offset`), which still covers every cohort, grouping and
 * population — the whole cross product runs with ORACLE_FULL=1.
 */
function questionsFor(
  scope: 'la' | 'school',
  period: { from: string; to: string },
  options: { urn?: string; spread?: number; offset?: number; dims?: readonly Exclude<Dimension, 'cohort'>[] } = {},
): Question[] {
  const { urn, offset = 0, dims = PER_COHORT } = options;
  const spread = FULL ? 1 : (options.spread ?? 1);
  const out: Question[] = POPULATIONS.map((population) => ({
    scope,
    urn,
    groupBy: 'cohort' as const,
    population,
    period,
  }));
  let n = offset;
  for (const cohort of COHORT_NAMES) {
    for (const dim of dims) {
      for (const population of POPULATIONS) {
        if (n++ % spread === 0)
          out.push({ scope, urn, cohort, groupBy: dim === 'none' ? undefined : dim, population, period });
      }
    }
  }
  return out;
}

function oracleRowsFor(rows: readonly OracleRow[]): (q: Question) => OracleRow[] {
  const index = new Map<string, OracleRow[]>();
  for (const r of rows) {
    const k = `${r.scope}|${r.population}|${r.dimension}|${r.dimension === 'cohort' ? '*' : r.cohort}`;
    let list = index.get(k);
    if (!list) index.set(k, (list = []));
    list.push(r);
  }
  return (q) =>
    index.get(
      `${q.scope === 'la' ? 'la' : q.urn}|${q.population}|${q.groupBy ?? 'none'}|${q.groupBy === 'cohort' ? '*' : (q.cohort ?? 'all')}`,
    ) ?? [];
}

interface ApiPupil {
  upn: string;
  urns: string[];
  stats: {
    possibleSessions: number;
    absenceSessions: number;
    unauthorisedAbsenceSessions: number;
    absenceRate: number | null;
  };
}

async function flagList(flag: string, period: { from: string; to: string }): Promise<ApiPupil[]> {
  const items: ApiPupil[] = [];
  let cursor: string | null = null;
  do {
    const params = new URLSearchParams({
      flag,
      from: period.from,
      to: period.to,
      limit: '1000',
      ...(cursor ? { cursor } : {}),
    });
    const res = await svc.request('GET', `/v1/pupils?${params}`, { token: officer });
    expect(res.status, res.text).toBe(200);
    items.push(...(res.json().items as ApiPupil[]));
    cursor = res.json().nextCursor;
  } while (cursor);
  return items;
}

function flagDifferences(
  flag: (typeof FLAGS)[number],
  actual: readonly ApiPupil[],
  pupils: readonly OraclePupil[],
): string[] {
  const test =
    flag === 'persistent_absence'
      ? (p: OraclePupil) => p.persistentAbsence
      : flag === 'severe_absence'
        ? (p: OraclePupil) => p.severeAbsence
        : (p: OraclePupil) => p.atRiskOfPersistentAbsence;
  const wanted = new Map(pupils.filter(test).map((p) => [p.upn, p]));
  const out: string[] = [];
  const seen = new Set<string>();
  for (const a of actual) {
    if (seen.has(a.upn)) out.push(`${flag}: ${a.upn} listed twice`);
    seen.add(a.upn);
    const w = wanted.get(a.upn);
    if (!w) {
      out.push(`${flag}: the API lists ${a.upn}, the oracle does not`);
      continue;
    }
    if (
      a.stats.possibleSessions !== w.possibleSessions ||
      a.stats.absenceSessions !== w.absenceSessions ||
      a.stats.unauthorisedAbsenceSessions !== w.unauthorisedAbsenceSessions
    ) {
      out.push(
        `${flag} ${a.upn}: API ${a.stats.absenceSessions}/${a.stats.possibleSessions} (${a.stats.unauthorisedAbsenceSessions} unauthorised), oracle ${w.absenceSessions}/${w.possibleSessions} (${w.unauthorisedAbsenceSessions})`,
      );
    }
    if ([...a.urns].sort().join(',') !== w.urns.join(','))
      out.push(`${flag} ${a.upn}: schools API ${a.urns} oracle ${w.urns}`);
  }
  for (const upn of wanted.keys()) if (!seen.has(upn)) out.push(`${flag}: the oracle lists ${upn}, the API does not`);
  return out;
}

/**
 * Worst first as an officer reads it: absence rates as shown (one decimal place) never rise down the
 * list, and pupils shown at the same rate come in UPN order (docs/decisions.md, "The sort key is the rate as shown").
 */
function worstFirst(list: readonly ApiPupil[]): boolean {
  const shown = (p: ApiPupil) => Number((p.stats.absenceRate ?? 0).toFixed(1));
  return list.every(
    (p, i) => i === 0 || shown(p) < shown(list[i - 1]) || (shown(p) === shown(list[i - 1]) && p.upn > list[i - 1].upn),
  );
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'metrics-oracle-'));
  generatedDir = join(work, 'la');
  await generateLa({ ...GENERATED, out: generatedDir });
  svc = await startTestService();
  officer = await svc.token('la_officer');
  // DuckDB works on its own threads while the service ingests.
  const recomputed = (async () => {
    oracle = await openGeneratedLa(generatedDir, { today: todayInEngland(), threads: 2 });
    for (const [name, period] of Object.entries({ year: YEAR, custom: CUSTOM }))
      expected.set(name, await oracle.metricRows(period));
  })();
  loaded = await loadGeneratedLa({
    url: svc.url,
    dir: generatedDir,
    workDir: join(work, 'backfill'),
    token: (role, urn) => svc.token(role, urn ? { urn } : {}),
    backfillBefore: GENERATED.to,
    concurrency: 4,
  });
  await svc.settle();
  await recomputed;
  urns = [
    ...new Set(
      expected
        .get('year')!
        .filter((r) => r.scope !== 'la')
        .map((r) => r.scope),
    ),
  ].sort();
}, 240_000);

afterAll(async () => {
  oracle?.close();
  await svc?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('a generated LA against DuckDB over the raw CSV files', () => {
  it('accepts every row of the generated returns (the oracle reads the same rows)', () => {
    expect(loaded.uploads.rejected).toBe(0);
    expect(loaded.uploads.acceptedWithErrors).toBe(0);
    expect(loaded.uploads.rowsRejected).toBe(0);
    expect(loaded.uploads.rowsAccepted).toBeGreaterThan(30_000);
    expect(urns.length).toBeGreaterThanOrEqual(GENERATED.schools);
  });

  it('gives LA figures equal to the recomputation for every cohort, grouping and population over the materialised year', async () => {
    const { differences: found, rows } = await compareAll(
      questionsFor('la', YEAR),
      oracleRowsFor(expected.get('year')!),
    );
    expect(found.slice(0, 30)).toEqual([]);
    expect(rows).toBeGreaterThan(1000);
  }, 300_000);

  it("gives each school's figures equal to the recomputation for every cohort, grouping and population over the materialised year", async () => {
    const questions = urns.flatMap((urn, i) => questionsFor('school', YEAR, { urn, spread: 7, offset: i }));
    const { differences: found, rows } = await compareAll(questions, oracleRowsFor(expected.get('year')!));
    expect(found.slice(0, 30)).toEqual([]);
    expect(rows).toBeGreaterThan(500);
  }, 600_000);

  // Custom periods are computed from the registers on each request (the slow path), so by default a
  // covering sample; weeks are checked on their own below.
  it('gives LA figures equal to the recomputation for every cohort, grouping and population over a custom period', async () => {
    const { differences: found, rows } = await compareAll(
      questionsFor('la', CUSTOM, { spread: 11, dims: NOT_WEEK }),
      oracleRowsFor(expected.get('custom')!),
    );
    expect(found.slice(0, 30)).toEqual([]);
    expect(rows).toBeGreaterThan(100);
  }, 300_000);

  it("gives each school's figures equal to the recomputation for every cohort, grouping and population over a custom period", async () => {
    const questions = urns.flatMap((urn, i) =>
      questionsFor('school', CUSTOM, { urn, spread: 11, offset: i, dims: NOT_WEEK }),
    );
    const { differences: found, rows } = await compareAll(questions, oracleRowsFor(expected.get('custom')!));
    expect(found.slice(0, 30)).toEqual([]);
    expect(rows).toBeGreaterThan(100);
  }, 600_000);

  // For a period that is not materialised, the weeks the period cuts must count only the period's
  // own days (docs/design.md §2.4: a cohort-enrolment's sessions are restricted to the period).
  it("counts only the period's own days in the weeks a custom period cuts, grouped by week", async () => {
    const questions = [
      questionsFor('la', CUSTOM, { dims: ['week'] }),
      questionsFor('school', CUSTOM, { urn: urns[0], dims: ['week'] }),
    ]
      .flat()
      .filter((q) => q.groupBy === 'week' && (FULL || (q.cohort === 'all' && q.population === 'all')));
    const { differences: found } = await compareAll(questions, oracleRowsFor(expected.get('custom')!));
    expect(found.slice(0, 10)).toEqual([]);
  }, 300_000);

  for (const [name, period] of [
    ['the materialised year', YEAR],
    ['a custom period', CUSTOM],
  ] as const) {
    it(`lists exactly the pupils PA, SA and at risk on their combined figures across schools over ${name}`, async () => {
      const pupils = await oracle.pupils(period.from, period.to);
      const found: string[] = [];
      for (const flag of FLAGS) {
        const list = await flagList(flag, period);
        found.push(...flagDifferences(flag, list, pupils));
        if (!worstFirst(list)) found.push(`${flag}: not worst first`);
      }
      expect(found.slice(0, 30)).toEqual([]);
      expect(pupils.filter((p) => p.persistentAbsence).length).toBeGreaterThan(50);
    }, 60_000);
  }
});

// ---- The edges, on a hand-built LA in 2024/25 --------------------------------------------------------

const EDGE_LA = '999';
const PRIMARY = '900001';
const SECONDARY = '900002';
const PRU = '900003';
const AWAY = '900004';
const EDGE_GIAS = [
  'URN,LA (code),EstablishmentNumber,EstablishmentName,PhaseOfEducation (name),TypeOfEstablishment (name),EstablishmentStatus (name)',
  `${PRIMARY},${EDGE_LA},9001,Edge Primary School,Primary,Community school,Open`,
  `${SECONDARY},${EDGE_LA},9002,Edge Academy,Secondary,Academy converter,Open`,
  `${PRU},${EDGE_LA},9003,Edge Pupil Referral Unit,Not applicable,Pupil referral unit,Open`,
  `${AWAY},888,9004,Faraway Primary School,Primary,Community school,Open`,
].join('\n');
const SEPTEMBER = weekdays('2024-09-02', '2024-09-27'); // four weeks, 20 days, 40 sessions
const EDGE_COLUMNS = [
  'urn',
  'upn',
  'date',
  'am',
  'pm',
  'dob',
  'sex',
  'year_group',
  'fsm',
  'sen',
  'cla',
  'plac',
  'cin',
  'cpp',
  'registration',
  'forename',
  'surname',
] as const;
type EdgeRow = Partial<Record<(typeof EDGE_COLUMNS)[number], string>> & {
  urn: string;
  upn: string;
  date: string;
  am: string;
  pm: string;
};

const edgeUpn = (n: number) => upnFor(n, EDGE_LA, '9001', '19');
const CARE = edgeUpn(1); // enters care on Monday 16 September; absent (N) every session before
const FSM = edgeUpn(2); // FSM from 9 September to 22 September; 4 sessions of illness while FSM
const TEN = edgeUpn(3); // exactly 10% absence: 4 of 40
const FIFTY = edgeUpn(4); // exactly 50% absence: 20 of 40
const UNDER = edgeUpn(5); // 3 of 31 possible (9 sessions X): 9.7%, at risk, not PA
const DUAL = edgeUpn(6); // main at the academy (2 of 32 absent), subsidiary at the PRU on Fridays (4 of 8)
const NONE_POSSIBLE = edgeUpn(7); // every session X: no possible session
const PLACED = edgeUpn(8); // looked after, placed out of area; the Virtual School sends the marks: 8 of 40 absent
const RECEPTION = edgeUpn(9); // aged 4 on 31 August 2024: not in the compulsory population; 10 of 40 absent
const EDGE_CARE: CareSpan[] = [
  { upn: CARE, cohort: 'cla', start: '2024-09-16' },
  { upn: PLACED, cohort: 'cla', start: '2024-06-01' },
];

const friday = (d: string) => new Date(`${d}T00:00:00Z`).getUTCDay() === 5;

/** The hand-built registers: each pupil's marks day by day. */
function edgeRows(): { school: Record<string, EdgeRow[]>; correction: EdgeRow[] } {
  const base =
    (urn: string, upn: string, yearGroup: string, dob: string, sex: string) =>
    (date: string, am: string, pm: string, extra: Partial<EdgeRow> = {}): EdgeRow =>
      // Names as well as the date of birth: the PRU joins the academy's dual-registered pupil only when its rows agree with the record (issue 15).
      ({
        urn,
        upn,
        date,
        am,
        pm,
        year_group: yearGroup,
        dob,
        sex,
        forename: 'Edge',
        surname: `Pupil${upn.slice(-3)}`,
        ...extra,
      });
  const primary: EdgeRow[] = [];
  const secondary: EdgeRow[] = [];
  const pru: EdgeRow[] = [];
  const away: EdgeRow[] = [];
  SEPTEMBER.forEach((date, i) => {
    const care = base(PRIMARY, CARE, '5', '2015-03-01', 'F');
    primary.push(date < '2024-09-16' ? care(date, 'N', 'N') : care(date, '/', '/'));
    // The school states FSM only when it changes: N from the start, Y from the 9th, N again from the 23rd.
    const fsm = base(PRIMARY, FSM, '3', '2017-01-10', 'M');
    const stated =
      date === '2024-09-02'
        ? { fsm: 'N' }
        : date === '2024-09-09'
          ? { fsm: 'Y' }
          : date === '2024-09-23'
            ? { fsm: 'N' }
            : {};
    primary.push(
      fsm(
        date,
        ['2024-09-10', '2024-09-11'].includes(date) ? 'I' : '/',
        ['2024-09-10', '2024-09-11'].includes(date) ? 'I' : '/',
        stated,
      ),
    );
    primary.push(base(PRIMARY, RECEPTION, 'R', '2020-05-01', 'F')(date, i < 5 ? 'I' : '/', i < 5 ? 'I' : '/'));
    secondary.push(base(SECONDARY, TEN, '8', '2012-02-02', 'M')(date, i < 2 ? 'N' : '/', i < 2 ? 'N' : '/'));
    secondary.push(base(SECONDARY, FIFTY, '9', '2011-04-04', 'F')(date, i < 10 ? 'O' : '/', i < 10 ? 'O' : '/'));
    // 9 sessions X (not required to attend), 3 of the other 31 absent.
    const under = base(SECONDARY, UNDER, '10', '2010-06-06', 'M');
    secondary.push(
      i < 4
        ? under(date, 'X', 'X')
        : i === 4
          ? under(date, 'X', 'M')
          : i < 7
            ? under(date, i === 5 ? 'I' : '/', i === 6 ? 'I' : '/')
            : under(date, '/', '/'),
    );
    const dualMain = base(SECONDARY, DUAL, '9', '2011-07-07', 'F');
    const dualSub = base(PRU, DUAL, '9', '2011-07-07', 'F');
    if (friday(date)) {
      secondary.push(dualMain(date, 'D', 'D', { registration: 'M' }));
      pru.push(
        dualSub(
          date,
          ['2024-09-06', '2024-09-13'].includes(date) ? 'U' : '/',
          ['2024-09-06', '2024-09-13'].includes(date) ? 'O' : '/',
          { registration: 'S' },
        ),
      );
    } else {
      secondary.push(
        dualMain(date, date === '2024-09-03' ? 'I' : '/', date === '2024-09-04' ? 'I' : '/', { registration: 'M' }),
      );
      pru.push(dualSub(date, 'D', 'D', { registration: 'S' }));
    }
    secondary.push(base(SECONDARY, NONE_POSSIBLE, '11', '2009-01-01', 'M')(date, 'X', 'X'));
    away.push(base(AWAY, PLACED, '4', '2016-05-05', 'M')(date, i < 4 ? 'I' : '/', i < 4 ? 'I' : '/', { cla: 'Y' }));
  });
  // Later, the academy corrects TEN's first day from N to I (a later return replaces the earlier marks).
  const correction = [{ ...secondary.find((r) => r.upn === TEN && r.date === '2024-09-02')!, am: 'I', pm: 'I' }];
  return { school: { [PRIMARY]: primary, [SECONDARY]: secondary, [PRU]: pru, [AWAY]: away }, correction };
}

function edgeCsv(rows: readonly EdgeRow[]): string {
  return [EDGE_COLUMNS.join(','), ...rows.map((r) => EDGE_COLUMNS.map((c) => r[c] ?? '').join(','))].join('\n') + '\n';
}

describe('the edges of the rules, on a hand-built LA', () => {
  const EDGE_YEAR = { from: '2024-08-01', to: '2025-07-31' };
  const EDGE_CUSTOM = { from: '2024-09-11', to: '2024-09-24' };
  let edgeOracle: DuckDbLa;
  const edgeExpected = new Map<string, OracleRow[]>();

  const laRow = async (params: Record<string, string>) => {
    const res = await svc.request(
      'GET',
      `/v1/metrics?${new URLSearchParams({ scope: 'la', ...EDGE_YEAR, ...params })}`,
      { token: officer },
    );
    expect(res.status, res.text).toBe(200);
    return res.json().items as ApiRow[];
  };

  beforeAll(async () => {
    const admin = await svc.token('admin');
    expect(
      (await svc.request('POST', '/v1/schools', { token: admin, body: EDGE_GIAS, contentType: 'text/csv' })).status,
    ).toBe(200);
    const cohortCsv = [
      'upn,cohort,start_date,end_date',
      ...EDGE_CARE.map((c) => `${c.upn},${c.cohort},${c.start},${c.end ?? ''}`),
    ].join('\n');
    expect(
      (await svc.request('POST', '/v1/cohorts', { token: officer, body: cohortCsv, contentType: 'text/csv' })).status,
    ).toBe(200);
    const dir = join(work, 'edges');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'schools.csv'), EDGE_GIAS);
    const { school, correction } = edgeRows();
    const files: string[] = [];
    const vsh = await svc.token('vsh');
    for (const [urn, rows] of [...Object.entries(school), [SECONDARY, correction] as const]) {
      const path = join(dir, `${files.length}-${urn}.csv`);
      writeFileSync(path, edgeCsv(rows));
      files.push(path);
      const token = urn === AWAY ? vsh : await svc.token('school', { urn });
      const res = await svc.request('POST', '/v1/returns', { token, body: edgeCsv(rows), contentType: 'text/csv' });
      expect(res.status, res.text).toBe(202);
      await svc.settle();
      const status = await svc.request('GET', `/v1/returns/${res.json().returnId}`, { token });
      expect(status.json().status, status.text).toBe('accepted');
    }
    edgeOracle = await DuckDbLa.open({ laCode: EDGE_LA, academicYear: 2024, threads: 1 });
    await edgeOracle.loadRegistry(join(dir, 'schools.csv'));
    await edgeOracle.loadCare(EDGE_CARE);
    await edgeOracle.addReturns(files);
    edgeExpected.set('year', await edgeOracle.metricRows(EDGE_YEAR));
    edgeExpected.set('custom', await edgeOracle.metricRows(EDGE_CUSTOM));
  }, 60_000);
  afterAll(() => edgeOracle?.close());

  it('counts a child entering care mid-year in cla only from the day care began, the sessions before in non_cla', async () => {
    const [cla] = await laRow({ cohort: 'cla', groupBy: 'school' });
    expect(cla.key).toMatchObject({ urn: PRIMARY });
    expect(cla).toMatchObject({ enrolments: 1, possibleSessions: 20, absenceSessions: 0, persistentAbsenceCount: 0 });
    const nonCla = (await laRow({ cohort: 'non_cla', groupBy: 'school' })).find((r) => r.key.urn === PRIMARY)!;
    // Primary, not looked after: CARE's 20 sessions before care (all N), FSM's 40, RECEPTION's 40.
    expect(nonCla).toMatchObject({ enrolments: 3, possibleSessions: 100, unauthorisedAbsenceSessions: 20 });
  });

  it('moves a pupil between fsm and non_fsm on the dates the school states, judging PA on each part alone', async () => {
    const fsm = (await laRow({ cohort: 'fsm', groupBy: 'school' })).find((r) => r.key.urn === PRIMARY)!;
    // 9–20 September: 20 sessions, 4 ill — 20%, persistently absent within the cohort.
    expect(fsm).toMatchObject({
      enrolments: 1,
      possibleSessions: 20,
      absenceSessions: 4,
      persistentAbsenceCount: 1,
      severeAbsenceCount: 0,
    });
    const nonFsm = (await laRow({ cohort: 'non_fsm', groupBy: 'school' })).find((r) => r.key.urn === PRIMARY)!;
    // CARE 20 of 40 (PA, SA), FSM's other 20 sessions with none absent, RECEPTION 10 of 40 (PA).
    expect(nonFsm).toMatchObject({
      enrolments: 3,
      possibleSessions: 100,
      absenceSessions: 30,
      persistentAbsenceCount: 2,
      severeAbsenceCount: 1,
    });
  });

  it('counts exactly 10% absence as PA and exactly 50% as SA, and 3 in 31 as at risk but not PA', async () => {
    const lists = Object.fromEntries(
      await Promise.all(FLAGS.map(async (f) => [f, (await flagList(f, EDGE_YEAR)).map((p) => p.upn)] as const)),
    );
    expect(lists.persistent_absence).toEqual(expect.arrayContaining([TEN, FIFTY, FSM]));
    expect(lists.at_risk_pa).not.toContain(TEN);
    expect(lists.severe_absence).toContain(FIFTY);
    expect(lists.severe_absence).not.toContain(TEN);
    expect(lists.at_risk_pa).toContain(UNDER);
    expect(lists.persistent_absence).not.toContain(UNDER);
  });

  it("applies a later return's marks over the earlier ones for the same pupil, date and session", async () => {
    const [row] = (await laRow({ cohort: 'all', groupBy: 'school' })).filter((r) => r.key.urn === SECONDARY);
    // TEN's corrected day is I, I: 2 of the academy's unauthorised sessions became authorised.
    const unauthorised = 2 + 20; // TEN's other N day, FIFTY's O
    expect(row.unauthorisedAbsenceSessions).toBe(unauthorised);
  });

  it('counts a dual-registered pupil as one enrolment at each school, and once, on combined figures, in the lists', async () => {
    const bySchool = await laRow({ cohort: 'all', groupBy: 'school' });
    // At the PRU: 4 of 8 absent — persistently and severely absent there.
    expect(bySchool.find((r) => r.key.urn === PRU)).toMatchObject({
      enrolments: 1,
      possibleSessions: 8,
      absenceSessions: 4,
      persistentAbsenceCount: 1,
      severeAbsenceCount: 1,
    });
    // Across both schools: 6 of 40 (15%): PA, not SA.
    const pa = (await flagList('persistent_absence', EDGE_YEAR)).filter((p) => p.upn === DUAL);
    expect(pa).toHaveLength(1);
    expect(pa[0].stats).toMatchObject({ possibleSessions: 40, absenceSessions: 6 });
    expect([...pa[0].urns].sort()).toEqual([SECONDARY, PRU]);
    expect((await flagList('severe_absence', EDGE_YEAR)).map((p) => p.upn)).not.toContain(DUAL);
  });

  it('leaves an enrolment with 0 possible sessions out of the enrolment count but keeps its codes', async () => {
    const academy = (await laRow({ cohort: 'all', groupBy: 'school' })).find((r) => r.key.urn === SECONDARY)!;
    // TEN, FIFTY, UNDER, DUAL have possible sessions; NONE_POSSIBLE (40 X) does not.
    expect(academy.enrolments).toBe(4);
    expect(academy.codes).toMatchObject({ X: 40 + 9, D: 8 });
    expect(academy.persistentAbsenceCount).toBe(2); // TEN (exactly 10%) and FIFTY
    expect(academy.severeAbsenceCount).toBe(1); // FIFTY (exactly 50%)
  });

  it("counts an out-of-area school towards the LA's looked-after figures only", async () => {
    const [cla] = await laRow({ cohort: 'cla' });
    // CARE from 16 September (20 sessions, none absent) and PLACED (40 sessions, 8 absent).
    expect(cla).toMatchObject({ enrolments: 2, possibleSessions: 60, absenceSessions: 8, persistentAbsenceCount: 1 });
    const schools = (await laRow({ cohort: 'all', groupBy: 'school' })).map((r) => r.key.urn);
    expect(schools).not.toContain(AWAY);
  });

  it('leaves pupils not aged 5–15 on 31 August out of the compulsory population', async () => {
    const all = (await laRow({ cohort: 'all', groupBy: 'year_group' })).map((r) => r.key.yearGroup);
    const compulsory = (await laRow({ cohort: 'all', groupBy: 'year_group', population: 'compulsory' })).map(
      (r) => r.key.yearGroup,
    );
    expect(all).toContain('R');
    expect(compulsory).not.toContain('R');
  });

  it('agrees with DuckDB on every metrics row of the hand-built LA, over the year and a custom period', async () => {
    const found: string[] = [];
    for (const [name, period] of [
      ['year', EDGE_YEAR],
      ['custom', EDGE_CUSTOM],
    ] as const) {
      const dims = name === 'year' ? PER_COHORT : NOT_WEEK;
      const schools = [
        ...new Set(
          edgeExpected
            .get(name)!
            .filter((r) => r.scope !== 'la')
            .map((r) => r.scope),
        ),
      ].sort();
      const questions = [
        ...questionsFor('la', period, { spread: name === 'year' ? 5 : 7, dims }),
        ...schools.flatMap((urn, i) => questionsFor('school', period, { urn, spread: 11, offset: i, dims })),
      ];
      found.push(...(await compareAll(questions, oracleRowsFor(edgeExpected.get(name)!))).differences);
    }
    expect(found.slice(0, 30)).toEqual([]);
  }, 300_000);

  it("counts only the period's own days in the weeks a custom period cuts", async () => {
    const questions = questionsFor('la', EDGE_CUSTOM, { dims: ['week'] }).filter(
      (q) => q.groupBy === 'week' && q.cohort === 'all' && q.population === 'all',
    );
    const { differences: found } = await compareAll(questions, oracleRowsFor(edgeExpected.get('custom')!));
    expect(found).toEqual([]);
  });
});
