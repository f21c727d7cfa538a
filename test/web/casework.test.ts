/**
 * Casework in Chromium (issue 19): an LA officer takes a suggestion to a case, moves it through its
 * states, and meets a 412 when the same case was changed first in a second tab — explained, and
 * resolved by reloading, never by overwriting. axe-core on each page (no serious or critical
 * violation). Screenshots go to WEB_SCREENSHOTS=<dir> when set.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { date, pct } from '../../web/src/format.js';
import { chromiumAvailable, CHROMIUM, launchBrowser, newPage, seriousViolations, signIn, startWebService, type WebService } from './harness.js';

let svc: WebService;
let browser: Browser;
let page: Page;
const axe: Record<string, unknown[]> = {};
const SHOTS = process.env.WEB_SCREENSHOTS;

async function check(p: Page, name: string): Promise<void> {
  await p.locator('#main-content[aria-busy]').waitFor({ state: 'detached' });
  axe[name] = await seriousViolations(p);
  if (SHOTS) {
    mkdirSync(SHOTS, { recursive: true });
    await p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  }
}

beforeAll(async () => {
  if (!chromiumAvailable()) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (.ci/run does)`);
  [svc, browser] = await Promise.all([startWebService(), launchBrowser()]);
  page = await newPage(browser);
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await svc?.stop();
});

describe('referral casework in the browser', () => {
  let caseId = '';
  let pupilName = '';

  it('takes a suggestion to a case', async () => {
    const suggestions = await svc.api('/v1/referrals/suggestions?limit=100', 'la_officer');
    expect(suggestions.items.length).toBeGreaterThan(0);
    const first = suggestions.items[0];
    pupilName = [first.forename, first.surname].filter(Boolean).join(' ');

    await signIn(page, svc.url, 'LA officer');
    await page.getByRole('link', { name: 'Cases', exact: true }).click();
    await page.getByRole('heading', { name: 'Cases', level: 1 }).waitFor();
    await check(page, 'cases-empty');
    await page.getByRole('navigation', { name: 'Casework' }).getByRole('link', { name: 'Suggestions' }).click();
    await page.getByRole('heading', { name: 'Suggested cases', level: 1 }).waitFor();
    await page.getByRole('status').filter({ hasText: `${suggestions.total} suggestion` }).waitFor();
    await check(page, 'suggestions');
    await page.getByRole('link', { name: `Open a case for ${pupilName}` }).first().click();
    await page.getByRole('heading', { name: `Open a case for ${pupilName}`, level: 1 }).waitFor();
    await expect(page.getByLabel('Type of case').inputValue()).resolves.toBe(first.suggestedType);
    await expect(page.getByLabel('Reason for the referral').inputValue()).resolves.not.toBe('');
    await check(page, 'case-new');
    await page.getByLabel('Priority').selectOption({ label: 'High' });
    await page.getByRole('button', { name: 'Open the case' }).click();
    await page.getByText('Case opened.').waitFor();
    await page.getByRole('heading', { name: pupilName, level: 1 }).waitFor();
    caseId = decodeURIComponent(page.url().split('#/cases/')[1].split('?')[0]);
    const stored = await svc.api(`/v1/referrals/${caseId}`, 'la_officer');
    expect(stored).toMatchObject({ upn: first.upn, type: first.suggestedType, priority: 'high', status: 'submitted', version: 1 });
    // The evidence and the timeline as the API holds them.
    await page.getByRole('heading', { name: 'Evidence' }).waitFor();
    await page.getByRole('list', { name: 'Timeline' }).getByText('Case opened').waitFor();
    await check(page, 'case-submitted');
  });

  it('moves the case through its states', async () => {
    await page.getByRole('button', { name: 'Triage the case' }).click();
    await page.getByText('Saved. The case is now triaged.').waitFor();
    await page.getByLabel('Officer to allocate to').fill('officer-casework');
    await page.getByRole('button', { name: 'Allocate the case' }).click();
    await page.getByText('Saved. The case is now allocated.').waitFor();
    await expect(page.locator('.govuk-summary-list__row', { hasText: 'Assigned to' }).locator('dd').textContent()).resolves.toBe('officer-casework');
    await page.getByRole('button', { name: 'Start work' }).click();
    await page.getByText('Saved. The case is now in progress.').waitFor();
    await page.getByLabel('Action', { exact: true }).selectOption({ label: 'Meeting' });
    await page.getByLabel('Notes (optional)').fill('Met the family at school.');
    await page.getByRole('button', { name: 'Record the action' }).click();
    await page.getByRole('list', { name: 'Timeline' }).getByText(/Meeting on .*: Met the family at school\./).waitFor();
    await check(page, 'case-in-progress');
    const stored = await svc.api(`/v1/referrals/${caseId}`, 'la_officer');
    expect(stored).toMatchObject({ status: 'in_progress', assignee: 'officer-casework', version: 5 });
    expect(stored.actions.map((a: { type: string }) => a.type)).toEqual(['meeting']);
  });

  it('explains a 412 when a second tab changed the case first, and resolves it by reloading', async () => {
    // A second tab (its own session, as sessionStorage is per tab) adds a note first.
    const second = await newPage(browser);
    await signIn(second, svc.url, 'LA officer');
    await second.goto(`${svc.url}/#/cases/${caseId}`);
    await second.getByRole('heading', { name: pupilName, level: 1 }).waitFor();
    await second.getByLabel('Note', { exact: true }).fill('Called the parent from the other tab.');
    await second.getByRole('button', { name: 'Add the note' }).click();
    await second.getByRole('list', { name: 'Timeline' }).getByText('Called the parent from the other tab.').waitFor();
    await second.context().close();

    // The first tab still shows version 5: closing is refused, explained, and not re-sent.
    await page.getByLabel('Outcome', { exact: true }).selectOption({ label: 'Support in place' });
    await page.getByRole('button', { name: 'Close the case' }).click();
    const conflict = page.getByRole('alert').filter({ hasText: 'Someone else changed this case' });
    await conflict.waitFor();
    await expect(conflict.textContent()).resolves.toContain('your change was not saved');
    await check(page, 'case-conflict');
    const during = await svc.api(`/v1/referrals/${caseId}`, 'la_officer');
    expect(during).toMatchObject({ status: 'in_progress', version: 6 });
    expect(during.events.at(-1)).toMatchObject({ kind: 'note', note: 'Called the parent from the other tab.' });

    await conflict.getByRole('button', { name: 'Reload the case' }).click();
    await page.getByRole('list', { name: 'Timeline' }).getByText('Called the parent from the other tab.').waitFor();
    await expect(page.getByText('Someone else changed this case').count()).resolves.toBe(0);
    await page.getByLabel('Outcome', { exact: true }).selectOption({ label: 'Support in place' });
    await page.getByRole('button', { name: 'Close the case' }).click();
    await page.getByText('Saved. The case is now closed.').waitFor();
    await check(page, 'case-closed');
    const after = await svc.api(`/v1/referrals/${caseId}`, 'la_officer');
    expect(after).toMatchObject({ status: 'closed', version: 7, outcome: { type: 'support_in_place' } });
    expect(after.events.map((e: { kind: string }) => e.kind)).toEqual(['created', 'updated', 'updated', 'updated', 'action', 'note', 'updated']);
  });

  it('lists the case in the queue, filtered by status', async () => {
    await page.getByRole('link', { name: 'Cases', exact: true }).click();
    await page.getByRole('heading', { name: 'Cases', level: 1 }).waitFor();
    await page.getByLabel('Status').selectOption({ label: 'Closed' });
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/status=closed/);
    const row = page.getByRole('table', { name: 'Cases' }).getByRole('row', { name: new RegExp(pupilName) });
    await row.waitFor();
    await expect(row.textContent()).resolves.toContain('Closed');
    await expect(row.textContent()).resolves.toContain('officer-casework');
    await check(page, 'cases-closed');
  });

});

describe('the Virtual School Head in the browser', () => {
  it('sees an out-of-area child on the roll with their figures, and the day\'s alerts', async () => {
    const roll = await svc.api('/v1/virtual-school/pupils?limit=200', 'vsh');
    type Item = { upn: string; forename: string | null; surname: string | null; schools: Array<{ outOfArea: boolean; name: string | null }>; stats: { attendanceRate: number | null; absenceRate: number | null; unauthorisedAbsenceSessions: number } };
    const away = (roll.items as Item[]).find((i) => i.schools.some((s) => s.outOfArea));
    expect(away, 'the generated LA places looked-after children out of area').toBeDefined();
    const alerts = await svc.api('/v1/virtual-school/alerts', 'vsh');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, svc.url, 'Virtual School Head');
    await page.getByRole('heading', { name: 'Virtual School', level: 1 }).waitFor();
    await page.getByRole('status').filter({ hasText: `${roll.total} children` }).waitFor();
    const childName = [away!.forename, away!.surname].filter(Boolean).join(' ');
    const row = page.getByRole('table', { name: 'The Virtual School’s roll' }).getByRole('row').filter({ has: page.getByRole('link', { name: childName, exact: true }) });
    await expect(row.count()).resolves.toBe(1);
    const cells = (await row.locator('th, td').allTextContents()).map((t) => t.trim());
    const outName = away!.schools.find((s) => s.outOfArea)!.name!;
    expect(cells[3]).toContain(outName);
    expect(cells[3]).toContain('Out of area');
    expect(cells.slice(5, 8)).toEqual([pct(away!.stats.attendanceRate), pct(away!.stats.absenceRate), String(away!.stats.unauthorisedAbsenceSessions)]);
    // The day's alerts, as the API counts them.
    await page.getByRole('heading', { name: `Alerts for ${date(alerts.date)}` }).waitFor();
    const counts = await page.getByRole('list', { name: 'Alert counts' }).locator('li').allTextContents();
    expect(counts).toEqual([`${alerts.counts.exclusion} exclusions`, `${alerts.counts.absence} absences`, `${alerts.counts.unmarked} sessions not marked`, `${alerts.counts.new_in_care} new in care`]);
    if (alerts.total > 0) await expect(page.getByRole('table', { name: 'Alerts' }).locator('tbody tr').count()).resolves.toBe(Math.min(alerts.total, 200));
    await page.getByRole('table', { name: 'The cohort beside the LA and England' }).waitFor();
    await check(page, 'virtual-school');

    // The child's PEP attendance, term by term.
    await row.getByRole('link', { name: childName, exact: true }).click();
    await page.getByRole('heading', { name: childName, level: 1 }).waitFor();
    const pep = await svc.api(`/v1/virtual-school/pupils/${away!.upn}/pep-summary`, 'vsh');
    for (const t of pep.terms as Array<{ label: string; daysInCohort: number }>) await page.getByRole('heading', { name: new RegExp(`^${t.label} `), level: 2 }).waitFor();
    await check(page, 'virtual-school-pep');
  });
});

describe('accessibility', () => {
  it('finds no serious or critical accessibility violation on these pages', () => {
    expect(Object.keys(axe).length).toBeGreaterThanOrEqual(9);
    expect(axe).toEqual(Object.fromEntries(Object.keys(axe).map((k) => [k, []])));
  });
});
