import { Hono, type Context } from 'hono';
import { eq } from 'drizzle-orm';
import { organizations, users } from '../db/schema';
import type { AppEnv, AuthUser } from '../env';
import { ApiError } from '../errors';
import { actorOf } from '../lib/request';
import { setSessionCookie } from '../auth/auth.middleware';
import { findUserByEmail } from '../auth/auth.store';
import { coordinatorFor } from '../org-coordinator';
import { handOffAfter } from '../delivery/producer';
import { NameSchema } from '../lib/openapi';
import { resolveInvitationToken } from '../invitations/acceptance.routes';
import type { InvitationRow } from '../invitations/invitations.store';
import { refuseCsrf } from './auth.pages';
import { clientIp } from '../rate-limit/rate-limit';
import { CsrfField, Layout, MessagePage } from './layout';
import { csrfValid, formFields, pageUser } from './pages.middleware';

type Ctx = Context<AppEnv>;

const Invalid = (p: { expired: boolean; csrf?: string }) => (
  <MessagePage title="Invitation no longer valid" heading="Invitation no longer valid" csrf={p.csrf}>
    <p>
      {p.expired
        ? 'This invitation has expired. Ask the person who invited you to resend it.'
        : 'This link was revoked, already used, replaced by a newer invitation email, or is not one of ours.'}
    </p>
    <p><a class="btn" href="/">Go to 8bit-ai</a></p>
  </MessagePage>
);

interface Offer {
  token: string;
  inv: InvitationRow;
  orgName: string;
  inviterName: string;
}

const OfferHeader = ({ o }: { o: Offer }) => (
  <>
    <p class="sub">
      <strong>{o.inviterName}</strong> invited <strong>{o.inv.email}</strong> to join <strong>{o.orgName}</strong> as <strong>{o.inv.role}</strong>.
    </p>
    {o.inv.message ? <blockquote>{o.inv.message}</blockquote> : null}
  </>
);

const JoinPage = (p: { o: Offer; csrf?: string; isNew: boolean; error?: string }) => (
  <Layout title={`Join ${p.o.orgName}`} csrf={p.csrf} narrow>
    <div class="card">
      <div class="card-body">
        <h1>{p.isNew ? 'Create your account' : `Join ${p.o.orgName} as ${p.o.inv.email}`}</h1>
        <OfferHeader o={p.o} />
        <form method="post" action="/invitations/accept">
          <CsrfField token={p.csrf} />
          <input type="hidden" name="token" value={p.o.token} />
          {p.isNew ? (
            <>
              <div class="field">
                <label for="accept-email">Email</label>
                <input id="accept-email" type="email" value={p.o.inv.email} readonly aria-readonly="true" />
              </div>
              <div class="field">
                <label for="accept-name">Your name</label>
                <input id="accept-name" name="name" type="text" required maxlength={100} autocomplete="name" aria-invalid={p.error ? 'true' : undefined} aria-describedby="accept-name-error" />
                {p.error ? <div class="field-error" id="accept-name-error">{p.error}</div> : null}
              </div>
            </>
          ) : null}
          <button class="btn primary" type="submit">{p.isNew ? `Create account and join ${p.o.orgName}` : `Join ${p.o.orgName}`}</button>
        </form>
      </div>
    </div>
  </Layout>
);

const MismatchPage = (p: { o: Offer; user: AuthUser; csrf?: string }) => (
  <MessagePage title="Invitation for another address" heading="This invitation is for another email address" user={p.user} csrf={p.csrf}>
    <OfferHeader o={p.o} />
    <p>
      You are signed in as <strong>{p.user.email}</strong>. To accept, sign out and open the invitation again as <strong>{p.o.inv.email}</strong>. The invitation stays open.
    </p>
    <form method="post" action="/sign-out">
      <CsrfField token={p.csrf} />
      <input type="hidden" name="next" value={`/invitations/accept?token=${encodeURIComponent(p.o.token)}`} />
      <button class="btn primary" type="submit">Sign out and continue</button>
    </form>
  </MessagePage>
);

/** The offer behind a token, or the 410 page. */
async function offerFor(c: Ctx, token: string): Promise<Offer | Response> {
  try {
    const { inv } = await resolveInvitationToken(c.env, c.var.db, token, Date.now(), clientIp(c.req.header('CF-Connecting-IP')));
    const [org, inviter] = await Promise.all([
      c.var.db.query.organizations.findFirst({ where: eq(organizations.id, inv.organizationId) }),
      c.var.db.query.users.findFirst({ where: eq(users.id, inv.invitedBy) }),
    ]);
    return { token, inv, orgName: org?.name ?? 'the organization', inviterName: inviter?.name ?? 'A teammate' };
  } catch (err) {
    if (err instanceof ApiError && err.code === 'rate_limited') {
      c.header('Retry-After', err.headers['Retry-After']);
      return c.html(
        <MessagePage title="Too many attempts" heading="Too many attempts" csrf={c.var.csrf}>
          <p>{err.detail}</p>
        </MessagePage>,
        429,
      );
    }
    if (err instanceof ApiError) return c.html(<Invalid expired={err.detail.includes('expired')} csrf={c.var.csrf} />, 410);
    throw err;
  }
}

