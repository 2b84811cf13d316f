import { createRoute, z } from '@hono/zod-openapi';
import { and, desc, eq } from 'drizzle-orm';
import { apiTokens } from '../db/schema';
import { ApiError } from '../errors';
import { newSecret, sha256Hex } from '../lib/crypto';
import { newId } from '../lib/ids';
import { Id, bearer, createRouter, jsonBody, jsonResponse, problems } from '../lib/openapi';
import { API_TOKEN_PREFIX, endOwnSession, sessionsOf } from '../auth/auth.store';
import { clearSessionCookie, currentUser, requireSession, requireUser } from '../auth/auth.middleware';
import { DAY_MS } from '../invitations/invitations.service';
import { organizationsOf } from '../organizations/organizations.store';
import { ApiTokenSchema, CreateApiTokenBody, CreatedApiTokenSchema, MeSchema, SessionSchema } from './me.schemas';
import { iso } from '../lib/time';

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
  summary: 'Create a personal API token (shown once; sessions only)',
  request: { body: jsonBody(CreateApiTokenBody) },
  responses: { 201: jsonResponse(CreatedApiTokenSchema, 'Created'), ...problems(400, 401, 403, 413, 415) },
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
    const now = Date.now();
    const body = c.req.valid('json');
    const token = newSecret(API_TOKEN_PREFIX);
    const expiresAt = body.expires_in_days ? now + body.expires_in_days * DAY_MS : null;
    const row = { id: newId('tok'), userId: user.id, name: body.name, tokenHash: await sha256Hex(token), createdAt: now, expiresAt };
    await c.var.db.insert(apiTokens).values(row);
    return c.json({ id: row.id, name: row.name, token, created_at: iso(now)!, last_used_at: null, expires_at: iso(expiresAt) }, 201);
  })
  .openapi(listTokens, async (c) => {
    const user = currentUser(c);
    const rows = await c.var.db.select().from(apiTokens).where(eq(apiTokens.userId, user.id)).orderBy(desc(apiTokens.createdAt));
    return c.json(
      { data: rows.map((r) => ({ id: r.id, name: r.name, created_at: iso(r.createdAt)!, last_used_at: iso(r.lastUsedAt), expires_at: iso(r.expiresAt) })) },
      200,
    );
  })
  .openapi(deleteToken, async (c) => {
    const user = currentUser(c);
    const deleted = await c.var.db
      .delete(apiTokens)
      .where(and(eq(apiTokens.id, c.req.valid('param').id), eq(apiTokens.userId, user.id)))
      .returning({ id: apiTokens.id });
    if (deleted.length === 0) throw new ApiError('not_found', 'No such API token.');
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
