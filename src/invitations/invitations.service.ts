import { and, eq, sql } from 'drizzle-orm';
import { runBatch } from '../db/batch';
import { idempotencyKeys, invitations, type Role } from '../db/schema';
import type { Db } from '../env';
import { fail, type Failure, type Outcome } from '../errors';
import { auditStatement, type Actor } from '../audit/audit.store';
import { newId } from '../lib/ids';
import { DAY_MS } from '../lib/time';
import { normalizeEmail } from '../lib/crypto';
import {
  PENDING_LIMIT,
  asLocale,
  effectiveStatus,
  toInvitationResource,
  type InvitationResource,
  type InvitationRow,
} from './invitations.store';
import { roleOf } from '../organizations/organizations.store';
import { newOutboxId, outboxInsert } from '../delivery/outbox';
import { domainAllowed, parseDomains } from '../organizations/domains';
import type { Locale } from '../db/schema';

/*
 * The state changes of invitations. These run only inside the organization's Durable Object,
 * one at a time (its queue), and each write is also a guarded SQL statement that would refuse an
 * over-limit or double transition on its own.
 */

/** Re-exported where the invitation code has always found it (now in src/lib/time.ts). */
export { DAY_MS };

/** The 422 detail for an address outside the allowed domains. */
export const domainRefusal = (domains: readonly string[]) =>
  `This organization only invites addresses at ${domains.join(', ')}.`;
export const RESEND_COOLDOWN_MS = 60_000;

export interface ServiceContext {
  db: Db;
  organizationId: string;
  actor: Actor;
  now: number;
  /**
   * Counts one invitation email against the organization's hourly limit (the coordinator keeps
   * that counter in its own storage); a failure when over it. Absent outside the coordinator.
   */
  chargeEmail?: (emails?: number) => Promise<Failure | null>;
  /**
   * What a create needs to run as one D1 batch (the coordinator's): the per-account and per-IP
   * email counters, guarded and counted inside the batch, and the organization's own counter.
   */
  emailQuota?: {
    counters: readonly { bucket: string; windowStart: number; max: number }[];
    orgHasRoom(emails: number): Promise<boolean>;
    chargeOrg(emails: number): Promise<void>;
  };
}

export const livePendingCountSql = (organizationId: string, now: number) =>
  sql`(SELECT count(*) FROM invitations WHERE organization_id = ${organizationId} AND status = 'pending' AND expires_at > ${now})`;

/** The email already belongs to a member of the organization. */
export const memberSql = (org: string, email: string) =>
  sql`EXISTS (SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.organization_id = ${org} AND u.email = ${email})`;

/** Writes down the expiry of pending invitations to `email` already past `expires_at` (and audits it). */
const staleWhere = (org: string, email: string, now: number, exceptId: string | null) =>
  sql`organization_id = ${org} AND email = ${email} AND status = 'pending' AND expires_at <= ${now} AND id IS NOT ${exceptId}`;
export const expiredAuditSql = (org: string, email: string, now: number, exceptId: string | null = null) =>
  sql`INSERT INTO audit_events (id, organization_id, actor_type, actor_id, action, target_type, target_id, data, ip, user_agent, created_at)
    SELECT 'aud_' || lower(hex(randomblob(10))), organization_id, 'system', NULL, 'invitation.expired', 'invitation', id,
      json_object('email', email, 'expires_at', expires_at), NULL, NULL, ${now}
    FROM invitations WHERE ${staleWhere(org, email, now, exceptId)}`;
export const expireStaleSql = (org: string, email: string, now: number, exceptId: string | null = null) =>
  sql`UPDATE invitations SET status = 'expired', updated_at = ${now} WHERE ${staleWhere(org, email, now, exceptId)}`;

const isUniqueViolation = (err: unknown) =>
  err instanceof Error &&
  /UNIQUE constraint failed/i.test(String(err.message) + String((err as { cause?: unknown }).cause ?? ''));

/**
 * Rules 1 and 2, checked again inside the coordinator (the route checked before queueing, but the
 * actor may have been demoted meanwhile): managers only, and only owners touch owner invitations.
 */
