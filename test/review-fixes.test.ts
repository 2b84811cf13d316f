import { env, exports } from 'cloudflare:workers';
import { describe, it } from 'vitest';
import { safeNext } from '../src/pages/pages.middleware';
import { runExpirySweep } from '../src/cron';
import { drizzle } from 'drizzle-orm/d1';
import * as schema from '../src/db/schema';
import {
  BASE,
  call,
  invite,
  lastToken,
  mailsTo,
  ownerWithOrg,
  setExpiresAt,
  setLastSentAt,
  uniqueEmail,
} from './helpers';

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

  it('sign-out only redirects to paths on this site', ({ expect }) => {
    const app = 'http://127.0.0.1:8787';
    expect(safeNext(app, '/invitations/accept?token=abc')).toBe('/invitations/accept?token=abc');
    for (const bad of [
      '//evil.example/x',
      '/\\evil.example/x',
      '/\t/evil.example/x',
      'https://evil.example',
      '/\u0000x',
      undefined,
    ]) {
      expect(safeNext(app, bad), JSON.stringify(bad)).toBeNull();
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

  it('resending an expired invitation works while an older one to the same email is expired but not yet swept', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Stale Slot Co');
    const email = uniqueEmail('slot');
    const b = (await invite(owner.token, org.id, { email, role: 'viewer' })).json;
    await setExpiresAt(b.id, Date.now() - 10);
    await runExpirySweep(drizzle(env.DB, { schema }), Date.now());
    const a = (await invite(owner.token, org.id, { email, role: 'viewer' })).json;
    await setExpiresAt(a.id, Date.now() - 5);
    await setLastSentAt(b.id, Date.now() - 120_000);
    const res = await call('POST', `/v1/organizations/${org.id}/invitations/${b.id}/resend`, { token: owner.token });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(res.json.status).toBe('pending');
    const stored = await env.DB.prepare('SELECT status FROM invitations WHERE id = ?')
      .bind(a.id)
      .first<{ status: string }>();
    expect(stored?.status).toBe('expired');
    expect(mailsTo(email).length).toBe(3);
    expect((await call('GET', `/v1/invitations/preview?token=${await lastToken(email)}`)).status).toBe(200);
  });
});
