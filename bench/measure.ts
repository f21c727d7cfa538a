/** Timing and summary statistics for the benchmark. */
import { readdirSync, readFileSync } from 'node:fs';

export function seconds(since: number): number {
  return (performance.now() - since) / 1000;
}

/** p-th percentile (0–100) by nearest rank of an unsorted list; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

export interface Latencies {
  count: number;
  errors: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** Requests completed per second over the measurement. */
  throughput: number;
}

export function summariseLatencies(ms: readonly number[], errors: number, wallSeconds: number): Latencies {
  return {
    count: ms.length,
    errors,
    p50: round(percentile(ms, 50)),
    p95: round(percentile(ms, 95)),
    p99: round(percentile(ms, 99)),
    max: round(ms.length ? Math.max(...ms) : Number.NaN),
    throughput: round(ms.length / wallSeconds),
  };
}

export function round(n: number, digits = 1): number {
  if (!Number.isFinite(n)) return n;
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** Run `work` repeatedly until at least `minSeconds` have passed (and at least once); seconds per run. */
export async function repeatFor(
  minSeconds: number,
  work: () => unknown | Promise<unknown>,
): Promise<{ runs: number; secondsPerRun: number }> {
  const started = performance.now();
  let runs = 0;
  do {
    await work();
    runs++;
  } while (seconds(started) < minSeconds);
  return { runs, secondsPerRun: seconds(started) / runs };
}

/** CPU milliseconds (user + system) of this process's children (the engine process), from /proc. */
export function childCpuMs(): number {
  let total = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[1] === String(process.pid)) total += (Number(fields[11]) + Number(fields[12])) * 10;
    } catch {
      // gone
    }
  }
  return total;
}
