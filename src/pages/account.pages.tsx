import { Hono, type Context } from 'hono';
import type { AppEnv, AuthUser } from '../env';
import { endOwnSession, sessionsOf } from '../auth/auth.store';
import { apiTokensOf, revokeApiToken } from '../auth/api-tokens';
import { organizationsOf } from '../organizations/organizations.store';
import { clearSessionCookie } from '../auth/auth.middleware';
import { refuseCsrf } from './auth.pages';
import { csrfValid, formFields, pageUser } from './pages.middleware';
import { AccountView } from './account.view';

const NOTICES = {
  ended: 'Session ended. That browser is signed out.',
  revoked: 'API token revoked. It no longer works.',
} as const;

/** A Revoke of a token this account does not hold live (another account's, or revoked already). */
const NOT_REVOKED = 'No API token was revoked: this account has no such token, or it was revoked already.';

/** The Account page of `user`, with a notice (after a change) or an error (a change refused). */
async function accountPage(
  c: Context<AppEnv>,
  user: AuthUser,
  shown: { notice?: string; error?: string },
  status: 200 | 404 = 200,
) {
  const now = Date.now();
  const [orgs, sessions, tokens] = await Promise.all([
    organizationsOf(c.var.db, user.id),
    sessionsOf(c.var.db, user.id, user.credentialId, now),
    apiTokensOf(c.var.db, user.id),
  ]);
  return c.html(
    <AccountView user={user} orgs={orgs} csrf={c.var.csrf} sessions={sessions} tokens={tokens} now={now} {...shown} />,
    status,
  );
}

/** Account: the signed-in browsers of this user, each of which can be signed out (SPEC §14), and their API tokens (§18). */
export const accountPages = new Hono<AppEnv>()
  .get('/account', async (c) => {
    const user = await pageUser(c);
    if (!user) return c.redirect('/sign-in', 303);
    const key = c.req.query('notice') ?? '';
    const notice = Object.hasOwn(NOTICES, key) ? NOTICES[key as keyof typeof NOTICES] : undefined;
    return accountPage(c, user, { notice });
  })
  .post('/account/sessions/:id/end', async (c) => {
    const form = await formFields(c);
    if (!csrfValid(c, form)) return refuseCsrf(c);
    const user = await pageUser(c);
    if (!user) return c.redirect('/sign-in', 303);
    const id = c.req.param('id');
    // Another user's session id ends nothing: the delete is scoped to this user.
    await endOwnSession(c.var.db, user.id, id);
    if (id === user.credentialId) {
      clearSessionCookie(c);
      return c.redirect('/sign-in', 303);
    }
    return c.redirect('/account?notice=ended', 303);
  })
  .post('/account/api-tokens/:id/revoke', async (c) => {
    const form = await formFields(c);
    if (!csrfValid(c, form)) return refuseCsrf(c);
    const user = await pageUser(c);
    if (!user) return c.redirect('/sign-in', 303);
    // Scoped to this user: another account's token id revokes nothing. A personal API token never
    // signs a page in (pages read the session cookie), so it cannot revoke its siblings here either.
    // Nothing revoked (not this account's token, or revoked already) is said so, as the API's 404.
    if (!(await revokeApiToken(c.var.db, user.id, c.req.param('id'), Date.now()))) {
      return accountPage(c, user, { error: NOT_REVOKED }, 404);
    }
    return c.redirect('/account?notice=revoked', 303);
  });
