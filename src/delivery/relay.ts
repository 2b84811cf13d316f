import { sql } from 'drizzle-orm';
import type { Db } from '../env';
import { handOff, handOffWebhooks } from './producer';

/** A row still undelivered this long after it was due (or claimed) has lost its queue message. */
export const RELAY_AFTER_MS = 2 * 60_000;
const RELAY_BATCH = 100;
const RELAY_MAX_BATCHES = 20;

/**
 * The cron relay: re-hands outbox rows that were committed but never handed over (a crash between
 * commit and enqueue), or whose message was lost, or whose consumer died mid-send. Each re-handed
 * row is marked due now, so it is re-handed again only if it stays stuck another 2 minutes. The
 * consumer is idempotent, so a row handed twice is still sent once.
 */
export async function runOutboxRelay(
  env: Pick<Env, 'DELIVERY_QUEUE'>,
  db: Db,
  now: number,
): Promise<{ rehanded: number }> {
  // Emails, and webhook messages likewise (their next attempt is a delayed queue message that may be lost).
  const emails = await relay(db, 'outbox', now, (ids) => handOff(env, ids));
  const webhooks = await relay(db, 'webhook_deliveries', now, (ids) => handOffWebhooks(env, ids));
  return { rehanded: emails + webhooks };
}

/** Marks the overdue rows of one table due now, in bounded batches, and hands each batch over. */
async function relay(
  db: Db,
  table: 'outbox' | 'webhook_deliveries',
  now: number,
  hand: (ids: string[]) => Promise<void>,
): Promise<number> {
  let rehanded = 0;
  const t = sql.identifier(table);
  for (let i = 0; i < RELAY_MAX_BATCHES; i++) {
    const rows = await db.all<{
      id: string;
    }>(sql`UPDATE ${t} SET status = 'pending', next_attempt_at = ${now}, updated_at = ${now}
      WHERE id IN (SELECT id FROM ${t} WHERE status IN ('pending', 'sending') AND next_attempt_at <= ${now - RELAY_AFTER_MS}
                   ORDER BY next_attempt_at LIMIT ${RELAY_BATCH})
      RETURNING id`);
    await hand(rows.map((r) => r.id));
    rehanded += rows.length;
    if (rows.length < RELAY_BATCH) break;
  }
  return rehanded;
}
