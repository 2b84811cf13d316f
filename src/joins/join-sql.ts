import { type SQL, sql } from 'drizzle-orm';
import type { JoinSource, Role } from '../db/schema';
import { auditStatement, systemAuditSql } from '../audit/audit.store';
import { andAll, livePendingSql, ownedElsewhereSql, seatFreeSql } from '../db/fragments';
import { closePendingRequestStatements, domainAllowedSql } from '../invitations/invitation-sql';
import { OWNED_ORGANIZATIONS_LIMIT } from '../lib/limits';
import { env as workerEnv } from 'cloudflare:workers';
import { fail, type Failure } from '../errors';
import { hitSql, limitFor } from '../rate-limit/rate-limit';
import type { WriteContext } from '../lib/write-context';

/*
 * Every way in beyond the emailed invitation (SPEC §16) ends in one of two writes, each written
 * once here: a membership (a link, a domain join, an approval) or a join request (a link that
 * requires approval, a domain with `domain_join` = `request`). The coordinator runs them one at a
 * time; each is also a guarded statement, so a seat, a link's last use or a request is taken once
 * whatever ran concurrently.
 */

/** How a member came in, as `member.added` says (`invitation` is the accept's, in acceptance). */
export type Via = 'link' | 'domain' | 'request';

/** The account joining or asking. */
export interface Joiner {
  id: string;
  email: string;
}

/** At most this many pending join requests per organization (SPEC §16). */
export const PENDING_REQUESTS_LIMIT = 100;

/** The refusals of every way in, each with its one message. */
export const joinRefusals = {
  alreadyMember: () => fail('already_member', 'You are already a member of this organization.'),
  seatLimit: () => fail('seat_limit', 'This organization has no seat left. Ask an owner to raise the seat limit.'),
  domainNotAllowed: () =>
    fail('email_domain_not_allowed', 'This organization only admits addresses at its allowed email domains.'),
  requestPending: () =>
    fail('invalid_state', 'You already asked to join this organization; an owner or admin will decide.'),
  requestQuota: (wait: number) =>
    fail(
      'rate_limited',
      `You asked to join organizations too often today. Try again in ${Math.ceil(wait / 3600)} hours.`,
      wait,
    ),
  tooManyRequests: () =>
    fail(
      'rate_limited',
      `This organization has ${PENDING_REQUESTS_LIMIT} join requests waiting for a decision. Try again later.`,
    ),
} satisfies Record<string, (...args: never[]) => Failure>;

/** `userId` is a member of the organization. */
export const isMemberSql = (org: string, userId: string) =>
  sql`EXISTS (SELECT 1 FROM memberships WHERE organization_id = ${org} AND user_id = ${userId})`;

/** The membership made at `now` exists: what the statements after a join's INSERT are conditioned on. */
export const joinedSql = (org: string, userId: string, now: number) =>
  sql`EXISTS (SELECT 1 FROM memberships WHERE organization_id = ${org} AND user_id = ${userId} AND created_at = ${now})`;

/**
 * What a join needs and may be refused for, read in one round trip: whether the account is a
 * member, whether a seat is free for it, whether its email is at an allowed domain.
 */
export async function joinState(ctx: WriteContext, joiner: Joiner) {
  const org = ctx.organizationId;
  const [row] = await ctx.db.all<{ member: number; seat: number; domain_ok: number }>(sql`SELECT
    ${isMemberSql(org, joiner.id)} AS member,
    ${seatFreeSql(org, ctx.now, 1, joiner.email)} AS seat,
    (SELECT ${domainAllowedSql(joiner.email)} FROM organizations o WHERE o.id = ${org}) AS domain_ok`);
  return { member: row.member === 1, seatFree: row.seat === 1, domainAllowed: row.domain_ok === 1 };
}

/** The first rule that refuses `joiner` a membership, from `joinState`. */
export function decideJoin(state: Awaited<ReturnType<typeof joinState>>): Failure | null {
  if (state.member) return joinRefusals.alreadyMember();
  if (!state.domainAllowed) return joinRefusals.domainNotAllowed();
  if (!state.seatFree) return joinRefusals.seatLimit();
  return null;
}

/**
 * Every statement that makes `joiner` a member with `role`: the INSERT, guarded by not a member
 * yet, the allowed domains, a free seat and `guards` (what the way in adds: a live link, a pending
 * request); then, only if it inserted, `member.added` with `via` in the audit log (and so as a
 * webhook event), and the system revocation of a pending invitation to the joiner's email (its
 * seat is the membership's now) and of their pending join request. `audit`: more to record with
 * `member.added`. The INSERT is first.
 */
