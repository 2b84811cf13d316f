import { exports } from 'cloudflare:workers';
import { describe, it } from 'vitest';
import { safeNext } from '../src/pages/pages.middleware';
import { BASE, call, invite, lastToken, ownerWithOrg, signUp, uniqueEmail } from './helpers';
import { row } from './hardening-helpers';

/*
 * SPEC §14, hardening part two: one test (at least) per rule, and the security reviewer's
 * scenarios replayed as they were reported.
 * This file: same-origin redirects, no-store caching and prefetches that consume nothing.
 */

describe('§14 redirects, caching, prefetch', () => {
  it('`next` must be a same-origin path: anything normalizing to // or /\\ falls back to /', async ({ expect }) => {
    const app = 'http://127.0.0.1:8787';
    for (const bad of [
      '/.//evil.example',
      '/./\\evil.example',
      '/%2e//evil.example',
      '/a/..//evil.example',
      '//evil.example',
      '/\\evil.example',
    ]) {
      expect(safeNext(app, bad), bad).toBeNull();
    }
    expect(safeNext(app, '/orgs/acme/settings/team?x=1')).toBe('/orgs/acme/settings/team?x=1');
    const user = await signUp(uniqueEmail('next'));
    const csrf = 'd'.repeat(43);
    const res = await exports.default.fetch(
      new Request(`${BASE}/sign-out`, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          Cookie: `8b_csrf=${csrf}; 8b_session=${user.token}`,
          Origin: BASE,
        },
        body: new URLSearchParams({ _csrf: csrf, next: '/.//evil.example' }),
      }),
    );
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/');
  });

  it('pages and every response with a secret send Cache-Control: no-store; static assets are cacheable', async ({
    expect,
  }) => {
    const email = uniqueEmail('nostore');
    await call('POST', '/v1/auth/email-link', { body: { email } });
    const verified = await call('POST', '/v1/auth/verify', {
      body: { token: await lastToken(email, 'sign-in'), name: 'No Store' },
    });
    const pat = await call('POST', '/v1/me/api-tokens', { token: verified.json.session_token, body: { name: 'x' } });
    const { owner, org } = await ownerWithOrg();
    const invitee = uniqueEmail('nostore-invitee');
    await invite(owner.token, org.id, { email: invitee, role: 'viewer' });
    const accepted = await call('POST', '/v1/invitations/accept', {
      body: { token: await lastToken(invitee), name: 'In Vitee' },
    });
    expect(accepted.json.session_token).toBeDefined();
    const page = await call('GET', '/sign-in');
    const team = await call('GET', `/orgs/${org.slug}/settings/team`, {
      headers: { Cookie: `8b_session=${owner.token}` },
    });
    for (const res of [verified, pat, accepted, page, team]) expect(res.headers.get('cache-control')).toBe('no-store');
    expect((await call('GET', '/assets/app.css')).headers.get('cache-control')).toMatch(/^public/);
  });

  it('HEAD and prefetches never consume an invitation, even for the signed-in invitee', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg();
    const invitee = await signUp(uniqueEmail('prefetch'));
    const inv = (await invite(owner.token, org.id, { email: invitee.email, role: 'viewer' })).json;
    const url = `/invitations/accept?token=${await lastToken(invitee.email)}`;
    const status = async () =>
      (await row<{ status: string }>('SELECT status FROM invitations WHERE id = ?', inv.id))!.status;
    const cookie = { Cookie: `8b_session=${invitee.token}` };
    const speculative: Record<string, string>[] = [
      { 'Sec-Purpose': 'prefetch' },
      { 'Sec-Purpose': 'prefetch;prerender' },
      { Purpose: 'prefetch' },
    ];
    for (const headers of speculative) {
      const res = await call('GET', url, { headers: { ...cookie, ...headers } });
      expect(res.status, JSON.stringify(headers)).toBe(200);
      expect(res.text).toContain('<form method="post" action="/invitations/accept">');
      expect(await status()).toBe('pending');
    }
    const head = await exports.default.fetch(
      new Request(`${BASE}${url}`, { method: 'HEAD', headers: cookie, redirect: 'manual' }),
    );
    expect(head.status).toBe(200);
    expect(await status()).toBe('pending');
    // The real navigation still accepts at once.
    const real = await exports.default.fetch(new Request(`${BASE}${url}`, { headers: cookie, redirect: 'manual' }));
    expect(real.status).toBe(303);
    expect(await status()).toBe('accepted');
  });
});

describe('fixes from review', () => {
  it('sign-out only redirects to paths on this site', ({ expect }) => {
    const app = 'http://127.0.0.1:8787';
    expect(safeNext(app, '/invitations/accept?token=abc')).toBe('/invitations/accept?token=abc');
    for (const bad of [
      '//evil.example/x',
      '/\\evil.example/x',
      '/\t/evil.example/x',
      'https://evil.example',
      '/\u0000x',
      undefined,
    ]) {
      expect(safeNext(app, bad), JSON.stringify(bad)).toBeNull();
    }
  });
});
