import { Hono, type Context } from 'hono';
import { z } from 'zod';
import type { AppEnv, AuthUser } from '../env';
import { ApiError, ERROR_CODES, type ErrorCode, fail, type Outcome } from '../errors';
import { EmailSchema, LocaleSchema, RoleSchema } from '../lib/openapi';
import { coordinatorFor } from '../lib/coordinator';
import type { WriteRequest, Written } from '../org-coordinator';
import { orgIdOf, writeRequest, written } from '../writes';
import { countPending, listInvitations } from '../invitations/invitations.store';
import { PENDING_LIMIT } from '../lib/limits';
import { ExpiresInDays, MessageSchema } from '../invitations/invitations.schemas';
import { AllowedDomainsSchema, parseDomains } from '../organizations/domains';
import { asLocale } from '../lib/roles';
import {
  listMembers,
  organizationsOf,
  requireMembership,
  updateOrganizationSettings,
} from '../organizations/organizations.store';
import { refuseCsrf } from './auth.pages';
import { MessagePage } from './layout';
import { actorOf } from '../lib/request';
import { credentialOf, csrfValid, formFields, pageUser } from './pages.middleware';
import { TeamView, type InviteFormState, type TeamViewProps } from './team.view';
import { BULK_MAX_ROWS, refusal } from '../invitations/bulk.service';
import { normalizeEmail } from '../lib/crypto';

const NOTICES: Record<string, string> = {
  invited: 'Invitation sent.',
  resent: 'Invitation resent with a new link. Earlier links no longer work.',
  revoked: 'Invitation revoked. Its link no longer works.',
  role_changed: 'Role updated.',
  removed: 'Member removed.',
  settings_saved: 'Organization settings saved.',
};

