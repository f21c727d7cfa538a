/**
 * Generate a synthetic local authority into a directory, deterministically from a seed:
 *
 *   schools.csv                      GIAS-style registry (in-area schools, then out-of-area ones)
 *   calendar/calendar.csv            LA term dates (urn empty) and academies' own dates (urn set)
 *   calendar/la.ics, calendar/academy-<urn>.ics   the same as iCalendar files
 *   social-care/header.csv, episodes.csv          SSDA903 extract (looked after, previously looked after)
 *   social-care/cin-census.xml       CIN census (children in need, protection plans)
 *   returns/<date>/<urn>.csv         one daily return per school per day with sessions
 *   corrections/<date>/<urn>.csv     a school's corrections of the week's `N` marks
 *   manifest.json                    what to upload, in order, and by whom
 *   ground-truth.json                every planted behaviour and control, with dates and codes
 *
 * Same options → byte-identical files (no clock, no Math.random, fixed iteration order). The
 * returns are generated day by day from per-pupil state, so memory does not grow with the range.
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_LA_SETTINGS, LOCAL_LA_CODE, LOCAL_LA_NAME } from '../../shared/config.js';
import { compulsorySchoolAge } from '../../shared/domain/compulsory-school-age.js';
import {
  academicYearOf,
  academicYearStart,
  dayNumber,
  fromDayNumber,
  isIsoDate,
  weekdayIndex,
} from '../../shared/domain/dates.js';
import { planBehaviours, type Behaviour, type BackgroundEvent } from './behaviours.js';
import {
  bankHolidaysCover,
  calendarCsvRows,
  calendarIcs,
  DAY_CLOSED,
  DAY_INSET,
  termCalendar,
  type CalendarVariant,
  type TermCalendar,
} from './calendar.js';
import { DFE_CHARACTERISTICS, DFE_HEADLINES, DFE_REASON_PERCENT, PREVALENCE } from './calibration.js';
import { planDuties, type DutiesPlan } from './duties.js';
import type { PupilModel } from './model.js';
import {
  buildPopulation,
  expectedHere,
  registrationOn,
  yearGroupName,
  type Enrolment,
  type Population,
  type Pupil,
  type SchoolRuntime,
} from './population.js';
import { fitModels } from './propensity.js';
import { Random } from './random.js';
import { buildRegistry, giasCsv } from './registry.js';
import { cinCensusXml, ssda903Files } from './social-care.js';
import { Timetable } from './timetable.js';

export interface GenerateOptions {
  /** Schools in the LA (out-of-area schools holding its looked-after children are added). */
  schools: number;
  /** Pupils on roll in the LA's schools at the start (joiners and out-of-area placements are added). */
  pupils: number;
  /** First and last date (YYYY-MM-DD, inclusive), within one academic year (1 Aug – 31 Jul). */
  from: string;
  to: string;
  seed: string | number;
  /** Output directory (created; must be empty unless `overwrite`). */
  out: string;
  /** Three-digit LA code (default LOCAL_LA_CODE '999'): UPN characters 2–4 and the registry. */
  laCode?: string;
  laName?: string;
  /**
   * 'every-row' (default): every row states the pupil's characteristics, as MIS exports do.
   * 'on-change': only a pupil's first row in the range and rows where something changed do
   * (about 60% smaller; empty means "not stated", so the characteristics carry over).
   */
  characteristics?: 'every-row' | 'on-change';
  /** Replace the generator's own files in a non-empty `out` (other files and directories are left alone). */
  overwrite?: boolean;
  /** Files written at once (default 8). */
  concurrency?: number;
  onProgress?: (progress: GenerateProgress) => void;
}

export interface GenerateProgress {
  stage: 'setup' | 'returns' | 'done';
  /** Days of the range done, out of `days`. */
  day: number;
  days: number;
  date?: string;
  files: number;
  rows: number;
  bytes: number;
}

export type ManifestRole = 'school' | 'vsh' | 'admin' | 'la_officer';

