import { env, exports } from 'cloudflare:workers';
import { drizzle } from 'drizzle-orm/d1';
import { describe, it } from 'vitest';
import { createApiToken } from '../src/auth/api-tokens';
import { endAllSessions } from '../src/auth/auth.store';
import { ApiError } from '../src/errors';
import { t } from '../src/i18n/messages';
import {
  BASE,
  call,
  countRows,
  createOrg,
  drainOutbox,
  invite,
  lastToken,
  mailsTo,
  ownerWithOrg,
  parseMail,
  signInMailCount,
  signUp,
  uniqueEmail,
} from './helpers';

/*
 * SPEC §18, ending a compromise from the dashboard: "Sign out everywhere" ends every session,
 * revokes every API token and kills every sign-in link issued before it.
 */

const newToken = async (session: string, name: string) =>
  (await call('POST', '/v1/me/api-tokens', { token: session, body: { name } })).json as { id: string; token: string };

/** A second session of the same account, through a sign-in link, as another browser would get. */
async function anotherSession(email: string) {
  await call('POST', '/v1/auth/email-link', { body: { email } });
  return (await call('POST', '/v1/auth/verify', { body: { token: await lastToken(email, 'sign-in') } })).json
    .session_token as string;
}

/** A form post from the Account page of a browser holding `session` (CSRF cookie and field). */
async function postForm(
  path: string,
  session: string,
  fields: Record<string, string> = {},
  csrfField = 'c'.repeat(43),
) {
  const csrf = 'c'.repeat(43);
  return exports.default.fetch(
    new Request(`${BASE}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Cookie: `8b_csrf=${csrf}; 8b_session=${session}`,
        Origin: BASE,
      },
      body: new URLSearchParams({ _csrf: csrfField, ...fields }),
    }),
  );
}

describe('§18 sign out everywhere ends everything', () => {
  it('after sign-out-all, every session, every API token and every earlier sign-in link gets 401 or 410', async ({
    expect,
  }) => {
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
    const row = await env.DB.prepare('SELECT revoked_at FROM api_tokens WHERE id = ?')
      .bind(token.id)
      .first<{ revoked_at: number }>();
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

  it("Revoke ends that token at once; another account's token id, or a post without the CSRF token, revokes nothing", async ({
    expect,
  }) => {
    const user = await signUp(uniqueEmail('revoker'));
    const mine = await newToken(user.token, 'mine');
    const kept = await newToken(user.token, 'kept');
    const stranger = await signUp(uniqueEmail('stranger'));
    const theirs = await newToken(stranger.token, 'theirs');

    const forged = await postForm(`/account/api-tokens/${mine.id}/revoke`, user.token, {}, 'f'.repeat(43));
    expect(forged.status).toBe(403);
    expect((await call('GET', '/v1/me', { token: mine.token })).status).toBe(200);

    // Nothing revoked is said so (404, as the API's DELETE), never "API token revoked." (was a 303 to that notice).
    const foreign = await postForm(`/account/api-tokens/${theirs.id}/revoke`, user.token);
    expect(foreign.status).toBe(404);
    const foreignPage = await foreign.text();
    expect(foreignPage).not.toContain('API token revoked.');
    expect(foreignPage).toMatch(/<div class="alert error" role="alert">No API token was revoked[^<]*<\/div>/);
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

  it('Revoke of a token already revoked says nothing was revoked (404), and changes nothing', async ({ expect }) => {
    const user = await signUp(uniqueEmail('twice'));
    const once = await newToken(user.token, 'revoked once');
    expect((await postForm(`/account/api-tokens/${once.id}/revoke`, user.token)).status).toBe(303);
    const { revoked_at: first } = (await env.DB.prepare('SELECT revoked_at FROM api_tokens WHERE id = ?')
      .bind(once.id)
      .first<{ revoked_at: number }>())!;
    const again = await postForm(`/account/api-tokens/${once.id}/revoke`, user.token);
    expect(again.status).toBe(404);
    expect(again.headers.get('content-type')).toMatch(/^text\/html/);
    const text = await again.text();
    expect(text).not.toContain('API token revoked.');
    expect(text).toContain('No API token was revoked: this account has no such token, or it was revoked already.');
    // Still the Account page, signed in, with its tables.
    expect(text).toContain('<h1>Account</h1>');
    const row = await env.DB.prepare('SELECT revoked_at FROM api_tokens WHERE id = ?')
      .bind(once.id)
      .first<{ revoked_at: number }>();
    expect(row!.revoked_at).toBe(first);
    // An id that never existed reads the same.
    const unknown = await postForm('/account/api-tokens/tok_doesnotexist/revoke', user.token);
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toContain('No API token was revoked');
  });

  it('both tables are named by their headings (aria-labelledby)', async ({ expect }) => {
    const user = await signUp(uniqueEmail('named-tables'));
    await newToken(user.token, 'listed');
    const page = await call('GET', '/account', { headers: { Cookie: `8b_session=${user.token}` } });
    expect(page.text).toMatch(/<table aria-labelledby="sessions-title">/);
    expect(page.text).toMatch(/<table aria-labelledby="tokens-title">/);
    expect(page.text).toContain('<h2 id="sessions-title">Sessions</h2>');
    expect(page.text).toContain('<h2 id="tokens-title">API tokens</h2>');
  });
});

describe('§18 a token created while its session is being signed out everywhere does not survive', () => {
  const db = drizzle(env.DB);
  const tokenMails = async (email: string) =>
    (await Promise.all(mailsTo(email).map((m) => parseMail(m.raw)))).filter((m) =>
      m.subject?.includes(t('en', 'token_email.subject')),
    );

  it('the creation path, with the session the middleware saw ended just before the INSERT: 401, no token, no email', async ({
    expect,
  }) => {
    const user = await signUp(uniqueEmail('race'));
    const { id: sessionId } = (await env.DB.prepare('SELECT id FROM sessions WHERE user_id = ?')
      .bind(user.user.id)
      .first<{ id: string }>())!;
    // What the middleware resolved a moment ago: this session, live.
    const caller = {
      id: user.user.id,
      email: user.email,
      name: user.user.name,
      via: 'session' as const,
      credentialId: sessionId,
    };
    // Sign out everywhere lands between the authentication and the write.
    await endAllSessions(db, user.user.id, Date.now());

    const refused = await createApiToken(
      env,
      db,
      caller,
      { name: 'minted during sign-out', locale: 'en' },
      Date.now(),
    ).then(
      () => null,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({ status: 401, code: 'unauthorized' });
    expect(await countRows('api_tokens', `user_id = '${user.user.id}'`)).toBe(0);
    expect(
      await countRows('outbox', "kind = 'api_token_email' AND subject_id NOT IN (SELECT id FROM api_tokens)"),
    ).toBe(0);
    await drainOutbox();
    expect(await tokenMails(user.email)).toEqual([]);
  });

  it('likewise for a caller whose personal API token was revoked in between', async ({ expect }) => {
    const user = await signUp(uniqueEmail('race-pat'));
    const pat = (await call('POST', '/v1/me/api-tokens', { token: user.token, body: { name: 'soon revoked' } }))
      .json as { id: string };
    const caller = {
      id: user.user.id,
      email: user.email,
      name: user.user.name,
      via: 'api_token' as const,
      credentialId: pat.id,
    };
    expect((await call('DELETE', `/v1/me/api-tokens/${pat.id}`, { token: user.token })).status).toBe(204);
    const refused = await createApiToken(env, db, caller, { name: 'late', locale: 'en' }, Date.now()).catch(
      (err: unknown) => err,
    );
    expect(refused).toMatchObject({ status: 401, code: 'unauthorized' });
    expect(await countRows('api_tokens', `user_id = '${user.user.id}'`)).toBe(1);
  });

  it('the same path with the session still live creates the token (the guard refuses only an ended credential)', async ({
    expect,
  }) => {
    const user = await signUp(uniqueEmail('no-race'));
    const { id: sessionId } = (await env.DB.prepare('SELECT id FROM sessions WHERE user_id = ?')
      .bind(user.user.id)
      .first<{ id: string }>())!;
    const caller = {
      id: user.user.id,
      email: user.email,
      name: user.user.name,
      via: 'session' as const,
      credentialId: sessionId,
    };
    const created = await createApiToken(env, db, caller, { name: 'fine', locale: 'en' }, Date.now());
    expect(created.token).toMatch(/^8b_pat_/);
    expect(await countRows('api_tokens', `user_id = '${user.user.id}'`)).toBe(1);
  });
});

describe('§18 with §14: sign out everywhere also ends the fresh invitation link as a way to sign in', () => {
  it('invite, sign out everywhere, anonymous accept: the invitee joins, gets no session, and is emailed a sign-in link instead', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Fresh Link Co');
    const invitee = await signUp(uniqueEmail('invitee'));
    const created = await invite(owner.token, org.id, { email: invitee.email, role: 'developer' });
    expect(created.status).toBe(201);
    // Sent a moment ago: fresh, by §14 this link would sign the invitee in.
    const link = await lastToken(invitee.email);
    expect((await call('POST', '/v1/auth/sign-out', { token: invitee.token, body: { all: true } })).status).toBe(204);

    const mailsBefore = await signInMailCount(invitee.email);
    const accepted = await call('POST', '/v1/invitations/accept', { body: { token: link } });
    expect(accepted.status).toBe(200);
    expect(accepted.json.session_token).toBeUndefined();
    expect(accepted.json.sign_in_link_sent).toBe(true);
    expect(accepted.headers.get('set-cookie') ?? '').not.toMatch(/8b_session=8b_ses_/);
    expect(await countRows('sessions', `user_id = '${invitee.user.id}'`)).toBe(0);
    expect((await call('GET', '/v1/me')).status).toBe(401);
    // It still joins: the invitation is accepted and the invitee is a member.
    const inv = await env.DB.prepare('SELECT status FROM invitations WHERE id = ?')
      .bind(created.json.id)
      .first<{ status: string }>();
    expect(inv?.status).toBe('accepted');
    expect(await countRows('memberships', `organization_id = '${org.id}' AND user_id = '${invitee.user.id}'`)).toBe(1);
    // The sign-in link went to the invitee's inbox, and it signs in.
    expect(await signInMailCount(invitee.email)).toBe(mailsBefore + 1);
    const back = await call('POST', '/v1/auth/verify', { body: { token: await lastToken(invitee.email, 'sign-in') } });
    expect(back.status).toBe(200);
  });

  it('the invitation page says "Check your email to sign in" rather than signing the browser in', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Fresh Page Co');
    const invitee = await signUp(uniqueEmail('page-invitee'));
    expect((await invite(owner.token, org.id, { email: invitee.email, role: 'viewer' })).status).toBe(201);
    const link = await lastToken(invitee.email);
    await call('POST', '/v1/auth/sign-out', { token: invitee.token, body: { all: true } });
    const csrf = 'c'.repeat(43);
    const res = await exports.default.fetch(
      new Request(`${BASE}/invitations/accept`, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          Cookie: `8b_csrf=${csrf}`,
          Origin: BASE,
          'CF-Connecting-IP': '192.0.2.77',
        },
        body: new URLSearchParams({ _csrf: csrf, token: link }),
      }),
    );
    expect(res.headers.get('set-cookie') ?? '').not.toMatch(/8b_session=8b_ses_/);
    expect(await res.text()).toContain('Check your email to sign in');
    expect(await countRows('sessions', `user_id = '${invitee.user.id}'`)).toBe(0);
  });

  it('a link emailed after the sign-out everywhere is fresh again: it signs in', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('After Co');
    const invitee = await signUp(uniqueEmail('later-invitee'));
    await call('POST', '/v1/auth/sign-out', { token: invitee.token, body: { all: true } });
    expect((await invite(owner.token, org.id, { email: invitee.email, role: 'viewer' })).status).toBe(201);
    const accepted = await call('POST', '/v1/invitations/accept', { body: { token: await lastToken(invitee.email) } });
    expect(accepted.status).toBe(200);
    expect(accepted.json.session_token).toMatch(/^8b_ses_/);
    expect(accepted.json.sign_in_link_sent).toBeUndefined();
  });
});
