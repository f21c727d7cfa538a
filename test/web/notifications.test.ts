/**
 * Alerts in Chromium (issue 19): an LA officer sees a case past its triage due date marked overdue in
 * the queue, the notification job tells them (the local outbox), they choose how often on "Your
 * alerts", and the administrator sees what was sent and what failed on "Notifications". axe-core on
 * each page (no serious or critical violation). Screenshots go to WEB_SCREENSHOTS=<dir> when set.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { fileOutboxMailer, type Mailer } from '../../shared/mail/mailer.js';
import { runScheduledNotifications } from '../../shared/app/notifications.js';
import { DEFAULT_LA_SETTINGS } from '../../shared/config.js';
import { addDays, todayInEngland } from '../../shared/domain/dates.js';
import { k } from '../../shared/store/keys.js';
import { indexReferralLists } from '../../shared/store/referrals.js';
import { updateItem } from '../../shared/store/table.js';
import { signIn, useBrowserSession, type WebService } from './harness.js';

let svc: WebService;
let page: Page;
let axe: Record<string, unknown[]>;
const session = useBrowserSession((s) => ({ svc, page, axe } = s));
const check = (name: string) => session.check(name, page);
const menu = (name: string) => page.getByRole('navigation', { name: 'Menu' }).getByRole('link', { name, exact: true });

/** The local sign-in's subjects (local/tokens.ts). */
const OFFICER = 'local-la_officer';

describe('alerts in the browser', () => {
  let caseId = '';
  const outboxDir = () => join(svc.runtime.dataDir, 'outbox');
  const run = (kind: 'immediate' | 'digest', mailer: Mailer = fileOutboxMailer(outboxDir())) =>
    runScheduledNotifications({ run: kind, mailer, appUrl: svc.url, returnCutOff: DEFAULT_LA_SETTINGS.returnCutOff });

  it('shows an officer the case past its triage due date, and the job tells them once', async () => {
    const admin = await svc.token('admin');
    const put = await fetch(`${svc.url}/v1/people/${OFFICER}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'attendance.team@la.example', role: 'la_officer' }),
    });
    expect(put.status).toBe(200);
    const suggestion = (await svc.api('/v1/referrals/suggestions?limit=1', 'la_officer')).items[0];
    const created = await fetch(`${svc.url}/v1/referrals`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await svc.token('la_officer')}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        upn: suggestion.upn,
        urn: suggestion.urns[0],
        type: suggestion.suggestedType,
        reason: 'alerts browser test',
      }),
    });
    expect(created.status).toBe(201);
    caseId = ((await created.json()) as { id: string }).id;
    // As if it had been opened a fortnight ago: its triage was due a week ago.
    await updateItem({
      key: k.referral(caseId),
      update: 'SET triageDueOn = :d',
      values: { ':d': addDays(todayInEngland(), -7) },
    });
    // The case was edited under the store: its list entries (what searches and the notification job
    // read, issue 17) are rewritten from it, as the back-fill does.
    await indexReferralLists({ force: true });

    await signIn(page, svc.url, 'LA officer');
    await menu('Cases').click();
    await page.getByRole('heading', { name: 'Cases', level: 1 }).waitFor();
    const row = page.locator('tr.app-row--overdue', { has: page.locator(`a[href="#/cases/${caseId}"]`) });
    await row.getByText('Overdue').waitFor();
    await page.getByRole('status').filter({ hasText: '1 overdue' }).waitFor();
    await check('alerts-cases-overdue');

    // An overdue case is in the daily summary unless the officer chooses otherwise.
    const first = await run('digest');
    expect(first.sent).toBeGreaterThanOrEqual(1);
    const again = await run('digest');
    expect(again).toMatchObject({ queued: 0, sent: 0 });
    expect(readdirSync(outboxDir()).filter((f) => f.endsWith('.eml')).length).toBe(first.sent);
  });

  it('lets the officer choose how often each alert reaches them', async () => {
    await menu('Your alerts').click();
    await page.getByRole('heading', { name: 'Your alerts', level: 1 }).waitFor();
    await page.getByText('attendance.team@la.example').waitFor();
    const overdue = page.getByRole('group', { name: 'A case is past its triage due date' });
    await expect(overdue.getByLabel('In the daily summary').isChecked()).resolves.toBe(true);
    await check('alerts-preferences');
    await overdue.getByLabel('Straight away').check();
    await page
      .getByRole('group', { name: "Schools have not sent today's return by the LA's cut-off" })
      .getByLabel('Never')
      .check();
    await page.getByRole('button', { name: 'Save your choices' }).click();
    await page.getByText('Your choices are saved.').waitFor();
    await expect(
      page.getByRole('group', { name: 'A case is past its triage due date' }).getByLabel('Straight away').isChecked(),
    ).resolves.toBe(true);
    const people = (await svc.api('/v1/people', 'admin')).items;
    expect(people.find((p: { sub: string }) => p.sub === OFFICER).preferences).toEqual({
      case_overdue: 'immediate',
      return_missing: 'off',
    });
    await check('alerts-preferences-saved');
  });

  it('shows the administrator what was sent and what failed, with the error', async () => {
    // The officer now wants overdue cases at once: a new alert, which the mail service refuses.
    const refused = await run('immediate', {
      send: () => Promise.reject(new Error('MessageRejected: Email address is not verified.')),
    });
    expect(refused.failed).toBeGreaterThanOrEqual(1);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, svc.url, 'Administrator');
    await menu('Notifications').click();
    await page.getByRole('heading', { name: 'Notifications', level: 1 }).waitFor();
    await page.getByText(/notifications? ha(s|ve) failed/).waitFor();
    await page
      .getByRole('cell', { name: /Email address is not verified/ })
      .first()
      .waitFor();
    await page
      .getByRole('cell', { name: `Case ${caseId} is past its triage due date` })
      .first()
      .waitFor();
    await check('alerts-outbox');
    await page.getByRole('link', { name: /^Failed/ }).click();
    await page.getByRole('link', { name: /^Sent/ }).waitFor();
    await expect(page.getByRole('cell', { name: 'Sent', exact: true }).count()).resolves.toBe(0);
    await check('alerts-outbox-failed');
  });

  it('finds no serious or critical accessibility violation on these pages', () => {
    expect(
      Object.keys(axe)
        .filter((k) => k.startsWith('alerts-'))
        .sort(),
    ).toEqual([
      'alerts-cases-overdue',
      'alerts-outbox',
      'alerts-outbox-failed',
      'alerts-preferences',
      'alerts-preferences-saved',
    ]);
    for (const [name, violations] of Object.entries(axe)) expect([name, violations]).toEqual([name, []]);
  });
});
