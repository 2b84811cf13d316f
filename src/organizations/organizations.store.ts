import { and, eq, or, sql } from 'drizzle-orm';
import { memberships, organizations, users, type Role } from '../db/schema';
import type { Db } from '../env';
import { ApiError } from '../errors';
import { runBatch } from '../db/batch';
import { auditStatement } from '../audit/audit.store';
import type { Actor } from '../lib/write-context';
import { newId, randomString } from '../lib/ids';
import { OWNED_ORGANIZATIONS_LIMIT, PENDING_LIMIT } from '../lib/limits';
import { hitAll, limitFor } from '../rate-limit/rate-limit';
import { ipBucket } from '../lib/ip-ranges';
import { asLocale } from '../lib/roles';
import { parseDomains } from './domains';
import type { DomainJoinPolicy, JoinRole, Locale } from '../db/schema';
import { livePendingCountSql, remindAtSql } from '../db/fragments';

/** The organization resource (SPEC §4, §12, §16) as GET, PATCH and the pages show it. */
export async function organizationResource(db: Db, org: Organization, role: Role, now: number) {
  const [counts] = await db.all<{ pending: number; members: number }>(sql`SELECT
    ${livePendingCountSql(org.id, now)} AS pending,
    (SELECT count(*) FROM memberships WHERE organization_id = ${org.id}) AS members`);
  return {
    id: org.id,
    name: org.name,
    slug: org.slug,
    role,
    created_at: new Date(org.createdAt).toISOString(),
    pending_invitations: counts.pending,
    pending_invitation_limit: PENDING_LIMIT,
    allowed_email_domains: parseDomains(org.allowedEmailDomains),
    default_locale: asLocale(org.defaultLocale),
    seat_limit: org.seatLimit,
    seats_used: counts.members + counts.pending,
    domain_join: org.domainJoin,
    domain_join_role: org.domainJoinRole,
    reminder_days_before_expiry: org.reminderDaysBeforeExpiry,
  };
}

export type Organization = typeof organizations.$inferSelect;

/**
 * Resolves `{org}` (id or slug) for a user. Non-members get 404, not 403, so that an
 * organization's existence does not leak.
 */
export async function requireMembership(
  db: Db,
  orgRef: string,
  userId: string,
): Promise<{ org: Organization; role: Role }> {
  const [row] = await db
    .select({ org: organizations, role: memberships.role })
    .from(organizations)
    .innerJoin(memberships, and(eq(memberships.organizationId, organizations.id), eq(memberships.userId, userId)))
    .where(or(eq(organizations.id, orgRef), eq(organizations.slug, orgRef)))
    .limit(1);
  if (!row) throw new ApiError('not_found', 'No such organization.');
  return row;
}

/** Rule 1: only owners and admins manage invitations. */
export function requireManager(role: Role) {
  if (role !== 'owner' && role !== 'admin') {
    throw new ApiError('forbidden', 'Only owners and admins can manage invitations and members.');
  }
}

export async function listMembers(db: Db, organizationId: string) {
  const rows = await db
    .select({
      userId: users.id,
      email: users.email,
      name: users.name,
      role: memberships.role,
      joinedAt: memberships.createdAt,
    })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(eq(memberships.organizationId, organizationId))
    .orderBy(memberships.createdAt, users.id);
  return rows.map((r) => ({
    user_id: r.userId,
    email: r.email,
    name: r.name,
    role: r.role,
    joined_at: new Date(r.joinedAt).toISOString(),
  }));
}

export async function organizationsOf(db: Db, userId: string) {
  return db
    .select({ id: organizations.id, name: organizations.name, slug: organizations.slug, role: memberships.role })
    .from(memberships)
    .innerJoin(organizations, eq(organizations.id, memberships.organizationId))
    .where(eq(memberships.userId, userId))
    .orderBy(memberships.createdAt);
}

/** URL slug from a name: lower case, ASCII letters, digits and single dashes. */
export function slugify(name: string): string {
  const base = name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/g, '');
  return base.length >= 2 ? base : `org-${base || 'team'}`;
}

export async function slugExists(db: Db, slug: string) {
  const [row] = await db.select({ one: sql`1` }).from(organizations).where(eq(organizations.slug, slug)).limit(1);
  return Boolean(row);
}

const ownedCountSql = (userId: string) =>
  sql`(SELECT count(*) FROM memberships WHERE user_id = ${userId} AND role = 'owner')`;

/**
 * Creates an organization with `userId` as its owner. A derived slug that clashes gets a suffix.
 * Limited per account and per IP (daily), and to 25 owned organizations per account: the cap is
 * checked first for a clear error, and again by the guarded insert.
 */
