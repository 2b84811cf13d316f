import { runBatch } from '../db/batch';
import { sql } from 'drizzle-orm';
import type { Role } from '../db/schema';
import { roleOf } from './organizations.store';
import { fail, type Outcome } from '../errors';
import { auditStatement } from '../audit/audit.store';
import type { ServiceContext } from '../invitations/invitations.service';

/*
 * Membership changes, run inside the organization's Durable Object. Rule 2 (only owners touch the
 * owner role) and rule 12 (the last owner stays) are checked first for a clear error, and again by
 * the guarded statements.
 */

const ownerCountSql = (org: string) =>
  sql`(SELECT count(*) FROM memberships WHERE organization_id = ${org} AND role = 'owner')`;

const roleIn = (ctx: ServiceContext, userId: string | null) => roleOf(ctx.db, ctx.organizationId, userId);

export async function changeMemberRole(ctx: ServiceContext, input: { userId: string; role: Role }): Promise<Outcome<{ role: Role }>> {
  const { db, organizationId: org, now } = ctx;
  const actorRole = await roleIn(ctx, ctx.actor.userId);
  if (actorRole !== 'owner' && actorRole !== 'admin') return fail('forbidden', 'Only owners and admins can change roles.');
  const current = await roleIn(ctx, input.userId);
  if (!current) return fail('not_found', 'No such member in this organization.');
  if ((current === 'owner' || input.role === 'owner') && actorRole !== 'owner') {
    return fail('forbidden', 'Only an owner can make or unmake owners.');
  }
  if (current === input.role) return { ok: true, value: { role: current } };
  const [updated] = await runBatch(db, [
    sql`UPDATE memberships SET role = ${input.role}, updated_at = ${now}
      WHERE organization_id = ${org} AND user_id = ${input.userId} AND role = ${current}
        AND (role != 'owner' OR ${ownerCountSql(org)} > 1)`,
    auditStatement(
      db,
      ctx.actor,
      { organizationId: org, action: 'member.role_changed', targetType: 'membership', targetId: input.userId, data: { from: current, to: input.role } },
      now,
      sql`EXISTS (SELECT 1 FROM memberships WHERE organization_id = ${org} AND user_id = ${input.userId} AND role = ${input.role} AND updated_at = ${now})`,
    ),
  ]);
  if (updated.meta.changes !== 1) {
    return current === 'owner' ? fail('last_owner', 'The last owner cannot be demoted. Make someone else an owner first.') : fail('conflict');
  }
  return { ok: true, value: { role: input.role } };
}

export async function removeMember(ctx: ServiceContext, input: { userId: string }): Promise<Outcome<{ removed: true }>> {
  const { db, organizationId: org, now } = ctx;
  const actorId = ctx.actor.userId;
  const actorRole = await roleIn(ctx, actorId);
  const self = actorId === input.userId;
  const current = await roleIn(ctx, input.userId);
  if (!actorRole) return fail('not_found', 'No such organization.');
  if (!self && actorRole !== 'owner' && actorRole !== 'admin') return fail('forbidden', 'Only owners and admins can remove members.');
  if (!current) return fail('not_found', 'No such member in this organization.');
  if (!self && current === 'owner' && actorRole !== 'owner') return fail('forbidden', 'Only an owner can remove an owner.');
  const [deleted] = await runBatch(db, [
    sql`DELETE FROM memberships WHERE organization_id = ${org} AND user_id = ${input.userId}
      AND (role != 'owner' OR ${ownerCountSql(org)} > 1)`,
    auditStatement(
      db,
      ctx.actor,
      { organizationId: org, action: self ? 'member.left' : 'member.removed', targetType: 'membership', targetId: input.userId, data: { role: current } },
      now,
      sql`NOT EXISTS (SELECT 1 FROM memberships WHERE organization_id = ${org} AND user_id = ${input.userId})`,
    ),
  ]);
  if (deleted.meta.changes !== 1) return fail('last_owner', 'The last owner cannot leave or be removed. Make someone else an owner first.');
  return { ok: true, value: { removed: true } };
}
