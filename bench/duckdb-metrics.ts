/**
 * The LA's metrics recomputed by DuckDB SQL straight from the raw return CSV files: the baseline an
 * LA analyst would reach for (`npm run bench`, item 5) and the independent oracle of
 * test/integration/metrics-oracle.test.ts.
 *
 * It shares nothing with the service's aggregation (shared/domain metrics, cohorts, registers). The
 * only service code it uses is the social-care parsers (SSDA903, CIN census), whose output is plain
 * dated episodes; every rule after parsing is the SQL below, written from docs/design.md §2.1–§2.4:
 *
 * - a later return for the same pupil, date and session replaces the earlier mark; a "not yet
 *   marked" (empty or `-`) never erases a code, and is never a possible session;
 * - possible = present + approved activity + authorised + unauthorised; absence = authorised +
 *   unauthorised; rates over possible; late = L + U;
 * - a school-stated characteristic (fsm, sen, cla, plac, cin, cpp) holds from the date of the row
 *   that states it until a later-dated row for that pupil and school states otherwise (never
 *   stated = no); cla/cin/cpp/plac also hold on every date an LA social-care episode covers;
 *   social_worker = cin ∪ cpp ∪ cla;
 * - an enrolment is a pupil at a school in the academic year; PA/SA per cohort-enrolment = the
 *   enrolment's sessions on dates in the cohort and in the period (and in the week, for weeks):
 *   PA when absence ≥ 10 % of possible, SA when ≥ 50 %; enrolments with 0 possible sessions are not
 *   counted (their codes are);
 * - `compulsory` = aged 5–15 on 31 August before the academic year (Years 1–11 without a date of birth);
 * - year group, sex and date of birth follow the latest-dated row that states them;
 * - LA figures cover the LA's own schools; an out-of-area school counts only towards cla, plac, cin,
 *   cpp and social_worker;
 * - a pupil across schools (the flag lists): the counts summed over their enrolments, then the same thresholds.
 *
 * The files are assumed valid (the service reported no row errors for them; the tests check that).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { importSsda903 } from '../shared/formats/ssda903.js';
import { importCinCensus } from '../shared/formats/cin-census.js';

export const COHORT_NAMES = [
  'all',
  'fsm',
  'non_fsm',
  'sen_ehcp',
  'non_sen_ehcp',
  'sen_support',
  'non_sen_support',
  'sen_none',
  'non_sen_none',
  'cin',
  'non_cin',
  'cpp',
  'non_cpp',
  'cla',
  'non_cla',
  'plac',
  'non_plac',
  'social_worker',
  'non_social_worker',
] as const;
export type CohortName = (typeof COHORT_NAMES)[number];

/** The cohorts an out-of-area school counts towards in LA figures (the Virtual School's). */
const VIRTUAL_SCHOOL_COHORT_NAMES: readonly CohortName[] = ['cla', 'plac', 'cin', 'cpp', 'social_worker'];

/** DfE codes and their category (docs/design.md §2.1), written out here so the oracle does not borrow the service's table. */
const CODE_CATEGORIES: ReadonlyArray<[string, Category]> = [
  ['/', 'present'],
  ['\\', 'present'],
  ['L', 'present'],
  ['K', 'approved'],
  ['V', 'approved'],
  ['P', 'approved'],
  ['W', 'approved'],
  ['B', 'approved'],
  ['C', 'authorised'],
  ['C1', 'authorised'],
  ['C2', 'authorised'],
  ['E', 'authorised'],
  ['I', 'authorised'],
  ['J1', 'authorised'],
  ['M', 'authorised'],
  ['R', 'authorised'],
  ['S', 'authorised'],
  ['T', 'authorised'],
  ['G', 'unauthorised'],
  ['N', 'unauthorised'],
  ['O', 'unauthorised'],
  ['U', 'unauthorised'],
  ['D', 'not_possible'],
  ['Q', 'not_possible'],
  ['X', 'not_possible'],
  ['Y1', 'not_possible'],
  ['Y2', 'not_possible'],
  ['Y3', 'not_possible'],
  ['Y4', 'not_possible'],
  ['Y5', 'not_possible'],
  ['Y6', 'not_possible'],
  ['Y7', 'not_possible'],
  ['Z', 'administrative'],
  ['#', 'administrative'],
  // Legacy codes (registers before 19 August 2024).
  ['H', 'authorised'],
  ['F', 'authorised'],
  ['J', 'approved'],
  ['Y', 'not_possible'],
];
type Category = 'present' | 'approved' | 'authorised' | 'unauthorised' | 'not_possible' | 'administrative';

