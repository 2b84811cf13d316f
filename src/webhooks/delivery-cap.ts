import type { Db } from '../env';
import { hitInOrder, limitFor } from '../rate-limit/rate-limit';

/**
 * SPEC §18, no unmetered relay: an organization's webhook requests are capped per clock minute
 * (`webhookDeliveriesPerOrg`, 600, times `RATE_LIMIT_SCALE`), whatever asked for them: events, test
 * events, redeliveries, retries. The counter is a `rate_limits` row in D1, counted with one atomic
 * upsert by every consumer at once, so the cap is exact however many consumers run.
 *
 * A request over the cap is not sent and not dropped: it waits for a later minute. Its count in the
 * full minute is its place in line, so the k-th one turned away goes ⌈k / cap⌉ minutes on, spread
 * across that minute, rather than every one of them coming back at the same instant.
 */
export async function deliverySlot(
  env: Pick<Env, 'RATE_LIMIT_SCALE'>,
  db: Db,
  organizationId: string,
  now: number,
): Promise<{ retryAt: number } | null> {
  const limit = limitFor(env, 'webhookDeliveriesPerOrg');
  const over = await hitInOrder(db, [{ bucket: `webhook-deliveries:org:${organizationId}`, limit }], now);
  if (!over) return null;
  const place = over.count - limit.max;
  const windowStart = now - (now % limit.windowMs);
  const minutesOn = Math.ceil(place / limit.max);
  const within = Math.floor((((place - 1) % limit.max) * limit.windowMs) / limit.max);
  return { retryAt: windowStart + minutesOn * limit.windowMs + within };
}
