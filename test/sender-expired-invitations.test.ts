import { env } from 'cloudflare:workers';
import { drizzle } from 'drizzle-orm/d1';
import { describe, it } from 'vitest';
import { runExpirySweep } from '../src/cron';
import {
  addMember,
  call,
  drainWebhooks,
  invite,
  ownerWithOrg,
  setExpiresAt,
  setLastSentAt,
  uniqueEmail,
} from './helpers';

/*
 * SPEC §18, authority does not outlive its holder, completed: the batch that removes a member (or
 * sees them leave, or demotes them) revokes their expired invitations too, not only the pending
 * ones of §14, so that no remaining admin can revive one with a resend. Expiry is moved in the
 * database, never slept through.
 */

const db = () => drizzle(env.DB);
const invitationPath = (org: string, id: string, action = '') => `/v1/organizations/${org}/invitations/${id}${action}`;
const HOUR = 60 * 60 * 1000;

/** An invitation from `token`, past its expiry and its resend cooldown; `swept`: written down as expired by the cron. */
async function expiredInvitation(token: string, org: string, role: string, swept: boolean) {
  const inv = (await invite(token, org, { email: uniqueEmail('expired'), role })).json;
  await setExpiresAt(inv.id, Date.now() - HOUR);
  await setLastSentAt(inv.id, Date.now() - 2 * HOUR);
  if (swept) await runExpirySweep(db(), Date.now());
  return inv.id as string;
}
const statusOf = async (token: string, org: string, id: string) =>
  (await call('GET', invitationPath(org, id), { token })).json.status;
const resend = (token: string, org: string, id: string) => call('POST', invitationPath(org, id, '/resend'), { token });
const revokedAudit = async (token: string, org: string, id: string) =>
  (await call('GET', `/v1/organizations/${org}/audit-log?limit=100`, { token })).json.data.find(
    (e: { action: string; target: { id: string } }) => e.action === 'invitation.revoked' && e.target.id === id,
  );

describe("§18 the sender's expired invitations are revoked in the batch that takes their authority", () => {
  for (const [how, reason] of [
    ['removed', 'sender_removed'],
    ['leaves', 'sender_left'],
    ['demoted to member', 'sender_demoted'],
  ] as const) {
    it(`an admin ${how}: their expired invitations (swept or not) are revoked, audited, and cannot be resent (409 invalid_state)`, async ({
      expect,
    }) => {
      const { owner, org } = await ownerWithOrg();
      const admin = await addMember(owner.token, org.id, 'admin');
      const swept = await expiredInvitation(admin.token, org.id, 'admin', true);
      const ownersOwn = await expiredInvitation(owner.token, org.id, 'viewer', true);
      const unswept = await expiredInvitation(admin.token, org.id, 'admin', false);
      // The API shows both as expired; only the first is written down as such.
      for (const id of [swept, unswept]) expect(await statusOf(owner.token, org.id, id)).toBe('expired');
      expect(await env.DB.prepare('SELECT status FROM invitations WHERE id = ?').bind(unswept).first('status')).toBe(
        'pending',
      );

      const change =
        how === 'removed'
          ? call('DELETE', `/v1/organizations/${org.id}/members/${admin.user.id}`, { token: owner.token })
          : how === 'leaves'
            ? call('DELETE', `/v1/organizations/${org.id}/members/${admin.user.id}`, { token: admin.token })
            : call('PATCH', `/v1/organizations/${org.id}/members/${admin.user.id}`, {
                token: owner.token,
                body: { role: 'developer' },
              });
      expect((await change).status).toBeLessThan(300);

      for (const id of [swept, unswept]) {
        expect(await statusOf(owner.token, org.id, id)).toBe('revoked');
        const refused = await resend(owner.token, org.id, id);
        expect(refused.status).toBe(409);
        expect(refused.json.code).toBe('invalid_state');
        expect(await revokedAudit(owner.token, org.id, id)).toMatchObject({
          actor: { type: 'system', user_id: null },
          data: { reason, sender_id: admin.user.id, was: 'expired' },
        });
      }
      // Other senders' expired invitations are untouched and can still be revived.
      expect(await statusOf(owner.token, org.id, ownersOwn)).toBe('expired');
      expect((await resend(owner.token, org.id, ownersOwn)).status).toBe(200);
    });
  }

  it('an owner demoted to admin: only their expired owner invitations are revoked', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg();
    const coOwner = await addMember(owner.token, org.id, 'owner');
    const ownerRole = await expiredInvitation(coOwner.token, org.id, 'owner', true);
    const adminRole = await expiredInvitation(coOwner.token, org.id, 'admin', true);
    expect(
      (
        await call('PATCH', `/v1/organizations/${org.id}/members/${coOwner.user.id}`, {
          token: owner.token,
          body: { role: 'admin' },
        })
      ).status,
    ).toBe(200);
    expect(await statusOf(owner.token, org.id, ownerRole)).toBe('revoked');
    expect((await resend(owner.token, org.id, ownerRole)).status).toBe(409);
    expect(await statusOf(owner.token, org.id, adminRole)).toBe('expired');
  });

  it('the invitation.revoked event of an expired invitation carries the invitation as the API returns it', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg();
    const admin = await addMember(owner.token, org.id, 'admin');
    const id = await expiredInvitation(admin.token, org.id, 'viewer', true);
    const name = `expired-revoked-${Date.now().toString(36)}`;
    expect(
      (
        await call('POST', `/v1/organizations/${org.id}/webhooks`, {
          token: owner.token,
          body: { url: `${env.TEST_WEBHOOK_RECEIVER}/hooks/ok/${name}` },
        })
      ).status,
    ).toBe(201);
    await call('DELETE', `/v1/organizations/${org.id}/members/${admin.user.id}`, { token: owner.token });
    await drainWebhooks();
    const got = (
      (await (await fetch(`${env.TEST_WEBHOOK_RECEIVER}/__hooks?name=${name}`)).json()) as { body: string }[]
    ).map((r) => JSON.parse(r.body));
    const revoked = got.find((e) => e.type === 'invitation.revoked');
    expect(revoked.data).toEqual((await call('GET', invitationPath(org.id, id), { token: owner.token })).json);
  });
});
