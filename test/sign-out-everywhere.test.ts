import { env, exports } from 'cloudflare:workers';
import { describe, it } from 'vitest';
import { BASE, call, createOrg, lastToken, signUp, uniqueEmail } from './helpers';

/*
 * SPEC §18, ending a compromise from the dashboard: "Sign out everywhere" ends every session,
 * revokes every API token and kills every sign-in link issued before it.
 */

const newToken = async (session: string, name: string) => (await call('POST', '/v1/me/api-tokens', { token: session, body: { name } })).json as { id: string; token: string };

/** A second session of the same account, through a sign-in link, as another browser would get. */
async function anotherSession(email: string) {
  await call('POST', '/v1/auth/email-link', { body: { email } });
  return (await call('POST', '/v1/auth/verify', { body: { token: await lastToken(email, 'sign-in') } })).json.session_token as string;
}

/** A form post from the Account page of a browser holding `session` (CSRF cookie and field). */
async function postForm(path: string, session: string, fields: Record<string, string> = {}, csrfField = 'c'.repeat(43)) {
  const csrf = 'c'.repeat(43);
  return exports.default.fetch(
    new Request(`${BASE}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: `8b_csrf=${csrf}; 8b_session=${session}`, Origin: BASE },
      body: new URLSearchParams({ _csrf: csrfField, ...fields }),
    }),
  );
}

describe('§18 sign out everywhere ends everything', () => {
  it('after sign-out-all, every session, every API token and every earlier sign-in link gets 401 or 410', async ({ expect }) => {
    const user = await signUp(uniqueEmail('compromised'));
    const org = await createOrg(user.token, 'Compromised Co');
    const other = await anotherSession(user.email);
    const stolen = await newToken(other, 'minted by a thief');
    const ci = await newToken(user.token, 'ci');
    // A sign-in link emailed and not yet used (in a thief's hands, say).
    await call('POST', '/v1/auth/email-link', { body: { email: user.email } });
    const pendingLink = await lastToken(user.email, 'sign-in');

    expect((await call('POST', '/v1/auth/sign-out', { token: user.token, body: { all: true } })).status).toBe(204);

    for (const secret of [user.token, other, stolen.token, ci.token]) {
      expect((await call('GET', '/v1/me', { token: secret })).status).toBe(401);
      expect((await call('GET', `/v1/organizations/${org.id}`, { token: secret })).status).toBe(401);
    }
    const redeemed = await call('POST', '/v1/auth/verify', { body: { token: pendingLink } });
    expect(redeemed.status).toBe(410);
    expect(redeemed.json.code).toBe('link_invalid');
    expect((await call('GET', `/auth/verify?token=${encodeURIComponent(pendingLink)}`)).status).toBe(410);

    // The owner gets back in with a new link, and finds no token left.
    const back = await anotherSession(user.email);
    expect((await call('GET', '/v1/me', { token: back })).status).toBe(200);
    expect((await call('GET', '/v1/me/api-tokens', { token: back })).json.data).toEqual([]);
  });

  it('the Account page form does the same, and leaves other accounts alone', async ({ expect }) => {
    const user = await signUp(uniqueEmail('page-everywhere'));
    const token = await newToken(user.token, 'deploys');
    await call('POST', '/v1/auth/email-link', { body: { email: user.email } });
    const pendingLink = await lastToken(user.email, 'sign-in');
    const bystander = await signUp(uniqueEmail('bystander'));
    const theirs = await newToken(bystander.token, 'theirs');

    const res = await postForm('/sign-out', user.token, { all: 'true' });
    expect(res.status).toBe(303);
    expect((await call('GET', '/v1/me', { token: user.token })).status).toBe(401);
    expect((await call('GET', '/v1/me', { token: token.token })).status).toBe(401);
    expect((await call('POST', '/v1/auth/verify', { body: { token: pendingLink } })).status).toBe(410);
    expect((await call('GET', '/v1/me', { token: bystander.token })).status).toBe(200);
    expect((await call('GET', '/v1/me', { token: theirs.token })).status).toBe(200);
  });

  it('the page says what it does before the click: sessions, API tokens and sign-in links', async ({ expect }) => {
    const user = await signUp(uniqueEmail('explained'));
    const page = await call('GET', '/account', { headers: { Cookie: `8b_session=${user.token}` } });
    expect(page.status).toBe(200);
    const help = /<p id="everywhere-help">([\s\S]*?)<\/p>/.exec(page.text)?.[1] ?? '';
    expect(help).toMatch(/ends every session/);
    expect(help).toMatch(/revokes every personal API token/);
    expect(help).toMatch(/sign-in link already emailed/);
    expect(page.text).toMatch(/aria-describedby="everywhere-help">Sign out everywhere<\/button>/);
    expect(page.text).toMatch(/data-confirm="[^"]*revoke every API token[^"]*"/);
  });

  it('the revoked tokens leave the list, and their rows say when they were revoked', async ({ expect }) => {
    const user = await signUp(uniqueEmail('rows'));
    const token = await newToken(user.token, 'kept for the record');
    const before = Date.now();
    await call('POST', '/v1/auth/sign-out', { token: user.token, body: { all: true } });
    const row = await env.DB.prepare('SELECT revoked_at FROM api_tokens WHERE id = ?').bind(token.id).first<{ revoked_at: number }>();
    expect(row!.revoked_at).toBeGreaterThanOrEqual(before);
    const back = await anotherSession(user.email);
    expect((await call('GET', '/v1/me/api-tokens', { token: back })).json.data).toEqual([]);
  });
});

describe('§18 the Account page lists API tokens, each with Revoke', () => {
  it('lists name, created, last used and expiry, never a secret', async ({ expect }) => {
    const user = await signUp(uniqueEmail('listed'));
    const used = await newToken(user.token, 'Nightly <backup>');
    await newToken(user.token, 'never used');
    await call('GET', '/v1/me', { token: used.token });
    const page = await call('GET', '/account', { headers: { Cookie: `8b_session=${user.token}` } });
    const rows = [...page.text.matchAll(/<tr data-token="(tok_\w+)">([\s\S]*?)<\/tr>/g)];
    expect(rows.map((r) => r[1]).sort()).toHaveLength(2);
    const usedRow = rows.find((r) => r[1] === used.id)![2];
    const cells = [...usedRow.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((m) => m[1]);
    // Escaped by JSX; then created, last used (now) and the expiry 90 days on.
    expect(cells[0]).toBe('Nightly &lt;backup&gt;');
    const day = (ms: number) => new Date(ms).toLocaleString('en-US', { dateStyle: 'medium', timeZone: 'UTC' });
    expect(cells[1]).toContain(day(Date.now()));
    expect(cells[2]).toContain(day(Date.now()));
    expect(cells[3]).toContain(day(Date.now() + 90 * 86_400_000));
    expect(usedRow).toContain(`action="/account/api-tokens/${used.id}/revoke"`);
    expect(usedRow).toMatch(/name="_csrf"/);
    expect(rows.find((r) => r[1] !== used.id)![2]).toContain('Not yet');
    expect(page.text).not.toContain('8b_pat_');
    expect(page.text).not.toContain(user.token);
  });

  it('Revoke ends that token at once; another account\'s token id, or a post without the CSRF token, revokes nothing', async ({ expect }) => {
    const user = await signUp(uniqueEmail('revoker'));
    const mine = await newToken(user.token, 'mine');
    const kept = await newToken(user.token, 'kept');
    const stranger = await signUp(uniqueEmail('stranger'));
    const theirs = await newToken(stranger.token, 'theirs');

    const forged = await postForm(`/account/api-tokens/${mine.id}/revoke`, user.token, {}, 'f'.repeat(43));
    expect(forged.status).toBe(403);
    expect((await call('GET', '/v1/me', { token: mine.token })).status).toBe(200);

    expect((await postForm(`/account/api-tokens/${theirs.id}/revoke`, user.token)).status).toBe(303);
    expect((await call('GET', '/v1/me', { token: theirs.token })).status).toBe(200);

    const res = await postForm(`/account/api-tokens/${mine.id}/revoke`, user.token);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/account?notice=revoked');
    expect((await call('GET', '/v1/me', { token: mine.token })).status).toBe(401);
    expect((await call('GET', '/v1/me', { token: kept.token })).status).toBe(200);
    const page = await call('GET', '/account?notice=revoked', { headers: { Cookie: `8b_session=${user.token}` } });
    expect(page.text).toContain('API token revoked.');
    expect(page.text).not.toContain(`data-token="${mine.id}"`);
    expect(page.text).toContain(`data-token="${kept.id}"`);
  });
});
