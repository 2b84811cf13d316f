import { drizzle } from 'drizzle-orm/d1';
import { sql } from 'drizzle-orm';
import { runBatch } from '../db/batch';
import type { Db } from '../env';
import { headerSafe } from '../email/mime';
import { errorMessage, redact } from '../lib/redact';
import { recordInvitationDelivery } from './delivery-state';
import { deliverWebhook } from '../webhooks/sender';
import { handOffNewWebhooks, handOffWebhooks } from './producer';
import { readMessage } from '../db/outbox';
import { renderOutboxRow, renderReads, type OutboxRow } from './render';
import { transportFor, type SendResult } from './transports';
import { reserveSendSlot, sendRatePerSecond } from './send-pacer';

/** Attempts per message (the first plus five retries), and the waits after each failed one. */
export const MAX_ATTEMPTS = 6;
export const RETRY_DELAYS_MS = [60_000, 5 * 60_000, 15 * 60_000, 30 * 60_000, 60 * 60_000] as const;
/** What tenants see when the email transport is misconfigured (the detail is in the operator's log). */
export const MISCONFIGURED_REASON = 'Email is not configured on this service';
/** How long one consumer holds a row while it sends (a send gives up after 10 s). */
export const CLAIM_MS = 60_000;

/** The wait after `attempt` failed attempts, scaled by `DELIVERY_RETRY_SCALE` (default 1). */
export function retryDelayMs(env: { DELIVERY_RETRY_SCALE?: string }, attempt: number): number {
  const scale = Number(env.DELIVERY_RETRY_SCALE ?? '1');
  const factor = Number.isFinite(scale) && scale >= 0 ? scale : 1;
  return Math.round(RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length) - 1] * factor);
}

/**
 * The consumer's clock: what time it is, and a wait. Production uses the real ones; tests pass a
 * clock of their own so that pacing can be checked without sleeping through real time.
 */
export interface DeliveryClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: DeliveryClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** What to do with the queue message: acknowledge it, or have the queue bring it back later. */
export type Verdict = { ack: true } | { ack: false; retryAfterMs: number };

const ACK: Verdict = { ack: true };

/**
 * Delivers one outbox row, at most once per row: the row is claimed with a conditional update
 * (a duplicate message, or a second consumer, finds it claimed or done), the message is rendered
 * from the current state (a stale link is dropped, never sent), sent through the configured
 * transport, and the outcome is written under the claim.
 */
