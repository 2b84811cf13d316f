import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createOrganization, launch, newPage, screenshot, signIn, axeViolations } from './browser';
import { sql } from './server';

/*
 * Domain join in a real browser (SPEC §16): an owner adds a domain and opens domain join through the
 * API (as the page's own script would: same origin, the session cookie); a newcomer whose email is
 * at that domain finds the organization on the home page and joins with one click.
 *
 * `wrangler dev` here resolves with the default DOH_URL (Cloudflare's), which this sandbox cannot
 * reach, so the TXT lookup itself is tested in workerd against the resolver stand-in
 * (test/verified-domains.test.ts); here the domain is marked verified in the local D1, as a
 * successful verification leaves it.
 */

/** A JSON API call from the page, with its session cookie. */
async function api(page: Page, method: string, path: string, body?: unknown) {
  return page.evaluate(
    async ({ method, path, body }) => {
      const res = await fetch(path, {
        method,
        headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, json: await res.json() };
    },
    { method, path, body },
  );
}

const stamp = Date.now().toString(36);
const domain = `rocket-${stamp}.com`;
let browser: Browser;
let owner: Page;
let slug: string;

beforeAll(async () => {
  browser = await launch();
  owner = await newPage(browser);
  await signIn(owner, `olivia.${stamp}@${domain}`, 'Olivia Owner');
  await createOrganization(owner, `Rocket ${stamp}`);
  slug = /\/orgs\/([^/]+)\/settings\/team$/.exec(owner.url())![1];
  const added = await api(owner, 'POST', `/v1/organizations/${slug}/domains`, { domain });
  if (added.status !== 201) throw new Error(`add domain: ${added.status} ${JSON.stringify(added.json)}`);
  sql(`UPDATE organization_domains SET status = 'verified', verified_at = ${Date.now()} WHERE id = '${added.json.id}'`);
  const opened = await api(owner, 'PATCH', `/v1/organizations/${slug}`, {
    domain_join: 'auto',
    domain_join_role: 'developer',
  });
  if (opened.status !== 200) throw new Error(`settings: ${opened.status}`);
});

afterAll(async () => {
  await browser?.close();
});

describe('domain join in a real browser', () => {
  it('a newcomer at the verified domain sees "Organizations you can join" (axe-clean) and joins', async ({
    expect,
  }) => {
    const page = await newPage(browser);
    await signIn(page, `nora.${stamp}@${domain}`, 'Nora Newcomer');
    await page.goto(`${new URL(owner.url()).origin}/`);
    await page.getByRole('heading', { name: 'Organizations you can join' }).waitFor();
    const row = page.locator(`tr[data-suggestion="${slug}"]`);
    expect(await row.textContent()).toContain(`Rocket ${stamp}`);
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'domain-join-1-suggested');

    await row.getByRole('button', { name: `Join Rocket ${stamp}` }).click();
    await page.waitForURL(new RegExp(`/orgs/${slug}/settings/team$`));
    expect(await page.locator('h1').textContent()).toBe('Team');
    expect(await page.getByRole('cell', { name: /Nora Newcomer/ }).count()).toBe(1);
    await screenshot(page, 'domain-join-2-joined');

    // Joined, nothing is left to join: home is the organization.
    await page.goto(`${new URL(owner.url()).origin}/`);
    await page.waitForURL(new RegExp(`/orgs/${slug}/settings/team$`));
    const me = await api(page, 'GET', '/v1/me');
    expect(me.json.organizations).toEqual([expect.objectContaining({ slug, role: 'developer' })]);
    await page.context().close();
  });
});
