import { env } from 'cloudflare:workers';
import { describe, it } from 'vitest';
import { call, countRows, invite, lastToken, ownerWithOrg, setExpiresAt, signUp, uniqueEmail } from './helpers';

/*
 * SPEC §17, the inbox: `GET /v1/me/invitations` lists the live pending invitations to the signed-in
 * account's email across organizations; accepting or declining from it needs no link (the session
 * proves the email). Someone else's invitation is 404, as an unknown one.
 */

const inbox = (token: string) => call('GET', '/v1/me/invitations', { token });
const acceptMine = (token: string | undefined, id: string) =>
  call('POST', `/v1/me/invitations/${id}/accept`, { token });
const declineMine = (token: string | undefined, id: string) =>
  call('POST', `/v1/me/invitations/${id}/decline`, { token });
const invitation = (org: string, id: string, token: string) =>
  call('GET', `/v1/organizations/${org}/invitations/${id}`, { token });

async function hookFor(ownerToken: string, org: string) {
  const url = `${env.TEST_WEBHOOK_RECEIVER}/hooks/ok/inbox-${Date.now().toString(36)}`;
  const res = await call('POST', `/v1/organizations/${org}/webhooks`, { token: ownerToken, body: { url } });
  if (res.status !== 201) throw new Error(`webhook: ${res.status} ${res.text}`);
}

/** The organization's webhook events, as `{type, data}` without the timestamp, by type. */
async function events(org: string) {
  const { results } = await env.DB.prepare('SELECT body FROM webhook_events WHERE organization_id = ?')
    .bind(org)
    .all<{ body: string }>();
  return results
    .map((r) => JSON.parse(r.body) as { type: string; data: Record<string, unknown> })
    .map(({ type, data }) => ({ type, data }))
    .sort((a, b) => a.type.localeCompare(b.type));
}

