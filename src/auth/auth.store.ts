import { and, desc, eq, gt, sql, type SQL } from 'drizzle-orm';
import type { DomainJoinPolicy, JoinRole, Role } from '../db/schema';
import { sessions, users } from '../db/schema';
import { runBatch } from '../db/batch';
import type { AuthUser, Db } from '../env';
import { newSecret, sha256Hex } from '../lib/crypto';
import { newId } from '../lib/ids';
import { iso } from '../lib/time';
import { ipBucket } from '../lib/ip-ranges';
import type { ClientInfo } from '../lib/write-context';

export const SESSION_TTL_MS = 30 * 24 * 60 * 60 * 1000;
export const SESSION_PREFIX = '8b_ses_';
export const API_TOKEN_PREFIX = '8b_pat_';

export async function findUserByEmail(db: Db, email: string) {
  const [user] = await db.select().from(users).where(eq(users.email, email)).limit(1);
  return user;
}

/** Makes a new session secret; the caller inserts `row` (usually inside a batch). */
export async function newSession(userId: string, now: number, client: ClientInfo = { ip: null, userAgent: null }) {
  const token = newSecret(SESSION_PREFIX);
  const row = {
    id: newId('ses'),
    userId,
    tokenHash: await sha256Hex(token),
    createdAt: now,
    expiresAt: now + SESSION_TTL_MS,
    ip: client.ip?.slice(0, 64) ?? null,
    userAgent: client.userAgent?.slice(0, 256) ?? null,
  };
  return { token, row };
}

/** The INSERT of a session row for the account `userIdSql`, only if `onlyIf` holds (inside a batch). */
export function insertSessionSql(row: Awaited<ReturnType<typeof newSession>>['row'], userIdSql: SQL, onlyIf: SQL) {
  return sql`INSERT INTO sessions (id, user_id, token_hash, created_at, expires_at, ip, user_agent)
    SELECT ${row.id}, ${userIdSql}, ${row.tokenHash}, ${row.createdAt}, ${row.expiresAt}, ${row.ip}, ${row.userAgent} WHERE ${onlyIf}`;
}

/**
 * How long a network an account signed in from stays known (SPEC §18, no lockout by strangers):
 * a year after its last sign-in. The cron's housekeeping deletes older rows.
 */
export const KNOWN_NETWORK_MS = 365 * 24 * 60 * 60 * 1000;

/**
 * Remembers the network a new session signed in from (`ipBucket`, as the sign-in budgets count
 * it), for the caller's batch after the session's INSERT: written only if that session was. A
 * session without a usable IP (the shared `unknown` bucket) teaches nothing: null.
 */
export function rememberNetworkSql(row: Awaited<ReturnType<typeof newSession>>['row']): SQL | null {
  const network = ipBucket(row.ip);
  if (network === 'unknown') return null;
  return sql`INSERT INTO sign_in_networks (user_id, network, last_signed_in_at)
    SELECT user_id, ${network}, created_at FROM sessions WHERE id = ${row.id}
    ON CONFLICT (user_id, network) DO UPDATE SET last_signed_in_at = max(last_signed_in_at, excluded.last_signed_in_at)`;
}

/**
 * Holds when the account of `email` signed in from `ip`'s network within `KNOWN_NETWORK_MS`; never
 * for the shared `unknown` bucket. The same answer whether or not the address has an account, as
 * far as the caller's response shows.
 */
export function knownNetworkSql(email: string, ip: string | null, now: number): SQL {
  const network = ipBucket(ip);
  if (network === 'unknown') return sql`0`;
  return sql`EXISTS (SELECT 1 FROM sign_in_networks n JOIN users u ON u.id = n.user_id
    WHERE u.email = ${email} AND n.network = ${network} AND n.last_signed_in_at > ${now - KNOWN_NETWORK_MS})`;
}

/**
 * Holds while the credential a request authenticated with is still live: its session not ended
 * (nor expired), its API token neither revoked nor expired. A write made on the caller's behalf
 * puts it in its own WHERE, so a sign-out everywhere that lands between the authentication and the
 * write leaves nothing behind (SPEC §18).
 */
