import { env, exports } from 'cloudflare:workers';
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { describe, it, vi } from 'vitest';
import worker from '../src/index';
import * as schema from '../src/db/schema';
import { EDGE_LIMITS, LIMITS, ipBucket } from '../src/rate-limit/rate-limit';
import { OWNED_ORGANIZATIONS_LIMIT } from '../src/organizations/organizations.store';
import { DEV_SIGNING_KEY } from '../src/lib/deployment';
import { errorMessage } from '../src/lib/redact';
import { safeNext } from '../src/pages/pages.middleware';
import { buildMime } from '../src/email/mime';
import { acceptInvitation } from '../src/invitations/acceptance.service';
import { invitationMail } from '../src/email/templates';
import {
  BASE,
  addMember,
  call,
  countRows,
  createOrg,
  fetchWithEnv,
  invite,
  lastToken,
  mailsTo,
  ownerWithOrg,
  parseMail,
  setLastSentAt,
  signInMailCount,
  signUp,
  uniqueEmail,
} from './helpers';

/*
 * SPEC §14, hardening part two: one test (at least) per rule, and the security reviewer's
 * scenarios replayed as they were reported.
 */

const row = <T>(query: string, ...params: unknown[]) =>
  env.DB.prepare(query)
    .bind(...params)
    .first<T>();
const auditOf = (targetId: string, action: string) =>
  row<{ actor_type: string; actor_id: string | null; data: string }>(
    'SELECT actor_type, actor_id, data FROM audit_events WHERE target_id = ? AND action = ?',
    targetId,
    action,
  );

describe('§14 a link is a login only while it is fresh', () => {
  it('reviewer: an old link accepted anonymously into an account that owns another org: no session, org added, sign-in email sent', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Target Co');
    const victim = await signUp(uniqueEmail('victim'), 'Vic Tim');
    const victimsOwnOrg = await createOrg(victim.token, 'Victim Own Co');
    const inv = (await invite(owner.token, org.id, { email: victim.email, role: 'viewer' })).json;
    const token = await lastToken(victim.email);
    await setLastSentAt(inv.id, Date.now() - 16 * 60_000);
    const sessionsBefore = await countRows('sessions', `user_id = '${victim.user.id}'`);
    const signInMailsBefore = await signInMailCount(victim.email);

    const res = await call('POST', '/v1/invitations/accept', { body: { token } });
    expect(res.status).toBe(200);
    expect(res.json.session_token).toBeUndefined();
    expect(res.json.sign_in_link_sent).toBe(true);
    expect(res.headers.get('set-cookie') ?? '').not.toContain('8b_session=');
    expect(await countRows('sessions', `user_id = '${victim.user.id}'`)).toBe(sessionsBefore);
    // The organization was added to the existing account, beside the one it owns.
    const me = await call('GET', '/v1/me', { token: victim.token });
    expect(me.json.organizations.map((o: { id: string }) => o.id).sort()).toEqual([org.id, victimsOwnOrg.id].sort());
    // The sign-in email went to the invited address, and signs that account in.
    expect(await signInMailCount(victim.email)).toBe(signInMailsBefore + 1);
    const verified = await call('POST', '/v1/auth/verify', {
      body: { token: await lastToken(victim.email, 'sign-in') },
    });
    expect(verified.status).toBe(200);
    expect(verified.json.user.id).toBe(victim.user.id);
    expect(JSON.parse((await auditOf(inv.id, 'invitation.accepted'))!.data)).toMatchObject({
      signed_in: false,
      sign_in_link_sent: true,
    });
  });

  it('a link sent less than 15 minutes ago still signs the existing account in', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg();
    const invitee = await signUp(uniqueEmail('fresh'));
    const inv = (await invite(owner.token, org.id, { email: invitee.email, role: 'viewer' })).json;
    await setLastSentAt(inv.id, Date.now() - 14 * 60_000);
    const res = await call('POST', '/v1/invitations/accept', { body: { token: await lastToken(invitee.email) } });
    expect(res.status).toBe(200);
    expect(res.json.session_token).toMatch(/^8b_ses_/);
    expect(res.json.sign_in_link_sent).toBeUndefined();
  });

  it('creating a new account through an old link still signs in: the account exists only through this link', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg();
    const email = uniqueEmail('newbie');
    const inv = (await invite(owner.token, org.id, { email, role: 'viewer' })).json;
    await setLastSentAt(inv.id, Date.now() - 3 * 24 * 60 * 60_000);
    const res = await call('POST', '/v1/invitations/accept', {
      body: { token: await lastToken(email), name: 'New Bie' },
    });
    expect(res.status).toBe(200);
    expect(res.json.session_token).toMatch(/^8b_ses_/);
    expect(await signInMailCount(email)).toBe(0);
  });
});

