/**
 * Threshold-gaming patterns (docs/design.md §2.6, §4): the latest run's findings with their evidence for the
 * LA's officers and (within its scope) the Virtual School, and runs of the detectors on demand for
 * the admin. The detectors run in the patterns Lambda (functions/patterns), invoked asynchronously;
 * locally the same SDK call reaches the local Lambda stand-in (local/lambda.ts).
 *
 * The Virtual School sees a pupil's finding when the pupil was in a Virtual School cohort at any
 * time in the run's academic year (the school's flags or the LA's care lists), a family finding only
 * when every child named was, and no school coding finding (a school-level judgement about every
 * pupil, outside its remit). The routes parse, call the use cases (shared/app/pattern-findings.ts,
 * shared/app/pattern-runs.ts) and present their answers.
 */
import * as z from 'zod';
import { listPatternFindings, upnsOf, urnsOf } from '../../../shared/app/pattern-findings.js';
import { readPatternRun, requestPatternRun } from '../../../shared/app/pattern-runs.js';
import type { LatestPatterns } from '../../../shared/store/patterns.js';
import { PATTERN_TYPES, type PatternFinding } from '../../../shared/domain/patterns/index.js';
import { IsoDate, Urn } from '../../../shared/schemas/common.js';
import { app } from '../app.js';
import {
  csvResponse,
  defineRoute,
  header,
  json,
  pageOf,
  pageQuery,
  problem,
  rawBody,
  resultOf,
  wantsCsv,
  type Event,
} from '../http.js';

const PatternType = z.enum(PATTERN_TYPES as unknown as [string, ...string[]]);

const Finding = z
  .object({
    type: PatternType,
    upn: z.string().optional().describe('the pupil (pupil findings)'),
    urn: z.string().describe('the school the finding is filed under'),
    from: z.string(),
    to: z.string(),
    observed: z.number(),
    expected: z.number().nullable(),
    statistic: z.object({
      name: z.string(),
      value: z.number(),
      threshold: z.number(),
      flaggedWhen: z.enum(['at_most', 'at_least']),
    }),
    explanation: z.string().describe('one plain-English sentence'),
  })
  .catchall(z.unknown())
  .meta({
    id: 'PatternFinding',
    description:
      'A finding with its evidence: dates and codes, observed vs expected, the statistic and its threshold (fields by type: docs/patterns.md)',
  });

const RunRef = z.object({
  runId: z.string(),
  finishedAt: z.string(),
  academicYear: z.number().int(),
  period: z.object({ from: z.string(), to: z.string() }),
});

const FindingsPage = z
  .object({
    items: z.array(Finding),
    nextCursor: z.string().nullable(),
    total: z.number().int(),
    run: RunRef.nullable().describe('the run the findings come from (null before any run)'),
  })
  .meta({ id: 'PatternFindings' });

const Run = z
  .object({
    runId: z.string(),
    trigger: z.enum(['api', 'schedule']),
    status: z.enum(['received', 'running', 'succeeded', 'failed']),
    requestedBy: z.string().optional(),
    receivedAt: z.string(),
    startedAt: z.string().optional(),
    finishedAt: z.string().optional(),
    academicYear: z.number().int().optional(),
    period: z.object({ from: z.string(), to: z.string() }).optional(),
    timings: z
      .object({ loadMs: z.number(), detectMs: z.number(), storeMs: z.number(), totalMs: z.number() })
      .optional(),
    counts: z
      .object({
        findings: z.record(z.string(), z.number().int()),
        pupilsAnalysed: z.number().int(),
        schoolsAnalysed: z.number().int(),
        pupilsFlagged: z.number().int(),
      })
      .optional(),
    error: z.string().optional(),
  })
  .meta({ id: 'PatternRun' });

const RunRequest = z
  .object({
    academicYear: z
      .number()
      .int()
      .min(2000)
      .max(2100)
      .optional()
      .describe('the academic year to analyse (default: this one)'),
  })
  .strict();

function csvRow(f: PatternFinding): Record<string, unknown> {
  return {
    type: f.type,
    upn: 'upn' in f ? f.upn : '',
    urn: f.urn,
    urns: urnsOf(f).join(' '),
    household: f.type === 'family_pattern' ? f.household : '',
    children: f.type === 'family_pattern' ? f.children.map((c) => c.upn).join(' ') : '',
    from: f.from,
    to: f.to,
    observed: f.observed,
    expected: f.expected === null ? '' : Number(f.expected.toFixed(2)),
    statistic: f.statistic.name,
    statisticValue: f.statistic.value,
    threshold: f.statistic.threshold,
    explanation: f.explanation,
  };
}

