/**
 * The web app's figure (issue 18): on the demo LA (local/demo.ts, what `npm start` loads), the time
 * from pressing "LA officer" on the local sign-in page until the overview is usable — its headline
 * figures shown, every API call of the page answered, the page no longer busy — in Debian's Chromium
 * driven by playwright-core, median and worst of several fresh browser contexts. Also the app's
 * JavaScript size (gzipped), against the 250 KB page budget. Skipped when Chromium is not installed.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { median, round } from './measure.js';

export interface WebFigures {
  demo: string;
  runs: number;
  overviewUsableMs: { median: number; max: number; all: number[] };
  jsGzipBytes: number;
  jsBudgetBytes: number;
  skipped?: string;
}

export async function webOverviewFigures(
  workDir: string,
  runs: number,
  log: (line: string) => void,
): Promise<WebFigures | { skipped: string }> {
  const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(executablePath)) return { skipped: `no Chromium at ${executablePath} (apt-get install -y chromium)` };
  const { buildWeb, MAX_GZIPPED_JS_BYTES } = await import('../web/build.js');
  const { startLocalRuntime } = await import('../local/runtime.js');
  const { loadDemoIfEmpty, DEMO_SIZE } = await import('../local/demo.js');
  const { chromium } = await import('playwright-core');
  mkdirSync(workDir, { recursive: true });
  const built = await buildWeb(join(workDir, 'dist'));
  const runtime = await startLocalRuntime({
    dataDir: join(workDir, 'data'),
    port: 0,
    webApp: { distDir: built.outDir },
  });
  const browser = await chromium.launch({
    executablePath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  try {
    log('web: loading the demo LA (once; kept in the work directory)…');
    await loadDemoIfEmpty(runtime, (line) => log(`web: ${line.trim()}`));
    await runtime.settle();
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      page.setDefaultTimeout(60_000);
      await page.goto(`${runtime.url}/`);
      const button = page.getByRole('button', { name: 'LA officer', exact: true });
      await button.waitFor();
      const started = performance.now();
      await button.click();
      await page.getByRole('region', { name: 'Headline figures' }).waitFor();
      await page.locator('#main-content[aria-busy]').waitFor({ state: 'detached' });
      times.push(performance.now() - started);
      await context.close();
    }
    return {
      demo: `${DEMO_SIZE.schools} schools, about ${DEMO_SIZE.pupils} pupils, the year to date`,
      runs,
      overviewUsableMs: {
        median: round(median(times)),
        max: round(Math.max(...times)),
        all: times.map((t) => round(t)),
      },
      jsGzipBytes: built.jsGzipBytes,
      jsBudgetBytes: MAX_GZIPPED_JS_BYTES,
    };
  } finally {
    await browser.close();
    await runtime.stop();
  }
}
