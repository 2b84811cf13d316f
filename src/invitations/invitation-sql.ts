import { type SQL, sql } from 'drizzle-orm';
import type { Locale, Role } from '../db/schema';
import { auditStatement, systemAuditSql } from '../audit/audit.store';
import { newOutboxId, outboxInsert } from '../db/outbox';
import { newId } from '../lib/ids';
import { DAY_MS } from '../lib/time';
import { asLocale } from '../lib/roles';
import { parseDomains } from '../organizations/domains';
import { PENDING_LIMIT } from '../lib/limits';
import { andAll, livePendingCountSql, memberSql, remindAtSql, seatFreeSql } from '../db/fragments';
import type { WriteContext } from '../lib/write-context';

/*
 * The invitation rules as SQL, each named once. They are the guards of the guarded statements: a
 * rule that does not hold makes its statement write nothing, whatever ran concurrently.
 */

/** `domainAllowed` in SQL, over the organization row `o`. */
export const domainAllowedSql = (email: string) => {
  const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase();
  return sql`(o.allowed_email_domains IS NULL OR json_array_length(o.allowed_email_domains) = 0 OR EXISTS (
    SELECT 1 FROM json_each(o.allowed_email_domains) d
    WHERE CASE WHEN d.value LIKE '*.%' THEN substr(${domain}, -(length(d.value) - 1)) = substr(d.value, 2) ELSE d.value = ${domain} END))`;
};

/** Pending invitations to `email` already past `expires_at` (other than `exceptId`). */
const staleWhere = (org: string, email: string, now: number, exceptId: string | null) =>
  sql`organization_id = ${org} AND email = ${email} AND status = 'pending' AND expires_at <= ${now} AND id IS NOT ${exceptId}`;

/**
 * Writes down the expiry of pending invitations to `email` already past `expires_at`, with their
 * audit events: such an invitation still holds its (organization, email) slot until then.
 */
export const expireStaleStatements = (org: string, email: string, now: number, exceptId: string | null = null) => [
  systemAuditSql({
    action: 'invitation.expired',
    data: sql`json_object('email', email, 'expires_at', expires_at)`,
    from: sql`invitations WHERE ${staleWhere(org, email, now, exceptId)}`,
    now,
  }),
  sql`UPDATE invitations SET status = 'expired', updated_at = ${now} WHERE ${staleWhere(org, email, now, exceptId)}`,
];

/**
 * What every invitation decision starts from, as columns of one SELECT: the organization's allowed
 * domains and default locale, the caller's role, and the live pending count. `inviterState` reads
 * them back.
 */
export const inviterStateSql = (ctx: WriteContext) => sql`
  (SELECT allowed_email_domains FROM organizations WHERE id = ${ctx.organizationId}) AS domains,
  (SELECT default_locale FROM organizations WHERE id = ${ctx.organizationId}) AS default_locale,
  (SELECT role FROM memberships WHERE organization_id = ${ctx.organizationId} AND user_id = ${ctx.actor.userId}) AS role,
  ${livePendingCountSql(ctx.organizationId, ctx.now)} AS pending,
  (SELECT count(*) FROM memberships WHERE organization_id = ${ctx.organizationId}) AS member_count,
  (SELECT seat_limit FROM organizations WHERE id = ${ctx.organizationId}) AS seat_limit`;

export interface InviterStateRow {
  domains: string | null;
  default_locale: string | null;
  role: Role | null;
  pending: number;
  member_count: number;
  seat_limit: number | null;
}

export const inviterState = (row: InviterStateRow) => ({
  role: row.role,
  domains: parseDomains(row.domains),
  defaultLocale: asLocale(row.default_locale),
  pending: row.pending,
  members: row.member_count,
  seatLimit: row.seat_limit,
});

/** A D1 batch failed on the one-pending-invitation-per-email index. */
export const isUniqueViolation = (err: unknown) =>
  err instanceof Error &&
  /UNIQUE constraint failed/i.test(String(err.message) + String((err as { cause?: unknown }).cause ?? ''));

