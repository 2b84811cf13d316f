import { sql } from 'drizzle-orm';
import type { JoinRequestStatus, JoinSource, Role } from '../db/schema';
import type { Db } from '../env';
import { decodeCursor, encodeCursor } from '../lib/cursor';

/*
 * Join requests as stored and as the API shows them. The resource is written once, in the
 * `join_request_resources` view (migration 0014), which the webhook trigger reads too: every read
 * here returns the view's JSON as it is, so the API, the pages and the webhook payloads agree.
 */

/** The API resource (SPEC §16), exactly the view's JSON. */
export interface JoinRequestResource {
  id: string;
  organization_id: string;
  user: { id: string; email: string; name: string };
  source: JoinSource;
  link_id: string | null;
  role: Role;
  status: JoinRequestStatus;
  reason: string | null;
  created_at: string;
  decided_at: string | null;
  decided_by: string | null;
}

/** What a decision needs to know of a request, and the deciding account's role now. */
export interface JoinRequestRow {
  id: string;
  userId: string;
  email: string;
  name: string;
  role: Role;
  status: JoinRequestStatus;
  /** The role in the organization of the account deciding (or withdrawing), read with the request. */
  actorRole: Role | null;
  /** 1 when the requester is already a member (joined another way). */
  requesterIsMember: number;
}

/** One request of the organization, with its requester, and `actorId`'s role; null when there is none. */
export async function findJoinRequest(
  db: Db,
  organizationId: string,
  id: string,
  actorId: string,
): Promise<JoinRequestRow | null> {
  const [row] = await db.all<JoinRequestRow>(sql`SELECT r.id, r.user_id AS userId, u.email, u.name, r.role, r.status,
      (SELECT m.role FROM memberships m WHERE m.organization_id = r.organization_id AND m.user_id = ${actorId}) AS actorRole,
      EXISTS (SELECT 1 FROM memberships m WHERE m.organization_id = r.organization_id AND m.user_id = r.user_id) AS requesterIsMember
    FROM join_requests r JOIN users u ON u.id = r.user_id
    WHERE r.id = ${id} AND r.organization_id = ${organizationId}`);
  return row ?? null;
}

/** The statement reading request `id`'s resource (the last of a batch that changed it). */
export const resourceSql = (id: string) => sql`SELECT resource FROM join_request_resources WHERE id = ${id}`;

/** The resource a `resourceSql` statement read. */
export const resourceFrom = (result: D1Result | undefined): JoinRequestResource | null => {
  const row = result?.results[0] as { resource: string } | undefined;
  return row ? (JSON.parse(row.resource) as JoinRequestResource) : null;
};

/** The resource of request `id` as it is now (after the batch that changed it). */
export async function joinRequestResource(db: Db, id: string): Promise<JoinRequestResource | null> {
  const [row] = await db.all<{ resource: string }>(sql`SELECT resource FROM join_request_resources WHERE id = ${id}`);
  return row ? (JSON.parse(row.resource) as JoinRequestResource) : null;
}

/**
 * The organization of request `id`, whoever made it: where a withdrawal is sent (its coordinator
 * checks the request is the caller's, and answers 404 for anyone else's, as for an unknown id).
 */
export async function organizationOfRequest(db: Db, id: string): Promise<string | null> {
  const [row] = await db.all<{ org: string }>(sql`SELECT organization_id AS org FROM join_requests WHERE id = ${id}`);
  return row?.org ?? null;
}

export interface PageOptions {
  limit: number;
  cursor?: string;
}

type PagedRow = { createdAt: number; id: string; resource: string };

/** A page of rows read one more than `limit` (there are more when it came back). */
function page<T>(rows: PagedRow[], limit: number, map: (row: PagedRow) => T) {
  const kept = rows.slice(0, limit);
  const last = kept.at(-1);
  return {
    data: kept.map(map),
    next_cursor: rows.length > limit && last ? encodeCursor(last.createdAt, last.id) : null,
  };
}

/** `invalid_cursor` for a cursor this API did not return (thrown before anything is read). */
const after = (cursor: string | undefined) => {
  if (!cursor) return sql``;
  const { createdAt, id } = decodeCursor(cursor);
  return sql`AND (r.created_at, r.id) < (${createdAt}, ${id})`;
};

/** An organization's requests, newest first, keyset-paginated on (created_at, id). */
export async function listJoinRequests(
  db: Db,
  organizationId: string,
  opts: PageOptions & { status?: JoinRequestStatus },
) {
  const cursor = after(opts.cursor);
  const rows = await db.all<PagedRow>(sql`SELECT r.created_at AS createdAt, r.id, v.resource
    FROM join_requests r JOIN join_request_resources v ON v.id = r.id
    WHERE r.organization_id = ${organizationId} ${opts.status ? sql`AND r.status = ${opts.status}` : sql``} ${cursor}
    ORDER BY r.created_at DESC, r.id DESC LIMIT ${opts.limit + 1}`);
  return page(rows, opts.limit, (row) => JSON.parse(row.resource) as JoinRequestResource);
}

/** A requester's own request, with the organization's name and slug (SPEC §16: `GET /v1/me/join-requests`). */
export type MyJoinRequest = JoinRequestResource & { organization: { id: string; name: string; slug: string } };

/** The caller's own requests across organizations, newest first. */
export async function listMyJoinRequests(db: Db, userId: string, opts: PageOptions & { status?: JoinRequestStatus }) {
  const cursor = after(opts.cursor);
  const rows = await db.all<PagedRow & { orgName: string; orgSlug: string }>(sql`SELECT r.created_at AS createdAt,
      r.id, v.resource, o.name AS orgName, o.slug AS orgSlug
    FROM join_requests r JOIN join_request_resources v ON v.id = r.id JOIN organizations o ON o.id = r.organization_id
    WHERE r.user_id = ${userId} ${opts.status ? sql`AND r.status = ${opts.status}` : sql``} ${cursor}
    ORDER BY r.created_at DESC, r.id DESC LIMIT ${opts.limit + 1}`);
  return page(rows, opts.limit, (row): MyJoinRequest => {
    const resource = JSON.parse(row.resource) as JoinRequestResource;
    const { orgName, orgSlug } = row as PagedRow & { orgName: string; orgSlug: string };
    return { ...resource, organization: { id: resource.organization_id, name: orgName, slug: orgSlug } };
  });
}

/** The statement reading the member an approval made (in its batch), as `GET …/members` lists members. */
export const memberSql = (organizationId: string, userId: string) =>
  sql`SELECT u.id AS user_id, u.email, u.name, m.role, m.created_at AS joined_at
    FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.organization_id = ${organizationId} AND m.user_id = ${userId}`;

export interface Member {
  user_id: string;
  email: string;
  name: string;
  role: Role;
  joined_at: string;
}

/** The member a `memberSql` statement read. */
export function memberFrom(result: D1Result | undefined): Member | null {
  const row = result?.results[0] as (Omit<Member, 'joined_at'> & { joined_at: number }) | undefined;
  return row ? { ...row, joined_at: new Date(row.joined_at).toISOString() } : null;
}
