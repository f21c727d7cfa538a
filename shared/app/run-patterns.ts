/**
 * Run the patterns (a use case): the threshold-gaming detectors over the whole LA (docs/design.md §2.6), as the patterns Lambda
 * does it nightly and on demand, and as `npm run bench` measures it: `runPatterns({ academicYear })`.
 *
 * Partitioned by school so a 230,000-pupil LA fits one invocation (docs/patterns.md has the figures):
 * 1. schools, a few at a time: each school's registers for the year (and the year before, for
 *    windows that reach back) and its merged calendar (its own sessions, its own and the LA's term
 *    dates, bank holidays) become the school's digest (a few KB) and its pupils' enrolments as the
 *    detectors read them (the marks strings and a few dates; the register's names and
 *    characteristics are dropped as soon as the school is done);
 * 2. pupils, one at a time over every school's enrolments of that pupil: holiday-adjacent and
 *    near-threshold findings and the compact household record;
 * 3. LA-wide: family findings over the household records, school coding findings over the schools'
 *    counts.
 * Then the results are published (shared/store/patterns.ts): findings, pupils' flags, the latest pointer.
 *
 * The period (recorded on the run) is the academic year to date; near-threshold and school coding
 * findings cover it. The holiday-adjacent test and the family pass look at the 12 months to its last
 * day (settings.holidayAdjacent.windowMonths, analysisWindow): last year's registers, loaded here for
 * this year's pupils, are read for their holidays too (issue 21, second year).
 */
import { runtimeConfig } from '../config.js';
import { schoolCalendar, sessionDaysFromMarks, type SchoolSessionDays } from '../domain/calendar.js';
import { academicYearEnd, academicYearOf, academicYearStart, minDate, todayInEngland } from '../domain/dates.js';
import {
  laPatterns,
  patternSettings,
  pupilPatternContext,
  pupilPatterns,
  schoolPatternDigest,
  addPatternEnrolments,
  PATTERN_TYPES,
  type HouseholdMember,
  type PatternEnrolment,
  type PatternFinding,
  type PatternSettings,
  type PatternType,
  type SchoolCodingExclusion,
  type SchoolPatternDigest,
} from '../domain/patterns/index.js';
import { errorSummary, logger } from '../observability.js';
import { calendarSourcesFor } from '../store/calendars.js';
import {
  acquirePatternsLease,
  createPatternRun,
  getPatternRun,
  newPatternRunId,
  publishLatestPatterns,
  putPatternFindings,
  putPupilPatternFlags,
  releasePatternsLease,
  updatePatternRun,
  type PatternRun,
  type PatternRunTrigger,
} from '../store/patterns.js';
import { listRegisterUrns, loadRegister } from '../store/registers.js';
import { inParallel } from '../store/table.js';
import { pupilFlagsOf } from '../domain/patterns/pupil-flags.js';

/** Longest a run may hold the lease: the Lambda's 15-minute limit and a margin. */
const LEASE_MS = 16 * 60 * 1000;

export interface RunPatternsOptions {
  /** Academic year to analyse (2025 = 2025/26). Default: this year, or last year when this one has no registers yet (August). */
  academicYear?: number;
  /** The run's id: the api creates the run record first and passes it; otherwise a new one. */
  runId?: string;
  trigger?: PatternRunTrigger;
  requestedBy?: string;
  now?: Date;
  /** Detector settings; default the LA's settings (LA_SETTINGS) with the detector defaults. */
  settings?: PatternSettings;
  /** The LA's family ids by UPN (household key before the UPRN). None are held by the service yet. */
  familyIds?: ReadonlyMap<string, string>;
  /** Schools loaded at once (default 8). */
  concurrency?: number;
}

export interface PatternRunOutcome extends PatternRun {
  /** Process memory when the detectors had every pupil in hand (the run's peak, near enough). */
  memory?: { heapUsedMb: number; rssMb: number };
}

type Enrolments = Map<string, PatternEnrolment[]>;

/** The year to analyse when none is asked for. */
async function defaultYear(today: string): Promise<number> {
  const year = academicYearOf(today);
  if ((await listRegisterUrns(year)).length > 0) return year;
  return (await listRegisterUrns(year - 1)).length > 0 ? year - 1 : year;
}

