import { describe, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { drizzle } from 'drizzle-orm/d1';
import * as schema from '../src/db/schema';
import { createInvitation, type ServiceContext } from '../src/invitations/invitations.service';
import { acceptInvitation } from '../src/invitations/acceptance.service';
import { countRows, invite, ownerWithOrg, uniqueEmail } from './helpers';

/*
 * Issue 13: where a request's time goes is mostly its D1 round trips. The common create and
 * accept cost one read at most and one batch; these tests count them on the real services, so a
 * change that quietly falls back to the slower path is caught.
 */

/** The D1 binding, counting round trips: each batch, and each statement run on its own. */
function countingDb() {
  const counts = { batches: 0, single: 0 };
  const wrapStatement = (stmt: D1PreparedStatement): D1PreparedStatement =>
    new Proxy(stmt, {
      get(target, prop) {
        const value = Reflect.get(target, prop);
        if (prop === 'bind') return (...args: unknown[]) => wrapStatement(target.bind(...args));
        if (prop === 'all' || prop === 'run' || prop === 'first' || prop === 'raw') {
          return (...args: unknown[]) => (counts.single++, (value as (...a: unknown[]) => unknown).apply(target, args));
        }
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  const db = new Proxy(env.DB, {
    get(target, prop) {
      if (prop === 'prepare') return (query: string) => wrapStatement(target.prepare(query));
      if (prop === 'batch') return (statements: D1PreparedStatement[]) => (counts.batches++, target.batch(statements));
      const value = Reflect.get(target, prop);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { db: drizzle(db, { schema }), counts };
}

/** A coordinator-like context: the D1 email counters, and an organization counter with room. */
function context(
  db: ServiceContext['db'],
  organizationId: string,
  userId: string,
  charged: number[] = [],
): ServiceContext {
  const now = Date.now();
  return {
    db,
    organizationId,
    actor: { userId, ip: '203.0.113.9', userAgent: null },
    now,
    emailQuota: {
      counters: [{ bucket: `invitation-emails:account:${userId}`, windowStart: now - (now % 3_600_000), max: 100 }],
      orgHasRoom: async () => true,
      chargeOrg: async (n) => void charged.push(n),
    },
  };
}

describe('D1 round trips of the hot paths', () => {
  it('a create that every rule allows is one batch and nothing else; its email is counted once', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Round Trips');
    const { db, counts } = countingDb();
    const charged: number[] = [];
    const email = uniqueEmail('rt');
    const outcome = await createInvitation(context(db, org.id, owner.user.id, charged), {
      email,
      role: 'viewer',
      expiresInDays: 7,
    });
    expect(outcome.ok).toBe(true);
    expect(counts).toEqual({ batches: 1, single: 0 });
    expect(charged).toEqual([1]);
    expect(
      await countRows('invitations', `organization_id = '${org.id}' AND email = '${email}' AND status = 'pending'`),
    ).toBe(1);
    expect(await countRows('outbox', `subject_id = '${outcome.ok ? outcome.value.id : ''}'`)).toBe(1);
    expect(await countRows('rate_limits', `bucket = 'invitation-emails:account:${owner.user.id}'`)).toBe(1);
  });

  it('a refused create writes nothing, charges nothing, and names the rule (the checks run one by one after the batch)', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Refusals');
    const email = uniqueEmail('dup');
    expect((await invite(owner.token, org.id, { email, role: 'viewer' })).status).toBe(201);
    const { db, counts } = countingDb();
    const charged: number[] = [];
    const before = await countRows('invitations', `organization_id = '${org.id}'`);
    const outcome = await createInvitation(context(db, org.id, owner.user.id, charged), {
      email,
      role: 'viewer',
      expiresInDays: 7,
    });
    expect(outcome).toMatchObject({ ok: false, code: 'invitation_already_pending' });
    expect(counts.batches).toBe(1);
    expect(charged).toEqual([]);
    expect(await countRows('invitations', `organization_id = '${org.id}'`)).toBe(before);
  });

  it('an accept is one read and one batch', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Accept Trips');
    const inv = (await invite(owner.token, org.id, { email: uniqueEmail('acc'), role: 'viewer' })).json;
    const { token_id: jti } = (await env.DB.prepare('SELECT token_id FROM invitations WHERE id = ?')
      .bind(inv.id)
      .first<{ token_id: string }>())!;
    const { db, counts } = countingDb();
    const outcome = await acceptInvitation(
      { db, organizationId: org.id, actor: { userId: null, ip: null, userAgent: null }, now: Date.now() },
      { invitationId: inv.id, jti, name: 'New Person' },
    );
    expect(outcome.ok).toBe(true);
    expect(counts).toEqual({ batches: 1, single: 1 });
  });
});