describe('SPEC §17: the inbox', () => {
  it('lists only the live pending invitations to your email, across organizations, soonest expiry first', async ({
    expect,
  }) => {
    const me = await signUp(uniqueEmail('inbox'), 'Ines Inbox');
    const live = [];
    for (const [name, days] of [
      ['Inbox One', 14],
      ['Inbox Two', 3],
      ['Inbox Three', 7],
    ] as const) {
      const { owner, org } = await ownerWithOrg(name);
      const inv = (await invite(owner.token, org.id, { email: me.email, role: 'developer', expires_in_days: days }))
        .json;
      // Another address in the same organization is never listed.
      await invite(owner.token, org.id, { email: uniqueEmail('other'), role: 'viewer' });
      live.push({ inv, org, days });
    }
    // Expired, revoked, declined and accepted invitations to the same email are not listed.
    const dead = await ownerWithOrg('Inbox Dead');
    const expired = (await invite(dead.owner.token, dead.org.id, { email: me.email, role: 'viewer' })).json;
    await setExpiresAt(expired.id, Date.now() - 1000);
    for (const end of ['revoke', 'decline', 'accept'] as const) {
      const { owner, org } = await ownerWithOrg(`Inbox ${end}`);
      const inv = (await invite(owner.token, org.id, { email: me.email, role: 'viewer' })).json;
      if (end === 'revoke')
        await call('POST', `/v1/organizations/${org.id}/invitations/${inv.id}/revoke`, { token: owner.token });
      else
        expect(
          (
            await call('POST', `/v1/invitations/${end}`, {
              body: { token: await lastToken(me.email) },
              token: me.token,
            })
          ).status,
        ).toBe(200);
    }

    const res = await inbox(me.token);
    expect(res.status).toBe(200);
    const byExpiry = [...live].sort((a, b) => a.days - b.days);
    expect(res.json).toEqual({
      data: byExpiry.map(({ inv, org }) => ({
        id: inv.id,
        organization: { name: org.name, slug: org.slug },
        role: 'developer',
        inviter: { name: 'Olivia Owner' },
        expires_at: inv.expires_at,
      })),
    });
    // No link ever: the inbox acts by id.
    expect(res.text).not.toMatch(/eyJ|token/);

    // Someone else's inbox holds none of them.
    const other = await signUp(uniqueEmail('stranger'), 'Sam Stranger');
    expect((await inbox(other.token)).json).toEqual({ data: [] });
    expect((await inbox('')).status).toBe(401);
  });

  it('accepting from the inbox joins exactly as the link would', async ({ expect }) => {
    const me = await signUp(uniqueEmail('joiner'), 'Jo Joiner');
    const viaLink = await ownerWithOrg('By Link Co');
    const viaInbox = await ownerWithOrg('By Inbox Co');
    await hookFor(viaLink.owner.token, viaLink.org.id);
    await hookFor(viaInbox.owner.token, viaInbox.org.id);
    const a = (await invite(viaLink.owner.token, viaLink.org.id, { email: me.email, role: 'developer' })).json;
    const linkAccept = await call('POST', '/v1/invitations/accept', {
      body: { token: await lastToken(me.email) },
      token: me.token,
    });
    expect(linkAccept.status).toBe(200);
    const b = (await invite(viaInbox.owner.token, viaInbox.org.id, { email: me.email, role: 'developer' })).json;
    const res = await acceptMine(me.token, b.id);
    expect(res.status).toBe(200);
    // The same answer as the link's, for the same signed-in account (no session: already signed in).
    expect(res.json).toEqual({
      organization: { id: viaInbox.org.id, name: viaInbox.org.name, slug: viaInbox.org.slug },
      role: 'developer',
      user: { id: me.user.id, email: me.email, name: 'Jo Joiner' },
    });
    expect(Object.keys(linkAccept.json).sort()).toEqual(Object.keys(res.json).sort());

    // The member, with the invited role, in both.
    const mine = (await call('GET', '/v1/me', { token: me.token })).json.organizations;
    expect(mine.map((o: { id: string; role: string }) => [o.id, o.role]).sort()).toEqual(
      [
        [viaLink.org.id, 'developer'],
        [viaInbox.org.id, 'developer'],
      ].sort(),
    );
    // The invitation accepted by the account, the same way.
    const ra = (await invitation(viaLink.org.id, a.id, viaLink.owner.token)).json;
    const rb = (await invitation(viaInbox.org.id, b.id, viaInbox.owner.token)).json;
    expect([ra.status, ra.accepted_by]).toEqual(['accepted', me.user.id]);
    expect([rb.status, rb.accepted_by]).toEqual(['accepted', me.user.id]);

    // The same audit entry (by the account) and the same webhook events, each of its own organization.
    const audit = async (org: string) =>
      env.DB.prepare(
        "SELECT actor_type, actor_id, data FROM audit_events WHERE organization_id = ? AND action = 'invitation.accepted'",
      )
        .bind(org)
        .all()
        .then((r) => r.results.map((e) => ({ ...e, data: JSON.parse(e.data as string) })));
    const auditA = await audit(viaLink.org.id);
    expect(auditA).toHaveLength(1);
    expect(await audit(viaInbox.org.id)).toEqual(auditA);
    expect(auditA[0]).toMatchObject({ actor_type: 'user', actor_id: me.user.id });

    // The same webhook events: the invitation as the API shows it, and the member added by invitation.
    for (const [org, resource] of [
      [viaLink.org.id, ra],
      [viaInbox.org.id, rb],
    ] as const) {
      const got = await events(org);
      expect(got.map((e) => e.type)).toEqual(['invitation.accepted', 'invitation.created', 'member.added']);
      expect(got[0].data).toEqual(resource);
      expect(got[2].data).toEqual({
        organization_id: org,
        user_id: me.user.id,
        email: me.email,
        role: 'developer',
        via: 'invitation',
      });
    }

    // The link of an invitation accepted from the inbox is dead.
    expect((await inbox(me.token)).json.data).toEqual([]);
    expect((await acceptMine(me.token, b.id)).status).toBe(410);
  });

  it('10 inbox accepts and 10 link accepts of one invitation at once: exactly one succeeds', async ({ expect }) => {
    const me = await signUp(uniqueEmail('racer'), 'Rae Racer');
    const { owner, org } = await ownerWithOrg('Inbox Race Co');
    const inv = (await invite(owner.token, org.id, { email: me.email, role: 'viewer' })).json;
    const token = await lastToken(me.email);
    const results = await Promise.all([
      ...Array.from({ length: 10 }, () => acceptMine(me.token, inv.id)),
      ...Array.from({ length: 10 }, () => call('POST', '/v1/invitations/accept', { body: { token } })),
    ]);
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s !== 200).every((s) => s === 410)).toBe(true);
    expect(await countRows('memberships', `organization_id = '${org.id}' AND user_id = '${me.user.id}'`)).toBe(1);
    expect(await countRows('audit_events', `action = 'invitation.accepted' AND target_id = '${inv.id}'`)).toBe(1);
  });

  it("someone else's invitation is 404 (as an unknown one) and stays pending; a dead one of yours is 410", async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Not Yours Co');
    const me = await signUp(uniqueEmail('nosy'), 'Nora Nosy');
    const theirs = (await invite(owner.token, org.id, { email: uniqueEmail('them'), role: 'admin' })).json;
    for (const act of [acceptMine, declineMine]) {
      const res = await act(me.token, theirs.id);
      expect(res.status).toBe(404);
      expect(res.json.code).toBe('not_found');
      const unknown = await act(me.token, 'inv_doesnotexist0000000');
      expect([unknown.status, unknown.json.code]).toEqual([404, 'not_found']);
      // Without a credential: 401, before anything is looked up.
      expect((await act(undefined, theirs.id)).status).toBe(401);
    }
    expect((await invitation(org.id, theirs.id, owner.token)).json.status).toBe('pending');
    expect(await countRows('memberships', `organization_id = '${org.id}' AND user_id = '${me.user.id}'`)).toBe(0);

    const mine = (await invite(owner.token, org.id, { email: me.email, role: 'viewer' })).json;
    await setExpiresAt(mine.id, Date.now() - 1000);
    const late = await acceptMine(me.token, mine.id);
    expect([late.status, late.json.code]).toEqual([410, 'invitation_invalid']);
    expect((await declineMine(me.token, mine.id)).status).toBe(410);
  });

  it('declining from the inbox: declined at once, the link dead, the inviter emailed', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Inbox Decline Co');
    const me = await signUp(uniqueEmail('nope'), 'Noel Nope');
    const inv = (await invite(owner.token, org.id, { email: me.email, role: 'viewer' })).json;
    const token = await lastToken(me.email);
    const res = await declineMine(me.token, inv.id);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ declined: true });
    expect((await invitation(org.id, inv.id, owner.token)).json.status).toBe('declined');
    expect((await call('POST', '/v1/invitations/accept', { body: { token } })).status).toBe(410);
    expect((await declineMine(me.token, inv.id)).status).toBe(410);
    expect(
      await countRows(
        'outbox',
        `kind = 'invitation_declined_email' AND subject_id = '${inv.id}' AND token_id = '${owner.user.id}'`,
      ),
    ).toBe(1);
    const actor = await env.DB.prepare(
      "SELECT actor_id FROM audit_events WHERE action = 'invitation.declined' AND target_id = ?",
    )
      .bind(inv.id)
      .first();
    expect(actor).toEqual({ actor_id: me.user.id });
    expect((await inbox(me.token)).json.data).toEqual([]);
  });
});
