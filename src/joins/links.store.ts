import { type SQL, sql } from 'drizzle-orm';
import type { JoinRole } from '../db/schema';
import type { Db } from '../env';
import { decodeCursor, encodeCursor } from '../lib/cursor';
import type { InviteLinkSchema } from './links.schemas';
import type { z } from '@hono/zod-openapi';

/*
 * Invite links as D1 holds them (SPEC §16). A link's resource is the `invite_link_resources` view's
 * JSON, as the webhook trigger reads it; whether it has expired depends on the moment, which the
 * view does not know: `resourceSql` says it as the trigger does.
 */

export type InviteLinkResource = z.infer<typeof InviteLinkSchema>;

/** At most this many live links per organization (SPEC §16). */
export const LIVE_LINKS_LIMIT = 10;

/**
 * A link that admits someone now: enabled, not deleted, not expired, not used up. `l`: the
 * `invite_links` row's alias.
 */
export const liveLinkSql = (now: number, l = sql.raw('invite_links')) =>
  sql`(${l}.enabled = 1 AND ${l}.deleted_at IS NULL AND ${l}.expires_at > ${now} AND ${l}.uses < ${l}.max_uses)`;

/** The organization's live links (what the limit of 10 counts), other than `exceptId`. */
export const liveLinkCountSql = (org: string, now: number, exceptId: string | null = null) =>
  sql`(SELECT count(*) FROM invite_links l WHERE l.organization_id = ${org} AND l.id IS NOT ${exceptId}
    AND ${liveLinkSql(now, sql.raw('l'))})`;

/** The link's resource as the API and the webhook trigger give it (`r`: the view's row). */
const resourceSql = (now: number) =>
  sql`CASE WHEN r.status = 'active' AND r.expires_at <= ${now} THEN json_set(r.resource, '$.status', 'expired') ELSE r.resource END`;

/** A link row, as the services read it. */
export interface LinkRow {
  id: string;
  organization_id: string;
  role: JoinRole;
  max_uses: number;
  uses: number;
  expires_at: number;
  requires_approval: number;
  enabled: number;
  created_by: string;
  deleted_at: number | null;
  live: number;
}

const LINK_COLUMNS = (now: number) =>
  sql`l.id, l.organization_id, l.role, l.max_uses, l.uses, l.expires_at, l.requires_approval, l.enabled,
    l.created_by, l.deleted_at, ${liveLinkSql(now, sql.raw('l'))} AS live`;

/** One link of the organization that is not deleted, or null. */
export async function findLink(db: Db, org: string, id: string, now: number): Promise<LinkRow | null> {
  const [row] = await db.all<LinkRow>(
    sql`SELECT ${LINK_COLUMNS(now)} FROM invite_links l WHERE l.organization_id = ${org} AND l.id = ${id} AND l.deleted_at IS NULL`,
  );
  return row ?? null;
}

/** The link behind a code's hash in the organization (deleted ones too), with the organization. */
export async function findLinkByHash(db: Db, org: string, codeHash: string, now: number) {
  const [row] = await db.all<LinkRow & { org_name: string; org_slug: string }>(
    sql`SELECT ${LINK_COLUMNS(now)}, o.name AS org_name, o.slug AS org_slug
      FROM invite_links l JOIN organizations o ON o.id = l.organization_id
      WHERE l.code_hash = ${codeHash} AND l.organization_id = ${org}`,
  );
  return row ?? null;
}

/** Which organization a code's hash belongs to (any link, live or not), or null. */
export async function organizationOfCode(db: Db, codeHash: string): Promise<string | null> {
  const [row] = await db.all<{ organization_id: string }>(
    sql`SELECT organization_id FROM invite_links WHERE code_hash = ${codeHash}`,
  );
  return row?.organization_id ?? null;
}

/** What the join page shows of a code: the organization and the role, and whether it admits now. */
export async function linkOffer(db: Db, codeHash: string, now: number) {
  const [row] = await db.all<{
    org_id: string;
    org_name: string;
    org_slug: string;
    role: JoinRole;
    requires_approval: number;
    live: number;
  }>(
    sql`SELECT o.id AS org_id, o.name AS org_name, o.slug AS org_slug, l.role, l.requires_approval,
        ${liveLinkSql(now, sql.raw('l'))} AS live
      FROM invite_links l JOIN organizations o ON o.id = l.organization_id WHERE l.code_hash = ${codeHash}`,
  );
  return row ?? null;
}

/** A link's resource (not a deleted one), or null. */
export async function linkResource(db: Db, org: string, id: string, now: number): Promise<InviteLinkResource | null> {
  const [row] = await db.all<{ resource: string }>(
    sql`SELECT ${resourceSql(now)} AS resource FROM invite_link_resources r JOIN invite_links l ON l.id = r.id
      WHERE l.organization_id = ${org} AND l.id = ${id} AND l.deleted_at IS NULL`,
  );
  return row ? (JSON.parse(row.resource) as InviteLinkResource) : null;
}

/** The organization's links (deleted ones not listed), newest first, keyset-paginated on (created_at, id). */
export async function listLinks(db: Db, org: string, opts: { limit: number; cursor?: string; now: number }) {
  const after = opts.cursor ? decodeCursor(opts.cursor) : undefined;
  const page: SQL = after ? sql`AND (l.created_at, l.id) < (${after.createdAt}, ${after.id})` : sql``;
  const rows = await db.all<{ resource: string; created_at: number; id: string }>(
    sql`SELECT ${resourceSql(opts.now)} AS resource, l.created_at, l.id
      FROM invite_links l JOIN invite_link_resources r ON r.id = l.id
      WHERE l.organization_id = ${org} AND l.deleted_at IS NULL ${page}
      ORDER BY l.created_at DESC, l.id DESC LIMIT ${opts.limit + 1}`,
  );
  const shown = rows.slice(0, opts.limit);
  const last = shown.at(-1);
  return {
    data: shown.map((r) => JSON.parse(r.resource) as InviteLinkResource),
    next_cursor: rows.length > opts.limit && last ? encodeCursor(last.created_at, last.id) : null,
  };
}
