import { type SQL, and, eq, sql } from 'drizzle-orm';
import { runBatch } from '../db/batch';
import { invitations, organizations, type Locale } from '../db/schema';
import { newOutboxId, outboxInsert } from '../db/outbox';
import { livePendingSql } from '../db/fragments';
import { auditStatement } from '../audit/audit.store';
import { fail, type Outcome } from '../errors';
import { asLocale } from '../lib/roles';
import type { Caller, WriteContext } from '../lib/write-context';
import { type Accepted, acceptAsInvitee } from './acceptance.service';
import { effectiveStatus, type InvitationRow } from './invitations.store';

/*
 * The invitee's writes (SPEC §17): decline (with the link, or from the inbox), ask for a new
 * invitation (with the link of an expired one), and accept from the inbox. Each runs inside the
 * organization's coordinator, and each is one guarded batch: the change, its audit event (after
 * it, so the webhook carries the resource as changed) and the inviter's email.
 */

/** What a link holder presents: the invitation and the link's jti, as the accept route reads them. */
export interface LinkInput {
  invitationId: string;
  jti: string;
}

const refusals = {
  notYours: () => fail('not_found', 'No such invitation for you.'),
  gone: (inv: Pick<InvitationRow, 'status' | 'expiresAt'> | undefined, now: number) =>
    inv && effectiveStatus(inv, now) === 'expired'
      ? fail('invitation_invalid', 'This invitation has expired. Ask the sender to resend it.')
      : fail(
          'invitation_invalid',
          'This invitation link is no longer valid. If it expired, ask the sender to resend it.',
        ),
  notExpired: () =>
    fail('invalid_state', 'This invitation has not expired: accept it instead of asking for a new one.'),
};

/** The invitation and its organization's name, in one read. */
async function readInvitation(ctx: WriteContext, id: string) {
  const [row] = await ctx.db
    .select({ inv: invitations, orgName: organizations.name })
    .from(invitations)
    .leftJoin(organizations, eq(organizations.id, invitations.organizationId))
    .where(and(eq(invitations.organizationId, ctx.organizationId), eq(invitations.id, id)))
    .limit(1);
  return row;
}

/**
 * The decline: the final status `declined` (the link dies, the pending slot and the seat free at
 * once), its audit event and the inviter's email, written only if the guarded update won. `guard`:
 * what proves the invitee (the link's jti, or the session's email).
 */
async function decline(ctx: WriteContext, inv: InvitationRow, guard: SQL): Promise<Outcome<{ declined: true }>> {
  const { db, organizationId: org, now } = ctx;
  const outboxId = newOutboxId();
  const declined = sql`EXISTS (SELECT 1 FROM invitations WHERE id = ${inv.id} AND status = 'declined' AND declined_at = ${now})`;
  const [updated] = await runBatch(db, [
    sql`UPDATE invitations SET status = 'declined', declined_at = ${now}, token_id = NULL, updated_at = ${now}
      WHERE id = ${inv.id} AND organization_id = ${org} AND ${livePendingSql(now)} AND ${guard}`,
    auditStatement(
      ctx.actor,
      {
        organizationId: org,
        action: 'invitation.declined',
        targetType: 'invitation',
        targetId: inv.id,
        data: { email: inv.email, role: inv.role },
      },
      now,
      declined,
    ),
    // To the inviter (`token_id`: their user id), who learns the seat is free again.
    outboxInsert(
      {
        id: outboxId,
        kind: 'invitation_declined_email',
        organizationId: org,
        subjectId: inv.id,
        tokenId: inv.invitedBy,
      },
      now,
      declined,
    ),
  ]);
  if (updated.meta.changes !== 1) return refusals.gone(undefined, now);
  return { ok: true, value: { declined: true }, queued: [outboxId] };
}

