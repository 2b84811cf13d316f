import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../env';
import { bearer, createRouter, jsonBody, jsonResponse, OrgParams, problems } from '../lib/openapi';
import { actorOf } from '../lib/request';
import { currentMembership, currentUser, requireOrgMember } from '../auth/auth.middleware';
import { requireManager } from '../organizations/organizations.store';
import { ApiError } from '../errors';
import { handOffWebhooks } from '../delivery/producer';
import {
  AttemptParams,
  CreateWebhookBody,
  CreatedWebhookSchema,
  DeliveriesQuery,
  DeliveryAttemptSchema,
  SecretSchema,
  UpdateWebhookBody,
  WebhookParams,
  WebhookSchema,
} from './webhooks.schemas';
import { findEndpoint, listAttempts, listEndpoints, toWebhookResource } from './webhooks.store';
import {
  createEndpoint,
  deleteEndpoint,
  redeliver,
  rotateSecret,
  sendTestEvent,
  updateEndpoint,
} from './webhooks.service';

/** Owners and admins only, checked before the body is validated (a viewer gets 403, not 400). */
const requireWebhookManager = createMiddleware<AppEnv>(async (c, next) => {
  requireManager(currentMembership(c).role);
  await next();
});
const common = { tags: ['webhooks'], security: bearer, middleware: [requireOrgMember, requireWebhookManager] };
const base = '/{org}/webhooks';

/** Owners and admins only (403 for other members; non-members got 404 from `requireOrgMember`). */
function managerCtx(c: Context<AppEnv>) {
  const { org, role } = currentMembership(c);
  requireManager(role);
  return { env: c.env, db: c.var.db, organizationId: org.id, actor: actorOf(c, currentUser(c).id), now: Date.now() };
}

async function endpointOr404(c: Context<AppEnv>, organizationId: string, id: string) {
  const row = await findEndpoint(c.var.db, organizationId, id);
  if (!row) throw new ApiError('not_found', 'No such webhook endpoint in this organization.');
  return row;
}

const create = createRoute({
  ...common,
  method: 'post',
  path: base,
  operationId: 'createWebhook',
  summary: 'Register a webhook endpoint (the secret is shown once)',
  request: { params: OrgParams, body: jsonBody(CreateWebhookBody) },
  responses: { 201: jsonResponse(CreatedWebhookSchema, 'Created'), ...problems(400, 401, 403, 404, 413, 415) },
});
const list = createRoute({
  ...common,
  method: 'get',
  path: base,
  operationId: 'listWebhooks',
  summary: "The organization's webhook endpoints (no secrets)",
  request: { params: OrgParams },
  responses: { 200: jsonResponse(z.object({ data: z.array(WebhookSchema) }), 'Endpoints'), ...problems(401, 403, 404) },
});
const get = createRoute({
  ...common,
  method: 'get',
  path: `${base}/{id}`,
  operationId: 'getWebhook',
  summary: 'One webhook endpoint',
  request: { params: WebhookParams },
  responses: { 200: jsonResponse(WebhookSchema, 'The endpoint'), ...problems(401, 403, 404) },
});
const update = createRoute({
  ...common,
  method: 'patch',
  path: `${base}/{id}`,
  operationId: 'updateWebhook',
  summary: 'Change url, events, enabled or description',
  request: { params: WebhookParams, body: jsonBody(UpdateWebhookBody) },
  responses: { 200: jsonResponse(WebhookSchema, 'Updated'), ...problems(400, 401, 403, 404, 413, 415) },
});
const remove = createRoute({
  ...common,
  method: 'delete',
  path: `${base}/{id}`,
  operationId: 'deleteWebhook',
  summary: 'Delete an endpoint; its queued deliveries are dropped',
  request: { params: WebhookParams },
  responses: { 204: { description: 'Deleted' }, ...problems(401, 403, 404) },
});
const rotate = createRoute({
  ...common,
  method: 'post',
  path: `${base}/{id}/rotate-secret`,
  operationId: 'rotateWebhookSecret',
  summary: 'A new secret; the old one also signs for 24 hours',
  request: { params: WebhookParams },
  responses: { 200: jsonResponse(SecretSchema, 'The new secret (shown once)'), ...problems(401, 403, 404) },
});
const test = createRoute({
  ...common,
  method: 'post',
  path: `${base}/{id}/test`,
  operationId: 'testWebhook',
  summary:
    'Send a webhook.test event to this endpoint (10 a minute per endpoint, 60 per organization, with redeliveries)',
  request: { params: WebhookParams },
  responses: {
    202: jsonResponse(z.object({ webhook_id: z.string() }), 'Queued'),
    ...problems(401, 403, 404, 409, 429),
  },
});
const deliveries = createRoute({
  ...common,
  method: 'get',
  path: `${base}/{id}/deliveries`,
  operationId: 'listWebhookDeliveries',
  summary: "The endpoint's delivery attempts, newest first",
  request: { params: WebhookParams, query: DeliveriesQuery },
  responses: {
    200: jsonResponse(z.object({ data: z.array(DeliveryAttemptSchema), next_cursor: z.string().nullable() }), 'A page'),
    ...problems(400, 401, 403, 404),
  },
});
const retry = createRoute({
  ...common,
  method: 'post',
  path: `${base}/{id}/deliveries/{attempt_id}/redeliver`,
  operationId: 'redeliverWebhook',
  summary: "Send a logged attempt's message again (same webhook-id; limited with test events)",
  request: { params: AttemptParams },
  responses: { 202: jsonResponse(z.object({ webhook_id: z.string() }), 'Queued'), ...problems(401, 403, 404, 429) },
});

