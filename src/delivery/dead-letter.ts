import { drizzle } from 'drizzle-orm/d1';
import { sql } from 'drizzle-orm';
import { runBatch } from '../db/batch';
import { recordInvitationDelivery } from './delivery-state';
import { readMessage } from '../db/outbox';
import { handOffNewWebhooks } from './producer';

/**
 * The dead-letter queue's consumer. Messages arrive here two ways: the consumer gave up on a row
 * (already `failed`), or the queue gave up on a message whose consumer kept crashing. Either way
 * the row is marked dead-lettered and, if it was still in flight, failed, so the invitation shows
 * `failed` and can be resent.
 */
export async function consumeDeadLetters(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const db = drizzle(env.DB);
  const now = Date.now();
  for (const message of batch.messages) {
    const body = readMessage(message.body);
    if (body && 'webhook' in body) {
      // A webhook message whose consumer kept crashing: given up.
      await db.run(
        sql`UPDATE webhook_deliveries SET status = 'failed', updated_at = ${now} WHERE id = ${body.webhook} AND status IN ('pending', 'sending')`,
      );
      console.error(JSON.stringify({ event: 'webhook_dead_letter', webhook_id: body.webhook }));
    } else if (body) {
      const reason = 'Gave up: the delivery queue could not process this message';
      const [row] = await db.all<{ kind: string; subject_id: string; token_id: string | null; status: string }>(
        sql`SELECT kind, subject_id, token_id, status FROM outbox WHERE id = ${body.outboxId}`,
      );
      const inFlight = sql`EXISTS (SELECT 1 FROM outbox WHERE id = ${body.outboxId} AND status IN ('pending', 'sending'))`;
      await runBatch(db, [
        ...(row?.kind === 'invitation_email'
          ? recordInvitationDelivery({ invitationId: row.subject_id, tokenId: row.token_id }, 'failed', reason, now, {
              onlyIf: inFlight,
            })
          : []),
        sql`UPDATE outbox SET dead_lettered_at = ${now}, updated_at = ${now},
            last_error = CASE WHEN status IN ('pending', 'sending') THEN ${reason} ELSE last_error END,
            status = CASE WHEN status IN ('pending', 'sending') THEN 'failed' ELSE status END
          WHERE id = ${body.outboxId}`,
      ]);
      console.error(
        JSON.stringify({ event: 'delivery_dead_letter', outbox_id: body.outboxId, status_before: row?.status ?? null }),
      );
      if (row?.kind === 'invitation_email') await handOffNewWebhooks(env, db, now);
    }
    message.ack();
  }
}
