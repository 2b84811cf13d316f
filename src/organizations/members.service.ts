import { env as workerEnv } from 'cloudflare:workers';
import { runBatch } from '../db/batch';
import { hit, limitFor } from '../rate-limit/rate-limit';
import { sql, type SQL } from 'drizzle-orm';
import type { Role } from '../db/schema';
import { listMembers, roleOf } from './organizations.store';
import { OWNED_ORGANIZATIONS_LIMIT } from '../lib/limits';
import { fail, type Outcome } from '../errors';
import { auditStatement, systemAuditSql } from '../audit/audit.store';
import { livePendingSql } from '../db/fragments';
import { MANAGERS, isManager } from '../lib/roles';
import type { WriteContext } from '../lib/write-context';

/*
 * Membership changes, run inside the organization's Durable Object. Rule 2 (only owners touch the
 * owner role) and rule 12 (the last owner stays) are checked first for a clear error, and again by
 * the guarded statements.
 */

const ownerCountSql = (org: string) =>
  sql`(SELECT count(*) FROM memberships WHERE organization_id = ${org} AND role = 'owner')`;

/** `disabled_reason` of an endpoint or invite link whose `created_by` lost the owner/admin role (SPEC §16, §18). */
export const CREATOR_REMOVED = 'creator_removed';

/**
 * For the batch that takes `userId`'s authority (removal, leaving, demotion below admin; when
 * `onlyIf` holds): their enabled endpoints are disabled with `creator_removed`, each with a system
 * audit event, and what was queued for them is dropped. Put these before the batch's own audit
 * rows: the trigger fans events out to enabled endpoints only, so theirs gets none of that batch.
 */
export function disableEndpointsCreatedBy(organizationId: string, userId: string, now: number, onlyIf: SQL): SQL[] {
  const theirs = sql`organization_id = ${organizationId} AND created_by = ${userId}`;
  return [
    systemAuditSql({
      action: 'webhook.disabled',
      target: 'webhook',
      data: sql`json_object('reason', ${CREATOR_REMOVED}, 'created_by', created_by, 'url', url)`,
      from: sql`webhook_endpoints WHERE ${theirs} AND enabled = 1 AND ${onlyIf}`,
      now,
    }),
    sql`UPDATE webhook_endpoints SET enabled = 0, disabled_reason = ${CREATOR_REMOVED}, updated_at = ${now}
      WHERE ${theirs} AND enabled = 1 AND ${onlyIf}`,
    sql`UPDATE webhook_deliveries SET status = 'dropped', updated_at = ${now}
      WHERE endpoint_id IN (SELECT id FROM webhook_endpoints WHERE ${theirs} AND disabled_reason = ${CREATOR_REMOVED}) AND status IN ('pending', 'sending') AND ${onlyIf}`,
  ];
}

/**
 * For the same batch (SPEC §16): `userId`'s enabled invite links are disabled with
 * `creator_removed`, then each gets a system `invite_link.disabled` audit event (after the change,
 * so its webhook event shows the link disabled). Their URLs admit no one from this batch on.
 */
export function disableLinksCreatedBy(organizationId: string, userId: string, now: number, onlyIf: SQL): SQL[] {
  const theirs = sql`organization_id = ${organizationId} AND created_by = ${userId}`;
  return [
    sql`UPDATE invite_links SET enabled = 0, disabled_reason = ${CREATOR_REMOVED}, updated_at = ${now}
      WHERE ${theirs} AND enabled = 1 AND deleted_at IS NULL AND ${onlyIf}`,
    systemAuditSql({
      action: 'invite_link.disabled',
      target: 'invite_link',
      data: sql`json_object('reason', ${CREATOR_REMOVED}, 'created_by', created_by)`,
      from: sql`invite_links WHERE ${theirs} AND enabled = 0 AND disabled_reason = ${CREATOR_REMOVED}
        AND updated_at = ${now} AND ${onlyIf}`,
      now,
    }),
  ];
}