export function credentialLiveSql(user: Pick<AuthUser, 'id' | 'via' | 'credentialId'>, now: number): SQL {
  return user.via === 'session'
    ? sql`EXISTS (SELECT 1 FROM sessions WHERE id = ${user.credentialId} AND user_id = ${user.id} AND expires_at > ${now})`
    : sql`EXISTS (SELECT 1 FROM api_tokens WHERE id = ${user.credentialId} AND user_id = ${user.id} AND ${apiTokenLiveSql(now)})`;
}

/** An `api_tokens` row that still authenticates at `now`: neither revoked nor expired. */
export const apiTokenLiveSql = (now: number) => sql`revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ${now})`;

/** `last_used_at` is written at most once a minute per credential (SPEC §14). */
export const LAST_USED_RESOLUTION_MS = 60_000;

/** Records a use of a session or API token, unless one was recorded in the last minute. */
async function touch(db: Db, via: AuthUser['via'], id: string, lastUsedAt: number | null, now: number) {
  if (lastUsedAt !== null && lastUsedAt > now - LAST_USED_RESOLUTION_MS) return;
  const table = via === 'session' ? sql`sessions` : sql`api_tokens`;
  // Guarded, so concurrent requests of one credential write it once.
  await db.run(sql`UPDATE ${table} SET last_used_at = ${now}
    WHERE id = ${id} AND (last_used_at IS NULL OR last_used_at <= ${now - LAST_USED_RESOLUTION_MS})`);
}

/** The kind of secret by its prefix, or null for anything else (never looked up). */
export function credentialKind(secret: string): AuthUser['via'] | null {
  if (secret.length > 200) return null;
  if (secret.startsWith(SESSION_PREFIX)) return 'session';
  if (secret.startsWith(API_TOKEN_PREFIX)) return 'api_token';
  return null;
}

export async function endSession(db: Db, sessionId: string) {
  await db.delete(sessions).where(eq(sessions.id, sessionId));
}

/** A user's live sessions, newest first, marking the one making this request. */
export async function sessionsOf(db: Db, userId: string, currentId: string, now: number) {
  const rows = await db
    .select()
    .from(sessions)
    .where(and(eq(sessions.userId, userId), gt(sessions.expiresAt, now)))
    .orderBy(desc(sessions.createdAt), desc(sessions.id));
  return rows.map((r) => ({
    id: r.id,
    created_at: iso(r.createdAt)!,
    last_used_at: iso(r.lastUsedAt),
    ip: r.ip,
    user_agent: r.userAgent,
    current: r.id === currentId,
  }));
}

/** Ends one of the user's sessions; false when it is not theirs (or already gone). */
export async function endOwnSession(db: Db, userId: string, sessionId: string) {
  const deleted = await db
    .delete(sessions)
    .where(and(eq(sessions.id, sessionId), eq(sessions.userId, userId)))
    .returning({ id: sessions.id });
  return deleted.length === 1;
}

/**
 * Signs a user out everywhere, in one batch (SPEC §18: what ends a compromise must end all of it).
 * Every session ends, every personal API token is revoked, and every sign-in link of the address
 * not yet used is used up: a link a thief holds, or one still in the outbox, cannot sign in again.
 * The time is recorded on the account: an invitation link emailed before it, however fresh, no
 * longer signs in (it still joins, and emails a sign-in link instead, as an old link does: §14).
 * The networks the account signed in from stay known (a sign-in from them is what comes next).
 */
export async function endAllSessions(db: Db, userId: string, now = Date.now()) {
  await runBatch(db, [
    sql`DELETE FROM sessions WHERE user_id = ${userId}`,
    sql`UPDATE api_tokens SET revoked_at = ${now} WHERE user_id = ${userId} AND revoked_at IS NULL`,
    sql`UPDATE sign_in_links SET used_at = ${now} WHERE email = (SELECT email FROM users WHERE id = ${userId}) AND used_at IS NULL`,
    sql`UPDATE users SET signed_out_everywhere_at = max(coalesce(signed_out_everywhere_at, 0), ${now}) WHERE id = ${userId}`,
  ]);
}

