import { Hono, type Context } from 'hono';
import { z } from '@hono/zod-openapi';
import type { AppEnv } from '../env';
import { fail, type Outcome } from '../errors';
import { LocaleSchema, RoleSchema } from '../lib/openapi';
import { coordinatorFor } from '../lib/coordinator';
import type { WriteRequest, Written } from '../org-coordinator';
import { orgIdOf, writeRequest, written } from '../writes';
import { AllowedDomainsSchema } from '../organizations/domains';
import { DomainJoinSchema, JoinRoleSchema } from '../organizations/organizations.schemas';
import { REASON_MAX } from '../joins/requests.schemas';
import { updateOrganizationSettings } from '../organizations/organizations.store';
import { refuseCsrf } from './auth.pages';
import { actorOf } from '../lib/request';
import { credentialOf, csrfValid, formFields, pageUser } from './pages.middleware';
import { fieldErrors, InviteForm, inviteSeveral, optionalMessage, pageWrite } from './team-invite';
import { membershipOf, NotFound, plain, renderTeam, type SignedIn } from './team.render';

type Ctx = Context<AppEnv>;

/** The seat limit as the settings form sends it: empty for no limit, else 1 to 100,000 (as the API). */
const SeatLimitField = z.union([
  z.literal('').transform(() => null),
  z
    .string()
    .regex(/^\d{1,6}$/)
    .transform(Number)
    .pipe(z.number().int().min(1).max(100_000)),
]);

/** The reminder horizon as the settings form sends it: empty for none, else 1 to 29 days (as the API). */
const ReminderDaysField = z.union([
  z.literal('').transform(() => null),
  z
    .string()
    .regex(/^\d{1,2}$/)
    .transform(Number)
    .pipe(z.number().int().min(1).max(29)),
]);

/** An approval's role from the Team page's select (absent: the request's own). */
const ApproveForm = z.object({ role: RoleSchema.optional() });
/** A rejection's optional reason (empty: none), as the API takes it. */
const RejectForm = z.object({ reason: z.string().trim().max(REASON_MAX).optional() });

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
  if (!outcome.ok && (outcome.code === 'not_found' || outcome.code === 'validation_failed')) {
    // Answered as the page itself would be: signed out → sign in; not a member (or no such
    // organization) → 404, whatever the form said; a member gets the error on the page.
    const user = await pageUser(c);
    if (!user) return c.redirect('/sign-in', 303);
    if (!(await membershipOf(c, slug, user.id))) return c.html(<NotFound user={user} csrf={c.var.csrf} />, 404);
  }
  const back = `/orgs/${encodeURIComponent(slug)}/settings/team`;
  // After leaving, the Team page is no longer yours to see.
  if (outcome.ok && (outcome.value as { self?: boolean }).self) return c.redirect('/', 303);
  return c.redirect(outcome.ok ? `${back}?notice=${notice}` : `${back}?error=${outcome.code}`, 303);
}

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
    const typedSeatLimit = form.seat_limit?.trim();
    const typedReminderDays = form.reminder_days_before_expiry?.trim();
    // The API's own schemas. A field the form did not send is left as it is.
    const domains = AllowedDomainsSchema.safeParse(typedDomains.split(/[\s,;]+/).filter(Boolean));
    const locale = LocaleSchema.safeParse(form.default_locale);
    const seatLimit = SeatLimitField.optional().safeParse(typedSeatLimit);
    const domainJoin = DomainJoinSchema.optional().safeParse(form.domain_join);
    const domainJoinRole = JoinRoleSchema.optional().safeParse(form.domain_join_role);
    const reminderDays = ReminderDaysField.optional().safeParse(typedReminderDays);
    const refuse = (error: string) =>
      renderTeam(c, user, slug, {
        settings: { error, typedDomains, typedSeatLimit, typedReminderDays },
        status: 400,
      });
    if (!domains.success)
      return refuse('Enter domains like example.com or *.example.com, one per line, each once (at most 50).');
    if (!locale.success) return refuse('Choose one of the languages.');
    if (!seatLimit.success) return refuse('Enter a seat limit from 1 to 100,000, or leave it empty for no limit.');
    if (!domainJoin.success || !domainJoinRole.success)
      return refuse('Choose how accounts at your verified domains join, and their role.');
    if (!reminderDays.success) return refuse('Enter reminder days from 1 to 29, or leave it empty for no reminders.');
    await updateOrganizationSettings(
      c.var.db,
      actorOf(c, user.id),
      org.id,
      {
        domains: domains.data,
        defaultLocale: locale.data,
        seatLimit: seatLimit.data,
        domainJoin: domainJoin.data,
        domainJoinRole: domainJoinRole.data,
        reminderDaysBeforeExpiry: reminderDays.data,
      },
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
  .post('/orgs/:slug/settings/team/join-requests/:id/approve', (c) =>
    action(
      c,
      async (req, coordinator, form) => {
        const parsed = ApproveForm.safeParse({ role: form.role || undefined });
        if (!parsed.success) return { ...fail('validation_failed'), bookmark: null };
        return coordinator.approveJoinRequest(req, { id: c.req.param('id'), role: parsed.data.role });
      },
      'request_approved',
    ),
  )
  .post('/orgs/:slug/settings/team/join-requests/:id/reject', (c) =>
    action(
      c,
      async (req, coordinator, form) => {
        const parsed = RejectForm.safeParse({ reason: form.reason });
        if (!parsed.success) return { ...fail('validation_failed'), bookmark: null };
        return coordinator.rejectJoinRequest(req, { id: c.req.param('id'), reason: parsed.data.reason || null });
      },
      'request_rejected',
    ),
  )
  .post('/orgs/:slug/settings/team/members/:userId/remove', (c) =>
    action(c, (req, coordinator) => coordinator.removeMember(req, { userId: c.req.param('userId') }), 'removed'),
  );