/**
 * Accepts for the visitor; on success, signs them in (if they were not and the rule allows) and
 * redirects into the organization, or says that a sign-in link is on its way.
 */
async function accept(c: Ctx, o: Offer, user: AuthUser | null, name?: string) {
  const outcome = handOffAfter(
    c.executionCtx,
    c.env,
    await coordinatorFor(c.env, o.inv.organizationId).acceptInvitation(
      { organizationId: o.inv.organizationId, actor: actorOf(c, user?.id ?? null), now: Date.now() },
      { invitationId: o.inv.id, jti: o.inv.tokenId!, sessionUser: user ? { id: user.id, email: user.email } : undefined, name },
    ),
  );
  if (outcome.ok) {
    if (outcome.value.sign_in_link_sent) {
      return c.html(
        <MessagePage title="Check your email to sign in" heading="Check your email to sign in" csrf={c.var.csrf}>
          <p>
            <strong>{o.inv.email}</strong> has joined <strong>{o.orgName}</strong> as <strong>{outcome.value.role}</strong>.
          </p>
          <p>This invitation link was sent more than 15 minutes ago, so it does not sign you in. We emailed a sign-in link to {o.inv.email}: it works once and expires in 15 minutes.</p>
        </MessagePage>,
      );
    }
    if (outcome.value.session_token) setSessionCookie(c, outcome.value.session_token);
    return c.redirect(`/orgs/${outcome.value.organization.slug}`, 303);
  }
  if (outcome.code === 'name_required') return c.html(<JoinPage o={o} csrf={c.var.csrf} isNew error="Enter your name to create the account." />, 400);
  if (outcome.code === 'email_mismatch' && user) return c.html(<MismatchPage o={o} user={user} csrf={c.var.csrf} />, 403);
  if (outcome.code === 'organization_limit') {
    return c.html(
      <MessagePage title="Too many organizations" heading="You own too many organizations to accept" csrf={c.var.csrf}>
        <p>{outcome.detail} Hand one over or delete one, then open this invitation again: it stays open.</p>
      </MessagePage>,
      409,
    );
  }
  return c.html(<Invalid expired={false} csrf={c.var.csrf} />, 410);
}

/** `HEAD`, or a browser's speculative load (`Sec-Purpose: prefetch`, or the older `Purpose: prefetch`). */
function isPrefetchOrHead(c: Ctx) {
  if (c.req.method === 'HEAD') return true;
  const purpose = `${c.req.header('Sec-Purpose') ?? ''} ${c.req.header('Purpose') ?? ''} ${c.req.header('X-Purpose') ?? ''}`;
  return /\b(prefetch|prerender|preview)\b/i.test(purpose);
}

export const acceptPages = new Hono<AppEnv>()
  .get('/invitations/accept', async (c) => {
    const offer = await offerFor(c, c.req.query('token') ?? '');
    if (offer instanceof Response) return offer;
    const user = await pageUser(c);
    // Only a visitor already signed in as the invited email consumes the link on GET; a mail
    // scanner carries no session cookie, so it only ever sees a page with a button. A HEAD or a
    // prefetch never consumes it, even with the invitee's cookie: they get the page.
    if (user && user.email === offer.inv.email && !isPrefetchOrHead(c)) return accept(c, offer, user);
    if (user && user.email === offer.inv.email) return c.html(<JoinPage o={offer} csrf={c.var.csrf} isNew={false} />);
    if (user) return c.html(<MismatchPage o={offer} user={user} csrf={c.var.csrf} />);
    const account = await findUserByEmail(c.var.db, offer.inv.email);
    return c.html(<JoinPage o={offer} csrf={c.var.csrf} isNew={!account} />);
  })
  .post('/invitations/accept', async (c) => {
    const form = await formFields(c);
    if (!csrfValid(c, form)) return refuseCsrf(c);
    const offer = await offerFor(c, form.token ?? '');
    if (offer instanceof Response) return offer;
    const name = form.name?.trim() ? NameSchema.safeParse(form.name) : undefined;
    if (name && !name.success) return c.html(<JoinPage o={offer} csrf={c.var.csrf} isNew error="Your name can be at most 100 characters." />, 400);
    return accept(c, offer, await pageUser(c), name?.data);
  });