/**
 * The statement behind `resolveOrgAccess`, per kind of credential (the live credential behind a
 * bearer secret: an unexpired session, or an API token neither revoked nor expired). Plain SQL built
 * once: it runs on every authenticated request, and building it with drizzle each time showed in
 * the profile. ?1 is the secret's hash, ?2 now, ?3 the organization's id or slug (or NULL).
 */
const accessSql = (
  credentials: string,
) => `SELECT u.id AS user_id, u.email, u.name, c.id AS credential_id, c.last_used_at,
    o.id AS org_id, o.name AS org_name, o.slug, o.created_at, o.updated_at, o.allowed_email_domains, o.default_locale,
    o.seat_limit, o.domain_join, o.domain_join_role, o.reminder_days_before_expiry, m.role
  FROM (${credentials}) c
  JOIN users u ON u.id = c.user_id
  LEFT JOIN organizations o ON (o.id = ?3 OR o.slug = ?3)
  LEFT JOIN memberships m ON m.organization_id = o.id AND m.user_id = u.id
  LIMIT 1`;
const ACCESS_SQL: Record<AuthUser['via'], string> = {
  session: accessSql('SELECT id, user_id, last_used_at FROM sessions WHERE token_hash = ?1 AND expires_at > ?2'),
  api_token: accessSql(
    'SELECT id, user_id, last_used_at FROM api_tokens WHERE token_hash = ?1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?2)',
  ),
};

/**
 * The caller and their membership of `{org}` (id or slug) in one query: every organization route
 * needs both, and each D1 round trip counts. `membership` is null for a non-member (or without
 * `orgRef`). `readAhead`, a read the route makes next, runs in the same batch as the access query
 * (one round trip, not two): its rows come back as `readAhead`, with the `now` they were read at,
 * whoever the caller is; the route uses them only once it has authorized the caller.
 */
export async function resolveOrgAccess(
  db: Db,
  secret: string,
  orgRef: string | null,
  now: number,
  /** Where the coordinator puts the record of a use, off its path; awaited when absent. */
  defer?: (work: Promise<unknown>) => void,
  readAhead?: D1PreparedStatement | null,
) {
  const via = credentialKind(secret);
  if (!via || (orgRef !== null && orgRef.length > 64)) return null;
  const hash = await sha256Hex(secret);
  const access = db.$client.prepare(ACCESS_SQL[via]).bind(hash, now, orgRef);
  const [found, ahead] = readAhead
    ? await db.$client.batch([access, readAhead])
    : [{ results: [await access.first()] }];
  const row = found.results[0] as {
    user_id: string;
    email: string;
    name: string;
    credential_id: string;
    last_used_at: number | null;
    org_id: string | null;
    org_name: string;
    slug: string;
    created_at: number;
    updated_at: number;
    role: Role | null;
    allowed_email_domains: string | null;
    default_locale: string | null;
    seat_limit: number | null;
    domain_join: DomainJoinPolicy;
    domain_join_role: JoinRole;
    reminder_days_before_expiry: number | null;
  } | null;
  if (!row) return null;
  const touched = touch(db, via, row.credential_id, row.last_used_at, now);
  if (defer) defer(touched.catch(() => undefined));
  else await touched;
  const user: AuthUser = { id: row.user_id, email: row.email, name: row.name, via, credentialId: row.credential_id };
  const membership =
    row.org_id && row.role
      ? {
          org: {
            id: row.org_id,
            name: row.org_name,
            slug: row.slug,
            createdAt: row.created_at,
            updatedAt: row.updated_at,
            allowedEmailDomains: row.allowed_email_domains,
            defaultLocale: row.default_locale,
            seatLimit: row.seat_limit,
            domainJoin: row.domain_join,
            domainJoinRole: row.domain_join_role,
            reminderDaysBeforeExpiry: row.reminder_days_before_expiry,
          },
          role: row.role,
        }
      : null;
  return { user, membership, readAhead: ahead && { rows: ahead.results, now } };
}