export type Dimension = 'none' | 'cohort' | 'school' | 'phase' | 'year_group' | 'sex' | 'week';
const DIMENSIONS: readonly Dimension[] = ['none', 'cohort', 'school', 'phase', 'year_group', 'sex', 'week'];
export type Population = 'all' | 'compulsory';

export interface OracleRow {
  /** 'la', or the school's URN for scope=school. */
  scope: string;
  population: Population;
  dimension: Dimension;
  cohort: CohortName;
  key: { cohort?: string; urn?: string; phase?: string; yearGroup?: string; sex?: string; week?: string };
  enrolments: number;
  possibleSessions: number;
  attendedSessions: number;
  presentSessions: number;
  approvedActivitySessions: number;
  authorisedAbsenceSessions: number;
  unauthorisedAbsenceSessions: number;
  absenceSessions: number;
  lateSessions: number;
  attendanceRate: number | null;
  absenceRate: number | null;
  authorisedAbsenceRate: number | null;
  unauthorisedAbsenceRate: number | null;
  codes: Record<string, number>;
  persistentAbsenceCount: number;
  persistentAbsenceRate: number | null;
  severeAbsenceCount: number;
  severeAbsenceRate: number | null;
}

export interface OraclePupil {
  upn: string;
  urns: string[];
  possibleSessions: number;
  absenceSessions: number;
  unauthorisedAbsenceSessions: number;
  persistentAbsence: boolean;
  severeAbsence: boolean;
  atRiskOfPersistentAbsence: boolean;
}

export interface CareSpan {
  upn: string;
  cohort: 'cla' | 'cin' | 'cpp' | 'plac';
  /** First and last day (inclusive, ISO); no end = still open. */
  start: string;
  end?: string;
}

export interface MetricsRequest {
  from: string;
  to: string;
  /** 'la' and/or 'school' (every school); default both. */
  scopes?: ReadonlyArray<'la' | 'school'>;
  dimensions?: readonly Dimension[];
  populations?: readonly Population[];
}