/** What a new invitation is made of; the rest of its row follows from the context. */
export interface NewInvitation {
  id: string;
  email: string;
  role: Role;
  message: string | null;
  expiresInDays: number;
  jti: string;
  outboxId: string;
  /** The invitee's language; the organization's default when null. */
  locale: Locale | null;
}

export const newInvitation = (row: Omit<NewInvitation, 'id' | 'jti' | 'outboxId'>): NewInvitation => ({
  ...row,
  id: newId('inv'),
  jti: newId('jti'),
  outboxId: newOutboxId(),
});

/** The row of `inv` exists: what the statements after its INSERT are conditioned on. */
export const createdSql = (inv: Pick<NewInvitation, 'id'>) =>
  sql`EXISTS (SELECT 1 FROM invitations WHERE id = ${inv.id})`;

/**
 * Every statement that creates an invitation, for create, bulk and the checked path alike: the
 * expiry of a stale invitation to the same email, the one INSERT (guarded by `guards`, rules that
 * must hold), and, only if it inserted, its audit event and its email's outbox row. The INSERT is
 * the third statement; it returns the row's locale.
 */
export function createStatements(ctx: WriteContext, inv: NewInvitation, guards: SQL[], audit: object = {}): SQL[] {
  const { organizationId: org, now, actor } = ctx;
  const created = createdSql(inv);
  return [
    ...expireStaleStatements(org, inv.email, now),
    sql`INSERT INTO invitations (id, organization_id, email, role, status, message, expires_in_days,
        expires_at, token_id, invited_by, last_sent_at, send_count, email_delivery, delivery_attempts, created_at, updated_at, locale,
        remind_at)
      SELECT ${inv.id}, ${org}, ${inv.email}, ${inv.role}, 'pending', ${inv.message}, ${inv.expiresInDays},
        ${now + inv.expiresInDays * DAY_MS}, ${inv.jti}, ${actor.userId}, ${now}, 1, 'queued', 0, ${now}, ${now},
        coalesce(${inv.locale}, o.default_locale, 'en'), ${remindAtSql(now + inv.expiresInDays * DAY_MS, now)}
      FROM organizations o
      WHERE o.id = ${org} AND NOT ${memberSql(org, inv.email)} AND ${livePendingCountSql(org, now)} < ${PENDING_LIMIT}
        AND ${seatFreeSql(org, now)}
        ${andAll(guards)}
      RETURNING locale`,
    auditStatement(
      actor,
      {
        organizationId: org,
        action: 'invitation.created',
        targetType: 'invitation',
        targetId: inv.id,
        data: { email: inv.email, role: inv.role, expires_in_days: inv.expiresInDays, ...audit },
      },
      now,
      created,
    ),
    outboxInsert(
      { id: inv.outboxId, kind: 'invitation_email', organizationId: org, subjectId: inv.id, tokenId: inv.jti },
      now,
      created,
    ),
  ];
}

/**
 * In the batch that makes `userId` a member (once `joined` holds) by any way other than approving
 * their request: their pending join request in the organization is moot, and closed at once (a
 * system `join_request.withdrawn`, saying how they joined), so it neither clutters the owners' list
 * nor counts towards its limit (SPEC §16).
 */
export const closePendingRequestStatements = (
  org: string,
  userId: string | SQL,
  via: string,
  joined: SQL,
  now: number,
) => {
  const theirs = sql`organization_id = ${org} AND user_id = ${userId} AND status = 'pending' AND ${joined}`;
  return [
    systemAuditSql({
      action: 'join_request.withdrawn',
      target: 'join_request',
      data: sql`json_object('reason', 'joined_otherwise', 'via', ${via})`,
      from: sql`join_requests WHERE ${theirs}`,
      now,
    }),
    sql`UPDATE join_requests SET status = 'withdrawn', decided_at = ${now}, decided_by = ${userId}, updated_at = ${now}
      WHERE ${theirs}`,
  ];
};
