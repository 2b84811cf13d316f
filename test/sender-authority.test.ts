import { describe, it } from 'vitest';
import { addMember, call, invite, lastToken, ownerWithOrg, uniqueEmail } from './helpers';
import { auditOf, row } from './hardening-helpers';

/*
 * SPEC §14, hardening part two: one test (at least) per rule, and the security reviewer's
 * scenarios replayed as they were reported.
 * This file: a sender's pending invitations are revoked when they are removed, demoted or leave.
 */

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
