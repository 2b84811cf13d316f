import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';
import { normalizeEmail } from '../lib/crypto';
import { clearSessionCookie, setSessionCookie } from '../auth/auth.middleware';
import { inspectSignInLink, redeemSignInLink, sendSignInLink } from '../auth/auth.service';
import { handOff } from '../delivery/producer';
import { endAllSessions, endSession } from '../auth/auth.store';
import { EmailSchema, NameSchema } from '../lib/openapi';
import { clientInfo, clientIp } from '../lib/request';
import { CsrfField, Layout, MessagePage, NameField } from './layout';
import { csrfValid, formFields, pageUser, safeNext } from './pages.middleware';

const SignInForm = (p: { csrf?: string; email?: string; error?: string; next?: string | null }) => (
  <Layout title="Sign in" csrf={p.csrf} narrow>
    <div class="card">
      <div class="card-body">
        <h1>Sign in to 8bit-ai</h1>
        <p class="sub">We will email you a link. No password needed.</p>
        <form method="post" action="/sign-in">
          <CsrfField token={p.csrf} />
          {p.next ? <input type="hidden" name="next" value={p.next} /> : null}
          <div class="field">
            <label for="email">Email</label>
            <input
              id="email"
              name="email"
              type="email"
              required
              autocomplete="email"
              value={p.email ?? ''}
              aria-invalid={p.error ? 'true' : undefined}
              aria-describedby={p.error ? 'email-error' : undefined}
            />
            {p.error ? (
              <div class="field-error" id="email-error">
                {p.error}
              </div>
            ) : null}
          </div>
          <button class="btn primary" type="submit">
            Email me a sign-in link
          </button>
        </form>
      </div>
    </div>
  </Layout>
);

const InvalidLink = (p: { csrf?: string }) => (
  <MessagePage title="Link no longer valid" heading="Sign-in link no longer valid" csrf={p.csrf}>
    <p>This link was already used, has expired (links last 15 minutes) or is not one of ours.</p>
    <p>
      <a class="btn primary" href="/sign-in">
        Get a new link
      </a>
    </p>
  </MessagePage>
);

const Forbidden = () => (
  <MessagePage title="Refused" heading="This form could not be accepted">
    <p>The request did not come from this site's own page (CSRF protection). Go back, reload the page and try again.</p>
  </MessagePage>
);

/**
 * Where to go once signed in: a same-site path the visitor came from (an invite link's page, SPEC
 * §16), kept in a cookie while the emailed link travels, and only ever a `safeNext` path. It may
 * hold a link's code: the visitor's own, never logged, httpOnly, and gone once used.
 */
const nextCookie = (appUrl: string) => (appUrl.startsWith('https://') ? '__Host-8b_next' : '8b_next');
const NEXT_TTL_SECONDS = 30 * 60;

function rememberNext(c: Context<AppEnv>, next: string | null) {
  if (!next) return;
  setCookie(c, nextCookie(c.env.APP_URL), next, {
    httpOnly: true,
    secure: c.env.APP_URL.startsWith('https://'),
    sameSite: 'Lax',
    path: '/',
    maxAge: NEXT_TTL_SECONDS,
  });
}

/** The remembered path (then forgotten), or `/`. */
function takeNext(c: Context<AppEnv>): string {
  const name = nextCookie(c.env.APP_URL);
  const saved = getCookie(c, name);
  if (saved === undefined) return '/';
  deleteCookie(c, name, { path: '/', secure: c.env.APP_URL.startsWith('https://') });
  return safeNext(c.env.APP_URL, saved) ?? '/';
}

/** 403 page for a form post that fails the CSRF check. */
export const refuseCsrf = (c: Context<AppEnv>) => c.html(<Forbidden />, 403);

/** The sign-in form again, for a new account whose name was missing or too long (400). */
const nameRefused = (c: Context<AppEnv>, token: string, email: string, error: string) =>
  c.html(<VerifyForm csrf={c.var.csrf} token={token} email={email} isNew error={error} />, 400);

