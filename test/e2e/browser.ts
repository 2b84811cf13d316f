import { mkdirSync, readFileSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { newestLink } from '../../scripts/mailbox.mjs';
import { ORIGIN, emailedLink } from './server';

export const ARTIFACTS = 'test/e2e/artifacts';

/** Debian's Chromium (installed by .ci/run); test tools' own browser downloads do not work here. */
export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

export async function newPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  return context.newPage();
}

export async function screenshot(page: Page, name: string) {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: `${ARTIFACTS}/${name}.png`, fullPage: true });
}

let n = 0;
export const address = (label: string) => `${label}.${Date.now().toString(36)}${++n}@example.com`;

/** Signs in through the emailed link, as a person would; creates the account when `name` is given. */
export async function signIn(page: Page, email: string, name?: string) {
  const since = Date.now() - 1000;
  // A link already emailed to this address (an earlier sign-in) is not the one to wait for.
  const earlier = newestLink(email, { path: 'auth/verify', notBefore: since });
  await page.goto(`${ORIGIN}/sign-in`);
  await page.getByLabel('Email').fill(email);
  await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
  await page.getByRole('heading', { name: 'Check your email' }).waitFor();
  await page.goto(await emailedLink(email, 'auth/verify', since, earlier));
  if (name) await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: /Sign in|Create account/ }).click();
  await page.waitForURL((url) => !url.pathname.startsWith('/auth/verify'));
}

export async function createOrganization(page: Page, name: string) {
  await page.goto(`${ORIGIN}/orgs/new`);
  await page.getByLabel('Name').fill(name);
  await page.getByRole('button', { name: 'Create organization' }).click();
  await page.waitForURL(/\/settings\/team$/);
}

/** Opens the Invite Member panel and sends an invitation from the Team page. */
export async function inviteFromTeamPage(
  page: Page,
  email: string,
  opts: { role?: string; message?: string; days?: string } = {},
) {
  const panel = page.locator('details#invite');
  if (!(await panel.getAttribute('open'))) await page.getByText('+ Invite Member').click();
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Role', { exact: true }).selectOption(opts.role ?? 'developer');
  if (opts.days) await page.getByLabel('Expires in (days)').fill(opts.days);
  if (opts.message) await page.getByLabel(/Personal message/).fill(opts.message);
  await page.getByRole('button', { name: 'Send Invitation', exact: true }).click();
  await page.waitForLoadState('load');
}

/** axe-core's violations on the page as it stands (evaluated through the debugger, so the page's CSP allows it). */
export async function axeViolations(page: Page) {
  await page.evaluate(readFileSync('node_modules/axe-core/axe.min.js', 'utf8'));
  return page.evaluate(async () => {
    const { violations } = await (
      window as unknown as { axe: { run(): Promise<{ violations: { id: string; nodes: unknown[] }[] }> } }
    ).axe.run();
    return violations.map((v) => `${v.id} (${v.nodes.length})`);
  });
}

/** A JSON API call as the page's own script would make it (same origin, the session cookie). */
export function pageApi(page: Page, method: string, path: string, body?: unknown) {
  return page.evaluate(
    async ({ method, path, body }) => {
      const res = await fetch(path, {
        method,
        headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, json: res.status === 204 ? null : await res.json() };
    },
    { method, path, body },
  );
}
