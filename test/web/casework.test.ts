/**
 * Casework in Chromium (issue 19): an LA officer takes a suggestion to a case, moves it through its
 * states, and meets a 412 when the same case was changed first in a second tab — explained, and
 * resolved by reloading, never by overwriting. axe-core on each page (no serious or critical
 * violation). Screenshots go to WEB_SCREENSHOTS=<dir> when set.
 */
import type { Browser, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { date, pct } from '../../web/src/format.js';
import { newPage, signIn, useBrowserSession, type WebService } from './harness.js';

let svc: WebService;
let browser: Browser;
let page: Page;
let axe: Record<string, unknown[]>;
const session = useBrowserSession((s) => ({ svc, browser, page, axe } = s));
const check = (p: Page, name: string) => session.check(name, p);

/** A link in the service navigation. */
const menu = (name: string) => page.getByRole('navigation', { name: 'Menu' }).getByRole('link', { name, exact: true });

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
    await page
      .getByRole('status')
      .filter({ hasText: `${suggestions.total} suggestion` })
      .waitFor();
    await check(page, 'suggestions');
    await page
      .getByRole('link', { name: `Open a case for ${pupilName}` })
      .first()
      .click();
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
    expect(stored).toMatchObject({
      upn: first.upn,
      type: first.suggestedType,
      priority: 'high',
      status: 'submitted',
      version: 1,
    });
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
    await expect(
      page.locator('.govuk-summary-list__row', { hasText: 'Assigned to' }).locator('dd').textContent(),
    ).resolves.toBe('officer-casework');
    await page.getByRole('button', { name: 'Start work' }).click();
    await page.getByText('Saved. The case is now in progress.').waitFor();
    await page.getByLabel('Action', { exact: true }).selectOption({ label: 'Meeting' });
    await page.getByLabel('Notes (optional)').fill('Met the family at school.');
    await page.getByRole('button', { name: 'Record the action' }).click();
    await page
      .getByRole('list', { name: 'Timeline' })
      .getByText(/Meeting on .*: Met the family at school\./)
      .waitFor();
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
    expect(after.events.map((e: { kind: string }) => e.kind)).toEqual([
      'created',
      'updated',
      'updated',
      'updated',
      'action',
      'note',
      'updated',
    ]);
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

  it('lets a school open a case from a pupil page and withdraw the case it raised', async () => {
    const schools = await svc.api('/v1/schools', 'la_officer');
    const school = schools.items.find((x: { urn: string }) => x.urn === svc.sampleUrn);
    const pupils = await svc.api(`/v1/pupils?flag=persistent_absence&urn=${svc.sampleUrn}&limit=1`, 'school', {
      urn: svc.sampleUrn,
    });
    const pupil = pupils.items[0];
    const name = [pupil.forename, pupil.surname].filter(Boolean).join(' ');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, svc.url, { school: `${school.name} (URN ${school.urn})` });
    await page.goto(`${svc.url}/#/pupils/${pupil.upn}`);
    await page.getByRole('heading', { name, level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Open a case' }).click();
    await page.getByRole('heading', { name: `Open a case for ${name}`, level: 1 }).waitFor();
    await page.getByLabel('Type of case').selectOption({ label: 'Early help' });
    await page.getByLabel('Reason for the referral').fill('Family asked the school for help with mornings.');
    await page.getByRole('button', { name: 'Open the case' }).click();
    await page.getByText('Case opened.').waitFor();
    // A school does not triage: it may note, or withdraw what it raised while submitted.
    await expect(page.getByRole('button', { name: 'Triage the case' }).count()).resolves.toBe(0);
    await check(page, 'case-school');
    await page.getByLabel('Why the case is withdrawn').fill('Raised for the wrong pupil.');
    await page.getByRole('button', { name: 'Withdraw the case' }).click();
    await page.getByText('Saved. The case is now withdrawn.').waitFor();
    const id = decodeURIComponent(page.url().split('#/cases/')[1].split('?')[0]);
    const stored = await svc.api(`/v1/referrals/${id}`, 'la_officer');
    expect(stored).toMatchObject({
      status: 'withdrawn',
      type: 'early_help',
      urn: svc.sampleUrn,
      withdrawalReason: 'Raised for the wrong pupil.',
      createdBy: { role: 'school' },
    });
    // Its queue holds its own cases only.
    await menu('Cases').click();
    await page.getByRole('heading', { name: 'Cases', level: 1 }).waitFor();
    const own = await svc.api('/v1/referrals', 'school', { urn: svc.sampleUrn });
    await expect(page.getByRole('table', { name: 'Cases' }).locator('tbody tr').count()).resolves.toBe(
      own.items.length,
    );
    await check(page, 'cases-school');
  });
});

