/**
 * Browser-test harness: the whole local runtime serving the freshly built web app on a random
 * loopback port, loaded with a small generated LA through the public API (as `npm start` loads the
 * demo), and Debian's Chromium driven by playwright-core. Tests act by visible labels and roles.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { demoRange } from '../../local/demo.js';
import { loadGeneratedLa } from '../../local/load-la.js';
import { startLocalRuntime, type LocalRuntime } from '../../local/runtime.js';
import { generateLa } from '../../local/synthetic/index.js';
import type { Role } from '../../shared/domain/access.js';
import { buildWeb, type WebBuild } from '../../web/build.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Generous: two cores shared with other work. Tests wait for visible state, never for time. */
const UI_TIMEOUT = 30_000;

export interface WebService {
  url: string;
  runtime: LocalRuntime;
  build: WebBuild;
  sampleUrn: string;
  token(role: Role, urn?: string): Promise<string>;
  api<T = any>(path: string, role: Role, init?: { urn?: string; accept?: string }): Promise<T>;
  stop(): Promise<void>;
}

async function startWebService(
  size: { schools: number; pupils: number; days?: number } = { schools: 3, pupils: 360 },
): Promise<WebService> {
  const work = mkdtempSync(join(tmpdir(), 'attendance-hub-web-'));
  const build = await buildWeb(join(work, 'dist'));
  const runtime = await startLocalRuntime({
    dataDir: join(work, 'data'),
    port: 0,
    rollupDelaySeconds: 0,
    webApp: { distDir: build.outDir },
  });
  const range = demoRange();
  const laDir = join(work, 'la');
  await generateLa({
    schools: size.schools,
    pupils: size.pupils,
    from: range.from,
    to: range.to,
    seed: 'web-tests',
    out: laDir,
    laCode: runtime.laCode,
  });
  const loaded = await loadGeneratedLa({
    url: runtime.url,
    dir: laDir,
    workDir: join(work, 'backfill'),
    token: (role, urn) => runtime.token({ role, urn }),
    backfillBefore: range.to,
    concurrency: 2,
  });
  await runtime.settle();
  // The threshold-gaming detectors, as the nightly schedule would run them.
  const run = await fetch(`${runtime.url}/v1/patterns/runs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await runtime.token({ role: 'admin' })}`, 'content-type': 'application/json' },
    body: '{}',
  });
  if (run.status !== 202) throw new Error(`patterns run: ${run.status} ${await run.text()}`);
  await runtime.settle();
  const token = (role: Role, urn?: string) => runtime.token({ role, urn, sub: `web-test-${role}` });
  return {
    url: runtime.url,
    runtime,
    build,
    sampleUrn: loaded.sampleUrn,
    token,
    async api(path, role, init = {}) {
      const res = await fetch(`${runtime.url}${path}`, {
        headers: {
          authorization: `Bearer ${await token(role, init.urn)}`,
          ...(init.accept ? { accept: init.accept } : {}),
        },
      });
      if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return (init.accept === 'text/csv' ? await res.text() : await res.json()) as never;
    },
    async stop() {
      await runtime.stop();
      rmSync(work, { recursive: true, force: true });
    },
  };
}

function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM);
}

async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 120_000 });
}

export async function newPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    acceptDownloads: true,
    locale: 'en-GB',
    timezoneId: 'Europe/London',
  });
  const page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT);
  return page;
}

/**
 * One browser test file's world: the local service with a generated LA, Chromium and a page, and
 * `check(name)`, which waits for the page to settle, runs axe-core on it (kept in `axe` by name)
 * and, with WEB_SCREENSHOTS=<dir>, keeps a screenshot.
 */
export interface BrowserSession {
  svc: WebService;
  browser: Browser;
  page: Page;
  axe: Record<string, unknown[]>;
  check(name: string, on?: Page): Promise<void>;
  close(): Promise<void>;
}

async function openBrowserSession(): Promise<BrowserSession> {
  if (!chromiumAvailable())
    throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (.ci/run does)`);
  const [svc, browser] = await Promise.all([startWebService(), launchBrowser()]);
  const page = await newPage(browser);
  const axe: Record<string, unknown[]> = {};
  const shots = process.env.WEB_SCREENSHOTS;
  return {
    svc,
    browser,
    page,
    axe,
    async check(name, on = page) {
      await on.locator('#main-content[aria-busy]').waitFor({ state: 'detached' });
      axe[name] = await seriousViolations(on);
      if (shots) {
        mkdirSync(shots, { recursive: true });
        await on.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
      }
    },
    async close() {
      await browser.close();
      await svc.stop();
    },
  };
}

/**
 * One browser session for a test file: opened before its tests — handed to `opened`, which keeps
 * what the file uses (`({ svc, page, axe } = s)`) — and closed after them. Answers the session's
 * `check`, for use inside the tests.
 */
export function useBrowserSession(opened: (session: BrowserSession) => void): Pick<BrowserSession, 'check'> {
  let session: BrowserSession | undefined;
  beforeAll(async () => {
    session = await openBrowserSession();
    opened(session);
  }, 300_000);
  afterAll(async () => {
    await session?.close();
  });
  return {
    check: (name, on) => {
      if (!session) throw new Error('The browser session is not open: check from inside a test.');
      return session.check(name, on);
    },
  };
}

/** axe-core against WCAG 2.2 A and AA: the serious and critical violations (which must be none). */
async function seriousViolations(
  page: Page,
): Promise<Array<{ id: string; impact: string | null | undefined; help: string; targets: string[] }>> {
  const result = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'])
    .analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
    }));
}

/** Sign in through the local sign-in page as a person would. */
export async function signIn(
  page: Page,
  url: string,
  role: 'LA officer' | 'Virtual School Head' | 'Administrator' | { school: string },
): Promise<void> {
  await page.goto(`${url}/`);
  if (typeof role === 'string') {
    await page.getByRole('button', { name: role, exact: true }).click();
  } else {
    await page.getByRole('button', { name: 'School', exact: true }).click();
    await page.getByLabel('Which school?').selectOption({ label: role.school });
    await page.getByRole('button', { name: 'Sign in as this school' }).click();
  }
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}
