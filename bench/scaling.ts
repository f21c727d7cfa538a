/**
 * The scaling table (issue 17): the service phases run at several LA sizes with the same pupils per
 * school, so anyone can see whether the cost per pupil stays flat as the LA grows. Pure: rows from
 * each size's results, the ratio the issue sets a target on, and the table's lines.
 */

type R = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- a size's results are the bench's free-form JSON

/** The API kinds whose p95 at concurrency 16 the issue names. */
const SCALING_API_KINDS = ['pupil_view', 'pa_list', 'la_metrics_by_cohort'] as const;
export const SCALING_CONCURRENCY = 16;
/** The issue's target: LA-day time per pupil at the largest size at most this times the smallest's. */
const SCALING_TARGET_RATIO = 1.5;

export interface ScalingRow {
  schools: number;
  /** Pupils in the generated LA (out-of-area placements included). */
  pupils: number;
  backfillRowsPerSecond: number | null;
  laDaySeconds: number | null;
  /** LA-day wall time per pupil, in milliseconds. */
  laDayMsPerPupil: number | null;
  rollupSeconds: number | null;
  /** p95 (ms) at concurrency 16 of each kind in SCALING_API_KINDS. */
  apiP95: Record<string, number | null>;
  loadErrors: number | null;
  loadAchievedRate: number | null;
  loadTargetRate: number | null;
  /** The rate the generator sent, and whether it held its schedule (when the results say: since 7 December, evening). */
  loadOfferedRate?: number | null;
  loadScheduleHeld?: boolean;
  /** Why the size's run stopped early (its figures so far are kept; the rest are null). */
  failed?: string;
}

export interface ScalingSummary {
  rows: ScalingRow[];
  /** LA-day time per pupil at the largest size over the smallest (null when either is missing). */
  perPupilRatio: number | null;
  target: number;
  meetsTarget: boolean | null;
}

const num = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);

/** One size's row from the results its service sections wrote (ingest, apiLatency, load). */
export function scalingRow(schools: number, pupils: number, results: R): ScalingRow {
  const laDaySeconds = num(results.ingest?.laDay?.seconds);
  const apiP95: Record<string, number | null> = {};
  for (const kind of SCALING_API_KINDS) {
    const levels = (results.apiLatency?.levels?.[kind] ?? []) as R[];
    apiP95[kind] = num(levels.find((l) => l.concurrency === SCALING_CONCURRENCY)?.p95);
  }
  return {
    schools,
    pupils,
    backfillRowsPerSecond: num(results.ingest?.backfill?.rowsPerSecond),
    laDaySeconds,
    laDayMsPerPupil: laDaySeconds !== null && pupils > 0 ? (laDaySeconds * 1000) / pupils : null,
    rollupSeconds: num(results.ingest?.laMetricsUpdate?.seconds),
    apiP95,
    loadErrors: num(results.load?.overall?.errors),
    loadAchievedRate: num(results.load?.achievedRate),
    loadTargetRate: num(results.load?.targetRate),
    ...(typeof results.load?.scheduleHeld === 'boolean'
      ? { loadOfferedRate: num(results.load.offeredRate), loadScheduleHeld: results.load.scheduleHeld as boolean }
      : {}),
    ...(typeof results.error === 'string' ? { failed: results.error } : {}),
  };
}

/** Rows by size, and the per-pupil ratio of the largest size (by pupils) over the smallest. */
export function scalingSummary(rows: readonly ScalingRow[]): ScalingSummary {
  const sorted = [...rows].sort((a, b) => a.pupils - b.pupils);
  const small = sorted[0]?.laDayMsPerPupil ?? null;
  const large = sorted.length > 1 ? sorted[sorted.length - 1].laDayMsPerPupil : null;
  const perPupilRatio = small !== null && large !== null && small > 0 ? large / small : null;
  return {
    rows: sorted,
    perPupilRatio,
    target: SCALING_TARGET_RATIO,
    meetsTarget: perPupilRatio === null ? null : perPupilRatio <= SCALING_TARGET_RATIO,
  };
}

const fmt = (x: number | null, digits = 0) =>
  x === null ? '–' : x.toLocaleString('en-GB', { minimumFractionDigits: digits, maximumFractionDigits: digits });

export const SCALING_HEADER = [
  'schools',
  'pupils',
  'back-fill rows/s',
  'LA day s',
  'LA day ms/pupil',
  'rollup s',
  'p95 pupil ms',
  'p95 PA page ms',
  'p95 LA metrics ms',
  'load errors',
  'load achieved/s',
] as const;

/** The table's cells, one array per row (header first), as printed and as docs/benchmarks.md shows it. */
export function scalingCells(summary: ScalingSummary): string[][] {
  return [
    [...SCALING_HEADER],
    ...summary.rows.map((r) => [
      r.failed === undefined ? fmt(r.schools) : `${fmt(r.schools)} (failed)`,
      fmt(r.pupils),
      fmt(r.backfillRowsPerSecond),
      fmt(r.laDaySeconds, 1),
      fmt(r.laDayMsPerPupil, 3),
      fmt(r.rollupSeconds, 2),
      ...SCALING_API_KINDS.map((k) => fmt(r.apiP95[k], 1)),
      fmt(r.loadErrors),
      r.loadAchievedRate === null
        ? '–'
        : `${fmt(r.loadAchievedRate)}${r.loadTargetRate === null ? '' : ` of ${fmt(r.loadTargetRate)}`}${
            // A generator that could not send at the rate says so: what it measured is this machine's generator.
            r.loadScheduleHeld === false ? ` (generator behind: sent ${fmt(r.loadOfferedRate ?? null)}/s)` : ''
          }`,
    ]),
  ];
}

/** Aligned text lines: the table, then the ratio against the target. */
export function scalingTable(summary: ScalingSummary): string[] {
  const cells = scalingCells(summary);
  const widths = cells[0].map((_, c) => Math.max(...cells.map((r) => r[c].length)));
  const lines = cells.map((r) =>
    r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '),
  );
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  const ratio =
    summary.perPupilRatio === null
      ? 'LA day per pupil, largest over smallest: – (needs two sizes with an LA day)'
      : `LA day per pupil, largest over smallest: ${fmt(summary.perPupilRatio, 2)} (target ≤ ${fmt(summary.target, 1)}: ${summary.meetsTarget ? 'met' : 'NOT met'})`;
  const failures = summary.rows
    .filter((r) => r.failed !== undefined)
    .map((r) => `${fmt(r.schools)} schools: stopped early: ${r.failed}`);
  return [...lines, ratio, ...failures];
}

/** `--scaling 30,120,600`: distinct positive whole numbers of schools, smallest first. */
export function parseScalingSizes(text: string): number[] {
  const sizes = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  if (sizes.length < 2 || sizes.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new RangeError(`--scaling takes two or more numbers of schools, e.g. 30,120,600; got '${text}'`);
  }
  return [...new Set(sizes)].sort((a, b) => a - b);
}

/** Pupils for a size: the same pupils per school as the bench's LA. */
export function pupilsForSize(schools: number, base: { schools: number; pupils: number }): number {
  return Math.round((base.pupils / base.schools) * schools);
}