/**
 * Pass 1, school by school: the school's digest for the year and its pupils' enrolments. The register
 * is dropped as soon as the school is done (only the marks strings the enrolments point to are kept).
 * `keep` restricts the enrolments kept (last year's: only pupils on a register this year).
 */
async function digestSchools(
  academicYear: number,
  period: { from: string; to: string },
  settings: PatternSettings,
  concurrency: number,
  into: { digests: SchoolPatternDigest[]; enrolments: Enrolments; pupils?: Set<string> },
  keep?: ReadonlySet<string>,
): Promise<void> {
  const urns = await listRegisterUrns(academicYear);
  await inParallel(urns, concurrency, async (urn) => {
    const [register, sources] = await Promise.all([
      loadRegister(urn, academicYear),
      calendarSourcesFor(urn, academicYear),
    ]);
    // The register in hand gives the exact sessions (AM/PM, closures marked #); the stored day flags stand in for other years.
    const exact: SchoolSessionDays = sessionDaysFromMarks(
      academicYear,
      [...register.pupils.values()].map((p) => p.marks),
    );
    const calendar = schoolCalendar({
      ...sources,
      registers: [exact, ...(sources.registers ?? []).filter((s) => s.academicYear !== academicYear)],
    });
    into.digests.push(schoolPatternDigest({ urn, registers: [register], calendar }, period, settings));
    addPatternEnrolments(register, into.enrolments, keep);
    if (into.pupils) for (const upn of register.pupils.keys()) into.pupils.add(upn);
  });
}

/** Pass 1 for the year and the year before (the holiday test's 12-month window and the penalty-notice windows reach back across the summer). */
async function loadSchools(
  academicYear: number,
  period: { from: string; to: string },
  settings: PatternSettings,
  concurrency: number,
): Promise<{ digests: SchoolPatternDigest[]; enrolments: Enrolments; schools: number }> {
  const gathered = {
    digests: [] as SchoolPatternDigest[],
    enrolments: new Map() as Enrolments,
    pupils: new Set<string>(),
  };
  await digestSchools(academicYear, period, settings, concurrency, gathered);
  const schools = new Set(gathered.digests.map((d) => d.urn)).size;
  await digestSchools(
    academicYear - 1,
    period,
    settings,
    concurrency,
    { digests: gathered.digests, enrolments: gathered.enrolments },
    gathered.pupils,
  );
  gathered.digests.sort((a, b) =>
    a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : a.adjacency[0]?.academicYear - b.adjacency[0]?.academicYear,
  );
  return { digests: gathered.digests, enrolments: gathered.enrolments, schools };
}

/** Passes 2 and 3 over what pass 1 gathered (pure; exported for the benchmark and tests). */
function detectFromDigests(
  digests: readonly SchoolPatternDigest[],
  enrolments: ReadonlyMap<string, PatternEnrolment[]>,
  period: { from: string; to: string },
  settings: PatternSettings,
  familyIds?: ReadonlyMap<string, string>,
): PatternFinding[] {
  const ctx = pupilPatternContext(digests, period, settings);
  const findings: PatternFinding[] = [];
  const households: HouseholdMember[] = [];
  const exclusions: SchoolCodingExclusion[] = [];
  for (const upn of [...enrolments.keys()].sort()) {
    const r = pupilPatterns(
      { upn, enrolments: enrolments.get(upn) as PatternEnrolment[], familyId: familyIds?.get(upn) },
      ctx,
    );
    findings.push(...r.findings);
    if (r.household) households.push(r.household);
    exclusions.push(...r.codingExclusions);
  }
  findings.push(
    ...laPatterns(
      households,
      digests.flatMap((d) => d.coding),
      settings,
      exclusions,
    ),
  );
  return findings;
}

function countsOf(findings: readonly PatternFinding[]): Record<PatternType, number> {
  const counts = Object.fromEntries(PATTERN_TYPES.map((t) => [t, 0])) as Record<PatternType, number>;
  for (const f of findings) counts[f.type]++;
  return counts;
}

