import { describe, it } from 'vitest';
import { call, invite, lastToken, mailsTo, ownerWithOrg, setLastSentAt, uniqueEmail } from './helpers';

const path = (org: string, id: string, action = '') => `/v1/organizations/${org}/invitations/${id}${action}`;

describe('rule 7: resend', () => {
  it('issues a new link: the old one is invalid at once and the new one works', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Resend Co');
    const email = uniqueEmail();
    const inv = (await invite(owner.token, org.id, { email, role: 'viewer' })).json;
    const oldToken = await lastToken(email);
    await setLastSentAt(inv.id, Date.now() - 61_000);
    const resent = await call('POST', path(org.id, inv.id, '/resend'), { token: owner.token });
    expect(resent.status).toBe(200);
    expect(resent.json.send_count).toBe(2);
    expect(mailsTo(email)).toHaveLength(2);
    const newToken = await lastToken(email);
    expect(newToken).not.toBe(oldToken);

    expect((await call('GET', `/v1/invitations/preview?token=${oldToken}`)).status).toBe(410);
    expect((await call('POST', '/v1/invitations/accept', { body: { token: oldToken, name: 'Old' } })).status).toBe(410);
    const ok = await call('POST', '/v1/invitations/accept', { body: { token: newToken, name: 'New' } });
    expect(ok.status).toBe(200);
  });

  it('within 60 seconds of the last send gets 429 resend_cooldown with Retry-After', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Cooldown Co');
    const inv = (await invite(owner.token, org.id, { email: uniqueEmail(), role: 'viewer' })).json;
    const res = await call('POST', path(org.id, inv.id, '/resend'), { token: owner.token });
    expect(res.status).toBe(429);
    expect(res.json.code).toBe('resend_cooldown');
    const retryAfter = Number(res.headers.get('Retry-After'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
  });

  it('accepted and revoked invitations cannot be resent (409 invalid_state)', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('States Co');
    const email = uniqueEmail();
    const accepted = (await invite(owner.token, org.id, { email, role: 'viewer' })).json;
    await call('POST', '/v1/invitations/accept', { body: { token: await lastToken(email), name: 'A' } });
    const revoked = (await invite(owner.token, org.id, { email: uniqueEmail(), role: 'viewer' })).json;
    await call('POST', path(org.id, revoked.id, '/revoke'), { token: owner.token });
    for (const id of [accepted.id, revoked.id]) {
      await setLastSentAt(id, Date.now() - 120_000);
      const res = await call('POST', path(org.id, id, '/resend'), { token: owner.token });
      expect(res.status).toBe(409);
      expect(res.json.code).toBe('invalid_state');
    }
  });
});

describe('rule 8: revoke', () => {
  it('is permanent: the link dies at once and nothing restores it', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Revoke Co');
    const email = uniqueEmail();
    const inv = (await invite(owner.token, org.id, { email, role: 'viewer' })).json;
    const token = await lastToken(email);
    const revoked = await call('POST', path(org.id, inv.id, '/revoke'), { token: owner.token });
    expect(revoked.status).toBe(200);
    expect(revoked.json.status).toBe('revoked');
    expect(revoked.json.revoked_at).not.toBeNull();
    expect((await call('GET', `/v1/invitations/preview?token=${token}`)).status).toBe(410);
    expect((await call('POST', path(org.id, inv.id, '/revoke'), { token: owner.token })).json.code).toBe(
      'invalid_state',
    );
    await setLastSentAt(inv.id, Date.now() - 120_000);
    expect((await call('POST', path(org.id, inv.id, '/resend'), { token: owner.token })).json.code).toBe(
      'invalid_state',
    );
    expect((await call('PATCH', path(org.id, inv.id), { token: owner.token, body: { role: 'admin' } })).json.code).toBe(
      'invalid_state',
    );
    expect((await call('POST', '/v1/invitations/accept', { body: { token, name: 'X' } })).status).toBe(410);
  });

  it('only works on pending invitations', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Revoke Accepted Co');
    const email = uniqueEmail();
    const inv = (await invite(owner.token, org.id, { email, role: 'viewer' })).json;
    await call('POST', '/v1/invitations/accept', { body: { token: await lastToken(email), name: 'A' } });
    const res = await call('POST', path(org.id, inv.id, '/revoke'), { token: owner.token });
    expect(res.status).toBe(409);
    expect(res.json.code).toBe('invalid_state');
  });
});

describe('rule 9: edit role', () => {
  it('changes a pending invitation role without resending', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Edit Co');
    const email = uniqueEmail();
    const inv = (await invite(owner.token, org.id, { email, role: 'viewer' })).json;
    const res = await call('PATCH', path(org.id, inv.id), { token: owner.token, body: { role: 'admin' } });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ role: 'admin', send_count: 1 });
    expect(mailsTo(email)).toHaveLength(1);
    const accepted = await call('POST', '/v1/invitations/accept', {
      body: { token: await lastToken(email), name: 'E' },
    });
    expect(accepted.json.role).toBe('admin');
  });
});
