import { runBatch } from '../db/batch';
import { and, eq, sql } from 'drizzle-orm';
import { invitations, memberships, organizations, users, type Role } from '../db/schema';
import { fail, type Outcome } from '../errors';
import { auditStatement } from '../audit/audit.store';
import { findUserByEmail, insertSessionSql, newSession } from '../auth/auth.store';
import { SIGN_IN_LINK_TTL_MS, signInLinkStatements } from '../auth/auth.service';
import { OWNED_ORGANIZATIONS_LIMIT } from '../organizations/organizations.store';
import { newId } from '../lib/ids';
import { effectiveStatus } from './invitations.store';
import type { ServiceContext } from './invitations.service';

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

/**
 * SPEC §14: an invitation link signs an existing account in only while it is fresh, with the same
 * lifetime as a sign-in link; an older link still joins, and emails a sign-in link instead.
 */
export const FRESH_LINK_MS = SIGN_IN_LINK_TTL_MS;

/**
 * Rule 11 and SPEC §5: single-use, race-free. The guarded update on (status, token_id, expires_at)
 * decides the winner; the membership, new account and session are written in the same batch and
 * only if that update won.
 */
export async function acceptInvitation(ctx: ServiceContext, input: AcceptInput): Promise<Outcome<AcceptResult & { outboxId?: string }>> {
  const { db, organizationId: org, now } = ctx;
  const inv = await db.query.invitations.findFirst({
    where: and(eq(invitations.organizationId, org), eq(invitations.id, input.invitationId)),
  });
  if (!inv || effectiveStatus(inv, now) !== 'pending' || inv.tokenId !== input.jti) {
    return fail('invitation_invalid', 'This invitation link is no longer valid. Ask the sender to resend it.');
  }
  if (input.sessionUser && input.sessionUser.email !== inv.email) {
    return fail('email_mismatch', 'This invitation was sent to a different email address. Sign out and open the link again.');
  }
  let user = input.sessionUser ? await db.query.users.findFirst({ where: eq(users.id, input.sessionUser.id) }) : await findUserByEmail(db, inv.email);
  const creating = !user;
  if (!user) {
    const name = input.name?.trim();
    if (!name) return fail('name_required', 'No account exists for this email yet: give a name to create it.');
    user = { id: newId('usr'), email: inv.email, name, emailVerifiedAt: now, createdAt: now };
  }
  // Anonymous: a new account signs in (it exists only through this link); an existing one only
  // through a fresh link, otherwise it gets a sign-in link by email, in this same batch.
  const anonymous = !input.sessionUser;
  const fresh = now - inv.lastSentAt < FRESH_LINK_MS;
  // The account is looked up by email inside the batch: another organization's coordinator (or a
  // sign-in) may create the same account concurrently, and then INSERT OR IGNORE keeps theirs.
  const accountId = sql`(SELECT id FROM users WHERE email = ${inv.email})`;
  // Signs in: a fresh link, or the account this batch itself created. An account that appeared
  // concurrently is an existing account, so an old link gets the emailed sign-in link instead.
  const signsIn = fresh ? sql`1` : creating ? sql`${accountId} = ${user.id}` : sql`0`;
  const session = anonymous && (fresh || creating) ? await newSession(user.id, now, ctx.actor) : undefined;
  const stillValid = sql`EXISTS (SELECT 1 FROM invitations WHERE id = ${inv.id} AND status = 'pending'
    AND token_id = ${input.jti} AND expires_at > ${now})`;
  const won = sql`EXISTS (SELECT 1 FROM invitations WHERE id = ${inv.id} AND status = 'accepted'
    AND accepted_at = ${now} AND accepted_by = ${accountId})`;
  const signInLink = anonymous && !fresh ? signInLinkStatements(inv.email, now, sql`${won} AND NOT (${signsIn})`) : undefined;
  const sessionWritten = session ? sql`EXISTS (SELECT 1 FROM sessions WHERE id = ${session.row.id})` : sql`0`;
  // An owner invitation cannot take an account past the owned-organization cap (SPEC §14).
  const ownerCap = ctx.ownedOrganizationsCap ?? OWNED_ORGANIZATIONS_LIMIT;
  const ownedSql = sql`(SELECT count(*) FROM memberships WHERE user_id = ${accountId} AND role = 'owner' AND organization_id != ${org})`;
  if (inv.role === 'owner' && !creating) {
    const [{ owned }] = await db.all<{ owned: number }>(sql`SELECT ${ownedSql} AS owned`);
    if (owned >= ownerCap) return fail('organization_limit', `This account already owns ${ownerCap} organizations, the most an account can own.`);
  }

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
    ...(signInLink?.statements ?? []),
    auditStatement(
      db,
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
  ]);
  if (results[1].meta.changes !== 1) {
    return fail('invitation_invalid', 'This invitation link is no longer valid.');
  }
  const signedIn = session !== undefined && results[3].meta.changes === 1;
  const account = (await findUserByEmail(db, inv.email))!;
  const [membership] = await db
    .select({ role: memberships.role })
    .from(memberships)
    .where(and(eq(memberships.organizationId, org), eq(memberships.userId, account.id)));
  const organization = await db.query.organizations.findFirst({ where: eq(organizations.id, org) });
  return {
    ok: true,
    value: {
      organization: { id: org, name: organization?.name ?? '', slug: organization?.slug ?? '' },
      role: membership?.role ?? inv.role,
      user: { id: account.id, email: account.email, name: account.name },
      ...(signedIn ? { session_token: session.token } : {}),
      ...(signInLink && !signedIn ? { sign_in_link_sent: true as const, outboxId: signInLink.outboxId } : {}),
    },
  };
}