const sqlString = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** One DuckDB database holding an LA's raw rows; derived tables are rebuilt by `prepare`. */
export class DuckDbLa {
  private files = 0;
  private prepared = false;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly db: DuckDBConnection,
    readonly laCode: string,
    readonly academicYear: number,
  ) {}

  /**
   * An empty database for one LA and academic year (the year starting 1 August `academicYear`).
   * `path` keeps the database on disk (large LAs); `threads` and `memoryLimit` bound DuckDB.
   */
  static async open(options: {
    laCode: string;
    academicYear: number;
    path?: string;
    threads?: number;
    memoryLimit?: string;
    tempDirectory?: string;
    /** Open the database `path` already holds (closed while the service is timed), not a new one. */
    existing?: boolean;
  }): Promise<DuckDbLa> {
    const config: Record<string, string> = {};
    if (options.threads) config.threads = String(options.threads);
    if (options.memoryLimit) config.memory_limit = options.memoryLimit;
    if (options.tempDirectory) config.temp_directory = options.tempDirectory;
    const instance = await DuckDBInstance.create(options.path ?? ':memory:', config);
    const db = await instance.connect();
    const la = new DuckDbLa(instance, db, options.laCode, options.academicYear);
    if (options.existing) la.files = await la.rowsIn('return_file');
    else await la.createTables();
    return la;
  }

  private async run(sql: string): Promise<void> {
    await this.db.run(sql);
  }

  private async rows<T>(sql: string): Promise<T[]> {
    return (await this.db.runAndReadAll(sql)).getRowObjectsJS() as T[];
  }

  private async createTables(): Promise<void> {
    await this.run(`
      CREATE TABLE code_category (code VARCHAR PRIMARY KEY, category VARCHAR NOT NULL);
      INSERT INTO code_category VALUES ${CODE_CATEGORIES.map(([c, k]) => `(${sqlString(c)}, ${sqlString(k)})`).join(', ')};
      CREATE TABLE school (urn VARCHAR PRIMARY KEY, phase VARCHAR, out_of_area BOOLEAN NOT NULL);
      CREATE TABLE care (upn VARCHAR NOT NULL, cohort VARCHAR NOT NULL, start_date DATE NOT NULL, end_date DATE);
      -- seq: the order the returns were sent in (a later return replaces an earlier mark).
      CREATE TABLE return_file (seq INTEGER PRIMARY KEY, path VARCHAR NOT NULL);
      CREATE TABLE raw (
        seq INTEGER, urn VARCHAR, upn VARCHAR, d DATE, am VARCHAR, pm VARCHAR,
        dob DATE, sex VARCHAR, year_group VARCHAR,
        fsm VARCHAR, sen VARCHAR, cla VARCHAR, plac VARCHAR, cin VARCHAR, cpp VARCHAR
      );
    `);
  }

  /** The school registry from a GIAS extract: phase (type first for special schools and PRUs) and in or out of the LA. */
  async loadRegistry(giasCsvPath: string): Promise<void> {
    await this.run(`
      INSERT INTO school
      SELECT trim(URN),
        CASE
          WHEN lower(t) LIKE '%special%' THEN 'special'
          WHEN lower(t) LIKE '%pupil referral%' OR lower(t) LIKE '%alternative provision%' THEN 'pru'
          WHEN lower(p) = 'primary' THEN 'primary'
          WHEN lower(p) = 'secondary' THEN 'secondary'
          WHEN lower(p) = 'nursery' THEN 'nursery'
          WHEN lower(p) LIKE 'middle deemed%' THEN 'middle'
          WHEN lower(p) IN ('all-through', 'all through') THEN 'all_through'
          WHEN lower(p) = '16 plus' THEN 'post16'
          ELSE 'other'
        END,
        trim("LA (code)") <> ${sqlString(this.laCode)}
      FROM (SELECT *, "TypeOfEstablishment (name)" AS t, "PhaseOfEducation (name)" AS p
            FROM read_csv(${sqlString(resolve(giasCsvPath))}, header = true, all_varchar = true, quote = '"', escape = '"'))`);
  }

  async loadCare(spans: readonly CareSpan[]): Promise<void> {
    if (spans.length === 0) return;
    const values = spans.map(
      (s) =>
        `(${sqlString(s.upn)}, ${sqlString(s.cohort)}, DATE ${sqlString(s.start)}, ${s.end ? `DATE ${sqlString(s.end)}` : 'NULL'})`,
    );
    for (let i = 0; i < values.length; i += 5000)
      await this.run(`INSERT INTO care VALUES ${values.slice(i, i + 5000).join(', ')}`);
  }

  /**
   * Append daily-return CSV files, in the order the service received them. `columns`: the files'
   * header when every file has the same one (the generator's RETURN_COLUMNS), which spares DuckDB
   * sniffing each file; otherwise each file's header is read.
   */
  async addReturns(paths: readonly string[], columns?: readonly string[]): Promise<void> {
    if (paths.length === 0) return;
    const abs = paths.map((p) => resolve(p));
    const first = this.files;
    for (let i = 0; i < abs.length; i += 5000) {
      await this.run(
        `INSERT INTO return_file VALUES ${abs
          .slice(i, i + 5000)
          .map((p, j) => `(${first + i + j}, ${sqlString(p)})`)
          .join(', ')}`,
      );
    }
    this.files += abs.length;
    const yearStart = `${this.academicYear}-08-01`;
    const yearEnd = `${this.academicYear + 1}-07-31`;
    const text = (c: string) => `nullif(upper(trim(r.${c})), '')`;
    const layout = columns
      ? `header = true, auto_detect = false, delim = ',', quote = '"', escape = '"', columns = {${columns.map((c) => `${sqlString(c)}: 'VARCHAR'`).join(', ')}}`
      : `header = true, all_varchar = true, quote = '"', escape = '"'`;
    // Batches keep the statement (which names every file) a manageable size.
    for (let i = 0; i < abs.length; i += 20_000) {
      const batch = abs.slice(i, i + 20_000);
      await this.run(`
        INSERT INTO raw
        SELECT f.seq, trim(r.urn), upper(trim(r.upn)), CAST(trim(r.date) AS DATE),
          coalesce(upper(trim(r.am)), ''), coalesce(upper(trim(r.pm)), ''),
          CAST(nullif(trim(r.dob), '') AS DATE), ${text('sex')}, ${text('year_group')},
          ${text('fsm')}, ${text('sen')}, ${text('cla')}, ${text('plac')}, ${text('cin')}, ${text('cpp')}
        FROM read_csv([${batch.map(sqlString).join(', ')}], ${layout}, filename = true) r
        JOIN return_file f ON f.path = r.filename
        WHERE CAST(trim(r.date) AS DATE) BETWEEN DATE '${yearStart}' AND DATE '${yearEnd}'`);
    }
    this.prepared = false;
  }

  /** Rows held so far (after the academic-year filter). */
  async rowCount(): Promise<number> {
    return this.rowsIn('raw');
  }

  private async rowsIn(table: 'raw' | 'return_file'): Promise<number> {
    return Number((await this.rows<{ n: bigint }>(`SELECT count(*) AS n FROM ${table}`))[0].n);
  }

  /**
   * Derived tables: each session's final mark, each pupil-day's characteristics in force, and each
   * enrolment's details. Rebuilt from `raw` every time (the analyst's "recompute year to date").
   */
  async prepare(): Promise<void> {
    await this.run(`
      -- The final mark of each session: the latest return's code; "not yet marked" never erases a code.
      CREATE OR REPLACE TABLE mark AS
      SELECT urn, upn, d, session, arg_max(code, seq) AS code
      FROM (
        SELECT seq, urn, upn, d, 'AM' AS session, am AS code FROM raw
        UNION ALL
        SELECT seq, urn, upn, d, 'PM' AS session, pm AS code FROM raw
      )
      WHERE code NOT IN ('', '-')
      GROUP BY urn, upn, d, session;

      -- What the school stated on each date (the latest return for that date wins), carried forward
      -- to later dates until restated: characteristics are date-effective (docs/design.md §2.4).
      CREATE OR REPLACE TABLE pupil_day AS
      WITH stated AS (
        SELECT urn, upn, d,
          arg_max(fsm, seq) FILTER (WHERE fsm IS NOT NULL) AS fsm,
          arg_max(sen, seq) FILTER (WHERE sen IS NOT NULL) AS sen,
          arg_max(cla, seq) FILTER (WHERE cla IS NOT NULL) AS cla,
          arg_max(plac, seq) FILTER (WHERE plac IS NOT NULL) AS plac,
          arg_max(cin, seq) FILTER (WHERE cin IS NOT NULL) AS cin,
          arg_max(cpp, seq) FILTER (WHERE cpp IS NOT NULL) AS cpp
        FROM raw GROUP BY urn, upn, d
      ),
      in_force AS (
        SELECT urn, upn, d,
          coalesce(last_value(fsm IGNORE NULLS) OVER w, 'N') AS fsm,
          coalesce(last_value(sen IGNORE NULLS) OVER w, 'N') AS sen,
          coalesce(last_value(cla IGNORE NULLS) OVER w, 'N') AS cla,
          coalesce(last_value(plac IGNORE NULLS) OVER w, 'N') AS plac,
          coalesce(last_value(cin IGNORE NULLS) OVER w, 'N') AS cin,
          coalesce(last_value(cpp IGNORE NULLS) OVER w, 'N') AS cpp
        FROM stated
        WINDOW w AS (PARTITION BY urn, upn ORDER BY d ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
      ),
      -- LA social-care episodes covering the date.
      care_on AS (
        SELECT p.urn, p.upn, p.d,
          bool_or(c.cohort = 'cla') AS cla, bool_or(c.cohort = 'plac') AS plac,
          bool_or(c.cohort = 'cin') AS cin, bool_or(c.cohort = 'cpp') AS cpp
        FROM in_force p JOIN care c
          ON c.upn = p.upn AND c.start_date <= p.d AND (c.end_date IS NULL OR p.d <= c.end_date)
        GROUP BY p.urn, p.upn, p.d
      )
      SELECT p.urn, p.upn, p.d,
        p.fsm = 'Y' AS fsm,
        p.sen,
        p.cla = 'Y' OR coalesce(c.cla, false) AS cla,
        p.plac = 'Y' OR coalesce(c.plac, false) AS plac,
        p.cin = 'Y' OR coalesce(c.cin, false) AS cin,
        p.cpp = 'Y' OR coalesce(c.cpp, false) AS cpp
      FROM in_force p LEFT JOIN care_on c USING (urn, upn, d);

      -- Each enrolment's year group, sex and date of birth: the latest-dated row stating them.
      CREATE OR REPLACE TABLE enrolment AS
      WITH detail AS (
        SELECT urn, upn,
          arg_max(year_group, (d, seq)) FILTER (WHERE year_group IS NOT NULL) AS year_group,
          arg_max(sex, (d, seq)) FILTER (WHERE sex IS NOT NULL) AS sex,
          arg_max(dob, (d, seq)) FILTER (WHERE dob IS NOT NULL) AS dob
        FROM raw GROUP BY urn, upn
      )
      SELECT urn, upn, coalesce(year_group, 'unknown') AS year_group, coalesce(sex, 'unknown') AS sex,
        -- Aged 5–15 on 31 August before the academic year; Years 1–11 without a date of birth.
        CASE WHEN dob IS NOT NULL
             THEN ${this.academicYear} - year(dob) - (CASE WHEN strftime(dob, '%m-%d') > '08-31' THEN 1 ELSE 0 END) BETWEEN 5 AND 15
             ELSE year_group IN ('1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11')
        END AS compulsory
      FROM detail;
    `);
    this.prepared = true;
  }

  /**
   * Every metrics row of the period (inclusive ISO dates) for the scopes, dimensions and
   * populations asked, for every cohort — what GET /v1/metrics answers, one row per group.
   */
  async metricRows(request: MetricsRequest): Promise<OracleRow[]> {
    if (!this.prepared) await this.prepare();
    const scopes = request.scopes ?? ['la', 'school'];
    const dims = request.dimensions ?? DIMENSIONS;
    const pops = request.populations ?? ['all', 'compulsory'];
    const withWeeks = dims.includes('week');
    await this.run(`
      -- Sessions of the period with what held on their date, counted per enrolment, membership
      -- (and week) and code.
      CREATE OR REPLACE TEMP TABLE tally AS
      SELECT m.urn, m.upn, ${withWeeks ? "strftime(date_trunc('week', m.d), '%Y-%m-%d')" : "''"} AS week,
        p.fsm, p.sen, p.cla, p.plac, p.cin, p.cpp, m.code, count(*) AS n
      FROM mark m JOIN pupil_day p USING (urn, upn, d)
      WHERE m.d BETWEEN DATE ${sqlString(request.from)} AND DATE ${sqlString(request.to)}
      GROUP BY ALL;

      -- Each tally line in every cohort its membership puts it in (docs/design.md §2.4), with the
      -- enrolment's details, the school's phase and place, and the code's category.
      CREATE OR REPLACE TEMP TABLE cohort_tally AS
      SELECT t.urn, t.upn, t.week, c.cohort, t.code, k.category, t.n,
        e.year_group, e.sex, e.compulsory, coalesce(s.phase, 'unknown') AS phase, coalesce(s.out_of_area, false) AS out_of_area
      FROM tally t
      JOIN code_category k USING (code)
      JOIN enrolment e USING (urn, upn)
      LEFT JOIN school s USING (urn),
      UNNEST([
        'all',
        CASE WHEN fsm THEN 'fsm' ELSE 'non_fsm' END,
        CASE WHEN sen = 'E' THEN 'sen_ehcp' ELSE 'non_sen_ehcp' END,
        CASE WHEN sen = 'K' THEN 'sen_support' ELSE 'non_sen_support' END,
        CASE WHEN sen NOT IN ('E', 'K') THEN 'sen_none' ELSE 'non_sen_none' END,
        CASE WHEN cin THEN 'cin' ELSE 'non_cin' END,
        CASE WHEN cpp THEN 'cpp' ELSE 'non_cpp' END,
        CASE WHEN cla THEN 'cla' ELSE 'non_cla' END,
        CASE WHEN plac THEN 'plac' ELSE 'non_plac' END,
        CASE WHEN cin OR cpp OR cla THEN 'social_worker' ELSE 'non_social_worker' END
      ]) AS c(cohort);
    `);
    // A cohort-enrolment: one enrolment's sessions in one cohort (and one week, for the week rows).
    const cohortEnrolments = (byWeek: boolean) => `
      CREATE OR REPLACE TEMP TABLE ${byWeek ? 'cohort_enrolment_week' : 'cohort_enrolment'} AS
      SELECT urn, upn, cohort, ${byWeek ? 'week' : "'' AS week"}, year_group, sex, compulsory, phase, out_of_area,
        coalesce(sum(n) FILTER (WHERE category = 'present'), 0) AS present,
        coalesce(sum(n) FILTER (WHERE category = 'approved'), 0) AS approved,
        coalesce(sum(n) FILTER (WHERE category = 'authorised'), 0) AS authorised,
        coalesce(sum(n) FILTER (WHERE category = 'unauthorised'), 0) AS unauthorised,
        coalesce(sum(n) FILTER (WHERE code IN ('L', 'U')), 0) AS late,
        coalesce(sum(n) FILTER (WHERE category IN ('present', 'approved', 'authorised', 'unauthorised')), 0) AS possible,
        coalesce(sum(n) FILTER (WHERE category IN ('authorised', 'unauthorised')), 0) AS absence
      FROM cohort_tally
      GROUP BY urn, upn, cohort, ${byWeek ? 'week, ' : ''}year_group, sex, compulsory, phase, out_of_area`;
    await this.run(cohortEnrolments(false));
    if (withWeeks) await this.run(cohortEnrolments(true));

    const keyCols: Record<Dimension, string[]> = {
      none: [],
      cohort: [],
      school: ['urn', 'phase'],
      phase: ['phase'],
      year_group: ['year_group'],
      sex: ['sex'],
      week: ['week'],
    };
    const counts: string[] = [];
    const codes: string[] = [];
    for (const scope of scopes) {
      for (const dim of dims) {
        const cols = keyCols[dim];
        // LA figures: the LA's own schools, and out-of-area schools for the Virtual School's cohorts only.
        const inScope =
          scope === 'la'
            ? `(NOT out_of_area OR cohort IN (${VIRTUAL_SCHOOL_COHORT_NAMES.map(sqlString).join(', ')}))`
            : 'true';
        const groupBy = [
          ...(scope === 'school' ? ['urn'] : []),
          'pop.population',
          'cohort',
          ...cols.filter((c) => scope === 'la' || c !== 'urn'),
        ];
        const head = `${scope === 'la' ? `'la'` : 'urn'} AS scope, pop.population, '${dim}' AS dimension, cohort,
            ${['urn', 'phase', 'year_group', 'sex', 'week'].map((c) => `${cols.includes(c) ? c : 'NULL'} AS key_${c}`).join(', ')}`;
        const where = `WHERE ${inScope} AND (pop.population = 'all' OR compulsory)`;
        const popTable = `(VALUES ${pops.map((x) => `('${x}')`).join(', ')}) AS pop(population)`;
        counts.push(`
          SELECT ${head},
            count(*) FILTER (WHERE possible > 0) AS enrolments,
            count(*) FILTER (WHERE possible > 0 AND absence * 10 >= possible) AS pa,
            count(*) FILTER (WHERE possible > 0 AND absence * 2 >= possible) AS sa,
            sum(present) AS present, sum(approved) AS approved, sum(authorised) AS authorised,
            sum(unauthorised) AS unauthorised, sum(late) AS late
          FROM ${dim === 'week' ? 'cohort_enrolment_week' : 'cohort_enrolment'}, ${popTable}
          ${where}
          GROUP BY ${groupBy.join(', ')}`);
        codes.push(`
          SELECT ${head}, code, sum(n) AS n
          FROM cohort_tally, ${popTable}
          ${where}
          GROUP BY ${[...groupBy, 'code'].join(', ')}`);
      }
    }
    const idOf = (r: Record<string, unknown>) =>
      ['scope', 'population', 'dimension', 'cohort', 'key_urn', 'key_phase', 'key_year_group', 'key_sex', 'key_week']
        .map((k) => String(r[k] ?? ''))
        .join('|');
    const codeCounts = new Map<string, Record<string, number>>();
    for (const r of await this.rows<Record<string, unknown>>(codes.join('\nUNION ALL\n'))) {
      const id = idOf(r);
      let c = codeCounts.get(id);
      if (!c) codeCounts.set(id, (c = {}));
      c[r.code as string] = Number(r.n);
    }
    return (await this.rows<Record<string, unknown>>(counts.join('\nUNION ALL\n'))).map((r) =>
      toOracleRow(r, codeCounts.get(idOf(r)) ?? {}),
    );
  }

  /**
   * Each pupil's figures over the period, summed across all their schools (in and out of the LA),
   * with the PA / SA / at-risk thresholds applied to the combined counts.
   */
  async pupils(from: string, to: string, atRiskLowerPercent = 5): Promise<OraclePupil[]> {
    if (!this.prepared) await this.prepare();
    // `urns`: every school whose returns list the pupil in the academic year.
    const rows = await this.rows<{
      upn: string;
      urns: string[];
      possible: number;
      absence: number;
      unauthorised: number;
    }>(`
      WITH listed AS (SELECT upn, list_sort(list(DISTINCT urn)) AS urns FROM raw GROUP BY upn),
      counted AS (
        SELECT upn,
          CAST(count(*) FILTER (WHERE k.category IN ('present', 'approved', 'authorised', 'unauthorised')) AS INTEGER) AS possible,
          CAST(count(*) FILTER (WHERE k.category IN ('authorised', 'unauthorised')) AS INTEGER) AS absence,
          CAST(count(*) FILTER (WHERE k.category = 'unauthorised') AS INTEGER) AS unauthorised
        FROM mark m JOIN code_category k USING (code)
        WHERE m.d BETWEEN DATE ${sqlString(from)} AND DATE ${sqlString(to)}
        GROUP BY upn
      )
      SELECT upn, urns, possible, absence, unauthorised FROM counted JOIN listed USING (upn)`);
    return rows.map((r) => ({
      upn: r.upn,
      urns: r.urns,
      possibleSessions: r.possible,
      absenceSessions: r.absence,
      unauthorisedAbsenceSessions: r.unauthorised,
      persistentAbsence: r.possible > 0 && r.absence * 10 >= r.possible,
      severeAbsence: r.possible > 0 && r.absence * 2 >= r.possible,
      atRiskOfPersistentAbsence:
        r.possible > 0 && r.absence * 100 >= atRiskLowerPercent * r.possible && r.absence * 10 < r.possible,
    }));
  }

  close(): void {
    this.db.closeSync();
    this.instance.closeSync();
  }
}