function authorizeRole(role: Role | null | undefined, touchesOwnerRole: boolean): Failure | null {
  if (!role) return fail('not_found', 'No such organization.');
  if (role !== 'owner' && role !== 'admin') return fail('forbidden', 'Only owners and admins can manage invitations.');
  if (touchesOwnerRole && role !== 'owner')
    return fail('forbidden', 'Only an owner can grant or change the owner role.');
  return null;
}

async function authorize(ctx: ServiceContext, touchesOwnerRole: boolean): Promise<Failure | null> {
  return authorizeRole(await roleOf(ctx.db, ctx.organizationId, ctx.actor.userId), touchesOwnerRole);
}

interface Snapshot {
  /** The actor's role. */
  role: Role | null;
  /** The email already belongs to a member. */
  isMember: boolean;
  /** A live pending invitation to the email exists (other than `exceptId`). */
  otherPending: boolean;
  /** Live pending invitations in the organization. */
  pending: number;
  /** The organization's allowed email domains (empty: all) and default locale. */
  domains: string[];
  defaultLocale: Locale;
}

/** Everything the create and resend checks need, in one round trip to D1. */
async function snapshot(ctx: ServiceContext, email: string, exceptId: string | null = null): Promise<Snapshot> {
  const { db, organizationId: org, now } = ctx;
  const [row] = await db.all<{
    role: Role | null;
    is_member: number;
    other_pending: number;
    pending: number;
    domains: string | null;
    default_locale: string | null;
  }>(sql`SELECT
      (SELECT allowed_email_domains FROM organizations WHERE id = ${org}) AS domains,
      (SELECT default_locale FROM organizations WHERE id = ${org}) AS default_locale,
      (SELECT role FROM memberships WHERE organization_id = ${org} AND user_id = ${ctx.actor.userId}) AS role,
      ${memberSql(org, email)} AS is_member,
      EXISTS (SELECT 1 FROM invitations WHERE organization_id = ${org} AND email = ${email}
              AND status = 'pending' AND expires_at > ${now} AND id IS NOT ${exceptId}) AS other_pending,
      ${livePendingCountSql(org, now)} AS pending`);
  return {
    role: row.role,
    isMember: row.is_member === 1,
    otherPending: row.other_pending === 1,
    pending: row.pending,
    domains: parseDomains(row.domains),
    defaultLocale: asLocale(row.default_locale),
  };
}

export interface CreateInvitationInput {
  email: string;
  role: Role;
  message?: string | null;
  expiresInDays: number;
  /** `Idempotency-Key` and a hash of the validated body. */
  idempotency?: { key: string; requestHash: string };
  /** The caller's name and email, as the new invitation's `invited_by`. */
  inviter?: { name: string; email: string };
  /** The invitee's language; the organization's default when absent. */
  locale?: Locale;
}

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/** A create that already ran under this key: replay it, or refuse a different body. */
async function replay(ctx: ServiceContext, idem: NonNullable<CreateInvitationInput['idempotency']>) {
  if (!ctx.actor.userId) return null;
  const row = await ctx.db.query.idempotencyKeys.findFirst({
    where: and(
      eq(idempotencyKeys.organizationId, ctx.organizationId),
      eq(idempotencyKeys.userId, ctx.actor.userId),
      eq(idempotencyKeys.key, idem.key),
    ),
  });
  if (!row || row.createdAt <= ctx.now - IDEMPOTENCY_TTL_MS) return null;
  if (row.requestHash !== idem.requestHash) {
    return fail('idempotency_key_reused', 'This Idempotency-Key was already used with a different request body.');
  }
  const resource = row.response ? (JSON.parse(row.response) as InvitationResource) : undefined;
  return { ok: true as const, value: { id: row.invitationId, replayed: true, resource } };
}

/** What a new invitation is made of; the rest of its row follows from the context. */
export interface NewInvitation {
  id: string;
  email: string;
  role: Role;
  message: string | null;
  expiresInDays: number;
  jti: string;
  locale: Locale;
}

/**
 * The resource of an invitation created now, exactly as its INSERT writes the row: a create
 * answers without reading it back.
 */
