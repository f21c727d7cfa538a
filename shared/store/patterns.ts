/**
 * Threshold-gaming runs and their results (docs/design.md §2.6, §4):
 * - a run's record (`k.patternRun`, listed newest first on gsi1 `k.patternRunsIndex`): status
 *   received → running → succeeded | failed, timings and counts;
 * - a run's findings, one gzipped JSON document in the registers bucket (`paths.patternFindings`);
 * - each flagged pupil's flags (`k.pupilPatterns`), tagged with the run, shown on the pupil view only
 *   while that run is the latest;
 * - the latest run (`k.latestPatterns`), which also holds the lease that keeps two runs from
 *   publishing over one another (a run takes it before it starts and gives it up when it publishes).
 *
 * A run publishes in this order: findings document, pupils' flags, then the latest pointer. Readers
 * follow the pointer, so they see the previous run until the new one is complete; a pupil flagged by
 * the previous run but not the new one simply stops showing (their item names the old run).
 */
import { resourceName } from '../config.js';
import { randomBytes } from 'node:crypto';
import type { PatternFinding, PatternType } from '../domain/patterns/index.js';
import type { PupilFlag } from '../domain/pupil-summary.js';
import { ownEvidenceOnly } from '../domain/patterns/pupil-flags.js';
import { getJson, putJson } from './blobs.js';
import { k, paths } from './keys.js';
import { batchPut, getItem, isConditionFailure, putItem, queryPage, updateItem } from './table.js';

export type PatternRunStatus = 'received' | 'running' | 'succeeded' | 'failed';
/** `api`: POST /v1/patterns/runs; `schedule`: the nightly EventBridge schedule (or the local timer). */
export type PatternRunTrigger = 'api' | 'schedule';

export interface PatternRunTimings {
  /** Reading registers and calendars, building each school's digest. */
  loadMs: number;
  /** The per-pupil and LA-wide passes. */
  detectMs: number;
  /** Writing findings, pupils' flags and the latest pointer. */
  storeMs: number;
  totalMs: number;
}

export interface PatternRunCounts {
  findings: Record<PatternType, number>;
  pupilsAnalysed: number;
  schoolsAnalysed: number;
  /** Pupils with at least one pattern flag (family findings flag every child named). */
  pupilsFlagged: number;
}

export interface PatternRun {
  runId: string;
  trigger: PatternRunTrigger;
  status: PatternRunStatus;
  /** Subject of the admin who asked for it (api runs). */
  requestedBy?: string;
  receivedAt: string;
  startedAt?: string;
  finishedAt?: string;
  academicYear?: number;
  period?: { from: string; to: string };
  timings?: PatternRunTimings;
  counts?: PatternRunCounts;
  /** Why a failed run failed (no pupil data). */
  error?: string;
}

export interface LatestPatterns {
  runId: string;
  finishedAt: string;
  academicYear: number;
  period: { from: string; to: string };
}

/** A run's findings as stored. */
export interface PatternFindingsDocument {
  runId: string;
  academicYear: number;
  period: { from: string; to: string };
  generatedAt: string;
  findings: PatternFinding[];
}

const RUN_ID = /^pr[0-9a-z]{9}[0-9a-f]{12}$/;

export function newPatternRunId(now: Date = new Date()): string {
  return `pr${now.getTime().toString(36).padStart(9, '0')}${randomBytes(6).toString('hex')}`;
}

export function isPatternRunId(s: string): boolean {
  return RUN_ID.test(s);
}

function bucket(): string {
  return resourceName('registersBucket');
}

// ---- Runs ------------------------------------------------------------------------------------------

type RunItem = PatternRun & { pk: string; sk: string; gsi1pk: string; gsi1sk: string };

function stripRun(item: RunItem): PatternRun {
  const { pk: _pk, sk: _sk, gsi1pk: _g, gsi1sk: _s, ...run } = item;
  return run;
}

/** Record a new run (status `received`); false when a run with that id exists already. */
export async function createPatternRun(run: PatternRun): Promise<boolean> {
  try {
    await putItem(
      { ...k.patternRun(run.runId), gsi1pk: k.patternRunsIndex, gsi1sk: `${run.receivedAt}#${run.runId}`, ...run },
      { expression: 'attribute_not_exists(pk)' },
    );
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw err;
  }
}

export async function getPatternRun(runId: string): Promise<PatternRun | undefined> {
  const item = await getItem<RunItem>(k.patternRun(runId));
  return item ? stripRun(item) : undefined;
}

/** Set fields of an existing run. */
export async function updatePatternRun(
  runId: string,
  changes: Partial<Omit<PatternRun, 'runId' | 'receivedAt' | 'trigger'>>,
): Promise<void> {
  const entries = Object.entries(changes).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return;
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const sets = entries.map(([key, v], i) => {
    names[`#f${i}`] = key;
    values[`:v${i}`] = v;
    return `#f${i} = :v${i}`;
  });
  await updateItem({
    key: k.patternRun(runId),
    update: `SET ${sets.join(', ')}`,
    names,
    values,
    condition: 'attribute_exists(pk)',
  });
}

