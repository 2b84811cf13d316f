import { type SQL, sql } from 'drizzle-orm';
import type { DOMAIN_STATUSES, DomainJoinPolicy, JoinRole } from '../db/schema';
import type { Db } from '../env';
import { domainAllowedSql } from '../invitations/invitation-sql';
import type { DomainResource } from './domains.schemas';

/*
 * Verified domains and domain join (SPEC §16), as the database holds them: each rule a fragment,
 * written once, read by the routes (lists, suggestions) and guarding the coordinator's writes.
 */

/** The part of an address after its `@`, lower case: what a verified domain must equal exactly. */
export const emailDomainOf = (email: string) => email.slice(email.lastIndexOf('@') + 1).toLowerCase();

/** `domain` is verified by some organization (by at most one: the partial unique index). */
export const verifiedAnywhereSql = (domain: string) =>
  sql`EXISTS (SELECT 1 FROM organization_domains WHERE domain = ${domain} AND status = 'verified')`;

/** `domain` is verified by `org`. */
export const verifiedBySql = (org: string | SQL, domain: string) =>
  sql`EXISTS (SELECT 1 FROM organization_domains WHERE organization_id = ${org} AND domain = ${domain} AND status = 'verified')`;

/**
 * The organization admits `email` by its domain under `policy` (with `role`): one of its verified
 * domains is the email's domain exactly, and `domain_join` is `policy`. A guard of the domain
 * join's INSERT, so a policy, role or domain changed concurrently makes it write nothing.
 */
export const domainJoinOpenSql = (org: string, email: string, policy: DomainJoinPolicy, role: JoinRole) =>
  sql`EXISTS (SELECT 1 FROM organizations WHERE id = ${org} AND domain_join = ${policy} AND domain_join_role = ${role}
    AND ${verifiedBySql(org, emailDomainOf(email))})`;

/** The resource of domain `id`, as the view writes it. */
export const domainResourceSql = (id: string) => sql`SELECT resource FROM domain_resources WHERE id = ${id}`;

/** The resource of a `domainResourceSql` row (as a batch or a read returns it). */
export const resourceOf = (rows: unknown[] | undefined): DomainResource | undefined => {
  const row = rows?.[0] as { resource?: string } | undefined;
  return row?.resource ? (JSON.parse(row.resource) as DomainResource) : undefined;
};

/** An organization's domains, oldest first. */
export async function listDomains(db: Db, org: string): Promise<DomainResource[]> {
  const rows = await db.all<{ resource: string }>(sql`SELECT r.resource FROM organization_domains d
    JOIN domain_resources r ON r.id = d.id WHERE d.organization_id = ${org} ORDER BY d.created_at, d.id`);
  return rows.map((r) => JSON.parse(r.resource) as DomainResource);
}

/** What a verification needs of a domain: its name, token and status. */
export interface DomainRow {
  domain: string;
  status: (typeof DOMAIN_STATUSES)[number];
  token: string;
}

export async function findDomain(db: Db, org: string, id: string): Promise<DomainRow | undefined> {
  const [row] = await db.all<DomainRow>(sql`SELECT domain, status, verification_token AS token
    FROM organization_domains WHERE id = ${id} AND organization_id = ${org}`);
  return row;
}

/**
 * The organizations `user` may join by the domain of their email (SPEC §16): one has that exact
 * domain verified, its `domain_join` is not `off`, the user is not a member, and its allowed email
 * domains (§12), if any, admit the address (a join would be refused otherwise).
 * Plan: SEARCH d USING INDEX organization_domains_one_verified (domain=?); SEARCH o (id=?); the
 * membership probe on memberships' primary key.
 */
export async function suggestionsFor(db: Db, user: { id: string; email: string }) {
  return db.all<{ id: string; name: string; slug: string; join: 'request' | 'auto' }>(sql`
    SELECT o.id, o.name, o.slug, o.domain_join AS "join"
    FROM organization_domains d JOIN organizations o ON o.id = d.organization_id
    WHERE d.domain = ${emailDomainOf(user.email)} AND d.status = 'verified' AND o.domain_join IN ('request', 'auto')
      AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.organization_id = o.id AND m.user_id = ${user.id})
      AND ${domainAllowedSql(user.email)}
    ORDER BY o.name, o.id`);
}

/** The organizations `userId` has a pending join request at (the dashboard says "Request sent"). */
export async function requestedOrganizations(db: Db, userId: string): Promise<Set<string>> {
  const rows = await db.all<{ id: string }>(
    sql`SELECT organization_id AS id FROM join_requests WHERE user_id = ${userId} AND status = 'pending'`,
  );
  return new Set(rows.map((r) => r.id));
}
