import type { Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import { secureHeaders } from 'hono/secure-headers';
import type { AppEnv, AuthUser } from '../env';
import { base64url } from '../lib/crypto';
import { resolveAccess, sessionCookieName } from '../auth/auth.middleware';

/** Strict headers for every page: no inline code, no framing, no referrer (links carry tokens). */
export const pageSecurityHeaders = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'none'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", 'data:'],
    connectSrc: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
  },
  referrerPolicy: 'no-referrer',
  xFrameOptions: 'DENY',
  xContentTypeOptions: 'nosniff',
  crossOriginOpenerPolicy: 'same-origin',
  strictTransportSecurity: 'max-age=31536000; includeSubDomains',
});

const csrfCookieName = (appUrl: string) => (appUrl.startsWith('https://') ? '__Host-8b_csrf' : '8b_csrf');

/**
 * Double-submit CSRF token: a random cookie that a cross-site page can neither read nor set,
 * repeated in every form as `_csrf`. Issued on the first page view.
 */
export const csrfCookie = createMiddleware<AppEnv>(async (c, next) => {
  const name = csrfCookieName(c.env.APP_URL);
  let token = getCookie(c, name);
  if (!token || !/^[\w-]{43}$/.test(token)) {
    token = base64url(crypto.getRandomValues(new Uint8Array(32)));
    setCookie(c, name, token, {
      httpOnly: true,
      secure: c.env.APP_URL.startsWith('https://'),
      sameSite: 'Lax',
      path: '/',
    });
  }
  c.set('csrf', token);
  await next();
});

const timingSafeEqual = (a: string, b: string) => {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
};

/** True when a state-changing form post comes from our own pages. */
export function csrfValid(c: Context<AppEnv>, form: Record<string, unknown>): boolean {
  const origin = c.req.header('Origin');
  const allowed = [new URL(c.env.APP_URL).origin, new URL(c.req.url).origin];
  // Under `Referrer-Policy: no-referrer` browsers send `Origin: null` on form posts; then the
  // token and Sec-Fetch-Site decide.
  if (origin && origin !== 'null' && !allowed.includes(origin)) return false;
  if (c.req.header('Sec-Fetch-Site') === 'cross-site') return false;
  const cookie = getCookie(c, csrfCookieName(c.env.APP_URL));
  const field = typeof form._csrf === 'string' ? form._csrf : '';
  return Boolean(cookie) && timingSafeEqual(cookie!, field);
}

/**
 * A same-site path to go to after a form, or null (SPEC §14). Resolved against APP_URL so that
 * tricks like `/\evil.example` or `/\t/evil.example` (which browsers read as other hosts) are
 * refused, and so is any path that normalizes to `//…` or `/\…` (`/.//evil.example`): a
 * protocol-relative URL once it is used as a Location.
 */
export function safeNext(appUrl: string, next: string | undefined): string | null {
  if (!next?.startsWith('/') || /[\\\u0000-\u001f\u007f]/.test(next)) return null;
  try {
    const base = new URL(appUrl);
    const url = new URL(next, base);
    if (url.origin !== base.origin || /^\/[/\\]/.test(url.pathname)) return null;
    return `${url.pathname}${url.search}`;
  } catch {
    return null;
  }
}

/** The signed-in user of a browser (session cookie only), if any. */
/** The session cookie as a coordinator credential (pages act only with a session). */
export function credentialOf(c: Context<AppEnv>) {
  const secret = getCookie(c, sessionCookieName(c.env.APP_URL));
  return secret ? { secret, sessionOnly: true } : null;
}

export async function pageUser(c: Context<AppEnv>): Promise<AuthUser | null> {
  const secret = getCookie(c, sessionCookieName(c.env.APP_URL));
  if (!secret) return null;
  const user = (await resolveAccess(c, secret, null))?.user;
  if (user?.via !== 'session') return null;
  c.set('user', user);
  return user;
}

/** Parses a urlencoded/multipart form into strings only (files and repeats are dropped). */
export async function formFields(c: Context<AppEnv>): Promise<Record<string, string>> {
  let body: Record<string, unknown>;
  try {
    body = await c.req.parseBody();
  } catch {
    // A malformed body (e.g. multipart without a boundary): no fields, so the CSRF check refuses it.
    return {};
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) if (typeof v === 'string') out[k] = v;
  return out;
}
