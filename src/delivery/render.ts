import { sql } from 'drizzle-orm';
import type { OutboxKind, Role } from '../db/schema';
import { AUDIENCE, signToken } from '../auth/tokens';
import { apiTokenMail, invitationMail, joinDecisionMail, joinRequestMail, signInMail } from '../email/templates';
import { declinedMail, reinviteRequestMail, reminderMail } from '../email/invitee-templates';
import { asLocale, isManager } from '../lib/roles';
import type { OutgoingMail } from '../email/mime';

export interface OutboxRow {
  id: string;
  kind: OutboxKind;
  organization_id: string | null;
  subject_id: string;
  token_id: string | null;
  attempts: number;
}

const base = (appUrl: string) => appUrl.replace(/\/$/, '');

/** The emailed invitation link. The token exists only here and in the email. */
export const invitationLink = (appUrl: string, token: string) =>
  `${base(appUrl)}/invitations/accept?token=${encodeURIComponent(token)}`;
/**
 * The same link's decline page (SPEC §17): it shows the offer with Decline and never accepts, not
 * even for the invitee signed in (whom the link itself would join at once).
 */
export const declineLink = (appUrl: string, token: string) =>
  `${base(appUrl)}/invitations/decline?token=${encodeURIComponent(token)}`;
export const signInLink = (appUrl: string, token: string) =>
  `${base(appUrl)}/auth/verify?token=${encodeURIComponent(token)}`;

export type Rendered = { ok: true; mail: OutgoingMail } | { ok: false; stale: string };

/**
 * What rendering reads, in the claim's own batch (after the claim): the invitation (for its email
 * or its reminder), the sign-in link, the API token, the join request (with its organization, and
 * the recipient: the outbox row's `token_id` is their user id), or the invitation an inviter hears
 * about (declined, or asked for again; `token_id` is the inviter's user id).
 */
export const renderReads = (outboxId: string) => [
  sql`SELECT i.id, i.organization_id, i.email, i.role, i.status, i.message, i.expires_at, i.token_id, i.locale,
      o.name AS org_name, u.name AS inviter_name
    FROM invitations i LEFT JOIN organizations o ON o.id = i.organization_id LEFT JOIN users u ON u.id = i.invited_by
    WHERE i.id = (SELECT subject_id FROM outbox WHERE id = ${outboxId} AND kind IN ('invitation_email', 'invitation_reminder_email'))`,
  sql`SELECT email, jti, expires_at, used_at FROM sign_in_links
    WHERE jti = (SELECT subject_id FROM outbox WHERE id = ${outboxId} AND kind = 'sign_in_email')`,
  sql`SELECT u.email, t.name, t.created_at, t.expires_at, t.revoked_at, t.locale FROM api_tokens t JOIN users u ON u.id = t.user_id
    WHERE t.id = (SELECT subject_id FROM outbox WHERE id = ${outboxId} AND kind = 'api_token_email')`,
  sql`SELECT r.status, r.role, r.reason, u.name AS requester_name, u.email AS requester_email,
      o.name AS org_name, o.slug AS org_slug, o.default_locale, rc.email AS recipient_email,
      (SELECT m.role FROM memberships m WHERE m.organization_id = r.organization_id AND m.user_id = x.token_id) AS recipient_role
    FROM outbox x JOIN join_requests r ON r.id = x.subject_id JOIN users u ON u.id = r.user_id
      JOIN organizations o ON o.id = r.organization_id LEFT JOIN users rc ON rc.id = x.token_id
    WHERE x.id = ${outboxId} AND x.kind IN ('join_request_email', 'join_decision_email')`,
  sql`SELECT i.email, i.role, i.status, i.expires_at, i.reinvite_requested_at,
      o.name AS org_name, o.slug AS org_slug, o.default_locale, rc.email AS recipient_email,
      (SELECT m.role FROM memberships m WHERE m.organization_id = i.organization_id AND m.user_id = x.token_id) AS recipient_role
    FROM outbox x JOIN invitations i ON i.id = x.subject_id JOIN organizations o ON o.id = i.organization_id
      LEFT JOIN users rc ON rc.id = x.token_id
    WHERE x.id = ${outboxId} AND x.kind IN ('invitation_declined_email', 'reinvite_request_email')`,
];

