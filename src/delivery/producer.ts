import { errorMessage } from '../lib/redact';
import type { DeliveryMessage } from './outbox';

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
        outboxIds.slice(i, i + 100).map((outboxId) => ({ body: { outboxId } satisfies DeliveryMessage, contentType: 'json' as const })),
      );
    }
  } catch (err) {
    console.error(JSON.stringify({ event: 'delivery_handoff_failed', outbox_ids: outboxIds.slice(0, 10), error: errorMessage(err) }));
  }
}

/** After a write that queued an email: hands its outbox row to the queue, off the response path. */
export function handOffAfter<T extends { ok: boolean }>(ctx: Pick<ExecutionContext, 'waitUntil'>, env: Pick<Env, 'DELIVERY_QUEUE'>, outcome: T): T {
  const id = outcome.ok ? (outcome as { value?: { outboxId?: unknown } }).value?.outboxId : undefined;
  if (typeof id === 'string') ctx.waitUntil(handOff(env, [id]));
  return outcome;
}
