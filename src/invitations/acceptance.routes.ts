import { createRoute } from '@hono/zod-openapi';
import { and, eq, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/sqlite-core';
import { decodeJwt } from 'jose';
import { invitations, organizations, users } from '../db/schema';
import type { Db } from '../env';
import { ApiError, unwrap } from '../errors';
import { createRouter, jsonBody, jsonResponse, problems } from '../lib/openapi';
import { setSessionCookie } from '../auth/auth.middleware';
import { AUDIENCE, verifyToken } from '../auth/tokens';
import { coordinatorFor } from '../lib/coordinator';
import { writeRequest, written } from '../writes';
import { effectiveStatus, type InvitationRow } from './invitations.store';
import { enforceAtEdge } from '../rate-limit/rate-limit';
import { clientIp } from '../lib/request';
import {
  AcceptBody,
  AcceptResultSchema,
  DeclinedSchema,
  PreviewSchema,
  ReinviteRequestedSchema,
  TokenBody,
  TokenQuery,
} from './invitations.schemas';

const INVALID = 'This invitation link is no longer valid. If it expired, ask the sender to resend it.';

const inviter = alias(users, 'inviter');
const account = alias(users, 'account');

/** Checks the per-IP limit and the signature; the claims of a well-formed invitation token, or 410. */
export async function verifyInvitationToken(env: Env, token: string, now: number, ip: string | null, counted = false) {
  // `counted`: this request already counted in the limit (a page reading back the offer it explains).
  if (!counted) await enforceAtEdge(env, 'acceptPerIp', ip);
  const claims = await verifyToken(env, AUDIENCE.invitation, token, now);
  if (!claims?.org) throw new ApiError('invitation_invalid', INVALID);
  return { id: claims.sub, organizationId: claims.org, jti: claims.jti };
}

/**
 * The claims of a genuine invitation link whatever its age: the signature, key, issuer and audience
 * verify as they did on its last day (an expired invitation's link is past its `exp`, which equals
 * the expiry). Only for asking again (SPEC §17), where the invitation must be expired and the jti
 * still its current one (the coordinator checks both); 410 for anything not ours.
 */
export async function verifyExpiredInvitationToken(
  env: Env,
  token: string,
  now: number,
  ip: string | null,
  counted = false,
) {
  if (!counted) await enforceAtEdge(env, 'acceptPerIp', ip);
  let exp: number | undefined;
  try {
    exp = decodeJwt(token).exp;
  } catch {
    exp = undefined;
  }
  const during = typeof exp === 'number' && Number.isFinite(exp) ? Math.min(now, exp * 1000 - 1000) : now;
  const claims = await verifyToken(env, AUDIENCE.invitation, token, during);
  if (!claims?.org) throw new ApiError('invitation_invalid', INVALID);
  return { id: claims.sub, organizationId: claims.org, jti: claims.jti };
}

/**
 * What the page of an expired invitation offers (SPEC §17): a genuine link (any age) whose
 * invitation expired (effective status) and still names its current jti; `requested` once the
 * invitee asked for a new one. Null for anything else (nothing to ask for). Counts nothing in the
 * per-IP limit: call it after `resolveInvitationToken` refused the same token in this request.
 */
export async function expiredOfferOf(env: Env, db: Db, token: string, now: number) {
  let claims: Awaited<ReturnType<typeof verifyExpiredInvitationToken>>;
  try {
    claims = await verifyExpiredInvitationToken(env, token, now, null, true);
  } catch {
    return null;
  }
  const [row] = await db
    .select({ inv: invitations, orgName: organizations.name, orgSlug: organizations.slug, inviterName: inviter.name })
    .from(invitations)
    .leftJoin(organizations, eq(organizations.id, invitations.organizationId))
    .leftJoin(inviter, eq(inviter.id, invitations.invitedBy))
    .where(and(eq(invitations.id, claims.id), eq(invitations.organizationId, claims.organizationId)))
    .limit(1);
  const inv = row?.inv;
  if (!inv || inv.tokenId !== claims.jti || effectiveStatus(inv, now) !== 'expired') return null;
  return {
    inv,
    jti: claims.jti,
    organization: { name: row.orgName ?? '', slug: row.orgSlug ?? '' },
    inviterName: row.inviterName,
    requested: inv.reinviteRequestedAt !== null,
  };
}

/** The 410 for an invitation that is not live: the expiry is named, and its language kept for the page. */
export function invitationGone(inv: Pick<InvitationRow, 'status' | 'expiresAt' | 'locale'> | undefined, now: number) {
  const expired = inv !== undefined && effectiveStatus(inv, now) === 'expired';
  const err = new ApiError(
    'invitation_invalid',
    expired ? 'This invitation has expired. Ask the sender to resend it.' : INVALID,
  );
  // The 410 page speaks the invitation's language when the signed link names one.
  return Object.assign(err, { locale: inv ? inv.locale : undefined });
}

/**
 * SPEC §3: a token is valid only if it verifies and names the invitation's current jti while the
 * invitation is pending and unexpired. Returns the live invitation with what its offer shows (the
 * organization, the inviter, whether the invited account exists), read in one query; throws 410.
 */
export async function resolveInvitationToken(
  env: Env,
  db: Db,
  token: string,
  now: number,
  ip: string | null,
  counted = false,
) {
  const claims = await verifyInvitationToken(env, token, now, ip, counted);
  const [row] = await db
    .select({
      inv: invitations,
      orgName: organizations.name,
      orgSlug: organizations.slug,
      inviterName: inviter.name,
      accountExists: sql<number>`${account.id} IS NOT NULL`,
    })
    .from(invitations)
    .leftJoin(organizations, eq(organizations.id, invitations.organizationId))
    .leftJoin(inviter, eq(inviter.id, invitations.invitedBy))
    .leftJoin(account, eq(account.email, invitations.email))
    .where(and(eq(invitations.id, claims.id), eq(invitations.organizationId, claims.organizationId)))
    .limit(1);
  const inv = row?.inv;
  if (!inv || inv.tokenId !== claims.jti || effectiveStatus(inv, now) !== 'pending') throw invitationGone(inv, now);
  return {
    inv,
    jti: claims.jti,
    organization: { name: row.orgName ?? '', slug: row.orgSlug ?? '' },
    inviterName: row.inviterName,
    accountExists: row.accountExists === 1,
  };
}

const preview = createRoute({
  operationId: 'previewInvitation',
  security: [],
  method: 'get',
  path: '/preview',
  tags: ['acceptance'],
  summary: 'What an invitation link offers (does not consume it)',
  request: { query: TokenQuery },
  responses: { 200: jsonResponse(PreviewSchema, 'The offer'), ...problems(400, 410, 429) },
});

const accept = createRoute({
  operationId: 'acceptInvitation',
  // Anonymous, or with the invitee's session (either works).
  security: [{}, { bearerAuth: [] }] as Record<string, string[]>[],
  method: 'post',
  path: '/accept',
  tags: ['acceptance'],
  summary: 'Accept an invitation (as the signed-in user, the existing account, or a new one)',
  request: { body: jsonBody(AcceptBody) },
  responses: { 200: jsonResponse(AcceptResultSchema, 'Joined'), ...problems(400, 403, 410, 413, 415, 429) },
});

const decline = createRoute({
  operationId: 'declineInvitation',
  // Anonymous (the link is the credential), or with a session: then the audit names the account.
  security: [{}, { bearerAuth: [] }] as Record<string, string[]>[],
  method: 'post',
  path: '/decline',
  tags: ['acceptance'],
  summary: 'Decline an invitation with its link (no account needed)',
  description:
    'The invitation becomes `declined`, a final status: the link dies at once (410 after), its pending slot and ' +
    'seat are free at once, it cannot be resent (409 `invalid_state`), and a new invitation to the same email is ' +
    'allowed. The inviter is emailed; `invitation.declined` is the webhook event. A link that is not live ' +
    '(declined already, revoked, accepted, expired, resent, forged) is 410 `invitation_invalid`.',
  request: { body: jsonBody(TokenBody) },
  responses: { 200: jsonResponse(DeclinedSchema, 'Declined'), ...problems(400, 410, 413, 415, 429) },
});

const reinviteRequest = createRoute({
  operationId: 'requestReinvite',
  security: [{}, { bearerAuth: [] }] as Record<string, string[]>[],
  method: 'post',
  path: '/reinvite-request',
  tags: ['acceptance'],
  summary: 'Ask for a new invitation with the link of an expired one',
  description:
    'Records `reinvite_requested_at` once per expiry and emails the inviter (webhook `invitation.reinvite_requested`). ' +
    'Asking again for the same expiry is 200 with `already: true`, and records and sends nothing. An invitation ' +
    'that is still pending (accept it), revoked, declined or accepted is 409 `invalid_state`; a link that is not ' +
    'genuine or no longer the current one (resent) is 410 `invitation_invalid`.',
  request: { body: jsonBody(TokenBody) },
  responses: {
    200: jsonResponse(ReinviteRequestedSchema, 'Asked (or asked already)'),
    ...problems(400, 409, 410, 413, 415, 429),
  },
});

export const acceptanceRoutes = createRouter()
  .openapi(preview, async (c) => {
    const now = Date.now();
    const offer = await resolveInvitationToken(
      c.env,
      c.var.db,
      c.req.valid('query').token,
      now,
      clientIp(c.req.header('CF-Connecting-IP')),
    );
    return c.json(
      {
        organization: offer.organization,
        email: offer.inv.email,
        role: offer.inv.role,
        inviter: { name: offer.inviterName },
        expires_at: new Date(offer.inv.expiresAt).toISOString(),
        account_exists: offer.accountExists,
      },
      200,
    );
  })
  .openapi(accept, async (c) => {
    const body = c.req.valid('json');
    // The signature and the per-IP limit at the edge; everything else in the coordinator, which
    // reads the invitation (one read, not two): a 410 comes from there.
    const now = Date.now();
    const inv = await verifyInvitationToken(c.env, body.token, now, clientIp(c.req.header('CF-Connecting-IP')));
    const req = { ...writeRequest(c, inv.organizationId), now };
    const input = { invitationId: inv.id, jti: inv.jti, name: body.name };
    const { locale: _, ...result } = unwrap(
      written(c, await coordinatorFor(c.env, inv.organizationId).acceptInvitation(req, input)),
    );
    if (result.session_token) setSessionCookie(c, result.session_token);
    return c.json(result, 200);
  })
  .openapi(decline, async (c) => {
    const now = Date.now();
    const link = await verifyInvitationToken(
      c.env,
      c.req.valid('json').token,
      now,
      clientIp(c.req.header('CF-Connecting-IP')),
    );
    const req = { ...writeRequest(c, link.organizationId), now };
    const input = { invitationId: link.id, jti: link.jti };
    unwrap(written(c, await coordinatorFor(c.env, link.organizationId).declineInvitation(req, input)));
    return c.json({ declined: true as const }, 200);
  })
  .openapi(reinviteRequest, async (c) => {
    const now = Date.now();
    const ip = clientIp(c.req.header('CF-Connecting-IP'));
    const link = await verifyExpiredInvitationToken(c.env, c.req.valid('json').token, now, ip);
    const req = { ...writeRequest(c, link.organizationId), now };
    const input = { invitationId: link.id, jti: link.jti };
    const { already } = unwrap(
      written(c, await coordinatorFor(c.env, link.organizationId).requestReinvite(req, input)),
    );
    return c.json({ requested: true as const, already }, 200);
  });
