import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { sql } from 'drizzle-orm';
import type { AppEnv } from './env';
import { ApiError, type Outcome } from './errors';
import { newestBookmark, openSession } from './db/session';
import { clientInfo } from './lib/request';
import { presentedSecret, resolveAccess } from './auth/auth.middleware';
import { credentialKind } from './auth/auth.store';
import { coordinatorFor } from './lib/coordinator';
import type { WriteRequest, Written } from './org-coordinator';

/*
 * The Worker's side of a write (SPEC §19): it looks nothing up in D1. It names the organization's
 * coordinator, hands it the caller's secret, the client and the time, and renders the outcome.
 * Authentication, authorization, the rules and the batch all happen in the coordinator, beside the
 * D1 primary: one long-haul round trip per write.
 */

/** Organization ids as `newId('org')` makes them; anything else in `{org}` is a slug. */
const ORG_ID = /^org_[a-z0-9]{20}$/;

/**
 * Slugs never change and organizations are never deleted, so a slug's id, once read, holds for
 * the isolate's life: a write by slug reads D1 (the nearest replica) once per isolate.
 */
const slugIds = new Map<string, string>();

/**
 * The organization id behind `{org}` (an id or a slug), or null when no such organization
 * exists. An id costs nothing; a slug not yet seen by this isolate costs one replica read (and a
 * read of the primary if the replica has not seen it yet).
 */
export async function orgIdOf(c: Context<AppEnv>, ref: string): Promise<string | null> {
  if (ORG_ID.test(ref)) return ref;
  const known = slugIds.get(ref);
  if (known) return known;
  const id = await nearestFirst(
    c,
    async (db) => (await db.all<{ id: string }>(sql`SELECT id FROM organizations WHERE slug = ${ref}`))[0]?.id,
  );
  if (id) {
    if (slugIds.size > 10_000) slugIds.clear();
    slugIds.set(ref, id);
  }
  return id ?? null;
}

/**
 * What `find` reads (the organization a write names by something else than `{org}`: a slug, a
 * link's code, an invitation or a request), from the nearest replica first, then from the request's
 * own session (the primary, for a row written a moment ago that the replica has not seen yet).
 */
export async function nearestFirst<T>(
  c: Context<AppEnv>,
  find: (db: AppEnv['Variables']['db']) => Promise<T | null | undefined>,
): Promise<T | null> {
  return (await find(openSession(c.env.DB, 'first-unconstrained').db)) ?? (await find(c.var.db)) ?? null;
}

/**
 * For writes whose organization is not in the path (a link's code, an invitation or a request by
 * id): 401 without a credential (never a coordinator call for it); an input refused before the
 * coordinator saw the caller is answered 401 first when the credential is dead, as a read would be.
 */
export const credentialPresented = createMiddleware<AppEnv>(async (c, next) => {
  const secret = presentedSecret(c);
  if (!secret || !credentialKind(secret)) throw new ApiError('unauthorized', SIGN_IN);
  await next();
  if (c.error instanceof ApiError && c.error.code === 'validation_failed' && !(await resolveAccess(c, secret, null))) {
    throw new ApiError('unauthorized', SIGN_IN);
  }
});

/** 401 unless the presented secret is a live credential: for a write whose subject was not found. */
export async function requireLiveCredential(c: Context<AppEnv>) {
  const secret = presentedSecret(c);
  if (!secret || !(await resolveAccess(c, secret, null))) throw new ApiError('unauthorized', SIGN_IN);
}

/** What the coordinator needs to know about this request. */
export function writeRequest(c: Context<AppEnv>, organizationId: string, sessionOnly = false): WriteRequest {
  const secret = presentedSecret(c);
  c.set('orgId', organizationId);
  return {
    organizationId,
    credential: secret && credentialKind(secret) ? { secret, sessionOnly } : null,
    client: clientInfo(c),
    now: Date.now(),
  };
}

/** A refusal of the request's input (its body), decided before the credential was looked at. */
const INPUT_REFUSALS = new Set(['validation_failed', 'invalid_json', 'unsupported_media_type']);

/**
 * For `/{org}` write routes: 401 without a credential (or with a secret that is no credential at
 * all: never a coordinator call for it); the organization's id in `orgId`. Nothing else: the
 * coordinator authenticates and authorizes. An unknown slug, or a body the route refuses, is
 * answered as a read would answer: 401 for a dead credential, 404 for a non-member, and only then
 * the refusal (the organization's existence never leaks). Those answers read D1 here; a write
 * that goes to the coordinator does not.
 */
export const writeAccess = createMiddleware<AppEnv>(async (c, next) => {
  const secret = presentedSecret(c);
  if (!secret || !credentialKind(secret)) throw new ApiError('unauthorized', SIGN_IN);
  const ref = c.req.param('org') ?? '';
  const id = await orgIdOf(c, ref);
  if (!id) {
    await requireMemberOf(c, secret, ref);
    throw new ApiError('not_found', 'No such organization.');
  }
  c.set('orgId', id);
  await next();
  if (c.error instanceof ApiError && INPUT_REFUSALS.has(c.error.code)) {
    // The input was refused before the coordinator saw the caller: 401 or 404 first, as a read.
    await requireMemberOf(c, secret, ref);
  }
});

const SIGN_IN = 'Sign in, or send Authorization: Bearer <token>.';

/** 401 unless `secret` is a live credential, 404 unless its holder is a member of `ref`. */
async function requireMemberOf(c: Context<AppEnv>, secret: string, ref: string) {
  const access = await resolveAccess(c, secret, ref);
  if (!access) throw new ApiError('unauthorized', SIGN_IN);
  if (!access.membership) throw new ApiError('not_found', 'No such organization.');
}

/** The coordinator of the organization `writeAccess` found. */
export function coordinatorOf(c: Context<AppEnv>, organizationId = c.get('orgId')!) {
  return coordinatorFor(c.env, organizationId);
}

/**
 * The outcome of a coordinator call, its bookmark carried into the response (`x-d1-bookmark`): a
 * client (or the page it loads next) that sends it back reads at least this write. Later reads of
 * this request start there too.
 */
export function written<T>(c: Context<AppEnv>, result: Outcome<T> & Written): Outcome<T> {
  const { bookmark, ...outcome } = result;
  const newest = newestBookmark(c.get('writeBookmark'), bookmark);
  if (newest && newest !== c.get('writeBookmark')) {
    c.set('writeBookmark', newest);
    c.set('db', openSession(c.env.DB, 'first-primary', newest).db);
  }
  return outcome as Outcome<T>;
}