interface InvitationRead {
  id: string;
  organization_id: string;
  email: string;
  role: Role;
  status: string;
  message: string | null;
  expires_at: number;
  token_id: string | null;
  locale: string | null;
  org_name: string | null;
  inviter_name: string | null;
}
interface JoinRequestRead {
  status: string;
  role: Role;
  reason: string | null;
  requester_name: string;
  requester_email: string;
  org_name: string;
  org_slug: string;
  default_locale: string | null;
  recipient_email: string | null;
  recipient_role: Role | null;
}
interface InviterNewsRead {
  email: string;
  role: Role;
  status: string;
  expires_at: number;
  reinvite_requested_at: number | null;
  org_name: string;
  org_slug: string;
  default_locale: string | null;
  recipient_email: string | null;
  recipient_role: Role | null;
}
interface SignInRead {
  email: string;
  jti: string;
  expires_at: number;
  used_at: number | null;
}
interface ApiTokenRead {
  email: string;
  name: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  locale: string | null;
}

/**
 * The email an outbox row stands for, rendered from the current state (`reads`: the results of
 * `renderReads`). The token is re-derived from the row it belongs to (id, current jti, expiry), so a
 * retry sends the same link, and a row whose link is no longer the current one (resent, revoked,
 * accepted, expired, used) is stale.
 */
export async function renderOutboxRow(env: Env, row: OutboxRow, reads: D1Result[], now: number): Promise<Rendered> {
  if (row.kind === 'join_request_email' || row.kind === 'join_decision_email') {
    return renderJoinRequestMail(env, row.kind, reads[3].results[0] as JoinRequestRead | undefined);
  }
  if (row.kind === 'invitation_declined_email' || row.kind === 'reinvite_request_email') {
    return renderInviterNews(env, row.kind, reads[4].results[0] as InviterNewsRead | undefined, now);
  }
  if (row.kind === 'api_token_email') {
    // Never stale: the account hears of every token created, even one revoked since (SPEC §18).
    const tok = reads[2].results[0] as ApiTokenRead | undefined;
    if (!tok) return { ok: false, stale: 'the API token no longer exists' };
    return {
      ok: true,
      mail: apiTokenMail({
        to: tok.email,
        tokenName: tok.name,
        createdAt: tok.created_at,
        expiresAt: tok.expires_at,
        revoked: tok.revoked_at !== null,
        accountLink: `${base(env.APP_URL)}/account`,
        locale: asLocale(tok.locale),
      }),
    };
  }
  if (row.kind === 'sign_in_email') {
    const link = reads[1].results[0] as SignInRead | undefined;
    if (!link || link.used_at !== null || link.expires_at <= now)
      return { ok: false, stale: 'the sign-in link was used or expired' };
    const token = await signToken(
      env,
      AUDIENCE.signIn,
      { sub: link.email, jti: link.jti, expiresAt: link.expires_at },
      now,
    );
    return { ok: true, mail: signInMail(link.email, signInLink(env.APP_URL, token)) };
  }
  const inv = reads[0].results[0] as InvitationRead | undefined;
  if (inv?.status !== 'pending' || inv.expires_at <= now || !inv.token_id || inv.token_id !== row.token_id) {
    return { ok: false, stale: 'the link is no longer the current one' };
  }
  const token = await signToken(
    env,
    AUDIENCE.invitation,
    { sub: inv.id, jti: inv.token_id, org: inv.organization_id, expiresAt: inv.expires_at },
    now,
  );
  const offer = {
    to: inv.email,
    inviterName: inv.inviter_name ?? 'A teammate',
    organizationName: inv.org_name ?? 'an organization',
    role: inv.role,
    link: invitationLink(env.APP_URL, token),
    expiresAt: inv.expires_at,
    locale: asLocale(inv.locale),
  };
  if (row.kind === 'invitation_reminder_email') {
    // The same link as the invitation's last email (same jti, same expiry): no new link, no new expiry.
    return { ok: true, mail: reminderMail({ ...offer, declineLink: declineLink(env.APP_URL, token) }) };
  }
  return { ok: true, mail: invitationMail({ ...offer, message: inv.message }) };
}

