/**
 * The local stand-in for the notification schedules (lib/notifications.ts): `npm start` runs the
 * immediate alerts every minute (in AWS every 15 minutes in the school day: locally a developer
 * should not wait) and the daily digest once a day from 16:00 Europe/London, as in AWS. Messages go
 * to the file outbox (<data>/outbox/*.eml): exactly the raw messages SES would be given.
 */
import { join } from 'node:path';
import { todayInEngland } from '../shared/domain/dates.js';
import type { Role } from '../shared/domain/access.js';
import { londonTime } from './patterns-timer.js';

export interface NotificationsTimerOptions {
  run: (run: 'immediate' | 'digest') => Promise<unknown>;
  /** A run that failed (the next tick runs again). */
  onError?: (err: unknown) => void;
  /** How often the immediate alerts run (default 60 s). */
  everyMs?: number;
  /** Local time of the digest, HH:MM in Europe/London (default 16:00, as lib/notifications.ts). */
  digestAt?: string;
  now?: () => Date;
}

export interface NotificationsTimer {
  stop(): void;
}

/** Where the local mailer writes (README "Alerts"). */
export function localOutboxDir(dataDir: string): string {
  return join(dataDir, 'outbox');
}

export function startNotificationsTimer(options: NotificationsTimerOptions): NotificationsTimer {
  const now = options.now ?? (() => new Date());
  const at = options.digestAt ?? '16:00';
  let lastDigest: string | undefined;
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      const t = now();
      // The digest run sends the immediate alerts too.
      const digest = londonTime(t) >= at && lastDigest !== todayInEngland(t);
      await options.run(digest ? 'digest' : 'immediate');
      if (digest) lastDigest = todayInEngland(t);
    } catch (err) {
      // The next tick retries (engines stopping, a store not yet created).
      options.onError?.(err);
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void tick(), options.everyMs ?? 60_000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/**
 * The demo LA's people: the local sign-in's subjects (local/tokens.ts) with made-up addresses, so
 * that `npm start` shows alerts in the outbox and the preferences page has someone to be.
 */
export function demoPeople(
  sampleUrn: string,
): Array<{ sub: string; email: string; name: string; role: Role; urn?: string }> {
  return [
    { sub: 'local-vsh', email: 'virtual.school@la.example', name: 'Virtual School Head', role: 'vsh' },
    { sub: 'local-la_officer', email: 'attendance.team@la.example', name: 'Attendance officer', role: 'la_officer' },
    {
      sub: `local-school-${sampleUrn}`,
      email: `office.${sampleUrn}@school.example`,
      name: 'School office',
      role: 'school',
      urn: sampleUrn,
    },
  ];
}
