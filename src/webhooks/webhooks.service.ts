import { sql } from 'drizzle-orm';
import { runBatch } from '../db/batch';
import type { Db } from '../env';
import { ApiError } from '../errors';
import { auditStatement } from '../audit/audit.store';
import type { Actor } from '../lib/write-context';
import { newId } from '../lib/ids';
import { coordinatorFor } from '../lib/coordinator';
import {
  ENDPOINTS_PER_ORGANIZATION,
  PREVIOUS_SECRET_TTL_MS,
  endpointCountSql,
  findEndpoint,
  isManagerSql,
  newWebhookSecret,
  storedEvents,
  webhookUrlProblem,
  type WebhookEndpointRow,
} from './webhooks.store';
import { chargeRelay } from './relay-limits';

/*
 * Endpoint management (SPEC §11). These writes touch no invitation or membership, so they do not
 * need the organization's Durable Object: each is one guarded D1 batch with its audit event. The
 * writes that decide where events go (create, enable, a new URL) also re-check, inside that batch,
 * that the actor is still an owner or admin: a removal's batch (SPEC §18) disables the endpoints of
 * the member it removes, and one created or enabled just after it must not escape that.
 */

interface Ctx {
  env: Pick<Env, 'APP_URL' | 'ORG_COORDINATOR' | 'RATE_LIMIT_SCALE'>;
  db: Db;
  organizationId: string;
  actor: Actor;
  now: number;
}

function checkUrl(ctx: Ctx, url: string) {
  const problem = webhookUrlProblem(ctx.env.APP_URL, url);
  if (problem)
    throw new ApiError('validation_failed', `url: ${problem}`, { errors: [{ path: 'url', message: problem }] });
}

/** Tells the organization's coordinator, which hands new deliveries to the queue after each write. */
const endpointsChanged = (ctx: Ctx) => coordinatorFor(ctx.env as Env, ctx.organizationId).webhooksChanged();

async function load(ctx: Ctx, id: string): Promise<WebhookEndpointRow> {
  const row = await findEndpoint(ctx.db, ctx.organizationId, id);
  if (!row) throw new ApiError('not_found', 'No such webhook endpoint in this organization.');
  return row;
}

export async function createEndpoint(ctx: Ctx, input: { url: string; events?: string[]; description?: string }) {
  checkUrl(ctx, input.url);
  const { db, organizationId: org, now } = ctx;
  const row: WebhookEndpointRow = {
    id: newId('whk'),
    organizationId: org,
    url: input.url,
    description: input.description || null,
    events: storedEvents(input.events),
    enabled: 1,
    disabledReason: null,
    createdBy: ctx.actor.userId,
    secret: newWebhookSecret(),
    previousSecret: null,
    previousSecretExpiresAt: null,
    failingSince: null,
    failedAttempts: 0,
    createdAt: now,
    updatedAt: now,
  };
  const created = sql`EXISTS (SELECT 1 FROM webhook_endpoints WHERE id = ${row.id})`;
  const [inserted] = await runBatch(db, [
    sql`INSERT INTO webhook_endpoints (id, organization_id, url, description, events, enabled, created_by, secret, failed_attempts, created_at, updated_at)
      SELECT ${row.id}, ${org}, ${row.url}, ${row.description}, ${row.events}, 1, ${row.createdBy}, ${row.secret}, 0, ${now}, ${now}
      WHERE ${endpointCountSql(org)} < ${ENDPOINTS_PER_ORGANIZATION} AND ${isManagerSql(org, row.createdBy)}`,
    auditStatement(
      ctx.actor,
      {
        organizationId: org,
        action: 'webhook.created',
        targetType: 'webhook',
        targetId: row.id,
        data: { url: row.url },
      },
      now,
      created,
    ),
  ]);
  if (inserted.meta.changes !== 1) {
    await refuseIfNoLongerManager(ctx);
    throw new ApiError(
      'validation_failed',
      `An organization can have at most ${ENDPOINTS_PER_ORGANIZATION} webhook endpoints. Delete one first.`,
    );
  }
  await endpointsChanged(ctx);
  return row;
}

