import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { address, launch, newPage, screenshot, signIn } from './browser';
import { ORIGIN } from './server';

let browser: Browser;

beforeAll(async () => {
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
});

describe('Account page in a real browser (SPEC §14)', () => {
  it('lists the sessions of two browsers, ends the other one, and that browser is signed out on its next page load', async ({ expect }) => {
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

  it('the account menu links to the Account page, and "Sign out everywhere" signs this browser out too', async ({ expect }) => {
    const page = await newPage(browser);
    await signIn(page, address('everywhere'), 'Eve Rywhere');
    await page.goto(`${ORIGIN}/orgs/new`);
    await page.locator('summary[aria-label="Account menu"]').click();
    await page.getByRole('menuitem', { name: 'Account and sessions' }).click();
    await page.waitForURL(`${ORIGIN}/account`);
    page.once('dialog', (d) => d.accept());
    await page.getByRole('button', { name: 'Sign out everywhere' }).click();
    await page.waitForURL(`${ORIGIN}/sign-in`);
    await page.goto(`${ORIGIN}/account`);
    expect(page.url()).toBe(`${ORIGIN}/sign-in`);
    await page.context().close();
  });
});
