/**
 * Patterns Lambda: the threshold-gaming detectors over the whole LA (docs/design.md §2.6). Invoked
 * asynchronously by the nightly EventBridge schedule with `{ trigger: 'schedule' }` (lib/schedules.ts
 * NIGHTLY_PATTERNS_INPUT) and by the api's POST /v1/patterns/runs with `{ trigger: 'api', runId }`
 * (the run already recorded as received). The work is the use case shared/app/run-patterns.ts `runPatterns`.
 */
import * as z from 'zod';
import { logger, withLambdaContext } from '../../shared/observability.js';
import { isPatternRunId } from '../../shared/store/patterns.js';
import { runPatterns, type PatternRunOutcome } from '../../shared/app/run-patterns.js';

const AcademicYear = z.number().int().min(2000).max(2100);

const PatternsEvent = z.discriminatedUnion('trigger', [
  z.object({ trigger: z.literal('schedule'), academicYear: AcademicYear.optional() }),
  z.object({
    trigger: z.literal('api'),
    runId: z.string().refine(isPatternRunId, { message: 'not a patterns run id' }),
    requestedBy: z.string().max(200).optional(),
    academicYear: AcademicYear.optional(),
  }),
]);
export type PatternsEvent = z.infer<typeof PatternsEvent>;

export const handler = withLambdaContext(
  async (
    event: unknown,
  ): Promise<Pick<PatternRunOutcome, 'runId' | 'status'> | { status: 'rejected'; error: string }> => {
    const parsed = PatternsEvent.safeParse(event);
    if (!parsed.success) {
      // Not retried (an invalid event stays invalid): logged, and answered for a synchronous caller.
      const error = parsed.error.issues.map((i) => `${i.path.join('.') || 'event'}: ${i.message}`).join('; ');
      logger.error('patterns event rejected', { error });
      return { status: 'rejected', error };
    }
    const e = parsed.data;
    const outcome = await runPatterns(
      e.trigger === 'api'
        ? { trigger: 'api', runId: e.runId, requestedBy: e.requestedBy, academicYear: e.academicYear }
        : { trigger: 'schedule', academicYear: e.academicYear },
    );
    return { runId: outcome.runId, status: outcome.status };
  },
);