/** One upload, in order. */
export interface ManifestFile {
  path: string;
  urn: string;
  role: 'school' | 'vsh';
  /** daily: a school's return for `date`; correction: later corrections of `dates`; late: `date`'s return sent after the next day's. */
  kind: 'daily' | 'correction' | 'late';
  date: string;
  dates?: string[];
  listedAfter?: string;
}

export interface ManifestSetup {
  kind: 'registry' | 'calendar' | 'ssda903' | 'cin_census';
  role: ManifestRole;
  path: string;
  contentType: string;
  /** SSDA903 is two files sent together (multipart). */
  parts?: { header: string; episodes: string };
  /** The same content in another format (ICS calendars: one LA-wide, one per academy with its urn). */
  alternatives?: { path: string; contentType: string; urn?: string }[];
}

export interface GenerateSummary {
  out: string;
  seed: string;
  laCode: string;
  laName: string;
  from: string;
  to: string;
  academicYear: number;
  schools: {
    inArea: number;
    outOfArea: number;
    byPhase: Record<string, number>;
    ownCalendars: string[];
    insetHash: string[];
  };
  pupils: {
    inArea: number;
    outOfArea: number;
    joiners: number;
    moves: number;
    dualRegistrations: number;
    total: number;
  };
  /** School days (LA calendar) in the range. */
  schoolDays: number;
  files: { daily: number; corrections: number; late: number; total: number };
  rows: { daily: number; corrections: number };
  bytes: number;
  behaviours: Record<string, number>;
  skipped: { kind: string; reason: string }[];
  paths: {
    manifest: string;
    groundTruth: string;
    registry: string;
    calendarCsv: string;
    calendarIcs: string[];
    ssda903Header: string;
    ssda903Episodes: string;
    cinCensus: string;
  };
}

export const RETURN_COLUMNS = [
  'urn',
  'upn',
  'date',
  'am',
  'pm',
  'forename',
  'surname',
  'dob',
  'sex',
  'ethnicity',
  'year_group',
  'fsm',
  'sen',
  'cla',
  'plac',
  'cin',
  'cpp',
  'admission_date',
  'leaving_date',
  'deletion_ground',
  'destination',
  'registration',
  'uprn',
] as const;
const RETURN_HEADER = `${RETURN_COLUMNS.join(',')}\n`;
const EMPTY_TAIL = ','.repeat(RETURN_COLUMNS.length - 6);

/** Files and directories the generator owns in `out` (the only things `overwrite` removes). */
const OWN_ENTRIES = [
  'returns',
  'corrections',
  'calendar',
  'social-care',
  'schools.csv',
  'manifest.json',
  'ground-truth.json',
];

