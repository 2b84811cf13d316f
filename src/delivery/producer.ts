import { sql } from 'drizzle-orm';
import type { Db } from '../env';
import { errorMessage } from '../lib/redact';
import type { DeliveryMessage, WebhookMessage } from '../db/outbox';

/**
 * Hands committed outbox rows to the delivery queue. Called after the D1 batch that wrote them
 * (in `waitUntil`, off the response path). If this fails or the isolate dies first, the cron relay
 * hands the rows over 2 minutes later: nothing is lost, only delayed.
 */
export async function handOff(env: Pick<Env, 'DELIVERY_QUEUE'>, outboxIds: readonly string[]): Promise<void> {
  if (outboxIds.length === 0) return;
  try {
    for (let i = 0; i < outboxIds.length; i += 100) {
      await env.DELIVERY_QUEUE.sendBatch(
        outboxIds
          .slice(i, i + 100)
          .map((outboxId) => ({ body: { outboxId } satisfies DeliveryMessage, contentType: 'json' as const })),
      );
    }
  } catch (err) {
    console.error(
      JSON.stringify({
        event: 'delivery_handoff_failed',
        outbox_ids: outboxIds.slice(0, 10),
        error: errorMessage(err),
      }),
    );
  }
}

/** Hands webhook messages (`msg_…` ids) to the delivery queue, optionally after a delay. */
export async function handOffWebhooks(
  env: Pick<Env, 'DELIVERY_QUEUE'>,
  ids: readonly string[],
  delaySeconds = 0,
): Promise<void> {
  if (ids.length === 0) return;
  try {
    for (let i = 0; i < ids.length; i += 100) {
      await env.DELIVERY_QUEUE.sendBatch(
        ids.slice(i, i + 100).map((webhook) => ({
          body: { webhook } satisfies WebhookMessage,
          contentType: 'json' as const,
          delaySeconds,
        })),
      );
    }
  } catch (err) {
    console.error(
      JSON.stringify({ event: 'webhook_handoff_failed', webhook_ids: ids.slice(0, 10), error: errorMessage(err) }),
    );
  }
}

/**
 * After a batch that may have written webhook events (any change with an audit row, at `now`):
 * hands the new deliveries to the queue. Without endpoints this is one indexed probe that finds
 * nothing; a lost hand-off is relayed by the cron.
 */
export async function handOffNewWebhooks(
  env: Pick<Env, 'DELIVERY_QUEUE'>,
  db: Db,
  now: number,
  organizationId?: string,
): Promise<void> {
  try {
    // Pages of 1000 (a large sweep times every endpoint), in id order.
    let after = '';
    for (;;) {
      const rows = await db.all<{
        id: string;
      }>(sql`SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at = ${now}
        ${organizationId ? sql`AND organization_id = ${organizationId}` : sql``} AND attempts = 0 AND id > ${after} ORDER BY id LIMIT 1000`);
      await handOffWebhooks(
        env,
        rows.map((r) => r.id),
      );
      if (rows.length < 1000) break;
      after = rows[rows.length - 1].id;
    }
  } catch (err) {
    console.error(JSON.stringify({ event: 'webhook_handoff_failed', error: errorMessage(err) }));
  }
}
