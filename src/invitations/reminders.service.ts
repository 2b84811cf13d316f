import { sql } from 'drizzle-orm';
import { runBatch } from '../db/batch';
import { newOutboxId, outboxInsert } from '../db/outbox';
import { auditStatement } from '../audit/audit.store';
import type { Outcome } from '../errors';
import type { SendingContext } from '../lib/write-context';

/*
 * The reminder before expiry (SPEC §17): one per sending of an invitation, `reminder_days_before_expiry`
 * days before it expires, with the current link (no new link, no new expiry). The cron finds the
 * organizations with reminders due; each organization's coordinator sends its own, as many as its
 * hourly email limit has room for. The others stay due, and go out on a later tick.
 */

/** The longest reminder horizon an organization may set (1–29 days). */
export const MAX_REMINDER_DAYS = 29;
/** Reminders one coordinator call sends at most (an organization has at most 10 live pending). */
export const REMINDERS_PER_CALL = 25;

/**
 * A reminder is due for the invitation `i`: live pending, its `remind_at` reached (set when it was
 * sent: the horizon before expiry, NULL when its life is not longer than the horizon, when the
 * organization sets none, or once sent). A range of the (status, remind_at) index that holds only
 * what is due. Never to an address that bounced or complained: a second email would only hurt.
 */
export const reminderDueSql = (now: number) => sql`i.status = 'pending' AND i.remind_at <= ${now}
  AND i.expires_at > ${now} AND i.reminded_at IS NULL AND i.email_delivery NOT IN ('bounced', 'complained')`;

interface Due {
  id: string;
  email: string;
  token_id: string;
}

/** Sends this organization's due reminders that fit in its hourly email limit; the rest wait. */
export async function sendReminders(ctx: SendingContext): Promise<Outcome<{ sent: number; waiting: number }>> {
  const { db, organizationId: org, now } = ctx;
  const due = await db.all<Due>(sql`SELECT i.id, i.email, i.token_id FROM invitations i
    WHERE i.organization_id = ${org} AND ${reminderDueSql(now)} AND i.token_id IS NOT NULL
    ORDER BY i.expires_at LIMIT ${REMINDERS_PER_CALL}`);
  // As many as the organization's window has room for, soonest expiry first.
  let fit = due.length;
  while (fit > 0 && !(await ctx.quota.orgHasRoom(fit))) fit--;
  if (fit === 0) return { ok: true, value: { sent: 0, waiting: due.length } };
  const sending = due.slice(0, fit).map((inv) => ({ ...inv, outboxId: newOutboxId() }));
  const results = await runBatch(
    db,
    sending.flatMap((inv) => {
      // Still the same sending, live and unreminded, when the batch runs: a resend, decline,
      // revoke or accept in between leaves it alone (and writes neither event nor email).
      const reminded = sql`EXISTS (SELECT 1 FROM invitations WHERE id = ${inv.id} AND reminded_at = ${now}
        AND token_id = ${inv.token_id})`;
      return [
        sql`UPDATE invitations SET reminded_at = ${now}, remind_at = NULL, updated_at = ${now}
          WHERE id = ${inv.id} AND organization_id = ${org} AND status = 'pending' AND expires_at > ${now}
            AND reminded_at IS NULL AND token_id = ${inv.token_id}`,
        auditStatement(
          ctx.actor,
          {
            organizationId: org,
            action: 'invitation.reminded',
            targetType: 'invitation',
            targetId: inv.id,
            data: { email: inv.email },
          },
          now,
          reminded,
        ),
        // To the invitee, with the link of this jti (re-derived when it is sent, dropped if stale).
        outboxInsert(
          {
            id: inv.outboxId,
            kind: 'invitation_reminder_email',
            organizationId: org,
            subjectId: inv.id,
            tokenId: inv.token_id,
          },
          now,
          reminded,
        ),
      ];
    }),
  );
  const sent = sending.filter((_, i) => results[i * 3].meta.changes === 1);
  if (sent.length > 0) await ctx.quota.chargeOrg(sent.length);
  return {
    ok: true,
    value: { sent: sent.length, waiting: due.length - sent.length },
    queued: sent.map((inv) => inv.outboxId),
  };
}
