import { createServer, type Server } from 'node:http';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { address, createOrganization, launch, newPage, screenshot, signIn } from './browser';

let browser: Browser;
let receiver: Server;
let receiverOrigin: string;
const received: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];

beforeAll(async () => {
  browser = await launch();
  // A local endpoint for the Worker under `wrangler dev` to call (http to 127.0.0.1 is allowed
  // while APP_URL is http).
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve()));
  const port = (receiver.address() as { port: number }).port;
  receiverOrigin = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await browser?.close();
  receiver?.close();
});

describe('Settings > Webhooks in a real browser', () => {
  it('an owner adds an endpoint, copies the secret, sends a test, and sees the delivery succeed', async ({
    expect,
  }) => {
    const owner = await newPage(browser);
    await signIn(owner, address('hooks-owner'), 'Hook Owner');
    await createOrganization(owner, `Hooked ${Date.now().toString(36)}`);
    await owner.getByRole('link', { name: 'Webhooks' }).click();
    await owner.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();

    await owner.getByLabel('Endpoint URL').fill(`${receiverOrigin}/hooks/e2e`);
    await owner.getByLabel(/Description/).fill('Provisioning');
    await owner.getByRole('button', { name: 'Add endpoint' }).click();
    await owner.getByRole('heading', { name: /Signing secret for/ }).waitFor();
    const secret = await owner.getByRole('textbox', { name: 'Signing secret', exact: true }).inputValue();
    expect(secret).toMatch(/^whsec_/);
    await owner.getByRole('button', { name: 'Copy' }).click();
    await expect.poll(() => owner.getByRole('button', { name: 'Copied' }).count()).toBe(1);
    await screenshot(owner, 'webhooks-1-added');

    await owner.getByRole('button', { name: /Send a test event to/ }).click();
    await owner.getByRole('status').filter({ hasText: 'Test event sent' }).waitFor();
    // The local queue delivers within a second or two; the page shows it on reload.
    await expect
      .poll(
        async () => {
          await owner.reload();
          const rows = owner.locator('tr[data-attempt]');
          return (await rows.count()) > 0 ? rows.first().textContent() : '';
        },
        { timeout: 20_000, interval: 500 },
      )
      .toContain('200');
    expect(await owner.locator('tr[data-attempt]').first().textContent()).toContain('webhook.test');
    await screenshot(owner, 'webhooks-2-delivered');

    expect(received).toHaveLength(1);
    expect(received[0].headers['webhook-id']).toMatch(/^msg_/);
    expect(String(received[0].headers['webhook-signature'])).toMatch(/^v1,/);
    expect(JSON.parse(received[0].body).type).toBe('webhook.test');
    // The secret is not on the page any more.
    expect(await owner.content()).not.toContain(secret);
    await owner.context().close();
  });
});
