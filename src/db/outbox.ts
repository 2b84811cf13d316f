import { sql, type SQL } from 'drizzle-orm';
import type { OutboxKind } from './schema';
import { newId } from '../lib/ids';

/** What a queue message carries: only the outbox row's id (never a token). */
export interface DeliveryMessage {
  outboxId: string;
}

/** A webhook message: only the delivery's id (`msg_…`, its `webhook-id`). */
export interface WebhookMessage {
  webhook: string;
}

export const newOutboxId = () => newId('obx');

/**
 * The outbox row for a message to deliver, to put in the same D1 batch as the change that calls
 * for it (SPEC §10). With `onlyIf`, it is written only when the change really happened.
 */
export function outboxInsert(
  row: { id: string; kind: OutboxKind; organizationId: string | null; subjectId: string; tokenId: string },
  now: number,
  onlyIf?: SQL,
): SQL {
  return sql`INSERT INTO outbox (id, kind, organization_id, subject_id, token_id, status, attempts, next_attempt_at, created_at, updated_at)
    SELECT ${row.id}, ${row.kind}, ${row.organizationId}, ${row.subjectId}, ${row.tokenId}, 'pending', 0, ${now}, ${now}, ${now}
    WHERE ${onlyIf ?? sql`1`}`;
}

/** Reads a queue message body; null for anything this pipeline did not write. */
export function readMessage(body: unknown): DeliveryMessage | WebhookMessage | null {
  const { outboxId, webhook } = (body ?? {}) as { outboxId?: unknown; webhook?: unknown };
  if (typeof outboxId === 'string' && /^obx_[a-z0-9]{20}$/.test(outboxId)) return { outboxId };
  if (typeof webhook === 'string' && /^msg_[a-z0-9]{20,24}$/.test(webhook)) return { webhook };
  return null;
}
