import { createRoute } from '@hono/zod-openapi';
import { and, eq } from 'drizzle-orm';
import { invitations, organizations, users } from '../db/schema';
import type { Db } from '../env';
import { ApiError, unwrap } from '../errors';
import { createRouter, jsonBody, jsonResponse, problems } from '../lib/openapi';
import { actorOf } from '../lib/request';
import { optionalUser, setSessionCookie } from '../auth/auth.middleware';
import { findUserByEmail } from '../auth/auth.store';
import { AUDIENCE, verifyToken } from '../auth/tokens';
import { coordinatorFor } from '../org-coordinator';
import { handOffAfter } from '../delivery/producer';
import { effectiveStatus } from './invitations.store';
import { clientIp, enforceAtEdge } from '../rate-limit/rate-limit';
import { AcceptBody, AcceptResultSchema, PreviewSchema, TokenQuery } from './invitations.schemas';

const INVALID = 'This invitation link is no longer valid. If it expired, ask the sender to resend it.';

/**
 * SPEC §3: a token is valid only if it verifies and names the invitation's current jti while the
 * invitation is pending and unexpired. Returns the live invitation or throws 410.
 */
export async function resolveInvitationToken(env: Env, db: Db, token: string, now: number, ip: string | null) {
  await enforceAtEdge(env, 'acceptPerIp', ip);
  const claims = await verifyToken(env, AUDIENCE.invitation, token, now);
  if (!claims?.org) throw new ApiError('invitation_invalid', INVALID);
  const inv = await db.query.invitations.findFirst({
    where: and(eq(invitations.id, claims.sub), eq(invitations.organizationId, claims.org)),
  });
  if (!inv || inv.tokenId !== claims.jti || effectiveStatus(inv, now) !== 'pending') {
    const err = new ApiError('invitation_invalid', inv && effectiveStatus(inv, now) === 'expired' ? 'This invitation has expired. Ask the sender to resend it.' : INVALID);
    // The 410 page speaks the invitation's language when the signed link names one.
    throw Object.assign(err, { locale: inv ? inv.locale : undefined });
  }
  return { inv, jti: claims.jti };
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
  middleware: [optionalUser],
  request: { body: jsonBody(AcceptBody) },
  responses: { 200: jsonResponse(AcceptResultSchema, 'Joined'), ...problems(400, 403, 410, 413, 415, 429) },
});

export const acceptanceRoutes = createRouter()
  .openapi(preview, async (c) => {
    const now = Date.now();
    const { inv } = await resolveInvitationToken(c.env, c.var.db, c.req.valid('query').token, now, clientIp(c.req.header('CF-Connecting-IP')));
    const [org, inviter, account] = await Promise.all([
      c.var.db.query.organizations.findFirst({ where: eq(organizations.id, inv.organizationId) }),
      c.var.db.query.users.findFirst({ where: eq(users.id, inv.invitedBy) }),
      findUserByEmail(c.var.db, inv.email),
    ]);
    return c.json(
      {
        organization: { name: org?.name ?? '', slug: org?.slug ?? '' },
        email: inv.email,
        role: inv.role,
        inviter: { name: inviter?.name ?? null },
        expires_at: new Date(inv.expiresAt).toISOString(),
        account_exists: Boolean(account),
      },
      200,
    );
  })
  .openapi(accept, async (c) => {
    const now = Date.now();
    const body = c.req.valid('json');
    const { inv, jti } = await resolveInvitationToken(c.env, c.var.db, body.token, now, clientIp(c.req.header('CF-Connecting-IP')));
    const user = c.get('user');
    const { outboxId, ...result } = unwrap(
      handOffAfter(c.executionCtx, c.env, await coordinatorFor(c.env, inv.organizationId).acceptInvitation(
        { organizationId: inv.organizationId, actor: actorOf(c, user?.id ?? null), now },
        { invitationId: inv.id, jti, sessionUser: user ? { id: user.id, email: user.email } : undefined, name: body.name },
      )),
    );
    if (result.session_token) setSessionCookie(c, result.session_token);
    return c.json(result, 200);
  });
