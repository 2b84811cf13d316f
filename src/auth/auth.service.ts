import { and, eq, gt, isNull, sql, type SQL } from 'drizzle-orm';
import { runBatch } from '../db/batch';
import { signInLinks } from '../db/schema';
import type { Db } from '../env';
import { ApiError } from '../errors';
import { newId } from '../lib/ids';
import { newOutboxId, outboxInsert } from '../db/outbox';
import { findUserByEmail, insertSessionSql, knownNetworkSql, newSession, rememberNetworkSql } from './auth.store';
import type { ClientInfo } from '../lib/write-context';
import { AUDIENCE, verifyToken } from './tokens';
import { enforce, enforceAtEdge, hitSql, limitFor } from '../rate-limit/rate-limit';
import { ipBucket } from '../lib/ip-ranges';

export const SIGN_IN_LINK_TTL_MS = 15 * 60 * 1000;

/**
 * Records a single-use sign-in link and its email's outbox row in one batch; returns the row's id
 * for the caller to hand to the delivery queue (the link itself is signed when the email is
 * rendered), or none when the address's daily ceiling is reached. Never tells whether the address
 * has an account: the limits apply to the address and the IP alike, whatever exists.
 *
 * SPEC §18, no lockout by strangers: the strict budget (429) counts per (address, requester
 * network), so requests from elsewhere never use up the owner's; the inbox is protected by a daily
 * ceiling per address instead, over which nothing is sent and the answer is still 202 (§4). A
 * request from a network the account signed in from before (`sign_in_networks`) is not held back by
 * that ceiling, only by its own network's budget: strangers who use up the day from elsewhere
 * cannot keep the owner from a link at home or at work.
 */
export async function sendSignInLink(
  env: Env,
  db: Db,
  email: string,
  now: number,
  ip: string | null,
): Promise<{ outboxIds: string[] }> {
  await enforceAtEdge(env, 'signInPerIp', ip);
  await enforce(db, `sign-in:email:${email}:net:${ipBucket(ip)}`, limitFor(env, 'signInPerEmail'), now);
  // Counted only once the network's own budget allowed the request, in the batch that writes the
  // link: a request refused above costs the owner nothing of the day's ceiling.
  const day = hitSql(`sign-in:email-day:${email}`, limitFor(env, 'signInEmailsPerDay'), now);
  const link = signInLinkStatements(email, now, sql`(${day.within}) OR ${knownNetworkSql(email, ip, now)}`);
  const [, written] = await runBatch(db, [day.statement, ...link.statements]);
  return { outboxIds: written.meta.changes === 1 ? [link.outboxId] : [] };
}

/**
 * A single-use sign-in link for `email` and its email's outbox row, as statements for the caller's
 * batch (written only if `onlyIf` holds). The link itself is signed when the email is rendered.
 */
export function signInLinkStatements(email: string, now: number, onlyIf: SQL = sql`1`) {
  const jti = newId('jti');
  const outboxId = newOutboxId();
  return {
    outboxId,
    statements: [
      sql`INSERT INTO sign_in_links (jti, email, expires_at, created_at) SELECT ${jti}, ${email}, ${now + SIGN_IN_LINK_TTL_MS}, ${now} WHERE ${onlyIf}`,
      outboxInsert(
        { id: outboxId, kind: 'sign_in_email', organizationId: null, subjectId: jti, tokenId: jti },
        now,
        onlyIf,
      ),
    ] as [SQL, SQL],
  };
}

/** Checks a sign-in link without using it: the email it signs in, and whether that account exists. */
export async function inspectSignInLink(env: Env, db: Db, token: string, now: number) {
  const claims = await verifyToken(env, AUDIENCE.signIn, token, now);
  const link = claims
    ? (
        await db
          .select()
          .from(signInLinks)
          .where(and(eq(signInLinks.jti, claims.jti), isNull(signInLinks.usedAt), gt(signInLinks.expiresAt, now)))
          .limit(1)
      )[0]
    : undefined;
  if (!claims || !link || link.email !== claims.sub) {
    throw new ApiError('link_invalid', 'This sign-in link is invalid, expired or already used. Ask for a new one.');
  }
  return { link, account: await findUserByEmail(db, link.email) };
}

/** Uses a sign-in link once: creates the account if needed (name required), returns a new session. */
export async function redeemSignInLink(
  env: Env,
  db: Db,
  token: string,
  name: string | undefined,
  now: number,
  client?: ClientInfo,
) {
  const { link, account } = await inspectSignInLink(env, db, token, now);
  const trimmed = name?.trim();
  if (!account && !trimmed)
    throw new ApiError('name_required', 'No account exists for this email yet: give a name to create it.');
  const user = account ?? { id: newId('usr'), email: link.email, name: trimmed! };
  const session = await newSession(user.id, now, client);
  const network = rememberNetworkSql(session.row);
  const used = sql`EXISTS (SELECT 1 FROM sign_in_links WHERE jti = ${link.jti} AND used_at = ${now})`;
  const [consumed] = await runBatch(db, [
    sql`UPDATE sign_in_links SET used_at = ${now} WHERE jti = ${link.jti} AND used_at IS NULL`,
    account
      ? sql`UPDATE users SET email_verified_at = coalesce(email_verified_at, ${now}) WHERE id = ${user.id} AND ${used}`
      : sql`INSERT OR IGNORE INTO users (id, email, name, email_verified_at, created_at)
          SELECT ${user.id}, ${user.email}, ${user.name}, ${now}, ${now} WHERE ${used}`,
    // By email, not id: a concurrent sign-up of the same address may have won the INSERT OR IGNORE.
    insertSessionSql(session.row, sql`(SELECT id FROM users WHERE email = ${user.email})`, used),
    // The network this sign-in came from is the account's from now on (SPEC §18).
    ...(network ? [network] : []),
  ]);
  if (consumed.meta.changes !== 1) throw new ApiError('link_invalid', 'This sign-in link was already used.');
  const signedIn = (await findUserByEmail(db, user.email))!;
  return { user: { id: signedIn.id, email: signedIn.email, name: signedIn.name }, sessionToken: session.token };
}
