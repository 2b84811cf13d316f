import { createRoute, z } from '@hono/zod-openapi';
import { and, desc, eq } from 'drizzle-orm';
import { apiTokens } from '../db/schema';
import { ApiError } from '../errors';
import { newSecret, sha256Hex } from '../lib/crypto';
import { newId } from '../lib/ids';
import { Id, bearer, createRouter, jsonBody, jsonResponse, problems } from '../lib/openapi';
import { API_TOKEN_PREFIX } from '../auth/auth.store';
import { currentUser, requireUser } from '../auth/auth.middleware';
import { organizationsOf } from '../organizations/organizations.store';
import { ApiTokenSchema, CreateApiTokenBody, CreatedApiTokenSchema, MeSchema } from './me.schemas';

const common = { tags: ['me'], security: bearer, middleware: [requireUser] };

const getMe = createRoute({
  ...common,
  method: 'get',
  path: '/',
  summary: 'The signed-in user and their organizations',
  responses: { 200: jsonResponse(MeSchema, 'The user'), ...problems(401) },
});

const createToken = createRoute({
  ...common,
  method: 'post',
  path: '/api-tokens',
  summary: 'Create a personal API token (shown once)',
  request: { body: jsonBody(CreateApiTokenBody) },
  responses: { 201: jsonResponse(CreatedApiTokenSchema, 'Created'), ...problems(400, 401, 413, 415) },
});

const listTokens = createRoute({
  ...common,
  method: 'get',
  path: '/api-tokens',
  summary: 'List personal API tokens (no secrets)',
  responses: { 200: jsonResponse(z.object({ data: z.array(ApiTokenSchema) }), 'Tokens'), ...problems(401) },
});

const deleteToken = createRoute({
  ...common,
  method: 'delete',
  path: '/api-tokens/{id}',
  summary: 'Revoke a personal API token',
  request: { params: z.object({ id: Id }) },
  responses: { 204: { description: 'Revoked' }, ...problems(401, 404) },
});

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export const meRoutes = createRouter()
  .openapi(getMe, async (c) => {
    const user = currentUser(c);
    const organizations = await organizationsOf(c.var.db, user.id);
    return c.json({ user: { id: user.id, email: user.email, name: user.name }, organizations }, 200);
  })
  .openapi(createToken, async (c) => {
    const user = currentUser(c);
    const now = Date.now();
    const token = newSecret(API_TOKEN_PREFIX);
    const row = { id: newId('tok'), userId: user.id, name: c.req.valid('json').name, tokenHash: await sha256Hex(token), createdAt: now };
    await c.var.db.insert(apiTokens).values(row);
    return c.json({ id: row.id, name: row.name, token, created_at: iso(now)! }, 201);
  })
  .openapi(listTokens, async (c) => {
    const user = currentUser(c);
    const rows = await c.var.db.select().from(apiTokens).where(eq(apiTokens.userId, user.id)).orderBy(desc(apiTokens.createdAt));
    return c.json({ data: rows.map((r) => ({ id: r.id, name: r.name, created_at: iso(r.createdAt)!, last_used_at: iso(r.lastUsedAt) })) }, 200);
  })
  .openapi(deleteToken, async (c) => {
    const user = currentUser(c);
    const deleted = await c.var.db
      .delete(apiTokens)
      .where(and(eq(apiTokens.id, c.req.valid('param').id), eq(apiTokens.userId, user.id)))
      .returning({ id: apiTokens.id });
    if (deleted.length === 0) throw new ApiError('not_found', 'No such API token.');
    return c.body(null, 204);
  });
