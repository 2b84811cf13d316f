import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { drizzle } from 'drizzle-orm/d1';
import { describe, it } from 'vitest';
import * as schema from '../src/db/schema';
import { SWEEP_BATCH_SIZE, runExpirySweep, runHousekeeping } from '../src/cron';
import worker from '../src/index';
import { call, countRows, ownerWithOrg } from './helpers';

const db = drizzle(env.DB, { schema });

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
  it('expires more than one batch of stale rows in bounded batches, leaves live ones, records one event each', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Sweep Co');
    const now = Date.now();
    await seed(org.id, owner.user.id, SWEEP_BATCH_SIZE * 2 + 150, now - 1000, 'stale');
    await seed(org.id, owner.user.id, 5, now + 86_400_000, 'live');
    const result = await runExpirySweep(db, now);
    expect(result).toMatchObject({ expired: SWEEP_BATCH_SIZE * 2 + 150, batches: 3, truncated: false });
    expect(await countRows('invitations', `organization_id = '${org.id}' AND status = 'expired'`)).toBe(1150);
    expect(await countRows('invitations', `organization_id = '${org.id}' AND status = 'pending'`)).toBe(5);
    expect(await countRows('audit_events', `organization_id = '${org.id}' AND action = 'invitation.expired' AND actor_type = 'system'`)).toBe(1150);
  });

  it('is idempotent and safe to run concurrently', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Idem Co');
    const now = Date.now();
    await seed(org.id, owner.user.id, 700, now - 1000, 'idem');
    const runs = await Promise.all([runExpirySweep(db, now), runExpirySweep(db, now), runExpirySweep(db, now)]);
    expect(runs.reduce((sum, r) => sum + r.expired, 0)).toBe(700);
    expect(await countRows('audit_events', `organization_id = '${org.id}' AND action = 'invitation.expired'`)).toBe(700);
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

  it('housekeeping deletes old rate-limit windows, idempotency keys, expired sessions and links, month-old outbox rows, keeping current ones', async ({ expect }) => {
    const { owner } = await ownerWithOrg('Housekeeping Co');
    const now = Date.now();
    await env.DB.batch([
      env.DB.prepare("INSERT INTO rate_limits VALUES ('old', ?, 3), ('current', ?, 1)").bind(now - 26 * 3_600_000, now - 23 * 3_600_000),
      env.DB.prepare(
        "INSERT INTO idempotency_keys (organization_id, user_id, key, request_hash, invitation_id, created_at) VALUES ('org_a', 'usr_a', 'old', 'h', 'inv_a', ?), ('org_a', 'usr_a', 'new', 'h', 'inv_b', ?)",
      ).bind(now - 25 * 3_600_000, now),
      env.DB.prepare("INSERT INTO sessions (id, user_id, token_hash, created_at, expires_at) VALUES ('ses_old', ?, 'hash-old', 0, ?)").bind(owner.user.id, now - 1),
      env.DB.prepare("INSERT INTO sign_in_links VALUES ('jti_old', 'x@example.com', ?, NULL, 0)").bind(now - 25 * 3_600_000),
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
