import { describe, it } from 'vitest';
import { addMember, call, ownerWithOrg } from './helpers';

describe('members', () => {
  it('lists members with role and join time; any member can read it', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Members Co');
    const viewer = await addMember(owner.token, org.id, 'viewer');
    const res = await call('GET', `/v1/organizations/${org.slug}/members`, { token: viewer.token });
    expect(res.status).toBe(200);
    expect(res.json.data).toHaveLength(2);
    expect(res.json.data[0]).toMatchObject({
      user_id: owner.user.id,
      email: owner.email,
      name: 'Olivia Owner',
      role: 'owner',
    });
    expect(res.json.data[1]).toMatchObject({ user_id: viewer.user.id, role: 'viewer' });
    expect(Date.parse(res.json.data[1].joined_at)).toBeGreaterThan(0);
  });

  it('an owner changes a role; unknown members are 404', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Roles Co');
    const dev = await addMember(owner.token, org.id, 'developer');
    const res = await call('PATCH', `/v1/organizations/${org.id}/members/${dev.user.id}`, {
      token: owner.token,
      body: { role: 'admin' },
    });
    expect(res.status).toBe(200);
    expect(res.json.role).toBe('admin');
    const missing = await call('PATCH', `/v1/organizations/${org.id}/members/usr_nobody`, {
      token: owner.token,
      body: { role: 'admin' },
    });
    expect(missing.status).toBe(404);
  });
});
