/** The bench's scaling table (bench/scaling.ts) and progress lines (bench/progress.ts): arithmetic and formatting. */
import { describe, expect, it } from 'vitest';
import {
  parseScalingSizes,
  pupilsForSize,
  scalingCells,
  scalingRow,
  scalingSummary,
  scalingTable,
  SCALING_HEADER,
  type ScalingRow,
} from '../../../bench/scaling.js';
import { duration, phaseProgress, progressText } from '../../../bench/progress.js';

/** A size's results as serviceSections writes them (only what the table reads). */
function results(laDaySeconds: number, p95 = 20) {
  const level = (concurrency: number, ms: number) => ({
    concurrency,
    p50: ms / 2,
    p95: ms,
    p99: ms * 2,
    count: 300,
    errors: 0,
    throughput: 100,
  });
  return {
    ingest: {
      backfill: { rowsPerSecond: 12_345 },
      laDay: { seconds: laDaySeconds },
      laMetricsUpdate: { seconds: 0.25 },
    },
    apiLatency: {
      levels: Object.fromEntries(
        ['pupil_view', 'pa_list', 'la_metrics_by_cohort', 'referral_search'].map((k) => [
          k,
          [level(1, 5), level(16, p95)],
        ]),
      ),
    },
    load: { targetRate: 200, achievedRate: 199.6, overall: { errors: 0 } },
  };
}

describe('scaling rows', () => {
  it("takes each figure from a size's results, and the LA day per pupil in milliseconds", () => {
    const row = scalingRow(30, 8_000, results(12));
    expect(row).toEqual({
      schools: 30,
      pupils: 8_000,
      backfillRowsPerSecond: 12_345,
      laDaySeconds: 12,
      laDayMsPerPupil: 1.5,
      rollupSeconds: 0.25,
      apiP95: { pupil_view: 20, pa_list: 20, la_metrics_by_cohort: 20 },
      loadErrors: 0,
      loadAchievedRate: 199.6,
      loadTargetRate: 200,
    });
  });

  it('leaves a figure empty when its section did not run, rather than inventing one', () => {
    const row = scalingRow(30, 8_000, { ingest: { backfill: { rowsPerSecond: 100 } } });
    expect(row.laDaySeconds).toBeNull();
    expect(row.laDayMsPerPupil).toBeNull();
    expect(row.apiP95).toEqual({ pupil_view: null, pa_list: null, la_metrics_by_cohort: null });
    expect(row.loadErrors).toBeNull();
  });

  it('only reads p95 at concurrency 16', () => {
    const r = results(10);
    r.apiLatency.levels.pupil_view = r.apiLatency.levels.pupil_view.filter((l) => l.concurrency !== 16);
    expect(scalingRow(30, 8_000, r).apiP95.pupil_view).toBeNull();
  });
});

describe('the per-pupil ratio', () => {
  const row = (schools: number, pupils: number, laDaySeconds: number): ScalingRow =>
    scalingRow(schools, pupils, results(laDaySeconds));

  it("is the largest size's LA day per pupil over the smallest's, rows ordered by size", () => {
    // 30 schools: 12 s / 8,000 = 1.5 ms; 600 schools: 414 s / 230,000 = 1.8 ms; ratio 1.2.
    const s = scalingSummary([row(600, 230_000, 414), row(30, 8_000, 12), row(120, 46_000, 60)]);
    expect(s.rows.map((r) => r.schools)).toEqual([30, 120, 600]);
    expect(s.perPupilRatio).toBeCloseTo(1.2, 10);
    expect(s.target).toBe(1.5);
    expect(s.meetsTarget).toBe(true);
  });

  it('says when the target is missed, and gives no ratio without two LA days', () => {
    expect(scalingSummary([row(30, 8_000, 12), row(600, 230_000, 690)]).meetsTarget).toBe(false); // 3 ms: ratio 2
    expect(scalingSummary([row(30, 8_000, 12), row(600, 230_000, 517.5)]).meetsTarget).toBe(true); // 2.25 ms: exactly 1.5
    const one = scalingSummary([row(30, 8_000, 12)]);
    expect([one.perPupilRatio, one.meetsTarget]).toEqual([null, null]);
    const missing = scalingSummary([row(30, 8_000, 12), scalingRow(600, 230_000, {})]);
    expect(missing.perPupilRatio).toBeNull();
  });
});