export const authPages = new Hono<AppEnv>()
  .get('/sign-in', async (c) => {
    const next = safeNext(c.env.APP_URL, c.req.query('next'));
    if (await pageUser(c)) return c.redirect(next ?? '/', 303);
    return c.html(<SignInForm csrf={c.var.csrf} next={next} />);
  })
  .post('/sign-in', async (c) => {
    const form = await formFields(c);
    if (!csrfValid(c, form)) return refuseCsrf(c);
    const next = safeNext(c.env.APP_URL, form.next);
    const parsed = EmailSchema.safeParse(form.email ?? '');
    if (!parsed.success)
      return c.html(
        <SignInForm csrf={c.var.csrf} email={form.email} next={next} error="Enter a valid email address." />,
        400,
      );
    const email = normalizeEmail(parsed.data);
    try {
      const { outboxIds } = await sendSignInLink(
        c.env,
        c.var.db,
        email,
        Date.now(),
        clientIp(c.req.header('CF-Connecting-IP')),
      );
      c.executionCtx.waitUntil(handOff(c.env, outboxIds));
    } catch (err) {
      if (err instanceof ApiError && err.code === 'rate_limited') {
        c.header('Retry-After', err.headers['Retry-After']);
        return c.html(
          <SignInForm
            csrf={c.var.csrf}
            email={form.email}
            next={next}
            error={`Too many sign-in links were requested. ${err.detail}`}
          />,
          429,
        );
      }
      throw err;
    }
    rememberNext(c, next);
    return c.html(
      <MessagePage title="Check your email" heading="Check your email" csrf={c.var.csrf}>
        <p>
          If <strong>{email}</strong> can receive email, a sign-in link is on its way. It works once and expires in 15
          minutes.
        </p>
      </MessagePage>,
    );
  })
  .get('/auth/verify', async (c) => {
    const token = c.req.query('token') ?? '';
    let account: Awaited<ReturnType<typeof inspectSignInLink>>;
    try {
      account = await inspectSignInLink(c.env, c.var.db, token, Date.now());
    } catch (err) {
      if (err instanceof ApiError) return c.html(<InvalidLink csrf={c.var.csrf} />, 410);
      throw err;
    }
    // A GET never uses the link (mail scanners follow links): the button does.
    return c.html(<VerifyForm csrf={c.var.csrf} token={token} email={account.link.email} isNew={!account.account} />);
  })
  .post('/auth/verify', async (c) => {
    const form = await formFields(c);
    if (!csrfValid(c, form)) return refuseCsrf(c);
    const name = form.name?.trim() ? NameSchema.safeParse(form.name) : undefined;
    if (name && !name.success) {
      const { link } = await inspectSignInLink(c.env, c.var.db, form.token ?? '', Date.now()).catch(() => ({
        link: null,
      }));
      if (!link) return c.html(<InvalidLink csrf={c.var.csrf} />, 410);
      return nameRefused(c, form.token ?? '', link.email, 'Your name can be at most 100 characters.');
    }
    try {
      const { sessionToken } = await redeemSignInLink(
        c.env,
        c.var.db,
        form.token ?? '',
        name?.data,
        Date.now(),
        clientInfo(c),
      );
      setSessionCookie(c, sessionToken);
      return c.redirect(takeNext(c), 303);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'name_required') {
        const { link } = await inspectSignInLink(c.env, c.var.db, form.token ?? '', Date.now());
        return nameRefused(c, form.token ?? '', link.email, 'Enter your name to create the account.');
      }
      if (err instanceof ApiError) return c.html(<InvalidLink csrf={c.var.csrf} />, 410);
      throw err;
    }
  })
  .post('/sign-out', async (c) => {
    const form = await formFields(c);
    if (!csrfValid(c, form)) return refuseCsrf(c);
    const user = await pageUser(c);
    if (user && form.all === 'true') await endAllSessions(c.var.db, user.id);
    else if (user) await endSession(c.var.db, user.credentialId);
    clearSessionCookie(c);
    // Only same-site paths: an open redirect here would leak tokens to other sites.
    return c.redirect(safeNext(c.env.APP_URL, form.next) ?? '/', 303);
  });

const VerifyForm = (p: { csrf?: string; token: string; email: string; isNew: boolean; error?: string }) => (
  <Layout title="Confirm sign-in" csrf={p.csrf} narrow>
    <div class="card">
      <div class="card-body">
        <h1>{p.isNew ? 'Create your account' : 'Sign in'}</h1>
        <p class="sub">
          as <strong>{p.email}</strong>
        </p>
        <form method="post" action="/auth/verify">
          <CsrfField token={p.csrf} />
          <input type="hidden" name="token" value={p.token} />
          {p.isNew ? <NameField id="name" label="Your name" error={p.error} /> : null}
          <button class="btn primary" type="submit">
            {p.isNew ? 'Create account and sign in' : 'Sign in'}
          </button>
        </form>
      </div>
    </div>
  </Layout>
);
