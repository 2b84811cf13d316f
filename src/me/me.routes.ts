import { createRoute, z } from '@hono/zod-openapi';
import { ApiError } from '../errors';
import { Id, bearer, createRouter, jsonBody, jsonResponse, problems } from '../lib/openapi';
import { endOwnSession, sessionsOf } from '../auth/auth.store';
import { apiTokensOf, createApiToken, revokeApiToken } from '../auth/api-tokens';
import { clearSessionCookie, currentUser, requireSession, requireUser } from '../auth/auth.middleware';
import { handOff } from '../delivery/producer';
import { localeFromAcceptLanguage } from '../i18n/messages';
import { organizationsOf } from '../organizations/organizations.store';
import { ApiTokenSchema, CreateApiTokenBody, CreatedApiTokenSchema, MeSchema, SessionSchema } from './me.schemas';

const common = { tags: ['me'], security: bearer, middleware: [requireUser] };
/** Credential management: a session only, never a personal API token (SPEC §14). */
const sessionOnly = { ...common, middleware: [requireUser, requireSession] };

const getMe = createRoute({
  operationId: 'getMe',
  ...common,
  method: 'get',
  path: '/',
  summary: 'The signed-in user and their organizations',
  responses: { 200: jsonResponse(MeSchema, 'The user'), ...problems(401) },
});

const createToken = createRoute({
  operationId: 'createApiToken',
  ...sessionOnly,
  method: 'post',
  path: '/api-tokens',
  summary:
    'Create a personal API token (shown once; sessions only). Expires after 90 days unless `expires_in_days` says otherwise; the account is emailed.',
  description:
    'At most 10 creations per hour per account (429 `rate_limited` with `Retry-After`) and 50 live (neither revoked nor expired) tokens per account (409 `api_token_limit`). A session that ended before the token was written gets 401, and no token.',
  request: { body: jsonBody(CreateApiTokenBody) },
  responses: { 201: jsonResponse(CreatedApiTokenSchema, 'Created'), ...problems(400, 401, 403, 409, 413, 415, 429) },
});

const listTokens = createRoute({
  operationId: 'listApiTokens',
  ...sessionOnly,
  method: 'get',
  path: '/api-tokens',
  summary: 'List personal API tokens (no secrets; sessions only)',
  responses: { 200: jsonResponse(z.object({ data: z.array(ApiTokenSchema) }), 'Tokens'), ...problems(401, 403) },
});

const deleteToken = createRoute({
  operationId: 'deleteApiToken',
  ...sessionOnly,
  method: 'delete',
  path: '/api-tokens/{id}',
  summary: 'Revoke a personal API token (sessions only)',
  request: { params: z.object({ id: Id }) },
  responses: { 204: { description: 'Revoked' }, ...problems(401, 403, 404) },
});

const listSessions = createRoute({
  operationId: 'listSessions',
  ...sessionOnly,
  method: 'get',
  path: '/sessions',
  summary: "The signed-in user's live sessions, newest first (sessions only)",
  responses: { 200: jsonResponse(z.object({ data: z.array(SessionSchema) }), 'Sessions'), ...problems(401, 403) },
});

const deleteSession = createRoute({
  operationId: 'deleteSession',
  ...sessionOnly,
  method: 'delete',
  path: '/sessions/{id}',
  summary: 'End one session, this one or another (sessions only)',
  request: { params: z.object({ id: Id }) },
  responses: { 204: { description: 'Ended' }, ...problems(401, 403, 404) },
});

export const meRoutes = createRouter()
  .openapi(getMe, async (c) => {
    const user = currentUser(c);
    const organizations = await organizationsOf(c.var.db, user.id);
    return c.json({ user: { id: user.id, email: user.email, name: user.name }, organizations }, 200);
  })
  .openapi(createToken, async (c) => {
    const user = currentUser(c);
    const body = c.req.valid('json');
    // The email about the new token speaks the creating browser's language (English follows it).
    const locale = localeFromAcceptLanguage(c.req.header('Accept-Language'));
    const created = await createApiToken(
      c.env,
      c.var.db,
      user,
      { name: body.name, expiresInDays: body.expires_in_days, locale },
      Date.now(),
    );
    c.executionCtx.waitUntil(handOff(c.env, [created.outboxId]));
    return c.json({ ...created.view, token: created.token }, 201);
  })
  .openapi(listTokens, async (c) => {
    const user = currentUser(c);
    return c.json({ data: await apiTokensOf(c.var.db, user.id) }, 200);
  })
  .openapi(deleteToken, async (c) => {
    const user = currentUser(c);
    if (!(await revokeApiToken(c.var.db, user.id, c.req.valid('param').id, Date.now())))
      throw new ApiError('not_found', 'No such API token.');
    return c.body(null, 204);
  })
  .openapi(listSessions, async (c) => {
    const user = currentUser(c);
    return c.json({ data: await sessionsOf(c.var.db, user.id, user.credentialId, Date.now()) }, 200);
  })
  .openapi(deleteSession, async (c) => {
    const user = currentUser(c);
    const { id } = c.req.valid('param');
    if (!(await endOwnSession(c.var.db, user.id, id))) throw new ApiError('not_found', 'No such session.');
    if (id === user.credentialId) clearSessionCookie(c);
    return c.body(null, 204);
  });
