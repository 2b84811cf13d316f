import { type SQL, sql } from 'drizzle-orm';
import { DAY_MS } from '../lib/time';

/*
 * SQL fragments that name a rule of the data, each written once and shared by every folder that
 * needs it (a floor below the domain folders). They are guards of guarded statements: a rule that
 * does not hold makes its statement write nothing, whatever ran concurrently.
 */

/** "Live pending": pending and not yet past its expiry (rule 5). `alias`: the invitations row. */
export const livePendingSql = (now: number, alias = sql`invitations`) =>
  sql`${alias}.status = 'pending' AND ${alias}.expires_at > ${now}`;

/** How many live pending invitations the organization has. */
export const livePendingCountSql = (org: string, now: number) =>
  sql`(SELECT count(*) FROM invitations WHERE organization_id = ${org} AND ${livePendingSql(now)})`;

/** The email already belongs to a member of the organization. */
export const memberSql = (org: string, email: string) =>
  sql`EXISTS (SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.organization_id = ${org} AND u.email = ${email})`;

/** Some pending invitation (live or past its expiry, not yet written down) to `email` holds its slot. */
export const pendingToSql = (org: string, email: string) =>
  sql`EXISTS (SELECT 1 FROM invitations WHERE organization_id = ${org} AND email = ${email} AND status = 'pending')`;

/** Rule 1 (managers only) and rule 2 (`ownerOnly`: only owners touch the owner role). */
export const isManagerSql = (org: string, userId: string | null, ownerOnly = false) =>
  sql`EXISTS (SELECT 1 FROM memberships WHERE organization_id = ${org} AND user_id = ${userId}
    AND role IN ${ownerOnly ? sql`('owner')` : sql`('owner', 'admin')`})`;

/** How many organizations `userId` owns other than `org` (the owned-organization cap, SPEC §14). */
export const ownedElsewhereSql = (userId: string | SQL, org: string) =>
  sql`(SELECT count(*) FROM memberships WHERE user_id = ${userId} AND role = 'owner' AND organization_id != ${org})`;

/** Seats used (SPEC §16): members plus live pending invitations. */
export const seatsUsedSql = (org: string, now: number) =>
  sql`((SELECT count(*) FROM memberships WHERE organization_id = ${org}) + ${livePendingCountSql(org, now)})`;

/**
 * Room for `seats` more seats under the organization's `seat_limit` (none set: always room, and
 * nothing counted: every invitation insert carries this guard). A join
 * by `email` that has a live pending invitation takes the seat that invitation holds: it needs one
 * seat fewer.
 */
export const seatFreeSql = (org: string, now: number, seats = 1, email: string | null = null) =>
  sql`coalesce((SELECT CASE WHEN seat_limit IS NULL THEN 1 ELSE ${seatsUsedSql(org, now)} + ${seats}
      - (SELECT count(*) FROM invitations WHERE organization_id = ${org} AND email = ${email} AND ${livePendingSql(now)})
      <= seat_limit END FROM organizations WHERE id = ${org}), 1)`;

/** `AND g` for each guard, to append to a statement's WHERE (nothing for none). */
export const andAll = (guards: SQL[]) =>
  sql.join(
    guards.map((g) => sql`AND ${g}`),
    sql` `,
  );

/**
 * When a sending's reminder is due (SPEC §17): the organization's `reminder_days_before_expiry`
 * days before `expiresAt`, when it sets reminders and the sending's whole life (from `sentAt`) is
 * longer than that; else NULL. Over the organization row `o`.
 */
export const remindAtSql = (expiresAt: SQL | number, sentAt: SQL | number, o = sql.raw('o')) =>
  sql`CASE WHEN ${o}.reminder_days_before_expiry IS NOT NULL
    AND ${expiresAt} - ${sentAt} > ${o}.reminder_days_before_expiry * ${DAY_MS}
    THEN ${expiresAt} - ${o}.reminder_days_before_expiry * ${DAY_MS} END`;
