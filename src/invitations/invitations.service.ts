import { type SQL, sql } from 'drizzle-orm';
import { runBatch } from '../db/batch';
import type { Locale, Role } from '../db/schema';
import { auditStatement } from '../audit/audit.store';
import { newOutboxId, outboxInsert } from '../db/outbox';
import { fail, type Outcome } from '../errors';
import { newId } from '../lib/ids';
import { DAY_MS } from '../lib/time';
import type { SendingContext, WriteContext } from '../lib/write-context';
import { createState } from './create.service';
import { livePendingCountSql, livePendingSql, remindAtSql, seatFreeSql } from '../db/fragments';
import { roleOf } from '../organizations/organizations.store';
import { PENDING_LIMIT } from '../lib/limits';
import { expireStaleStatements, isUniqueViolation } from './invitation-sql';
import { effectiveStatus, findInvitation, getInvitationResource, type InvitationResource } from './invitations.store';
import { decideAuthority, decideNewOffer, refusals } from './rules';

/*
 * The state changes of an existing invitation (SPEC §2 rules 7–9). These run only inside the
 * organization's coordinator, one at a time, and each write is also a guarded SQL statement that
 * would refuse an over-limit or double transition on its own. Each answers with the invitation as
 * it now is, read after its batch.
 */

export const RESEND_COOLDOWN_MS = 60_000;

export interface ResendInput {
  id: string;
  expiresInDays?: number;
  locale?: Locale;
}

type Changed = Outcome<{ id: string; resource: InvitationResource }>;

/** The invitation's resource after the batch that changed it. */
async function changed(ctx: WriteContext, id: string, queued?: string[]): Promise<Changed> {
  const resource = await getInvitationResource(ctx.db, ctx.organizationId, id, ctx.now);
  return { ok: true, value: { id, resource }, ...(queued ? { queued } : {}) };
}

/**
 * Rule 7: a new link (the old one dies), a new expiry, back to pending subject to the limit. A new
 * sending re-arms its reminder and may be asked about again once it expires (SPEC §17).
 */
export async function resendInvitation(ctx: SendingContext, input: ResendInput): Promise<Changed> {
  const { db, organizationId: org, now } = ctx;
  const inv = await findInvitation(db, org, input.id);
  if (!inv) return refusals.noInvitation();
  const { role, state } = await createState(ctx, inv.email, inv.id);
  // Resending re-issues the offer, so an owner invitation needs an owner.
  const refused = decideAuthority(role, inv.role === 'owner');
  if (refused) return refused;
  const status = effectiveStatus(inv, now);
  if (status === 'accepted' || status === 'revoked' || status === 'declined') {
    return fail('invalid_state', `An ${status} invitation cannot be resent.`);
  }
  const wait = inv.lastSentAt + RESEND_COOLDOWN_MS - now;
  if (wait > 0) {
    return fail('resend_cooldown', 'This invitation was sent less than 60 seconds ago.', Math.ceil(wait / 1000));
  }
  // Reviving an expired invitation is a new offer: the rules of a create apply to it.
  const offer = status === 'expired' ? decideNewOffer(state, inv.email) : null;
  if (offer) return offer;
  const limited = await ctx.quota.charge(1);
  if (limited) return limited;
  const days = input.expiresInDays ?? inv.expiresInDays;
  const jti = newId('jti');
  const outboxId = newOutboxId();
  const resent = sql`EXISTS (SELECT 1 FROM invitations WHERE id = ${inv.id} AND token_id = ${jti})`;
  try {
    const [, , updated] = await runBatch(db, [
      // Another invitation to this email past its expiry but not yet swept still holds the
      // one-pending-per-email slot: write its expiry down first (as create does).
      ...expireStaleStatements(org, inv.email, now, inv.id),
      sql`UPDATE invitations SET status = 'pending', token_id = ${jti}, expires_in_days = ${days},
          expires_at = ${now + days * DAY_MS}, last_sent_at = ${now}, send_count = send_count + 1,
          email_delivery = 'queued', email_delivery_detail = NULL, delivery_attempts = 0, updated_at = ${now},
          locale = ${input.locale ?? inv.locale}, reminded_at = NULL, reinvite_requested_at = NULL,
          remind_at = (SELECT ${remindAtSql(now + days * DAY_MS, now)} FROM organizations o WHERE o.id = ${org})
        WHERE id = ${inv.id} AND organization_id = ${org} AND last_sent_at <= ${now - RESEND_COOLDOWN_MS}
          AND ((${livePendingSql(now)})
            OR ((status = 'expired' OR (status = 'pending' AND expires_at <= ${now}))
                AND ${livePendingCountSql(org, now)} < ${PENDING_LIMIT} AND ${seatFreeSql(org, now)}))`,
      auditStatement(
        ctx.actor,
        {
          organizationId: org,
          action: 'invitation.resent',
          targetType: 'invitation',
          targetId: inv.id,
          data: { expires_in_days: days, revived: status === 'expired' },
        },
        now,
        resent,
      ),
      // The new link's email; a message still queued for the old link is dropped when it arrives.
      outboxInsert(
        { id: outboxId, kind: 'invitation_email', organizationId: org, subjectId: inv.id, tokenId: jti },
        now,
        resent,
      ),
    ]);
    if (updated.meta.changes !== 1) {
      // The guards refused what the read allowed: a limit changed outside the queue (the seat limit
      // is set by a PATCH of the organization). Name the rule as the read now sees it.
      const again =
        status === 'expired' ? decideNewOffer((await createState(ctx, inv.email, inv.id)).state, inv.email) : null;
      return again ?? fail('invalid_state', 'The invitation changed concurrently; try again.');
    }
  } catch (err) {
    if (isUniqueViolation(err)) return fail('invitation_already_pending');
    throw err;
  }
  return changed(ctx, inv.id, [outboxId]);
}

