import { runBatch } from '../db/batch';
import { and, eq, sql } from 'drizzle-orm';
import { invitations, organizations, users, type Role } from '../db/schema';
import { fail, type Outcome } from '../errors';
import { auditStatement } from '../audit/audit.store';
import { insertSessionSql, newSession, rememberNetworkSql } from '../auth/auth.store';
import { SIGN_IN_LINK_TTL_MS, signInLinkStatements } from '../auth/auth.service';
import { OWNED_ORGANIZATIONS_LIMIT } from '../lib/limits';
import { newId } from '../lib/ids';
import { effectiveStatus, type InvitationRow } from './invitations.store';
import { closePendingRequestStatements } from './invitation-sql';
import { asLocale } from '../lib/roles';
import type { Locale } from '../db/schema';
import type { WriteContext } from '../lib/write-context';

export interface AcceptInput {
  invitationId: string;
  jti: string;
  /** The signed-in visitor, if any. */
  sessionUser?: { id: string; email: string };
  /** Required to create an account when none exists for the invited email. */
  name?: string;
}

export interface AcceptResult {
  organization: { id: string; name: string; slug: string };
  role: Role;
  user: { id: string; email: string; name: string };
  /**
   * Only when the visitor was not signed in, and either created the account or used a link sent
   * less than 15 minutes ago: they are signed in as the invited account.
   */
  session_token?: string;
  /** An existing account through an older link: joined, and a sign-in link was emailed instead (SPEC §14). */
  sign_in_link_sent?: true;
}

/** What the coordinator answers: the API's result, and the invitation's language for the page. */
export type Accepted = AcceptResult & { locale: Locale };

/**
 * SPEC §14: an invitation link signs an existing account in only while it is fresh, with the same
 * lifetime as a sign-in link; an older link still joins, and emails a sign-in link instead.
 */
export const FRESH_LINK_MS = SIGN_IN_LINK_TTL_MS;

/** What accepting reads, in one query: the invitation, its organization, the invited account, owned elsewhere. */
async function readForAccept(ctx: WriteContext, invitationId: string) {
  const { db, organizationId: org } = ctx;
  const [row] = await db
    .select({
      inv: invitations,
      organization: { name: organizations.name, slug: organizations.slug },
      account: { id: users.id, name: users.name, signedOutEverywhereAt: users.signedOutEverywhereAt },
      owned: sql<number>`CASE WHEN ${invitations.role} = 'owner' THEN (SELECT count(*) FROM memberships
        WHERE user_id = ${users.id} AND role = 'owner' AND organization_id != ${org}) ELSE 0 END`,
    })
    .from(invitations)
    .leftJoin(organizations, eq(organizations.id, invitations.organizationId))
    .leftJoin(users, eq(users.email, invitations.email))
    .where(and(eq(invitations.organizationId, org), eq(invitations.id, invitationId)))
    .limit(1);
  return row;
}
type AcceptRead = NonNullable<Awaited<ReturnType<typeof readForAccept>>>;

/** The 410 of an invitation that is not live (or not this link's), the expiry named. */
const gone = (inv: Pick<InvitationRow, 'status' | 'expiresAt'> | undefined, now: number) =>
  inv && effectiveStatus(inv, now) === 'expired'
    ? fail('invitation_invalid', 'This invitation has expired. Ask the sender to resend it.')
    : fail(
        'invitation_invalid',
        'This invitation link is no longer valid. If it expired, ask the sender to resend it.',
      );

/**
 * Rule 11 and SPEC §5: single-use, race-free. The guarded update on (status, token_id, expires_at)
 * decides the winner; the membership, new account and session are written in the same batch and
 * only if that update won.
 */
export async function acceptInvitation(ctx: WriteContext, input: AcceptInput): Promise<Outcome<Accepted>> {
  const row = await readForAccept(ctx, input.invitationId);
  const inv = row?.inv;
  if (!inv || effectiveStatus(inv, ctx.now) !== 'pending' || inv.tokenId !== input.jti) return gone(inv, ctx.now);
  if (input.sessionUser && input.sessionUser.email !== inv.email) {
    return fail(
      'email_mismatch',
      'This invitation was sent to a different email address. Sign out and open the link again.',
    );
  }
  return join(ctx, row, input);
}

