import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { drizzle } from 'drizzle-orm/d1';
import { describe, it } from 'vitest';
import { SWEEP_BATCH_SIZE, retentionDays, runExpirySweep, runHousekeeping } from '../src/cron';
import worker from '../src/index';
import { call, countRows, ownerWithOrg } from './helpers';

const db = drizzle(env.DB);

/** Seeds `n` invitations straight into D1 (bulk history; the API would stop at 10 pending). */
async function seed(orgId: string, userId: string, n: number, expiresAt: number, prefix: string) {
  const stmts = [];
  for (let i = 0; i < n; i++) {
    stmts.push(
      env.DB.prepare(
        `INSERT INTO invitations (id, organization_id, email, role, status, expires_in_days, expires_at, token_id, invited_by,
           last_sent_at, send_count, email_delivery, created_at, updated_at)
         VALUES (?, ?, ?, 'viewer', 'pending', 7, ?, ?, ?, 0, 1, 'sent', 0, 0)`,
      ).bind(`inv_${prefix}${i}`, orgId, `${prefix}${i}@example.com`, expiresAt, `jti_${prefix}${i}`, userId),
    );
  }
  for (let i = 0; i < stmts.length; i += 500) await env.DB.batch(stmts.slice(i, i + 500));
}

describe('the cron trigger persists expiry', () => {
  it('expires more than one batch of stale rows in bounded batches, leaves live ones, records one event each', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Sweep Co');
    const now = Date.now();
    await seed(org.id, owner.user.id, SWEEP_BATCH_SIZE * 2 + 150, now - 1000, 'stale');
    await seed(org.id, owner.user.id, 5, now + 86_400_000, 'live');
    const result = await runExpirySweep(db, now);
    expect(result).toMatchObject({ expired: SWEEP_BATCH_SIZE * 2 + 150, batches: 3, truncated: false });
    expect(await countRows('invitations', `organization_id = '${org.id}' AND status = 'expired'`)).toBe(1150);
    expect(await countRows('invitations', `organization_id = '${org.id}' AND status = 'pending'`)).toBe(5);
    expect(
      await countRows(
        'audit_events',
        `organization_id = '${org.id}' AND action = 'invitation.expired' AND actor_type = 'system'`,
      ),
    ).toBe(1150);
  });

  it('is idempotent and safe to run concurrently', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Idem Co');
    const now = Date.now();
    await seed(org.id, owner.user.id, 700, now - 1000, 'idem');
    const runs = await Promise.all([runExpirySweep(db, now), runExpirySweep(db, now), runExpirySweep(db, now)]);
    expect(runs.reduce((sum, r) => sum + r.expired, 0)).toBe(700);
    expect(await countRows('audit_events', `organization_id = '${org.id}' AND action = 'invitation.expired'`)).toBe(
      700,
    );
    const again = await runExpirySweep(db, now);
    expect(again).toMatchObject({ expired: 0, batches: 0, truncated: false });
  });

  it('stops at its time budget and reports truncation; the next run finishes', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Budget Co');
    const now = Date.now();
    await seed(org.id, owner.user.id, 30, now - 1000, 'budget');
    let t = 0;
    const first = await runExpirySweep(db, now, { batchSize: 10, timeBudgetMs: 1, clock: () => (t += 1) });
    expect(first).toMatchObject({ expired: 10, batches: 1, truncated: true });
    const rest = await runExpirySweep(db, now, { batchSize: 10 });
    expect(rest.expired).toBe(20);
  });

  it('runs through the scheduled handler with the scheduled time as now', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Scheduled Co');
    const now = Date.now();
    await seed(org.id, owner.user.id, 3, now + 60_000, 'sched');
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: now + 120_000, cron: '*/10 * * * *' }), env, ctx);
    await waitOnExecutionContext(ctx);
    expect(await countRows('invitations', `organization_id = '${org.id}' AND status = 'expired'`)).toBe(3);
  });

  it('housekeeping deletes old rate-limit windows, idempotency keys, expired sessions and links, month-old outbox rows, keeping current ones', async ({
    expect,
  }) => {
    const { owner } = await ownerWithOrg('Housekeeping Co');
    const now = Date.now();
    await env.DB.batch([
      env.DB.prepare("INSERT INTO rate_limits VALUES ('old', ?, 3), ('current', ?, 1)").bind(
        now - 26 * 3_600_000,
        now - 23 * 3_600_000,
      ),
      env.DB.prepare(
        "INSERT INTO idempotency_keys (organization_id, user_id, key, request_hash, invitation_id, created_at) VALUES ('org_a', 'usr_a', 'old', 'h', 'inv_a', ?), ('org_a', 'usr_a', 'new', 'h', 'inv_b', ?)",
      ).bind(now - 25 * 3_600_000, now),
      env.DB.prepare(
        "INSERT INTO sessions (id, user_id, token_hash, created_at, expires_at) VALUES ('ses_old', ?, 'hash-old', 0, ?)",
      ).bind(owner.user.id, now - 1),
      env.DB.prepare("INSERT INTO sign_in_links VALUES ('jti_old', 'x@example.com', ?, NULL, 0)").bind(
        now - 25 * 3_600_000,
      ),
      env.DB.prepare(
        "INSERT INTO outbox (id, kind, subject_id, status, next_attempt_at, created_at, updated_at) VALUES ('obx_old', 'sign_in_email', 'jti_old', 'sent', 0, ?, 0), ('obx_new', 'sign_in_email', 'jti_new', 'sent', 0, ?, 0)",
      ).bind(now - 31 * 86_400_000, now - 29 * 86_400_000),
    ]);
    const sessionsBefore = await countRows('sessions');
    expect(await runHousekeeping(db, now, 1)).toEqual({ deleted: 5 });
    expect(await countRows('outbox', "id IN ('obx_old', 'obx_new')")).toBe(1);
    expect(await countRows('rate_limits', "bucket IN ('old', 'current')")).toBe(1);
    expect(await countRows('idempotency_keys', "key IN ('old', 'new')")).toBe(1);
    expect(await countRows('sessions')).toBe(sessionsBefore - 1);
    expect(await countRows('sign_in_links', "jti = 'jti_old'")).toBe(0);
    // The owner's live session still works.
    expect((await call('GET', '/v1/me', { token: owner.token })).status).toBe(200);
  });
});

