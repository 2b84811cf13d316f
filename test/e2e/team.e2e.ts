import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { address, createOrganization, inviteFromTeamPage, launch, newPage, screenshot, signIn } from './browser';
import { ORIGIN, emailedLink, sql } from './server';

let browser: Browser;
let owner: Page;
let ownerEmail: string;
let teamUrl: string;

const invitationRow = (page: Page, email: string) => page.locator(`tr[data-invitation="${email}"]`);

beforeAll(async () => {
  browser = await launch();
  owner = await newPage(browser);
  ownerEmail = address('owner');
  await signIn(owner, ownerEmail, 'Olivia Owner');
  await createOrganization(owner, `Rocket Labs ${Date.now().toString(36)}`);
  teamUrl = owner.url();
});

afterAll(async () => {
  await browser?.close();
});

describe('Settings > Team in a real browser', () => {
  it('1. owner invites a new person with a message; they create an account and land in the organization', async ({
    expect,
  }) => {
    const invitee = address('newbie');
    const since = Date.now() - 1000;
    await inviteFromTeamPage(owner, invitee, { role: 'developer', message: 'Welcome aboard, <b>friend</b>!' });
    await expect.poll(() => owner.getByRole('status').textContent()).toContain('Invitation sent');
    await expect.poll(() => invitationRow(owner, invitee).textContent()).toContain('pending');
    await screenshot(owner, '1a-owner-invited');

    const guest = await newPage(browser);
    await guest.goto(await emailedLink(invitee, 'invitations/accept', since));
    await guest.getByRole('heading', { name: 'Create your account' }).waitFor();
    expect(await guest.getByLabel('Email').inputValue()).toBe(invitee);
    expect(await guest.getByLabel('Email').getAttribute('readonly')).not.toBeNull();
    await screenshot(guest, '1b-invitee-create-account');
    await guest.getByLabel('Your name').fill('Nina Newbie');
    await guest.getByRole('button', { name: /Create account and join/ }).click();
    await guest.waitForURL(/\/settings\/team$/);
    expect(await guest.locator('h1').textContent()).toBe('Team');
    await screenshot(guest, '1c-invitee-landed');

    await owner.reload();
    expect(await invitationRow(owner, invitee).textContent()).toContain('accepted');
    expect(await owner.getByRole('cell', { name: /Nina Newbie/ }).count()).toBe(1);
    await screenshot(owner, '1d-owner-sees-accepted');
    await guest.context().close();
  });

  it('2. an existing user, signed out, joins with one click', async ({ expect }) => {
    const existing = address('existing');
    const other = await newPage(browser);
    await signIn(other, existing, 'Eddie Existing');
    await other.context().clearCookies();
    const since = Date.now() - 1000;
    await owner.goto(teamUrl);
    await inviteFromTeamPage(owner, existing, { role: 'billing' });
    await other.goto(await emailedLink(existing, 'invitations/accept', since));
    await other.getByRole('heading', { name: new RegExp(`Join .* as ${existing.replace('.', '\\.')}`) }).waitFor();
    await screenshot(other, '2a-existing-join');
    await other.getByRole('button', { name: /^Join / }).click();
    await other.waitForURL(/\/settings\/team$/);
    expect(await other.getByText('Signed in as').textContent()).toContain(existing);
    await screenshot(other, '2b-existing-joined');
    await other.context().close();
  });

  it('3. signed in as another email: the mismatch page, and the invitation stays pending', async ({ expect }) => {
    const intended = address('intended');
    const since = Date.now() - 1000;
    await owner.goto(teamUrl);
    await inviteFromTeamPage(owner, intended, { role: 'viewer' });
    const intruder = await newPage(browser);
    await signIn(intruder, address('intruder'), 'Ian Intruder');
    await intruder.goto(await emailedLink(intended, 'invitations/accept', since));
    await intruder.getByRole('heading', { name: 'This invitation is for another email address' }).waitFor();
    expect(await intruder.getByRole('button', { name: 'Sign out and continue' }).count()).toBe(1);
    await screenshot(intruder, '3-mismatch');
    await owner.reload();
    expect(await invitationRow(owner, intended).textContent()).toContain('pending');
    await intruder.context().close();
  });

  it('4. revoke kills a link; resend replaces a link (old invalid, new works)', async ({ expect }) => {
    const revoked = address('revoked');
    const resent = address('resent');
    const since = Date.now() - 1000;
    await owner.goto(teamUrl);
    await inviteFromTeamPage(owner, revoked, { role: 'viewer' });
    await inviteFromTeamPage(owner, resent, { role: 'viewer' });
    const revokedLink = await emailedLink(revoked, 'invitations/accept', since);
    const oldLink = await emailedLink(resent, 'invitations/accept', since);

    owner.once('dialog', (d) => d.accept());
    await owner.getByRole('button', { name: `Revoke invitation to ${revoked}`, exact: true }).click();
    await owner.waitForLoadState('load');
    expect(await invitationRow(owner, revoked).textContent()).toContain('revoked');
    const visitor = await newPage(browser);
    const gone = await visitor.goto(revokedLink);
    expect(gone!.status()).toBe(410);
    expect(await visitor.locator('h1').textContent()).toBe('Invitation no longer valid');
    await screenshot(visitor, '4a-revoked-link');

    // Step past the 60-second resend cooldown by moving the last send back in the database.
    sql(`UPDATE invitations SET last_sent_at = last_sent_at - 120000 WHERE email = '${resent}'`);
    const beforeResend = Date.now() - 500;
    await owner.getByRole('button', { name: `Resend invitation to ${resent}`, exact: true }).click();
    await owner.waitForLoadState('load');
    expect(await owner.getByRole('status').textContent()).toContain('Invitation resent');
    const newLink = await emailedLink(resent, 'invitations/accept', beforeResend);
    expect(newLink).not.toBe(oldLink);
    expect((await visitor.goto(oldLink))!.status()).toBe(410);
    await visitor.goto(newLink);
    await visitor.getByRole('heading', { name: 'Create your account' }).waitFor();
    await screenshot(owner, '4b-owner-after-revoke-and-resend');
    await visitor.context().close();
  });

  it('5. the 11th invitation shows the limit error in the form, keeping what was typed', async ({ expect }) => {
    await owner.goto(teamUrl);
    const pendingNow = async () =>
      Number(/(\d+) of 10 pending/.exec((await owner.locator('#capacity').textContent()) ?? '')?.[1]);
    while ((await pendingNow()) < 10) await inviteFromTeamPage(owner, address('filler'), { role: 'viewer' });
    expect(await owner.locator('#capacity').textContent()).toContain('10 of 10 pending invitations');
    const eleventh = address('eleventh');
    await inviteFromTeamPage(owner, eleventh, { role: 'admin', message: 'Please join us', days: '14' });
    const alert = owner.locator('details#invite [role=alert]');
    expect(await alert.textContent()).toContain('already has 10 pending invitations');
    expect(await owner.getByLabel('Email address').inputValue()).toBe(eleventh);
    expect(await owner.getByLabel('Expires in (days)').inputValue()).toBe('14');
    expect(await owner.getByLabel(/Personal message/).inputValue()).toBe('Please join us');
    await screenshot(owner, '5-limit-error');
  });

  it('6. a viewer sees the members table read-only and no invite controls', async ({ expect }) => {
    // Make room, then invite a viewer.
    await owner.goto(teamUrl);
    const filler = await owner.locator('tr[data-invitation^="filler."]').first().getAttribute('data-invitation');
    owner.once('dialog', (d) => d.accept());
    await owner.getByRole('button', { name: `Revoke invitation to ${filler}`, exact: true }).click();
    await owner.waitForLoadState('load');
    const viewerEmail = address('viewer');
    const since = Date.now() - 1000;
    await inviteFromTeamPage(owner, viewerEmail, { role: 'viewer' });
    const viewer = await newPage(browser);
    await viewer.goto(await emailedLink(viewerEmail, 'invitations/accept', since));
    await viewer.getByLabel('Your name').fill('Vera Viewer');
    await viewer.getByRole('button', { name: /Create account and join/ }).click();
    await viewer.waitForURL(/\/settings\/team$/);
    expect(await viewer.getByText('+ Invite Member').count()).toBe(0);
    expect(await viewer.getByRole('button', { name: /Resend|Revoke|Save|Remove/ }).count()).toBe(0);
    expect(await viewer.locator('select').count()).toBe(0);
    expect(await viewer.getByRole('cell', { name: /Olivia Owner/ }).count()).toBe(1);
    await screenshot(viewer, '6-viewer-read-only');
    await viewer.context().close();
  });

  it('7. the account menu switches organizations, and sign out works', async ({ expect }) => {
    await createOrganization(owner, `Second Org ${Date.now().toString(36)}`);
    const second = owner.url();
    await owner.locator('summary', { hasText: 'account menu' }).click();
    await screenshot(owner, '7a-account-menu');
    await owner.getByRole('menuitem', { name: /Rocket Labs/ }).click();
    await owner.waitForURL(teamUrl);
    expect(owner.url()).not.toBe(second);
    await owner.locator('summary', { hasText: 'account menu' }).click();
    await owner.getByRole('menuitem', { name: 'Sign out' }).click();
    await owner.waitForURL(`${ORIGIN}/sign-in`);
    await owner.goto(teamUrl);
    expect(owner.url()).toBe(`${ORIGIN}/sign-in`);
  });
});
