import { env } from 'cloudflare:workers';
import { describe, it } from 'vitest';
import { runInDurableObject } from 'cloudflare:test';
import { EDGE_LIMITS, LIMITS, limitFor } from '../src/rate-limit/rate-limit';
import { coordinatorFor } from '../src/lib/coordinator';
import { RATE_PREFIX } from '../src/rate-limit/email-quota';
import { call, fetchWithEnv, invite, lastToken, ownerWithOrg, signUp, uniqueEmail } from './helpers';

const fromIp = (ip: string) => ({ 'CF-Connecting-IP': ip });

describe('rate limits', () => {
  it('RATE_LIMIT_SCALE multiplies every limit; a bad value means 1', ({ expect }) => {
    expect(limitFor({ RATE_LIMIT_SCALE: '2' }, 'signInPerEmail')).toEqual({ max: 10, windowMs: 15 * 60_000 });
    expect(limitFor({ RATE_LIMIT_SCALE: 'lots' }, 'signInPerEmail').max).toBe(LIMITS.signInPerEmail.max);
    expect(limitFor({}, 'invitationEmailsPerOrg').max).toBe(50);
  });

  it('sign-in links: 5 per address per 15 minutes from one network, the same answer whether or not the account exists', async ({
    expect,
  }) => {
    const known = await signUp(uniqueEmail('known'));
    const unknown = uniqueEmail('unknown');
    // SPEC §18 amends the budget: it counts per (address, network), so every request here comes from
    // one network (signUp's link came from another). The sixth passes the edge's own 5 per minute
    // per IP (a permissive limiter), so the refusal is the per-address budget's.
    const edgeAllows = { ...env, SIGN_IN_IP_LIMITER: { limit: async () => ({ success: true }) } } as Env;
    for (const [n, email] of [known.email, unknown].entries()) {
      const network = fromIp(`203.0.113.${60 + n}`);
      for (let i = 0; i < LIMITS.signInPerEmail.max; i++)
        expect((await call('POST', '/v1/auth/email-link', { body: { email }, headers: network })).status).toBe(202);
      const res = await fetchWithEnv(
        '/v1/auth/email-link',
        {
          method: 'POST',
          headers: { ...network, 'Content-Type': 'application/json' },
          body: JSON.stringify({ email }),
        },
        edgeAllows,
      );
      const refused = { status: res.status, headers: res.headers, json: (await res.json()) as { code: string } };
      expect(refused.status).toBe(429);
      expect(refused.json.code).toBe('rate_limited');
      expect(Number(refused.headers.get('Retry-After'))).toBeGreaterThan(0);
    }
  });

  it('sign-in links: 5 per IP per minute, counted at the edge by the Rate Limiting binding', async ({ expect }) => {
    const statuses = [];
    for (let i = 0; i <= EDGE_LIMITS.signInPerIp.max; i++) {
      statuses.push(
        (
          await call('POST', '/v1/auth/email-link', {
            body: { email: uniqueEmail('ip') },
            headers: fromIp('203.0.113.7'),
          })
        ).status,
      );
    }
    expect(statuses.slice(0, -1).every((s) => s === 202)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
    const refused = await call('POST', '/v1/auth/email-link', {
      body: { email: uniqueEmail('ip') },
      headers: fromIp('203.0.113.7'),
    });
    expect(refused.json.code).toBe('rate_limited');
    expect(refused.headers.get('Retry-After')).toBe(String(EDGE_LIMITS.signInPerIp.periodSeconds));
    // Another IP is unaffected.
    expect(
      (
        await call('POST', '/v1/auth/email-link', {
          body: { email: uniqueEmail('ip') },
          headers: fromIp('203.0.113.8'),
        })
      ).status,
    ).toBe(202);
  });

  it('acceptance attempts: 20 per IP per minute at the edge, counting previews and accepts (API and page)', async ({
    expect,
  }) => {
    const ip = fromIp('198.51.100.4');
    for (let i = 0; i < EDGE_LIMITS.acceptPerIp.max; i++) {
      const res = await call('GET', `/v1/invitations/preview?token=guess${i}`, { headers: ip });
      expect(res.status).toBe(410);
    }
    const refused = await call('POST', '/v1/invitations/accept', { body: { token: 'guess' }, headers: ip });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('Retry-After')).toBe(String(EDGE_LIMITS.acceptPerIp.periodSeconds));
    const page = await call('GET', '/invitations/accept?token=guess', { headers: ip });
    expect(page.status).toBe(429);
  });

  it('a preview, the acceptance page and a refused accept write nothing to D1 (the per-IP count lives at the edge)', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg();
    const email = uniqueEmail('quiet');
    await invite(owner.token, org.id, { email, role: 'viewer' });
    const token = await lastToken(email);
    const snapshot = async () => {
      const tables = (
        await env.DB.prepare(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name != 'd1_migrations'",
        ).all<{ name: string }>()
      ).results;
      const rows = await env.DB.batch(tables.map((t) => env.DB.prepare(`SELECT * FROM "${t.name}" ORDER BY rowid`)));
      return JSON.stringify(rows.map((r) => r.results));
    };
    const before = await snapshot();
    expect((await call('GET', `/v1/invitations/preview?token=${token}`)).status).toBe(200);
    expect((await call('GET', `/invitations/accept?token=${token}`)).status).toBe(200);
    expect((await call('POST', '/v1/invitations/accept', { body: { token: 'not-a-token' } })).status).toBe(410);
    expect(await snapshot()).toBe(before);
  });

  it('invitation emails: 50 per organization per hour, creates and resends alike', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Busy Co');
    const window = Date.now() - (Date.now() % LIMITS.invitationEmailsPerOrg.windowMs);
    // 49 sends already this hour (seeded into the coordinator's counter rather than sent).
    await runInDurableObject(coordinatorFor(env, org.id), (_i, state) =>
      state.storage.put(`${RATE_PREFIX}${window}`, 49),
    );
    const fiftieth = await invite(owner.token, org.id, { email: uniqueEmail(), role: 'viewer' });
    expect(fiftieth.status).toBe(201);
    const refused = await invite(owner.token, org.id, { email: uniqueEmail(), role: 'viewer' });
    expect(refused.status).toBe(429);
    expect(refused.json.code).toBe('rate_limited');
    expect(Number(refused.headers.get('Retry-After'))).toBeGreaterThan(0);
    await env.DB.prepare('UPDATE invitations SET last_sent_at = last_sent_at - 120000 WHERE id = ?')
      .bind(fiftieth.json.id)
      .run();
    expect(
      (await call('POST', `/v1/organizations/${org.id}/invitations/${fiftieth.json.id}/resend`, { token: owner.token }))
        .status,
    ).toBe(429);
    // The refused requests changed nothing else: the one invitation is still usable.
    const token = await lastToken(fiftieth.json.email);
    expect((await call('GET', `/v1/invitations/preview?token=${token}`)).status).toBe(200);
  });
});