describe('the Virtual School Head in the browser', () => {
  it("sees an out-of-area child on the roll with their figures, and the day's alerts", async () => {
    const roll = await svc.api('/v1/virtual-school/pupils?limit=200', 'vsh');
    type Item = {
      upn: string;
      forename: string | null;
      surname: string | null;
      schools: Array<{ outOfArea: boolean; name: string | null }>;
      stats: { attendanceRate: number | null; absenceRate: number | null; unauthorisedAbsenceSessions: number };
    };
    const away = (roll.items as Item[]).find((i) => i.schools.some((s) => s.outOfArea));
    expect(away, 'the generated LA places looked-after children out of area').toBeDefined();
    const alerts = await svc.api('/v1/virtual-school/alerts', 'vsh');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, svc.url, 'Virtual School Head');
    await page.getByRole('heading', { name: 'Virtual School', level: 1 }).waitFor();
    await page
      .getByRole('status')
      .filter({ hasText: `${roll.total} children` })
      .waitFor();
    const childName = [away!.forename, away!.surname].filter(Boolean).join(' ');
    const row = page
      .getByRole('table', { name: 'The Virtual School’s roll' })
      .getByRole('row')
      .filter({ has: page.getByRole('link', { name: childName, exact: true }) });
    await expect(row.count()).resolves.toBe(1);
    const cells = (await row.locator('th, td').allTextContents()).map((t) => t.trim());
    const outName = away!.schools.find((s) => s.outOfArea)!.name!;
    expect(cells[3]).toContain(outName);
    expect(cells[3]).toContain('Out of area');
    expect(cells.slice(5, 8)).toEqual([
      pct(away!.stats.attendanceRate),
      pct(away!.stats.absenceRate),
      String(away!.stats.unauthorisedAbsenceSessions),
    ]);
    // The day's alerts, as the API counts them.
    await page.getByRole('heading', { name: `Alerts for ${date(alerts.date)}` }).waitFor();
    const counts = await page.getByRole('list', { name: 'Alert counts' }).locator('li').allTextContents();
    expect(counts).toEqual([
      `${alerts.counts.exclusion} exclusions`,
      `${alerts.counts.absence} absences`,
      `${alerts.counts.unmarked} sessions not marked`,
      `${alerts.counts.new_in_care} new in care`,
    ]);
    if (alerts.total > 0)
      await expect(page.getByRole('table', { name: 'Alerts' }).locator('tbody tr').count()).resolves.toBe(
        Math.min(alerts.total, 200),
      );
    await page.getByRole('table', { name: 'The cohort beside the LA and England' }).waitFor();
    await check(page, 'virtual-school');

    // The child's PEP attendance, term by term.
    await row.getByRole('link', { name: childName, exact: true }).click();
    await page.getByRole('heading', { name: childName, level: 1 }).waitFor();
    const pep = await svc.api(`/v1/virtual-school/pupils/${away!.upn}/pep-summary`, 'vsh');
    for (const t of pep.terms as Array<{ label: string; daysInCohort: number }>)
      await page.getByRole('heading', { name: new RegExp(`^${t.label} `), level: 2 }).waitFor();
    await check(page, 'virtual-school-pep');
  });
});

