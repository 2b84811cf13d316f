import { exports } from 'cloudflare:workers';
import { describe, it } from 'vitest';
import { BASE, call, invite, ownerWithOrg, uniqueEmail } from './helpers';

/* From review: forms without a valid CSRF token, and cookies on cross-site API writes, are refused. */

describe('fixes from review', () => {
  it('a malformed multipart form is refused (403), never a 500', async ({ expect }) => {
    for (const path of ['/sign-in', '/invitations/accept', '/sign-out']) {
      const res = await exports.default.fetch(
        new Request(`${BASE}${path}`, {
          method: 'POST',
          headers: { 'Content-Type': 'multipart/form-data' },
          body: 'garbage',
        }),
      );
      expect(res.status, path).toBe(403);
    }
  });

  it('the session cookie does not authorize a cross-site API write', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Cookie Co');
    const inv = (await invite(owner.token, org.id, { email: uniqueEmail(), role: 'viewer' })).json;
    const revoke = (headers: Record<string, string>) =>
      call('POST', `/v1/organizations/${org.id}/invitations/${inv.id}/revoke`, {
        headers: { Cookie: `8b_session=${owner.token}`, ...headers },
      });
    expect((await revoke({ Origin: 'https://evil.example', 'Sec-Fetch-Site': 'cross-site' })).status).toBe(401);
    expect((await revoke({})).status).toBe(401);
    expect(
      (await call('GET', `/v1/organizations/${org.id}/invitations/${inv.id}`, { token: owner.token })).json.status,
    ).toBe('pending');
    expect((await revoke({ 'Sec-Fetch-Site': 'same-origin' })).status).toBe(200);
  });
});
