import { env } from 'cloudflare:workers';
import { describe, it } from 'vitest';
import { call, countRows, invite, lastToken, ownerWithOrg, signUp, uniqueEmail } from './helpers';
import { row } from './hardening-helpers';

/*
 * SPEC §14, hardening part two: one test (at least) per rule, and the security reviewer's
 * scenarios replayed as they were reported.
 * This file: sessions can be listed and ended.
 */

describe('§14 sessions can be seen and ended', () => {
  it('lists sessions with where they came from; ends another one; 404 for a session that is not yours', async ({
    expect,
  }) => {
    const email = uniqueEmail('two-browsers');
    const first = await signUp(email);
    await call('POST', '/v1/auth/email-link', { body: { email } });
    const second = await call('POST', '/v1/auth/verify', {
      body: { token: await lastToken(email, 'sign-in') },
      headers: {
        'CF-Connecting-IP': '2001:db8::7',
        'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0 Safari/537.36',
      },
    });
    const list = await call('GET', '/v1/me/sessions', { token: second.json.session_token });
    expect(list.status).toBe(200);
    expect(list.json.data).toHaveLength(2);
    const [newest, older] = list.json.data;
    expect(newest).toMatchObject({
      current: true,
      ip: '2001:db8::7',
      user_agent: expect.stringContaining('Chrome/140'),
    });
    expect(older.current).toBe(false);
    expect(Object.keys(newest).sort()).toEqual(['created_at', 'current', 'id', 'ip', 'last_used_at', 'user_agent']);
    expect(list.text).not.toContain('8b_ses_');

    const stranger = await signUp(uniqueEmail('stranger'));
    expect((await call('DELETE', `/v1/me/sessions/${older.id}`, { token: stranger.token })).status).toBe(404);
    expect((await call('GET', '/v1/me', { token: first.token })).status).toBe(200);

    expect((await call('DELETE', `/v1/me/sessions/${older.id}`, { token: second.json.session_token })).status).toBe(
      204,
    );
    expect((await call('GET', '/v1/me', { token: first.token })).status).toBe(401);
    expect((await call('GET', '/v1/me', { token: second.json.session_token })).status).toBe(200);
  });

  it('reviewer: a victim signing out everywhere ends a session minted earlier (by an invitation link)', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg();
    const victim = await signUp(uniqueEmail('victim2'));
    await invite(owner.token, org.id, { email: victim.email, role: 'viewer' });
    // Whoever held the fresh link got a session of the victim's account.
    const minted = (await call('POST', '/v1/invitations/accept', { body: { token: await lastToken(victim.email) } }))
      .json.session_token;
    expect((await call('GET', '/v1/me', { token: minted })).status).toBe(200);
    const out = await call('POST', '/v1/auth/sign-out', { token: victim.token, body: { all: true } });
    expect(out.status).toBe(204);
    expect((await call('GET', '/v1/me', { token: minted })).status).toBe(401);
    expect((await call('GET', '/v1/me', { token: victim.token })).status).toBe(401);
    expect(await countRows('sessions', `user_id = '${victim.user.id}'`)).toBe(0);
  });

  it('sign-out without `all` ends only the current session', async ({ expect }) => {
    const email = uniqueEmail('one-of-two');
    const a = await signUp(email);
    await call('POST', '/v1/auth/email-link', { body: { email } });
    const b = (await call('POST', '/v1/auth/verify', { body: { token: await lastToken(email, 'sign-in') } })).json
      .session_token;
    expect((await call('POST', '/v1/auth/sign-out', { token: b })).status).toBe(204);
    expect((await call('GET', '/v1/me', { token: b })).status).toBe(401);
    expect((await call('GET', '/v1/me', { token: a.token })).status).toBe(200);
  });

  it('last_used_at is written at most once a minute per session', async ({ expect }) => {
    const user = await signUp(uniqueEmail('lastused'));
    const lastUsed = async () =>
      (await row<{ last_used_at: number | null }>('SELECT last_used_at FROM sessions WHERE user_id = ?', user.user.id))!
        .last_used_at;
    const setLastUsed = (ms: number) =>
      env.DB.prepare('UPDATE sessions SET last_used_at = ? WHERE user_id = ?').bind(ms, user.user.id).run();
    await call('GET', '/v1/me', { token: user.token });
    expect(await lastUsed()).toBeGreaterThan(Date.now() - 10_000);
    // Used 59 seconds ago (moved in the database): a request now does not write it again.
    const recent = Date.now() - 59_000;
    await setLastUsed(recent);
    await call('GET', '/v1/me', { token: user.token });
    expect(await lastUsed()).toBe(recent);
    // Used 61 seconds ago: the next request records now.
    await setLastUsed(Date.now() - 61_000);
    const before = Date.now();
    await call('GET', '/v1/me', { token: user.token });
    expect(await lastUsed()).toBeGreaterThanOrEqual(before);
  });
});
