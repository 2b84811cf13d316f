import { sql, type SQL } from 'drizzle-orm';
import { systemAuditSql } from '../audit/audit.store';
import type { DeliveryState } from '../db/schema';

/** Which states a provider event may follow: a late "delivered" never hides a bounce. */
const FOLLOWS: Record<'delivered' | 'bounced' | 'complained', DeliveryState[]> = {
  delivered: ['queued', 'sent'],
  bounced: ['queued', 'sent', 'delivered'],
  complained: ['queued', 'sent', 'delivered'],
};

/**
 * A provider's own "failed" event (it gave up on a message it had accepted) may only follow a
 * send that has no outcome yet: it never overwrites a delivery, a bounce or a complaint.
 */
export const PROVIDER_FAILED_FOLLOWS: DeliveryState[] = ['queued', 'sent'];

const AUDITED: Partial<Record<DeliveryState, string>> = {
  failed: 'invitation.delivery_failed',
  bounced: 'invitation.bounced',
  complained: 'invitation.complained',
};

/**
 * Statements that record an invitation's delivery state, for the link one outbox row carried only
 * (after a resend the invitation's new link owns the state). The audit insert runs first, under the
 * same predicate as the update that follows it in the batch, so it is written exactly when the
 * update changes the row.
 */
export function recordInvitationDelivery(
  target: { invitationId: string; tokenId: string | null },
  state: DeliveryState,
  detail: string | null,
  now: number,
  opts: { countAttempt?: boolean; onlyIf?: SQL; follows?: DeliveryState[] } = {},
): SQL[] {
  const follows =
    opts.follows ?? (state === 'delivered' || state === 'bounced' || state === 'complained' ? FOLLOWS[state] : null);
  const where = sql`id = ${target.invitationId} AND token_id IS ${target.tokenId} AND token_id IS NOT NULL
    ${
      follows
        ? sql`AND email_delivery IN (${sql.join(
            follows.map((s) => sql`${s}`),
            sql`, `,
          )})`
        : sql``
    }
    ${opts.onlyIf ? sql`AND ${opts.onlyIf}` : sql``}`;
  const action = AUDITED[state];
  return [
    ...(action
      ? [
          systemAuditSql({
            action,
            data: sql`json_object('email', email, 'reason', ${detail})`,
            from: sql`invitations WHERE ${where}`,
            now,
          }),
        ]
      : []),
    sql`UPDATE invitations SET email_delivery = ${state}, email_delivery_detail = ${detail}
      ${opts.countAttempt ? sql`, delivery_attempts = delivery_attempts + 1` : sql``}
      WHERE ${where}`,
  ];
}
