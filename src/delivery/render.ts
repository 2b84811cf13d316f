import { eq } from 'drizzle-orm';
import { invitations, organizations, signInLinks, users } from '../db/schema';
import type { Db } from '../env';
import { AUDIENCE, signToken } from '../auth/tokens';
import { invitationMail, signInMail } from '../email/templates';
import { asLocale } from '../invitations/invitations.store';
import type { OutgoingMail } from '../email/mime';

export interface OutboxRow {
  id: string;
  kind: 'invitation_email' | 'sign_in_email';
  organization_id: string | null;
  subject_id: string;
  token_id: string | null;
  attempts: number;
}

const base = (appUrl: string) => appUrl.replace(/\/$/, '');

/** The emailed invitation link. The token exists only here and in the email. */
export const invitationLink = (appUrl: string, token: string) => `${base(appUrl)}/invitations/accept?token=${encodeURIComponent(token)}`;
export const signInLink = (appUrl: string, token: string) => `${base(appUrl)}/auth/verify?token=${encodeURIComponent(token)}`;

export type Rendered = { ok: true; mail: OutgoingMail } | { ok: false; stale: string };

/**
 * The email an outbox row stands for, rendered from the current state. The token is re-derived
 * from the row it belongs to (id, current jti, expiry), so a retry sends the same link, and a row
 * whose link is no longer the current one (resent, revoked, accepted, expired, used) is stale.
 */
export async function renderOutboxRow(env: Env, db: Db, row: OutboxRow, now: number): Promise<Rendered> {
  if (row.kind === 'sign_in_email') {
    const link = await db.query.signInLinks.findFirst({ where: eq(signInLinks.jti, row.subject_id) });
    if (!link || link.usedAt !== null || link.expiresAt <= now) return { ok: false, stale: 'the sign-in link was used or expired' };
    const token = await signToken(env, AUDIENCE.signIn, { sub: link.email, jti: link.jti, expiresAt: link.expiresAt }, now);
    return { ok: true, mail: signInMail(link.email, signInLink(env.APP_URL, token)) };
  }
  const [found] = await db
    .select({ inv: invitations, orgName: organizations.name, inviterName: users.name })
    .from(invitations)
    .leftJoin(organizations, eq(organizations.id, invitations.organizationId))
    .leftJoin(users, eq(users.id, invitations.invitedBy))
    .where(eq(invitations.id, row.subject_id))
    .limit(1);
  const inv = found?.inv;
  if (!inv || inv.status !== 'pending' || inv.expiresAt <= now || !inv.tokenId || inv.tokenId !== row.token_id) {
    return { ok: false, stale: 'the link is no longer the current one' };
  }
  const token = await signToken(env, AUDIENCE.invitation, { sub: inv.id, jti: inv.tokenId, org: inv.organizationId, expiresAt: inv.expiresAt }, now);
  return {
    ok: true,
    mail: invitationMail({
      to: inv.email,
      inviterName: found.inviterName ?? 'A teammate',
      organizationName: found.orgName ?? 'an organization',
      role: inv.role,
      message: inv.message,
      link: invitationLink(env.APP_URL, token),
      expiresAt: inv.expiresAt,
      locale: asLocale(inv.locale),
    }),
  };
}
