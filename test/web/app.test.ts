/**
 * The web app in Chromium (issue 18): sign-in as the LA officer and as a school, the overview's
 * figures equal to the API's, the pupil calendar showing the API's marks, a school's upload with row
 * errors, flag lists with filters and CSV, and axe-core on every page visited (no serious or critical
 * violation). Set WEB_SCREENSHOTS=<dir> to keep a screenshot of each page.
 */
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { sampleReturnCsv } from '../../local/sample-return.js';
import { date, pct } from '../../web/src/format.js';
import { MAX_GZIPPED_JS_BYTES } from '../../web/build.js';
import { signIn, useBrowserSession, type WebService } from './harness.js';

let svc: WebService;
let page: Page;
let axe: Record<string, unknown[]>;
const session = useBrowserSession((s) => ({ svc, page, axe } = s));
const check = (name: string) => session.check(name);

describe('the web app', () => {
  it('serves the app at / and keeps its JavaScript under the page budget', async () => {
    const res = await fetch(`${svc.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(svc.build.jsGzipBytes).toBeLessThan(MAX_GZIPPED_JS_BYTES);
    // The local sign-in refuses anything but JSON (another site's form cannot mint a token).
    const form = await fetch(`${svc.url}/local/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'role=admin',
    });
    expect(form.status).toBe(415);
  });

  it('shows the sign-in page with a button per role', async () => {
    await page.goto(`${svc.url}/`);
    await page.getByRole('heading', { name: 'Sign in to Attendance Hub' }).waitFor();
    for (const role of ['LA officer', 'Virtual School Head', 'School', 'Administrator']) {
      await page.getByRole('button', { name: role, exact: true }).waitFor();
    }
    await check('sign-in');
  });

  it("signs the LA officer in to an overview whose figures are the API's", async () => {
    await signIn(page, svc.url, 'LA officer');
    await page.getByRole('heading', { name: 'Attendance across the LA' }).waitFor();
    const [headline, cohorts, weeks] = await Promise.all([
      svc.api('/v1/metrics', 'la_officer'),
      svc.api('/v1/metrics?groupBy=cohort', 'la_officer'),
      svc.api('/v1/metrics?groupBy=week', 'la_officer'),
    ]);
    const all = headline.items[0];
    const cards = page.getByRole('region', { name: 'Headline figures' });
    const card = (label: string) =>
      cards.getByRole('heading', { name: label, exact: true }).locator('xpath=following-sibling::p[1]');
    await expect(card('Attendance').textContent()).resolves.toBe(pct(all.attendanceRate));
    await expect(card('Absence').textContent()).resolves.toBe(pct(all.absenceRate));
    await expect(card('Persistent absence').textContent()).resolves.toBe(pct(all.persistentAbsenceRate));
    await expect(card('Severe absence').textContent()).resolves.toBe(pct(all.severeAbsenceRate));
    expect(pct(all.attendanceRate)).toMatch(/^\d{1,3}\.\d%$/);

    const fsm = cohorts.items.find((r: { key: { cohort: string } }) => r.key.cohort === 'fsm');
    const nonFsm = cohorts.items.find((r: { key: { cohort: string } }) => r.key.cohort === 'non_fsm');
    const fsmRow = page
      .getByRole('table', { name: 'Absence and persistent absence by cohort' })
      .getByRole('row', { name: /^Free school meals/ });
    const cells = await fsmRow.getByRole('cell').allTextContents();
    expect(cells.slice(1, 3)).toEqual([pct(fsm.absenceRate), pct(nonFsm.absenceRate)]);

    const weekRows = page.getByRole('table', { name: 'Weekly rates' }).locator('tbody tr');
    await expect(weekRows.count()).resolves.toBe(weeks.items.length);
    await page.getByRole('img', { name: /Line chart of weekly attendance/ }).waitFor();

    // Beside the DfE's published figures (GET /v1/metrics/reference), ranked in a chosen region.
    const ref = await svc.api('/v1/metrics/reference', 'la_officer');
    const england = page
      .getByRole('table', { name: 'This LA, England and the region' })
      .getByRole('row', { name: /^England/ });
    await expect(england.getByRole('cell').allTextContents()).resolves.toEqual([
      pct(ref.national.attendanceRate),
      pct(ref.national.absenceRate),
      pct(ref.national.persistentAbsenceRate),
    ]);
    await page.getByLabel('Region', { exact: true }).selectOption({ label: 'London' });
    await page.getByRole('button', { name: 'Compare', exact: true }).click();
    await page.getByText(/Absence ranks \d+ of \d+ LAs in London/).waitFor();
    await page.getByRole('table', { name: 'LAs in London, lowest absence first' }).waitFor();
    await check('overview');
  });

  it('lists the schools, sortable, with red, amber and green', async () => {
    await page.getByRole('link', { name: 'Schools', exact: true }).click();
    const table = page.getByRole('table', { name: 'Schools, year to date' });
    await table.waitFor();
    const schools = await svc.api('/v1/schools', 'la_officer');
    const inArea = schools.items.filter((s: { outOfArea: boolean }) => !s.outOfArea);
    await expect(table.locator('tbody tr').count()).resolves.toBe(inArea.length);
    await table.getByRole('button', { name: 'Attendance' }).click();
    await expect(table.getByRole('columnheader', { name: 'Attendance' }).getAttribute('aria-sort')).resolves.toBe(
      'ascending',
    );
    await check('schools');
    await table.getByRole('link').first().click();
    await page.getByRole('heading', { name: 'Week by week' }).waitFor();
    await page.getByRole('table', { name: 'Year groups' }).waitFor();
    await check('school');
  });

  it("shows a pupil's marks as the API returns them, on a calendar", async () => {
    const list = await svc.api('/v1/pupils?flag=persistent_absence&limit=1', 'la_officer');
    const pupil = list.items[0];
    expect(pupil).toBeDefined();
    await page.getByRole('link', { name: 'Pupils', exact: true }).click();
    await page.getByRole('heading', { name: 'Persistent absence', level: 1 }).waitFor();
    await check('pupils-list');
    const name = [pupil.forename, pupil.surname].filter(Boolean).join(' ');
    await page.getByRole('link', { name, exact: true }).first().click();
    await page.getByRole('heading', { name, level: 1 }).waitFor();
    const sessions = (await svc.api(`/v1/pupils/${pupil.upn}/sessions`, 'la_officer')).sessions as Array<{
      date: string;
      session: string;
      code: string | null;
      urn: string;
    }>;
    const days = new Set(sessions.map((s) => s.date));
    await expect(page.locator('td[data-date]').count()).resolves.toBe(days.size);
    // Every mark the API returns is on its day, AM and PM, with its code.
    const labels = new Map<string, string>();
    for (const cell of await page.locator('td[data-date]').all())
      labels.set((await cell.getAttribute('data-date'))!, (await cell.getAttribute('aria-label'))!);
    for (const s of sessions) expect(labels.get(s.date)).toContain(`${s.session} ${s.code ?? 'not marked'}`);
    // Focus shows the codes and the school.
    const absent = sessions.find((s) => s.code === 'N' || s.code === 'O' || s.code === 'I') ?? sessions[0];
    const cell = page.getByRole('cell', { name: new RegExp(`^${date(absent.date)}:`) });
    await cell.focus();
    const schools = await svc.api('/v1/schools', 'la_officer');
    const schoolName = schools.items.find((s: { urn: string }) => s.urn === absent.urn)?.name;
    await expect(cell.locator('.app-cal__tip').innerText()).resolves.toContain(schoolName);
    const view = await svc.api(`/v1/pupils/${pupil.upn}`, 'la_officer');
    await expect(
      page.locator('.govuk-summary-list__row', { hasText: 'Attendance' }).first().locator('dd').textContent(),
    ).resolves.toBe(pct(view.totals.attendanceRate));
    await check('pupil');
  });

  it('filters a flag list and downloads what it shows as CSV', async () => {
    await page.getByRole('link', { name: 'Pupils', exact: true }).click();
    await page.getByLabel('Flag').selectOption({ label: 'Persistent absence' });
    await page.getByLabel('School').selectOption({ index: 1 });
    const urn = await page.getByLabel('School').inputValue();
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(new RegExp(`urn=${urn}`));
    const expected = await svc.api(`/v1/pupils?flag=persistent_absence&urn=${urn}`, 'la_officer');
    await page
      .getByRole('status')
      .filter({ hasText: `${expected.total} pupil` })
      .waitFor();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download CSV' }).click(),
    ]);
    const csv = readFileSync(await download.path(), 'utf8');
    const api = await svc.api(`/v1/pupils?flag=persistent_absence&urn=${urn}`, 'la_officer', { accept: 'text/csv' });
    expect(csv.replace(/^\uFEFF/, '')).toBe(api.replace(/^\uFEFF/, ''));
    await check('pupils-filtered');
    await page.getByRole('link', { name: 'Patterns', exact: true }).click();
    await page.getByRole('heading', { name: 'Threshold-gaming patterns' }).waitFor();
    const findings = await svc.api('/v1/patterns?limit=200', 'la_officer');
    await page
      .getByRole('status')
      .filter({ hasText: `${findings.total} findings.` })
      .waitFor();
    if (findings.items.length) {
      const rows = page.getByRole('table', { name: 'Findings' }).locator('tbody tr');
      await expect(rows.count()).resolves.toBe(findings.items.length);
      await expect(rows.first().locator('td').nth(3).textContent()).resolves.toBe(findings.items[0].explanation);
    }
    await check('patterns');
  });

  it('signs out', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('You have signed out.').waitFor();
    await page.goto(`${svc.url}/#/schools`);
    await page.getByRole('heading', { name: 'Sign in to Attendance Hub' }).waitFor();
  });

  it("lets a school upload a file and see each row error's line, field and message", async () => {
    const schools = await svc.api('/v1/schools', 'la_officer');
    const school = schools.items.find((s: { urn: string }) => s.urn === svc.sampleUrn);
    await signIn(page, svc.url, { school: `${school.name} (URN ${school.urn})` });
    await page.getByRole('heading', { name: 'Upload a return' }).waitFor();
    await check('upload');
    const lines = sampleReturnCsv(svc.sampleUrn, svc.runtime.laCode, school.latestDate, 6).trimEnd().split('\n');
    lines[2] = lines[2].replace(/,\/,\\,/, ',Q9,\\,'); // an unknown code, line 3
    lines[4] = lines[4].replace(/,\d{4}-\d{2}-\d{2},/, ',2026-13-45,'); // an impossible date, line 5
    await page
      .getByLabel('Choose a CSV or CTF file')
      .setInputFiles({ name: 'register.csv', mimeType: 'text/csv', buffer: Buffer.from(`${lines.join('\n')}\n`) });
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    await page.getByRole('heading', { name: /row errors?$/ }).waitFor({ timeout: 60_000 });
    const returnId = decodeURIComponent(page.url().split('#/returns/')[1]);
    const status = await svc.api(`/v1/returns/${returnId}`, 'school', { urn: svc.sampleUrn });
    expect(status.errors.length).toBeGreaterThanOrEqual(2);
    const rows = await page.getByRole('table', { name: 'Row errors' }).locator('tbody tr').all();
    const shown = await Promise.all(
      rows.map(async (r) => (await r.locator('th, td').allTextContents()).map((t) => t.trim())),
    );
    expect(shown).toEqual(
      status.errors.map((e: { line: number; field: string; message: string }) => [String(e.line), e.field, e.message]),
    );
    expect(shown.map((r) => r[0])).toEqual(expect.arrayContaining(['3', '5']));
    await check('return');
    // The file exactly as received: the API answers 303 to a presigned S3 GET, which the browser
    // follows across origins (the bucket's CORS allows the app's GET).
    const [kept] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download the file as received' }).click(),
    ]);
    expect(readFileSync(await kept.path(), 'utf8')).toBe(`${lines.join('\n')}\n`);
    await page.getByRole('link', { name: 'Returns', exact: true }).click();
    await page.getByRole('table', { name: 'Returns, newest first' }).waitFor();
    await check('returns');
    // Its own school: figures, flagged pupils, returns (no other school's).
    await page.getByRole('link', { name: 'Your school', exact: true }).click();
    await page.getByRole('heading', { name: school.name, level: 1 }).waitFor();
    await page.getByRole('table', { name: 'Year groups' }).waitFor();
    await check('school-own');
  });

  it('signs the Virtual School Head and the administrator in to their start pages', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, svc.url, 'Virtual School Head');
    await page.getByRole('heading', { name: 'Virtual School', level: 1 }).waitFor();
    await check('home-vsh');
    // Its returns: it chooses among the out-of-area schools it sends for (not "No returns yet").
    await page.getByRole('link', { name: 'Returns', exact: true }).click();
    await page.getByText('Choose a school to see its returns.').waitFor();
    const outOfArea = (
      await svc.api<{ items: Array<{ urn: string; outOfArea: boolean }> }>('/v1/schools?limit=1000', 'vsh')
    ).items
      .filter((s) => s.outOfArea)
      .map((s) => s.urn);
    const offered = outOfArea.length
      ? await page
          .locator('#returns-urn option')
          .evaluateAll((os) => os.map((o) => (o as unknown as { value: string }).value))
      : [''];
    expect(offered.filter(Boolean).sort()).toEqual([...outOfArea].sort());
    await check('returns-vsh');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, svc.url, 'Administrator');
    await page.getByRole('heading', { name: 'Signed in as Administrator' }).waitFor();
    await check('home-admin');
  });

  it('finds no serious or critical accessibility violation on any page', () => {
    expect(Object.keys(axe).length).toBeGreaterThanOrEqual(10);
    expect(axe).toEqual(Object.fromEntries(Object.keys(axe).map((k) => [k, []])));
  });
});
