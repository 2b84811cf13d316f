import { env } from 'cloudflare:workers';
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { describe, it, vi } from 'vitest';
import worker from '../src/index';
import { LIMITS } from '../src/rate-limit/rate-limit';
import { OWNED_ORGANIZATIONS_LIMIT } from '../src/lib/limits';
import { addMember, call, countRows, createOrg, invite, lastToken, ownerWithOrg, signUp, uniqueEmail } from './helpers';
import { row } from './hardening-helpers';

/*
 * SPEC §14, hardening part two: one test (at least) per rule, and the security reviewer's
 * scenarios replayed as they were reported.
 * This file: organization creation and invitation emails are limited so the service is no spam relay.
 */

describe('§14 no relay for spam', () => {
  it('reviewer: 11 organizations created back to back by one account: the 11th is 429 with Retry-After', async ({
    expect,
  }) => {
    const user = await signUp(uniqueEmail('spammer'));
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++)
      statuses.push(
        (await call('POST', '/v1/organizations', { token: user.token, body: { name: `Relay ${i}` } })).status,
      );
    expect(statuses).toEqual([...Array(10).fill(201), 429]);
    const refused = await call('POST', '/v1/organizations', { token: user.token, body: { name: 'Relay 12' } });
    expect(refused.json.code).toBe('rate_limited');
    expect(Number(refused.headers.get('Retry-After'))).toBeGreaterThan(0);
    expect(await countRows('memberships', `user_id = '${user.user.id}'`)).toBe(10);
  });

  it('organization creation per IP: 20 a day across accounts', async ({ expect }) => {
    const ip = { 'CF-Connecting-IP': '203.0.113.90' };
    const accounts = [
      await signUp(uniqueEmail('ipa')),
      await signUp(uniqueEmail('ipb')),
      await signUp(uniqueEmail('ipc')),
    ];
    const statuses: number[] = [];
    for (let i = 0; i <= LIMITS.orgCreationPerIp.max; i++) {
      const who = accounts[Math.floor(i / 9)];
      statuses.push(
        (await call('POST', '/v1/organizations', { token: who.token, body: { name: `IP ${i}` }, headers: ip })).status,
      );
    }
    expect(statuses.slice(0, -1).every((s) => s === 201)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
    // From another address, the same account can go on.
    expect(
      (await call('POST', '/v1/organizations', { token: accounts[2].token, body: { name: 'Elsewhere' } })).status,
    ).toBe(201);
  });

  it(`an account owns at most ${OWNED_ORGANIZATIONS_LIMIT} organizations: 409 organization_limit, nothing written`, async ({
    expect,
  }) => {
    const user = await signUp(uniqueEmail('collector'));
    const now = Date.now();
    const stmts = [];
    for (let i = 0; i < OWNED_ORGANIZATIONS_LIMIT; i++) {
      const id = `org_seed${user.user.id.slice(4, 14)}${String(i).padStart(2, '0')}`;
      stmts.push(
        env.DB.prepare(
          'INSERT INTO organizations (id, name, slug, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
        ).bind(id, `Seed ${i}`, `seed-${id}`, now, now),
      );
      stmts.push(
        env.DB.prepare("INSERT INTO memberships VALUES (?, ?, 'owner', ?, ?)").bind(id, user.user.id, now, now),
      );
    }
    await env.DB.batch(stmts);
    const orgsBefore = await countRows('organizations');
    const res = await call('POST', '/v1/organizations', { token: user.token, body: { name: 'One Too Many' } });
    expect(res.status).toBe(409);
    expect(res.json.code).toBe('organization_limit');
    expect(await countRows('organizations')).toBe(orgsBefore);
  });

  it('the owned-organization cap also holds for a promotion and for accepting an owner invitation', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg();
    const member = await addMember(owner.token, org.id, 'developer');
    const collector = await signUp(uniqueEmail('owner-invitee'));
    const now = Date.now();
    const stmts = [];
    for (const who of [member.user.id, collector.user.id]) {
      for (let i = 0; i < OWNED_ORGANIZATIONS_LIMIT; i++) {
        const id = `org_cap${who.slice(4, 12)}${String(i).padStart(2, '0')}`;
        stmts.push(
          env.DB.prepare(
            'INSERT INTO organizations (id, name, slug, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
          ).bind(id, `Cap ${i}`, `cap-${id}`, now, now),
        );
        stmts.push(env.DB.prepare("INSERT INTO memberships VALUES (?, ?, 'owner', ?, ?)").bind(id, who, now, now));
      }
    }
    await env.DB.batch(stmts);
    const promote = await call('PATCH', `/v1/organizations/${org.id}/members/${member.user.id}`, {
      token: owner.token,
      body: { role: 'owner' },
    });
    expect(promote.status).toBe(409);
    expect(promote.json.code).toBe('organization_limit');
    expect(
      (await row<{ role: string }>(
        'SELECT role FROM memberships WHERE organization_id = ? AND user_id = ?',
        org.id,
        member.user.id,
      ))!.role,
    ).toBe('developer');

    const inv = (await invite(owner.token, org.id, { email: collector.email, role: 'owner' })).json;
    const accept = await call('POST', '/v1/invitations/accept', {
      token: collector.token,
      body: { token: await lastToken(collector.email) },
    });
    expect(accept.status).toBe(409);
    expect(accept.json.code).toBe('organization_limit');
    expect((await row<{ status: string }>('SELECT status FROM invitations WHERE id = ?', inv.id))!.status).toBe(
      'pending',
    );
  });

  it('invitation emails per account: 100 an hour across all its organizations', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Account Limit A');
    const other = await createOrg(owner.token, 'Account Limit B');
    const window = Date.now() - (Date.now() % LIMITS.invitationEmailsPerAccount.windowMs);
    // 99 sends this hour, counted in D1 (seeded rather than sent).
    await env.DB.prepare('INSERT INTO rate_limits VALUES (?, ?, 99)')
      .bind(`invitation-emails:account:${owner.user.id}`, window)
      .run();
    expect((await invite(owner.token, org.id, { email: uniqueEmail(), role: 'viewer' })).status).toBe(201);
    const refused = await invite(owner.token, other.id, { email: uniqueEmail('refused'), role: 'viewer' });
    expect(refused.status).toBe(429);
    expect(refused.json.code).toBe('rate_limited');
    expect(Number(refused.headers.get('Retry-After'))).toBeGreaterThan(0);
    expect(await countRows('invitations', `organization_id = '${other.id}'`)).toBe(0);
    expect(await countRows('outbox', `organization_id = '${other.id}'`)).toBe(0);
  });

  it('invitation emails per IP: 200 an hour across accounts, and an IPv6 /64 is one bucket', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('IP Limit Co');
    const window = Date.now() - (Date.now() % LIMITS.invitationEmailsPerIp.windowMs);
    await env.DB.prepare('INSERT INTO rate_limits VALUES (?, ?, 200)')
      .bind('invitation-emails:ip:2001:db8:aa:bb::/64', window)
      .run();
    const fromSameNet = await invite(owner.token, org.id, { email: uniqueEmail(), role: 'viewer' });
    expect(fromSameNet.status).toBe(201); // (another IP: the default in `call`)
    const refused = await call('POST', `/v1/organizations/${org.id}/invitations`, {
      token: owner.token,
      body: { email: uniqueEmail(), role: 'viewer' },
      headers: { 'CF-Connecting-IP': '2001:db8:aa:bb:1234:5678:9abc:def0' },
    });
    expect(refused.status).toBe(429);
  });

  it('RATE_LIMIT_SCALE above 1 logs a warning at each cron run outside local development, and not locally', async ({
    expect,
  }) => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const tick = async (overrides: Partial<Env>) => {
        const ctx = createExecutionContext();
        await worker.scheduled!(
          { cron: '* * * * *', scheduledTime: Date.now(), noRetry() {} } as ScheduledController,
          { ...env, ...overrides },
          ctx,
        );
        await waitOnExecutionContext(ctx);
      };
      const warnings = () => warn.mock.calls.filter((c) => String(c[0]).includes('rate_limit_scale_raised')).length;
      await tick({ RATE_LIMIT_SCALE: '1000' });
      expect(warnings()).toBe(0);
      await tick({ RATE_LIMIT_SCALE: '1000', APP_URL: 'https://invitations.example' });
      await tick({ RATE_LIMIT_SCALE: '1000', APP_URL: 'https://invitations.example' });
      expect(warnings()).toBe(2);
      await tick({ RATE_LIMIT_SCALE: '1', APP_URL: 'https://invitations.example' });
      expect(warnings()).toBe(2);
    } finally {
      warn.mockRestore();
    }
  });
});
