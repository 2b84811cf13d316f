import { createRoute, z } from '@hono/zod-openapi';
import { normalizeEmail } from '../lib/crypto';
import { EmailSchema, bearer, createRouter, jsonBody, jsonResponse, problems } from '../lib/openapi';
import { clearSessionCookie, currentUser, requireUser, setSessionCookie } from './auth.middleware';
import { redeemSignInLink, sendSignInLink } from './auth.service';
import { endSession } from './auth.store';
import { clientIp } from '../rate-limit/rate-limit';
import { UserSchema } from '../me/me.schemas';
import { handOff } from '../delivery/producer';

const emailLink = createRoute({
  method: 'post',
  path: '/email-link',
  tags: ['auth'],
  summary: 'Email a sign-in link (always 202)',
  request: { body: jsonBody(z.object({ email: EmailSchema }).strict()) },
  responses: { 202: { description: 'Accepted; a link is emailed' }, ...problems(400, 413, 415, 429) },
});

const verify = createRoute({
  method: 'post',
  path: '/verify',
  tags: ['auth'],
  summary: 'Redeem a sign-in link; creates the account if needed',
  request: {
    body: jsonBody(z.object({ token: z.string().min(1).max(4096), name: z.string().trim().min(1).max(100).optional() }).strict()),
  },
  responses: {
    200: jsonResponse(z.object({ user: UserSchema, session_token: z.string() }), 'Signed in'),
    ...problems(400, 410, 413, 415),
  },
});

const signOut = createRoute({
  method: 'post',
  path: '/sign-out',
  tags: ['auth'],
  summary: 'End the current session',
  security: bearer,
  middleware: [requireUser],
  responses: { 204: { description: 'Signed out' }, ...problems(401) },
});

export const authRoutes = createRouter()
  .openapi(emailLink, async (c) => {
    const { outboxId } = await sendSignInLink(c.env, c.var.db, normalizeEmail(c.req.valid('json').email), Date.now(), clientIp(c.req.header('CF-Connecting-IP')));
    c.executionCtx.waitUntil(handOff(c.env, [outboxId]));
    return c.body(null, 202);
  })
  .openapi(verify, async (c) => {
    const { token, name } = c.req.valid('json');
    const { user, sessionToken } = await redeemSignInLink(c.env, c.var.db, token, name, Date.now());
    setSessionCookie(c, sessionToken);
    return c.json({ user, session_token: sessionToken }, 200);
  })
  .openapi(signOut, async (c) => {
    const user = currentUser(c);
    if (user.via === 'session') await endSession(c.var.db, user.credentialId);
    clearSessionCookie(c);
    return c.body(null, 204);
  });