/** Plain words for the errors a Team page action can meet. */
const PLAIN: Partial<Record<ErrorCode, string>> = {
  pending_invitation_limit: `This organization already has ${PENDING_LIMIT} pending invitations. Revoke one, or wait for one to be accepted or to expire, before inviting more.`,
  invitation_already_pending: 'This email already has a pending invitation. Use Resend in the table instead.',
  already_member: 'This person is already a member of the organization.',
  resend_cooldown: 'This invitation was sent less than a minute ago. Try again in a minute.',
  invalid_state: 'That invitation can no longer be changed.',
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
const plain = (code: ErrorCode) =>
  lookup(PLAIN, code) ?? (Object.hasOwn(ERROR_CODES, code) ? ERROR_CODES[code].title : 'Something went wrong.');

const InviteForm = z.object({
  email: EmailSchema,
  role: RoleSchema,
  message: MessageSchema,
  expires_in_days: z
    .string()
    .trim()
    .regex(/^\d{1,2}$/)
    .transform(Number)
    .pipe(ExpiresInDays),
});
const FIELD_MESSAGES: Record<string, string> = {
  email: 'Enter a valid email address, like name@company.com.',
  role: 'Choose one of the roles.',
  message: 'The personal message can be at most 1000 characters.',
  expires_in_days: 'Enter a whole number of days from 1 to 30.',
};

/** The invite form's plain-words message for each field a zod check refused. */
function fieldErrors(error: z.ZodError): InviteFormState['errors'] {
  const errors: InviteFormState['errors'] = {};
  for (const issue of error.issues)
    errors[issue.path[0] as keyof typeof errors] = FIELD_MESSAGES[String(issue.path[0])];
  return errors;
}

const NotFound = (p: { user: AuthUser | null; csrf?: string }) => (
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
type SignedIn = () => Promise<AuthUser | null>;

/** The caller's membership of `slug`, or null (not a member, or no such organization): a 404. */
async function membershipOf(c: Ctx, slug: string, userId: string) {
  try {
    return await requireMembership(c.var.db, slug, userId);
  } catch {
    return null;
  }
}

/** A blank personal message is no message. */
const optionalMessage = (message: string) => (message.trim() ? message : null);

/**
 * The invite form with several addresses (SPEC §12): one bulk request, then each address with its
 * outcome in plain words; the ones not sent stay in the field to fix and send again.
 */
async function inviteSeveral(
  c: Ctx,
  user: SignedIn,
  slug: string,
  values: InviteFormState['values'],
  addresses: string[],
) {
  if (addresses.length > BULK_MAX_ROWS) {
    return renderTeam(c, user, slug, {
      invite: { values, errors: { email: `At most ${BULK_MAX_ROWS} addresses at once.` } },
      status: 400,
    });
  }
  const shared = InviteForm.omit({ email: true }).safeParse(values);
  if (!shared.success) {
    return renderTeam(c, user, slug, { invite: { values, errors: fieldErrors(shared.error) }, status: 400 });
  }
  const orgId = await orgIdOf(c, slug);
  if (!orgId) return renderTeam(c, user, slug);
  const rows = addresses.map((address, index) => {
    const email = EmailSchema.safeParse(address);
    if (!email.success) return { invalid: refusal(index, address, 'validation_failed', FIELD_MESSAGES.email) };
    return {
      email: normalizeEmail(email.data),
      role: shared.data.role,
      message: optionalMessage(shared.data.message),
      expiresInDays: shared.data.expires_in_days,
    };
  });
  const outcome = written(c, await coordinatorFor(c.env, orgId).createInvitationsBulk(pageWrite(c, orgId), { rows }));
  if (!outcome.ok && outcome.code === 'unauthorized') return c.redirect('/sign-in', 303);
  if (!outcome.ok)
    return renderTeam(c, user, slug, {
      invite: { values, errors: { form: plain(outcome.code) } },
      status: outcome.code === 'forbidden' ? 403 : 409,
    });
  const bulkResults = outcome.value.results.map((r) => ({
    email: addresses[r.index],
    sent: r.status === 201,
    reason:
      'error' in r
        ? r.error.code === 'validation_failed'
          ? 'That is not a valid email address.'
          : plain(r.error.code)
        : undefined,
  }));
  const left = bulkResults
    .filter((r) => !r.sent)
    .map((r) => r.email)
    .join('\n');
  return renderTeam(c, user, slug, { invite: { values: { ...values, email: left }, errors: {} }, bulkResults });
}

async function renderTeam(
  c: Ctx,
  who: AuthUser | SignedIn,
  slug: string,
  extra: {
    invite?: InviteFormState;
    bulkResults?: TeamViewProps['bulkResults'];
    settings?: { error?: string; typedDomains?: string };
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
  const [members, orgs, invitations, pending] = await Promise.all([
    listMembers(c.var.db, org.id),
    organizationsOf(c.var.db, user.id),
    manager ? listInvitations(c.var.db, org.id, { limit: 50, now }) : Promise.resolve({ data: [] }),
    manager ? countPending(c.var.db, org.id, now) : Promise.resolve(0),
  ]);
  const error = c.req.query('error') as ErrorCode | undefined;
  return c.html(
    <TeamView
      p={{
        user,
        orgs,
        role,
        csrf: c.var.csrf,
        members,
        pending,
        limit: PENDING_LIMIT,
        org: { id: org.id, name: org.name, slug: org.slug },
        invitations: invitations.data,
        notice: lookup(NOTICES, c.req.query('notice')),
        error: error && Object.hasOwn(ERROR_CODES, error) ? plain(error) : undefined,
        invite: extra.invite,
        bulkResults: extra.bulkResults,
        settings: {
          domains: parseDomains(org.allowedEmailDomains),
          defaultLocale: asLocale(org.defaultLocale),
          ...extra.settings,
        },
      }}
    />,
    extra.status ?? 200,
  );
}

/**
 * Runs a Team page action: sign-in and CSRF checks, membership, then redirect back with a notice
 * or error (or home, after leaving). Who may do what is decided by the coordinator.
 */
async function action(
  c: Ctx,
  run: (
    req: WriteRequest,
    coordinator: ReturnType<typeof coordinatorFor>,
    form: Record<string, string>,
  ) => Promise<Outcome<unknown> & Written>,
  notice: string,
) {
  const form = await formFields(c);
  if (!csrfValid(c, form)) return refuseCsrf(c);
  const credential = credentialOf(c);
  if (!credential) return c.redirect('/sign-in', 303);
  const slug = c.req.param('slug')!;
  const orgId = await orgIdOf(c, slug);
  const outcome = orgId
    ? written(c, await run({ ...writeRequest(c, orgId), credential }, coordinatorFor(c.env, orgId), form))
    : fail('not_found');
  if (!outcome.ok && outcome.code === 'unauthorized') return c.redirect('/sign-in', 303);
  if (!outcome.ok && outcome.code === 'not_found') {
    // Not a member (or no such organization) is a 404 page; a member gets the error on the page.
    const user = await pageUser(c);
    if (!user || !(await membershipOf(c, slug, user.id)))
      return c.html(<NotFound user={user} csrf={c.var.csrf} />, 404);
  }
  const back = `/orgs/${encodeURIComponent(slug)}/settings/team`;
  // After leaving, the Team page is no longer yours to see.
  if (outcome.ok && (outcome.value as { self?: boolean }).self) return c.redirect('/', 303);
  return c.redirect(outcome.ok ? `${back}?notice=${notice}` : `${back}?error=${outcome.code}`, 303);
}

/** A page's write: the session cookie is its credential. */
const pageWrite = (c: Ctx, orgId: string): WriteRequest => ({ ...writeRequest(c, orgId), credential: credentialOf(c) });

export const teamPages = new Hono<AppEnv>()
  .get('/orgs/:slug', (c) => c.redirect(`/orgs/${encodeURIComponent(c.req.param('slug'))}/settings/team`, 303))
  .get('/orgs/:slug/settings/team', async (c) => {
    const user = await pageUser(c);
    if (!user) return c.redirect('/sign-in', 303);
    return renderTeam(c, user, c.req.param('slug'));
  })
  .post('/orgs/:slug/settings/team/invitations', async (c) => {
    if (!credentialOf(c)) return c.redirect('/sign-in', 303);
    // Who is signed in is read only to render a page (an error, or a bulk's results).
    const user: SignedIn = () => pageUser(c);
    const form = await formFields(c);
    if (!csrfValid(c, form)) return refuseCsrf(c);
    const slug = c.req.param('slug');
    const values = {
      email: form.email ?? '',
      role: form.role ?? '',
      message: form.message ?? '',
      expires_in_days: form.expires_in_days ?? '7',
    };
    const addresses = values.email.split(/[\s,;]+/).filter(Boolean);
    if (addresses.length > 1) return inviteSeveral(c, user, slug, values, addresses);
    const parsed = InviteForm.safeParse({ ...values, email: addresses[0] ?? '' });
    if (!parsed.success) {
      return renderTeam(c, user, slug, { invite: { values, errors: fieldErrors(parsed.error) }, status: 400 });
    }
    // The write itself reads nothing here: the coordinator knows the caller by their cookie.
    const orgId = await orgIdOf(c, slug);
    if (!orgId) return renderTeam(c, user, slug);
    const outcome = written(
      c,
      await coordinatorFor(c.env, orgId).createInvitation(pageWrite(c, orgId), {
        email: parsed.data.email,
        role: parsed.data.role,
        message: optionalMessage(parsed.data.message),
        expiresInDays: parsed.data.expires_in_days,
      }),
    );
    if (outcome.ok) return c.redirect(`/orgs/${encodeURIComponent(slug)}/settings/team?notice=invited`, 303);
    if (outcome.code === 'unauthorized') return c.redirect('/sign-in', 303);
    if (outcome.code === 'not_found') return renderTeam(c, user, slug);
    const onEmail = outcome.code === 'invitation_already_pending' || outcome.code === 'already_member';
    const errors = onEmail ? { email: plain(outcome.code) } : { form: plain(outcome.code) };
    if (outcome.retryAfterSeconds !== undefined) c.header('Retry-After', String(outcome.retryAfterSeconds));
    return renderTeam(c, user, slug, {
      invite: { values, errors },
      status: outcome.code === 'forbidden' ? 403 : outcome.code === 'rate_limited' ? 429 : 409,
    });
  })
  .post('/orgs/:slug/settings/organization', async (c) => {
    const user = await pageUser(c);
    if (!user) return c.redirect('/sign-in', 303);
    const form = await formFields(c);
    if (!csrfValid(c, form)) return refuseCsrf(c);
    const slug = c.req.param('slug');
    const membership = await membershipOf(c, slug, user.id);
    if (!membership) return renderTeam(c, user, slug);
    const { org, role } = membership;
    if (role !== 'owner') return renderTeam(c, user, slug, { status: 403 });
    const typedDomains = form.domains ?? '';
    // The API's own schemas.
    const domains = AllowedDomainsSchema.safeParse(typedDomains.split(/[\s,;]+/).filter(Boolean));
    const locale = LocaleSchema.safeParse(form.default_locale);
    if (!domains.success || !locale.success) {
      const error = !domains.success
        ? 'Enter domains like example.com or *.example.com, one per line, each once (at most 50).'
        : 'Choose one of the languages.';
      return renderTeam(c, user, slug, { settings: { error, typedDomains }, status: 400 });
    }
    await updateOrganizationSettings(
      c.var.db,
      actorOf(c, user.id),
      org.id,
      { domains: domains.data, defaultLocale: locale.data },
      Date.now(),
    );
    return c.redirect(`/orgs/${org.slug}/settings/team?notice=settings_saved`, 303);
  })
  .post('/orgs/:slug/settings/team/invitations/:id/resend', (c) =>
    action(c, (req, coordinator) => coordinator.resendInvitation(req, { id: c.req.param('id') }), 'resent'),
  )
  .post('/orgs/:slug/settings/team/invitations/:id/revoke', (c) =>
    action(c, (req, coordinator) => coordinator.revokeInvitation(req, { id: c.req.param('id') }), 'revoked'),
  )
  .post('/orgs/:slug/settings/team/members/:userId/role', (c) =>
    action(
      c,
      async (req, coordinator, form) => {
        const role = RoleSchema.safeParse(form.role);
        if (!role.success) return { ...fail('validation_failed'), bookmark: null };
        return coordinator.changeMemberRole(req, { userId: c.req.param('userId'), role: role.data });
      },
      'role_changed',
    ),
  )
  .post('/orgs/:slug/settings/team/members/:userId/remove', (c) =>
    action(c, (req, coordinator) => coordinator.removeMember(req, { userId: c.req.param('userId') }), 'removed'),
  );
