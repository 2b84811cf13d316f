import { describe, it } from 'vitest';
import { DAY_MS } from '../src/lib/time';
import { call, invite, lastToken, ownerWithOrg, setExpiresAt, setLastSentAt, uniqueEmail } from './helpers';

describe('rule 5: expired at once, everywhere, without any job', () => {
  it('counts, lists, filters, preview and accept all see expired as soon as expires_at passes', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Expiry Co');
    const email = uniqueEmail();
    const created = await invite(owner.token, org.id, { email, role: 'developer' });
    const token = await lastToken(email);
    expect((await call('GET', `/v1/organizations/${org.id}`, { token: owner.token })).json.pending_invitations).toBe(1);

    await setExpiresAt(created.json.id, Date.now() - 1000);

    expect((await call('GET', `/v1/organizations/${org.id}`, { token: owner.token })).json.pending_invitations).toBe(0);
    const one = await call('GET', `/v1/organizations/${org.id}/invitations/${created.json.id}`, { token: owner.token });
    expect(one.json.status).toBe('expired');
    const pending = await call('GET', `/v1/organizations/${org.id}/invitations?status=pending`, { token: owner.token });
    expect(pending.json.data).toHaveLength(0);
    const expired = await call('GET', `/v1/organizations/${org.id}/invitations?status=expired`, { token: owner.token });
    expect(expired.json.data.map((i: { id: string }) => i.id)).toEqual([created.json.id]);

    const preview = await call('GET', `/v1/invitations/preview?token=${token}`);
    expect(preview.status).toBe(410);
    expect(preview.json.code).toBe('invitation_invalid');
    const accept = await call('POST', '/v1/invitations/accept', { body: { token, name: 'Late' } });
    expect(accept.status).toBe(410);
  });

  it('expires_in_days defaults to 7 and sets expires_at = sent_at + days', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Days Co');
    const dflt = await invite(owner.token, org.id, { email: uniqueEmail(), role: 'viewer' });
    expect(dflt.json.expires_in_days).toBe(7);
    expect(Date.parse(dflt.json.expires_at) - Date.parse(dflt.json.last_sent_at)).toBe(7 * DAY_MS);
    const thirty = await invite(owner.token, org.id, { email: uniqueEmail(), role: 'viewer', expires_in_days: 30 });
    expect(Date.parse(thirty.json.expires_at) - Date.parse(thirty.json.last_sent_at)).toBe(30 * DAY_MS);
  });

  it('a new invitation to the same email is allowed once the old one expired', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Again Co');
    const email = uniqueEmail();
    const first = await invite(owner.token, org.id, { email, role: 'viewer' });
    expect((await invite(owner.token, org.id, { email, role: 'viewer' })).json.code).toBe('invitation_already_pending');
    await setExpiresAt(first.json.id, Date.now() - 1);
    const second = await invite(owner.token, org.id, { email, role: 'admin' });
    expect(second.status).toBe(201);
    const old = await call('GET', `/v1/organizations/${org.id}/invitations/${first.json.id}`, { token: owner.token });
    expect(old.json.status).toBe('expired');
  });

  it('resend revives an expired invitation only if the limit allows', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Revive Co');
    const stale = await invite(owner.token, org.id, { email: uniqueEmail(), role: 'viewer' });
    await setExpiresAt(stale.json.id, Date.now() - 1);
    await setLastSentAt(stale.json.id, Date.now() - 120_000);
    for (let i = 0; i < 10; i++)
      expect((await invite(owner.token, org.id, { email: uniqueEmail(), role: 'viewer' })).status).toBe(201);
    const refused = await call('POST', `/v1/organizations/${org.id}/invitations/${stale.json.id}/resend`, {
      token: owner.token,
    });
    expect(refused.status).toBe(409);
    expect(refused.json.code).toBe('pending_invitation_limit');

    const victim = (
      await call('GET', `/v1/organizations/${org.id}/invitations?status=pending&limit=1`, { token: owner.token })
    ).json.data[0];
    await call('POST', `/v1/organizations/${org.id}/invitations/${victim.id}/revoke`, { token: owner.token });
    const revived = await call('POST', `/v1/organizations/${org.id}/invitations/${stale.json.id}/resend`, {
      token: owner.token,
      body: { expires_in_days: 3 },
    });
    expect(revived.status).toBe(200);
    expect(revived.json).toMatchObject({ status: 'pending', expires_in_days: 3, send_count: 2 });
    expect((await call('GET', `/v1/organizations/${org.id}`, { token: owner.token })).json.pending_invitations).toBe(
      10,
    );
  });
});
