import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { address, createOrganization, launch, newPage, screenshot, signIn, axeViolations, pageApi } from './browser';
import { ORIGIN, emailedLink, sql } from './server';

/*
 * The invitee's side in a real browser (SPEC §17): declining from the emailed link without an
 * account, "Invitations for you" on the dashboard after sign-in, and asking for a new invitation
 * from an expired invitation's page. Every new page and state is checked with axe.
 */

let browser: Browser;
let owner: Page;
let orgName: string;
let slug: string;

/** Invites `email` from the owner's organization through the API; returns the emailed link. */
async function inviteByApi(email: string, body: Record<string, unknown> = {}) {
  const since = Date.now() - 1000;
  const created = await pageApi(owner, 'POST', `/v1/organizations/${slug}/invitations`, {
    email,
    role: 'developer',
    ...body,
  });
  if (created.status !== 201) throw new Error(`invite: ${created.status} ${JSON.stringify(created.json)}`);
  return emailedLink(email, 'invitations/accept', since);
}

beforeAll(async () => {
  browser = await launch();
  owner = await newPage(browser);
  await signIn(owner, address('inviter'), 'Olivia Owner');
  orgName = `Harbor ${Date.now().toString(36)}`;
  await createOrganization(owner, orgName);
  slug = new URL(owner.url()).pathname.split('/')[2];
});

afterAll(async () => {
  await browser?.close();
});

describe("the invitee's side in a real browser", () => {
  it('1. an invitee declines from the emailed link without an account; the link is then no longer valid', async ({
    expect,
  }) => {
    const email = address('decliner');
    const link = await inviteByApi(email);
    const guest = await newPage(browser);
    await guest.goto(link);
    await guest.getByRole('heading', { name: 'Create your account' }).waitFor();
    expect(await guest.getByRole('button', { name: 'Decline invitation' }).count()).toBe(1);
    expect(await axeViolations(guest)).toEqual([]);
    await screenshot(guest, 'invitee-1a-offer-with-decline');

    guest.once('dialog', (d) => d.accept());
    await guest.getByRole('button', { name: 'Decline invitation' }).click();
    await guest.getByRole('heading', { name: 'You declined the invitation' }).waitFor();
    expect(await guest.locator('main').textContent()).toContain(`You declined the invitation to join ${orgName}`);
    expect(await axeViolations(guest)).toEqual([]);
    await screenshot(guest, 'invitee-1b-declined');

    const again = await guest.goto(link);
    expect(again?.status()).toBe(410);
    await guest.getByRole('heading', { name: 'Invitation no longer valid' }).waitFor();
    expect(await guest.getByRole('button').count()).toBe(0);
    expect(await axeViolations(guest)).toEqual([]);
    await screenshot(guest, 'invitee-1c-link-dead');

    await owner.goto(`${ORIGIN}/orgs/${slug}/settings/team`);
    expect(await owner.locator(`tr[data-invitation="${email}"]`).textContent()).toContain('declined');
    await guest.context().close();
  });

  it('2. an existing account invited to a second organization finds "Invitations for you" after sign-in and accepts from it', async ({
    expect,
  }) => {
    const email = address('member');
    const invitee = await newPage(browser);
    await signIn(invitee, email, 'Max Member');
    const ownOrg = `Own Shop ${Date.now().toString(36)}`;
    await createOrganization(invitee, ownOrg);
    await invitee.context().clearCookies();

    await inviteByApi(email, { role: 'admin' });
    await signIn(invitee, email);
    expect(new URL(invitee.url()).pathname).toBe('/');
    const section = invitee.locator('#invitations-for-you');
    await section.getByRole('heading', { name: 'Invitations for you' }).waitFor();
    expect(await section.locator(`tr[data-inbox="${slug}"]`).textContent()).toContain(orgName);
    expect(await axeViolations(invitee)).toEqual([]);
    await screenshot(invitee, 'invitee-2a-invitations-for-you');

    // The account menu counts it and links to it.
    await invitee.locator('summary', { hasText: 'account menu' }).click();
    expect(await invitee.getByRole('menuitem', { name: '1 invitation for you' }).getAttribute('href')).toBe(
      '/#invitations-for-you',
    );
    expect(await axeViolations(invitee)).toEqual([]);
    await screenshot(invitee, 'invitee-2b-account-menu');
    await invitee.locator('summary', { hasText: 'account menu' }).click();

    await section.getByRole('button', { name: `Accept the invitation to ${orgName}` }).click();
    await invitee.waitForURL(`${ORIGIN}/orgs/${slug}/settings/team`);
    expect(await invitee.locator('.sub').first().textContent()).toContain(orgName);
    expect(await invitee.locator('.sub').first().textContent()).toContain('admin');
    // Nothing left for them: no count in the menu any more.
    expect(await invitee.locator('summary', { hasText: 'account menu' }).textContent()).not.toContain('for you');
    expect(await axeViolations(invitee)).toEqual([]);
    await screenshot(invitee, 'invitee-2c-landed');
    await invitee.context().close();
  });

  it('3. an expired invitation offers "Ask for a new invitation", confirms it, and Settings > Team marks it', async ({
    expect,
  }) => {
    const email = address('late');
    const link = await inviteByApi(email, { locale: 'en' });
    sql(`UPDATE invitations SET expires_at = ${Date.now() - 60_000} WHERE email = '${email}'`);
    const late = await newPage(browser);
    const expired = await late.goto(link);
    expect(expired?.status()).toBe(410);
    await late.getByRole('heading', { name: 'Invitation no longer valid' }).waitFor();
    expect(await late.locator('main').textContent()).toContain('This invitation has expired');
    expect(await axeViolations(late)).toEqual([]);
    await screenshot(late, 'invitee-3a-expired-offers-ask');

    await late.getByRole('button', { name: 'Ask for a new invitation' }).click();
    await late.getByRole('heading', { name: 'New invitation requested' }).waitFor();
    expect(await late.locator('main').textContent()).toContain(
      `We asked Olivia Owner to invite you again to ${orgName}`,
    );
    expect(await axeViolations(late)).toEqual([]);
    await screenshot(late, 'invitee-3b-asked');

    // The same link now says it was asked, with nothing more to press.
    await late.goto(link);
    expect(await late.locator('main').textContent()).toContain('You asked Olivia Owner for a new invitation on');
    expect(await late.getByRole('button', { name: 'Ask for a new invitation' }).count()).toBe(0);
    expect(await axeViolations(late)).toEqual([]);
    await screenshot(late, 'invitee-3c-already-asked');

    await owner.goto(`${ORIGIN}/orgs/${slug}/settings/team`);
    const row = owner.locator(`tr[data-invitation="${email}"]`);
    expect(await row.textContent()).toContain('Asked for a new invitation');
    expect(await row.getByRole('button', { name: `Resend invitation to ${email}` }).count()).toBe(1);
    expect(await axeViolations(owner)).toEqual([]);
    await screenshot(owner, 'invitee-3d-team-marked');
    await late.context().close();
  });
});