export async function createOrganization(
  env: Env,
  db: Db,
  actor: Actor,
  userId: string,
  input: { name: string; slug?: string },
  now: number,
) {
  const cap = OWNED_ORGANIZATIONS_LIMIT;
  const [{ owned }] = await db.all<{ owned: number }>(sql`SELECT ${ownedCountSql(userId)} AS owned`);
  const atLimit = () =>
    new ApiError(
      'organization_limit',
      `An account can own at most ${cap} organizations. Delete one or hand its ownership to someone else first.`,
    );
  if (owned >= cap) throw atLimit();
  let slug = input.slug ?? slugify(input.name);
  if (await slugExists(db, slug)) {
    if (input.slug) throw new ApiError('slug_taken', `The slug "${slug}" is taken.`);
    slug = `${slug.slice(0, 40)}-${randomString(6)}`;
  }
  // Counted last, so a refused attempt (the cap, a taken slug) uses no daily slot.
  const over = await hitAll(
    db,
    [
      { bucket: `org-creation:account:${userId}`, limit: limitFor(env, 'orgCreationPerAccount') },
      { bucket: `org-creation:ip:${ipBucket(actor.ip)}`, limit: limitFor(env, 'orgCreationPerIp') },
    ],
    now,
  );
  if (over) {
    throw new ApiError(
      'rate_limited',
      `Too many organizations were created recently. Try again in ${over.wait} seconds.`,
      { headers: { 'Retry-After': String(over.wait) } },
    );
  }
  const org = { id: newId('org'), name: input.name, slug, createdAt: now, updatedAt: now };
  const created = sql`EXISTS (SELECT 1 FROM organizations WHERE id = ${org.id})`;
  try {
    const [inserted] = await runBatch(db, [
      sql`INSERT INTO organizations (id, name, slug, created_at, updated_at)
        SELECT ${org.id}, ${org.name}, ${slug}, ${now}, ${now} WHERE ${ownedCountSql(userId)} < ${cap}`,
      sql`INSERT INTO memberships (organization_id, user_id, role, created_at, updated_at)
        SELECT ${org.id}, ${userId}, 'owner', ${now}, ${now} WHERE ${created}`,
      auditStatement(
        actor,
        {
          organizationId: org.id,
          action: 'organization.created',
          targetType: 'organization',
          targetId: org.id,
          data: { name: org.name, slug },
        },
        now,
        created,
      ),
    ]);
    if (inserted.meta.changes !== 1) throw atLimit();
  } catch (err) {
    if (/UNIQUE/i.test(String(err) + String((err as { cause?: unknown }).cause)))
      throw new ApiError('slug_taken', `The slug "${slug}" is taken.`);
    throw err;
  }
  return {
    id: org.id,
    name: org.name,
    slug,
    role: 'owner' as const,
    created_at: new Date(now).toISOString(),
    pending_invitations: 0,
    pending_invitation_limit: PENDING_LIMIT,
    allowed_email_domains: [] as string[],
    default_locale: 'en' as Locale,
    seat_limit: null,
    seats_used: 1,
    domain_join: 'off' as const,
    domain_join_role: 'viewer' as const,
    reminder_days_before_expiry: 2,
  };
}

/**
 * Sets the allowed email domains (empty: all) and the default locale, with its audit event in the
 * same batch. Invitations already pending are not touched.
 */
export interface OrganizationSettings {
  domains?: string[];
  defaultLocale?: string | null;
  seatLimit?: number | null;
  domainJoin?: DomainJoinPolicy;
  domainJoinRole?: JoinRole;
  reminderDaysBeforeExpiry?: number | null;
}

export async function updateOrganizationSettings(
  db: Db,
  actor: Actor,
  organizationId: string,
  settings: OrganizationSettings,
  now: number,
) {
  // Only the fields given: two owners changing different settings at once do not undo each other.
  const sets = [
    ...(settings.domains !== undefined
      ? [sql`allowed_email_domains = ${settings.domains.length ? JSON.stringify(settings.domains) : null}`]
      : []),
    ...(settings.defaultLocale !== undefined ? [sql`default_locale = ${settings.defaultLocale}`] : []),
    ...(settings.seatLimit !== undefined ? [sql`seat_limit = ${settings.seatLimit}`] : []),
    ...(settings.domainJoin !== undefined ? [sql`domain_join = ${settings.domainJoin}`] : []),
    ...(settings.domainJoinRole !== undefined ? [sql`domain_join_role = ${settings.domainJoinRole}`] : []),
    ...(settings.reminderDaysBeforeExpiry !== undefined
      ? [sql`reminder_days_before_expiry = ${settings.reminderDaysBeforeExpiry}`]
      : []),
    sql`updated_at = ${now}`,
  ];
  await runBatch(db, [
    sql`UPDATE organizations SET ${sql.join(sets, sql`, `)} WHERE id = ${organizationId}`,
    // A new reminder horizon moves the due time of every pending sending not yet reminded (SPEC §17).
    ...(settings.reminderDaysBeforeExpiry !== undefined
      ? [
          sql`UPDATE invitations SET remind_at = (SELECT ${remindAtSql(sql`invitations.expires_at`, sql`invitations.last_sent_at`)}
              FROM organizations o WHERE o.id = ${organizationId})
            WHERE organization_id = ${organizationId} AND status = 'pending' AND reminded_at IS NULL`,
        ]
      : []),
    auditStatement(
      actor,
      {
        organizationId,
        action: 'organization.updated',
        targetType: 'organization',
        targetId: organizationId,
        data: {
          allowed_email_domains: settings.domains,
          default_locale: settings.defaultLocale,
          seat_limit: settings.seatLimit,
          domain_join: settings.domainJoin,
          domain_join_role: settings.domainJoinRole,
          reminder_days_before_expiry: settings.reminderDaysBeforeExpiry,
        },
      },
      now,
    ),
  ]);
}

/** A user's role in an organization, read inside the coordinator so a concurrent demotion is seen. */
export async function roleOf(db: Db, organizationId: string, userId: string | null): Promise<Role | undefined> {
  if (!userId) return undefined;
  const [row] = await db
    .select({ role: memberships.role })
    .from(memberships)
    .where(and(eq(memberships.organizationId, organizationId), eq(memberships.userId, userId)));
  return row?.role;
}
