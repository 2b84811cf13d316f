import { env } from 'cloudflare:workers';
import { drizzle } from 'drizzle-orm/d1';
import { describe, it } from 'vitest';
import { createInvitation } from '../src/invitations/create.service';
import { call, countRows, invite, ownerWithOrg, roomyQuota, uniqueEmail } from './helpers';

describe('rule 3: at most 10 pending invitations, under any concurrency', () => {
  it('50 simultaneous creates against one organization with 0 pending produce exactly 10', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Concurrent Co');
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        invite(owner.token, org.id, { email: `burst${i}@example.com`, role: 'viewer' }),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(10);
    expect(statuses.filter((s) => s === 409)).toHaveLength(40);
    for (const r of results.filter((r) => r.status === 409)) expect(r.json.code).toBe('pending_invitation_limit');
    expect(await countRows('invitations', `organization_id = '${org.id}'`)).toBe(10);
    const summary = await call('GET', `/v1/organizations/${org.slug}`, { token: owner.token });
    expect(summary.json).toMatchObject({ pending_invitations: 10, pending_invitation_limit: 10 });
  });

  it('the 11th sequential invitation gets 409 pending_invitation_limit', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Sequential Co');
    for (let i = 0; i < 10; i++)
      expect((await invite(owner.token, org.id, { email: uniqueEmail(), role: 'viewer' })).status).toBe(201);
    const eleventh = await invite(owner.token, org.id, { email: uniqueEmail(), role: 'viewer' });
    expect(eleventh.status).toBe(409);
    expect(eleventh.json.code).toBe('pending_invitation_limit');
    expect(eleventh.headers.get('content-type')).toBe('application/problem+json');
  });

  it('the guarded INSERT alone (no Durable Object queue) still admits exactly 10 of 30 concurrent creates', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('No Queue Co');
    const db = drizzle(env.DB);
    const outcomes = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        createInvitation(
          {
            db,
            organizationId: org.id,
            actor: { userId: owner.user.id, ip: null, userAgent: null },
            now: Date.now(),
            quota: roomyQuota(),
          },
          { email: `raw${i}@example.com`, role: 'viewer', expiresInDays: 7 },
        ),
      ),
    );
    expect(outcomes.filter((o) => o.ok)).toHaveLength(10);
    expect(await countRows('invitations', `organization_id = '${org.id}' AND status = 'pending'`)).toBe(10);
  });

  it('accepted and revoked invitations free their slot', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Slots Co');
    const ids: string[] = [];
    for (let i = 0; i < 10; i++)
      ids.push((await invite(owner.token, org.id, { email: uniqueEmail(), role: 'viewer' })).json.id);
    expect(
      (await call('POST', `/v1/organizations/${org.id}/invitations/${ids[0]}/revoke`, { token: owner.token })).status,
    ).toBe(200);
    expect((await invite(owner.token, org.id, { email: uniqueEmail(), role: 'viewer' })).status).toBe(201);
    expect((await invite(owner.token, org.id, { email: uniqueEmail(), role: 'viewer' })).json.code).toBe(
      'pending_invitation_limit',
    );
  });
});
