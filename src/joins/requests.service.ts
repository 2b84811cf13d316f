import { type SQL, sql } from 'drizzle-orm';
import type { Role } from '../db/schema';
import { runBatch } from '../db/batch';
import { newOutboxId, outboxInsert } from '../db/outbox';
import { ownedElsewhereSql } from '../db/fragments';
import { auditStatement } from '../audit/audit.store';
import { fail, type Failure, type Outcome } from '../errors';
import { OWNED_ORGANIZATIONS_LIMIT } from '../lib/limits';
import { isManager } from '../lib/roles';
import type { Caller, WriteContext } from '../lib/write-context';
import { decideJoin, joinedSql, joinState, joinStatements, type Joiner } from './join-sql';
import {
  findJoinRequest,
  type JoinRequestResource,
  type JoinRequestRow,
  type Member,
  memberFrom,
  memberSql,
  resourceFrom,
  resourceSql,
} from './requests.store';

/*
 * Deciding join requests (SPEC §16): approve, reject, and the requester's withdrawal. These run only
 * inside the organization's coordinator, one at a time; each is also a guarded statement (the
 * request still pending, the decider still allowed), so a request is decided once whatever ran
 * concurrently. Each batch ends by reading what it changed, so the answer costs no extra round trip.
 */

export interface ApproveInput {
  id: string;
  /** The role granted; the request's own when omitted. */
  role?: Role;
}

export interface RejectInput {
  id: string;
  /** Why, told to the requester (trimmed by the route; null or absent: no reason given). */
  reason?: string | null;
}

/** The refusals of a decision, each with its one message. */
export const requestRefusals = {
  noRequest: () => fail('not_found', 'No such join request in this organization.'),
  notManager: () => fail('forbidden', 'Only owners and admins can decide join requests.'),
  grantNeedsOwner: () => fail('forbidden', 'Only an owner can grant the owner or admin role.'),
  notPending: (status: string, verb: string) =>
    fail('invalid_state', `Only pending join requests can be ${verb}; this one is ${status}.`),
  changed: () => fail('invalid_state', 'The join request changed concurrently; reload and try again.'),
  ownerCap: () =>
    fail(
      'organization_limit',
      `This account already owns ${OWNED_ORGANIZATIONS_LIMIT} organizations; grant another role, or ask them to hand one over first.`,
    ),
} satisfies Record<string, (...args: never[]) => Failure>;

/** Roles only an owner may grant (rule 2, and SPEC §16: an admin cannot grant owner or admin). */
const needsOwner = (role: Role) => role === 'owner' || role === 'admin';

/** The request is still pending: what every decision's statements are guarded by. */
const pendingSql = (org: string, id: string) =>
  sql`EXISTS (SELECT 1 FROM join_requests WHERE id = ${id} AND organization_id = ${org} AND status = 'pending')`;

/** `userId` may still decide, granting `role` (when approving): re-checked by the batch itself. */
const deciderSql = (org: string, userId: string, grants?: Role) =>
  sql`EXISTS (SELECT 1 FROM memberships WHERE organization_id = ${org} AND user_id = ${userId}
    AND role IN ${grants && needsOwner(grants) ? sql`('owner')` : sql`('owner', 'admin')`})`;

/** The request decided by this batch (its status, at this moment, by this account). */
const decidedSql = (id: string, status: string, by: string, now: number) =>
  sql`EXISTS (SELECT 1 FROM join_requests WHERE id = ${id} AND status = ${status} AND decided_by = ${by} AND decided_at = ${now})`;

/** The request, when `caller` may decide it (granting `grants`) and it is still pending. */
async function decidable(
  ctx: WriteContext,
  caller: Caller,
  id: string,
  verb: string,
  grants?: (request: JoinRequestRow) => Role,
): Promise<Failure | { ok: true; request: JoinRequestRow }> {
  const request = await findJoinRequest(ctx.db, ctx.organizationId, id, caller.id);
  if (!request) return requestRefusals.noRequest();
  // The role read now, in the queue: a removal or demotion since the caller was authenticated counts.
  if (!request.actorRole) return fail('not_found', 'No such organization.');
  if (!isManager(request.actorRole)) return requestRefusals.notManager();
  if (grants && needsOwner(grants(request)) && request.actorRole !== 'owner') return requestRefusals.grantNeedsOwner();
  if (request.status !== 'pending') return requestRefusals.notPending(request.status, verb);
  return { ok: true, request };
}

