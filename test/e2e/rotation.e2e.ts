import { SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import { createHash } from 'node:crypto';
import { describe, it } from 'vitest';
import { E2E_PREVIOUS_KEY, E2E_SIGNING_KEY, ORIGIN, emailedLink } from './server';
import { address } from './browser';

/** The key id the Worker gives a signing key (src/auth/tokens.ts): a short hash, never the key. */
const kidOf = (key: string) => createHash('sha256').update(`8bit-ai-kid:${key}`).digest('hex').slice(0, 16);

const post = (path: string, body: unknown, token?: string) =>
  fetch(`${ORIGIN}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });

describe('key rotation under wrangler dev (SPEC §14)', () => {
  it('links signed with TOKEN_SIGNING_KEYS_PREVIOUS still work; the current key signs new ones; other keys do not', async ({
    expect,
  }) => {
    // An owner and an invitation, through the API.
    const owner = address('rotation-owner');
    const since = Date.now() - 1000;
    expect((await post('/v1/auth/email-link', { email: owner })).status).toBe(202);
    const signInToken = new URL(await emailedLink(owner, 'auth/verify', since)).searchParams.get('token')!;
    const session = (await (await post('/v1/auth/verify', { token: signInToken, name: 'Ro Tation' })).json())
      .session_token;
    const org = await (
      await post('/v1/organizations', { name: `Rotation ${Date.now().toString(36)}` }, session)
    ).json();
    const invitee = address('rotation-invitee');
    expect(
      (await post(`/v1/organizations/${org.id}/invitations`, { email: invitee, role: 'viewer' }, session)).status,
    ).toBe(201);
    const token = new URL(await emailedLink(invitee, 'invitations/accept', since)).searchParams.get('token')!;

    // The Worker signs with the current key from the env file (not the development key).
    expect(decodeProtectedHeader(token).kid).toBe(kidOf(E2E_SIGNING_KEY));
    expect(E2E_PREVIOUS_KEY).not.toBe(E2E_SIGNING_KEY);

    // The same claims signed with the previous key: accepted while it is listed.
    const claims = decodeJwt(token);
    const signWith = (key: string) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', kid: kidOf(key), typ: 'JWT' })
        .sign(new TextEncoder().encode(key));
    const preview = (t: string) => fetch(`${ORIGIN}/v1/invitations/preview?token=${encodeURIComponent(t)}`);
    expect((await preview(token)).status).toBe(200);
    expect((await preview(await signWith(E2E_PREVIOUS_KEY))).status).toBe(200);
    expect((await preview(await signWith('some-other-key-that-was-never-configured-0123'))).status).toBe(410);
  });
});
