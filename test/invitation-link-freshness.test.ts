import { env } from 'cloudflare:workers';
import { drizzle } from 'drizzle-orm/d1';
import { describe, it } from 'vitest';
import { acceptInvitation } from '../src/invitations/acceptance.service';
import {
  call,
  countRows,
  createOrg,
  invite,
  lastToken,
  ownerWithOrg,
  setLastSentAt,
  signInMailCount,
  signUp,
  uniqueEmail,
} from './helpers';
import { auditOf, row } from './hardening-helpers';

/*
 * SPEC §14, hardening part two: one test (at least) per rule, and the security reviewer's
 * scenarios replayed as they were reported.
 * This file: an invitation link signs an existing account in only while it is fresh.
 */

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
        db: drizzle(racing) as never,
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
