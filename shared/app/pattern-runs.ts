/**
 * Runs of the threshold-gaming detectors on demand (docs/design.md §2.6): the admin asks, the run is
 * recorded as received and the patterns Lambda started asynchronously (run-patterns.ts does the
 * work); the run is then followed by its id. A run that could not be started is recorded as failed.
 */
import type { Principal } from '../domain/access.js';
import { errorSummary, logger } from '../observability.js';
import { isPatternRunId, newPatternRunId, type PatternRun } from '../store/patterns.js';
import type { AuditTrail } from './audit.js';
import { done, refuse, type Outcome } from './outcome.js';
import type { PatternRuns } from './ports.js';

export type PatternRunsDeps = { patternRuns: PatternRuns };

/**
 * Record a run and start the detectors on it. `started: false` when the patterns function could not
 * be reached: the run is then recorded as failed (the caller may try again shortly).
 */
export async function requestPatternRun(
  deps: PatternRunsDeps,
  { principal, audit }: { principal: Principal; audit: AuditTrail },
  request: { academicYear?: number },
): Promise<{ runId: string; started: boolean }> {
  const now = new Date();
  const runId = newPatternRunId(now);
  const year = request.academicYear ? { academicYear: request.academicYear } : {};
  await deps.patternRuns.create({
    runId,
    trigger: 'api',
    status: 'received',
    requestedBy: principal.sub,
    receivedAt: now.toISOString(),
    ...year,
  });
  try {
    await deps.patternRuns.start({ trigger: 'api', runId, requestedBy: principal.sub, ...year });
  } catch (err) {
    logger.error('patterns run not invoked', { runId, error: errorSummary(err) });
    await deps.patternRuns.update(runId, {
      status: 'failed',
      finishedAt: new Date().toISOString(),
      error: 'the patterns function could not be invoked',
    });
    audit.record({ target: `patterns_run:${runId}`, outcome: 'failed' });
    return { runId, started: false };
  }
  audit.record({ target: `patterns_run:${runId}`, outcome: 'accepted' });
  return { runId, started: true };
}

/** A run by its id (as given in the path): status, timings and counts. */
export async function readPatternRun(
  deps: PatternRunsDeps,
  audit: AuditTrail,
  runId: string,
): Promise<Outcome<PatternRun>> {
  const valid = isPatternRunId(runId);
  const run = valid ? await deps.patternRuns.get(runId) : undefined;
  audit.record({ target: `patterns_run:${valid ? runId : 'invalid'}`, outcome: run ? 'ok' : 'not_found' });
  return run ? done(run) : refuse('not_found', 'No such patterns run.');
}