describe('§14 a link is a login only while it is fresh: the race', () => {
  it('an account created concurrently (by a sign-in) is an existing account: an old link emails a sign-in link, no session', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg();
    const email = uniqueEmail('raced');
    const inv = (await invite(owner.token, org.id, { email, role: 'viewer' })).json;
    await setLastSentAt(inv.id, Date.now() - 16 * 60_000);
    const { token_id: jti } = (await row<{ token_id: string }>(
      'SELECT token_id FROM invitations WHERE id = ?',
      inv.id,
    ))!;
    // The same address signs up between the acceptance's read and its batch.
    const racedId = `usr_raced${Date.now().toString(36)}`;
    const racing = new Proxy(env.DB, {
      get(target, prop) {
        if (prop === 'batch') {
          return async (statements: D1PreparedStatement[]) => {
            await target
              .prepare('INSERT INTO users (id, email, name, created_at) VALUES (?, ?, ?, ?)')
              .bind(racedId, email, 'Signed Up First', Date.now())
              .run();
            return target.batch(statements);
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const outcome = await acceptInvitation(
      {
        db: drizzle(racing, { schema }) as never,
        organizationId: org.id,
        actor: { userId: null, ip: null, userAgent: null },
        now: Date.now(),
      },
      { invitationId: inv.id, jti, name: 'Link Holder' },
    );
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.value.user.id).toBe(racedId);
    expect(outcome.value.session_token).toBeUndefined();
    expect(outcome.value.sign_in_link_sent).toBe(true);
    expect(await countRows('sessions', `user_id = '${racedId}'`)).toBe(0);
    expect(await countRows('sign_in_links', `email = '${email}'`)).toBe(1);
    expect(JSON.parse((await auditOf(inv.id, 'invitation.accepted'))!.data)).toMatchObject({
      signed_in: false,
      sign_in_link_sent: true,
    });
  });
});

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

describe('§14 authority does not outlive its holder', () => {
  it('reviewer: the removed-admin comeback: their pending invitations are revoked in the same batch', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Comeback Co');
    const admin = await addMember(owner.token, org.id, 'admin');
    const burner = uniqueEmail('burner');
    const planted = (await invite(admin.token, org.id, { email: burner, role: 'admin' })).json;
    const ownersOwn = (await invite(owner.token, org.id, { email: uniqueEmail('legit'), role: 'viewer' })).json;
    const link = await lastToken(burner);

    expect(
      (await call('DELETE', `/v1/organizations/${org.id}/members/${admin.user.id}`, { token: owner.token })).status,
    ).toBe(204);

    const comeback = await call('POST', '/v1/invitations/accept', { body: { token: link, name: 'Back Again' } });
    expect(comeback.status).toBe(410);
    const stored = await row<{ status: string; token_id: string | null }>(
      'SELECT status, token_id FROM invitations WHERE id = ?',
      planted.id,
    );
    expect(stored).toEqual({ status: 'revoked', token_id: null });
    const audit = await auditOf(planted.id, 'invitation.revoked');
    expect(audit).toMatchObject({ actor_type: 'system', actor_id: null });
    expect(JSON.parse(audit!.data)).toMatchObject({
      reason: 'sender_removed',
      sender_id: admin.user.id,
      email: burner,
    });
    // Invitations sent by others stand.
    expect(
      (await call('GET', `/v1/organizations/${org.id}/invitations/${ownersOwn.id}`, { token: owner.token })).json
        .status,
    ).toBe('pending');
  });

  it('demoted below admin: every pending invitation they sent is revoked; leaving does the same', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg();
    const admin = await addMember(owner.token, org.id, 'admin');
    const sent = (await invite(admin.token, org.id, { email: uniqueEmail(), role: 'viewer' })).json;
    const res = await call('PATCH', `/v1/organizations/${org.id}/members/${admin.user.id}`, {
      token: owner.token,
      body: { role: 'developer' },
    });
    expect(res.status).toBe(200);
    expect((await row<{ status: string }>('SELECT status FROM invitations WHERE id = ?', sent.id))!.status).toBe(
      'revoked',
    );
    expect(JSON.parse((await auditOf(sent.id, 'invitation.revoked'))!.data).reason).toBe('sender_demoted');

    const leaver = await addMember(owner.token, org.id, 'admin');
    const left = (await invite(leaver.token, org.id, { email: uniqueEmail(), role: 'viewer' })).json;
    expect(
      (await call('DELETE', `/v1/organizations/${org.id}/members/${leaver.user.id}`, { token: leaver.token })).status,
    ).toBe(204);
    expect((await row<{ status: string }>('SELECT status FROM invitations WHERE id = ?', left.id))!.status).toBe(
      'revoked',
    );
    expect(JSON.parse((await auditOf(left.id, 'invitation.revoked'))!.data).reason).toBe('sender_left');
  });

  it('an owner demoted to admin loses only the owner invitations they sent; admin to admin-level roles keeps nothing it cannot send', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg();
    const coOwner = await addMember(owner.token, org.id, 'owner');
    const ownerInv = (await invite(coOwner.token, org.id, { email: uniqueEmail(), role: 'owner' })).json;
    const adminInv = (await invite(coOwner.token, org.id, { email: uniqueEmail(), role: 'admin' })).json;
    const res = await call('PATCH', `/v1/organizations/${org.id}/members/${coOwner.user.id}`, {
      token: owner.token,
      body: { role: 'admin' },
    });
    expect(res.status).toBe(200);
    const status = async (id: string) =>
      (await row<{ status: string }>('SELECT status FROM invitations WHERE id = ?', id))!.status;
    expect(await status(ownerInv.id)).toBe('revoked');
    expect(await status(adminInv.id)).toBe('pending');
  });

  it('a refused demotion (the last owner) revokes nothing', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg();
    const sent = (await invite(owner.token, org.id, { email: uniqueEmail(), role: 'viewer' })).json;
    const res = await call('PATCH', `/v1/organizations/${org.id}/members/${owner.user.id}`, {
      token: owner.token,
      body: { role: 'viewer' },
    });
    expect(res.status).toBe(409);
    expect((await row<{ status: string }>('SELECT status FROM invitations WHERE id = ?', sent.id))!.status).toBe(
      'pending',
    );
    expect(await auditOf(sent.id, 'invitation.revoked')).toBeNull();
  });
});

