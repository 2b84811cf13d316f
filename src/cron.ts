import { runBatch } from './db/batch';
import { sql } from 'drizzle-orm';
import { systemAuditSql } from './audit/audit.store';
import type { Db } from './env';
import { KNOWN_NETWORK_MS } from './auth/auth.store';
import { coordinatorFor } from './lib/coordinator';
import { errorMessage } from './lib/redact';
import { reminderDueSql } from './invitations/reminders.service';

/** Rows per statement: each statement touches at most this many invitations (and binds 4 parameters). */
export const SWEEP_BATCH_SIZE = 500;
/** Stop starting new batches after this long; the next run continues where this one stopped. */
export const SWEEP_TIME_BUDGET_MS = 20_000;

export interface SweepResult {
  expired: number;
  batches: number;
  /** True when the time budget ran out with stale rows possibly left. */
  truncated: boolean;
  /** Wall time of the run and of its slowest batch (one D1 batch of two statements). */
  durationMs?: number;
  maxBatchMs?: number;
}

/**
 * Persists `status = 'expired'` for invitations whose `expires_at` has passed (rule 5). They are
 * already expired everywhere else; this only writes it down, with one audit event each, in
 * bounded batches. Each batch is one atomic D1 batch, so concurrent runs never double-count.
 */
export async function runExpirySweep(
  db: Db,
  now: number,
  opts: { batchSize?: number; timeBudgetMs?: number; clock?: () => number } = {},
): Promise<SweepResult> {
  const batchSize = opts.batchSize ?? SWEEP_BATCH_SIZE;
  const clock = opts.clock ?? Date.now;
  const deadline = clock() + (opts.timeBudgetMs ?? SWEEP_TIME_BUDGET_MS);
  // An empty sweep costs this one indexed probe.
  const started = clock();
  const probe = await db.all(sql`SELECT 1 FROM invitations WHERE status = 'pending' AND expires_at <= ${now} LIMIT 1`);
  if (probe.length === 0)
    return { expired: 0, batches: 0, truncated: false, durationMs: clock() - started, maxBatchMs: 0 };

  // Both statements of one (atomic) batch pick the same rows: the same walk of the
  // (status, expires_at) index, whose order is fixed (ties by rowid), with no sort step.
  const stale = sql`SELECT id FROM invitations WHERE status = 'pending' AND expires_at <= ${now}
    ORDER BY expires_at LIMIT ${batchSize}`;
  let expired = 0;
  let batches = 0;
  let maxBatchMs = 0;
  const done = (truncated: boolean): SweepResult => ({
    expired,
    batches,
    truncated,
    durationMs: clock() - started,
    maxBatchMs,
  });
  for (;;) {
    const batchStarted = clock();
    const [, updated] = await runBatch(db, [
      systemAuditSql({
        action: 'invitation.expired',
        data: sql`json_object('email', email, 'expires_at', expires_at)`,
        from: sql`invitations WHERE id IN (${stale})`,
        now,
      }),
      sql`UPDATE invitations SET status = 'expired', updated_at = ${now} WHERE id IN (${stale})`,
    ]);
    batches += 1;
    expired += updated.meta.changes;
    maxBatchMs = Math.max(maxBatchMs, clock() - batchStarted);
    if (updated.meta.changes < batchSize) return done(false);
    if (clock() >= deadline) return done(true);
  }
}

/** Organizations whose reminders one tick sends at most; the rest wait for the next tick. */
export const REMINDER_ORGS_PER_TICK = 100;
/** Coordinators called at once by one tick. */
const REMINDER_CONCURRENCY = 10;

export interface ReminderRun {
  organizations: number;
  sent: number;
  /** Due reminders an organization's hourly email limit had no room for: sent on a later tick. */
  waiting: number;
  failed: number;
}

/**
 * The organizations with reminders due at `now` (SPEC §17), longest due first: one range scan of
 * the (status, remind_at) index, which holds only the reminders due (plus, for at most a minute,
 * invitations just expired and not yet swept).
 */
export const dueReminderOrganizationsSql = (now: number, limit = REMINDER_ORGS_PER_TICK) =>
  sql`SELECT i.organization_id AS org FROM invitations i WHERE ${reminderDueSql(now)}
    GROUP BY i.organization_id ORDER BY min(i.remind_at) LIMIT ${limit}`;

export async function dueReminderOrganizations(db: Db, now: number, limit = REMINDER_ORGS_PER_TICK) {
  return (await db.all<{ org: string }>(dueReminderOrganizationsSql(now, limit))).map((r) => r.org);
}

/**
 * The reminder sweep: each organization with reminders due sends them through its coordinator,
 * which counts them in its hourly email limit and hands its outbox rows to the queue. Nothing is
 * lost: a reminder is marked sent only in the batch that writes its email, so one that did not fit,
 * or whose coordinator call failed, is still due on the next tick.
 */