export async function generateLa(options: GenerateOptions): Promise<GenerateSummary> {
  const o = checkOptions(options);
  const report = options.onProgress ?? (() => undefined);
  report({ stage: 'setup', day: 0, days: 0, files: 0, rows: 0, bytes: 0 });

  const root = new Random(`attendance-hub/synthetic-la/${o.seed}`);
  const yearStart = dayNumber(academicYearStart(o.academicYear));
  const fromIdx = dayNumber(o.from) - yearStart;
  const toIdx = dayNumber(o.to) - yearStart;

  const registry = buildRegistry({ schools: o.schools, pupils: o.pupils, laCode: o.laCode }, root.stream('registry'));
  const variants = [...new Set<CalendarVariant>(['la', ...registry.schools.map((s) => s.calendar)])];
  const calendars = new Map<string, TermCalendar>(variants.map((v) => [v, termCalendar(o.academicYear, v)]));
  const timetables = new Map<string, Timetable>(
    variants.map((v) => [v, new Timetable(calendars.get(v) as TermCalendar)]),
  );
  const pop = buildPopulation(
    registry,
    calendars,
    { laCode: o.laCode, academicYear: o.academicYear, fromIdx, toIdx },
    root.stream('population'),
  );
  const inAreaPupils = pop.pupils.filter((p) => !p.outOfArea).length;
  const plan = planBehaviours(
    pop,
    timetables,
    { fromIdx, toIdx, academicYear: o.academicYear, inAreaPupils, inAreaSchools: registry.inArea.length },
    root.stream('behaviours'),
  );
  const models = fitModels(pop, plan.plans, timetables, { fromIdx, toIdx }, root.stream('propensity'));
  // The 15-day illness rule counts only sessions of compulsory school age (docs/design.md §2.5), so the
  // incidental illnesses the ground truth lists are counted the same way.
  for (const p of pop.pupils) {
    const span = compulsorySchoolAge(p.dob);
    if (!span) continue;
    models[p.index].statutoryFromDay = dayNumber(span.from) - yearStart;
    models[p.index].statutoryToDay = dayNumber(span.to) - yearStart;
  }
  plan.plans.clear(); // each model now holds its own planned days
  // Admission-register duties (issue 20): late notifications, grounds and destinations of deletions.
  const duties = planDuties(pop, timetables, { fromIdx, toIdx }, root.stream('duties'));

  await prepareOut(o.out, o.overwrite);
  const files = new FileSink(o.out, o.concurrency);

  // Registry, calendars, social care.
  const neighbourName = (code: string): string => `Neighbouring authority ${code} (synthetic)`;
  await files.write('schools.csv', giasCsv(registry, o.laName, neighbourName));
  const own = registry.inArea.filter((s) => s.ownCalendar);
  const laCalendar = calendars.get('la') as TermCalendar;
  const csvRows = ['start_date,end_date,label,urn', ...calendarCsvRows(laCalendar.closures, '')];
  for (const s of own) csvRows.push(...calendarCsvRows((calendars.get(s.calendar) as TermCalendar).closures, s.urn));
  await files.write('calendar/calendar.csv', `${csvRows.join('\r\n')}\r\n`);
  const icsPaths = ['calendar/la.ics'];
  await files.write(
    'calendar/la.ics',
    calendarIcs(
      laCalendar.closures,
      `${o.laName} term dates ${o.academicYear}/${(o.academicYear + 1) % 100}`,
      `la-${o.laCode}-${o.academicYear}`,
      o.to,
    ),
  );
  for (const s of own) {
    const path = `calendar/academy-${s.urn}.ics`;
    icsPaths.push(path);
    await files.write(
      path,
      calendarIcs(
        (calendars.get(s.calendar) as TermCalendar).closures,
        `${s.name} term dates`,
        `school-${s.urn}-${o.academicYear}`,
        o.to,
      ),
    );
  }
  const ssda = ssda903Files(pop.pupils);
  await files.write('social-care/header.csv', ssda.header);
  await files.write('social-care/episodes.csv', ssda.episodes);
  const cin = cinCensusXml(pop.pupils, { laCode: o.laCode, academicYear: o.academicYear, stamp: o.to });
  await files.write('social-care/cin-census.xml', cin.xml);

  const setup: ManifestSetup[] = [
    { kind: 'registry', role: 'admin', path: 'schools.csv', contentType: 'text/csv' },
    {
      kind: 'calendar',
      role: 'admin',
      path: 'calendar/calendar.csv',
      contentType: 'text/csv',
      alternatives: icsPaths.map((path, i) =>
        i === 0 ? { path, contentType: 'text/calendar' } : { path, contentType: 'text/calendar', urn: own[i - 1].urn },
      ),
    },
    {
      kind: 'ssda903',
      role: 'la_officer',
      path: 'social-care/header.csv',
      contentType: 'text/csv',
      parts: { header: 'social-care/header.csv', episodes: 'social-care/episodes.csv' },
    },
    { kind: 'cin_census', role: 'la_officer', path: 'social-care/cin-census.xml', contentType: 'application/xml' },
  ];
  const manifest = new ManifestWriter(files, {
    format: 'attendance-hub/synthetic-manifest',
    version: 1,
    seed: o.seed,
    laCode: o.laCode,
    laName: o.laName,
    from: o.from,
    to: o.to,
    setup,
  });

  // Returns, day by day.
  const run = new ReturnWriter(
    pop,
    models,
    timetables,
    o,
    files,
    manifest,
    root.stream('days'),
    toIdx,
    duties.deletions,
  );
  const days = toIdx - fromIdx + 1;
  for (let d = fromIdx; d <= toIdx; d++) {
    await run.day(d);
    report({
      stage: 'returns',
      day: d - fromIdx + 1,
      days,
      date: fromDayNumber(yearStart + d),
      files: run.fileCount(),
      rows: run.rows + run.correctionRows,
      bytes: files.bytes,
    });
  }
  await run.finish();
  const background = [...plan.background, ...incidentalIllness(pop, models, timetables, plan.behaviours, yearStart)];

  const counts: Record<string, number> = {};
  for (const b of plan.behaviours) counts[b.kind] = (counts[b.kind] ?? 0) + 1;
  const la = timetables.get('la') as Timetable;
  const byPhase: Record<string, number> = {};
  for (const s of registry.inArea) byPhase[s.phase] = (byPhase[s.phase] ?? 0) + 1;
  const summary: GenerateSummary = {
    out: o.out,
    seed: o.seed,
    laCode: o.laCode,
    laName: o.laName,
    from: o.from,
    to: o.to,
    academicYear: o.academicYear,
    schools: {
      inArea: registry.inArea.length,
      outOfArea: registry.outOfArea.length,
      byPhase,
      ownCalendars: own.map((s) => s.urn),
      insetHash: registry.inArea.filter((s) => s.insetHash).map((s) => s.urn),
    },
    pupils: {
      inArea: inAreaPupils,
      outOfArea: pop.pupils.length - inAreaPupils,
      joiners: pop.joiners.length,
      moves: pop.moves.length,
      dualRegistrations: pop.dualRegistrations.length,
      total: pop.pupils.length,
    },
    schoolDays: la.schoolDaysIn(fromIdx, toIdx).length,
    files: { daily: run.daily, corrections: run.corrections, late: run.late.length, total: run.fileCount() },
    rows: { daily: run.rows, corrections: run.correctionRows },
    bytes: 0,
    behaviours: counts,
    skipped: plan.skipped,
    paths: {
      manifest: 'manifest.json',
      groundTruth: 'ground-truth.json',
      registry: 'schools.csv',
      calendarCsv: 'calendar/calendar.csv',
      calendarIcs: icsPaths,
      ssda903Header: 'social-care/header.csv',
      ssda903Episodes: 'social-care/episodes.csv',
      cinCensus: 'social-care/cin-census.xml',
    },
  };

  await files.write(
    'ground-truth.json',
    groundTruthJson(
      o,
      plan.behaviours,
      background,
      plan.skipped,
      pop,
      run,
      registry.inArea.map((s) => s.urn),
      duties.truth,
    ),
  );
  await files.flush();
  summary.bytes = files.bytes;
  // The manifest's copy leaves out the output path, so the files do not depend on where they are written.
  const { out: _out, ...portable } = summary;
  await manifest.close(portable);
  await files.flush();
  summary.bytes = files.bytes;
  report({
    stage: 'done',
    day: days,
    days,
    files: run.fileCount(),
    rows: run.rows + run.correctionRows,
    bytes: files.bytes,
  });
  return summary;
}