/** Why a sender's invitations were revoked (SPEC §14: authority does not outlive its holder). */
type RevokeReason = 'sender_removed' | 'sender_left' | 'sender_demoted';

/**
 * The invitations `senderId` sent that they could no longer send, revoked by the system in the
 * same batch as the change that took their authority (when `onlyIf` holds): an audit entry each
 * (actor `system`, with the reason), then the revocation, which kills their links at once.
 * Pending ones (SPEC §14), and expired ones too (SPEC §18): a resend revives an expired invitation
 * as it was sent, role included, so a remaining admin could otherwise renew the offer of someone
 * who lost the right to make it. A revoked invitation cannot be resent (409 `invalid_state`).
 * `was` in the audit entry tells the two apart.
 * `ownerRoleOnly`: an owner demoted to admin keeps the invitations an admin may send.
 */
function revokeSentBy(
  org: string,
  senderId: string,
  reason: RevokeReason,
  now: number,
  onlyIf: SQL,
  ownerRoleOnly = false,
): SQL[] {
  const sent = sql`organization_id = ${org} AND invited_by = ${senderId} AND status IN ('pending', 'expired')
    ${ownerRoleOnly ? sql`AND role = 'owner'` : sql``} AND ${onlyIf}`;
  return [
    systemAuditSql({
      action: 'invitation.revoked',
      data: sql`json_object('email', email, 'role', role, 'reason', ${reason}, 'sender_id', invited_by,
        'was', CASE WHEN ${livePendingSql(now)} THEN 'pending' ELSE 'expired' END)`,
      from: sql`invitations WHERE ${sent}`,
      now,
    }),
    sql`UPDATE invitations SET status = 'revoked', revoked_at = ${now}, token_id = NULL, updated_at = ${now} WHERE ${sent}`,
  ];
}

type Member = Awaited<ReturnType<typeof listMembers>>[number];

/** The member as the API shows them, after the change. */
async function memberNow(ctx: WriteContext, userId: string): Promise<Outcome<Member>> {
  const member = (await listMembers(ctx.db, ctx.organizationId)).find((m) => m.user_id === userId);
  return member ? { ok: true, value: member } : fail('not_found', 'No such member in this organization.');
}

const roleIn = (ctx: WriteContext, userId: string | null) => roleOf(ctx.db, ctx.organizationId, userId);