describe('§14 no relay for spam', () => {
  it('reviewer: 11 organizations created back to back by one account: the 11th is 429 with Retry-After', async ({
    expect,
  }) => {
    const user = await signUp(uniqueEmail('spammer'));
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++)
      statuses.push(
        (await call('POST', '/v1/organizations', { token: user.token, body: { name: `Relay ${i}` } })).status,
      );
    expect(statuses).toEqual([...Array(10).fill(201), 429]);
    const refused = await call('POST', '/v1/organizations', { token: user.token, body: { name: 'Relay 12' } });
    expect(refused.json.code).toBe('rate_limited');
    expect(Number(refused.headers.get('Retry-After'))).toBeGreaterThan(0);
    expect(await countRows('memberships', `user_id = '${user.user.id}'`)).toBe(10);
  });

  it('organization creation per IP: 20 a day across accounts', async ({ expect }) => {
    const ip = { 'CF-Connecting-IP': '203.0.113.90' };
    const accounts = [
      await signUp(uniqueEmail('ipa')),
      await signUp(uniqueEmail('ipb')),
      await signUp(uniqueEmail('ipc')),
    ];
    const statuses: number[] = [];
    for (let i = 0; i <= LIMITS.orgCreationPerIp.max; i++) {
      const who = accounts[Math.floor(i / 9)];
      statuses.push(
        (await call('POST', '/v1/organizations', { token: who.token, body: { name: `IP ${i}` }, headers: ip })).status,
      );
    }
    expect(statuses.slice(0, -1).every((s) => s === 201)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
    // From another address, the same account can go on.
    expect(
      (await call('POST', '/v1/organizations', { token: accounts[2].token, body: { name: 'Elsewhere' } })).status,
    ).toBe(201);
  });

  it(`an account owns at most ${OWNED_ORGANIZATIONS_LIMIT} organizations: 409 organization_limit, nothing written`, async ({
    expect,
  }) => {
    const user = await signUp(uniqueEmail('collector'));
    const now = Date.now();
    const stmts = [];
    for (let i = 0; i < OWNED_ORGANIZATIONS_LIMIT; i++) {
      const id = `org_seed${user.user.id.slice(4, 14)}${String(i).padStart(2, '0')}`;
      stmts.push(
        env.DB.prepare(
          'INSERT INTO organizations (id, name, slug, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
        ).bind(id, `Seed ${i}`, `seed-${id}`, now, now),
      );
      stmts.push(
        env.DB.prepare("INSERT INTO memberships VALUES (?, ?, 'owner', ?, ?)").bind(id, user.user.id, now, now),
      );
    }
    await env.DB.batch(stmts);
    const orgsBefore = await countRows('organizations');
    const res = await call('POST', '/v1/organizations', { token: user.token, body: { name: 'One Too Many' } });
    expect(res.status).toBe(409);
    expect(res.json.code).toBe('organization_limit');
    expect(await countRows('organizations')).toBe(orgsBefore);
  });

  it('the owned-organization cap also holds for a promotion and for accepting an owner invitation', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg();
    const member = await addMember(owner.token, org.id, 'developer');
    const collector = await signUp(uniqueEmail('owner-invitee'));
    const now = Date.now();
    const stmts = [];
    for (const who of [member.user.id, collector.user.id]) {
      for (let i = 0; i < OWNED_ORGANIZATIONS_LIMIT; i++) {
        const id = `org_cap${who.slice(4, 12)}${String(i).padStart(2, '0')}`;
        stmts.push(
          env.DB.prepare(
            'INSERT INTO organizations (id, name, slug, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
          ).bind(id, `Cap ${i}`, `cap-${id}`, now, now),
        );
        stmts.push(env.DB.prepare("INSERT INTO memberships VALUES (?, ?, 'owner', ?, ?)").bind(id, who, now, now));
      }
    }
    await env.DB.batch(stmts);
    const promote = await call('PATCH', `/v1/organizations/${org.id}/members/${member.user.id}`, {
      token: owner.token,
      body: { role: 'owner' },
    });
    expect(promote.status).toBe(409);
    expect(promote.json.code).toBe('organization_limit');
    expect(
      (await row<{ role: string }>(
        'SELECT role FROM memberships WHERE organization_id = ? AND user_id = ?',
        org.id,
        member.user.id,
      ))!.role,
    ).toBe('developer');

    const inv = (await invite(owner.token, org.id, { email: collector.email, role: 'owner' })).json;
    const accept = await call('POST', '/v1/invitations/accept', {
      token: collector.token,
      body: { token: await lastToken(collector.email) },
    });
    expect(accept.status).toBe(409);
    expect(accept.json.code).toBe('organization_limit');
    expect((await row<{ status: string }>('SELECT status FROM invitations WHERE id = ?', inv.id))!.status).toBe(
      'pending',
    );
  });

  it('invitation emails per account: 100 an hour across all its organizations', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Account Limit A');
    const other = await createOrg(owner.token, 'Account Limit B');
    const window = Date.now() - (Date.now() % LIMITS.invitationEmailsPerAccount.windowMs);
    // 99 sends this hour, counted in D1 (seeded rather than sent).
    await env.DB.prepare('INSERT INTO rate_limits VALUES (?, ?, 99)')
      .bind(`invitation-emails:account:${owner.user.id}`, window)
      .run();
    expect((await invite(owner.token, org.id, { email: uniqueEmail(), role: 'viewer' })).status).toBe(201);
    const refused = await invite(owner.token, other.id, { email: uniqueEmail('refused'), role: 'viewer' });
    expect(refused.status).toBe(429);
    expect(refused.json.code).toBe('rate_limited');
    expect(Number(refused.headers.get('Retry-After'))).toBeGreaterThan(0);
    expect(await countRows('invitations', `organization_id = '${other.id}'`)).toBe(0);
    expect(await countRows('outbox', `organization_id = '${other.id}'`)).toBe(0);
  });

  it('invitation emails per IP: 200 an hour across accounts, and an IPv6 /64 is one bucket', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('IP Limit Co');
    const window = Date.now() - (Date.now() % LIMITS.invitationEmailsPerIp.windowMs);
    await env.DB.prepare('INSERT INTO rate_limits VALUES (?, ?, 200)')
      .bind('invitation-emails:ip:2001:db8:aa:bb::/64', window)
      .run();
    const fromSameNet = await invite(owner.token, org.id, { email: uniqueEmail(), role: 'viewer' });
    expect(fromSameNet.status).toBe(201); // (another IP: the default in `call`)
    const refused = await call('POST', `/v1/organizations/${org.id}/invitations`, {
      token: owner.token,
      body: { email: uniqueEmail(), role: 'viewer' },
      headers: { 'CF-Connecting-IP': '2001:db8:aa:bb:1234:5678:9abc:def0' },
    });
    expect(refused.status).toBe(429);
  });

  it('RATE_LIMIT_SCALE above 1 logs a warning at each cron run outside local development, and not locally', async ({
    expect,
  }) => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const tick = async (overrides: Partial<Env>) => {
        const ctx = createExecutionContext();
        await worker.scheduled!(
          { cron: '* * * * *', scheduledTime: Date.now(), noRetry() {} } as ScheduledController,
          { ...env, ...overrides },
          ctx,
        );
        await waitOnExecutionContext(ctx);
      };
      const warnings = () => warn.mock.calls.filter((c) => String(c[0]).includes('rate_limit_scale_raised')).length;
      await tick({ RATE_LIMIT_SCALE: '1000' });
      expect(warnings()).toBe(0);
      await tick({ RATE_LIMIT_SCALE: '1000', APP_URL: 'https://invitations.example' });
      await tick({ RATE_LIMIT_SCALE: '1000', APP_URL: 'https://invitations.example' });
      expect(warnings()).toBe(2);
      await tick({ RATE_LIMIT_SCALE: '1', APP_URL: 'https://invitations.example' });
      expect(warnings()).toBe(2);
    } finally {
      warn.mockRestore();
    }
  });
});

