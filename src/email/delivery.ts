import { eq, sql } from 'drizzle-orm';
import { invitations, organizations, users } from '../db/schema';
import type { Db } from '../env';
import { AUDIENCE, signToken } from '../auth/tokens';
import { sendMail } from './mailer';
import { invitationMail } from './templates';

/** The emailed link. The token exists only here and in the email. */
export function invitationLink(appUrl: string, token: string) {
  return `${appUrl.replace(/\/$/, '')}/invitations/accept?token=${encodeURIComponent(token)}`;
}

/**
 * Sends the invitation email for the invitation's current link, and records the outcome in
 * `email_delivery`. The token is re-derived from the row (id, current jti, expiry), so a retry
 * sends the same link and a resend (new jti) makes every earlier link invalid.
 */
export async function deliverInvitation(
  env: Env,
  db: Db,
  invitationId: string,
  now: number,
  opts: { tokenId?: string; finalAttempt: boolean },
): Promise<{ outcome: 'sent' | 'failed' | 'skipped'; tokenId?: string }> {
  // One read: the invitation with its organization's and inviter's names.
  const [row] = await db
    .select({ inv: invitations, orgName: organizations.name, inviterName: users.name })
    .from(invitations)
    .leftJoin(organizations, eq(organizations.id, invitations.organizationId))
    .leftJoin(users, eq(users.id, invitations.invitedBy))
    .where(eq(invitations.id, invitationId))
    .limit(1);
  const inv = row?.inv;
  // Nothing to send for a link that is no longer the current one (resent, revoked, accepted, expired).
  if (!inv || inv.status !== 'pending' || !inv.tokenId || inv.expiresAt <= now) return { outcome: 'skipped' };
  if (opts.tokenId && opts.tokenId !== inv.tokenId) return { outcome: 'skipped' };
  const token = await signToken(
    env,
    AUDIENCE.invitation,
    { sub: inv.id, jti: inv.tokenId, org: inv.organizationId, expiresAt: inv.expiresAt },
    now,
  );
  const mail = invitationMail({
    to: inv.email,
    inviterName: row.inviterName ?? 'A teammate',
    organizationName: row.orgName ?? 'an organization',
    role: inv.role,
    message: inv.message,
    link: invitationLink(env.APP_URL, token),
    expiresAt: inv.expiresAt,
  });
  let outcome: 'sent' | 'failed';
  try {
    await sendMail(env, mail);
    outcome = 'sent';
  } catch (err) {
    console.error(JSON.stringify({ event: 'email_send_failed', invitation_id: inv.id, final: opts.finalAttempt, error: String(err).replace(/eyJ[\w.-]+/g, '[token]') }));
    outcome = 'failed';
  }
  // `queued` while a retry is scheduled. Only the link we sent is recorded: a concurrent resend
  // owns the row after it.
  const state = outcome === 'sent' ? 'sent' : opts.finalAttempt ? 'failed' : 'queued';
  await db.run(sql`UPDATE invitations SET email_delivery = ${state}, delivery_attempts = delivery_attempts + 1
    WHERE id = ${inv.id} AND token_id = ${inv.tokenId}`);
  return { outcome, tokenId: inv.tokenId };
}