function toOracleRow(r: Record<string, unknown>, codes: Record<string, number>): OracleRow {
  const n = (k: string) => Number(r[k] ?? 0);
  const present = n('present');
  const approved = n('approved');
  const authorised = n('authorised');
  const unauthorised = n('unauthorised');
  const possible = present + approved + authorised + unauthorised;
  const enrolments = n('enrolments');
  const rate = (x: number) => (possible > 0 ? (x / possible) * 100 : null);
  const prate = (x: number) => (enrolments > 0 ? (x / enrolments) * 100 : null);
  const cohort = r.cohort as CohortName;
  const key: OracleRow['key'] = { cohort };
  const keys = {
    urn: 'key_urn',
    phase: 'key_phase',
    yearGroup: 'key_year_group',
    sex: 'key_sex',
    week: 'key_week',
  } as const;
  for (const [k, col] of Object.entries(keys) as Array<[keyof typeof keys, string]>)
    if (r[col] !== null && r[col] !== undefined) key[k] = String(r[col]);
  return {
    scope: String(r.scope),
    population: r.population as Population,
    dimension: r.dimension as Dimension,
    cohort,
    key,
    enrolments,
    possibleSessions: possible,
    attendedSessions: present + approved,
    presentSessions: present,
    approvedActivitySessions: approved,
    authorisedAbsenceSessions: authorised,
    unauthorisedAbsenceSessions: unauthorised,
    absenceSessions: authorised + unauthorised,
    lateSessions: n('late'),
    attendanceRate: rate(present + approved),
    absenceRate: rate(authorised + unauthorised),
    authorisedAbsenceRate: rate(authorised),
    unauthorisedAbsenceRate: rate(unauthorised),
    codes,
    persistentAbsenceCount: n('pa'),
    persistentAbsenceRate: prate(n('pa')),
    severeAbsenceCount: n('sa'),
    severeAbsenceRate: prate(n('sa')),
  };
}