/**
 * A join request email (SPEC §16), in the organization's default language, from the request as it
 * is now. To an owner or admin: only while the request is pending and they still manage the
 * organization. To the requester: the decision, approved or rejected. Neither carries a token.
 */
function renderJoinRequestMail(
  env: Env,
  kind: 'join_request_email' | 'join_decision_email',
  req: JoinRequestRead | undefined,
): Rendered {
  if (!req?.recipient_email) return { ok: false, stale: 'the join request or its recipient no longer exists' };
  const locale = asLocale(req.default_locale);
  const orgUrl = `${base(env.APP_URL)}/orgs/${encodeURIComponent(req.org_slug)}`;
  if (kind === 'join_request_email') {
    if (req.status !== 'pending') return { ok: false, stale: `the join request was ${req.status}` };
    if (req.recipient_role !== 'owner' && req.recipient_role !== 'admin')
      return { ok: false, stale: 'the recipient no longer manages the organization' };
    return {
      ok: true,
      mail: joinRequestMail({
        to: req.recipient_email,
        requesterName: req.requester_name,
        requesterEmail: req.requester_email,
        organizationName: req.org_name,
        role: req.role,
        link: `${orgUrl}/settings/team#join-requests`,
        locale,
      }),
    };
  }
  if (req.status !== 'approved' && req.status !== 'rejected')
    return { ok: false, stale: `the join request is ${req.status}` };
  return {
    ok: true,
    mail: joinDecisionMail({
      to: req.recipient_email,
      organizationName: req.org_name,
      approved: req.status === 'approved',
      role: req.role,
      reason: req.reason,
      link: orgUrl,
      locale,
    }),
  };
}

/**
 * What an inviter hears about their invitation (SPEC §17), in the organization's default language,
 * from the invitation as it is now. Declined: while it is declined and the inviter is still a member.
 * Asked for again: while it is still expired and asked about (a resend since answers it) and the
 * inviter still holds the authority to resend it (owner or admin).
 */
function renderInviterNews(
  env: Env,
  kind: 'invitation_declined_email' | 'reinvite_request_email',
  inv: InviterNewsRead | undefined,
  now: number,
): Rendered {
  if (!inv?.recipient_email) return { ok: false, stale: 'the invitation or its inviter no longer exists' };
  const mail = {
    to: inv.recipient_email,
    inviteeEmail: inv.email,
    organizationName: inv.org_name,
    role: inv.role,
    link: `${base(env.APP_URL)}/orgs/${encodeURIComponent(inv.org_slug)}/settings/team#invitations`,
    locale: asLocale(inv.default_locale),
  };
  if (kind === 'invitation_declined_email') {
    if (inv.status !== 'declined') return { ok: false, stale: `the invitation is ${inv.status}` };
    if (!inv.recipient_role) return { ok: false, stale: 'the inviter is no longer a member' };
    return { ok: true, mail: declinedMail(mail) };
  }
  const expired = inv.status === 'expired' || (inv.status === 'pending' && inv.expires_at <= now);
  if (!expired || inv.reinvite_requested_at === null)
    return { ok: false, stale: 'the invitation is no longer expired and asked about' };
  if (!isManager(inv.recipient_role)) return { ok: false, stale: 'the inviter can no longer resend it' };
  return { ok: true, mail: reinviteRequestMail({ ...mail, expiredAt: inv.expires_at }) };
}