/** After a guarded write changed nothing: 403 if the actor lost the owner/admin role meanwhile. */
async function refuseIfNoLongerManager(ctx: Ctx) {
  const [{ manager }] = await ctx.db.all<{ manager: number }>(
    sql`SELECT ${isManagerSql(ctx.organizationId, ctx.actor.userId)} AS manager`,
  );
  if (manager !== 1) throw new ApiError('forbidden', 'Only owners and admins can manage webhooks.');
}

export async function updateEndpoint(
  ctx: Ctx,
  id: string,
  input: { url?: string; events?: string[] | null; enabled?: boolean; description?: string | null },
) {
  await load(ctx, id);
  if (input.url !== undefined) checkUrl(ctx, input.url);
  const { db, now } = ctx;
  // Whoever enables an endpoint again, or points it at a new URL, decides where the events go from
  // then on: they become its `created_by` (SPEC §18), so the endpoint lives only as long as their
  // authority. Otherwise an admin could aim an owner's endpoint at their own server and be removed.
  const takesOver = sql.join(
    [
      ...(input.enabled === true ? [sql`enabled = 0`] : []),
      ...(input.url !== undefined ? [sql`url IS NOT ${input.url}`] : []),
      sql`0`,
    ],
    sql` OR `,
  );
  // Only the columns asked for, so a concurrent auto-disable (or failure count) is never undone;
  // enabling again starts a clean slate: no reason, no failure streak.
  const sets = [
    sql`created_by = CASE WHEN (${takesOver}) THEN ${ctx.actor.userId} ELSE created_by END`,
    ...(input.url !== undefined ? [sql`url = ${input.url}`] : []),
    ...(input.events !== undefined ? [sql`events = ${storedEvents(input.events)}`] : []),
    ...(input.description !== undefined ? [sql`description = ${input.description || null}`] : []),
    ...(input.enabled === true
      ? [
          sql`failing_since = CASE WHEN enabled = 0 THEN NULL ELSE failing_since END`,
          sql`failed_attempts = CASE WHEN enabled = 0 THEN 0 ELSE failed_attempts END`,
          sql`enabled = 1`,
          sql`disabled_reason = NULL`,
        ]
      : input.enabled === false
        ? [
            sql`disabled_reason = CASE WHEN enabled = 1 THEN 'Disabled by a member' ELSE disabled_reason END`,
            sql`enabled = 0`,
          ]
        : []),
    sql`updated_at = ${now}`,
  ];
  const manager = isManagerSql(ctx.organizationId, ctx.actor.userId);
  const exists = sql`EXISTS (SELECT 1 FROM webhook_endpoints WHERE id = ${id} AND organization_id = ${ctx.organizationId}) AND ${manager}`;
  const [updated] = await runBatch(db, [
    sql`UPDATE webhook_endpoints SET ${sql.join(sets, sql`, `)}
      WHERE id = ${id} AND organization_id = ${ctx.organizationId} AND ${manager}`,
    auditStatement(
      ctx.actor,
      {
        organizationId: ctx.organizationId,
        action: 'webhook.updated',
        targetType: 'webhook',
        targetId: id,
        data: { changed: Object.keys(input) },
      },
      now,
      exists,
    ),
  ]);
  if (updated.meta.changes !== 1) {
    await refuseIfNoLongerManager(ctx);
    await load(ctx, id);
  }
  if (input.enabled !== undefined) await endpointsChanged(ctx);
  return (await load(ctx, id))!;
}

