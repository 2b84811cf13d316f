import { type Context, Hono } from 'hono';
import type { AppEnv } from '../env';
import { ApiError, type ErrorCode, fail } from '../errors';
import { createOrganization, organizationsOf } from '../organizations/organizations.store';
import { CreateOrganizationBody } from '../organizations/organizations.schemas';
import { actorOf } from '../lib/request';
import { coordinatorFor } from '../lib/coordinator';
import { orgIdOf, writeRequest, written } from '../writes';
import { emailDomainOf, requestedOrganizations, suggestionsFor } from '../joins/domains.store';
import { type InboxItem, listMyInvitations } from '../invitations/inbox.store';
import { refuseCsrf } from './auth.pages';
import { Alerts, Badge, CsrfField, DataTable, Layout, type OrgLink } from './layout';
import { credentialOf, csrfValid, formFields, pageUser } from './pages.middleware';
import type { AuthUser } from '../env';

/** An organization the visitor may join by their email's verified domain (SPEC §16). */
interface Suggestion {
  id: string;
  name: string;
  slug: string;
  join: 'auto' | 'request';
  requested: boolean;
}

const NOTICES: Record<string, string> = {
  requested: 'Request sent. The organization’s owners and admins will decide, and you will be emailed their answer.',
  declined: 'Invitation declined. Whoever invited you was told, and its link no longer works.',
};

/** Plain words for what a Join or Ask to join can meet. */
const JOIN_ERRORS: Partial<Record<ErrorCode, string>> = {
  not_found: 'You cannot join that organization by your email’s domain (any more).',
  already_member: 'You are already a member of that organization.',
  seat_limit: 'That organization has no seat left. Ask one of its owners to raise the seat limit.',
  email_domain_not_allowed: 'That organization does not admit addresses at your email’s domain.',
  invalid_state: 'You already asked to join that organization; its owners and admins will decide.',
  rate_limited: 'That organization has too many join requests waiting. Try again later.',
};

/**
 * Plain words for what an Accept or Decline of an invitation for you can meet, by the `error` home
 * is sent back with (a key of its own: `invitation_` and the refusal's code).
 */
const INBOX_ERRORS: Record<string, string> = {
  invitation_not_found: 'That invitation is not addressed to you, or no longer exists.',
  invitation_invalid:
    'That invitation is no longer open: it was revoked, declined or accepted meanwhile, or it expired.',
  invitation_organization_limit:
    'You already own as many organizations as an account can (25). Hand one over or delete one, then accept: the invitation stays open.',
  invitation_failed: 'That could not be done just now. Try again in a moment.',
};
const inboxError = (code: ErrorCode) => {
  const key = code === 'invitation_invalid' ? code : `invitation_${code}`;
  return Object.hasOwn(INBOX_ERRORS, key) ? key : 'invitation_failed';
};
const HOME_ERRORS: Record<string, string> = { ...(JOIN_ERRORS as Record<string, string>), ...INBOX_ERRORS };
const lookup = (table: Record<string, string>, key: string | undefined) =>
  key && Object.hasOwn(table, key) ? table[key] : undefined;

const day = (iso: string) =>
  new Date(iso).toLocaleDateString('en-US', { year: 'numeric', month: 'short', day: 'numeric', timeZone: 'UTC' });

/**
 * "Invitations for you" (SPEC §17): the live pending invitations to the account's email, across
 * organizations, each with Accept and Decline (POST forms with the CSRF field; no link needed, the
 * session proves the email).
 */
const InvitationsForYou = (p: { inbox: InboxItem[]; csrf?: string }) => (
  <section class="card" id="invitations-for-you" aria-labelledby="inbox-heading">
    <div class="card-head">
      <h2 id="inbox-heading">Invitations for you</h2>
      <span class="muted small">
        Sent to your email address. Accept to join; decline and whoever invited you is told.
      </span>
    </div>
    <DataTable labelledBy="inbox-heading" columns={['Organization', 'Role', 'Invited by', 'Expires']}>
      {p.inbox.map((i) => {
        const base = `/orgs/${encodeURIComponent(i.organization.slug)}/invitations/${encodeURIComponent(i.id)}`;
        return (
          <tr data-inbox={i.organization.slug}>
            <td>
              <strong>{i.organization.name}</strong> <span class="muted small">{i.organization.slug}</span>
            </td>
            <td>
              <Badge value={i.role} />
            </td>
            <td class="small">{i.inviter.name ?? '—'}</td>
            <td class="muted small nowrap">{day(i.expires_at)}</td>
            <td>
              <div class="actions">
                <form method="post" action={`${base}/accept`}>
                  <CsrfField token={p.csrf} />
                  <button class="btn small primary" type="submit">
                    Accept<span class="sr-only"> the invitation to {i.organization.name}</span>
                  </button>
                </form>
                <form
                  method="post"
                  action={`${base}/decline`}
                  data-confirm={`Decline the invitation to ${i.organization.name}? Its link stops working.`}
                >
                  <CsrfField token={p.csrf} />
                  <button class="btn small" type="submit">
                    Decline<span class="sr-only"> the invitation to {i.organization.name}</span>
                  </button>
                </form>
              </div>
            </td>
          </tr>
        );
      })}
    </DataTable>
  </section>
);

