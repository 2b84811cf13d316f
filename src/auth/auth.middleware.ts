import type { Context } from 'hono';
import { getCookie, setCookie, deleteCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import type { AppEnv, AuthUser, Db } from '../env';
import { ApiError } from '../errors';
import { SESSION_TTL_MS, resolveOrgAccess } from './auth.store';
import { openSession } from '../db/session';

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

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The bearer secret of this request: `Authorization: Bearer …` first, then the session cookie.
 * A cookie only counts for a state-changing API call made by this site's own pages (same-origin
 * Sec-Fetch-Site or Origin): cross-site requests carry cookies too, bearer tokens they cannot.
 */
export function presentedSecret(c: Context<AppEnv>): string | undefined {
  const header = c.req.header('Authorization');
  if (header) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    return match?.[1] ?? '';
  }
  const cookie = getCookie(c, sessionCookieName(c.env.APP_URL));
  if (!cookie || SAFE_METHODS.has(c.req.method)) return cookie;
  const fetchSite = c.req.header('Sec-Fetch-Site');
  const origin = c.req.header('Origin');
  const sameOrigin = fetchSite === 'same-origin' || (origin !== undefined && origin === new URL(c.env.APP_URL).origin);
  return sameOrigin ? cookie : undefined;
}

/**
 * A read a route makes right after `requireOrgMember`, prepared on the request's D1 client from the
 * request alone (`orgRef` is the path's `{org}`, not yet checked), or null to skip it. It is run
 * with the access query, before the caller is authorized: the route must not use its rows before.
 */
export type ReadAhead = (
  c: Context<AppEnv>,
  client: D1Database,
  orgRef: string,
  now: number,
) => D1PreparedStatement | null;

/**
 * The caller, and their membership of `orgRef`, from the request's D1 session. A read request's
 * session may be served by a replica that has not yet seen a new credential or membership (a
 * session token just issued, an organization just created): a miss there is asked again of the
 * primary, and the rest of the request reads from the primary too. Only a real miss is a 401/404.
 */
export async function resolveAccess(c: Context<AppEnv>, secret: string, orgRef: string | null, readAhead?: ReadAhead) {
  const now = Date.now();
  const ahead = (db: Db) => (readAhead && orgRef !== null ? readAhead(c, db.$client, orgRef, now) : null);
  const found = await resolveOrgAccess(c.var.db, secret, orgRef, now, undefined, ahead(c.var.db));
  const complete = found && (orgRef === null || found.membership);
  if (complete || !(c.req.method === 'GET' || c.req.method === 'HEAD')) return found;
  const primary = openSession(c.env.DB, 'first-primary').db;
  c.set('db', primary);
  return resolveOrgAccess(primary, secret, orgRef, now, undefined, ahead(primary));
}

/** Resolves the caller if any credential is presented; never fails the request. */
export const optionalUser = createMiddleware<AppEnv>(async (c, next) => {
  const secret = presentedSecret(c);
  if (secret) {
    const user = (await resolveAccess(c, secret, null))?.user;
    if (user) c.set('user', user);
  }
  await next();
});

/** 401 unless the request carries a valid session or API token. */
export const requireUser = createMiddleware<AppEnv>(async (c, next) => {
  const secret = presentedSecret(c);
  const user = secret ? (await resolveAccess(c, secret, null))?.user : null;
  if (!user) throw new ApiError('unauthorized', 'Sign in, or send Authorization: Bearer <token>.');
  c.set('user', user);
  await next();
});

/**
 * After `requireUser`: 403 unless the caller signed in with a session. Personal API tokens cannot
 * mint, list or delete API tokens, or see and end sessions (SPEC §14): a leaked token must not
 * be able to entrench itself.
 */
export const requireSession = createMiddleware<AppEnv>(async (c, next) => {
  if (c.get('user')?.via !== 'session') {
    throw new ApiError(
      'forbidden',
      'Personal API tokens cannot manage API tokens or sessions. Sign in (a session) to do that.',
    );
  }
  await next();
});

export function currentUser(c: Context<AppEnv>): AuthUser {
  const user = c.get('user');
  if (!user) throw new ApiError('unauthorized');
  return user;
}

/**
 * For `/{org}` routes: 401 without valid credentials, 404 (never 403) unless the caller is a
 * member, so an organization's existence does not leak. Sets `user` and `membership` (and
 * `readAhead`, the rows of `requireOrgMemberReading`'s read).
 */
const orgMember = (readAhead?: ReadAhead) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const secret = presentedSecret(c);
    const access = secret ? await resolveAccess(c, secret, c.req.param('org') ?? '', readAhead) : null;
    if (!access) throw new ApiError('unauthorized', 'Sign in, or send Authorization: Bearer <token>.');
    c.set('user', access.user);
    if (!access.membership) throw new ApiError('not_found', 'No such organization.');
    c.set('membership', access.membership);
    c.set('orgId', access.membership.org.id);
    if (access.readAhead) c.set('readAhead', access.readAhead);
    await next();
  });
export const requireOrgMember = orgMember();
/** `requireOrgMember`, with the route's first read in the same D1 round trip as the access query. */
export const requireOrgMemberReading = (readAhead: ReadAhead) => orgMember(readAhead);

/** The organization and role resolved by `requireOrgMember`. */
export function currentMembership(c: Context<AppEnv>) {
  const membership = c.get('membership');
  if (!membership) throw new ApiError('not_found', 'No such organization.');
  return membership;
}
