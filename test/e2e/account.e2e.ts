import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { address, launch, newPage, screenshot, signIn, axeViolations } from './browser';
import { ORIGIN } from './server';

/** Creates a personal API token as the page's own script would (same origin, the session cookie). */
async function createToken(page: Page, name: string): Promise<{ id: string; token: string }> {
  return page.evaluate(
    async (body) => {
      const res = await fetch('/v1/me/api-tokens', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      return res.json();
    },
    { name },
  );
}

const apiStatus = async (token: string) =>
  (await fetch(`${ORIGIN}/v1/me`, { headers: { Authorization: `Bearer ${token}` } })).status;

let browser: Browser;

beforeAll(async () => {
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
});

describe('Account page in a real browser (SPEC §14)', () => {
  it('lists the sessions of two browsers, ends the other one, and that browser is signed out on its next page load', async ({
    expect,
  }) => {
    const email = address('two-browsers');
    const laptop = await newPage(browser);
    const phone = await newPage(browser);
    await signIn(laptop, email, 'Sam Sessions');
    await signIn(phone, email);

    await laptop.goto(`${ORIGIN}/account`);
    await laptop.getByRole('heading', { name: 'Account' }).waitFor();
    const rows = laptop.locator('tr[data-session]');
    expect(await rows.count()).toBe(2);
    expect(await laptop.getByText('This browser').count()).toBe(1);
    // Only the other session has a Sign out button; this one is ended by "Sign out everywhere".
    const endOther = rows.filter({ hasNotText: 'This browser' }).getByRole('button', { name: /^Sign out / });
    expect(await endOther.count()).toBe(1);
    expect(await rows.filter({ hasText: 'This browser' }).getByRole('button').count()).toBe(0);
    await screenshot(laptop, 'account-two-sessions');

    // The phone is signed in before.
    await phone.goto(`${ORIGIN}/account`);
    expect(phone.url()).toBe(`${ORIGIN}/account`);

    await endOther.click();
    await laptop.waitForURL(`${ORIGIN}/account?notice=ended`);
    await expect.poll(() => laptop.getByRole('status').textContent()).toContain('Session ended');
    expect(await laptop.locator('tr[data-session]').count()).toBe(1);
    await screenshot(laptop, 'account-one-session');

    // The phone's next page load is signed out.
    await phone.reload();
    expect(phone.url()).toBe(`${ORIGIN}/sign-in`);
    // The laptop is still signed in.
    await laptop.goto(`${ORIGIN}/account`);
    expect(laptop.url()).toBe(`${ORIGIN}/account`);
    await laptop.context().close();
    await phone.context().close();
  });

  it('the account menu links to the Account page, and "Sign out everywhere" signs this browser out too', async ({
    expect,
  }) => {
    const page = await newPage(browser);
    await signIn(page, address('everywhere'), 'Eve Rywhere');
    await page.goto(`${ORIGIN}/orgs/new`);
    await page.locator('summary', { hasText: 'account menu' }).click();
    await page.getByRole('menuitem', { name: 'Account and sessions' }).click();
    await page.waitForURL(`${ORIGIN}/account`);
    page.once('dialog', (d) => d.accept());
    await page.getByRole('button', { name: 'Sign out everywhere' }).click();
    await page.waitForURL(`${ORIGIN}/sign-in`);
    await page.goto(`${ORIGIN}/account`);
    expect(page.url()).toBe(`${ORIGIN}/sign-in`);
    await page.context().close();
  });

  it('lists the API tokens with Revoke (SPEC §18), is axe-clean, and Sign out everywhere revokes the rest', async ({
    expect,
  }) => {
    const page = await newPage(browser);
    await signIn(page, address('tokens'), 'Tia Tokens');
    await page.goto(`${ORIGIN}/account`);
    const nightly = await createToken(page, 'Nightly backup');
    const deploys = await createToken(page, 'CI deploys');
    await page.reload();

    const tokens = page.getByRole('region', { name: 'API tokens' });
    const headers = await tokens.getByRole('columnheader').allTextContents();
    expect(headers.slice(0, 4)).toEqual(['Name', 'Created', 'Last used', 'Expires']);
    expect(await tokens.locator('tr[data-token]').count()).toBe(2);
    expect(await tokens.getByRole('button', { name: /^Revoke API token / }).count()).toBe(2);
    // What Sign out everywhere does is on the page before the click.
    expect(await page.getByRole('button', { name: 'Sign out everywhere' }).getAttribute('aria-describedby')).toBe(
      'everywhere-help',
    );
    expect(await page.locator('#everywhere-help').textContent()).toMatch(/revokes every personal API token/);
    expect(await page.content()).not.toContain(nightly.token);
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'account-api-tokens');

    page.once('dialog', (d) => d.accept());
    await tokens.getByRole('button', { name: /^Revoke API token Nightly backup/ }).click();
    await page.waitForURL(`${ORIGIN}/account?notice=revoked`);
    await expect.poll(() => page.getByRole('status').textContent()).toContain('API token revoked');
    expect(await page.locator('tr[data-token]').count()).toBe(1);
    expect(await apiStatus(nightly.token)).toBe(401);
    expect(await apiStatus(deploys.token)).toBe(200);
    expect(await axeViolations(page)).toEqual([]);
    // Both tables are named by their headings.
    expect(await page.getByRole('table', { name: 'Sessions' }).count()).toBe(1);
    expect(await page.getByRole('table', { name: 'API tokens' }).count()).toBe(1);

    // A Revoke of the token already revoked (a second tab, a double submit): 404, and it says nothing was revoked.
    const again = page.waitForResponse((r) => r.url() === `${ORIGIN}/account/api-tokens/${nightly.id}/revoke`);
    await page.evaluate((id) => {
      const form = document.createElement('form');
      form.method = 'post';
      form.action = `/account/api-tokens/${id}/revoke`;
      form.append(document.querySelector('input[name="_csrf"]')!.cloneNode());
      document.body.append(form);
      form.submit();
    }, nightly.id);
    expect((await again).status()).toBe(404);
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toContain('No API token was revoked');
    expect(await page.getByText('API token revoked').count()).toBe(0);
    expect(await page.locator('tr[data-token]').count()).toBe(1);
    expect(await axeViolations(page)).toEqual([]);

    page.once('dialog', (d) => d.accept());
    await page.getByRole('button', { name: 'Sign out everywhere' }).click();
    await page.waitForURL(`${ORIGIN}/sign-in`);
    expect(await apiStatus(deploys.token)).toBe(401);
    await page.context().close();
  });
});