/** The decision email to the requester, written only when the decision happened (`decided`). */
function decisionEmail(ctx: WriteContext, request: JoinRequestRow, decided: SQL) {
  const id = newOutboxId();
  const row = {
    id,
    kind: 'join_decision_email' as const,
    organizationId: ctx.organizationId,
    subjectId: request.id,
    tokenId: request.userId,
  };
  return { id, statement: outboxInsert(row, ctx.now, decided) };
}

export type Approved = { join_request: JoinRequestResource; member: Member };

/**
 * Approves a pending request: the requester becomes a member with `role` (the request's unless
 * given) through the one membership write every way in shares (seats, allowed domains, the
 * owned-organization cap), the request is marked approved, `join_request.approved` is recorded
 * after the change (the webhook reads the resource as it now is) and the requester is emailed: one
 * batch. A refusal leaves the request pending, except when the requester is already a member: the
 * request can never be approved then, and is closed as withdrawn (no email, no event).
 */
export async function approveJoinRequest(
  ctx: WriteContext,
  caller: Caller,
  input: ApproveInput,
): Promise<Outcome<Approved>> {
  const { organizationId: org, now } = ctx;
  const found = await decidable(ctx, caller, input.id, 'approved', (r) => input.role ?? r.role);
  if (!found.ok) return found;
  const { request } = found;
  const role = input.role ?? request.role;
  const joiner: Joiner = { id: request.userId, email: request.email };
  // Decided before the batch (read with the request), not after it: the batch's later statements
  // know the join happened by a membership made at this moment, which a member who joined another
  // way in the same millisecond would also match. The queue runs one write at a time: this is exact.
  if (request.requesterIsMember === 1) return whyNotJoined(ctx, caller, request, role);
  const guards = [pendingSql(org, request.id), deciderSql(org, caller.id, role)];
  const approved = decidedSql(request.id, 'approved', caller.id, now);
  const email = decisionEmail(ctx, request, approved);
  const results = await runBatch(ctx.db, [
    ...joinStatements(ctx, joiner, role, 'request', guards, { request_id: request.id }),
    sql`UPDATE join_requests SET status = 'approved', role = ${role}, decided_at = ${now}, decided_by = ${caller.id},
        updated_at = ${now}
      WHERE id = ${request.id} AND organization_id = ${org} AND status = 'pending'
        AND ${joinedSql(org, joiner.id, now)}`,
    auditStatement(
      ctx.actor,
      {
        organizationId: org,
        action: 'join_request.approved',
        targetType: 'join_request',
        targetId: request.id,
        data: { role, requested_role: request.role, email: request.email },
      },
      now,
      approved,
    ),
    email.statement,
    resourceSql(request.id),
    memberSql(org, joiner.id),
  ]);
  if (results[0].meta.changes !== 1) return whyNotJoined(ctx, caller, request, role);
  const joinRequest = resourceFrom(results.at(-2));
  const member = memberFrom(results.at(-1));
  if (!joinRequest || !member) return requestRefusals.changed();
  return { ok: true, value: { join_request: joinRequest, member }, queued: [email.id] };
}

/**
 * Why an approval's guarded INSERT inserted nothing, read after it: the join rules first (a setting
 * changed outside the queue, such as the seat limit), then the owned-organization cap, else a
 * concurrent change. A requester who is a member by now has their request closed.
 */
async function whyNotJoined(ctx: WriteContext, caller: Caller, request: JoinRequestRow, role: Role): Promise<Failure> {
  const joiner = { id: request.userId, email: request.email };
  const refused = decideJoin(await joinState(ctx, joiner));
  if (refused?.code === 'already_member') {
    await closeAsMember(ctx, caller, request);
    return fail('already_member', `${request.email} is already a member of this organization.`);
  }
  if (refused) return refused;
  if (role === 'owner') {
    const [row] = await ctx.db.all<{ owned: number }>(
      sql`SELECT ${ownedElsewhereSql(joiner.id, ctx.organizationId)} AS owned`,
    );
    if (row.owned >= OWNED_ORGANIZATIONS_LIMIT) return requestRefusals.ownerCap();
  }
  return requestRefusals.changed();
}

