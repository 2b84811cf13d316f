import { and, desc, eq, gt, lte, or, sql, type SQL } from 'drizzle-orm';
import { alias } from 'drizzle-orm/sqlite-core';
import { invitations, users, type InvitationStatus } from '../db/schema';
import type { Db } from '../env';
import { ApiError } from '../errors';
import { LOCALES, type Locale } from '../db/schema';
import { iso } from '../lib/time';

/** A stored locale, or `en`. */
export const asLocale = (value: string | null | undefined): Locale => ((LOCALES as readonly string[]).includes(value ?? '') ? (value as Locale) : 'en');

/** Rule 3: the most pending invitations an organization may have at any moment. */
export const PENDING_LIMIT = 10;

export type InvitationRow = typeof invitations.$inferSelect;

const inviter = alias(users, 'inviter');

const selection = {
  invitation: invitations,
  inviter: { id: inviter.id, name: inviter.name, email: inviter.email },
};

/** Rule 5: a pending invitation past `expires_at` is expired everywhere, before any job runs. */
export function effectiveStatus(row: Pick<InvitationRow, 'status' | 'expiresAt'>, now: number): InvitationStatus {
  return row.status === 'pending' && row.expiresAt <= now ? 'expired' : row.status;
}

/** SQL for "live pending": the only rows that count toward the limit and accept links. */
export const livePending = (now: number) => and(eq(invitations.status, 'pending'), gt(invitations.expiresAt, now));

const effectiveStatusFilter = (status: InvitationStatus, now: number): SQL | undefined => {
  if (status === 'pending') return livePending(now);
  if (status === 'expired') {
    return or(eq(invitations.status, 'expired'), and(eq(invitations.status, 'pending'), lte(invitations.expiresAt, now)));
  }
  return eq(invitations.status, status);
};

/** The API resource. Never includes `token_id`. */
export function toInvitationResource(
  row: InvitationRow,
  by: { id: string; name: string; email: string } | null,
  now: number,
) {
  return {
    id: row.id,
    organization_id: row.organizationId,
    email: row.email,
    role: row.role,
    status: effectiveStatus(row, now),
    message: row.message,
    expires_in_days: row.expiresInDays,
    expires_at: iso(row.expiresAt)!,
    created_at: iso(row.createdAt)!,
    updated_at: iso(row.updatedAt)!,
    invited_by: { user_id: row.invitedBy, name: by?.name ?? null, email: by?.email ?? null },
    last_sent_at: iso(row.lastSentAt)!,
    send_count: row.sendCount,
    email_delivery: row.emailDelivery,
    email_delivery_detail: row.emailDeliveryDetail,
    accepted_at: iso(row.acceptedAt),
    accepted_by: row.acceptedBy,
    revoked_at: iso(row.revokedAt),
    locale: asLocale(row.locale),
  };
}
export type InvitationResource = ReturnType<typeof toInvitationResource>;

export async function findInvitation(db: Db, organizationId: string, id: string) {
  const [row] = await db
    .select(selection)
    .from(invitations)
    .leftJoin(inviter, eq(inviter.id, invitations.invitedBy))
    .where(and(eq(invitations.organizationId, organizationId), eq(invitations.id, id)))
    .limit(1);
  return row;
}

export async function getInvitationResource(db: Db, organizationId: string, id: string, now: number) {
  const row = await findInvitation(db, organizationId, id);
  if (!row) throw new ApiError('not_found', 'No such invitation in this organization.');
  return toInvitationResource(row.invitation, row.inviter, now);
}

/** Live pending count: one index range scan on (organization_id, status, expires_at). */
export async function countPending(db: Db, organizationId: string, now: number): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)` })
    .from(invitations)
    .where(and(eq(invitations.organizationId, organizationId), livePending(now)));
  return row?.n ?? 0;
}

export function encodeCursor(createdAt: number, id: string): string {
  return btoa(JSON.stringify([createdAt, id])).replaceAll('=', '');
}

export function decodeCursor(cursor: string): { createdAt: number; id: string } {
  try {
    const parsed: unknown = JSON.parse(atob(cursor));
    if (
      Array.isArray(parsed) &&
      parsed.length === 2 &&
      Number.isSafeInteger(parsed[0]) &&
      typeof parsed[1] === 'string' &&
      parsed[1].length <= 64
    ) {
      return { createdAt: parsed[0], id: parsed[1] };
    }
  } catch {
    // fall through
  }
  throw new ApiError('invalid_cursor', 'The cursor is not one this API returned.');
}

/** Newest first, keyset-paginated on (created_at, id): cost is O(page) whatever the history. */
export async function listInvitations(
  db: Db,
  organizationId: string,
  opts: { status?: InvitationStatus; limit: number; cursor?: string; now: number },
) {
  const after = opts.cursor ? decodeCursor(opts.cursor) : undefined;
  const rows = await db
    .select(selection)
    .from(invitations)
    .leftJoin(inviter, eq(inviter.id, invitations.invitedBy))
    .where(
      and(
        eq(invitations.organizationId, organizationId),
        opts.status ? effectiveStatusFilter(opts.status, opts.now) : undefined,
        after
          ? sql`(${invitations.createdAt}, ${invitations.id}) < (${after.createdAt}, ${after.id})`
          : undefined,
      ),
    )
    .orderBy(desc(invitations.createdAt), desc(invitations.id))
    .limit(opts.limit + 1);
  const page = rows.slice(0, opts.limit);
  const last = page.at(-1);
  return {
    data: page.map((r) => toInvitationResource(r.invitation, r.inviter, opts.now)),
    next_cursor: rows.length > opts.limit && last ? encodeCursor(last.invitation.createdAt, last.invitation.id) : null,
  };
}
