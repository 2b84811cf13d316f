import { type SQL, sql } from 'drizzle-orm';
import type { JoinRole } from '../db/schema';
import { runBatch } from '../db/batch';
import { isManagerSql } from '../db/fragments';
import { auditStatement } from '../audit/audit.store';
import { fail, type Outcome } from '../errors';
import { base64url, sha256Hex } from '../lib/crypto';
import { newId } from '../lib/ids';
import { DAY_MS, iso } from '../lib/time';
import type { Caller, WriteContext } from '../lib/write-context';
import { domainAllowedSql } from '../invitations/invitation-sql';
import {
  PENDING_REQUESTS_LIMIT,
  decideJoin,
  decideRequestCount,
  requestsTodaySql,
  joinRefusals,
  joinState,
  joinStatements,
  joinedSql,
  requestStatements,
  requestedSql,
  returnedIds,
} from './join-sql';
import {
  LIVE_LINKS_LIMIT,
  findLink,
  findLinkByHash,
  linkResource,
  liveLinkCountSql,
  liveLinkSql,
  type InviteLinkResource,
  type LinkRow,
} from './links.store';
import { type JoinRequestResource, joinRequestResource } from './requests.store';

/*
 * Invite links (SPEC §16), run inside the organization's coordinator: one write at a time, so what
 * is read first is what the batch meets; each batch is guarded as well (the caller still manages
 * the organization, the link is still live, the limit of 10 live links holds).
 *
 * A link's URL carries a code: 192 random bits, base64url, kept only as its SHA-256. It is returned
 * (to the route, which makes the URL) by create and rotate only, and written nowhere else.
 */

export interface CreateLinkInput {
  role: JoinRole;
  maxUses: number;
  expiresInDays: number;
  requiresApproval: boolean;
}
export interface UpdateLinkInput {
  id: string;
  enabled?: boolean;
  maxUses?: number;
  expiresInDays?: number;
}
export type RotateLinkInput = { id: string };
export type RedeemInput = { codeHash: string };

/** A link and its code (create, rotate): the code goes into the URL and nowhere else. */
export interface LinkWithCode {
  resource: InviteLinkResource;
  code: string;
}

/** What a redemption answers: a membership, or a join request when the link requires approval. */
export type Redeemed =
  | { joined: { organization: { id: string; name: string; slug: string }; role: JoinRole } }
  | { requested: { join_request: JoinRequestResource } };

/** Why an `invite_link.disabled` event was written. */
type DisabledReason = 'disabled' | 'rotated' | 'used_up' | 'deleted';

const newLinkCode = () => base64url(crypto.getRandomValues(new Uint8Array(24)));

const notFound = () => fail('not_found', 'No such invite link in this organization.');
const linkInvalid = () =>
  fail('invite_link_invalid', 'This invite link is no longer valid. Ask the organization for a new one.');
const tooManyLinks = () =>
  fail(
    'invite_link_limit',
    `An organization can have at most ${LIVE_LINKS_LIMIT} live invite links. Disable or delete one first.`,
  );
const alreadyRedeemed = () => fail('invalid_state', 'You already used this invite link; it admits an account once.');

/** After a guarded write changed nothing: 403 when the caller no longer manages the organization. */
async function noLongerManager(ctx: WriteContext, caller: Caller) {
  const [{ manager }] = await ctx.db.all<{ manager: number }>(
    sql`SELECT ${isManagerSql(ctx.organizationId, caller.id)} AS manager`,
  );
  return manager === 1 ? null : fail('forbidden', 'Only owners and admins can manage invite links.');
}

const linkEvent = (ctx: WriteContext, id: string, action: string, data: Record<string, unknown>, onlyIf: SQL) =>
  auditStatement(
    ctx.actor,
    { organizationId: ctx.organizationId, action, targetType: 'invite_link', targetId: id, data },
    ctx.now,
    onlyIf,
  );

const disabledEvent = (ctx: WriteContext, id: string, reason: DisabledReason, onlyIf: SQL) =>
  linkEvent(ctx, id, 'invite_link.disabled', { reason }, onlyIf);

/** The link was written by this batch (its `updated_at` is the batch's time). */
const touchedSql = (id: string, now: number) =>
  sql`EXISTS (SELECT 1 FROM invite_links WHERE id = ${id} AND updated_at = ${now})`;

