import { describe, it } from 'vitest';
import { call, ownerWithOrg, uniqueEmail } from './helpers';

/* From review: an Idempotency-Key replay returns the first response. */

describe('fixes from review', () => {
  it('an idempotent replay returns the first response, even after the invitation changed', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Replay Co');
    const body = { email: uniqueEmail(), role: 'viewer' };
    const headers = { 'Idempotency-Key': 'replay-1' };
    const first = await call('POST', `/v1/organizations/${org.id}/invitations`, { token: owner.token, body, headers });
    await call('POST', `/v1/organizations/${org.id}/invitations/${first.json.id}/revoke`, { token: owner.token });
    const replay = await call('POST', `/v1/organizations/${org.id}/invitations`, { token: owner.token, body, headers });
    expect(replay.status).toBe(201);
    expect(replay.headers.get('Idempotent-Replayed')).toBe('true');
    expect(replay.json).toEqual(first.json);
  });
});
