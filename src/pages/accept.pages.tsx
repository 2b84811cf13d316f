import { Hono, type Context } from 'hono';
import type { AppEnv } from '../env';
import { ApiError, type Failure } from '../errors';
import { setSessionCookie } from '../auth/auth.middleware';
import { coordinatorFor } from '../lib/coordinator';
import { writeRequest, written } from '../writes';
import { NameSchema } from '../lib/openapi';
import type { Locale } from '../db/schema';
import { localeFromAcceptLanguage, roleName, t } from '../i18n/messages';
import { asLocale } from '../lib/roles';
import {
  expiredOfferOf,
  resolveInvitationToken,
  verifyExpiredInvitationToken,
  verifyInvitationToken,
} from '../invitations/acceptance.routes';
import type { Accepted } from '../invitations/acceptance.service';
import { refuseCsrf } from './auth.pages';
import { clientIp } from '../lib/request';
import { MessagePage } from './layout';
import { credentialOf, csrfValid, formFields, pageUser } from './pages.middleware';
import {
  AskedPage,
  DeclinedPage,
  type ExpiredOffer,
  ExpiredPage,
  Invalid,
  JoinPage,
  MismatchPage,
  Sentence,
  type Offer,
} from './accept.view';

type Ctx = Context<AppEnv>;

/**
 * The offer behind a token, or the 410 page. `counted`: this request already counted in the per-IP
 * limit (a refusal's page reading back the offer it explains).
 */
async function offerFor(c: Ctx, token: string, counted = false): Promise<Offer | Response> {
  try {
    const ip = clientIp(c.req.header('CF-Connecting-IP'));
    const offer = await resolveInvitationToken(c.env, c.var.db, token, Date.now(), ip, counted);
    return {
      token,
      inv: offer.inv,
      orgName: offer.organization.name || 'the organization',
      inviterName: offer.inviterName ?? 'A teammate',
      accountExists: offer.accountExists,
      locale: asLocale(offer.inv.locale),
    };
  } catch (err) {
    return gone(c, err, token);
  }
}

/**
 * The expired invitation behind a genuine link that still names its current jti (SPEC §17: it may
 * ask for a new invitation), or null. Counts nothing in the per-IP limit: only read after a
 * verification of the same token in this request.
 */
async function expiredOf(c: Ctx, token: string): Promise<ExpiredOffer | null> {
  const found = await expiredOfferOf(c.env, c.var.db, token, Date.now());
  if (!found) return null;
  return {
    token,
    email: found.inv.email,
    orgName: found.organization.name || 'the organization',
    inviterName: found.inviterName ?? 'A teammate',
    expiresAt: found.inv.expiresAt,
    askedAt: found.inv.reinviteRequestedAt,
    locale: asLocale(found.inv.locale),
  };
}

/** Too many tries from this network (429), in `locale`. */
function tooMany(c: Ctx, locale: Locale, retryAfter: string | undefined) {
  if (retryAfter) c.header('Retry-After', retryAfter);
  return c.html(
    <MessagePage
      title={t(locale, 'page.too_many_title')}
      heading={t(locale, 'page.too_many_title')}
      csrf={c.var.csrf}
      lang={locale}
    >
      <p>{t(locale, 'page.too_many_body')}</p>
    </MessagePage>,
    429,
  );
}

/**
 * The page for a link that offers nothing live (410): the expired invitation's genuine link offers
 * to ask for a new one; anything else is no longer valid. Or too many tries from this network (429).
 */
async function gone(c: Ctx, err: unknown, token: string) {
  // No usable invitation: its language if the link still names one, else the browser's.
  const locale = (err as { locale?: Locale }).locale ?? localeFromAcceptLanguage(c.req.header('Accept-Language'));
  if (err instanceof ApiError && err.code === 'rate_limited') return tooMany(c, locale, err.headers['Retry-After']);
  if (err instanceof ApiError) {
    const expired = await expiredOf(c, token);
    if (expired) return c.html(<ExpiredPage e={expired} csrf={c.var.csrf} />, 410);
    return c.html(<Invalid expired={err.detail.includes('expired')} csrf={c.var.csrf} locale={locale} />, 410);
  }
  throw err;
}

