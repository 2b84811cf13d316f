import { env } from 'cloudflare:workers';
import { describe, it } from 'vitest';
import { call, countRows, ownerWithOrg, signUp, uniqueEmail } from './helpers';

/*
 * SPEC §14, hardening part two: one test (at least) per rule, and the security reviewer's
 * scenarios replayed as they were reported.
 * This file: what a personal API token may not do, its expiry and last use.
 */

describe('§14 personal API tokens', () => {
  it('cannot create, list or delete API tokens, or list and end sessions (403); sign-out with one is 400', async ({
    expect,
  }) => {
    const user = await signUp(uniqueEmail('pat-scope'));
    const pat = (await call('POST', '/v1/me/api-tokens', { token: user.token, body: { name: 'ci' } })).json;
    const session = (await call('GET', '/v1/me/sessions', { token: user.token })).json.data[0];
    const attempts = [
      await call('POST', '/v1/me/api-tokens', { token: pat.token, body: { name: 'minted by a token' } }),
      await call('GET', '/v1/me/api-tokens', { token: pat.token }),
      await call('DELETE', `/v1/me/api-tokens/${pat.id}`, { token: pat.token }),
      await call('GET', '/v1/me/sessions', { token: pat.token }),
      await call('DELETE', `/v1/me/sessions/${session.id}`, { token: pat.token }),
    ];
    for (const res of attempts) {
      expect(res.status).toBe(403);
      expect(res.json.code).toBe('forbidden');
    }
    const signOut = await call('POST', '/v1/auth/sign-out', { token: pat.token });
    expect(signOut.status).toBe(400);
    expect(signOut.json.code).toBe('validation_failed');
    // Nothing changed: one token, the session alive, the token still working for ordinary calls.
    expect(await countRows('api_tokens', `user_id = '${user.user.id}'`)).toBe(1);
    expect((await call('GET', '/v1/me', { token: user.token })).status).toBe(200);
    expect((await call('GET', '/v1/me', { token: pat.token })).status).toBe(200);
  });

  it('expires_in_days (1-365) sets an expiry after which the token no longer works', async ({ expect }) => {
    const user = await signUp(uniqueEmail('pat-expiry'));
    for (const bad of [0, 366, 1.5, '30']) {
      const res = await call('POST', '/v1/me/api-tokens', {
        token: user.token,
        body: { name: 'x', expires_in_days: bad },
      });
      expect(res.status, String(bad)).toBe(400);
    }
    expect(await countRows('api_tokens', `user_id = '${user.user.id}'`)).toBe(0);
    const created = await call('POST', '/v1/me/api-tokens', {
      token: user.token,
      body: { name: 'month', expires_in_days: 30 },
    });
    expect(created.status).toBe(201);
    const expiresAt = Date.parse(created.json.expires_at);
    expect(Math.abs(expiresAt - (Date.now() + 30 * 86_400_000))).toBeLessThan(60_000);
    expect((await call('GET', '/v1/me', { token: created.json.token })).status).toBe(200);
    await env.DB.prepare('UPDATE api_tokens SET expires_at = ? WHERE id = ?')
      .bind(Date.now() - 1, created.json.id)
      .run();
    expect((await call('GET', '/v1/me', { token: created.json.token })).status).toBe(401);
    const { org } = await ownerWithOrg();
    expect((await call('GET', `/v1/organizations/${org.id}`, { token: created.json.token })).status).toBe(401);
  });

  it('records last_used_at, shown in the token list', async ({ expect }) => {
    const user = await signUp(uniqueEmail('pat-used'));
    const pat = (await call('POST', '/v1/me/api-tokens', { token: user.token, body: { name: 'used' } })).json;
    expect(pat.last_used_at).toBeNull();
    const { org } = await ownerWithOrg();
    await call('GET', `/v1/organizations/${org.id}`, { token: pat.token });
    const [listed] = (await call('GET', '/v1/me/api-tokens', { token: user.token })).json.data;
    expect(Date.parse(listed.last_used_at)).toBeGreaterThan(Date.now() - 10_000);
  });
});