const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

/**
 * Run every detector over the LA's registers for one academic year and publish the results. Never
 * throws for a run that could not start (another holds the lease: the run is recorded as failed);
 * throws after recording the failure for anything else, so an asynchronous invocation is retried.
 */
export async function runPatterns(options: RunPatternsOptions = {}): Promise<PatternRunOutcome> {
  const now = options.now ?? new Date();
  const runId = options.runId ?? newPatternRunId(now);
  const trigger = options.trigger ?? 'schedule';
  const settings = options.settings ?? patternSettings(runtimeConfig().settings);
  const receivedAt = now.toISOString();
  await createPatternRun({
    runId,
    trigger,
    status: 'received',
    receivedAt,
    ...(options.requestedBy ? { requestedBy: options.requestedBy } : {}),
  });
  const run = (await getPatternRun(runId)) as PatternRun;

  const started = Date.now();
  const lease = await acquirePatternsLease(runId, new Date(started), new Date(started + LEASE_MS));
  if (!lease.acquired) {
    const failed = {
      status: 'failed' as const,
      finishedAt: new Date().toISOString(),
      error: `another patterns run (${lease.heldBy}) was in progress; this one did not start`,
    };
    await updatePatternRun(runId, failed);
    logger.warn('patterns run not started: another run holds the lease', { runId, heldBy: lease.heldBy });
    return { ...run, ...failed };
  }

  const today = todayInEngland(now);
  try {
    const academicYear = options.academicYear ?? (await defaultYear(today));
    const period = { from: academicYearStart(academicYear), to: minDate(today, academicYearEnd(academicYear)) };
    // The holiday-adjacent and family detectors read the 12 months to period.to (pupilPatternContext), from last year's registers loaded below.
    const startedAt = new Date(started).toISOString();
    await updatePatternRun(runId, { status: 'running', startedAt, academicYear, period });
    logger.info('patterns run started', { runId, trigger, academicYear });

    const { digests, enrolments, schools } = await loadSchools(
      academicYear,
      period,
      settings,
      options.concurrency ?? 8,
    );
    const loaded = Date.now();
    const findings = detectFromDigests(digests, enrolments, period, settings, options.familyIds);
    const usage = process.memoryUsage();
    const detected = Date.now();
    const pupilsAnalysed = enrolments.size;
    enrolments.clear();

    const finishedAt = new Date().toISOString();
    await putPatternFindings({ runId, academicYear, period, generatedAt: finishedAt, findings });
    const flags = pupilFlagsOf(findings);
    await putPupilPatternFlags(runId, flags);
    if (!(await publishLatestPatterns({ runId, finishedAt, academicYear, period }))) {
      throw new Error(
        'the run lost its lease before publishing (it ran past the lease); its results were not made current',
      );
    }
    const stored = Date.now();
    const done: Partial<PatternRun> = {
      status: 'succeeded',
      finishedAt: new Date(stored).toISOString(),
      timings: {
        loadMs: loaded - started,
        detectMs: detected - loaded,
        storeMs: stored - detected,
        totalMs: stored - started,
      },
      counts: { findings: countsOf(findings), pupilsAnalysed, schoolsAnalysed: schools, pupilsFlagged: flags.size },
    };
    await updatePatternRun(runId, done);
    logger.info('patterns run succeeded', {
      runId,
      ...done.timings,
      ...done.counts?.findings,
      pupilsAnalysed,
      schools,
      heapUsedMb: mb(usage.heapUsed),
    });
    return {
      ...run,
      startedAt,
      academicYear,
      period,
      ...done,
      memory: { heapUsedMb: mb(usage.heapUsed), rssMb: mb(usage.rss) },
    };
  } catch (err) {
    const error = errorSummary(err);
    logger.error('patterns run failed', { runId, error });
    await releasePatternsLease(runId).catch(() => undefined);
    await updatePatternRun(runId, {
      status: 'failed',
      finishedAt: new Date().toISOString(),
      error: `${error.name}: ${error.message}`,
    }).catch(() => undefined);
    throw err;
  }
}