describe('the table', () => {
  it('has a header and one row per size, figures rounded for reading', () => {
    const s = scalingSummary([scalingRow(30, 8_123, results(12.34, 18.26)), scalingRow(600, 231_987, results(400))]);
    const cells = scalingCells(s);
    expect(cells[0]).toEqual([...SCALING_HEADER]);
    expect(cells[1]).toEqual([
      '30',
      '8,123',
      '12,345',
      '12.3',
      '1.519',
      '0.25',
      '18.3',
      '18.3',
      '18.3',
      '0',
      '200 of 200',
    ]);
    expect(cells).toHaveLength(3);
  });

  it("says when the load generator could not send at the rate, rather than giving its rate as the service's", () => {
    const behind = results(12);
    const held = results(12);
    Object.assign(behind.load, { achievedRate: 185.2, offeredRate: 186.1, scheduleHeld: false });
    Object.assign(held.load, { achievedRate: 192.3, offeredRate: 200, scheduleHeld: true });
    const cells = scalingCells(scalingSummary([scalingRow(30, 8_000, behind), scalingRow(600, 230_000, held)]));
    expect(cells[1].at(-1)).toBe('185 of 200 (generator behind: sent 186/s)');
    expect(cells[2].at(-1)).toBe('192 of 200');
  });

  it('aligns the columns and ends with the ratio against the target', () => {
    const s = scalingSummary([scalingRow(30, 8_000, results(12)), scalingRow(600, 230_000, results(690))]);
    const lines = scalingTable(s);
    expect(lines).toHaveLength(5); // header, rule, two sizes, ratio
    expect(new Set(lines.slice(0, 4).map((l) => l.length)).size).toBe(1);
    expect(lines[1]).toMatch(/^-+( +-+)+$/);
    expect(lines[4]).toBe('LA day per pupil, largest over smallest: 2.00 (target ≤ 1.5: NOT met)');
    expect(scalingTable(scalingSummary([scalingRow(30, 8_000, {})])).at(-1)).toMatch(/–/);
  });
});

describe('a size that stopped early', () => {
  it('keeps the figures it measured, marks its row and says why under the table', () => {
    // The 600-school run measured its back-fill and LA day, then failed at the storage count.
    const partial = { ingest: { backfill: { rowsPerSecond: 2_200 }, laDay: { seconds: 322 } } };
    const failed = scalingRow(600, 230_000, { ...partial, error: 'InternalError: (S3 ListObjectsV2 returns/)' });
    expect(failed.failed).toBe('InternalError: (S3 ListObjectsV2 returns/)');
    expect([failed.backfillRowsPerSecond, failed.laDaySeconds, failed.rollupSeconds]).toEqual([2_200, 322, null]);
    expect(scalingRow(30, 8_000, results(12))).not.toHaveProperty('failed');
    const lines = scalingTable(scalingSummary([scalingRow(30, 8_000, results(12)), failed]));
    expect(lines[3]).toMatch(/^600 \(failed\) +230,000 +2,200 +322\.0 /);
    expect(lines.at(-1)).toBe('600 schools: stopped early: InternalError: (S3 ListObjectsV2 returns/)');
    expect(lines).toHaveLength(6); // header, rule, two sizes, ratio, the failure
  });
});

describe('--scaling and sizes', () => {
  it('takes two or more whole numbers of schools, smallest first, each once', () => {
    expect(parseScalingSizes('600,30,120')).toEqual([30, 120, 600]);
    expect(parseScalingSizes(' 30, 30 ,120')).toEqual([30, 120]);
    for (const bad of ['30', '30,abc', '30,0', '30,1.5', '']) expect(() => parseScalingSizes(bad)).toThrow(RangeError);
  });

  it("keeps the pupils per school of the bench's LA", () => {
    expect(pupilsForSize(30, { schools: 600, pupils: 230_000 })).toBe(11_500);
    expect(pupilsForSize(600, { schools: 600, pupils: 230_000 })).toBe(230_000);
  });
});

describe('progress lines', () => {
  it('say done of total, the rate and the time left at that rate', () => {
    expect(progressText('back-fill applied', { done: 150, total: 600, elapsedSeconds: 60, unit: 'files' })).toBe(
      'back-fill applied: 150/600 files (25%), 2.5 files/s, ~3 min 00 s left',
    );
    expect(progressText('generating', { done: 190, total: 190, elapsedSeconds: 95, unit: 'days' })).toBe(
      'generating: 190/190 days (100%), 2.0 days/s, done',
    );
    expect(progressText('x', { done: 0, total: 10, elapsedSeconds: 5, unit: 'files' })).toMatch(/~\? left$/);
    expect([duration(42), duration(3 * 3600 + 5 * 60)]).toEqual(['42 s', '3 h 05 min']);
  });

  it('print at most every few seconds, and always at the end, once', () => {
    const lines: string[] = [];
    const report = phaseProgress('LA day applied', (l) => lines.push(l), 'files', 60_000);
    report(1, 10);
    report(2, 10);
    report(10, 10);
    report(10, 10);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^LA day applied: 10\/10 files \(100%\)/);
  });
});
