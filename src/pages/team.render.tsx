import type { Context } from 'hono';
import type { AppEnv, AuthUser } from '../env';
import { ApiError, ERROR_CODES, type ErrorCode } from '../errors';
import { countPending, listInvitations } from '../invitations/invitations.store';
import { PENDING_LIMIT } from '../lib/limits';
import { parseDomains } from '../organizations/domains';
import { asLocale } from '../lib/roles';
import {
  listMembers,
  organizationResource,
  organizationsOf,
  requireMembership,
} from '../organizations/organizations.store';
import { listJoinRequests } from '../joins/requests.store';
import { listMyInvitations } from '../invitations/inbox.store';
import { PENDING_REQUESTS_LIMIT } from '../joins/join-sql';
import { MessagePage } from './layout';
import { TeamView, type InviteFormState, type TeamViewProps } from './team.view';

const NOTICES: Record<string, string> = {
  invited: 'Invitation sent.',
  resent: 'Invitation resent with a new link. Earlier links no longer work.',
  revoked: 'Invitation revoked. Its link no longer works.',
  role_changed: 'Role updated.',
  removed: 'Member removed.',
  settings_saved: 'Organization settings saved.',
  request_approved: 'Join request approved: they are now a member.',
  request_rejected: 'Join request rejected. They were emailed the decision.',
};

/** Plain words for the errors a Team page action can meet. */
const PLAIN: Partial<Record<ErrorCode, string>> = {
  pending_invitation_limit: `This organization already has ${PENDING_LIMIT} pending invitations. Revoke one, or wait for one to be accepted or to expire, before inviting more.`,
  invitation_already_pending: 'This email already has a pending invitation. Use Resend in the table instead.',
  already_member: 'This person is already a member of the organization.',
  resend_cooldown: 'This invitation was sent less than a minute ago. Try again in a minute.',
  invalid_state:
    'That can no longer be changed: it was decided, withdrawn or changed meanwhile. The page now shows it as it is.',
  seat_limit:
    'Every seat is taken (members and pending invitations count). An owner can raise the seat limit in the organization settings below.',
  email_domain_not_allowed: 'This address is not at one of the organization’s allowed email domains.',
  last_owner: 'The last owner cannot leave, be removed or be demoted. Make someone else an owner first.',
  forbidden: 'Your role does not allow that.',
  not_found: 'That no longer exists.',
  organization_limit: 'This member already owns as many organizations as an account can (25).',
  rate_limited:
    'Too many invitation emails (by this organization, your account or your network) or role changes (in this organization) in the last hour. Try again later.',
};
/** A lookup keyed by a query string: own keys only, so `__proto__` or `constructor` find nothing. */
const lookup = <T,>(map: Partial<Record<string, T>>, key: string | undefined): T | undefined =>
  key !== undefined && Object.hasOwn(map, key) ? map[key] : undefined;
export const plain = (code: ErrorCode) =>
  lookup(PLAIN, code) ?? (Object.hasOwn(ERROR_CODES, code) ? ERROR_CODES[code].title : 'Something went wrong.');

export const NotFound = (p: { user: AuthUser | null; csrf?: string }) => (
  <MessagePage title="Not found" heading="Page not found" user={p.user} csrf={p.csrf}>
    <p>This organization does not exist, or you are not a member of it.</p>
    <p>
      <a class="btn" href="/">
        Go to your organizations
      </a>
    </p>
  </MessagePage>
);

type Ctx = Context<AppEnv>;

/** The signed-in user, read when a page needs rendering (never before a write: SPEC §19). */
export type SignedIn = () => Promise<AuthUser | null>;

/** The caller's membership of `slug`, or null (not a member, or no such organization): a 404. */
export async function membershipOf(c: Ctx, slug: string, userId: string) {
  try {
    return await requireMembership(c.var.db, slug, userId);
  } catch {
    return null;
  }
}

export async function renderTeam(
  c: Ctx,
  who: AuthUser | SignedIn,
  slug: string,
  extra: {
    invite?: InviteFormState;
    bulkResults?: TeamViewProps['bulkResults'];
    settings?: { error?: string; typedDomains?: string; typedSeatLimit?: string; typedReminderDays?: string };
    status?: 200 | 400 | 403 | 409 | 429;
  } = {},
) {
  const user = typeof who === 'function' ? await who() : who;
  if (!user) return c.redirect('/sign-in', 303);
  let membership: Awaited<ReturnType<typeof requireMembership>>;
  try {
    membership = await requireMembership(c.var.db, slug, user.id);
  } catch (err) {
    if (err instanceof ApiError) return c.html(<NotFound user={user} csrf={c.var.csrf} />, 404);
    throw err;
  }
  const { org, role } = membership;
  const now = Date.now();
  const manager = role === 'owner' || role === 'admin';
  const [members, orgs, inbox, invitations, pending, resource, requests] = await Promise.all([
    listMembers(c.var.db, org.id),
    organizationsOf(c.var.db, user.id),
    listMyInvitations(c.var.db, user.email, now),
    manager ? listInvitations(c.var.db, org.id, { limit: 50, now }) : Promise.resolve({ data: [] }),
    manager ? countPending(c.var.db, org.id, now) : Promise.resolve(0),
    organizationResource(c.var.db, org, role, now),
    // Every pending request fits on the page: there are at most PENDING_REQUESTS_LIMIT.
    manager
      ? listJoinRequests(c.var.db, org.id, { status: 'pending', limit: PENDING_REQUESTS_LIMIT })
      : Promise.resolve({ data: [] }),
  ]);
  const error = c.req.query('error') as ErrorCode | undefined;
  return c.html(
    <TeamView
      p={{
        user,
        orgs,
        invitationsForYou: inbox.length,
        role,
        csrf: c.var.csrf,
        members,
        pending,
        limit: PENDING_LIMIT,
        org: { id: org.id, name: org.name, slug: org.slug },
        invitations: invitations.data,
        seats: { used: resource.seats_used, limit: resource.seat_limit },
        joinRequests: requests.data,
        notice: lookup(NOTICES, c.req.query('notice')),
        error: error && Object.hasOwn(ERROR_CODES, error) ? plain(error) : undefined,
        invite: extra.invite,
        bulkResults: extra.bulkResults,
        settings: {
          domains: parseDomains(org.allowedEmailDomains),
          defaultLocale: asLocale(org.defaultLocale),
          seatLimit: org.seatLimit,
          domainJoin: org.domainJoin,
          domainJoinRole: org.domainJoinRole,
          reminderDays: org.reminderDaysBeforeExpiry,
          ...extra.settings,
        },
      }}
    />,
    extra.status ?? 200,
  );
}