const CSV_COLUMNS = [
  'type',
  'upn',
  'urn',
  'urns',
  'household',
  'children',
  'from',
  'to',
  'observed',
  'expected',
  'statistic',
  'statisticValue',
  'threshold',
  'explanation',
];

/** An optional JSON body: empty is `{}`. */
function optionalJson(event: Event): unknown {
  const body = rawBody(event);
  if (body.length === 0) return {};
  if (!/^application\/(.+\+)?json\b/i.test(header(event, 'content-type') ?? ''))
    throw problem(415, 'Send the request body as application/json, or no body.');
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    throw problem(400, 'The request body is not valid JSON.');
  }
}

/** The run request, from an optional JSON body. */
function runRequestOf(event: Event): z.infer<typeof RunRequest> {
  const parsed = RunRequest.safeParse(optionalJson(event));
  if (parsed.success) return parsed.data;
  const errors = parsed.error.issues.map((i) => ({ field: i.path.join('.') || 'body', message: i.message }));
  throw problem(400, `Invalid request body: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`, errors);
}

function runRef(run: LatestPatterns | undefined) {
  return run
    ? { runId: run.runId, finishedAt: run.finishedAt, academicYear: run.academicYear, period: run.period }
    : null;
}

export const patternRoutes = [
  defineRoute({
    method: 'GET',
    path: '/v1/patterns',
    access: 'read_patterns',
    audit: { action: 'list_patterns' },
    tags: ['patterns'],
    summary:
      'Threshold-gaming findings of the latest run, with their evidence, strongest first (the Virtual School: its own pupils only)',
    query: z.object({
      type: PatternType.optional().describe(
        'one detector: holiday_adjacent_absence, near_threshold_unauthorised, family_pattern or school_coding',
      ),
      urn: Urn.optional().describe('findings with evidence at this school'),
      from: IsoDate.optional().describe('findings whose evidence ends on or after this date'),
      to: IsoDate.optional().describe('findings whose evidence starts on or before this date'),
      ...pageQuery,
    }),
    response: FindingsPage,
    csv: true,
    handler: async ({ audit, principal, query, event }) => {
      const { items, run } = resultOf(await listPatternFindings(app, principal, query));
      const note = {
        target: `patterns:${query.type ?? 'all'}`,
        outcome: 'ok',
        ...(query.urn ? { urn: query.urn } : {}),
      };
      if (wantsCsv(event)) {
        audit.pupils(
          note,
          items.flatMap((f) => upnsOf(f)),
        );
        return csvResponse(`patterns-${query.type ?? 'all'}.csv`, CSV_COLUMNS, items.map(csvRow));
      }
      const paged = pageOf(items, query, run?.runId ?? 'none');
      audit.pupils(
        note,
        paged.items.flatMap((f) => upnsOf(f)),
      );
      return json(200, { items: paged.items, nextCursor: paged.nextCursor, total: items.length, run: runRef(run) });
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/patterns/runs',
    access: 'run_patterns',
    audit: { action: 'run_patterns' },
    tags: ['patterns'],
    summary: 'Run the threshold-gaming detectors now (asynchronously); 202 with the run id to follow',
    body: RunRequest,
    response: z.object({ runId: z.string(), status: z.literal('received') }),
    handler: async ({ audit, principal, event }) => {
      const { runId, started } = await requestPatternRun(app, { principal, audit }, runRequestOf(event));
      if (!started)
        throw problem(
          503,
          'The detectors could not be started just now; the run is recorded as failed. Try again shortly.',
          undefined,
          { runId },
        );
      return json(202, { runId, status: 'received' }, { location: `/v1/patterns/runs/${runId}` });
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/patterns/runs/{runId}',
    access: 'run_patterns',
    audit: { action: 'read_patterns_run' },
    tags: ['patterns'],
    summary: 'A run of the detectors: status (received, running, succeeded, failed), timings and counts',
    response: Run,
    handler: async ({ audit, params }) => json(200, resultOf(await readPatternRun(app, audit, params.runId ?? ''))),
  }),
];