interface CheckedOptions {
  schools: number;
  pupils: number;
  from: string;
  to: string;
  seed: string;
  out: string;
  laCode: string;
  laName: string;
  everyRow: boolean;
  overwrite: boolean;
  concurrency: number;
  academicYear: number;
}

function checkOptions(options: GenerateOptions): CheckedOptions {
  const whole = (n: number, name: string, min: number, max: number): number => {
    if (!Number.isInteger(n) || n < min || n > max)
      throw new RangeError(`${name} must be a whole number from ${min} to ${max}, got ${n}`);
    return n;
  };
  const schools = whole(options.schools, 'schools', 1, 5000);
  const pupils = whole(options.pupils, 'pupils', schools * 5, 2_000_000);
  for (const [name, v] of [
    ['from', options.from],
    ['to', options.to],
  ] as const) {
    if (!isIsoDate(v)) throw new RangeError(`${name} must be a date written YYYY-MM-DD, got '${v}'`);
  }
  if (options.to < options.from) throw new RangeError(`to (${options.to}) is before from (${options.from})`);
  const academicYear = academicYearOf(options.from);
  if (academicYearOf(options.to) !== academicYear) {
    throw new RangeError(
      `from and to must lie in one academic year (1 August – 31 July): ${options.from} is in ${academicYear}/${(academicYear + 1) % 100}, ${options.to} is not`,
    );
  }
  if (!bankHolidaysCover(academicYear))
    throw new RangeError(
      `the bank-holiday snapshot (shared/reference/bank-holidays.json) does not cover ${academicYear}/${(academicYear + 1) % 100}`,
    );
  const laCode = options.laCode ?? LOCAL_LA_CODE;
  if (!/^\d{3}$/.test(laCode)) throw new RangeError(`laCode must be three digits, got '${laCode}'`);
  if (!options.out) throw new RangeError('out (the output directory) is required');
  return {
    schools,
    pupils,
    from: options.from,
    to: options.to,
    seed: String(options.seed),
    out: options.out,
    laCode,
    laName: options.laName ?? (laCode === LOCAL_LA_CODE ? LOCAL_LA_NAME : `Local authority ${laCode} (synthetic)`),
    everyRow: (options.characteristics ?? 'every-row') === 'every-row',
    overwrite: options.overwrite ?? false,
    concurrency: Math.max(1, options.concurrency ?? 8),
    academicYear,
  };
}