export const webhookRoutes = createRouter()
  .openapi(create, async (c) => {
    const ctx = managerCtx(c);
    const row = await createEndpoint(ctx, c.req.valid('json'));
    return c.json({ ...toWebhookResource(row), secret: row.secret }, 201);
  })
  .openapi(list, async (c) => {
    const ctx = managerCtx(c);
    return c.json({ data: (await listEndpoints(ctx.db, ctx.organizationId)).map(toWebhookResource) }, 200);
  })
  .openapi(get, async (c) => {
    const ctx = managerCtx(c);
    return c.json(toWebhookResource(await endpointOr404(c, ctx.organizationId, c.req.valid('param').id)), 200);
  })
  .openapi(update, async (c) => {
    const ctx = managerCtx(c);
    return c.json(toWebhookResource(await updateEndpoint(ctx, c.req.valid('param').id, c.req.valid('json'))), 200);
  })
  .openapi(remove, async (c) => {
    const ctx = managerCtx(c);
    await deleteEndpoint(ctx, c.req.valid('param').id);
    return c.body(null, 204);
  })
  .openapi(rotate, async (c) => {
    const ctx = managerCtx(c);
    return c.json({ secret: await rotateSecret(ctx, c.req.valid('param').id) }, 200);
  })
  .openapi(test, async (c) => {
    const ctx = managerCtx(c);
    const id = await sendTestEvent(ctx, c.req.valid('param').id);
    c.executionCtx.waitUntil(handOffWebhooks(c.env, [id]));
    return c.json({ webhook_id: id }, 202);
  })
  .openapi(deliveries, async (c) => {
    const ctx = managerCtx(c);
    const endpoint = await endpointOr404(c, ctx.organizationId, c.req.valid('param').id);
    const q = c.req.valid('query');
    return c.json(await listAttempts(ctx.db, endpoint.id, { limit: q.limit ?? 50, cursor: q.cursor }), 200);
  })
  .openapi(retry, async (c) => {
    const ctx = managerCtx(c);
    const params = c.req.valid('param');
    const id = await redeliver(ctx, params.id, params.attempt_id);
    c.executionCtx.waitUntil(handOffWebhooks(c.env, [id]));
    return c.json({ webhook_id: id }, 202);
  });
