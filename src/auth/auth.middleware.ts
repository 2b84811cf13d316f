import type { Context } from 'hono';
import { getCookie, setCookie, deleteCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import type { AppEnv, AuthUser } from '../env';
import { ApiError } from '../errors';
import { SESSION_TTL_MS, resolveCredential } from './auth.store';

/** `__Host-` cookies require Secure; plain-http local development uses a plain name. */
export function sessionCookieName(appUrl: string): string {
  return appUrl.startsWith('https://') ? '__Host-8b_session' : '8b_session';
}

export function setSessionCookie(c: Context<AppEnv>, token: string) {
  const secure = c.env.APP_URL.startsWith('https://');
  setCookie(c, sessionCookieName(c.env.APP_URL), token, {
    httpOnly: true,
    secure,
    sameSite: 'Lax',
    path: '/',
    maxAge: Math.floor(SESSION_TTL_MS / 1000),
  });
}

export function clearSessionCookie(c: Context<AppEnv>) {
  deleteCookie(c, sessionCookieName(c.env.APP_URL), {
    path: '/',
    secure: c.env.APP_URL.startsWith('https://'),
  });
}

/** The bearer secret of this request: `Authorization: Bearer …` first, then the session cookie. */
export function presentedSecret(c: Context<AppEnv>): string | undefined {
  const header = c.req.header('Authorization');
  if (header) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    return match?.[1] ?? '';
  }
  return getCookie(c, sessionCookieName(c.env.APP_URL));
}

/** Resolves the caller if any credential is presented; never fails the request. */
export const optionalUser = createMiddleware<AppEnv>(async (c, next) => {
  const secret = presentedSecret(c);
  if (secret) {
    const user = await resolveCredential(c.var.db, secret, Date.now());
    if (user) c.set('user', user);
  }
  await next();
});

/** 401 unless the request carries a valid session or API token. */
export const requireUser = createMiddleware<AppEnv>(async (c, next) => {
  const secret = presentedSecret(c);
  const user = secret ? await resolveCredential(c.var.db, secret, Date.now()) : null;
  if (!user) throw new ApiError('unauthorized', 'Sign in, or send Authorization: Bearer <token>.');
  c.set('user', user);
  await next();
});

export function currentUser(c: Context<AppEnv>): AuthUser {
  const user = c.get('user');
  if (!user) throw new ApiError('unauthorized');
  return user;
}