describe('§14 per-IP buckets', () => {
  it('IPv6 by /64, IPv4 as is, missing or malformed in one `unknown` bucket', ({ expect }) => {
    expect(ipBucket('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(ipBucket('2001:0db8:0001:0002:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(ipBucket('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(ipBucket('2001:DB8:1:3::1')).toBe('2001:db8:1:3::/64');
    expect(ipBucket('::')).toBe('0:0:0:0::/64');
    expect(ipBucket('1:2:3:4:5:6:7:8')).toBe('1:2:3:4::/64');
    expect(ipBucket('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
    // IPv4-mapped IPv6 is the IPv4 address itself.
    expect(ipBucket('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(ipBucket('::FFFF:c000:0201')).toBe('192.0.2.1');
    expect(ipBucket('192.0.2.33')).toBe('192.0.2.33');
    const malformed = [
      null,
      undefined,
      '',
      'not an ip',
      'x'.repeat(65),
      '1:2:3',
      '1::2::3',
      '<script>',
      '1:2:3:4:5:6:7:8:9',
      '2001:db8:1:2:00000::1',
      '1:2:3:4:5:6:7::8',
      ':1:2:3:4:5:6:7',
      '256.1.1.1',
      '1.2.3',
      '1.2.3.4.5',
      '::ffff:999.0.0.1',
      `2001:db8:1:2::${'0'.repeat(60)}`,
    ];
    for (const bad of malformed) expect(ipBucket(bad), String(bad)).toBe('unknown');
  });

  it('requests without a client IP share the `unknown` bucket: limited, never skipped', async ({ expect }) => {
    const noIp = { 'CF-Connecting-IP': '' };
    const statuses: number[] = [];
    for (let i = 0; i <= EDGE_LIMITS.signInPerIp.max; i++) {
      statuses.push(
        (await call('POST', '/v1/auth/email-link', { body: { email: uniqueEmail('noip') }, headers: noIp })).status,
      );
    }
    expect(statuses.slice(0, -1).every((s) => s === 202)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
  });

  it('an oversized client IP counts in `unknown` on every per-IP limit (organization creation here), never a cut-down address', async ({
    expect,
  }) => {
    const day = LIMITS.orgCreationPerIp.windowMs;
    await env.DB.prepare('INSERT OR REPLACE INTO rate_limits VALUES (?, ?, ?)')
      .bind('org-creation:ip:unknown', Date.now() - (Date.now() % day), LIMITS.orgCreationPerIp.max)
      .run();
    try {
      const user = await signUp(uniqueEmail('bigip'));
      const oversized = `2001:db8:5:6::${'1'.repeat(70)}`;
      for (const ip of [oversized, '', 'garbage']) {
        const res = await call('POST', '/v1/organizations', {
          token: user.token,
          body: { name: 'Big IP' },
          headers: { 'CF-Connecting-IP': ip },
        });
        expect(res.status, ip.slice(0, 20)).toBe(429);
      }
      expect((await call('POST', '/v1/organizations', { token: user.token, body: { name: 'Real IP' } })).status).toBe(
        201,
      );
    } finally {
      await env.DB.prepare("DELETE FROM rate_limits WHERE bucket = 'org-creation:ip:unknown'").run();
    }
  });

  it('two addresses of one IPv6 /64 share a bucket; another /64 does not', async ({ expect }) => {
    for (let i = 0; i < EDGE_LIMITS.signInPerIp.max; i++) {
      const res = await call('POST', '/v1/auth/email-link', {
        body: { email: uniqueEmail('v6') },
        headers: { 'CF-Connecting-IP': `2001:db8:77:1::${(i + 1).toString(16)}` },
      });
      expect(res.status).toBe(202);
    }
    const sameNet = await call('POST', '/v1/auth/email-link', {
      body: { email: uniqueEmail('v6') },
      headers: { 'CF-Connecting-IP': '2001:db8:77:1:ffff::1' },
    });
    expect(sameNet.status).toBe(429);
    const otherNet = await call('POST', '/v1/auth/email-link', {
      body: { email: uniqueEmail('v6') },
      headers: { 'CF-Connecting-IP': '2001:db8:77:2::1' },
    });
    expect(otherNet.status).toBe(202);
  });
});

describe('§14 input hygiene', () => {
  it('names are at most 100 characters on every form and in the API; nothing is created by a refused one', async ({
    expect,
  }) => {
    const long = 'N'.repeat(101);
    const email = uniqueEmail('longname');
    await call('POST', '/v1/auth/email-link', { body: { email } });
    const token = await lastToken(email, 'sign-in');
    expect((await call('POST', '/v1/auth/verify', { body: { token, name: long } })).status).toBe(400);
    // The page form, the way the reviewer sent it (10,000 characters, within the 16 KB form limit).
    const csrf = 'c'.repeat(43);
    const page = await exports.default.fetch(
      new Request(`${BASE}/auth/verify`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: `8b_csrf=${csrf}`, Origin: BASE },
        body: new URLSearchParams({ _csrf: csrf, token, name: 'N'.repeat(10_000) }),
      }),
    );
    expect(page.status).toBe(400);
    expect(await page.text()).toContain('at most 100 characters');
    expect(await countRows('users', `email = '${email}'`)).toBe(0);
    // The link was not used up by the refusal.
    expect((await call('POST', '/v1/auth/verify', { body: { token, name: 'N'.repeat(100) } })).status).toBe(200);
  });

  it('the acceptance page and the new-organization form refuse a name over 100 characters, creating nothing', async ({
    expect,
  }) => {
    const csrf = 'e'.repeat(43);
    const post = (path: string, fields: Record<string, string>, cookie = '') =>
      exports.default.fetch(
        new Request(`${BASE}${path}`, {
          method: 'POST',
          redirect: 'manual',
          headers: {
            'Content-Type': 'application/x-www-form-urlencoded',
            Cookie: `8b_csrf=${csrf}${cookie}`,
            Origin: BASE,
          },
          body: new URLSearchParams({ _csrf: csrf, ...fields }),
        }),
      );
    const { owner, org } = await ownerWithOrg();
    const email = uniqueEmail('longaccept');
    const inv = (await invite(owner.token, org.id, { email, role: 'viewer' })).json;
    const accept = await post('/invitations/accept', { token: await lastToken(email), name: 'A'.repeat(101) });
    expect(accept.status).toBe(400);
    expect(await accept.text()).toContain('at most 100 characters');
    expect(await countRows('users', `email = '${email}'`)).toBe(0);
    expect((await row<{ status: string }>('SELECT status FROM invitations WHERE id = ?', inv.id))!.status).toBe(
      'pending',
    );

    const orgsBefore = await countRows('memberships', `user_id = '${owner.user.id}'`);
    const created = await post('/orgs/new', { name: 'O'.repeat(101) }, `; 8b_session=${owner.token}`);
    expect(created.status).toBe(400);
    expect(await countRows('memberships', `user_id = '${owner.user.id}'`)).toBe(orgsBefore);
  });

  it('an invitation subject stays short, folded, and every header line is within 998 characters, whatever the names', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg();
    // A name stored before the limit existed.
    await env.DB.prepare('UPDATE users SET name = ? WHERE id = ?').bind('Ünïcode '.repeat(2400), owner.user.id).run();
    const email = uniqueEmail('subject');
    expect((await invite(owner.token, org.id, { email, role: 'viewer' })).status).toBe(201);
    const raw = mailsTo(email).at(-1)!.raw;
    const header = raw.slice(0, raw.search(/\r?\n\r?\n/));
    for (const line of header.split(/\r?\n/)) expect(line.length).toBeLessThanOrEqual(998);
    expect(header).toMatch(/^Subject: =\?utf-8\?B\?[^\r\n]*\r?\n =\?utf-8\?B\?/m);
    const subject = (await parseMail(raw)).subject!;
    expect(subject.length).toBeLessThan(260);
    expect(subject).toMatch(/^Ünïcode Ünïcode .*… invited you to join Acme Inc on 8bit-ai$/);
  });

  it('subject folding never splits a character, and decodes to the subject', async ({ expect }) => {
    const mail = invitationMail({
      to: 'a@example.com',
      inviterName: '日本語の名前'.repeat(30),
      organizationName: 'Ωmega 🚀'.repeat(20),
      role: 'viewer',
      message: null,
      link: 'https://x/accept?token=t',
      expiresAt: 0,
    });
    const raw = buildMime({ ...mail, from: 'invitations@example.com', fromName: '8bit-ai', headers: {} });
    expect((await parseMail(raw)).subject).toBe(mail.subject);
  });

  it('lookups keyed by a query string use own keys only (`__proto__`, `constructor`)', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg();
    for (const q of [
      'notice=__proto__',
      'notice=constructor',
      'error=constructor',
      'error=__proto__',
      'error=toString',
    ]) {
      const res = await call('GET', `/orgs/${org.slug}/settings/team?${q}`, {
        headers: { Cookie: `8b_session=${owner.token}` },
      });
      expect(res.status, q).toBe(200);
      expect(res.text, q).not.toMatch(/class="alert/);
    }
  });
});

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

describe('§14 deployment guards', () => {
  const request = (url = `${BASE}/healthz`) => ({ url, init: {} as RequestInit });
  const served = async (overrides: Partial<Env>, url?: string) => {
    const r = request(url);
    const res = await fetchWithEnv(new URL(r.url).pathname, r.init, { ...env, ...overrides });
    return res;
  };

  it('refuse to serve (503 misconfigured) outside local development with plain http, the dev key, or a short key', async ({
    expect,
  }) => {
    const good = 'k'.repeat(32);
    const cases: [Partial<Env>, boolean][] = [
      [{ APP_URL: 'http://invitations.example', TOKEN_SIGNING_KEY: good }, false],
      [{ APP_URL: 'https://invitations.example', TOKEN_SIGNING_KEY: DEV_SIGNING_KEY }, false],
      [{ APP_URL: 'https://invitations.example', TOKEN_SIGNING_KEY: 'é'.repeat(15) }, false],
      [{ APP_URL: 'https://invitations.example', TOKEN_SIGNING_KEY: good }, true],
      // A previous key verifies links too: the same rules.
      [
        {
          APP_URL: 'https://invitations.example',
          TOKEN_SIGNING_KEY: good,
          TOKEN_SIGNING_KEYS_PREVIOUS: `${'p'.repeat(32)},${DEV_SIGNING_KEY}`,
        },
        false,
      ],
      [
        { APP_URL: 'https://invitations.example', TOKEN_SIGNING_KEY: good, TOKEN_SIGNING_KEYS_PREVIOUS: 'short' },
        false,
      ],
      [
        {
          APP_URL: 'https://invitations.example',
          TOKEN_SIGNING_KEY: good,
          TOKEN_SIGNING_KEYS_PREVIOUS: ` ${'p'.repeat(32)} `,
        },
        true,
      ],
      // Local development may use the published key.
      [{ APP_URL: 'http://localhost:8787', TOKEN_SIGNING_KEY: DEV_SIGNING_KEY }, true],
    ];
    for (const [overrides, ok] of cases) {
      const res = await served(overrides);
      expect(res.status, JSON.stringify(overrides)).toBe(ok ? 200 : 503);
      if (!ok) {
        const body = (await res.json()) as { code: string; detail: string };
        expect(body.code).toBe('misconfigured');
        expect(body.detail).not.toContain(String(overrides.TOKEN_SIGNING_KEY));
      }
    }
  });

  it('the default (local) APP_URL deployed as is: requests to a public host are refused', async ({ expect }) => {
    const res = await exports.default.fetch(new Request('https://invitations.example.workers.dev/v1/me'));
    expect(res.status).toBe(503);
    expect(((await res.json()) as { detail: string }).detail).toContain('APP_URL');
  });

  it('the problem is logged once, not on every request', async ({ expect }) => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      // A host no other test uses, so this problem's text is new to the isolate.
      const host = `https://logged-once-${Date.now().toString(36)}.example`;
      for (let i = 0; i < 3; i++)
        expect((await exports.default.fetch(new Request(`${host}/healthz`))).status).toBe(503);
      const lines = error.mock.calls.map((c) => String(c[0])).filter((l) => l.includes('deployment_misconfigured'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(new URL(host).hostname);
    } finally {
      error.mockRestore();
    }
  });
});

describe('§14 logs', () => {
  it('one redaction function: JWT-shaped strings, 8b_ and whsec_ secrets go, and driver errors lose their bound parameters', async ({
    expect,
  }) => {
    const db = drizzle(env.DB, { schema });
    const secret = '8b_ses_this-is-a-secret-value-0123456789';
    let thrown: unknown;
    try {
      // A real driver failure: a NOT NULL column left out, with a secret among the bound values.
      await db.run(sql`INSERT INTO sessions (id, token_hash) VALUES (${'ses_x'}, ${secret})`);
    } catch (err) {
      thrown = err;
    }
    expect(String(thrown) + String((thrown as Error).message)).toContain(secret.slice(8));
    const logged = errorMessage(thrown);
    expect(logged).toContain('NOT NULL');
    expect(logged).not.toContain(secret.slice(8));
    expect(logged).not.toMatch(/params/);
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
    const text = errorMessage(
      new Error(
        `failed for ${jwt} with 8b_pat_abcDEF123_x and whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw and /accept?token=abc.def`,
      ),
    );
    for (const leaked of [jwt, '8b_pat_abcDEF123_x', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'abc.def'])
      expect(text).not.toContain(leaked);
  });

  it('an unhandled error is logged through it: no bound parameters, no secrets', async ({ expect }) => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const user = await signUp(uniqueEmail('boom'));
      // A database that fails every statement that binds this user's id (a driver error).
      const { poisonedDb } = await import('./delivery-fakes');
      const res = await fetchWithEnv(
        '/v1/me',
        { headers: { Authorization: `Bearer ${user.token}` } },
        { ...env, DB: poisonedDb(user.user.id) },
      );
      expect(res.status).toBe(500);
      const lines = error.mock.calls.map((c) => String(c[0])).filter((l) => l.includes('unhandled_error'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).not.toContain(user.token);
      expect(lines[0]).not.toContain(user.email);
    } finally {
      error.mockRestore();
    }
  });
});