export function newInvitationResource(
  ctx: ServiceContext,
  inv: NewInvitation,
  inviter?: { name: string; email: string },
): InvitationResource {
  const { organizationId, now, actor } = ctx;
  const row: InvitationRow = {
    id: inv.id,
    organizationId,
    email: inv.email,
    role: inv.role,
    status: 'pending',
    message: inv.message,
    expiresInDays: inv.expiresInDays,
    expiresAt: now + inv.expiresInDays * DAY_MS,
    tokenId: inv.jti,
    invitedBy: actor.userId!,
    lastSentAt: now,
    sendCount: 1,
    emailDelivery: 'queued',
    deliveryAttempts: 0,
    emailDeliveryDetail: null,
    acceptedAt: null,
    acceptedBy: null,
    revokedAt: null,
    createdAt: now,
    updatedAt: now,
    locale: inv.locale,
  };
  return toInvitationResource(row, inviter ? { id: actor.userId!, ...inviter } : null, now);
}

type Created = { id: string; outboxId?: string; replayed?: boolean; resource?: InvitationResource };

/**
 * Rules 3 and 6. Returns the new invitation's id; the caller delivers the email.
 *
 * The common case costs one D1 round trip: every rule is a guard of the batch's INSERT
 * (`createInOneBatch`). When that writes nothing, the checks run again one by one, in their order,
 * to answer with the rule that refused (or to create, if the state changed in between).
 */
export async function createInvitation(ctx: ServiceContext, input: CreateInvitationInput): Promise<Outcome<Created>> {
  const email = normalizeEmail(input.email);
  if (ctx.emailQuota && !input.idempotency) {
    const created = await createInOneBatch(ctx, ctx.emailQuota, { ...input, email });
    if (created) return created;
  }
  return createChecked(ctx, input, email);
}

/** Rules as guards of the one-batch create's INSERT: a rule that does not hold makes it write nothing. */
const managerSql = (org: string, userId: string | null, ownerOnly: boolean) =>
  sql`EXISTS (SELECT 1 FROM memberships WHERE organization_id = ${org} AND user_id = ${userId}
    AND role IN ${ownerOnly ? sql`('owner')` : sql`('owner', 'admin')`})`;
/** `domainAllowed` in SQL, over the organization row `o`. */
export const domainAllowedSql = (email: string) => {
  const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase();
  return sql`(o.allowed_email_domains IS NULL OR json_array_length(o.allowed_email_domains) = 0 OR EXISTS (
    SELECT 1 FROM json_each(o.allowed_email_domains) d
    WHERE CASE WHEN d.value LIKE '*.%' THEN substr(${domain}, -(length(d.value) - 1)) = substr(d.value, 2) ELSE d.value = ${domain} END))`;
};

/**
 * The whole create as one batch: the expiry of a stale invitation to the same email, the INSERT
 * guarded by every rule (role, domain, membership, the pending limit, the email counters), and,
 * only if it inserted, the audit event, the outbox row and the counters. Null when it wrote
 * nothing (or met the unique pending index): the caller then finds out why.
 */