export async function runReminders(env: Env, db: Db, now: number): Promise<ReminderRun> {
  const orgs = await dueReminderOrganizations(db, now);
  const run: ReminderRun = { organizations: orgs.length, sent: 0, waiting: 0, failed: 0 };
  for (let i = 0; i < orgs.length; i += REMINDER_CONCURRENCY) {
    const calls = orgs
      .slice(i, i + REMINDER_CONCURRENCY)
      .map((organizationId) => coordinatorFor(env, organizationId).sendReminders({ organizationId, now }));
    for (const result of await Promise.allSettled(calls)) {
      if (result.status === 'fulfilled' && result.value.ok) {
        run.sent += result.value.value.sent;
        run.waiting += result.value.value.waiting;
      } else {
        run.failed += 1;
        const why =
          result.status === 'rejected' ? errorMessage(result.reason) : result.value.ok ? '' : result.value.code;
        console.error(JSON.stringify({ event: 'reminders_failed', error: why }));
      }
    }
  }
  return run;
}

/**
 * Rows past their use, deleted in bounded batches: rate-limit windows, idempotency keys, expired
 * sessions and sign-in links, networks not signed in from for a year, and outbox rows and webhook
 * history older than 30 days (long finished: an email is sent, dropped or failed within about two
 * hours, a webhook within 28).
 */
export const RETENTION_DEFAULTS = { invitationDays: 180, auditDays: 400 } as const;
const DAY = 24 * 60 * 60_000;

/** A positive whole number of days from a var, or the default. */
export function retentionDays(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

export async function runHousekeeping(
  db: Db,
  now: number,
  batchSize = 1000,
  retention: { invitationDays?: number; auditDays?: number } = {},
  opts: { timeBudgetMs?: number; clock?: () => number } = {},
): Promise<{ deleted: number; truncated?: boolean }> {
  let deleted = 0;
  // A rotated-out webhook secret is kept only while it still signs (first: the loops may run out of time).
  await db.run(sql`UPDATE webhook_endpoints SET previous_secret = NULL, previous_secret_expires_at = NULL
    WHERE previous_secret IS NOT NULL AND previous_secret_expires_at <= ${now}`);
  const clock = opts.clock ?? Date.now;
  const deadline = clock() + (opts.timeBudgetMs ?? SWEEP_TIME_BUDGET_MS);
  const invitationHorizon = now - (retention.invitationDays ?? RETENTION_DEFAULTS.invitationDays) * DAY;
  // Retention (SPEC §13): finished invitations by the time of their last change, one status at a time
  // (the (status, updated_at) index), and audit events by age; then the short-lived bookkeeping.
  for (const status of ['accepted', 'revoked', 'expired', 'declined'] as const) {
    for (;;) {
      const res = await db.run(sql`DELETE FROM invitations WHERE rowid IN (SELECT rowid FROM invitations
        WHERE status = ${status} AND updated_at < ${invitationHorizon} LIMIT ${batchSize})`);
      deleted += res.meta.changes;
      if (res.meta.changes < batchSize) break;
      if (clock() >= deadline) return { deleted, truncated: true };
    }
  }
  for (const [table, column, horizon] of [
    ['audit_events', 'created_at', now - (retention.auditDays ?? RETENTION_DEFAULTS.auditDays) * DAY],
    // The longest window is a day (organization creation): keep every window that may still count.
    ['rate_limits', 'window_start', now - 25 * 60 * 60_000],
    ['idempotency_keys', 'created_at', now - 24 * 60 * 60_000],
    ['sessions', 'expires_at', now],
    // Provider event ids outlive their replay window only until this run (SPEC §18).
    ['provider_event_ids', 'expires_at', now],
    ['sign_in_links', 'expires_at', now - 24 * 60 * 60_000],
    // A network an account last signed in from a year ago is no longer its own (SPEC §18).
    ['sign_in_networks', 'last_signed_in_at', now - KNOWN_NETWORK_MS],
    ['outbox', 'created_at', now - 30 * 24 * 60 * 60_000],
    // Webhook history: a message is delivered or given up within about 28 hours.
    ['webhook_attempts', 'created_at', now - 30 * 24 * 60 * 60_000],
    ['webhook_deliveries', 'created_at', now - 30 * 24 * 60 * 60_000],
    ['webhook_events', 'created_at', now - 30 * 24 * 60 * 60_000],
  ] as const) {
    for (;;) {
      const res = await db.run(
        sql`DELETE FROM ${sql.identifier(table)} WHERE rowid IN (SELECT rowid FROM ${sql.identifier(table)} WHERE ${sql.identifier(column)} < ${horizon}
          ${table === 'outbox' ? sql`AND status IN ('sent', 'failed', 'dropped')` : sql``} LIMIT ${batchSize})`,
      );
      deleted += res.meta.changes;
      if (res.meta.changes < batchSize) break;
      if (clock() >= deadline) return { deleted, truncated: true };
    }
  }
  return { deleted };
}
