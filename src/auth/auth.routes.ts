import { createRoute, z } from '@hono/zod-openapi';
import { normalizeEmail } from '../lib/crypto';
import { EmailSchema, NameSchema, bearer, createRouter, jsonBody, jsonResponse, problems } from '../lib/openapi';
import { clearSessionCookie, currentUser, requireUser, setSessionCookie } from './auth.middleware';
import { redeemSignInLink, sendSignInLink } from './auth.service';
import { endAllSessions, endSession } from './auth.store';
import { ApiError } from '../errors';
import { clientInfo, clientIp } from '../lib/request';
import { UserSchema } from '../me/me.schemas';
import { handOff } from '../delivery/producer';

const emailLink = createRoute({
  operationId: 'sendSignInLink',
  security: [],
  method: 'post',
  path: '/email-link',
  tags: ['auth'],
  summary: 'Email a sign-in link (always 202)',
  request: {
    body: jsonBody(
      z
        .object({ email: EmailSchema })
        .strict()
        .openapi({ example: { email: 'you@example.com' } }),
    ),
  },
  responses: { 202: { description: 'Accepted; a link is emailed' }, ...problems(400, 413, 415, 429) },
});

const verify = createRoute({
  operationId: 'verifySignInLink',
  security: [],
  method: 'post',
  path: '/verify',
  tags: ['auth'],
  summary: 'Redeem a sign-in link; creates the account if needed',
  request: {
    body: jsonBody(
      z
        .object({ token: z.string().min(1).max(4096), name: NameSchema.optional() })
        .strict()
        .openapi({ example: { token: '<the token from the emailed link>', name: 'Ada Lovelace' } }),
    ),
  },
  responses: {
    200: jsonResponse(z.object({ user: UserSchema, session_token: z.string() }), 'Signed in'),
    ...problems(400, 410, 413, 415),
  },
});

const signOut = createRoute({
  operationId: 'signOut',
  method: 'post',
  path: '/sign-out',
  tags: ['auth'],
  summary:
    'End the current session, or with `{"all": true}` sign out everywhere: every session ends, every API token is revoked and every unused sign-in link stops working',
  security: bearer,
  middleware: [requireUser],
  request: {
    body: jsonBody(
      z
        .object({ all: z.boolean().optional() })
        .strict()
        .openapi({ example: { all: true } }),
      false,
    ),
  },
  responses: { 204: { description: 'Signed out' }, ...problems(400, 401, 413, 415) },
});

export const authRoutes = createRouter()
  .openapi(emailLink, async (c) => {
    const { outboxIds } = await sendSignInLink(
      c.env,
      c.var.db,
      normalizeEmail(c.req.valid('json').email),
      Date.now(),
      clientIp(c.req.header('CF-Connecting-IP')),
    );
    c.executionCtx.waitUntil(handOff(c.env, outboxIds));
    return c.body(null, 202);
  })
  .openapi(verify, async (c) => {
    const { token, name } = c.req.valid('json');
    const { user, sessionToken } = await redeemSignInLink(c.env, c.var.db, token, name, Date.now(), clientInfo(c));
    setSessionCookie(c, sessionToken);
    return c.json({ user, session_token: sessionToken }, 200);
  })
  .openapi(signOut, async (c) => {
    const user = currentUser(c);
    if (user.via !== 'session') {
      throw new ApiError(
        'validation_failed',
        'This request is authenticated with a personal API token, which sign-out cannot end. Delete the token from a signed-in session instead.',
      );
    }
    if (c.req.valid('json')?.all) await endAllSessions(c.var.db, user.id, Date.now());
    else await endSession(c.var.db, user.credentialId);
    clearSessionCookie(c);
    return c.body(null, 204);
  });