/** Closes the pending request of a requester who joined another way: nothing is left to decide. */
async function closeAsMember(ctx: WriteContext, caller: Caller, request: JoinRequestRow) {
  const { organizationId: org, now } = ctx;
  await runBatch(ctx.db, [
    sql`UPDATE join_requests SET status = 'withdrawn', decided_at = ${now}, decided_by = ${caller.id}, updated_at = ${now}
      WHERE id = ${request.id} AND organization_id = ${org} AND status = 'pending'`,
    auditStatement(
      ctx.actor,
      {
        organizationId: org,
        action: 'join_request.withdrawn',
        targetType: 'join_request',
        targetId: request.id,
        data: { reason: 'already_member', email: request.email },
      },
      now,
      decidedSql(request.id, 'withdrawn', caller.id, now),
    ),
  ]);
}

/**
 * Rejects a pending request, with an optional reason told to the requester: the request marked
 * rejected, `join_request.rejected` recorded after the change, and the requester emailed. Rejecting
 * grants nothing, so admins may reject any request.
 */
export async function rejectJoinRequest(
  ctx: WriteContext,
  caller: Caller,
  input: RejectInput,
): Promise<Outcome<JoinRequestResource>> {
  const { organizationId: org, now } = ctx;
  const found = await decidable(ctx, caller, input.id, 'rejected');
  if (!found.ok) return found;
  const { request } = found;
  const reason = input.reason || null;
  const rejected = decidedSql(request.id, 'rejected', caller.id, now);
  const email = decisionEmail(ctx, request, rejected);
  const results = await runBatch(ctx.db, [
    sql`UPDATE join_requests SET status = 'rejected', reason = ${reason}, decided_at = ${now}, decided_by = ${caller.id},
        updated_at = ${now}
      WHERE id = ${request.id} AND organization_id = ${org} AND status = 'pending' AND ${deciderSql(org, caller.id)}`,
    auditStatement(
      ctx.actor,
      {
        organizationId: org,
        action: 'join_request.rejected',
        targetType: 'join_request',
        targetId: request.id,
        data: { reason, email: request.email },
      },
      now,
      rejected,
    ),
    email.statement,
    resourceSql(request.id),
  ]);
  const resource = resourceFrom(results.at(-1));
  if (results[0].meta.changes !== 1 || !resource) return requestRefusals.changed();
  return { ok: true, value: resource, queued: [email.id] };
}

/**
 * The requester withdraws their own pending request (any signed-in account: they are not a
 * member). Someone else's request is answered as an unknown one. No email and no webhook event:
 * only the audit log records it.
 */
export async function withdrawJoinRequest(
  ctx: WriteContext,
  caller: Caller,
  input: { id: string },
): Promise<Outcome<{ withdrawn: true }>> {
  const { organizationId: org, now } = ctx;
  const request = await findJoinRequest(ctx.db, org, input.id, caller.id);
  if (!request || request.userId !== caller.id) return fail('not_found', 'No such join request.');
  if (request.status !== 'pending') return requestRefusals.notPending(request.status, 'withdrawn');
  const [updated] = await runBatch(ctx.db, [
    sql`UPDATE join_requests SET status = 'withdrawn', decided_at = ${now}, decided_by = ${caller.id}, updated_at = ${now}
      WHERE id = ${request.id} AND organization_id = ${org} AND user_id = ${caller.id} AND status = 'pending'`,
    auditStatement(
      ctx.actor,
      {
        organizationId: org,
        action: 'join_request.withdrawn',
        targetType: 'join_request',
        targetId: request.id,
        data: { email: request.email },
      },
      now,
      decidedSql(request.id, 'withdrawn', caller.id, now),
    ),
  ]);
  if (updated.meta.changes !== 1) return requestRefusals.changed();
  return { ok: true, value: { withdrawn: true } };
}
