import { env } from 'cloudflare:workers';
import { describe, it } from 'vitest';
import { runExpirySweep } from '../src/cron';
import { drizzle } from 'drizzle-orm/d1';
import { call, invite, lastToken, mailsTo, ownerWithOrg, setExpiresAt, setLastSentAt, uniqueEmail } from './helpers';

/* From review: resending an expired invitation beside an expired, not yet swept one to the same address. */

describe('fixes from review', () => {
  it('resending an expired invitation works while an older one to the same email is expired but not yet swept', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Stale Slot Co');
    const email = uniqueEmail('slot');
    const b = (await invite(owner.token, org.id, { email, role: 'viewer' })).json;
    await setExpiresAt(b.id, Date.now() - 10);
    await runExpirySweep(drizzle(env.DB), Date.now());
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