/** The signed-in home: invitations for you, your organizations, and those you can join by your email's domain. */
const HomePage = (p: {
  user: AuthUser;
  orgs: OrgLink[];
  inbox: InboxItem[];
  suggestions: Suggestion[];
  csrf?: string;
  notice?: string;
  error?: string;
}) => (
  <Layout title="Home" user={p.user} orgs={p.orgs} csrf={p.csrf} invitationsForYou={p.inbox.length}>
    <h1>Welcome, {p.user.name}</h1>
    <p class="sub">Signed in as {p.user.email}</p>
    <Alerts notice={p.notice} error={p.error} />
    {p.inbox.length ? <InvitationsForYou inbox={p.inbox} csrf={p.csrf} /> : null}
    {p.suggestions.length ? (
      <section class="card" aria-labelledby="suggested-heading">
        <div class="card-head">
          <h2 id="suggested-heading">Organizations you can join</h2>
          <span class="muted small">Your email is at {emailDomainOf(p.user.email)}, a domain they verified.</span>
        </div>
        <DataTable labelledBy="suggested-heading" columns={['Organization', 'Joining']}>
          {p.suggestions.map((s) => (
            <tr data-suggestion={s.slug}>
              <td>
                <strong>{s.name}</strong> <span class="muted small">{s.slug}</span>
              </td>
              <td class="muted">{s.join === 'auto' ? 'Open: you join at once' : 'An owner or admin approves'}</td>
              <td>
                <div class="actions">
                  {s.requested ? (
                    <span class="badge pending">Request sent</span>
                  ) : (
                    <form method="post" action={`/orgs/${encodeURIComponent(s.slug)}/join`}>
                      <CsrfField token={p.csrf} />
                      <button class={`btn small${s.join === 'auto' ? ' primary' : ''}`} type="submit">
                        {s.join === 'auto' ? 'Join' : 'Ask to join'}
                        <span class="sr-only"> {s.name}</span>
                      </button>
                    </form>
                  )}
                </div>
              </td>
            </tr>
          ))}
        </DataTable>
      </section>
    ) : null}
    <section class="card" aria-labelledby="orgs-heading">
      <div class="card-head">
        <h2 id="orgs-heading">Your organizations</h2>
        <a class="btn small" href="/orgs/new">
          + New organization
        </a>
      </div>
      <div class="card-body">
        {p.orgs.length ? (
          <ul>
            {p.orgs.map((o) => (
              <li>
                <a href={`/orgs/${o.slug}/settings/team`}>{o.name}</a> <span class="muted small">· {o.role}</span>
              </li>
            ))}
          </ul>
        ) : (
          <p class="muted">You are not a member of any organization yet.</p>
        )}
      </div>
    </section>
  </Layout>
);

const NewOrgPage = (p: {
  user: AuthUser;
  orgs: OrgLink[];
  invitationsForYou: number;
  csrf?: string;
  name?: string;
  slug?: string;
  error?: string;
}) => (
  <Layout
    title="New organization"
    user={p.user}
    orgs={p.orgs}
    csrf={p.csrf}
    invitationsForYou={p.invitationsForYou}
    narrow
  >
    <div class="card">
      <div class="card-body">
        <h1>Create an organization</h1>
        <p class="sub">You will be its owner and can invite your team next.</p>
        {p.error ? (
          <div class="alert error" role="alert">
            {p.error}
          </div>
        ) : null}
        <form method="post" action="/orgs/new">
          <CsrfField token={p.csrf} />
          <div class="field">
            <label for="org-name">Name</label>
            <input
              id="org-name"
              name="name"
              type="text"
              required
              maxlength={100}
              value={p.name ?? ''}
              placeholder="Acme Inc"
            />
          </div>
          <div class="field">
            <label for="org-slug">
              URL slug <span class="hint">(optional: lower-case letters, digits and dashes)</span>
            </label>
            <input id="org-slug" name="slug" type="text" maxlength={48} value={p.slug ?? ''} placeholder="acme-inc" />
          </div>
          <button class="btn primary" type="submit">
            Create organization
          </button>
        </form>
      </div>
    </div>
  </Layout>
);

/** What the account menu shows: your organizations, and how many invitations are for you. */
async function menuOf(c: Context<AppEnv>, user: AuthUser) {
  const [orgs, inbox] = await Promise.all([
    organizationsOf(c.var.db, user.id),
    listMyInvitations(c.var.db, user.email, Date.now()),
  ]);
  return { orgs, invitationsForYou: inbox.length };
}