/** Decline with the link: the final status `declined`, no account needed. */
export async function declineInvitation(
  ctx: WriteContext,
  input: LinkInput,
): Promise<Outcome<{ declined: true; organization: { name: string }; locale: Locale }>> {
  const row = await readInvitation(ctx, input.invitationId);
  const inv = row?.inv;
  if (!inv || effectiveStatus(inv, ctx.now) !== 'pending' || inv.tokenId !== input.jti) {
    return refusals.gone(inv, ctx.now);
  }
  const done = await decline(ctx, inv, sql`token_id = ${input.jti}`);
  if (!done.ok) return done;
  return {
    ...done,
    value: { declined: true, organization: { name: row.orgName ?? '' }, locale: asLocale(inv.locale) },
  };
}

/** Decline from the inbox; an invitation to another email is 404, one no longer live 410. */
export async function declineMyInvitation(
  ctx: WriteContext,
  caller: Caller,
  input: { invitationId: string },
): Promise<Outcome<{ declined: true }>> {
  const inv = (await readInvitation(ctx, input.invitationId))?.inv;
  if (!inv || inv.email !== caller.email) return refusals.notYours();
  if (effectiveStatus(inv, ctx.now) !== 'pending') return refusals.gone(inv, ctx.now);
  return decline(ctx, inv, sql`email = ${caller.email}`);
}

/** Accept from the inbox: the session proves the email; an invitation to another email is 404. */
export const acceptMyInvitation = (
  ctx: WriteContext,
  caller: Caller,
  input: { invitationId: string },
): Promise<Outcome<Accepted>> => acceptAsInvitee(ctx, caller, input.invitationId);

/** Expired, by effective status (rule 5): written down by the cron or only past `expires_at`. */
const expiredSql = (now: number) => sql`(status = 'expired' OR (status = 'pending' AND expires_at <= ${now}))`;

/**
 * Ask for a new invitation with the link of an expired one: once per expiry (a second is
 * idempotent: `already`, nothing written, no email). The link must still be the invitation's
 * current one. Revoked, declined and accepted invitations offer nothing (409), and neither does
 * a live one (409: accept it).
 */
export async function requestReinvite(
  ctx: WriteContext,
  input: LinkInput,
): Promise<Outcome<{ requested: true; already: boolean; organization: { name: string }; locale: Locale }>> {
  const { db, organizationId: org, now } = ctx;
  const row = await readInvitation(ctx, input.invitationId);
  const inv = row?.inv;
  if (!inv) return refusals.gone(undefined, now);
  const status = effectiveStatus(inv, now);
  // The link first: a link that is not the invitation's current one (resent away, or of an
  // invitation accepted, revoked or declined, which clears it) is dead, 410, and tells its holder
  // nothing of what became of the invitation.
  if (inv.tokenId !== input.jti) return refusals.gone(undefined, now);
  if (status === 'pending') return refusals.notExpired();
  const value = { requested: true as const, organization: { name: row.orgName ?? '' }, locale: asLocale(inv.locale) };
  if (inv.reinviteRequestedAt !== null) return { ok: true, value: { ...value, already: true } };
  const outboxId = newOutboxId();
  const requested = sql`EXISTS (SELECT 1 FROM invitations WHERE id = ${inv.id} AND reinvite_requested_at = ${now})`;
  const [updated] = await runBatch(db, [
    sql`UPDATE invitations SET reinvite_requested_at = ${now}, updated_at = ${now}
      WHERE id = ${inv.id} AND organization_id = ${org} AND token_id = ${input.jti}
        AND reinvite_requested_at IS NULL AND ${expiredSql(now)}`,
    auditStatement(
      ctx.actor,
      {
        organizationId: org,
        action: 'invitation.reinvite_requested',
        targetType: 'invitation',
        targetId: inv.id,
        data: { email: inv.email },
      },
      now,
      requested,
    ),
    outboxInsert(
      { id: outboxId, kind: 'reinvite_request_email', organizationId: org, subjectId: inv.id, tokenId: inv.invitedBy },
      now,
      requested,
    ),
  ]);
  if (updated.meta.changes !== 1) return fail('invalid_state', 'The invitation changed concurrently; try again.');
  return { ok: true, value: { ...value, already: false }, queued: [outboxId] };
}