describe('the administrator in the browser', () => {
  it('finds a pupil read in the audit log, by pupil and by user', async () => {
    const caseUpn = (await svc.api('/v1/referrals?status=closed', 'la_officer')).items[0].upn as string;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, svc.url, 'Administrator');
    await menu('Audit log').click();
    await page.getByRole('heading', { name: 'Audit log', level: 1 }).waitFor();
    await page.getByLabel('Pupil (UPN)').fill(caseUpn);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(new RegExp(`upn=${caseUpn}`));
    const entries = page.getByRole('table', { name: 'Audit entries' });
    // The officer's read of the pupil (opening the case form read GET /v1/pupils/{upn}).
    const read = entries.getByRole('row').filter({ hasText: 'read pupil' }).filter({ hasText: 'local-la_officer' });
    await read.first().waitFor();
    const rows = await entries.locator('tbody tr').all();
    for (const r of rows) await expect(r.textContent()).resolves.toContain(caseUpn);
    const api = await svc.api(`/v1/audit?upn=${caseUpn}`, 'admin');
    expect(
      api.items.some(
        (e: { action: string; sub: string; outcome: string }) =>
          e.action === 'read_pupil' && e.sub === 'local-la_officer' && e.outcome === 'ok',
      ),
    ).toBe(true);
    await check(page, 'audit-pupil');
    // By user: everything the officer did, each row theirs.
    await page.getByLabel('Pupil (UPN)').fill('');
    await page.getByLabel('User').fill('local-la_officer');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/user=local-la_officer/);
    await entries.getByRole('row').filter({ hasText: 'update referral' }).first().waitFor();
    for (const r of await entries.locator('tbody tr').all())
      await expect(r.locator('td').first().textContent()).resolves.toBe('local-la_officer');
    await check(page, 'audit-user');
  });

  it('uploads term dates and a registry extract and shows what was read, with warnings and errors by line', async () => {
    await menu('Calendars').click();
    await page.getByRole('heading', { name: 'Calendars', level: 1 }).waitFor();
    const ics = [
      'BEGIN:VCALENDAR',
      'VERSION:2.0',
      'PRODID:-//test//EN',
      'BEGIN:VEVENT',
      'UID:a@test',
      'DTSTART;VALUE=DATE:20280103',
      'DTEND;VALUE=DATE:20280104',
      'SUMMARY:Staff training day',
      'END:VEVENT',
      'BEGIN:VEVENT',
      'UID:b@test',
      'DTSTART:20280105T090000Z',
      'DTEND:20280105T100000Z',
      'SUMMARY:Parents evening',
      'END:VEVENT',
      'END:VCALENDAR',
      '',
    ].join('\r\n');
    await page
      .getByLabel('Upload term dates')
      .setInputFiles({ name: 'term-dates.ics', mimeType: 'text/calendar', buffer: Buffer.from(ics) });
    await page.getByLabel('Closures to add').check();
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    await page.getByRole('heading', { name: 'What was read' }).waitFor();
    await expect(
      page.locator('.govuk-summary-list__row', { hasText: 'Closures imported' }).locator('dd').textContent(),
    ).resolves.toBe('1');
    const warnings = page.getByRole('table', { name: '1 warning' });
    await expect(warnings.locator('tbody tr td').last().textContent()).resolves.toMatch(/start time, not a whole day/);
    await check(page, 'calendars');

    await menu('Registry').click();
    await page.getByRole('heading', { name: 'School registry', level: 1 }).waitFor();
    const gias = [
      'URN,LA (code),EstablishmentNumber,EstablishmentName,PhaseOfEducation (name),TypeOfEstablishment (name),EstablishmentStatus (name)',
      '199901,886,2001,Faraway Primary School,Primary,Community school,Open',
      'ABC,886,2002,Broken Row School,Primary,Community school,Open',
      '',
    ].join('\n');
    await page
      .getByLabel('Upload a GIAS extract')
      .setInputFiles({ name: 'gias.csv', mimeType: 'text/csv', buffer: Buffer.from(gias) });
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    await page.getByRole('heading', { name: 'What was read' }).waitFor();
    const value = (k: string) => page.locator('.govuk-summary-list__row', { hasText: k }).locator('dd').textContent();
    await expect(value('Schools accepted')).resolves.toBe('1');
    await expect(value('Rejected')).resolves.toBe('1');
    await expect(value('Out of area')).resolves.toBe('1');
    const problems = page.getByRole('table', { name: '1 problem by line' });
    await expect(problems.locator('tbody tr').first().locator('th, td').allTextContents()).resolves.toEqual([
      '3',
      'URN',
      expect.stringMatching(/URN must be 6 digits/),
    ]);
    await check(page, 'registry');
  });
});

describe('accessibility', () => {
  it('finds no serious or critical accessibility violation on these pages', () => {
    expect(Object.keys(axe).length).toBeGreaterThanOrEqual(15);
    expect(axe).toEqual(Object.fromEntries(Object.keys(axe).map((k) => [k, []])));
  });
});
