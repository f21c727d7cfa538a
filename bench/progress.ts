/**
 * Progress of the bench's long phases on stderr: done of total, the rate so far and the time left
 * at that rate, at most every few seconds (and once at the end), so a run of an hour shows it is
 * moving without flooding a log.
 */

export interface ProgressLine {
  done: number;
  total: number;
  elapsedSeconds: number;
  unit: string;
}

/** The line for a point in a phase (pure, for tests). */
export function progressText(label: string, p: ProgressLine): string {
  const pct = p.total > 0 ? Math.floor((p.done / p.total) * 100) : 100;
  const rate = p.elapsedSeconds > 0 ? p.done / p.elapsedSeconds : 0;
  const left = rate > 0 ? (p.total - p.done) / rate : Number.NaN;
  const rateText = rate >= 10 ? Math.round(rate).toLocaleString('en-GB') : rate.toFixed(1);
  return `${label}: ${p.done.toLocaleString('en-GB')}/${p.total.toLocaleString('en-GB')} ${p.unit} (${pct}%), ${rateText} ${p.unit}/s, ${p.done >= p.total ? 'done' : `~${duration(left)} left`}`;
}

export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** A reporter for one phase: call it with (done, total); it prints when `everyMs` has passed or at the end. */
export function phaseProgress(
  label: string,
  log: (line: string) => void,
  unit = 'files',
  everyMs = 5000,
): (done: number, total: number) => void {
  const started = performance.now();
  let last = started;
  let finished = false;
  return (done, total) => {
    const now = performance.now();
    const end = done >= total;
    if (finished || (!end && now - last < everyMs)) return;
    last = now;
    finished = end;
    log(progressText(label, { done, total, elapsedSeconds: (now - started) / 1000, unit }));
  };
}