/**
 * SPEC §17: accepting from the inbox. The session proves the email (§5's first case), so no link
 * is needed: the guard is the invitation's current jti, as read, in the same batch as a link's. An
 * invitation to another email is 404, as an unknown one; one addressed to the caller but no longer
 * live is 410.
 */
export async function acceptAsInvitee(
  ctx: WriteContext,
  caller: { id: string; email: string },
  invitationId: string,
): Promise<Outcome<Accepted>> {
  const row = await readForAccept(ctx, invitationId);
  const inv = row?.inv;
  if (!inv || inv.email !== caller.email) return fail('not_found', 'No such invitation for you.');
  if (effectiveStatus(inv, ctx.now) !== 'pending' || !inv.tokenId) return gone(inv, ctx.now);
  return join(ctx, row, { invitationId, jti: inv.tokenId, sessionUser: caller });
}

/** The one accepting batch, for a live invitation `row` and the proof that may accept it. */
async function join(ctx: WriteContext, row: AcceptRead, input: AcceptInput): Promise<Outcome<Accepted>> {
  const { db, organizationId: org, now } = ctx;
  const ownerCap = OWNED_ORGANIZATIONS_LIMIT;
  const inv = row.inv;
  // A signed-in visitor has the invited email, so the account read by email is theirs.
  let user: { id: string; name: string } | undefined = row.account ?? undefined;
  const creating = !user;
  if (!user) {
    const name = input.name?.trim();
    if (!name) return fail('name_required', 'No account exists for this email yet: give a name to create it.');
    user = { id: newId('usr'), name };
  }
  if (inv.role === 'owner' && !creating && row.owned >= ownerCap) {
    return fail(
      'organization_limit',
      `This account already owns ${ownerCap} organizations, the most an account can own.`,
    );
  }
  // Anonymous: a new account signs in (it exists only through this link); an existing one only
  // through a fresh link, otherwise it gets a sign-in link by email, in this same batch. A link
  // emailed before its account signed out everywhere is not fresh, however recent (SPEC §18: what
  // ends a compromise ends every way back in; the link still joins).
  const anonymous = !input.sessionUser;
  const signedOutAt = row.account?.signedOutEverywhereAt ?? null;
  const fresh = now - inv.lastSentAt < FRESH_LINK_MS && (signedOutAt === null || signedOutAt < inv.lastSentAt);
  // The account is looked up by email inside the batch: another organization's coordinator (or a
  // sign-in) may create the same account concurrently, and then INSERT OR IGNORE keeps theirs.
  const accountId = sql`(SELECT id FROM users WHERE email = ${inv.email})`;
  // Signs in: a fresh link (judged again inside the batch, against a sign-out everywhere that lands
  // after the read above), or the account this batch itself created. An account that appeared
  // concurrently is an existing account, so an old link gets the emailed sign-in link instead.
  const signsIn = fresh
    ? sql`NOT EXISTS (SELECT 1 FROM users WHERE email = ${inv.email} AND signed_out_everywhere_at >= ${inv.lastSentAt})`
    : creating
      ? sql`${accountId} = ${user.id}`
      : sql`0`;
  const session = anonymous && (fresh || creating) ? await newSession(user.id, now, ctx.actor) : undefined;
  const network = session ? rememberNetworkSql(session.row) : null;
  const stillValid = sql`EXISTS (SELECT 1 FROM invitations WHERE id = ${inv.id} AND status = 'pending'
    AND token_id = ${input.jti} AND expires_at > ${now})`;
  const won = sql`EXISTS (SELECT 1 FROM invitations WHERE id = ${inv.id} AND status = 'accepted'
    AND accepted_at = ${now} AND accepted_by = ${accountId})`;
  // Whenever an anonymous accept may end without a session (also a fresh link whose account signed
  // out everywhere concurrently): written only if it did.
  const signInLink = anonymous ? signInLinkStatements(inv.email, now, sql`${won} AND NOT (${signsIn})`) : undefined;
  const sessionWritten = session ? sql`EXISTS (SELECT 1 FROM sessions WHERE id = ${session.row.id})` : sql`0`;
  // An owner invitation cannot take an account past the owned-organization cap (SPEC §14), checked
  // again inside the batch.
  const ownedSql = sql`(SELECT count(*) FROM memberships WHERE user_id = ${accountId} AND role = 'owner' AND organization_id != ${org})`;

  const results = await runBatch(db, [
    creating
      ? sql`INSERT OR IGNORE INTO users (id, email, name, email_verified_at, created_at)
          SELECT ${user.id}, ${inv.email}, ${user.name}, ${now}, ${now} WHERE ${stillValid}`
      : // Accepting a link proves the address.
        sql`UPDATE users SET email_verified_at = coalesce(email_verified_at, ${now}) WHERE email = ${inv.email} AND ${stillValid}`,
    sql`UPDATE invitations SET status = 'accepted', accepted_at = ${now}, accepted_by = ${accountId},
        token_id = NULL, updated_at = ${now}
      WHERE id = ${inv.id} AND organization_id = ${org} AND status = 'pending' AND token_id = ${input.jti} AND expires_at > ${now}
        AND (role != 'owner' OR ${ownedSql} < ${ownerCap})`,
    // Already a member: the invitation is consumed and the existing role is kept.
    sql`INSERT OR IGNORE INTO memberships (organization_id, user_id, role, created_at, updated_at)
      SELECT ${org}, ${accountId}, ${inv.role}, ${now}, ${now} WHERE ${won}`,
    ...(session ? [insertSessionSql(session.row, accountId, sql`${won} AND (${signsIn})`)] : []),
    // The network of a sign-in through this link is the account's from now on (SPEC §18).
    ...(network ? [network] : []),
    ...(signInLink?.statements ?? []),
    // A join request of theirs still waiting is moot now (SPEC §16): closed in this batch, as every
    // other way in closes it (joinStatements).
    ...closePendingRequestStatements(org, accountId, 'invitation', won, now),
    auditStatement(
      ctx.actor,
      {
        organizationId: org,
        action: 'invitation.accepted',
        targetType: 'invitation',
        targetId: inv.id,
        data: sql`json_object('email', ${inv.email}, 'role', ${inv.role}, 'account_created', json(${creating ? 'true' : 'false'}),
          'signed_in', json(CASE WHEN ${sessionWritten} THEN 'true' ELSE 'false' END),
          'sign_in_link_sent', json(CASE WHEN ${anonymous ? sql`NOT ${sessionWritten}` : sql`0`} THEN 'true' ELSE 'false' END))`,
      },
      now,
      won,
      accountId,
    ),
    // The account and its role in the organization after the batch (an existing member keeps theirs).
    sql`SELECT u.id, u.email, u.name, m.role FROM users u
      LEFT JOIN memberships m ON m.organization_id = ${org} AND m.user_id = u.id WHERE u.email = ${inv.email}`,
  ]);
  if (results[1].meta.changes !== 1) {
    return fail('invitation_invalid', 'This invitation link is no longer valid.');
  }
  const signedIn = session !== undefined && results[3].meta.changes === 1;
  const account = results[results.length - 1].results[0] as {
    id: string;
    email: string;
    name: string;
    role: Role | null;
  };
  return {
    ok: true,
    value: {
      organization: { id: org, name: row.organization?.name ?? '', slug: row.organization?.slug ?? '' },
      role: account.role ?? inv.role,
      user: { id: account.id, email: account.email, name: account.name },
      ...(signedIn ? { session_token: session.token } : {}),
      ...(signInLink && !signedIn ? { sign_in_link_sent: true as const } : {}),
      locale: asLocale(inv.locale),
    },
    ...(signInLink && !signedIn ? { queued: [signInLink.outboxId] } : {}),
  };
}