export const orgPages = new Hono<AppEnv>()
  .get('/', async (c) => {
    const user = await pageUser(c);
    if (!user) return c.redirect('/sign-in', 303);
    const [orgs, inbox, found, requested] = await Promise.all([
      organizationsOf(c.var.db, user.id),
      listMyInvitations(c.var.db, user.email, Date.now()),
      suggestionsFor(c.var.db, user),
      requestedOrganizations(c.var.db, user.id),
    ]);
    const notice = lookup(NOTICES, c.req.query('notice'));
    const error = lookup(HOME_ERRORS, c.req.query('error'));
    // With no invitation for you, nothing to join and nothing to say, home is the first
    // organization (or a new one).
    if (!inbox.length && !found.length && !notice && !error) {
      return c.redirect(orgs[0] ? `/orgs/${orgs[0].slug}/settings/team` : '/orgs/new', 303);
    }
    const suggestions = found.map((s) => ({ ...s, requested: requested.has(s.id) }));
    return c.html(
      <HomePage
        user={user}
        orgs={orgs}
        inbox={inbox}
        suggestions={suggestions}
        csrf={c.var.csrf}
        notice={notice}
        error={error}
      />,
    );
  })
  /**
   * Join (or ask to join) by the email's verified domain: the coordinator decides, as for the API;
   * a member lands in the organization, a request comes back home with a notice.
   */
  .post('/orgs/:slug/join', async (c) => {
    const form = await formFields(c);
    if (!csrfValid(c, form)) return refuseCsrf(c);
    const credential = credentialOf(c);
    if (!credential) return c.redirect('/sign-in', 303);
    const slug = c.req.param('slug');
    const orgId = await orgIdOf(c, slug);
    const outcome = orgId
      ? written(c, await coordinatorFor(c.env, orgId).joinByDomain({ ...writeRequest(c, orgId, true), credential }))
      : fail('not_found');
    if (!outcome.ok) {
      if (outcome.code === 'unauthorized') return c.redirect('/sign-in', 303);
      return c.redirect(
        `/?error=${lookup(JOIN_ERRORS as Record<string, string>, outcome.code) ? outcome.code : 'not_found'}`,
        303,
      );
    }
    if ('join_request' in outcome.value) return c.redirect('/?notice=requested', 303);
    return c.redirect(`/orgs/${encodeURIComponent(outcome.value.organization.slug)}/settings/team`, 303);
  })
  /**
   * Accept or decline an invitation for you (SPEC §17), as the signed-in account: the coordinator of
   * the invitation's organization decides, as for the API. Accepted lands in the organization; a
   * decline, or a refusal, comes back home with a notice or an error.
   */
  .post('/orgs/:slug/invitations/:id/:act{accept|decline}', async (c) => {
    const form = await formFields(c);
    if (!csrfValid(c, form)) return refuseCsrf(c);
    const credential = credentialOf(c);
    if (!credential) return c.redirect('/sign-in', 303);
    const orgId = await orgIdOf(c, c.req.param('slug'));
    if (!orgId) return c.redirect('/?error=invitation_not_found', 303);
    const req = { ...writeRequest(c, orgId, true), credential };
    const input = { invitationId: c.req.param('id') };
    const coordinator = coordinatorFor(c.env, orgId);
    const outcome =
      c.req.param('act') === 'accept'
        ? written(c, await coordinator.acceptMyInvitation(req, input))
        : written(c, await coordinator.declineMyInvitation(req, input));
    if (!outcome.ok) {
      if (outcome.code === 'unauthorized') return c.redirect('/sign-in', 303);
      return c.redirect(`/?error=${inboxError(outcome.code)}`, 303);
    }
    if ('organization' in outcome.value) {
      return c.redirect(`/orgs/${encodeURIComponent(outcome.value.organization.slug)}/settings/team`, 303);
    }
    return c.redirect('/?notice=declined', 303);
  })
  .get('/orgs/new', async (c) => {
    const user = await pageUser(c);
    if (!user) return c.redirect('/sign-in', 303);
    return c.html(<NewOrgPage user={user} {...(await menuOf(c, user))} csrf={c.var.csrf} />);
  })
  .post('/orgs/new', async (c) => {
    const user = await pageUser(c);
    if (!user) return c.redirect('/sign-in', 303);
    const form = await formFields(c);
    if (!csrfValid(c, form)) return refuseCsrf(c);
    const input = { name: form.name ?? '', ...(form.slug?.trim() ? { slug: form.slug } : {}) };
    const parsed = CreateOrganizationBody.safeParse(input);
    const again = async (error: string, status: 400 | 409 | 429) =>
      c.html(
        <NewOrgPage
          user={user}
          {...(await menuOf(c, user))}
          csrf={c.var.csrf}
          name={form.name}
          slug={form.slug}
          error={error}
        />,
        status,
      );
    if (!parsed.success)
      return again(
        'Give the organization a name (up to 100 characters) and, optionally, a slug of lower-case letters, digits and dashes.',
        400,
      );
    try {
      const org = await createOrganization(c.env, c.var.db, actorOf(c, user.id), user.id, parsed.data, Date.now());
      return c.redirect(`/orgs/${org.slug}/settings/team`, 303);
    } catch (err) {
      if (err instanceof ApiError && (err.code === 'slug_taken' || err.code === 'organization_limit'))
        return again(err.detail, 409);
      if (err instanceof ApiError && err.code === 'rate_limited') {
        c.header('Retry-After', err.headers['Retry-After']);
        return again(err.detail, 429);
      }
      throw err;
    }
  });