export async function deliverOne(
  env: Env,
  db: Db,
  outboxId: string,
  now: number,
  clock: DeliveryClock = realClock,
): Promise<Verdict> {
  const claimEnd = now + CLAIM_MS;
  // The claim, and what rendering needs, in one round trip.
  const [claimed, ...reads] = await runBatch(db, [
    sql`UPDATE outbox SET status = 'sending', attempts = attempts + 1,
        next_attempt_at = ${claimEnd}, updated_at = ${now}
      WHERE id = ${outboxId} AND status IN ('pending', 'sending') AND next_attempt_at <= ${now}
      RETURNING id, kind, organization_id, subject_id, token_id, attempts`,
    ...renderReads(outboxId),
  ]);
  const row = claimed.results[0] as OutboxRow | undefined;
  if (!row) {
    // Done, dropped, not due yet (another message carries its schedule), or claimed by another
    // consumer: then come back when that claim ends, in case it never finishes.
    const [other] = await db.all<{ status: string; next_attempt_at: number }>(
      sql`SELECT status, next_attempt_at FROM outbox WHERE id = ${outboxId}`,
    );
    return other?.status === 'sending'
      ? { ack: false, retryAfterMs: Math.max(1000, other.next_attempt_at - now) }
      : ACK;
  }
  const held = sql`EXISTS (SELECT 1 FROM outbox WHERE id = ${row.id} AND status = 'sending' AND next_attempt_at = ${claimEnd})`;
  const finish = (
    status: 'sent' | 'pending' | 'failed' | 'dropped',
    fields: { nextAttemptAt?: number; error?: string | null; providerMessageId?: string | null },
  ) =>
    sql`UPDATE outbox SET status = ${status}, next_attempt_at = ${fields.nextAttemptAt ?? now}, last_error = ${fields.error ?? null},
        provider_message_id = coalesce(${fields.providerMessageId ?? null}, provider_message_id), updated_at = ${now}
      WHERE id = ${row.id} AND status = 'sending' AND next_attempt_at = ${claimEnd}`;
  const invitation = row.kind === 'invitation_email' ? { invitationId: row.subject_id, tokenId: row.token_id } : null;
  const log = (outcome: string, extra: Record<string, unknown> = {}) =>
    console.log(
      JSON.stringify({
        event: 'delivery_attempt',
        outbox_id: row.id,
        kind: row.kind,
        attempt: row.attempts,
        outcome,
        ...extra,
      }),
    );

  const rendered = await renderOutboxRow(env, row, reads, now);
  if (!rendered.ok) {
    await runBatch(db, [finish('dropped', { error: rendered.stale })]);
    log('dropped', { reason: rendered.stale });
    return ACK;
  }

  const choice = transportFor(env);
  let result: SendResult;
  if (!choice.ok) {
    // SPEC §18: operators get the configuration problem in the log, keyed by the row; tenants a fixed phrase.
    console.error(
      JSON.stringify({
        event: 'email_transport_misconfigured',
        reason: redact(choice.reason, 300, [env.EMAIL_API_KEY]),
        outbox_id: row.id,
      }),
    );
    result = { status: 'permanent', reason: MISCONFIGURED_REASON };
  } else {
    // SPEC §15: never faster than the transport allows. The slot comes from the transport's pacer
    // (src/delivery/send-pacer.ts); a slot too far off puts the message back, not counted as an attempt.
    const rate = sendRatePerSecond(env, choice.transport);
    if (rate !== null) {
      const slot = await reserveSendSlot(env, choice.transport.name, rate, clock.now());
      if ('retryAt' in slot) {
        const backIn = Math.max(1000, Math.ceil((slot.retryAt - clock.now()) / 1000) * 1000);
        await db.run(sql`UPDATE outbox SET status = 'pending', attempts = attempts - 1, next_attempt_at = ${slot.retryAt}, updated_at = ${now}
          WHERE id = ${row.id} AND status = 'sending' AND next_attempt_at = ${claimEnd}`);
        log('paced', { transport: choice.transport.name, rate_per_second: rate, retry_in_ms: backIn });
        return { ack: false, retryAfterMs: backIn };
      }
      const wait = slot.at - clock.now();
      if (wait > 0) await clock.sleep(wait);
    }
    result = await choice.transport.send({
      ...rendered.mail,
      from: env.EMAIL_FROM,
      fromName: '8bit-ai',
      subject: headerSafe(rendered.mail.subject),
      headers: { 'Auto-Submitted': 'auto-generated' },
      idempotencyKey: row.id,
    });
  }

  if (result.status === 'sent') {
    await runBatch(db, [
      ...(invitation
        ? recordInvitationDelivery(invitation, 'sent', null, now, { countAttempt: true, onlyIf: held })
        : []),
      finish('sent', { providerMessageId: result.providerMessageId }),
    ]);
    log('sent', { transport: choice.ok ? choice.transport.name : null });
    return ACK;
  }
  if (result.status === 'retryable' && row.attempts < MAX_ATTEMPTS) {
    const wait = retryDelayMs(env, row.attempts);
    await runBatch(db, [
      ...(invitation
        ? recordInvitationDelivery(invitation, 'queued', `Retrying: ${result.reason}`, now, {
            countAttempt: true,
            onlyIf: held,
          })
        : []),
      finish('pending', { nextAttemptAt: now + wait, error: result.reason }),
    ]);
    log('retry', { reason: result.reason, retry_in_ms: wait });
    return { ack: false, retryAfterMs: wait };
  }
  const gaveUp = result.status === 'retryable';
  const reason = gaveUp ? `Gave up after ${row.attempts} attempts: ${result.reason}` : result.reason;
  await runBatch(db, [
    ...(invitation
      ? recordInvitationDelivery(invitation, 'failed', reason, now, { countAttempt: true, onlyIf: held })
      : []),
    finish('failed', { error: reason }),
  ]);
  // `invitation.delivery_failed` is a webhook event too.
  if (invitation && row.organization_id) await handOffNewWebhooks(env, db, now, row.organization_id);
  log('failed', { reason });
  if (gaveUp) {
    try {
      await env.DELIVERY_DLQ.send({ outboxId: row.id, reason }, { contentType: 'json' });
    } catch (err) {
      console.error(JSON.stringify({ event: 'dead_letter_failed', outbox_id: row.id, error: errorMessage(err) }));
    }
  }
  return ACK;
}

/**
 * The queue consumer. Messages of one batch are independent: each is acknowledged or retried on
 * its own, so one that throws (D1 unavailable, a bug) comes back later and never takes the others
 * with it.
 */
export async function consumeDeliveryBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const db = drizzle(env.DB);
  await Promise.all(
    batch.messages.map(async (message) => {
      const body = readMessage(message.body);
      if (!body) {
        console.error(JSON.stringify({ event: 'delivery_message_unreadable', message_id: message.id }));
        message.ack();
        return;
      }
      if ('webhook' in body) {
        try {
          const verdict = await deliverWebhook(env, db, body.webhook, Date.now());
          // The next attempt is a fresh message (a queue delay is at most 12 h, retention a day or more);
          // if that send fails, the cron relay re-hands the row once it is overdue.
          if (!verdict.done)
            await handOffWebhooks(env, [body.webhook], Math.min(12 * 3600, Math.ceil(verdict.retryInMs / 1000)));
          message.ack();
        } catch (err) {
          console.error(JSON.stringify({ event: 'webhook_error', webhook_id: body.webhook, error: errorMessage(err) }));
          message.retry({ delaySeconds: 60 });
        }
        return;
      }
      try {
        const verdict = await deliverOne(env, db, body.outboxId, Date.now());
        if (verdict.ack) message.ack();
        else message.retry({ delaySeconds: Math.min(12 * 3600, Math.round(verdict.retryAfterMs / 1000)) });
      } catch (err) {
        console.error(JSON.stringify({ event: 'delivery_error', outbox_id: body.outboxId, error: errorMessage(err) }));
        message.retry({ delaySeconds: CLAIM_MS / 1000 });
      }
    }),
  );
}