/**
 * A decline or a request for a new invitation that was refused: too many tries (429), or the page
 * of what the link offers now (the 410 pages, or the live offer itself when it is still pending).
 */
async function linkRefused(c: Ctx, outcome: Failure, token: string) {
  if (outcome.code === 'rate_limited') {
    const locale = localeFromAcceptLanguage(c.req.header('Accept-Language'));
    return tooMany(c, locale, outcome.retryAfterSeconds ? String(outcome.retryAfterSeconds) : undefined);
  }
  const o = await offerFor(c, token, true);
  if (o instanceof Response) return o;
  return c.html(<JoinPage o={o} csrf={c.var.csrf} isNew={!o.accountExists} />, 409);
}

/** The link's claims for a form post, checked (signature, per-IP limit) before any write; else the page. */
async function linkOf(c: Ctx, form: Record<string, string>, expiredToo = false) {
  const token = form.token ?? '';
  const verify = expiredToo ? verifyExpiredInvitationToken : verifyInvitationToken;
  try {
    return { token, link: await verify(c.env, token, Date.now(), clientIp(c.req.header('CF-Connecting-IP'))) };
  } catch (err) {
    return { token, page: await gone(c, err, token) };
  }
}

/** The coordinator's accept for this link, as the visitor (their session cookie, if they sent one). */
async function acceptLink(c: Ctx, link: { organizationId: string; id: string; jti: string }, name?: string) {
  const req = { ...writeRequest(c, link.organizationId, true), credential: credentialOf(c) };
  const input = { invitationId: link.id, jti: link.jti, name };
  return written(c, await coordinatorFor(c.env, link.organizationId).acceptInvitation(req, input));
}

/** Joined: into the organization (signed in, if the rule allows), or told a sign-in link is on its way. */
function joined(c: Ctx, value: Accepted) {
  if (value.sign_in_link_sent) {
    const { locale } = value;
    return c.html(
      <MessagePage
        title={t(locale, 'page.check_email_title')}
        heading={t(locale, 'page.check_email_title')}
        csrf={c.var.csrf}
        lang={locale}
      >
        <p>
          <Sentence
            locale={locale}
            k="page.joined"
            vars={{
              email: value.user.email,
              org: value.organization.name || 'the organization',
              role: roleName(locale, value.role),
            }}
          />
        </p>
        <p>{t(locale, 'page.check_email_body', { email: value.user.email })}</p>
      </MessagePage>,
    );
  }
  if (value.session_token) setSessionCookie(c, value.session_token);
  return c.redirect(`/orgs/${value.organization.slug}`, 303);
}

/** Not joined: the page that says why (the offer is read again to show it). */
async function refused(c: Ctx, outcome: Failure, token: string) {
  const o = await offerFor(c, token, true);
  if (o instanceof Response) return o;
  if (outcome.code === 'name_required')
    return c.html(<JoinPage o={o} csrf={c.var.csrf} isNew error={t(o.locale, 'page.name_required')} />, 400);
  const user = outcome.code === 'email_mismatch' ? await pageUser(c) : null;
  if (user) return c.html(<MismatchPage o={o} user={user} csrf={c.var.csrf} />, 403);
  if (outcome.code === 'organization_limit') {
    return c.html(
      <MessagePage title="Too many organizations" heading="You own too many organizations to accept" csrf={c.var.csrf}>
        <p>{outcome.detail} Hand one over or delete one, then open this invitation again: it stays open.</p>
      </MessagePage>,
      409,
    );
  }
  return c.html(<Invalid expired={false} csrf={c.var.csrf} locale={o.locale} />, 410);
}