/** An empty directory, or with `overwrite` one whose generator-written entries are removed (others are left alone). */
async function prepareOut(out: string, overwrite: boolean): Promise<void> {
  await mkdir(out, { recursive: true });
  const entries = await readdir(out);
  if (entries.length === 0) return;
  if (!overwrite)
    throw new Error(`${out} is not empty: choose an empty directory, or overwrite a synthetic LA there (--force)`);
  for (const e of entries) if (OWN_ENTRIES.includes(e)) await rm(join(out, e), { recursive: true, force: true });
}

/** Writes files with a few in flight at once, creating directories as needed, counting bytes. */
class FileSink {
  bytes = 0;
  private readonly dirs = new Set<string>();
  private readonly pending: Promise<void>[] = [];

  constructor(
    private readonly root: string,
    private readonly concurrency = 8,
  ) {}

  async write(path: string, content: string): Promise<void> {
    const slash = path.lastIndexOf('/');
    if (slash > 0) {
      const dir = path.slice(0, slash);
      if (!this.dirs.has(dir)) {
        await mkdir(join(this.root, dir), { recursive: true });
        this.dirs.add(dir);
      }
    }
    const data = Buffer.from(content, 'utf8');
    this.bytes += data.length;
    this.pending.push(writeFile(join(this.root, path), data));
    if (this.pending.length >= this.concurrency) await this.pending.shift();
  }

  /** Append to a file written in pieces (the manifest): sequential, not concurrent. */
  async append(path: string, content: string, first: boolean): Promise<void> {
    const data = Buffer.from(content, 'utf8');
    this.bytes += data.length;
    await writeFile(join(this.root, path), data, { flag: first ? 'w' : 'a' });
  }

  async flush(): Promise<void> {
    while (this.pending.length > 0) await this.pending.shift();
  }
}

/** manifest.json, streamed: the header, then one line per upload, then the summary. */
class ManifestWriter {
  private buffer: string[] = [];
  private started = false;
  private count = 0;

  constructor(
    private readonly files: FileSink,
    private readonly head: Record<string, unknown>,
  ) {}

  add(entry: ManifestFile): void {
    this.buffer.push(`${this.count++ === 0 ? '' : ',\n'}${JSON.stringify(entry)}`);
  }

  async flush(): Promise<void> {
    if (!this.started) {
      const head = JSON.stringify(this.head);
      await this.files.append('manifest.json', `${head.slice(0, -1)},\n"files":[\n`, true);
      this.started = true;
    }
    if (this.buffer.length === 0) return;
    const text = this.buffer.join('');
    this.buffer = [];
    await this.files.append('manifest.json', text, false);
  }

