import { sql } from 'drizzle-orm';
import { runBatch } from '../db/batch';
import { redact } from '../lib/redact';
import { REPLAY_WINDOW_SECONDS } from '../lib/standard-webhooks';
import { PROVIDER_FAILED_FOLLOWS, recordInvitationDelivery } from './delivery-state';
import type { ProviderEvent } from './transports';

/**
 * How long a delivery id is remembered (SPEC §18). A signed timestamp is accepted up to the replay
 * window either side of now, so a copy of one delivery can arrive up to twice that after the first.
 */
export const SEEN_EVENT_ID_MS = 2 * REPLAY_WINDOW_SECONDS * 1000;

/**
 * The delivery an event came in (its source and the provider's delivery id), and the request's own
 * claim on it: a random value no other copy of the delivery shares.
 */
export interface EventDelivery {
  source: string;
  id: string;
  claim: string;
}

/**
 * Records the delivery id under this request's claim, or takes over a record past its window; a
 * live record of another request is left alone.
 */
const claimDelivery = (d: EventDelivery, now: number) =>
  sql`INSERT INTO provider_event_ids (source, event_id, claim, expires_at) VALUES (${d.source}, ${d.id}, ${d.claim}, ${now + SEEN_EVENT_ID_MS})
    ON CONFLICT (source, event_id) DO UPDATE SET claim = excluded.claim, expires_at = excluded.expires_at WHERE provider_event_ids.expires_at <= ${now}`;

const holdsClaim = (d: EventDelivery) =>
  sql`EXISTS (SELECT 1 FROM provider_event_ids WHERE source = ${d.source} AND event_id = ${d.id} AND claim = ${d.claim})`;

/** The most of a provider's event text that is stored (`email_delivery_detail`, audit, webhooks). */
export const EVENT_DETAIL_MAX = 200;

/**
 * Applies one provider delivery event (from an event webhook or the email-events queue) to the
 * invitation whose link the message carried, matched by the provider's message id. True when a
 * state changed (then its audit event, and so its webhook event, was written in the same batch).
 * With `delivery`, the id is claimed in that batch and the change applies only under this request's
 * claim: a replay of a delivery already applied (or a concurrent copy) changes nothing.
 *
 * The event's detail is the provider's text as it came. This is the one place it is made fit to
 * store (SPEC §18): the configured API key (`apiKey`) and token-shaped strings are removed first,
 * and only then is it cut, so a key that straddles the cut leaves no part of itself behind.
 */
export async function applyProviderEvent(
  db: Parameters<typeof runBatch>[0],
  event: ProviderEvent,
  now: number,
  opts: { apiKey?: string | null; delivery?: EventDelivery } = {},
): Promise<boolean> {
  const { delivery } = opts;
  const detail = event.detail && redact(event.detail, EVENT_DETAIL_MAX, [opts.apiKey]);
  const [row] = await db.all<{ kind: string; subject_id: string; token_id: string | null }>(
    sql`SELECT kind, subject_id, token_id FROM outbox WHERE provider_message_id = ${event.providerMessageId}`,
  );
  if (row?.kind !== 'invitation_email') return false;
  const results = await runBatch(db, [
    ...(delivery ? [claimDelivery(delivery, now)] : []),
    ...recordInvitationDelivery({ invitationId: row.subject_id, tokenId: row.token_id }, event.state, detail, now, {
      follows: event.state === 'failed' ? PROVIDER_FAILED_FOLLOWS : undefined,
      onlyIf: delivery ? holdsClaim(delivery) : undefined,
    }),
  ]);
  return (results.at(-1)?.meta.changes ?? 0) > 0;
}
