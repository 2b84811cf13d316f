import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { address, createOrganization, launch, newPage, screenshot, signIn, axeViolations, pageApi } from './browser';
import { ORIGIN } from './server';

/*
 * Join requests in a real browser (SPEC §16): someone asks to join through an invite link that
 * requires approval; the owner sees the request and the seats on Settings > Team, approves it
 * there, and the requester is a member.
 */

let browser: Browser;
let owner: Page;
let orgName: string;
let slug: string;

beforeAll(async () => {
  browser = await launch();
  owner = await newPage(browser);
  await signIn(owner, address('jrq-owner'), 'Olga Owner');
  orgName = `Askville ${Date.now().toString(36)}`;
  await createOrganization(owner, orgName);
  slug = new URL(owner.url()).pathname.split('/')[2];
});

afterAll(async () => {
  await browser?.close();
});

/** Someone new asks to join through the link's page: returns their page and email. */
async function askToJoin(url: string, name: string) {
  const page = await newPage(browser);
  const email = address('jrq-asker');
  await signIn(page, email, name);
  await page.goto(url);
  await page.getByRole('button', { name: `Ask to join ${orgName}` }).click();
  await page.waitForLoadState('load');
  return { page, email };
}

describe('join requests on Settings > Team', () => {
  it('the owner sees the seats and the request, approves it there, and the requester is a member; axe-clean', async ({
    expect,
  }) => {
    expect((await pageApi(owner, 'PATCH', `/v1/organizations/${slug}`, { seat_limit: 5 })).status).toBe(200);
    const link = await pageApi(owner, 'POST', `/v1/organizations/${slug}/invite-links`, {
      role: 'viewer',
      requires_approval: true,
    });
    expect(link.status).toBe(201);
    const first = await askToJoin(link.json.url, 'Rita Requester');
    const second = await askToJoin(link.json.url, 'Sam Second');
    const mine = await pageApi(first.page, 'GET', '/v1/me/join-requests');
    expect(mine.json.data[0]).toMatchObject({ status: 'pending', source: 'link', organization: { slug } });

    const team = `${ORIGIN}/orgs/${slug}/settings/team`;
    await owner.goto(team);
    const requests = owner.getByRole('region', { name: 'Join requests' });
    await requests.waitFor();
    expect(await requests.getByRole('row').count()).toBe(3); // the header and two requests
    expect(await owner.locator('#seats').textContent()).toContain('1 of 5 seats');
    expect(await requests.getByText(first.email).count()).toBe(1);
    expect(await axeViolations(owner)).toEqual([]);
    await screenshot(owner, 'join-requests-1-pending');

    // Approve the first as a developer (the select offers every role to an owner).
    await owner.getByLabel('Role to grant Rita Requester').selectOption('developer');
    await owner.getByRole('button', { name: 'Approve Rita Requester' }).click();
    await owner.waitForURL(`${team}?notice=request_approved`);
    expect(await owner.getByRole('status').textContent()).toContain('Join request approved');
    expect(await owner.locator('#seats').textContent()).toContain('2 of 5 seats');
    expect(await requests.getByText(first.email).count()).toBe(0);
    const members = owner.getByRole('region', { name: 'Members' });
    expect(await members.getByText(first.email).count()).toBe(1);
    expect(await axeViolations(owner)).toEqual([]);
    await screenshot(owner, 'join-requests-2-approved');

    // The requester is a member: the Team page is theirs to see now.
    await first.page.goto(team);
    expect(await first.page.locator('h1').textContent()).toBe('Team');
    const me = await pageApi(first.page, 'GET', '/v1/me');
    expect(me.json.organizations).toContainEqual(expect.objectContaining({ slug, role: 'developer' }));

    // With every seat taken, approving is refused on the page, and the request waits.
    expect((await pageApi(owner, 'PATCH', `/v1/organizations/${slug}`, { seat_limit: 2 })).status).toBe(200);
    await owner.goto(team);
    await owner.getByRole('button', { name: 'Approve Sam Second' }).click();
    await owner.waitForURL(`${team}?error=seat_limit`);
    expect(await owner.getByRole('alert').textContent()).toContain('Every seat is taken');
    expect(await owner.locator('#seats').textContent()).toContain('2 of 2 seats');
    expect(await requests.getByText(second.email).count()).toBe(1);
    expect(await axeViolations(owner)).toEqual([]);
    await screenshot(owner, 'join-requests-3-seats-full');

    // Rejected with a reason instead.
    owner.once('dialog', (dialog) => dialog.accept());
    await owner.getByLabel('Reason for rejecting Sam Second (optional, emailed to them)').fill('No seat this quarter');
    await owner.getByRole('button', { name: 'Reject Sam Second' }).click();
    await owner.waitForURL(`${team}?notice=request_rejected`);
    expect(await owner.getByText('No one is waiting to join.').count()).toBe(1);
    const theirs = await pageApi(second.page, 'GET', '/v1/me/join-requests');
    expect(theirs.json.data[0]).toMatchObject({ status: 'rejected', reason: 'No seat this quarter' });
    await first.page.context().close();
    await second.page.context().close();
  });
});
