import { Hono, type Context } from 'hono';
import type { AppEnv } from '../env';
import { ERROR_CODES } from '../errors';
import { sha256Hex } from '../lib/crypto';
import { coordinatorFor } from '../lib/coordinator';
import { openSession } from '../db/session';
import { organizationsOf } from '../organizations/organizations.store';
import { linkOffer } from '../joins/links.store';
import { organizationOfLink } from '../joins/links.routes';
import { writeRequest, written } from '../writes';
import { refuseCsrf } from './auth.pages';
import { JoinLinkGone, JoinLinkPage, JoinRefused, RequestSent, type LinkOffer } from './join.view';
import { credentialOf, csrfValid, formFields, pageUser } from './pages.middleware';

/*
 * The invite link's page (SPEC §16): `GET /join/{code}` shows the organization and the role and
 * consumes nothing; its form posts back to the same path, which redeems the link as the signed-in
 * visitor. A visitor not signed in gets a sign-in link by email that brings them back here. The
 * request log names the route (`/join/:code`), never the code; no referrer leaves these pages.
 */

type Ctx = Context<AppEnv>;

/** A code as `createInviteLink` makes them (anything else admits no one, and is not looked up). */
const CODE = /^[A-Za-z0-9_-]{16,128}$/;
const teamPage = (slug: string) => `/orgs/${encodeURIComponent(slug)}/settings/team`;
const joinPage = (code: string) => `/join/${encodeURIComponent(code)}`;

/** What the code's link offers (from a replica, then the primary), or null when there is no such link. */
async function offerOf(c: Ctx, code: string) {
  if (!CODE.test(code)) return null;
  const hash = await sha256Hex(code);
  const now = Date.now();
  return (
    (await linkOffer(c.var.db, hash, now)) ?? (await linkOffer(openSession(c.env.DB, 'first-primary').db, hash, now))
  );
}

const toOffer = (code: string, row: NonNullable<Awaited<ReturnType<typeof offerOf>>>): LinkOffer => ({
  code,
  orgName: row.org_name,
  orgSlug: row.org_slug,
  role: row.role,
  requiresApproval: row.requires_approval === 1,
});

/** The signed-in visitor and their organizations (for the account menu), if any. */
async function visitor(c: Ctx) {
  const user = await pageUser(c);
  return { user, orgs: user ? await organizationsOf(c.var.db, user.id) : [] };
}

async function gone(c: Ctx) {
  const { user, orgs } = await visitor(c);
  return c.html(<JoinLinkGone csrf={c.var.csrf} user={user} orgs={orgs} />, 410);
}

export const joinPages = new Hono<AppEnv>()
  .get('/join/:code', async (c) => {
    c.header('Cache-Control', 'no-store');
    const code = c.req.param('code');
    const row = await offerOf(c, code);
    if (row?.live !== 1) return gone(c);
    const { user, orgs } = await visitor(c);
    const member = orgs.some((o) => o.id === row.org_id);
    return c.html(<JoinLinkPage o={toOffer(code, row)} user={user} orgs={orgs} member={member} csrf={c.var.csrf} />);
  })
  .post('/join/:code', async (c) => {
    c.header('Cache-Control', 'no-store');
    const form = await formFields(c);
    if (!csrfValid(c, form)) return refuseCsrf(c);
    const code = c.req.param('code');
    const credential = credentialOf(c);
    // Not signed in: the page, which offers a sign-in link that comes back here.
    if (!credential) return c.redirect(joinPage(code), 303);
    if (!CODE.test(code)) return gone(c);
    const { codeHash, orgId } = await organizationOfLink(c, code);
    if (!orgId) return gone(c);
    const req = { ...writeRequest(c, orgId, true), credential };
    const outcome = written(c, await coordinatorFor(c.env, orgId).redeemInviteLink(req, { codeHash }));
    if (outcome.ok && 'joined' in outcome.value)
      return c.redirect(teamPage(outcome.value.joined.organization.slug), 303);
    if (!outcome.ok && outcome.code === 'unauthorized') return c.redirect(joinPage(code), 303);
    if (!outcome.ok && outcome.code === 'invite_link_invalid') return gone(c);
    // The page that says what happened names the organization: the link is read again for it.
    const row = await offerOf(c, code);
    if (!row) return gone(c);
    const { user, orgs } = await visitor(c);
    if (!user) return c.redirect(joinPage(code), 303);
    if (outcome.ok) return c.html(<RequestSent orgName={row.org_name} user={user} orgs={orgs} csrf={c.var.csrf} />);
    if (outcome.code === 'already_member') return c.redirect(teamPage(row.org_slug), 303);
    const status = ERROR_CODES[outcome.code].status as 409 | 422 | 429;
    if (outcome.retryAfterSeconds !== undefined) c.header('Retry-After', String(outcome.retryAfterSeconds));
    return c.html(
      <JoinRefused
        orgName={row.org_name}
        detail={outcome.detail ?? ERROR_CODES[outcome.code].title}
        user={user}
        orgs={orgs}
        csrf={c.var.csrf}
      />,
      status,
    );
  });
