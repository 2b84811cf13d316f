import type { Db } from '../env';
import { ApiError } from '../errors';
import { hitInOrder, limitFor } from '../rate-limit/rate-limit';

/**
 * SPEC §18, no unmetered relay: `…/test` and `…/redeliver` make the service send a request to a
 * URL of the caller's choosing, so they are limited per endpoint (`webhookRelayPerEndpoint`, 10 a
 * minute) and per organization (`webhookRelayPerOrg`, 60 a minute), both times `RATE_LIMIT_SCALE`.
 * Counted in D1 (`rate_limits`, one atomic upsert each, in one batch), so exact under any
 * concurrency; a call the endpoint's limit refuses spends nothing of the organization's. Counted
 * once the endpoint is found (and, for a test, enabled): an unknown endpoint's 404 and a disabled
 * one's 409 are free; a redelivery of an unknown attempt counts (it is checked by the write).
 * Over either limit: 429 `rate_limited` with Retry-After, and nothing is queued.
 */
export async function chargeRelay(
  ctx: { env: Pick<Env, 'RATE_LIMIT_SCALE'>; db: Db; organizationId: string; now: number },
  endpointId: string,
): Promise<void> {
  const over = await hitInOrder(
    ctx.db,
    [
      { bucket: `webhook-relay:endpoint:${endpointId}`, limit: limitFor(ctx.env, 'webhookRelayPerEndpoint') },
      { bucket: `webhook-relay:org:${ctx.organizationId}`, limit: limitFor(ctx.env, 'webhookRelayPerOrg') },
    ],
    ctx.now,
  );
  if (!over) return;
  const what = over.index === 0 ? 'this endpoint' : "this organization's endpoints";
  throw new ApiError(
    'rate_limited',
    `Too many test events and redeliveries for ${what}. Try again in ${over.wait} seconds.`,
    {
      headers: { 'Retry-After': String(over.wait) },
    },
  );
}