export function joinStatements(
  ctx: WriteContext,
  joiner: Joiner,
  role: Role,
  via: Via,
  guards: SQL[],
  audit: Record<string, unknown> = {},
): SQL[] {
  const { organizationId: org, now } = ctx;
  const joined = joinedSql(org, joiner.id, now);
  const theirs = sql`organization_id = ${org} AND email = ${joiner.email} AND status = 'pending' AND ${joined}`;
  return [
    sql`INSERT INTO memberships (organization_id, user_id, role, created_at, updated_at)
      SELECT ${org}, ${joiner.id}, ${role}, ${now}, ${now} FROM organizations o
      WHERE o.id = ${org} AND NOT ${isMemberSql(org, joiner.id)} AND ${domainAllowedSql(joiner.email)}
        AND ${seatFreeSql(org, now, 1, joiner.email)}
        ${role === 'owner' ? sql`AND ${ownedElsewhereSql(joiner.id, org)} < ${OWNED_ORGANIZATIONS_LIMIT}` : sql``}
        ${andAll(guards)}`,
    auditStatement(
      ctx.actor,
      {
        organizationId: org,
        action: 'member.added',
        targetType: 'membership',
        targetId: joiner.id,
        data: { via, role, email: joiner.email, ...audit },
      },
      now,
      joined,
    ),
    systemAuditSql({
      action: 'invitation.revoked',
      data: sql`json_object('email', email, 'role', role, 'reason', 'joined_otherwise', 'via', ${via},
        'was', CASE WHEN ${livePendingSql(now)} THEN 'pending' ELSE 'expired' END)`,
      from: sql`invitations WHERE ${theirs}`,
      now,
    }),
    sql`UPDATE invitations SET status = 'revoked', revoked_at = ${now}, token_id = NULL, updated_at = ${now} WHERE ${theirs}`,
    // An approval closes its own request; any other way in closes the one still waiting.
    ...(via === 'request' ? [] : closePendingRequestStatements(org, joiner.id, via, joined, now)),
  ];
}

/** What a new join request is made of. */
export interface NewJoinRequest {
  id: string;
  source: JoinSource;
  linkId: string | null;
  role: Role;
}

/*
 * The account's daily count of join requests (each emails every owner and admin): counted in the
 * batch that files one, and a guard of its INSERT. Only the coordinator runs these (its environment
 * comes from `cloudflare:workers`).
 */
const requestLimit = () => limitFor(workerEnv, 'joinRequestsPerAccount');
const requestBucket = (userId: string) => `join-requests:account:${userId}`;
const requestWindowStart = (now: number) => now - (now % requestLimit().windowMs);
/** How many join requests `userId` filed in the current window. */
export const requestsTodaySql = (userId: string, now: number) =>
  sql`coalesce((SELECT count FROM rate_limits WHERE bucket = ${requestBucket(userId)} AND window_start = ${requestWindowStart(now)}), 0)`;

/** 429 when `filed` (`requestsTodaySql`) is the day's whole allowance. */
export function decideRequestCount(filed: number, now: number): Failure | null {
  const wait = Math.ceil((requestWindowStart(now) + requestLimit().windowMs - now) / 1000);
  return filed >= requestLimit().max ? joinRefusals.requestQuota(wait) : null;
}

/** 429 when `userId` filed its day's join requests already: checked before a request is filed. */
export async function decideRequestQuota(ctx: WriteContext, userId: string): Promise<Failure | null> {
  const [row] = await ctx.db.all<{ count: number }>(sql`SELECT ${requestsTodaySql(userId, ctx.now)} AS count`);
  return decideRequestCount(row.count, ctx.now);
}

/** The request `id` exists: what the statements after its INSERT are conditioned on. */
export const requestedSql = (id: string) => sql`EXISTS (SELECT 1 FROM join_requests WHERE id = ${id})`;

/**
 * Every statement that files a join request by `joiner`: the INSERT, guarded by not a member, room
 * under the pending-request limit and `guards` (the partial unique index keeps one pending per
 * organization and account) and the account's daily request limit; then, only if it inserted,
 * `join_request.created` in the audit log, the count of the account's requests, and one email to
 * each owner and admin (outbox rows, `RETURNING id`: hand them off). The INSERT is
 * first; the outbox INSERT is last.
 */
export function requestStatements(ctx: WriteContext, joiner: Joiner, request: NewJoinRequest, guards: SQL[]): SQL[] {
  const { organizationId: org, now } = ctx;
  const requested = requestedSql(request.id);
  return [
    sql`INSERT INTO join_requests (id, organization_id, user_id, source, link_id, role, status, created_at, updated_at)
      SELECT ${request.id}, ${org}, ${joiner.id}, ${request.source}, ${request.linkId}, ${request.role}, 'pending', ${now}, ${now}
      WHERE NOT ${isMemberSql(org, joiner.id)}
        AND (SELECT count(*) FROM join_requests WHERE organization_id = ${org} AND status = 'pending') < ${PENDING_REQUESTS_LIMIT}
        AND ${requestsTodaySql(joiner.id, now)} < ${requestLimit().max}
        ${andAll(guards)}`,
    auditStatement(
      ctx.actor,
      {
        organizationId: org,
        action: 'join_request.created',
        targetType: 'join_request',
        targetId: request.id,
        data: { source: request.source, link_id: request.linkId, role: request.role, email: joiner.email },
      },
      now,
      requested,
    ),
    hitSql(requestBucket(joiner.id), requestLimit(), now, requested).statement,
    sql`INSERT INTO outbox (id, kind, organization_id, subject_id, token_id, status, attempts, next_attempt_at, created_at, updated_at)
      SELECT 'obx_' || lower(hex(randomblob(10))), 'join_request_email', ${org}, ${request.id}, m.user_id, 'pending', 0, ${now}, ${now}, ${now}
      FROM memberships m WHERE m.organization_id = ${org} AND m.role IN ('owner', 'admin') AND ${requested}
      RETURNING id`,
  ];
}

/** The outbox ids a batch's `RETURNING id` statement gave back. */
export const returnedIds = (result: D1Result | undefined) =>
  ((result?.results ?? []) as { id: string }[]).map((r) => r.id);