export async function changeMemberRole(
  ctx: WriteContext,
  input: { userId: string; role: Role },
): Promise<Outcome<Member>> {
  const { db, organizationId: org, now } = ctx;
  const actorRole = await roleIn(ctx, ctx.actor.userId);
  if (!isManager(actorRole)) return fail('forbidden', 'Only owners and admins can change roles.');
  const current = await roleIn(ctx, input.userId);
  if (!current) return fail('not_found', 'No such member in this organization.');
  if ((current === 'owner' || input.role === 'owner') && actorRole !== 'owner') {
    return fail('forbidden', 'Only an owner can make or unmake owners.');
  }
  if (current === input.role) return memberNow(ctx, input.userId);
  // Becoming an owner cannot take an account past the owned-organization cap (SPEC §14).
  const ownerCap = OWNED_ORGANIZATIONS_LIMIT;
  const ownedElsewhere = sql`(SELECT count(*) FROM memberships WHERE user_id = ${input.userId} AND role = 'owner' AND organization_id != ${org})`;
  if (input.role === 'owner') {
    const [{ owned }] = await db.all<{ owned: number }>(sql`SELECT ${ownedElsewhere} AS owned`);
    if (owned >= ownerCap)
      return fail(
        'organization_limit',
        `This member already owns ${ownerCap} organizations, the most an account can own.`,
      );
  }
  // Each change is a webhook event to every endpoint: metered per organization (SPEC §18). The
  // coordinator runs one change at a time, so a D1 counter checked here is exact. (This runs only
  // inside the coordinator, whose environment `cloudflare:workers` provides.)
  const wait = await hit(db, `role-changes:org:${org}`, limitFor(workerEnv, 'roleChangesPerOrg'), now);
  if (wait !== null)
    return fail('rate_limited', `This organization changed too many roles. Try again in ${wait} seconds.`, wait);
  const changed = sql`EXISTS (SELECT 1 FROM memberships WHERE organization_id = ${org} AND user_id = ${input.userId} AND role = ${input.role} AND updated_at = ${now})`;
  // Below admin: none of their pending invitations stand. Owner to admin: their owner invitations.
  const revoked = !MANAGERS.includes(input.role)
    ? revokeSentBy(org, input.userId, 'sender_demoted', now, changed)
    : current === 'owner'
      ? revokeSentBy(org, input.userId, 'sender_demoted', now, changed, true)
      : [];
  const [updated] = await runBatch(db, [
    sql`UPDATE memberships SET role = ${input.role}, updated_at = ${now}
      WHERE organization_id = ${org} AND user_id = ${input.userId} AND role = ${current}
        AND (role != 'owner' OR ${ownerCountSql(org)} > 1)
        AND (${input.role} != 'owner' OR ${ownedElsewhere} < ${ownerCap})`,
    // Below admin, their webhook endpoints stop first: none of this batch's events reach them. And
    // their invite links stop admitting anyone.
    ...(MANAGERS.includes(input.role)
      ? []
      : [
          ...disableEndpointsCreatedBy(org, input.userId, now, changed),
          ...disableLinksCreatedBy(org, input.userId, now, changed),
        ]),
    auditStatement(
      ctx.actor,
      {
        organizationId: org,
        action: 'member.role_changed',
        targetType: 'membership',
        targetId: input.userId,
        data: { from: current, to: input.role },
      },
      now,
      changed,
    ),
    ...revoked,
  ]);
  if (updated.meta.changes !== 1) {
    return current === 'owner'
      ? fail('last_owner', 'The last owner cannot be demoted. Make someone else an owner first.')
      : fail('conflict');
  }
  return memberNow(ctx, input.userId);
}

export async function removeMember(
  ctx: WriteContext,
  input: { userId: string },
): Promise<Outcome<{ removed: true; self: boolean }>> {
  const { db, organizationId: org, now } = ctx;
  const actorId = ctx.actor.userId;
  const actorRole = await roleIn(ctx, actorId);
  const self = actorId === input.userId;
  const current = await roleIn(ctx, input.userId);
  if (!actorRole) return fail('not_found', 'No such organization.');
  if (!self && !isManager(actorRole)) return fail('forbidden', 'Only owners and admins can remove members.');
  if (!current) return fail('not_found', 'No such member in this organization.');
  if (!self && current === 'owner' && actorRole !== 'owner')
    return fail('forbidden', 'Only an owner can remove an owner.');
  const gone = sql`NOT EXISTS (SELECT 1 FROM memberships WHERE organization_id = ${org} AND user_id = ${input.userId})`;
  const [deleted] = await runBatch(db, [
    sql`DELETE FROM memberships WHERE organization_id = ${org} AND user_id = ${input.userId}
      AND (role != 'owner' OR ${ownerCountSql(org)} > 1)`,
    // Their webhook endpoints stop first: none of this batch's events reach them (SPEC §18).
    ...disableEndpointsCreatedBy(org, input.userId, now, gone),
    ...disableLinksCreatedBy(org, input.userId, now, gone),
    auditStatement(
      ctx.actor,
      {
        organizationId: org,
        action: self ? 'member.left' : 'member.removed',
        targetType: 'membership',
        targetId: input.userId,
        data: { role: current },
      },
      now,
      gone,
    ),
    ...revokeSentBy(org, input.userId, self ? 'sender_left' : 'sender_removed', now, gone),
  ]);
  if (deleted.meta.changes !== 1)
    return fail('last_owner', 'The last owner cannot leave or be removed. Make someone else an owner first.');
  return { ok: true, value: { removed: true, self } };
}
