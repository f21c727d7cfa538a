/**
 * The demo LA `npm start` loads into an empty store (DEMO=0 skips it): about 30 schools and 8,000
 * pupils from the synthetic generator, the academic year to date, sent through the real upload path
 * — registry, calendars, social-care lists, then every school's returns — so a newcomer sees real
 * figures, flags and patterns at once.
 */
import { join } from 'node:path';
import { academicYearOf, addDays, isWeekend, todayInEngland } from '../shared/domain/dates.js';
import { listSchools } from '../shared/store/schools.js';
import { loadGeneratedLa } from './load-la.js';
import type { LocalRuntime } from './runtime.js';
import { generateLa } from './synthetic/index.js';
import { progressBar } from './uploader.js';

export const DEMO_SIZE = { schools: 30, pupils: 8000, seed: 'demo' } as const;

/** The demo's dates: this academic year from September to the last weekday before today. */
export function demoRange(today = todayInEngland()): { from: string; to: string } {
  let to = addDays(today, -1);
  while (isWeekend(to)) to = addDays(to, -1);
  const year = academicYearOf(today);
  // Before the autumn term has a fortnight behind it, show the whole of last year instead.
  if (to < `${year}-09-14`) return { from: `${year - 1}-09-01`, to: `${year}-07-21` };
  return { from: `${year}-09-01`, to };
}

export async function loadDemoIfEmpty(
  runtime: LocalRuntime,
  log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<{ sampleUrn: string; summary: string } | undefined> {
  if ((await listSchools()).length > 0) return undefined;
  const { from, to } = demoRange();
  const dir = join(runtime.dataDir, 'demo-la');
  log(
    `Empty store: generating a demo LA (${DEMO_SIZE.schools} schools, about ${DEMO_SIZE.pupils} pupils, ${from} to ${to})…`,
  );
  const generated = await generateLa({ ...DEMO_SIZE, from, to, out: dir, overwrite: true, laCode: runtime.laCode });
  log(
    `Loading it through the API (registry, calendars, social-care lists, then ${generated.files.total} returns; the year so far arrives as one back-fill per school)…`,
  );
  const started = Date.now();
  const loaded = await loadGeneratedLa({
    url: runtime.url,
    dir,
    workDir: join(dir, 'backfill'),
    token: (role, urn) => runtime.token({ role, urn, sub: role === 'school' ? `demo-school-${urn}` : `demo-${role}` }),
    backfillBefore: addDays(to, -6),
    concurrency: 4,
    onSetup: (step) => log(`  ${step}`),
    onProgress: progressBar('  returns'),
  });
  await runtime.settle();
  const u = loaded.uploads;
  const summary =
    `${generated.schools.inArea} schools (+${generated.schools.outOfArea} out of area), ${generated.pupils.total} pupils, ${from} to ${to}; ` +
    `${u.files} uploads (${u.rejected} rejected) in ${((Date.now() - started) / 1000).toFixed(0)} s`;
  return { sampleUrn: loaded.sampleUrn, summary };
}