/** Accepts for the visitor and answers with the page for its outcome. */
async function accept(c: Ctx, link: { organizationId: string; id: string; jti: string }, token: string, name?: string) {
  const outcome = await acceptLink(c, link, name);
  return outcome.ok ? joined(c, outcome.value) : refused(c, outcome, token);
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
    if (user && user.email === offer.inv.email && !isPrefetchOrHead(c)) {
      const link = { organizationId: offer.inv.organizationId, id: offer.inv.id, jti: offer.inv.tokenId! };
      return accept(c, link, offer.token);
    }
    if (user && user.email === offer.inv.email) return c.html(<JoinPage o={offer} csrf={c.var.csrf} isNew={false} />);
    if (user) return c.html(<MismatchPage o={offer} user={user} csrf={c.var.csrf} />);
    return c.html(<JoinPage o={offer} csrf={c.var.csrf} isNew={!offer.accountExists} />);
  })
  /**
   * The decline page of a link (the reminder's "not interested?", SPEC §17): the offer with Decline,
   * and never an accept on GET, not even for the invitee signed in.
   */
  .get('/invitations/decline', async (c) => {
    const offer = await offerFor(c, c.req.query('token') ?? '');
    if (offer instanceof Response) return offer;
    const user = await pageUser(c);
    if (user && user.email !== offer.inv.email) return c.html(<MismatchPage o={offer} user={user} csrf={c.var.csrf} />);
    return c.html(<JoinPage o={offer} csrf={c.var.csrf} isNew={!user && !offer.accountExists} />);
  })
  .post('/invitations/accept', async (c) => {
    const form = await formFields(c);
    if (!csrfValid(c, form)) return refuseCsrf(c);
    const token = form.token ?? '';
    const name = form.name?.trim() ? NameSchema.safeParse(form.name) : undefined;
    // Before the write, nothing that needs D1: the signature and the per-IP limit, and the name.
    // A page that explains a refusal reads the offer it shows.
    let link: Awaited<ReturnType<typeof verifyInvitationToken>>;
    try {
      link = await verifyInvitationToken(c.env, token, Date.now(), clientIp(c.req.header('CF-Connecting-IP')));
    } catch (err) {
      return gone(c, err, token);
    }
    if (name && !name.success) {
      const offer = await offerFor(c, token, true);
      if (offer instanceof Response) return offer;
      return c.html(<JoinPage o={offer} csrf={c.var.csrf} isNew error={t(offer.locale, 'page.name_too_long')} />, 400);
    }
    return accept(c, link, token, name?.data);
  })
  /** Decline with the link (SPEC §17): no account needed; the inviter is emailed. */
  .post('/invitations/decline', async (c) => {
    const form = await formFields(c);
    if (!csrfValid(c, form)) return refuseCsrf(c);
    const { token, link, page } = await linkOf(c, form);
    if (!link) return page;
    const req = { ...writeRequest(c, link.organizationId, true), credential: credentialOf(c) };
    const input = { invitationId: link.id, jti: link.jti };
    const outcome = written(c, await coordinatorFor(c.env, link.organizationId).declineInvitation(req, input));
    if (!outcome.ok) return linkRefused(c, outcome, token);
    const { organization, locale } = outcome.value;
    return c.html(<DeclinedPage orgName={organization.name || 'the organization'} locale={locale} csrf={c.var.csrf} />);
  })
  /**
   * Ask for a new invitation with the genuine link of an expired one (SPEC §17): the inviter is
   * emailed once per expiry; asking again shows the same confirmation.
   */
  .post('/invitations/reinvite-request', async (c) => {
    const form = await formFields(c);
    if (!csrfValid(c, form)) return refuseCsrf(c);
    const { token, link, page } = await linkOf(c, form, true);
    if (!link) return page;
    const req = { ...writeRequest(c, link.organizationId, true), credential: credentialOf(c) };
    const input = { invitationId: link.id, jti: link.jti };
    const outcome = written(c, await coordinatorFor(c.env, link.organizationId).requestReinvite(req, input));
    if (!outcome.ok) return linkRefused(c, outcome, token);
    // The page names the inviter and the address: read at this write's bookmark.
    const asked = await expiredOf(c, token);
    if (asked) return c.html(<AskedPage e={asked} csrf={c.var.csrf} />);
    const o = await offerFor(c, token, true);
    return o instanceof Response ? o : c.html(<JoinPage o={o} csrf={c.var.csrf} isNew={!o.accountExists} />);
  });
