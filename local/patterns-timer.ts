/**
 * The local stand-in for the nightly EventBridge schedule of the patterns function (lib/schedules.ts):
 * `npm start` runs the detectors
 * - once, as soon as the service has data and has been quiet for a while (the demo LA loaded, or the
 *   store opened with data), so a newcomer sees pattern flags without waiting for the night;
 * - then every night at 02:00 Europe/London, as in AWS.
 * Each run is the same asynchronous invocation the schedule makes (`{ trigger: 'schedule' }`).
 */
import { todayInEngland } from '../shared/domain/dates.js';

export interface PatternsTimerOptions {
  /** Start a run (asynchronously; the runtime invokes the patterns function through its local Lambda). */
  run: () => void;
  /** Whether nothing is being processed (queues drained, no run or S3 event in flight). */
  isIdle: () => Promise<boolean>;
  /** Whether there is anything to analyse (a register for this or last academic year). */
  hasData: () => Promise<boolean>;
  /** Local time of the nightly run, HH:MM in Europe/London (default 02:00, as lib/schedules.ts). */
  nightlyAt?: string;
  /** How long the service must have been idle before the first run (default 30 s). */
  quietMs?: number;
  /** How often the timer looks (default 5 s). */
  pollMs?: number;
  now?: () => Date;
}

export interface PatternsTimer {
  stop(): void;
}

/** The time of day in Europe/London as HH:MM. */
export function londonTime(now: Date): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/London',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(now);
}

/**
 * Whether the nightly run is due: it is at or past `at` London time today and no nightly run has
 * happened today (London date). Pure, for the timer and its tests.
 */
export function nightlyDue(now: Date, at: string, lastNightlyDate: string | undefined): boolean {
  return londonTime(now) >= at && lastNightlyDate !== todayInEngland(now);
}

export function startPatternsTimer(options: PatternsTimerOptions): PatternsTimer {
  const now = options.now ?? (() => new Date());
  const at = options.nightlyAt ?? '02:00';
  const quietMs = options.quietMs ?? 30_000;
  // A start after today's run time does not count as a missed night.
  let lastNightly: string | undefined = londonTime(now()) >= at ? todayInEngland(now()) : undefined;
  let firstDone = false;
  let idleSince: number | undefined;
  let checking = false;

  const tick = async () => {
    if (checking) return;
    checking = true;
    try {
      const t = now();
      if (!(await options.isIdle())) {
        idleSince = undefined;
        return;
      }
      idleSince ??= t.getTime();
      if (nightlyDue(t, at, lastNightly)) {
        lastNightly = todayInEngland(t);
        firstDone = true;
        options.run();
        idleSince = undefined;
        return;
      }
      if (!firstDone && t.getTime() - idleSince >= quietMs && (await options.hasData())) {
        firstDone = true;
        options.run();
        idleSince = undefined;
      }
    } catch {
      // A failed look (engines stopping) is retried at the next tick.
    } finally {
      checking = false;
    }
  };
  const timer = setInterval(() => void tick(), options.pollMs ?? 5_000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