/** Runs newest first. */
export async function listPatternRuns(
  limit: number,
  cursor?: string,
): Promise<{ items: PatternRun[]; nextCursor: string | null }> {
  const page = await queryPage<RunItem>(
    {
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': k.patternRunsIndex },
      ScanIndexForward: false,
      Limit: limit,
    },
    cursor,
  );
  return { items: page.items.map(stripRun), nextCursor: page.nextCursor };
}

// ---- The lease and the latest run -------------------------------------------------------------------

interface LatestItem extends Partial<LatestPatterns> {
  lease?: { runId: string; until: string };
}

/**
 * Take the lease for `runId` until `until` (ISO time): true when no other run holds an unexpired one.
 * A run that dies without giving the lease up blocks others only until it expires.
 */
export async function acquirePatternsLease(
  runId: string,
  now: Date,
  until: Date,
): Promise<{ acquired: true } | { acquired: false; heldBy: string }> {
  try {
    await updateItem({
      key: k.latestPatterns(),
      update: 'SET #lease = :lease',
      names: { '#lease': 'lease', '#run': 'runId', '#until': 'until' },
      values: { ':lease': { runId, until: until.toISOString() }, ':now': now.toISOString(), ':me': runId },
      condition: 'attribute_not_exists(#lease) OR #lease.#until < :now OR #lease.#run = :me',
    });
    return { acquired: true };
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
    const held = await getItem<LatestItem>(k.latestPatterns());
    return { acquired: false, heldBy: held?.lease?.runId ?? 'unknown' };
  }
}

/** Give the lease up without publishing (a failed run). */
export async function releasePatternsLease(runId: string): Promise<void> {
  try {
    await updateItem({
      key: k.latestPatterns(),
      update: 'REMOVE #lease',
      names: { '#lease': 'lease', '#run': 'runId' },
      values: { ':me': runId },
      condition: '#lease.#run = :me',
    });
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
  }
}

/** Make `latest` the run readers see and give the lease up; false when the run no longer holds the lease. */
export async function publishLatestPatterns(latest: LatestPatterns): Promise<boolean> {
  try {
    await updateItem({
      key: k.latestPatterns(),
      update: 'SET #run = :run, #finished = :finished, #year = :year, #period = :period REMOVE #lease',
      names: {
        '#lease': 'lease',
        '#run': 'runId',
        '#finished': 'finishedAt',
        '#year': 'academicYear',
        '#period': 'period',
      },
      values: {
        ':run': latest.runId,
        ':finished': latest.finishedAt,
        ':year': latest.academicYear,
        ':period': latest.period,
      },
      condition: '#lease.#run = :run',
    });
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw err;
  }
}

export async function getLatestPatterns(): Promise<LatestPatterns | undefined> {
  const item = await getItem<LatestItem & { pk: string; sk: string }>(k.latestPatterns(), false);
  if (!item?.runId || !item.finishedAt || item.academicYear === undefined || !item.period) return undefined;
  return { runId: item.runId, finishedAt: item.finishedAt, academicYear: item.academicYear, period: item.period };
}

// ---- Findings and pupils' flags ------------------------------------------------------------------------

export async function putPatternFindings(doc: PatternFindingsDocument): Promise<void> {
  await putJson(bucket(), paths.patternFindings(doc.runId), doc);
}

export async function getPatternFindings(runId: string): Promise<PatternFindingsDocument | undefined> {
  return (await getJson<PatternFindingsDocument>(bucket(), paths.patternFindings(runId)))?.value;
}

interface PupilPatternsItem {
  runId: string;
  flags: PupilFlag[];
}

/** Each flagged pupil's flags, tagged with the run (items of pupils the run did not flag are left: they name an older run). */
export async function putPupilPatternFlags(runId: string, flags: ReadonlyMap<string, PupilFlag[]>): Promise<void> {
  const items = [...flags.entries()].map(([upn, list]) => ({ ...k.pupilPatterns(upn), runId, flags: list }));
  await batchPut(items, 4);
}

/** The latest run's flags for the pupil, when that run looked at `academicYear` (none for another year). */
export async function getPupilPatternFlags(upn: string, academicYear: number): Promise<PupilFlag[]> {
  const [item, latest] = await Promise.all([
    getItem<PupilPatternsItem>(k.pupilPatterns(upn), false),
    getItem<LatestItem>(k.latestPatterns(), false),
  ]);
  if (!item || !latest?.runId || item.runId !== latest.runId || latest.academicYear !== academicYear) return [];
  // Flags stored by a run before family flags were narrowed are narrowed on the way out (issue 15).
  return item.flags.map(ownEvidenceOnly);
}
