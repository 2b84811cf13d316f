import { sql } from 'drizzle-orm';
import type { invitations, InvitationStatus } from '../db/schema';
import type { Db } from '../env';
import { ApiError } from '../errors';
import { decodeCursor, encodeCursor } from '../lib/cursor';
import { asLocale } from '../lib/roles';
import { iso } from '../lib/time';
import { livePendingCountSql } from '../db/fragments';

export type InvitationRow = typeof invitations.$inferSelect;

/** Rule 5: a pending invitation past `expires_at` is expired everywhere, before any job runs. */
export function effectiveStatus(row: Pick<InvitationRow, 'status' | 'expiresAt'>, now: number): InvitationStatus {
  return row.status === 'pending' && row.expiresAt <= now ? 'expired' : row.status;
}

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
    declined_at: iso(row.declinedAt),
    reminded_at: iso(row.remindedAt),
    reinvite_requested_at: iso(row.reinviteRequestedAt),
  };
}
export type InvitationResource = ReturnType<typeof toInvitationResource>;

/**
 * An invitation row with its inviter, as plain SQL: every column under its drizzle name, so a row
 * is an `InvitationRow` as it comes (plus the inviter's three columns).
 */
const INVITATION_WITH_INVITER = `SELECT i.id, i.organization_id AS organizationId, i.email, i.role, i.status, i.message,
    i.expires_in_days AS expiresInDays, i.expires_at AS expiresAt, i.token_id AS tokenId, i.invited_by AS invitedBy,
    i.last_sent_at AS lastSentAt, i.send_count AS sendCount, i.email_delivery AS emailDelivery,
    i.delivery_attempts AS deliveryAttempts, i.email_delivery_detail AS emailDeliveryDetail, i.locale,
    i.accepted_at AS acceptedAt, i.accepted_by AS acceptedBy, i.revoked_at AS revokedAt,
    i.declined_at AS declinedAt, i.reminded_at AS remindedAt, i.reinvite_requested_at AS reinviteRequestedAt,
    i.created_at AS createdAt, i.updated_at AS updatedAt,
    inviter.id AS inviterId, inviter.name AS inviterName, inviter.email AS inviterEmail
  FROM invitations i LEFT JOIN users inviter ON inviter.id = i.invited_by`;

type ListedRow = InvitationRow & { inviterId: string | null; inviterName: string | null; inviterEmail: string | null };

const ONE_INVITATION = `${INVITATION_WITH_INVITER} WHERE i.organization_id = ? AND i.id = ?`;

/** The resource of a row read with `INVITATION_WITH_INVITER`. */
const resourceOf = ({ inviterId, inviterName, inviterEmail, ...invitation }: ListedRow, now: number) =>
  toInvitationResource(invitation, inviterId ? { id: inviterId, name: inviterName!, email: inviterEmail! } : null, now);

/** One invitation of the organization, with its inviter; null when there is none. */
export async function findInvitation(db: Db, organizationId: string, id: string): Promise<ListedRow | null> {
  return db.$client.prepare(ONE_INVITATION).bind(organizationId, id).first<ListedRow>();
}

export async function getInvitationResource(db: Db, organizationId: string, id: string, now: number) {
  const row = await findInvitation(db, organizationId, id);
  if (!row) throw new ApiError('not_found', 'No such invitation in this organization.');
  return resourceOf(row, now);
}

/** Live pending count: one index range scan on (organization_id, status, expires_at). */
export async function countPending(db: Db, organizationId: string, now: number): Promise<number> {
  const [row] = await db.all<{ n: number }>(sql`SELECT ${livePendingCountSql(organizationId, now)} AS n`);
  return row?.n ?? 0;
}

/** The effective-status filters (rule 5), over `i`; `now` is bound where they say `?`. */
const STATUS_SQL: Record<InvitationStatus, { text: string; now: boolean }> = {
  pending: { text: `AND i.status = 'pending' AND i.expires_at > ?`, now: true },
  expired: { text: `AND (i.status = 'expired' OR (i.status = 'pending' AND i.expires_at <= ?))`, now: true },
  accepted: { text: `AND i.status = 'accepted'`, now: false },
  revoked: { text: `AND i.status = 'revoked'`, now: false },
  declined: { text: `AND i.status = 'declined'`, now: false },
};

/**
 * The list's statement for each (status, cursor) variant, built once per isolate: built with
 * drizzle on every request, it was a fifth of a 16-way list's CPU. The organization is named by
 * its id or its slug (disjoint: slugs have no `_`), as `{org}` in the path is, so the page can be
 * read in the same D1 batch as the caller's access (`requireOrgMemberReading`). Same index plans
 * as before (BENCHMARKS.md lists them).
 */
const listStatements = new Map<string, string>();
function listSql(status: InvitationStatus | undefined, cursor: boolean) {
  const key = `${status ?? ''}:${cursor}`;
  let text = listStatements.get(key);
  if (!text) {
    text = `${INVITATION_WITH_INVITER}
      WHERE i.organization_id = (SELECT id FROM organizations WHERE id = ? OR slug = ?)
        ${status ? STATUS_SQL[status].text : ''} ${cursor ? 'AND (i.created_at, i.id) < (?, ?)' : ''}
      ORDER BY i.created_at DESC, i.id DESC LIMIT ?`;
    listStatements.set(key, text);
  }
  return text;
}

export interface ListOptions {
  status?: InvitationStatus;
  limit: number;
  cursor?: string;
  now: number;
}

/** The page's statement (`invalid_cursor` for a cursor this API did not return). */
export function listStatement(client: D1Database, orgRef: string, opts: ListOptions): D1PreparedStatement {
  const after = opts.cursor ? decodeCursor(opts.cursor) : undefined;
  const params: unknown[] = [orgRef, orgRef];
  if (opts.status && STATUS_SQL[opts.status].now) params.push(opts.now);
  if (after) params.push(after.createdAt, after.id);
  params.push(opts.limit + 1);
  return client.prepare(listSql(opts.status, after !== undefined)).bind(...params);
}

/** Newest first, keyset-paginated on (created_at, id): cost is O(page) whatever the history. */
export async function listInvitations(db: Db, organizationId: string, opts: ListOptions) {
  return listPage((await listStatement(db.$client, organizationId, opts).all<ListedRow>()).results, opts);
}

/** The page of `listStatement`'s rows (one more than `limit` when there are more). */
export function listPage(rows: unknown[], opts: ListOptions) {
  const page = (rows as ListedRow[]).slice(0, opts.limit);
  const last = page.at(-1);
  return {
    data: page.map((row) => resourceOf(row, opts.now)),
    next_cursor: rows.length > opts.limit && last ? encodeCursor(last.createdAt, last.id) : null,
  };
}
