import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { address, createOrganization, inviteFromTeamPage, launch, newPage, screenshot, signIn } from './browser';

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

describe('inviting several people at once, in a real browser', () => {
  it('three addresses pasted, one already pending: two sent, one explained and left in the field', async ({
    expect,
  }) => {
    const owner = await newPage(browser);
    await signIn(owner, address('bulk-owner'), 'Bulk Owner');
    await createOrganization(owner, `Bulk ${Date.now().toString(36)}`);
    const already = address('already');
    await inviteFromTeamPage(owner, already, { role: 'viewer' });
    const [a, b] = [address('paste-a'), address('paste-b')];
    // Pasted as people do: commas, spaces and a new line.
    await inviteFromTeamPage(owner, `${a}, ${already}\n${b}`, { role: 'developer' });
    const results = owner.getByRole('status', { name: 'Invitation results' });
    await results.waitFor();
    expect(await results.locator('li[data-result=sent]').count()).toBe(2);
    const notSent = results.locator('li[data-result=not-sent]');
    expect(await notSent.count()).toBe(1);
    expect(await notSent.textContent()).toContain(already);
    expect(await notSent.textContent()).toContain('already has a pending invitation');
    expect(await owner.getByLabel('Email address').inputValue()).toBe(already);
    for (const email of [a, b]) expect(await owner.locator(`tr[data-invitation="${email}"]`).count()).toBe(1);
    await screenshot(owner, 'bulk-results');
    await owner.context().close();
  });
});