describe('retention (SPEC §13)', () => {
  it('deletes finished invitations after RETENTION_DAYS and audit events after AUDIT_RETENTION_DAYS, in bounded batches; keeps the rest', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Retention Co');
    const now = Date.now();
    const day = 86_400_000;
    const make = (id: string, status: string, updatedAt: number) =>
      env.DB.prepare(
        `INSERT INTO invitations (id, organization_id, email, role, status, expires_in_days, expires_at, invited_by, last_sent_at, send_count, email_delivery, created_at, updated_at)
         VALUES (?, ?, ?, 'viewer', ?, 7, ?, ?, ?, 1, 'sent', ?, ?)`,
      ).bind(
        id,
        org.id,
        `${id}@example.com`,
        status,
        status === 'pending' ? now + day : updatedAt,
        owner.user.id,
        updatedAt,
        updatedAt,
        updatedAt,
      );
    await env.DB.batch([
      make('inv_ret_old_accepted', 'accepted', now - 181 * day),
      make('inv_ret_old_revoked', 'revoked', now - 200 * day),
      make('inv_ret_old_expired', 'expired', now - 365 * day),
      make('inv_ret_new_accepted', 'accepted', now - 179 * day),
      make('inv_ret_old_pending', 'pending', now - 400 * day),
      env.DB.prepare(
        "INSERT INTO audit_events (id, organization_id, actor_type, action, target_type, target_id, created_at) VALUES ('aud_ret_old', ?, 'system', 'x', 'invitation', 'y', ?), ('aud_ret_new', ?, 'system', 'x', 'invitation', 'y', ?)",
      ).bind(org.id, now - 401 * day, org.id, now - 399 * day),
    ]);
    const result = await runHousekeeping(db, now, 1, { invitationDays: 180, auditDays: 400 });
    expect(result.truncated).toBeUndefined();
    const left = async (like: string, table = 'invitations') =>
      (
        await env.DB.prepare(`SELECT id FROM ${table} WHERE id LIKE ? ORDER BY id`).bind(like).all<{ id: string }>()
      ).results.map((r) => r.id);
    expect(await left('inv_ret_%')).toEqual(['inv_ret_new_accepted', 'inv_ret_old_pending']);
    expect(await left('aud_ret_%', 'audit_events')).toEqual(['aud_ret_new']);
    // The vars: a bad value means the default.
    expect(retentionDays('30', 180)).toBe(30);
    expect(retentionDays('-1', 180)).toBe(180);
    expect(retentionDays('forever', 400)).toBe(400);
  });

  it('stops when its time budget is spent (the next run continues)', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Retention Budget');
    const old = Date.now() - 500 * 86_400_000;
    await env.DB.batch(
      Array.from({ length: 5 }, (_, i) =>
        env.DB.prepare(
          `INSERT INTO invitations (id, organization_id, email, role, status, expires_in_days, expires_at, invited_by, last_sent_at, send_count, email_delivery, created_at, updated_at)
           VALUES (?, ?, ?, 'viewer', 'revoked', 7, ?, ?, ?, 1, 'sent', ?, ?)`,
        ).bind(`inv_rbx${i}`, org.id, `b${i}@example.com`, old, owner.user.id, old, old, old),
      ),
    );
    let t = 0;
    const first = await runHousekeeping(db, Date.now(), 2, {}, { timeBudgetMs: 1, clock: () => (t += 1) });
    expect(first.truncated).toBe(true);
    expect(await countRows('invitations', "substr(id, 1, 7) = 'inv_rbx'")).toBe(3);
    await runHousekeeping(db, Date.now(), 2);
    expect(await countRows('invitations', "substr(id, 1, 7) = 'inv_rbx'")).toBe(0);
  });
});