async function resourceNow(ctx: WriteContext, id: string): Promise<InviteLinkResource> {
  return (await linkResource(ctx.db, ctx.organizationId, id, ctx.now))!;
}

export async function createInviteLink(
  ctx: WriteContext,
  caller: Caller,
  input: CreateLinkInput,
): Promise<Outcome<LinkWithCode>> {
  const { db, organizationId: org, now } = ctx;
  const id = newId('lnk');
  const code = newLinkCode();
  const expiresAt = now + input.expiresInDays * DAY_MS;
  const [inserted] = await runBatch(db, [
    sql`INSERT INTO invite_links (id, organization_id, code_hash, role, max_uses, uses, expires_at, requires_approval, enabled, created_by, created_at, updated_at)
      SELECT ${id}, ${org}, ${await sha256Hex(code)}, ${input.role}, ${input.maxUses}, 0, ${expiresAt},
        ${input.requiresApproval ? 1 : 0}, 1, ${caller.id}, ${now}, ${now}
      WHERE ${isManagerSql(org, caller.id)} AND ${liveLinkCountSql(org, now)} < ${LIVE_LINKS_LIMIT}`,
    linkEvent(
      ctx,
      id,
      'invite_link.created',
      {
        role: input.role,
        max_uses: input.maxUses,
        expires_at: iso(expiresAt),
        requires_approval: input.requiresApproval,
      },
      sql`EXISTS (SELECT 1 FROM invite_links WHERE id = ${id})`,
    ),
  ]);
  if (inserted.meta.changes !== 1) return (await noLongerManager(ctx, caller)) ?? tooManyLinks();
  return { ok: true, value: { resource: await resourceNow(ctx, id), code } };
}

/**
 * Changes `enabled`, `max_uses` or the expiry. A change that makes a link live again counts
 * against the limit of 10; whoever enables a link again becomes its `created_by` (the authority
 * keeping it alive, as for webhook endpoints: SPEC §18).
 */
export async function updateInviteLink(
  ctx: WriteContext,
  caller: Caller,
  input: UpdateLinkInput,
): Promise<Outcome<InviteLinkResource>> {
  const { db, organizationId: org, now } = ctx;
  const link = await findLink(db, org, input.id, now);
  if (!link) return notFound();
  if (input.maxUses !== undefined && input.maxUses < link.uses)
    return fail('invalid_state', `This link was used ${link.uses} times already: max_uses cannot be lower.`);
  const enabled = input.enabled ?? link.enabled === 1;
  const maxUses = input.maxUses ?? link.max_uses;
  const expiresAt = input.expiresInDays === undefined ? link.expires_at : now + input.expiresInDays * DAY_MS;
  const enabling = input.enabled === true && link.enabled === 0;
  const disabling = input.enabled === false && link.enabled === 1;
  const liveAfter = sql`(${enabled ? 1 : 0} = 1 AND ${expiresAt} > ${now} AND uses < ${maxUses})`;
  // A live link that this change leaves enabled and unexpired but at its last use is used up.
  const usesUp = link.live === 1 && enabled && link.uses >= maxUses;
  const changes = {
    ...(input.enabled === true ? { enabled: true } : {}),
    ...(input.maxUses !== undefined ? { max_uses: maxUses } : {}),
    ...(input.expiresInDays !== undefined ? { expires_at: iso(expiresAt) } : {}),
  };
  const touched = touchedSql(input.id, now);
  const [updated] = await runBatch(db, [
    sql`UPDATE invite_links SET enabled = ${enabled ? 1 : 0}, max_uses = ${maxUses}, expires_at = ${expiresAt},
        disabled_reason = CASE WHEN ${enabled ? 1 : 0} = 1 THEN NULL WHEN enabled = 1 THEN 'disabled' ELSE disabled_reason END,
        created_by = CASE WHEN ${enabling ? 1 : 0} = 1 AND enabled = 0 THEN ${caller.id} ELSE created_by END,
        updated_at = ${now}
      WHERE id = ${input.id} AND organization_id = ${org} AND deleted_at IS NULL AND uses <= ${maxUses}
        AND ${isManagerSql(org, caller.id)}
        AND (NOT ${liveAfter} OR ${liveLinkSql(now)} OR ${liveLinkCountSql(org, now, input.id)} < ${LIVE_LINKS_LIMIT})`,
    ...(Object.keys(changes).length ? [linkEvent(ctx, input.id, 'invite_link.updated', changes, touched)] : []),
    ...(disabling ? [disabledEvent(ctx, input.id, 'disabled', touched)] : []),
    ...(usesUp ? [disabledEvent(ctx, input.id, 'used_up', touched)] : []),
  ]);
  if (updated.meta.changes !== 1) {
    if (!(await findLink(db, org, input.id, now))) return notFound();
    return (await noLongerManager(ctx, caller)) ?? tooManyLinks();
  }
  return { ok: true, value: await resourceNow(ctx, input.id) };
}

