/**
 * `npm start`: the whole service on this machine with embedded engines (README "Run it").
 * Honours PORT (default 3000), ATTENDANCE_HUB_DATA (default .data), DEMO=0 and INGEST_WORKERS.
 */
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { startLocalRuntime } from '../../local/runtime.js';
import { defaultIngestWorkers } from '../../local/ingest-workers.js';
import { sampleReturnCsv, sampleReturnFromDemo } from '../../local/sample-return.js';
import { dataDirectory, demoWanted, port } from '../../local/settings.js';
import { loadDemoIfEmpty } from '../../local/demo.js';
import { demoPeople, localOutboxDir } from '../../local/notifications-timer.js';
import { listPeople, putPersonAddress } from '../../shared/store/people.js';
import { listSchools } from '../../shared/store/schools.js';
import { buildWeb } from '../../web/build.js';

export async function run(): Promise<number> {
  // The handlers' structured logs are for CloudWatch; on a terminal only warnings and errors show.
  process.env.POWERTOOLS_LOG_LEVEL ??= process.env.LOG_LEVEL ?? 'WARN';
  // The operator metrics are CloudWatch embedded-metric lines; there is no CloudWatch here
  // (POWERTOOLS_METRICS_DISABLED=false shows them).
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  const dataDir = dataDirectory();
  const web = await buildWeb();
  const runtime = await startLocalRuntime({
    dataDir,
    port: port(),
    host: process.env.HOST ?? '127.0.0.1',
    // The ingest on worker threads, as Lambda runs it apart from the API (local/ingest-workers.ts).
    ingestWorkers: defaultIngestWorkers(),
    patternsTimer: true,
    notificationsTimer: true,
    webApp: { distDir: web.outDir },
  });
  process.stdout.write(`Attendance Hub: open ${runtime.url}/ in a browser and sign in\n`);
  const stop = async () => {
    process.stderr.write('\nstopping…\n');
    await runtime.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());

  const demo = demoWanted() ? await loadDemoIfEmpty(runtime) : undefined;
  // On a restart the store is kept: the sample school is then the first school the LA holds.
  const sampleUrn =
    demo?.sampleUrn ??
    (await listSchools())
      .filter((s) => !s.outOfArea)
      .map((s) => s.urn)
      .sort()[0] ??
    '100001';
  // People to notify: the local sign-in's, once (an administrator changes them on the People page).
  if ((await listPeople()).length === 0) {
    for (const p of demoPeople(sampleUrn)) await putPersonAddress(p.sub, p, 'local-setup', new Date().toISOString());
  }
  const samplePath = join(dataDir, 'sample-return.csv');
  writeFileSync(
    samplePath,
    sampleReturnFromDemo(join(dataDir, 'demo-la'), sampleUrn) ?? sampleReturnCsv(sampleUrn, runtime.laCode),
  );
  const rel = relative(process.cwd(), samplePath);
  const shownPath = rel && !rel.startsWith('..') ? rel : samplePath;

  const tokens = {
    school: await runtime.token({ role: 'school', urn: sampleUrn }),
    la_officer: await runtime.token({ role: 'la_officer' }),
    vsh: await runtime.token({ role: 'vsh' }),
    admin: await runtime.token({ role: 'admin' }),
  };
  const out = [
    '',
    `Attendance Hub is running at ${runtime.url}/  (open it in a browser; data in ${dataDir}; LA ${runtime.laCode})`,
    `  API docs: ${runtime.url}/docs   OpenAPI: ${runtime.url}/openapi.json   health: ${runtime.url}/health`,
    `  alerts: every minute into ${localOutboxDir(dataDir)} (.eml files, exactly what SES would send); the outbox page for admins, "Your alerts" to choose`,
    demo ? `  demo LA: ${demo.summary}` : '  no demo data loaded (DEMO=0 or the store already had data)',
    '',
    'Tokens (valid 12 hours; mint more with: npm run --silent cli -- token --role <role> [--urn <urn>]):',
    `  school (URN ${sampleUrn}):`,
    `    export SCHOOL_TOKEN=${tokens.school}`,
    '  la_officer:',
    `    export LA_TOKEN=${tokens.la_officer}`,
    '  vsh:',
    `    export VSH_TOKEN=${tokens.vsh}`,
    '  admin:',
    `    export ADMIN_TOKEN=${tokens.admin}`,
    '',
    'Upload a sample daily return, then read its status:',
    `  curl -s -X POST ${runtime.url}/v1/returns -H "Authorization: Bearer $SCHOOL_TOKEN" -H 'Content-Type: text/csv' --data-binary @${shownPath}`,
    `  curl -s ${runtime.url}/v1/returns/<returnId> -H "Authorization: Bearer $SCHOOL_TOKEN"`,
    '',
    'Press Ctrl+C to stop.',
    '',
  ];
  process.stdout.write(out.join('\n'));
  await new Promise(() => undefined);
  return 0;
}
