import { drizzle } from 'drizzle-orm/d1';
import { errorMessage } from '../lib/redact';
import { applyProviderEvent } from './provider-events';
import { handOffNewWebhooks } from './producer';
import { readQueuedEmailEvent } from './transports';

/** A message whose event could not be applied (D1 unavailable) comes back after this long. */
export const EMAIL_EVENT_RETRY_SECONDS = 30;

/**
 * The email-events queue's consumer: delivery events a provider publishes to a queue through an
 * event subscription (read in `transports/`) move `email_delivery` exactly as the event webhooks
 * do (SPEC §10, §15). Messages are read in order, so a `delivered` followed by a
 * `complained` for one email lands as both. Every message is acknowledged once read, whatever it
 * holds: an unknown or malformed message is logged (one line) and dropped, never retried; only a
 * failure to write (D1) brings a message back, at most `max_retries` times (wrangler.toml).
 */
export async function consumeEmailEventBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const db = drizzle(env.DB);
  const now = Date.now();
  let applied = 0;
  for (const message of batch.messages) {
    const reading = readQueuedEmailEvent(message.body);
    if (reading.kind === 'unreadable') {
      console.error(
        JSON.stringify({
          event: 'email_event_unreadable',
          queue: batch.queue,
          message_id: message.id,
          reason: reading.reason,
        }),
      );
      message.ack();
      continue;
    }
    if (reading.kind === 'ignored') {
      console.log(
        JSON.stringify({
          event: 'email_event',
          type: reading.type,
          outcome: 'ignored',
          provider_message_id: reading.providerMessageId,
        }),
      );
      message.ack();
      continue;
    }
    try {
      const changed = await applyProviderEvent(db, reading.event, now, { apiKey: env.EMAIL_API_KEY });
      if (changed) applied += 1;
      console.log(
        JSON.stringify({
          event: 'email_event',
          type: reading.type,
          outcome: changed ? 'applied' : 'unchanged',
          state: reading.event.state,
          provider_message_id: reading.event.providerMessageId,
        }),
      );
      message.ack();
    } catch (err) {
      console.error(JSON.stringify({ event: 'email_event_error', message_id: message.id, error: errorMessage(err) }));
      message.retry({ delaySeconds: EMAIL_EVENT_RETRY_SECONDS });
    }
  }
  // Bounces and failures are webhook events too (`invitation.bounced`, `invitation.delivery_failed`).
  if (applied > 0) await handOffNewWebhooks(env, db, now);
}
