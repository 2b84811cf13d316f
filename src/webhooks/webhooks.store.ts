import { and, desc, eq, lt, or, sql } from 'drizzle-orm';
import { WEBHOOK_EVENT_TYPES, webhookAttempts, webhookEndpoints } from '../db/schema';
import type { Db } from '../env';
import { base64 } from '../lib/crypto';
import { decodeCursor, encodeCursor } from '../lib/cursor';
import { iso } from '../lib/time';

export type WebhookEndpointRow = typeof webhookEndpoints.$inferSelect;

/** At most this many endpoints per organization (SPEC §11). */
export const ENDPOINTS_PER_ORGANIZATION = 10;
/** After a rotation the old secret also signs for this long. */
export const PREVIOUS_SECRET_TTL_MS = 24 * 60 * 60 * 1000;

/** `whsec_` + base64 of 32 random bytes (Standard Webhooks asks for 24 to 64). */
export const newWebhookSecret = () => `whsec_${base64(crypto.getRandomValues(new Uint8Array(32)))}`;

export function toWebhookResource(row: WebhookEndpointRow) {
  return {
    id: row.id,
    url: row.url,
    events: row.events ? (JSON.parse(row.events) as string[]) : [...WEBHOOK_EVENT_TYPES],
    description: row.description,
    enabled: row.enabled === 1,
    disabled_reason: row.disabledReason,
    created_by: row.createdBy,
    created_at: iso(row.createdAt)!,
    updated_at: iso(row.updatedAt)!,
  };
}
export type WebhookResource = ReturnType<typeof toWebhookResource>;

/** The stored form of `events`: NULL for every type (so new types reach such endpoints too). */
export const storedEvents = (events: readonly string[] | null | undefined) =>
  events && events.length < WEBHOOK_EVENT_TYPES.length ? JSON.stringify([...events].sort()) : null;

/** The URL rule lives in one place, used when an endpoint is saved and before every delivery. */
export { webhookUrlProblem } from './webhook-url';

export async function findEndpoint(db: Db, organizationId: string, id: string) {
  const [endpoint] = await db
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.organizationId, organizationId), eq(webhookEndpoints.id, id)))
    .limit(1);
  return endpoint;
}

export async function listEndpoints(db: Db, organizationId: string) {
  return db
    .select()
    .from(webhookEndpoints)
    .where(eq(webhookEndpoints.organizationId, organizationId))
    .orderBy(webhookEndpoints.createdAt, webhookEndpoints.id);
}

/** An endpoint's delivery attempts, newest first. */
export async function listAttempts(db: Db, endpointId: string, opts: { limit: number; cursor?: string }) {
  const after = opts.cursor ? decodeCursor(opts.cursor) : undefined;
  const rows = await db
    .select()
    .from(webhookAttempts)
    .where(
      and(
        eq(webhookAttempts.endpointId, endpointId),
        after
          ? or(
              lt(webhookAttempts.createdAt, after.createdAt),
              and(eq(webhookAttempts.createdAt, after.createdAt), lt(webhookAttempts.id, after.id)),
            )
          : undefined,
      ),
    )
    .orderBy(desc(webhookAttempts.createdAt), desc(webhookAttempts.id))
    .limit(opts.limit + 1);
  const page = rows.slice(0, opts.limit);
  const last = page.at(-1);
  return {
    data: page.map((r) => ({
      id: r.id,
      webhook_id: r.deliveryId,
      event_id: r.eventId,
      event_type: r.eventType,
      attempt: r.attempt,
      status_code: r.statusCode,
      duration_ms: r.durationMs,
      error: r.error,
      created_at: iso(r.createdAt)!,
      next_attempt_at: iso(r.nextAttemptAt),
    })),
    next_cursor: rows.length > opts.limit && last ? encodeCursor(last.createdAt, last.id) : null,
  };
}

/**
 * `userId` is an owner or admin of the organization, read by the write itself: an endpoint write
 * does not pass through the organization's coordinator, so a removal committed between the route's
 * role check and the write must still refuse it (D1 runs each batch as one transaction).
 */
export const isManagerSql = (organizationId: string, userId: string | null) =>
  sql`EXISTS (SELECT 1 FROM memberships WHERE organization_id = ${organizationId} AND user_id = ${userId} AND role IN ('owner', 'admin'))`;

/** The live-endpoint count guard for an insert: at most 10 per organization, even under races. */
export const endpointCountSql = (organizationId: string) =>
  sql`(SELECT count(*) FROM webhook_endpoints WHERE organization_id = ${organizationId})`;
