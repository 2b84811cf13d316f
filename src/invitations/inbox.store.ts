import { sql } from 'drizzle-orm';
import type { Role } from '../db/schema';
import type { Db } from '../env';
import { livePendingSql } from '../db/fragments';
import { iso } from '../lib/time';

/** The most invitations the inbox lists (soonest expiry first): more than anyone is sent at once. */
export const INBOX_LIMIT = 100;

/** One invitation in the inbox, as `GET /v1/me/invitations` lists it. */
export interface InboxItem {
  id: string;
  organization: { name: string; slug: string };
  role: Role;
  inviter: { name: string | null };
  expires_at: string;
}

interface InboxRow {
  id: string;
  role: Role;
  expires_at: number;
  org_name: string | null;
  org_slug: string | null;
  inviter_name: string | null;
}

/**
 * The live pending invitations addressed to `email`, across organizations, soonest expiry first
 * (the one to decide on first). One range scan of the (email, status, expires_at) index, in its
 * order: no sort step.
 */
export async function listMyInvitations(db: Db, email: string, now: number): Promise<InboxItem[]> {
  const rows = await db.all<InboxRow>(sql`SELECT i.id, i.role, i.expires_at, o.name AS org_name, o.slug AS org_slug,
      u.name AS inviter_name
    FROM invitations i JOIN organizations o ON o.id = i.organization_id LEFT JOIN users u ON u.id = i.invited_by
    WHERE i.email = ${email} AND ${livePendingSql(now, sql`i`)}
    ORDER BY i.expires_at LIMIT ${INBOX_LIMIT}`);
  return rows.map((r) => ({
    id: r.id,
    organization: { name: r.org_name ?? '', slug: r.org_slug ?? '' },
    role: r.role,
    inviter: { name: r.inviter_name },
    expires_at: iso(r.expires_at)!,
  }));
}

/** The organization of an invitation (which coordinator decides on it); null when there is none. */
export async function organizationOfInvitation(db: Db, id: string): Promise<string | null> {
  const [row] = await db.all<{ org: string }>(sql`SELECT organization_id AS org FROM invitations WHERE id = ${id}`);
  return row?.org ?? null;
}
