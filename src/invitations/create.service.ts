import { sql } from 'drizzle-orm';
import type { Locale, Role } from '../db/schema';
import { runBatch } from '../db/batch';
import { fail, type Outcome } from '../errors';
import { normalizeEmail } from '../lib/crypto';
import { asLocale } from '../lib/roles';
import { DAY_MS } from '../lib/time';
import type { Inviter, SendingContext, WriteContext } from '../lib/write-context';
import { isManagerSql, livePendingSql, memberSql } from '../db/fragments';
import { hitSql } from '../rate-limit/rate-limit';
import { findReplay, type Idempotency, rememberSql } from './idempotency';
import {
  createdSql,
  createStatements,
  domainAllowedSql,
  isUniqueViolation,
  inviterState,
  inviterStateSql,
  type InviterStateRow,
  type NewInvitation,
  newInvitation,
} from './invitation-sql';
import { type InvitationResource, type InvitationRow, toInvitationResource } from './invitations.store';
import { type CreateState, decideAuthority, decideCreate, refusals } from './rules';

export interface CreateInvitationInput {
  email: string;
  role: Role;
  message?: string | null;
  expiresInDays: number;
  idempotency?: Idempotency;
  /** The caller's name and email, as the new invitation's `invited_by`. */
  inviter?: Inviter;
  /** The invitee's language; the organization's default when absent. */
  locale?: Locale;
}

type Created = { id: string; replayed?: boolean; resource?: InvitationResource };

/**
 * The resource of an invitation created now, exactly as its INSERT writes the row: a create
 * answers without reading it back.
 */
export function newInvitationResource(
  ctx: WriteContext,
  inv: NewInvitation & { locale: Locale },
  inviter?: Inviter,
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
    declinedAt: null,
    remindedAt: null,
    remindAt: null,
    reinviteRequestedAt: null,
    createdAt: now,
    updatedAt: now,
    locale: inv.locale,
  };
  return toInvitationResource(row, inviter ? { id: actor.userId!, ...inviter } : null, now);
}

/**
 * Rules 1–4 and 6 (SPEC §2). The common case costs one D1 round trip: every rule is a guard of the
 * batch's INSERT (`createInOneBatch`). When that writes nothing, the rules are decided from a
 * snapshot (`decideCreate`) to answer with the one that refused (or to create, if the state
 * changed in between). An `Idempotency-Key` takes the checked path: its replay is read first.
 */
export async function createInvitation(ctx: SendingContext, input: CreateInvitationInput): Promise<Outcome<Created>> {
  const email = normalizeEmail(input.email);
  if (!input.idempotency) {
    const created = await createInOneBatch(ctx, { ...input, email });
    if (created) return created;
  }
  return createChecked(ctx, input, email);
}

const fromInput = (input: CreateInvitationInput, email: string) =>
  newInvitation({
    email,
    role: input.role,
    message: input.message ?? null,
    expiresInDays: input.expiresInDays,
    locale: input.locale ?? null,
  });

/**
 * The whole create as one batch, every rule a guard of the INSERT (role, domain, and the per-account
 * and per-IP email counters on top of the membership and pending limit every INSERT checks), and
 * the counters counted only if it inserted. Null when it wrote nothing (or met the unique pending
 * index): the caller then finds out why.
 */
async function createInOneBatch(ctx: SendingContext, input: CreateInvitationInput & { email: string }) {
  const { db, organizationId: org, actor, quota } = ctx;
  if (!(await quota.orgHasRoom(1))) return null;
  const inv = fromInput(input, input.email);
  const created = createdSql(inv);
  let results: D1Result[];
  try {
    results = await runBatch(db, [
      ...createStatements(ctx, inv, [
        isManagerSql(org, actor.userId, input.role === 'owner'),
        domainAllowedSql(input.email),
        ...quota.counters.map(
          (c) =>
            sql`coalesce((SELECT count FROM rate_limits WHERE bucket = ${c.bucket} AND window_start = ${c.windowStart}), 0) < ${c.max}`,
        ),
      ]),
      ...quota.counters.map((c) => hitSql(c.bucket, c.limit, ctx.now, created).statement),
    ]);
  } catch (err) {
    if (isUniqueViolation(err)) return null;
    throw err;
  }
  const [inserted] = results[2].results as { locale: string }[];
  if (!inserted) return null;
  await quota.chargeOrg(1);
  const resource = newInvitationResource(ctx, { ...inv, locale: asLocale(inserted.locale) }, input.inviter);
  return { ok: true as const, value: { id: inv.id, resource }, queued: [inv.outboxId] };
}

/** Everything the create and resend decisions need, in one round trip to D1. */
export async function createState(ctx: WriteContext, email: string, exceptId: string | null = null) {
  const { db, organizationId: org, now } = ctx;
  const [row] = await db.all<InviterStateRow & { is_member: number; other_pending: number }>(sql`SELECT
      ${inviterStateSql(ctx)},
      ${memberSql(org, email)} AS is_member,
      EXISTS (SELECT 1 FROM invitations WHERE organization_id = ${org} AND email = ${email}
              AND ${livePendingSql(now)} AND id IS NOT ${exceptId}) AS other_pending`);
  const { role, defaultLocale, domains, pending, members, seatLimit } = inviterState(row);
  const state: CreateState = {
    domains,
    isMember: row.is_member === 1,
    otherPending: row.other_pending === 1,
    pending,
    members,
    seatLimit,
  };
  return { role, defaultLocale, state };
}

/** The rules decided one at a time, in their order: each refusal is the first rule that applies. */
async function createChecked(
  ctx: SendingContext,
  input: CreateInvitationInput,
  email: string,
): Promise<Outcome<Created>> {
  const { role, defaultLocale, state } = await createState(ctx, email);
  const authority = decideAuthority(role, input.role === 'owner');
  if (authority) return authority;
  if (input.idempotency) {
    const previous = await findReplay(ctx, input.idempotency);
    if (previous && 'ok' in previous) return previous;
    if (previous) {
      const resource = previous.response ? (JSON.parse(previous.response) as InvitationResource) : undefined;
      return { ok: true, value: { id: previous.invitationId, replayed: true, resource } };
    }
  }
  const refused = decideCreate(role, { email, role: input.role }, state);
  if (refused) return refused;
  const limited = await ctx.quota.charge(1);
  if (limited) return limited;
  const inv = { ...fromInput(input, email), locale: input.locale ?? defaultLocale };
  // The resource exactly as the guarded INSERT below writes the row (or nothing is written at all).
  const resource = newInvitationResource(ctx, inv, input.inviter);
  try {
    const results = await runBatch(ctx.db, [
      ...createStatements(ctx, inv, []),
      ...(input.idempotency && ctx.actor.userId
        ? [rememberSql(ctx, input.idempotency, inv.id, resource, createdSql(inv))]
        : []),
    ]);
    if (results[2].results.length !== 1) return refusals.pendingLimit();
    // The response is known without a second read; an idempotent replay returns this same body.
    return { ok: true, value: { id: inv.id, resource }, queued: [inv.outboxId] };
  } catch (err) {
    if (isUniqueViolation(err)) return fail('invitation_already_pending');
    throw err;
  }
}
