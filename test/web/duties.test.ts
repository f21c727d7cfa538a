/**
 * The LA's other duties in Chromium (issue 20): an LA officer reads the notification timeliness, new
 * entries, deletions, children missing education, part-time timetables and social-worker absences;
 * a school sees only its own and its looked-after pupils; the Virtual School Head the social-worker
 * absences. Each page's count equals the API's, and axe-core finds no serious or critical violation.
 * Screenshots go to WEB_SCREENSHOTS=<dir> when set (duties-*.png).
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { num } from '../../web/src/format.js';
import { signIn, useBrowserSession, type WebService } from './harness.js';

let svc: WebService;
let page: Page;
let axe: Record<string, unknown[]>;
const session = useBrowserSession((s) => ({ svc, page, axe } = s));
const check = (name: string) => session.check(name);

const tab = (name: string) => page.getByRole('navigation', { name: 'Duties' }).getByRole('link', { name, exact: true });
const status = (text: string | RegExp) => page.getByRole('status').filter({ hasText: text }).waitFor();
const heading = (name: string) => page.getByRole('heading', { name, level: 1 }).waitFor();
const count = (n: number, one: string, many: string) => `${num(n)} ${n === 1 ? one : many}`;

describe('the duties pages', () => {
  it("shows an LA officer every list with the API's counts", async () => {
    const [timeliness, entries, deletions, cme, partTime, pastLimit, absences] = await Promise.all([
      svc.api('/v1/admission-register/timeliness', 'la_officer'),
      svc.api('/v1/admission-register/entries?limit=1', 'la_officer'),
      svc.api('/v1/admission-register/deletions?limit=1', 'la_officer'),
      svc.api('/v1/children-missing-education?limit=1', 'la_officer'),
      svc.api('/v1/part-time-timetables?limit=1', 'la_officer'),
      svc.api('/v1/part-time-timetables?limit=1&pastReviewLimit=true', 'la_officer'),
      svc.api('/v1/social-worker-absences?limit=1', 'la_officer'),
    ]);
    expect(timeliness.items.length).toBeGreaterThan(0);
    expect(deletions.total).toBeGreaterThan(0);

    await signIn(page, svc.url, 'LA officer');
    await page.getByRole('navigation', { name: 'Menu' }).getByRole('link', { name: 'Duties', exact: true }).click();
    await heading('Notifications to the LA');
    await status(count(timeliness.items.length, 'school', 'schools'));
    await check('duties-timeliness');

    await tab('New entries').click();
    await heading('New entries');
    await status(count(entries.total, 'new entry', 'new entries'));
    await check('duties-entries');

    await tab('Deletions').click();
    await heading('Deletions');
    await status(count(deletions.total, 'deletion', 'deletions'));
    await check('duties-deletions');
    // Filtered to the late ones, as the API counts them.
    const late = await svc.api('/v1/admission-register/deletions?limit=1&timeliness=late', 'la_officer');
    await page.getByLabel('Timing').selectOption({ label: 'Late' });
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await status(count(late.total, 'deletion', 'deletions'));

    await tab('Children missing education').click();
    await heading('Children missing education');
    await status(count(cme.total, 'child', 'children'));
    await check('duties-cme');

    await tab('Part-time timetables').click();
    await heading('Part-time timetables');
    await status(count(partTime.total, 'pupil', 'pupils'));
    await check('duties-part-time');
    await page.getByLabel('Review').selectOption({ label: 'Past the review limit' });
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await status(count(pastLimit.total, 'pupil', 'pupils'));

    await tab('Social-worker absences').click();
    await heading('Social-worker absences');
    await status(count(absences.total, 'session', 'sessions'));
    await check('duties-social-worker');
    await page.getByRole('button', { name: 'Sign out' }).click();
  });

  it('shows a school only its own, and which of its pupils the LA looks after', async () => {
    const schools = await svc.api('/v1/schools', 'la_officer');
    const school = schools.items.find((s: { urn: string }) => s.urn === svc.sampleUrn);
    const own = await svc.api('/v1/admission-register/deletions?limit=1', 'school', { urn: svc.sampleUrn });
    const lookedAfter = await svc.api(`/v1/schools/${svc.sampleUrn}/looked-after-pupils`, 'school', {
      urn: svc.sampleUrn,
    });

    await signIn(page, svc.url, { school: `${school.name} (URN ${school.urn})` });
    await page.getByRole('navigation', { name: 'Menu' }).getByRole('link', { name: 'Duties', exact: true }).click();
    await heading('Notifications to the LA');
    await status(count(1, 'school', 'schools'));
    // No tab for what a school may not read.
    await expect(tab('Children missing education').count()).resolves.toBe(0);
    await expect(tab('Social-worker absences').count()).resolves.toBe(0);
    await check('duties-school-timeliness');

    await tab('Deletions').click();
    await status(count(own.total, 'deletion', 'deletions'));
    await expect(page.getByLabel('School').count()).resolves.toBe(0);

    await tab('Looked-after pupils').click();
    await heading('Looked-after pupils');
    await status(count(lookedAfter.items.length, 'pupil', 'pupils'));
    await check('duties-school-looked-after');
    await page.getByRole('button', { name: 'Sign out' }).click();
  });

  it('takes the Virtual School Head to the social-worker absences', async () => {
    await signIn(page, svc.url, 'Virtual School Head');
    await page.getByRole('navigation', { name: 'Menu' }).getByRole('link', { name: 'Duties', exact: true }).click();
    await heading('Social-worker absences');
    await expect(tab('Deletions').count()).resolves.toBe(0);
    await check('duties-vsh');
    await page.getByRole('button', { name: 'Sign out' }).click();
  });

  it('has no serious or critical accessibility violation on any page', () => {
    expect(Object.keys(axe).length).toBeGreaterThanOrEqual(9);
    expect(axe).toEqual(Object.fromEntries(Object.keys(axe).map((k) => [k, []])));
  });
});