/**
 * A change to a live pending invitation (revoke, role): the guarded UPDATE, and its audit event
 * written only when the update won (`happened`).
 */
async function changePending(
  ctx: WriteContext,
  id: string,
  change: { set: SQL; happened: SQL; action: string; data: Record<string, unknown> },
): Promise<Changed> {
  const { db, organizationId: org, now } = ctx;
  const [updated] = await runBatch(db, [
    sql`UPDATE invitations SET ${change.set}, updated_at = ${now}
      WHERE id = ${id} AND organization_id = ${org} AND ${livePendingSql(now)}`,
    auditStatement(
      ctx.actor,
      { organizationId: org, action: change.action, targetType: 'invitation', targetId: id, data: change.data },
      now,
      change.happened,
    ),
  ]);
  if (updated.meta.changes !== 1) return fail('invalid_state', 'The invitation is no longer pending.');
  return changed(ctx, id);
}

/** The invitation, when the caller may touch it and it is still pending. */
async function pendingFor(ctx: WriteContext, id: string, touchesOwnerRole: (role: Role) => boolean, verb: string) {
  const inv = await findInvitation(ctx.db, ctx.organizationId, id);
  if (!inv) return refusals.noInvitation();
  const refused = decideAuthority(
    await roleOf(ctx.db, ctx.organizationId, ctx.actor.userId),
    touchesOwnerRole(inv.role),
  );
  if (refused) return refused;
  const status = effectiveStatus(inv, ctx.now);
  if (status !== 'pending')
    return fail('invalid_state', `Only pending invitations can be ${verb}; this one is ${status}.`);
  return { ok: true as const, inv };
}

/** Rule 8: pending only, permanent, the link dies at once. */
export async function revokeInvitation(ctx: WriteContext, input: { id: string }): Promise<Changed> {
  // Withdrawing an offer grants nothing, so admins may revoke owner invitations too.
  const found = await pendingFor(ctx, input.id, () => false, 'revoked');
  if (!found.ok) return found;
  const { now } = ctx;
  return changePending(ctx, input.id, {
    set: sql`status = 'revoked', revoked_at = ${now}, token_id = NULL`,
    happened: sql`EXISTS (SELECT 1 FROM invitations WHERE id = ${input.id} AND status = 'revoked' AND revoked_at = ${now})`,
    action: 'invitation.revoked',
    data: { email: found.inv.email },
  });
}

/** Rule 9: change a pending invitation's role without resending. */
export async function updateInvitationRole(ctx: WriteContext, input: { id: string; role: Role }): Promise<Changed> {
  const found = await pendingFor(ctx, input.id, (role) => role === 'owner' || input.role === 'owner', 'edited');
  if (!found.ok) return found;
  return changePending(ctx, input.id, {
    set: sql`role = ${input.role}`,
    happened: sql`EXISTS (SELECT 1 FROM invitations WHERE id = ${input.id} AND role = ${input.role} AND updated_at = ${ctx.now})`,
    action: 'invitation.role_changed',
    data: { from: found.inv.role, to: input.role },
  });
}
