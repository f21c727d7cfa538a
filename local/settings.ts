/** The local runtime's settings from the environment (README "Run it"). */
import { resolve } from 'node:path';

/** ATTENDANCE_HUB_DATA, default `.data` in the current directory. */
export function dataDirectory(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.ATTENDANCE_HUB_DATA || '.data');
}

/** PORT, default 3000. */
export function port(env: NodeJS.ProcessEnv = process.env): number {
  const p = Number(env.PORT ?? 3000);
  if (!Number.isInteger(p) || p < 0 || p > 65535) throw new Error(`PORT must be a port number, got '${env.PORT}'`);
  return p;
}

/** DEMO=0 skips loading the demo LA into an empty store. */
export function demoWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.DEMO !== '0' && env.DEMO !== 'false';
}
