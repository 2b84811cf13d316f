import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { launch, newPage, screenshot } from './browser';
import { ORIGIN } from './server';

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

describe('/docs, the API reference, in a real browser', () => {
  it('renders the invitation operations from /openapi.json, with every request on this origin and no CSP violation', async ({
    expect,
  }) => {
    const page = await newPage(browser);
    const problems: string[] = [];
    const origins = new Set<string>();
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
    });
    page.on('request', (r) => origins.add(new URL(r.url()).origin));
    const res = await page.goto(`${ORIGIN}/docs`);
    expect(res!.headers()['content-security-policy']).toContain("script-src 'self'");
    expect(res!.headers()['content-security-policy']).not.toContain('unsafe-eval');
    try {
      // The sidebar lists the tags; opening "invitations" lists its operations.
      await page.getByText('invitations', { exact: true }).first().click({ timeout: 30_000 });
      await page.getByText('Invite an email with a role', { exact: false }).first().waitFor({ timeout: 30_000 });
    } catch (err) {
      await screenshot(page, 'docs-reference-failed');
      throw new Error(`${String(err)}\nconsole: ${problems.join(' | ')}`);
    }
    for (const summary of ['Revoke a pending invitation', 'New link, new expiry']) {
      expect(await page.getByText(summary, { exact: false }).count(), summary).toBeGreaterThan(0);
    }
    await screenshot(page, 'docs-reference');
    expect(problems).toEqual([]);
    expect([...origins].filter((o) => o !== ORIGIN && !o.startsWith('data:') && !o.startsWith('blob:'))).toEqual([]);
    await page.context().close();
  });
});