  async close(summary: Omit<GenerateSummary, 'out'>): Promise<void> {
    await this.flush();
    await this.files.append('manifest.json', `\n],\n"summary":${JSON.stringify(summary)}}\n`, false);
  }
}

interface PendingCorrection {
  dates: Set<string>;
  rows: string[];
}

/** The daily loop: every school with sessions writes its return; corrections and a late sender follow. */
class ReturnWriter {
  daily = 0;
  corrections = 0;
  rows = 0;
  correctionRows = 0;
  readonly late: { urn: string; date: string; listedAfter: string }[] = [];
  private readonly lateDays = new Set<number>();
  private readonly lateSchool: SchoolRuntime | undefined;
  private held: ManifestFile[] = [];
  private readonly pendingCorrections = new Map<number, PendingCorrection>();
  private readonly yearStart: number;

  constructor(
    private readonly pop: Population,
    private readonly models: PupilModel[],
    private readonly timetables: ReadonlyMap<string, Timetable>,
    private readonly o: CheckedOptions,
    private readonly files: FileSink,
    private readonly manifest: ManifestWriter,
    private readonly random: Random,
    private readonly toIdx: number,
    private readonly deletions: ReadonlyMap<Enrolment, { ground: string; destination: string }> = new Map(),
  ) {
    this.yearStart = dayNumber(academicYearStart(o.academicYear));
    // One primary on the LA calendar sends a return late now and then: day D's file after day D+1's.
    this.lateSchool =
      pop.schools.find(
        (s) => !s.spec.outOfArea && s.spec.phase === 'primary' && s.spec.calendar === 'la' && !s.spec.insetHash,
      ) ?? pop.schools.find((s) => !s.spec.outOfArea && s.spec.calendar === 'la');
    if (this.lateSchool) {
      const t = this.timetable(this.lateSchool);
      const days = t.schoolDaysIn(dayNumber(o.from) - this.yearStart, toIdx);
      for (let i = 4; i < days.length - 1; i += 25) {
        // Monday to Thursday, with the next school day in the same week (before that week's corrections).
        for (let j = i; j < Math.min(days.length - 1, i + 5); j++) {
          const d = days[j];
          const w = weekdayIndex(t.date(d));
          if (w <= 3 && days[j + 1] - d === 1) {
            this.lateDays.add(d);
            break;
          }
        }
      }
    }
  }

  fileCount(): number {
    return this.daily + this.corrections;
  }

  private timetable(s: SchoolRuntime): Timetable {
    return this.timetables.get(s.spec.calendar) as Timetable;
  }

  async day(d: number): Promise<void> {
    const date = fromDayNumber(this.yearStart + d);
    const weekday = weekdayIndex(date);
    for (const school of this.pop.schools) {
      const t = this.timetable(school);
      const status = t.calendar.status[d];
      if (status === DAY_CLOSED || (status === DAY_INSET && !school.spec.insetHash)) continue;
      const text = this.schoolDay(school, t, d, date, weekday, status === DAY_INSET);
      if (text === undefined) continue;
      const urn = school.spec.urn;
      const path = `returns/${date}/${urn}.csv`;
      await this.files.write(path, text);
      this.daily++;
      const entry: ManifestFile = { path, urn, role: school.spec.outOfArea ? 'vsh' : 'school', kind: 'daily', date };
      if (school === this.lateSchool && this.lateDays.has(d)) this.held.push(entry);
      else this.manifest.add(entry);
    }
    // A return held back yesterday is listed after today's.
    for (const entry of this.held) {
      if (entry.date === date) continue;
      this.manifest.add({ ...entry, kind: 'late', listedAfter: date });
      this.late.push({ urn: entry.urn, date: entry.date, listedAfter: date });
    }
    this.held = this.held.filter((e) => e.date === date);
    if (weekday === 4 || d === this.toIdx) await this.flushCorrections(date);
    await this.manifest.flush();
  }

