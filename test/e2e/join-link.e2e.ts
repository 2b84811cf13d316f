import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { address, createOrganization, launch, newPage, screenshot, signIn, axeViolations, pageApi } from './browser';
import { ORIGIN, emailedLink } from './server';

/*
 * An invite link in a real browser (SPEC §16): a visitor who is not signed in opens the link,
 * signs up by the emailed link, comes back to the same page, joins and lands in the organization.
 */

let browser: Browser;
let owner: Page;
let orgName: string;
let slug: string;

beforeAll(async () => {
  browser = await launch();
  owner = await newPage(browser);
  await signIn(owner, address('link-owner'), 'Olive Owner');
  orgName = `Linkville ${Date.now().toString(36)}`;
  await createOrganization(owner, orgName);
  slug = new URL(owner.url()).pathname.split('/')[2];
});

afterAll(async () => {
  await browser?.close();
});

describe('an invite link in a real browser', () => {
  it('a signed-out visitor signs up by the emailed link, comes back, joins and lands as a member; the page is axe-clean', async ({
    expect,
  }) => {
    const created = await pageApi(owner, 'POST', `/v1/organizations/${slug}/invite-links`, { role: 'developer' });
    expect(created.status).toBe(201);
    const url: string = created.json.url;
    expect(url.startsWith(`${ORIGIN}/join/`)).toBe(true);

    const visitor = await newPage(browser);
    const email = address('link-visitor');
    const response = await visitor.goto(url);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['cache-control']).toBe('no-store');
    expect(response?.headers()['referrer-policy']).toBe('no-referrer');
    await visitor.getByRole('heading', { name: `Join ${orgName}` }).waitFor();
    expect(await visitor.getByText('as Developer').count()).toBe(1);
    expect(await axeViolations(visitor)).toEqual([]);
    await screenshot(visitor, 'join-link-1-signed-out');

    const since = Date.now() - 1000;
    await visitor.getByLabel('Email').fill(email);
    await visitor.getByRole('button', { name: 'Email me a sign-in link' }).click();
    await visitor.getByRole('heading', { name: 'Check your email' }).waitFor();
    await visitor.goto(await emailedLink(email, 'auth/verify', since));
    await visitor.getByLabel('Your name').fill('Vera Visitor');
    await visitor.getByRole('button', { name: 'Create account and sign in' }).click();
    // Back on the link's page, signed in: nothing consumed yet.
    await visitor.waitForURL(url);
    await visitor.getByRole('button', { name: `Join ${orgName}` }).waitFor();
    expect(await axeViolations(visitor)).toEqual([]);
    await screenshot(visitor, 'join-link-2-signed-in');
    expect((await pageApi(owner, 'GET', `/v1/organizations/${slug}/invite-links`)).json.data[0].uses).toBe(0);

    await visitor.getByRole('button', { name: `Join ${orgName}` }).click();
    await visitor.waitForURL(`${ORIGIN}/orgs/${slug}/settings/team`);
    expect(await visitor.locator('h1').textContent()).toBe('Team');
    expect(await visitor.getByText('Signed in as').textContent()).toContain(email);
    await screenshot(visitor, 'join-link-3-member');
    const members = await pageApi(owner, 'GET', `/v1/organizations/${slug}/members`);
    expect(members.json.data.find((m: { email: string }) => m.email === email)).toMatchObject({
      name: 'Vera Visitor',
      role: 'developer',
    });
    expect((await pageApi(owner, 'GET', `/v1/organizations/${slug}/invite-links`)).json.data[0].uses).toBe(1);
    await visitor.context().close();
  });

  it('a dead link (disabled) is the 410 page "Invite link no longer valid", axe-clean', async ({ expect }) => {
    const created = await pageApi(owner, 'POST', `/v1/organizations/${slug}/invite-links`, { role: 'viewer' });
    const disabled = await pageApi(owner, 'PATCH', `/v1/organizations/${slug}/invite-links/${created.json.id}`, {
      enabled: false,
    });
    expect(disabled.status).toBe(200);
    const visitor = await newPage(browser);
    const response = await visitor.goto(created.json.url);
    expect(response?.status()).toBe(410);
    await visitor.getByRole('heading', { name: 'Invite link no longer valid' }).waitFor();
    expect(await axeViolations(visitor)).toEqual([]);
    await screenshot(visitor, 'join-link-4-dead');
    await visitor.context().close();
  });
});