// ---- A generated LA (local/synthetic) ------------------------------------------------------------

interface GeneratedManifest {
  laCode: string;
  from: string;
  files: Array<{ path: string; urn: string; role: string; kind: string; date: string; dates?: string[] }>;
}

export function readManifestOf(dir: string): GeneratedManifest {
  return JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as GeneratedManifest;
}

/** The LA's social-care episodes from a generated LA's SSDA903 and CIN census files, by the service's parsers. */
export function careSpansOf(dir: string, today: string): CareSpan[] {
  const ssda903 = importSsda903(
    {
      header: readFileSync(join(dir, 'social-care/header.csv')),
      episodes: readFileSync(join(dir, 'social-care/episodes.csv')),
    },
    { today },
  );
  const cin = importCinCensus(readFileSync(join(dir, 'social-care/cin-census.xml')), { today });
  return [...ssda903.episodes, ...cin.episodes].map((e) => ({
    upn: e.upn,
    cohort: e.cohort,
    start: e.start,
    ...(e.end ? { end: e.end } : {}),
  }));
}

/**
 * A generated LA's registry, care lists and returns (the first `files` of the manifest, default all,
 * in manifest order) in a DuckDB database.
 */
export async function openGeneratedLa(
  dir: string,
  options: {
    today: string;
    files?: number;
    columns?: readonly string[];
    path?: string;
    threads?: number;
    memoryLimit?: string;
    tempDirectory?: string;
  },
): Promise<DuckDbLa> {
  const manifest = readManifestOf(dir);
  const year = Number(manifest.from.slice(0, 4)) - (manifest.from.slice(5) < '08-01' ? 1 : 0);
  const la = await DuckDbLa.open({
    laCode: manifest.laCode,
    academicYear: year,
    path: options.path,
    threads: options.threads,
    memoryLimit: options.memoryLimit,
    tempDirectory: options.tempDirectory,
  });
  await la.loadRegistry(join(dir, 'schools.csv'));
  await la.loadCare(careSpansOf(dir, options.today));
  await la.addReturns(
    manifest.files.slice(0, options.files ?? manifest.files.length).map((f) => join(dir, f.path)),
    options.columns,
  );
  return la;
}