  async finish(): Promise<void> {
    for (const entry of this.held) {
      this.manifest.add({ ...entry, kind: 'late', listedAfter: entry.date });
      this.late.push({ urn: entry.urn, date: entry.date, listedAfter: entry.date });
    }
    this.held = [];
    await this.flushCorrections(fromDayNumber(this.yearStart + this.toIdx));
    await this.manifest.flush();
    await this.files.flush();
  }

  private schoolDay(
    school: SchoolRuntime,
    t: Timetable,
    d: number,
    date: string,
    weekday: number,
    inset: boolean,
  ): string | undefined {
    const urn = school.spec.urn;
    const parts: string[] = [];
    const season = t.season[d];
    const adjacent = t.adjacent[d] === 1;
    let correction: PendingCorrection | undefined;
    for (const e of school.enrolments) {
      if (d < e.startIdx || d > e.endIdx) continue;
      const p = e.pupil;
      const tail = this.tail(e, d);
      let am: string;
      let pm: string;
      let firstAm: string;
      let firstPm: string;
      if (inset) am = pm = firstAm = firstPm = '#';
      else if (!expectedHere(e, d, weekday)) am = pm = firstAm = firstPm = 'D';
      else {
        const m = this.models[p.index].day(d, season, adjacent, p.partTimeUntil >= d, this.random);
        am = m.am;
        pm = m.pm;
        firstAm = school.spec.outOfArea ? am : m.firstAm;
        firstPm = school.spec.outOfArea ? pm : m.firstPm;
      }
      const head = `${urn},${p.upn},${date},`;
      const written = this.o.everyRow || e.tailKey !== e.writtenKey ? tail : EMPTY_TAIL;
      e.writtenKey = e.tailKey;
      parts.push(`${head}${firstAm},${firstPm},${written}\n`);
      if (firstAm !== am || firstPm !== pm) {
        if (!correction) {
          correction = this.pendingCorrections.get(school.index);
          if (!correction) this.pendingCorrections.set(school.index, (correction = { dates: new Set(), rows: [] }));
        }
        correction.dates.add(date);
        correction.rows.push(`${head}${am},${pm},${tail}\n`);
      }
    }
    if (parts.length === 0) return undefined;
    this.rows += parts.length;
    return RETURN_HEADER + parts.join('');
  }

  private async flushCorrections(date: string): Promise<void> {
    const schools = [...this.pendingCorrections.keys()].sort((a, b) => a - b);
    for (const index of schools) {
      const c = this.pendingCorrections.get(index) as PendingCorrection;
      const school = this.pop.schools[index];
      const path = `corrections/${date}/${school.spec.urn}.csv`;
      await this.files.write(path, RETURN_HEADER + c.rows.join(''));
      this.corrections++;
      this.correctionRows += c.rows.length;
      this.manifest.add({
        path,
        urn: school.spec.urn,
        role: 'school',
        kind: 'correction',
        date,
        dates: [...c.dates].sort(),
      });
    }
    this.pendingCorrections.clear();
  }

  /** The row's optional columns; rebuilt only when a flag, the registration or the leaving date shown changes. */
  private tail(e: Enrolment, d: number): string {
    const p = e.pupil;
    const flags = careFlags(p, d);
    const leaving = e.leaving !== undefined && d >= e.leavingShownFrom;
    const registration = registrationOn(e, d);
    const key = flags | (leaving ? 16 : 0) | (registration === 'M' ? 32 : registration === 'S' ? 64 : 0);
    if (key === e.tailKey) return e.tail;
    const yn = (bit: number): string => (flags & bit ? 'Y' : 'N');
    const deletion = leaving ? this.deletions.get(e) : undefined;
    e.tail = [
      p.forename,
      p.surname,
      p.dob,
      p.sex,
      p.ethnicity,
      yearGroupName(p.yearGroup),
      p.fsm ? 'Y' : 'N',
      p.sen,
      yn(1),
      yn(2),
      yn(4),
      yn(8),
      e.admission,
      leaving ? (e.leaving as string) : '',
      deletion?.ground ?? '',
      deletion?.destination ?? '',
      registration,
      p.household.uprn,
    ].join(',');
    e.tailKey = key;
    return e.tail;
  }
}

