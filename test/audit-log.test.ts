import { env } from 'cloudflare:workers';
import { drizzle } from 'drizzle-orm/d1';
import { describe, it } from 'vitest';
import { runExpirySweep } from '../src/cron';
import {
  addMember,
  call,
  invite,
  lastToken,
  ownerWithOrg,
  setExpiresAt,
  setLastSentAt,
  signUp,
  uniqueEmail,
} from './helpers';

describe('GET /v1/organizations/{org}/audit-log', () => {
  it('records every invitation and membership change with actor, time, IP and user agent, and never a token', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Audit Co');
    const headers = { 'CF-Connecting-IP': '192.0.2.10', 'User-Agent': 'audit-test/1.0' };
    const email = uniqueEmail('a');
    const inv = (
      await call('POST', `/v1/organizations/${org.id}/invitations`, {
        token: owner.token,
        body: { email, role: 'viewer' },
        headers,
      })
    ).json;
    await call('PATCH', `/v1/organizations/${org.id}/invitations/${inv.id}`, {
      token: owner.token,
      body: { role: 'developer' },
      headers,
    });
    await setLastSentAt(inv.id, Date.now() - 120_000);
    await call('POST', `/v1/organizations/${org.id}/invitations/${inv.id}/resend`, { token: owner.token, headers });
    const token = await lastToken(email);
    const joined = await call('POST', '/v1/invitations/accept', { body: { token, name: 'Aud Itee' }, headers });
    await call('PATCH', `/v1/organizations/${org.id}/members/${joined.json.user.id}`, {
      token: owner.token,
      body: { role: 'billing' },
      headers,
    });
    await call('DELETE', `/v1/organizations/${org.id}/members/${joined.json.user.id}`, { token: owner.token, headers });
    const revoked = (await invite(owner.token, org.id, { email: uniqueEmail('r'), role: 'viewer' })).json;
    await call('POST', `/v1/organizations/${org.id}/invitations/${revoked.id}/revoke`, { token: owner.token, headers });
    const stale = (await invite(owner.token, org.id, { email: uniqueEmail('s'), role: 'viewer' })).json;
    await setExpiresAt(stale.id, Date.now() - 1);
    await runExpirySweep(drizzle(env.DB), Date.now());

    const res = await call('GET', `/v1/organizations/${org.id}/audit-log?limit=100`, { token: owner.token });
    expect(res.status).toBe(200);
    const actions = res.json.data.map((e: { action: string }) => e.action);
    for (const action of [
      'organization.created',
      'invitation.created',
      'invitation.role_changed',
      'invitation.resent',
      'invitation.accepted',
      'member.role_changed',
      'member.removed',
      'invitation.revoked',
      'invitation.expired',
    ]) {
      expect(actions, action).toContain(action);
    }
    const created = res.json.data.find(
      (e: { action: string; target: { id: string } }) => e.action === 'invitation.created' && e.target.id === inv.id,
    );
    expect(created).toMatchObject({
      actor: { type: 'user', user_id: owner.user.id },
      ip: '192.0.2.10',
      user_agent: 'audit-test/1.0',
      data: { email, role: 'viewer' },
    });
    const accepted = res.json.data.find((e: { action: string }) => e.action === 'invitation.accepted');
    expect(accepted.actor).toEqual({ type: 'user', user_id: joined.json.user.id });
    const expired = res.json.data.find((e: { action: string }) => e.action === 'invitation.expired');
    expect(expired.actor).toEqual({ type: 'system', user_id: null });
    expect(res.text).not.toContain(token);
    expect(res.text).not.toMatch(/eyJ[\w-]+\.eyJ/);
    // Newest first.
    const times = res.json.data.map((e: { created_at: string }) => Date.parse(e.created_at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
  });

  it('paginates with a cursor, and only owners and admins may read it', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Audit Pages Co');
    for (let i = 0; i < 4; i++) await invite(owner.token, org.id, { email: uniqueEmail('p'), role: 'viewer' });
    const first = await call('GET', `/v1/organizations/${org.id}/audit-log?limit=2`, { token: owner.token });
    expect(first.json.data).toHaveLength(2);
    const second = await call('GET', `/v1/organizations/${org.id}/audit-log?limit=2&cursor=${first.json.next_cursor}`, {
      token: owner.token,
    });
    expect(second.json.data).toHaveLength(2);
    const third = await call('GET', `/v1/organizations/${org.id}/audit-log?limit=2&cursor=${second.json.next_cursor}`, {
      token: owner.token,
    });
    expect(third.json.data).toHaveLength(1);
    expect(third.json.next_cursor).toBeNull();
    const ids = [...first.json.data, ...second.json.data, ...third.json.data].map((e: { id: string }) => e.id);
    expect(new Set(ids).size).toBe(5);

    const viewer = await addMember(owner.token, org.id, 'viewer');
    expect((await call('GET', `/v1/organizations/${org.id}/audit-log`, { token: viewer.token })).status).toBe(403);
    const outsider = await signUp(uniqueEmail('o'));
    expect((await call('GET', `/v1/organizations/${org.id}/audit-log`, { token: outsider.token })).status).toBe(404);
  });
});
