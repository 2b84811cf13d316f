import { sql } from 'drizzle-orm';
import { runBatch } from '../db/batch';
import { PROVIDER_FAILED_FOLLOWS, recordInvitationDelivery } from './delivery-state';
import type { ProviderEvent } from './transports';

/**
 * Applies one provider delivery event (from an event webhook or the email-events queue) to the
 * invitation whose link the message carried, matched by the provider's message id. True when a
 * state changed (then its audit event, and so its webhook event, was written in the same batch).
 */
export async function applyProviderEvent(db: Parameters<typeof runBatch>[0], event: ProviderEvent, now: number): Promise<boolean> {
  const [row] = await db.all<{ kind: string; subject_id: string; token_id: string | null }>(
    sql`SELECT kind, subject_id, token_id FROM outbox WHERE provider_message_id = ${event.providerMessageId}`,
  );
  if (row?.kind !== 'invitation_email') return false;
  const results = await runBatch(
    db,
    recordInvitationDelivery({ invitationId: row.subject_id, tokenId: row.token_id }, event.state, event.detail, now, {
      follows: event.state === 'failed' ? PROVIDER_FAILED_FOLLOWS : undefined,
    }),
  );
  return (results.at(-1)?.meta.changes ?? 0) > 0;
}