async function createInOneBatch(
  ctx: ServiceContext,
  quota: NonNullable<ServiceContext['emailQuota']>,
  input: CreateInvitationInput & { email: string },
): Promise<Outcome<Created> | null> {
  const { db, organizationId: org, now, actor } = ctx;
  const { email } = input;
  if (!(await quota.orgHasRoom(1))) return null;
  const id = newId('inv');
  const jti = newId('jti');
  const outboxId = newOutboxId();
  const expiresAt = now + input.expiresInDays * DAY_MS;
  const created = sql`EXISTS (SELECT 1 FROM invitations WHERE id = ${id})`;
  const countersBelow = quota.counters.map(
    (c) =>
      sql`AND coalesce((SELECT count FROM rate_limits WHERE bucket = ${c.bucket} AND window_start = ${c.windowStart}), 0) < ${c.max}`,
  );
  let results: D1Result[];
  try {
    results = await runBatch(db, [
      expiredAuditSql(org, email, now),
      expireStaleSql(org, email, now),
      sql`INSERT INTO invitations (id, organization_id, email, role, status, message, expires_in_days,
          expires_at, token_id, invited_by, last_sent_at, send_count, email_delivery, delivery_attempts, created_at, updated_at, locale)
        SELECT ${id}, ${org}, ${email}, ${input.role}, 'pending', ${input.message ?? null}, ${input.expiresInDays},
          ${expiresAt}, ${jti}, ${actor.userId}, ${now}, 1, 'queued', 0, ${now}, ${now},
          coalesce(${input.locale ?? null}, o.default_locale, 'en')
        FROM organizations o
        WHERE o.id = ${org} AND ${managerSql(org, actor.userId, input.role === 'owner')} AND ${domainAllowedSql(email)}
          AND NOT ${memberSql(org, email)} AND ${livePendingCountSql(org, now)} < ${PENDING_LIMIT}
          ${sql.join(countersBelow, sql` `)}
        RETURNING locale`,
      auditStatement(
        db,
        actor,
        {
          organizationId: org,
          action: 'invitation.created',
          targetType: 'invitation',
          targetId: id,
          data: { email, role: input.role, expires_in_days: input.expiresInDays },
        },
        now,
        created,
      ),
      outboxInsert(
        { id: outboxId, kind: 'invitation_email', organizationId: org, subjectId: id, tokenId: jti },
        now,
        created,
      ),
      ...quota.counters.map(
        (
          c,
        ) => sql`INSERT INTO rate_limits (bucket, window_start, count) SELECT ${c.bucket}, ${c.windowStart}, 1 WHERE ${created}
          ON CONFLICT (bucket, window_start) DO UPDATE SET count = count + 1`,
      ),
    ]);
  } catch (err) {
    if (isUniqueViolation(err)) return null;
    throw err;
  }
  const [inserted] = results[2].results as { locale: string }[];
  if (!inserted) return null;
  await quota.chargeOrg(1);
  const resource = newInvitationResource(
    ctx,
    {
      id,
      email,
      role: input.role,
      message: input.message ?? null,
      expiresInDays: input.expiresInDays,
      jti,
      locale: asLocale(inserted.locale),
    },
    input.inviter,
  );
  return { ok: true, value: { id, outboxId, resource } };
}

/** The rules one at a time, in their order: each refusal is the first rule that applies. */
async function createChecked(
  ctx: ServiceContext,
  input: CreateInvitationInput,
  email: string,
): Promise<Outcome<Created>> {
  const { db, organizationId: org, now } = ctx;
  const state = await snapshot(ctx, email);
  const refused = authorizeRole(state.role, input.role === 'owner');
  if (refused) return refused;
  if (input.idempotency) {
    const previous = await replay(ctx, input.idempotency);
    if (previous) return previous;
  }
  if (!domainAllowed(state.domains, email)) return fail('email_domain_not_allowed', domainRefusal(state.domains));
  if (state.isMember) return fail('already_member', `${email} is already a member of this organization.`);
  if (state.otherPending) {
    return fail('invitation_already_pending', `An invitation to ${email} is already pending; resend it instead.`);
  }
  if (state.pending >= PENDING_LIMIT) {
    return fail(
      'pending_invitation_limit',
      `An organization can have at most ${PENDING_LIMIT} pending invitations. Revoke one or wait for one to be accepted.`,
    );
  }
  const limited = await ctx.chargeEmail?.();
  if (limited) return limited;
  const id = newId('inv');
  const jti = newId('jti');
  const expiresAt = now + input.expiresInDays * DAY_MS;
  const locale = input.locale ?? state.defaultLocale;
  // The resource exactly as the guarded INSERT below writes the row (or nothing is written at all).
  const resource = newInvitationResource(
    ctx,
    { id, email, role: input.role, message: input.message ?? null, expiresInDays: input.expiresInDays, jti, locale },
    input.inviter,
  );
  const outboxId = newOutboxId();
  const created = sql`EXISTS (SELECT 1 FROM invitations WHERE id = ${id})`;
  try {
    const [, , inserted] = await runBatch(db, [
      // An invitation already past expires_at frees its (org, email) slot before the insert.
      expiredAuditSql(org, email, now),
      expireStaleSql(org, email, now),
      sql`INSERT INTO invitations (id, organization_id, email, role, status, message, expires_in_days,
          expires_at, token_id, invited_by, last_sent_at, send_count, email_delivery, delivery_attempts, created_at, updated_at, locale)
        SELECT ${id}, ${org}, ${email}, ${input.role}, 'pending', ${input.message ?? null}, ${input.expiresInDays},
          ${expiresAt}, ${jti}, ${ctx.actor.userId}, ${now}, 1, 'queued', 0, ${now}, ${now}, ${locale}
        WHERE ${livePendingCountSql(org, now)} < ${PENDING_LIMIT}
          AND NOT ${memberSql(org, email)}`,
      auditStatement(
        db,
        ctx.actor,
        {
          organizationId: org,
          action: 'invitation.created',
          targetType: 'invitation',
          targetId: id,
          data: { email, role: input.role, expires_in_days: input.expiresInDays },
        },
        now,
        created,
      ),
      // The email, delivered through the queue once this batch has committed.
      outboxInsert(
        { id: outboxId, kind: 'invitation_email', organizationId: org, subjectId: id, tokenId: jti },
        now,
        created,
      ),
      ...(input.idempotency && ctx.actor.userId
        ? [
            sql`INSERT OR REPLACE INTO idempotency_keys (organization_id, user_id, key, request_hash, invitation_id, response, created_at)
              SELECT ${org}, ${ctx.actor.userId}, ${input.idempotency.key}, ${input.idempotency.requestHash}, ${id},
                ${JSON.stringify(resource)}, ${now}
              WHERE ${created}`,
          ]
        : []),
    ]);
    if (inserted.meta.changes !== 1) return fail('pending_invitation_limit');
    // The response is known without a second read; an idempotent replay returns this same body.
    return { ok: true, value: { id, outboxId, resource } };
  } catch (err) {
    if (isUniqueViolation(err)) return fail('invitation_already_pending');
    throw err;
  }
}