/**
 * A new code: the old URL finds nothing from this batch on. The caller becomes `created_by`: they
 * hold the new URL, and it must not outlive their authority.
 */
export async function rotateInviteLink(
  ctx: WriteContext,
  caller: Caller,
  input: RotateLinkInput,
): Promise<Outcome<LinkWithCode>> {
  const { db, organizationId: org, now } = ctx;
  const link = await findLink(db, org, input.id, now);
  if (!link) return notFound();
  const code = newLinkCode();
  const hash = await sha256Hex(code);
  const [updated] = await runBatch(db, [
    sql`UPDATE invite_links SET code_hash = ${hash}, created_by = ${caller.id}, updated_at = ${now}
      WHERE id = ${input.id} AND organization_id = ${org} AND deleted_at IS NULL AND ${isManagerSql(org, caller.id)}`,
    // The old URL dies: an event only when it still admitted anyone (a disabled, expired or used-up
    // link's URL was dead already, and said so).
    ...(link.live === 1
      ? [
          disabledEvent(
            ctx,
            input.id,
            'rotated',
            sql`EXISTS (SELECT 1 FROM invite_links WHERE id = ${input.id} AND code_hash = ${hash})`,
          ),
        ]
      : []),
  ]);
  if (updated.meta.changes !== 1) return (await noLongerManager(ctx, caller)) ?? notFound();
  return { ok: true, value: { resource: await resourceNow(ctx, input.id), code } };
}

/** Ends a link: kept (deleted, disabled) for the audit trail, gone from the API. */
export async function deleteInviteLink(
  ctx: WriteContext,
  caller: Caller,
  input: { id: string },
): Promise<Outcome<{ deleted: true }>> {
  const { db, organizationId: org, now } = ctx;
  if (!(await findLink(db, org, input.id, now))) return notFound();
  const [updated] = await runBatch(db, [
    sql`UPDATE invite_links SET deleted_at = ${now}, enabled = 0, disabled_reason = 'deleted', updated_at = ${now}
      WHERE id = ${input.id} AND organization_id = ${org} AND deleted_at IS NULL AND ${isManagerSql(org, caller.id)}`,
    disabledEvent(
      ctx,
      input.id,
      'deleted',
      sql`EXISTS (SELECT 1 FROM invite_links WHERE id = ${input.id} AND deleted_at = ${now})`,
    ),
  ]);
  if (updated.meta.changes !== 1) return (await noLongerManager(ctx, caller)) ?? notFound();
  return { ok: true, value: { deleted: true } };
}

/** What a redemption needs to know besides the membership rules, in one read. */
async function redeemState(ctx: WriteContext, caller: Caller, link: LinkRow) {
  const { organizationId: org } = ctx;
  const [row] = await ctx.db.all<{ redeemed: number; pending: number; waiting: number; filed: number }>(sql`SELECT
    ${requestsTodaySql(caller.id, ctx.now)} AS filed,
    EXISTS (SELECT 1 FROM invite_link_redemptions WHERE link_id = ${link.id} AND user_id = ${caller.id}) AS redeemed,
    EXISTS (SELECT 1 FROM join_requests WHERE organization_id = ${org} AND user_id = ${caller.id} AND status = 'pending') AS pending,
    (SELECT count(*) FROM join_requests WHERE organization_id = ${org} AND status = 'pending') AS waiting`);
  return {
    ...(await joinState(ctx, caller)),
    redeemed: row.redeemed === 1,
    pending: row.pending === 1,
    requestsFull: row.waiting >= PENDING_REQUESTS_LIMIT,
    quota: decideRequestCount(row.filed, ctx.now),
  };
}

