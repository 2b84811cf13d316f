import { env } from 'cloudflare:workers';
import { describe, it } from 'vitest';
import { call, createOrg, lastToken, mailsTo, signUp, uniqueEmail } from './helpers';

describe('sign-in by emailed link', () => {
  it('always answers 202, whether or not the account exists', async ({ expect }) => {
    const known = await signUp(uniqueEmail('known'));
    const a = await call('POST', '/v1/auth/email-link', { body: { email: known.email } });
    const b = await call('POST', '/v1/auth/email-link', { body: { email: uniqueEmail('unknown') } });
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(a.text).toBe(b.text);
  });

  it('creates the account on first use (name required), and the link works once', async ({ expect }) => {
    const email = uniqueEmail('first');
    await call('POST', '/v1/auth/email-link', { body: { email } });
    const token = await lastToken(email, 'sign-in');
    const noName = await call('POST', '/v1/auth/verify', { body: { token } });
    expect(noName.status).toBe(400);
    expect(noName.json.code).toBe('name_required');
    const ok = await call('POST', '/v1/auth/verify', { body: { token, name: 'First Timer' } });
    expect(ok.status).toBe(200);
    expect(ok.json.user).toMatchObject({ email, name: 'First Timer' });
    const cookie = ok.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^8b_session=8b_ses_/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    const again = await call('POST', '/v1/auth/verify', { body: { token, name: 'First Timer' } });
    expect(again.status).toBe(410);
    expect(again.json.code).toBe('link_invalid');
  });

  it('expires after 15 minutes', async ({ expect }) => {
    const email = uniqueEmail('late');
    await call('POST', '/v1/auth/email-link', { body: { email } });
    const token = await lastToken(email, 'sign-in');
    await env.DB.prepare('UPDATE sign_in_links SET expires_at = ? WHERE email = ?')
      .bind(Date.now() - 1, email)
      .run();
    expect((await call('POST', '/v1/auth/verify', { body: { token, name: 'Late' } })).status).toBe(410);
  });

  it('an invitation token is not a sign-in token', async ({ expect }) => {
    const owner = await signUp(uniqueEmail('o'));
    const org = await createOrg(owner.token, 'Audience Co');
    const email = uniqueEmail('invitee');
    await call('POST', `/v1/organizations/${org.id}/invitations`, {
      token: owner.token,
      body: { email, role: 'viewer' },
    });
    const res = await call('POST', '/v1/auth/verify', { body: { token: await lastToken(email), name: 'Sneaky' } });
    expect(res.status).toBe(410);
  });

  it('sign-out ends the session; the cookie authenticates too', async ({ expect }) => {
    const { token } = await signUp(uniqueEmail('bye'));
    const viaCookie = await call('GET', '/v1/me', { headers: { Cookie: `8b_session=${token}` } });
    expect(viaCookie.status).toBe(200);
    expect((await call('POST', '/v1/auth/sign-out', { token })).status).toBe(204);
    expect((await call('GET', '/v1/me', { token })).status).toBe(401);
  });
});

describe('GET /v1/me and personal API tokens', () => {
  it('lists the organizations with roles (the org switcher)', async ({ expect }) => {
    const user = await signUp(uniqueEmail('switcher'), 'Sw Itcher');
    const a = await createOrg(user.token, 'Alpha');
    const b = await createOrg(user.token, 'Beta');
    const me = await call('GET', '/v1/me', { token: user.token });
    expect(me.json.user).toEqual({ id: user.user.id, email: user.email, name: 'Sw Itcher' });
    expect(me.json.organizations).toEqual([
      { id: a.id, name: 'Alpha', slug: a.slug, role: 'owner' },
      { id: b.id, name: 'Beta', slug: b.slug, role: 'owner' },
    ]);
  });

  it('creates a token shown once, lists without secrets, authenticates, and revokes', async ({ expect }) => {
    const user = await signUp(uniqueEmail('pat'));
    const created = await call('POST', '/v1/me/api-tokens', { token: user.token, body: { name: 'ci' } });
    expect(created.status).toBe(201);
    expect(created.json.token).toMatch(/^8b_pat_[\w-]{43}$/);
    const list = await call('GET', '/v1/me/api-tokens', { token: user.token });
    // SPEC §18 amends the expiry: 90 days by default (was none), checked in test/api-token-expiry.test.ts.
    expect(list.json.data).toEqual([
      {
        id: created.json.id,
        name: 'ci',
        created_at: created.json.created_at,
        last_used_at: null,
        expires_at: created.json.expires_at,
      },
    ]);
    expect(list.text).not.toContain(created.json.token);
    const stored = await env.DB.prepare('SELECT token_hash FROM api_tokens WHERE id = ?')
      .bind(created.json.id)
      .first<{ token_hash: string }>();
    expect(stored?.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect((await call('GET', '/v1/me', { token: created.json.token })).status).toBe(200);
    expect((await call('DELETE', `/v1/me/api-tokens/${created.json.id}`, { token: user.token })).status).toBe(204);
    expect((await call('GET', '/v1/me', { token: created.json.token })).status).toBe(401);
    expect((await call('DELETE', `/v1/me/api-tokens/${created.json.id}`, { token: user.token })).status).toBe(404);
  });

  it('organization slugs: derived from the name, de-duplicated, or refused when explicit and taken', async ({
    expect,
  }) => {
    const user = await signUp(uniqueEmail('slugger'));
    const a = await createOrg(user.token, 'Hello World!');
    expect(a.slug).toBe('hello-world');
    const b = await createOrg(user.token, 'Hello World!');
    expect(b.slug).toMatch(/^hello-world-[a-z0-9]{6}$/);
    const taken = await call('POST', '/v1/organizations', {
      token: user.token,
      body: { name: 'X', slug: 'hello-world' },
    });
    expect(taken.status).toBe(409);
    expect(mailsTo(user.email).length).toBeGreaterThan(0);
  });
});