async function loadInvitation(ctx: ServiceContext, id: string) {
  return ctx.db.query.invitations.findFirst({
    where: and(eq(invitations.organizationId, ctx.organizationId), eq(invitations.id, id)),
  });
}

/** Rule 7: a new link (old one dies), a new expiry, back to pending subject to the limit. */
export async function resendInvitation(
  ctx: ServiceContext,
  input: { id: string; expiresInDays?: number; locale?: Locale },
): Promise<Outcome<{ id: string; outboxId: string }>> {
  const { db, organizationId: org, now } = ctx;
  const inv = await loadInvitation(ctx, input.id);
  if (!inv) return fail('not_found', 'No such invitation in this organization.');
  const state = await snapshot(ctx, inv.email, inv.id);
  // Resending re-issues the offer, so an owner invitation needs an owner.
  const refused = authorizeRole(state.role, inv.role === 'owner');
  if (refused) return refused;
  const status = effectiveStatus(inv, now);
  if (status === 'accepted' || status === 'revoked') {
    return fail('invalid_state', `An ${status} invitation cannot be resent.`);
  }
  const wait = inv.lastSentAt + RESEND_COOLDOWN_MS - now;
  if (wait > 0) {
    return fail('resend_cooldown', 'This invitation was sent less than 60 seconds ago.', Math.ceil(wait / 1000));
  }
  if (status === 'expired') {
    // Reviving an expired invitation is a new offer: the allowed domains apply to it.
    if (!domainAllowed(state.domains, inv.email)) return fail('email_domain_not_allowed', domainRefusal(state.domains));
    if (state.isMember) return fail('already_member', `${inv.email} is already a member of this organization.`);
    if (state.otherPending) return fail('invitation_already_pending', `Another invitation to ${inv.email} is pending.`);
    if (state.pending >= PENDING_LIMIT) {
      return fail(
        'pending_invitation_limit',
        `Reviving this invitation would exceed ${PENDING_LIMIT} pending invitations.`,
      );
    }
  }
  const limited = await ctx.chargeEmail?.();
  if (limited) return limited;
  const days = input.expiresInDays ?? inv.expiresInDays;
  const jti = newId('jti');
  const outboxId = newOutboxId();
  const resent = sql`EXISTS (SELECT 1 FROM invitations WHERE id = ${inv.id} AND token_id = ${jti})`;
  try {
    const [, , updated] = await runBatch(db, [
      // Another invitation to this email past its expiry but not yet swept still holds the
      // one-pending-per-email slot: write its expiry down first (as create does).
      expiredAuditSql(org, inv.email, now, inv.id),
      expireStaleSql(org, inv.email, now, inv.id),
      sql`UPDATE invitations SET status = 'pending', token_id = ${jti}, expires_in_days = ${days},
          expires_at = ${now + days * DAY_MS}, last_sent_at = ${now}, send_count = send_count + 1,
          email_delivery = 'queued', email_delivery_detail = NULL, delivery_attempts = 0, updated_at = ${now},
          locale = ${input.locale ?? inv.locale}
        WHERE id = ${inv.id} AND organization_id = ${org} AND last_sent_at <= ${now - RESEND_COOLDOWN_MS}
          AND ((status = 'pending' AND expires_at > ${now})
            OR ((status = 'expired' OR (status = 'pending' AND expires_at <= ${now}))
                AND ${livePendingCountSql(org, now)} < ${PENDING_LIMIT}))`,
      auditStatement(
        db,
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
    if (updated.meta.changes !== 1) return fail('invalid_state', 'The invitation changed concurrently; try again.');
  } catch (err) {
    if (isUniqueViolation(err)) return fail('invitation_already_pending');
    throw err;
  }
  return { ok: true, value: { id: inv.id, outboxId } };
}

/** Rule 8: pending only, permanent, the link dies at once. */
export async function revokeInvitation(ctx: ServiceContext, input: { id: string }): Promise<Outcome<{ id: string }>> {
  const { db, organizationId: org, now } = ctx;
  const inv = await loadInvitation(ctx, input.id);
  if (!inv) return fail('not_found', 'No such invitation in this organization.');
  // Withdrawing an offer grants nothing, so admins may revoke owner invitations too.
  const refused = await authorize(ctx, false);
  if (refused) return refused;
  const status = effectiveStatus(inv, now);
  if (status !== 'pending')
    return fail('invalid_state', `Only pending invitations can be revoked; this one is ${status}.`);
  const [updated] = await runBatch(db, [
    sql`UPDATE invitations SET status = 'revoked', revoked_at = ${now}, token_id = NULL, updated_at = ${now}
      WHERE id = ${inv.id} AND organization_id = ${org} AND status = 'pending' AND expires_at > ${now}`,
    auditStatement(
      db,
      ctx.actor,
      {
        organizationId: org,
        action: 'invitation.revoked',
        targetType: 'invitation',
        targetId: inv.id,
        data: { email: inv.email },
      },
      now,
      sql`EXISTS (SELECT 1 FROM invitations WHERE id = ${inv.id} AND status = 'revoked' AND revoked_at = ${now})`,
    ),
  ]);
  if (updated.meta.changes !== 1) return fail('invalid_state', 'The invitation is no longer pending.');
  return { ok: true, value: { id: inv.id } };
}

/** Rule 9: change a pending invitation's role without resending. */
export async function updateInvitationRole(
  ctx: ServiceContext,
  input: { id: string; role: Role },
): Promise<Outcome<{ id: string }>> {
  const { db, organizationId: org, now } = ctx;
  const inv = await loadInvitation(ctx, input.id);
  if (!inv) return fail('not_found', 'No such invitation in this organization.');
  const refused = await authorize(ctx, inv.role === 'owner' || input.role === 'owner');
  if (refused) return refused;
  const status = effectiveStatus(inv, now);
  if (status !== 'pending')
    return fail('invalid_state', `Only pending invitations can be edited; this one is ${status}.`);
  const [updated] = await runBatch(db, [
    sql`UPDATE invitations SET role = ${input.role}, updated_at = ${now}
      WHERE id = ${inv.id} AND organization_id = ${org} AND status = 'pending' AND expires_at > ${now}`,
    auditStatement(
      db,
      ctx.actor,
      {
        organizationId: org,
        action: 'invitation.role_changed',
        targetType: 'invitation',
        targetId: inv.id,
        data: { from: inv.role, to: input.role },
      },
      now,
      sql`EXISTS (SELECT 1 FROM invitations WHERE id = ${inv.id} AND role = ${input.role} AND updated_at = ${now})`,
    ),
  ]);
  if (updated.meta.changes !== 1) return fail('invalid_state', 'The invitation is no longer pending.');
  return { ok: true, value: { id: inv.id } };
}