/** Deletes an endpoint; its queued deliveries are dropped in the same batch. */
export async function deleteEndpoint(ctx: Ctx, id: string) {
  await load(ctx, id);
  const { db, now } = ctx;
  const exists = sql`EXISTS (SELECT 1 FROM webhook_endpoints WHERE id = ${id} AND organization_id = ${ctx.organizationId})`;
  await runBatch(db, [
    auditStatement(
      ctx.actor,
      { organizationId: ctx.organizationId, action: 'webhook.deleted', targetType: 'webhook', targetId: id },
      now,
      exists,
    ),
    sql`UPDATE webhook_deliveries SET status = 'dropped', updated_at = ${now} WHERE endpoint_id = ${id} AND status IN ('pending', 'sending')`,
    sql`DELETE FROM webhook_endpoints WHERE id = ${id} AND organization_id = ${ctx.organizationId}`,
  ]);
  await endpointsChanged(ctx);
}

/** A new secret; the old one also signs for 24 hours (two signatures per message meanwhile). */
export async function rotateSecret(ctx: Ctx, id: string) {
  await load(ctx, id);
  const secret = newWebhookSecret();
  const { db, now } = ctx;
  // `previous_secret = secret` reads the value being replaced: two concurrent rotations lose nothing.
  const [updated] = await runBatch(db, [
    sql`UPDATE webhook_endpoints SET previous_secret = secret, secret = ${secret},
        previous_secret_expires_at = ${now + PREVIOUS_SECRET_TTL_MS}, updated_at = ${now}
      WHERE id = ${id} AND organization_id = ${ctx.organizationId}`,
    auditStatement(
      ctx.actor,
      { organizationId: ctx.organizationId, action: 'webhook.secret_rotated', targetType: 'webhook', targetId: id },
      now,
      sql`EXISTS (SELECT 1 FROM webhook_endpoints WHERE id = ${id} AND secret = ${secret})`,
    ),
  ]);
  if (updated.meta.changes !== 1) throw new ApiError('not_found', 'No such webhook endpoint in this organization.');
  return secret;
}

/** A `webhook.test` event to this endpoint only; returns the delivery id to hand to the queue. */
export async function sendTestEvent(ctx: Ctx, id: string) {
  const endpoint = await load(ctx, id);
  if (endpoint.enabled !== 1)
    throw new ApiError('invalid_state', 'This endpoint is disabled. Enable it to send a test.');
  await chargeRelay(ctx, id);
  const { db, now } = ctx;
  const eventId = newId('evt');
  const deliveryId = newId('msg');
  const body = JSON.stringify({
    type: 'webhook.test',
    timestamp: new Date(now).toISOString(),
    data: {
      webhook_endpoint_id: id,
      organization_id: ctx.organizationId,
      message: 'A test event from 8bit-ai Invitations.',
    },
  });
  await runBatch(db, [
    sql`INSERT INTO webhook_events (id, organization_id, type, body, created_at) VALUES (${eventId}, ${ctx.organizationId}, 'webhook.test', ${body}, ${now})`,
    sql`INSERT INTO webhook_deliveries (id, organization_id, endpoint_id, event_id, event_type, status, attempts, next_attempt_at, created_at, updated_at)
      VALUES (${deliveryId}, ${ctx.organizationId}, ${id}, ${eventId}, 'webhook.test', 'pending', 0, ${now}, ${now}, ${now})`,
  ]);
  return deliveryId;
}

/** Sends one logged attempt's message again (same `webhook-id`), now. */
export async function redeliver(ctx: Ctx, id: string, attemptId: string) {
  await load(ctx, id);
  await chargeRelay(ctx, id);
  const { db, now } = ctx;
  const rows = await db.all<{
    id: string;
  }>(sql`UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ${now}, updated_at = ${now}
    WHERE id = (SELECT delivery_id FROM webhook_attempts WHERE id = ${attemptId} AND endpoint_id = ${id})
      AND endpoint_id = ${id} AND status IN ('delivered', 'failed', 'pending')
    RETURNING id`);
  if (rows.length === 0)
    throw new ApiError('not_found', 'No such delivery attempt for this endpoint, or it is being sent right now.');
  return rows[0].id;
}