/** The first rule that refuses `caller` this link, in the order a person would want to hear it. */
function decideRedeem(link: LinkRow | null, state: Awaited<ReturnType<typeof redeemState>> | null) {
  if (!link || !state || link.live !== 1) return linkInvalid();
  if (state.member) return joinRefusals.alreadyMember();
  if (link.requires_approval && state.pending) return joinRefusals.requestPending();
  if (state.redeemed) return alreadyRedeemed();
  if (!state.domainAllowed) return joinRefusals.domainNotAllowed();
  // Seats are counted when a request is approved, not when it is filed.
  if (link.requires_approval) return state.requestsFull ? joinRefusals.tooManyRequests() : state.quota;
  return decideJoin(state);
}

/**
 * Redeems the link whose code hashes to `codeHash` for the signed-in caller: a membership with the
 * link's role, or a join request when it requires approval. Either takes one use and records the
 * redemption (one per account), in the batch of the join or the request and only if it happened;
 * the use that fills the link writes its `invite_link.disabled` (`used_up`) there too.
 */
export async function redeemInviteLink(
  ctx: WriteContext,
  caller: Caller,
  input: RedeemInput,
): Promise<Outcome<Redeemed>> {
  const { db, organizationId: org, now } = ctx;
  const link = await findLinkByHash(db, org, input.codeHash, now);
  const state = link?.live === 1 ? await redeemState(ctx, caller, link) : null;
  const refused = decideRedeem(link, state);
  if (refused || !link) return refused ?? linkInvalid();

  const joiner = { id: caller.id, email: caller.email };
  // The link admits now (and its creator still manages the organization), and this account has not used it.
  const guards = [
    sql`EXISTS (SELECT 1 FROM invite_links l WHERE l.id = ${link.id} AND l.code_hash = ${input.codeHash}
      AND l.organization_id = ${org} AND ${liveLinkSql(now, sql.raw('l'))}
      AND EXISTS (SELECT 1 FROM memberships c WHERE c.organization_id = ${org} AND c.user_id = l.created_by AND c.role IN ('owner', 'admin')))`,
    sql`NOT EXISTS (SELECT 1 FROM invite_link_redemptions WHERE link_id = ${link.id} AND user_id = ${caller.id})`,
  ];
  const requestId = newId('jrq');
  const main = link.requires_approval
    ? requestStatements(ctx, joiner, { id: requestId, source: 'link', linkId: link.id, role: link.role }, [
        ...guards,
        sql`NOT EXISTS (SELECT 1 FROM join_requests WHERE organization_id = ${org} AND user_id = ${caller.id} AND status = 'pending')`,
        sql`(SELECT ${domainAllowedSql(caller.email)} FROM organizations o WHERE o.id = ${org})`,
      ])
    : joinStatements(ctx, joiner, link.role, 'link', guards, { link_id: link.id });
  const happened = link.requires_approval ? requestedSql(requestId) : joinedSql(org, caller.id, now);
  const results = await runBatch(db, [
    ...main,
    sql`UPDATE invite_links SET uses = uses + 1, updated_at = ${now} WHERE id = ${link.id} AND ${happened}`,
    sql`INSERT INTO invite_link_redemptions (link_id, user_id, created_at) SELECT ${link.id}, ${caller.id}, ${now} WHERE ${happened}`,
    disabledEvent(
      ctx,
      link.id,
      'used_up',
      sql`${happened} AND EXISTS (SELECT 1 FROM invite_links WHERE id = ${link.id} AND uses >= max_uses)`,
    ),
  ]);
  if (results[0].meta.changes !== 1) {
    // Nothing ran concurrently here (the coordinator's queue): say which rule the guards met. Past
    // the rules read above, only the creator's authority is left: gone, the link is too.
    const again = await findLinkByHash(db, org, input.codeHash, now);
    return decideRedeem(again, again?.live === 1 ? await redeemState(ctx, caller, again) : null) ?? linkInvalid();
  }
  if (link.requires_approval) {
    return {
      ok: true,
      value: { requested: { join_request: (await joinRequestResource(db, requestId))! } },
      queued: returnedIds(results[main.length - 1]),
    };
  }
  return {
    ok: true,
    value: {
      joined: { organization: { id: org, name: link.org_name, slug: link.org_slug }, role: link.role },
    },
  };
}