/** Pupils whose ordinary illness reached 30 sessions (the 15-day rule) without being planted. */
function incidentalIllness(
  pop: Population,
  models: PupilModel[],
  timetables: ReadonlyMap<string, Timetable>,
  behaviours: readonly Behaviour[],
  yearStart: number,
): BackgroundEvent[] {
  const planted = new Set(behaviours.filter((b) => b.kind === 'long_illness').map((b) => b.upn));
  const out: BackgroundEvent[] = [];
  for (const p of pop.pupils) {
    const m = models[p.index];
    if (m.illnessReachedOn < 0 || planted.has(p.upn)) continue;
    const d = m.illnessReachedOn;
    const e =
      p.enrolments.find(
        (x) => d >= x.startIdx && d <= x.endIdx && (timetables.get(x.school.spec.calendar) as Timetable).isSchoolDay(d),
      ) ?? p.enrolments[0];
    const date = fromDayNumber(yearStart + d);
    out.push({
      kind: 'illness_15_days',
      upn: p.upn,
      urn: e.school.spec.urn,
      from: date,
      to: date,
      code: 'I',
      sessions: m.illnessSessions,
    });
  }
  return out;
}

function careFlags(p: Pupil, d: number): number {
  const c = p.care;
  if (!c) return 0;
  let f = 0;
  if (within(c.cla, d)) f |= 1;
  if (within(c.plac, d)) f |= 2;
  if (p.schoolKnowsCin || p.outOfArea) {
    if (within(c.cin, d)) f |= 4;
    if (within(c.cpp, d)) f |= 8;
  }
  return f;
}

function within(spans: readonly [number, number][], d: number): boolean {
  for (const [a, b] of spans) if (d >= a && d <= b) return true;
  return false;
}

function groundTruthJson(
  o: CheckedOptions,
  behaviours: readonly Behaviour[],
  background: readonly BackgroundEvent[],
  skipped: readonly { kind: string; reason: string }[],
  pop: Population,
  run: ReturnWriter,
  inAreaUrns: readonly string[],
  duties: DutiesPlan['truth'],
): string {
  const counts: Record<string, number> = {};
  for (const b of behaviours) counts[b.kind] = (counts[b.kind] ?? 0) + 1;
  const care = pop.pupils.flatMap((p) => (p.care?.events ?? []).map((e) => ({ upn: p.upn, ...e })));
  const head = {
    format: 'attendance-hub/synthetic-ground-truth',
    version: 1,
    seed: o.seed,
    laCode: o.laCode,
    from: o.from,
    to: o.to,
    settings: {
      holidayAdjacentDays: DEFAULT_LA_SETTINGS.holidayAdjacentDays,
      penaltyNoticeCodes: DEFAULT_LA_SETTINGS.penaltyNoticeCodes,
      penaltyNoticeSessions: DEFAULT_LA_SETTINGS.penaltyNoticeSessions,
      penaltyNoticeWeeks: DEFAULT_LA_SETTINGS.penaltyNoticeWeeks,
    },
    calibration: {
      reasonPercent: DFE_REASON_PERCENT,
      headlines: DFE_HEADLINES,
      characteristics: DFE_CHARACTERISTICS,
      prevalence: PREVALENCE,
    },
    counts,
    skipped,
  };
  const operations = {
    inAreaSchools: inAreaUrns.length,
    lateReturns: run.late,
    corrections: { files: run.corrections, rows: run.correctionRows },
    moves: pop.moves,
    joiners: pop.joiners,
    duties,
    dualRegistrations: pop.dualRegistrations,
    outOfAreaPupils: pop.pupils
      .filter((p) => p.outOfArea)
      .map((p) => ({ upn: p.upn, urns: p.enrolments.map((e) => e.school.spec.urn) })),
    care,
  };
  const lines = (items: readonly unknown[]): string => items.map((x) => JSON.stringify(x)).join(',\n');
  return `${JSON.stringify(head).slice(0, -1)},\n"behaviours":[\n${lines(behaviours)}\n],\n"background":[\n${lines(background)}\n],\n"operations":${JSON.stringify(operations)}}\n`;
}
