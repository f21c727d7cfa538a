/**
 * People in Chromium (issue 19): the administrator adds a person who alerts go to — an address the
 * API refuses is shown beside its field with a GOV.UK error summary, a school without its URN too —
 * sees them listed with address, role and school, changes them and removes them. axe-core on each
 * page (no serious or critical violation). Screenshots go to WEB_SCREENSHOTS=<dir> when set.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { signIn, useBrowserSession, type WebService } from './harness.js';

let svc: WebService;
let page: Page;
let axe: Record<string, unknown[]>;
const session = useBrowserSession((s) => ({ svc, page, axe } = s));
const check = (name: string) => session.check(name, page);
const menu = (name: string) => page.getByRole('navigation', { name: 'Menu' }).getByRole('link', { name, exact: true });

describe('people in the browser', () => {
  const form = () => page.locator('form', { has: page.getByRole('button', { name: /Add person|Save changes/ }) });

  it('adds a person, showing what is wrong beside the field first', async () => {
    await signIn(page, svc.url, 'Administrator');
    await menu('People').click();
    await page.getByRole('heading', { name: 'People', level: 1 }).waitFor();
    await page.getByRole('heading', { name: 'Add a person' }).waitFor();

    // An address the API refuses: its 400, beside the field and in the summary.
    await page.getByLabel('Sign-in subject').fill('local-vsh');
    await page.getByLabel('Name (optional)').fill('Pat Virtual');
    await page.getByLabel('Email address').fill('not-an-address');
    await page.getByLabel('Virtual School Head').check();
    await page.getByRole('button', { name: 'Add person' }).click();
    const summary = page.locator('.govuk-error-summary');
    await summary.getByRole('heading', { name: 'There is a problem' }).waitFor();
    await expect(summary.getByRole('link').first().getAttribute('href')).resolves.toBe('#person-email');
    const emailError = page.locator('#person-email-error');
    await expect(emailError.isVisible()).resolves.toBe(true);
    await expect(emailError.textContent()).resolves.toMatch(/^Error: .*email/i);
    await expect(page.getByLabel('Email address').getAttribute('aria-describedby')).resolves.toContain(
      'person-email-error',
    );
    await expect(summary.evaluate((el) => el === el.ownerDocument.activeElement)).resolves.toBe(true);
    await check('people-invalid');

    // A school without its URN is told before the API is asked.
    await page.getByLabel('Email address').fill('pat@la.example');
    await page.getByLabel('School', { exact: true }).check();
    await page.getByRole('button', { name: 'Add person' }).click();
    await page.locator('#person-urn-error').getByText("Enter the school's URN").waitFor();
    await expect(emailError.isVisible()).resolves.toBe(false);

    await page.getByLabel('Virtual School Head').check();
    await page.getByRole('button', { name: 'Add person' }).click();
    await page.getByText('Pat Virtual is saved.').waitFor();
    const row = page.getByRole('row', { name: /Pat Virtual/ });
    await expect(row.getByRole('cell').allTextContents()).resolves.toEqual(
      expect.arrayContaining(['pat@la.example', 'Virtual School Head', '–']),
    );
    await check('people-listed');
  });

  it('changes a person, and removes them', async () => {
    await page.getByRole('link', { name: 'Change Pat Virtual' }).click();
    await page.getByRole('heading', { name: 'Change Pat Virtual' }).waitFor();
    await expect(page.getByLabel('Email address').inputValue()).resolves.toBe('pat@la.example');
    await page.getByLabel('Email address').fill('virtual.school@la.example');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Pat Virtual is saved.').waitFor();
    await page.getByRole('cell', { name: 'virtual.school@la.example' }).waitFor();
    const listed = await svc.api<{ items: Array<{ sub: string; email: string; role: string }> }>('/v1/people', 'admin');
    expect(listed.items.find((p) => p.sub === 'local-vsh')).toMatchObject({
      email: 'virtual.school@la.example',
      role: 'vsh',
    });

    await page.getByRole('link', { name: 'Remove Pat Virtual' }).click();
    await page.getByRole('heading', { name: 'Remove Pat Virtual?' }).waitFor();
    await check('people-remove');
    await page.getByRole('button', { name: 'Remove' }).click();
    await page.getByText('Pat Virtual is removed').waitFor();
    await expect(page.getByRole('row', { name: /Pat Virtual/ }).count()).resolves.toBe(0);
    expect(
      (await svc.api<{ items: Array<{ sub: string }> }>('/v1/people', 'admin')).items.some(
        (p) => p.sub === 'local-vsh',
      ),
    ).toBe(false);
    await check('people-removed');
    await expect(form().count()).resolves.toBe(1);
  });

  it('finds no serious or critical accessibility violation on these pages', () => {
    expect(Object.keys(axe).sort()).toEqual(['people-invalid', 'people-listed', 'people-remove', 'people-removed']);
    for (const [name, violations] of Object.entries(axe)) expect([name, violations]).toEqual([name, []]);
  });
});
