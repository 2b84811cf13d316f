import { createRoute, z } from '@hono/zod-openapi';
import { normalizeEmail, sha256Hex } from '../lib/crypto';
import type { Context } from 'hono';
import type { AppEnv } from '../env';
import { unwrap } from '../errors';
import { OrgParams, bearer, createRouter, jsonBody, jsonResponse, problems, validationError } from '../lib/openapi';
import { actorOf } from '../lib/request';
import { currentMembership, currentUser, requireOrgMember } from '../auth/auth.middleware';
import { coordinator } from '../org-coordinator';
import { handOff, handOffAfter } from '../delivery/producer';
import { refusal } from './bulk.service';
import { requireManager } from '../organizations/organizations.store';
import { getInvitationResource, listInvitations } from './invitations.store';
import {
  CreateInvitationBody,
  InvitationListSchema,
  InvitationParams,
  InvitationSchema,
  ListQuery,
  ResendBody,
  UpdateInvitationBody,
  DEFAULT_EXPIRES_IN_DAYS,
  BulkInvitationsBody,
  BulkResultSchema,
} from './invitations.schemas';

const IdempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .regex(/^[\x21-\x7e]{1,255}$/, '1 to 255 visible ASCII characters')
    .optional()
    .openapi({ description: 'Same key and body within 24 hours replays the first result (no second email).' }),
});

const common = { tags: ['invitations'], security: bearer, middleware: [requireOrgMember] };

const create = createRoute({
  operationId: 'createInvitation',
  ...common,
  method: 'post',
  path: '/{org}/invitations',
  summary: 'Invite an email with a role; sends the email',
  request: { params: OrgParams, headers: IdempotencyHeaders, body: jsonBody(CreateInvitationBody) },
  responses: {
    201: jsonResponse(InvitationSchema, 'Created (or replayed for a repeated Idempotency-Key)'),
    ...problems(400, 401, 403, 404, 409, 413, 415, 422, 429),
  },
});

const bulk = createRoute({
  operationId: 'createInvitationsBulk',
  ...common,
  method: 'post',
  path: '/{org}/invitations/bulk',
  summary: 'Invite 1 to 50 emails at once; one result per row, in input order',
  description:
    'Each row is answered exactly as a single create would have answered it, in order (a repeated email meets the invitation its first row created). ' +
    'The pending limit holds exactly. `Idempotency-Key` covers the whole request.',
  request: { params: OrgParams, headers: IdempotencyHeaders, body: jsonBody(BulkInvitationsBody) },
  responses: { 200: jsonResponse(BulkResultSchema, 'Per-row results'), ...problems(400, 401, 403, 404, 413, 415, 422) },
});

const list = createRoute({
  operationId: 'listInvitations',
  ...common,
  method: 'get',
  path: '/{org}/invitations',
  summary: 'Invitations, newest first, by effective status',
  request: { params: OrgParams, query: ListQuery },
  responses: { 200: jsonResponse(InvitationListSchema, 'A page'), ...problems(400, 401, 403, 404) },
});

const get = createRoute({
  operationId: 'getInvitation',
  ...common,
  method: 'get',
  path: '/{org}/invitations/{id}',
  summary: 'One invitation',
  request: { params: InvitationParams },
  responses: { 200: jsonResponse(InvitationSchema, 'The invitation'), ...problems(401, 403, 404) },
});

const patch = createRoute({
  operationId: 'updateInvitation',
  ...common,
  method: 'patch',
  path: '/{org}/invitations/{id}',
  summary: "Change a pending invitation's role",
  request: { params: InvitationParams, body: jsonBody(UpdateInvitationBody) },
  responses: { 200: jsonResponse(InvitationSchema, 'Updated'), ...problems(400, 401, 403, 404, 409, 413, 415) },
});

const resend = createRoute({
  operationId: 'resendInvitation',
  ...common,
  method: 'post',
  path: '/{org}/invitations/{id}/resend',
  summary: 'New link, new expiry, email sent again (pending or expired)',
  request: { params: InvitationParams, body: jsonBody(ResendBody, false) },
  responses: { 200: jsonResponse(InvitationSchema, 'Resent'), ...problems(400, 401, 403, 404, 409, 413, 415, 429) },
});

const revoke = createRoute({
  operationId: 'revokeInvitation',
  ...common,
  method: 'post',
  path: '/{org}/invitations/{id}/revoke',
  summary: 'Revoke a pending invitation, permanently',
  request: { params: InvitationParams },
  responses: { 200: jsonResponse(InvitationSchema, 'Revoked'), ...problems(401, 403, 404, 409) },
});

/** Membership (404 otherwise, by the middleware) and rule 1 (403 for non-managers). */
function managerContext(c: Context<AppEnv>) {
  const user = currentUser(c);
  const { org, role } = currentMembership(c);
  requireManager(role);
  const now = Date.now();
  return {
    org,
    now,
    call: { organizationId: org.id, actor: actorOf(c, user.id), now },
    coordinator: coordinator(c, org.id),
  };
}

export const invitationRoutes = createRouter()
  .openapi(create, async (c) => {
    const { org, now, call, coordinator } = managerContext(c);
    const body = c.req.valid('json');
    const key = c.req.valid('header')['idempotency-key'];
    const input = {
      email: normalizeEmail(body.email),
      role: body.role,
      message: body.message ?? null,
      expiresInDays: body.expires_in_days ?? DEFAULT_EXPIRES_IN_DAYS,
      locale: body.locale,
    };
    const idempotency = key ? { key, requestHash: await sha256Hex(JSON.stringify(input)) } : undefined;
    const user = currentUser(c);
    const { id, replayed, resource } = unwrap(
      handOffAfter(
        c.executionCtx,
        c.env,
        await coordinator.createInvitation(call, {
          ...input,
          idempotency,
          inviter: { name: user.name, email: user.email },
        }),
      ),
    );
    if (replayed) c.header('Idempotent-Replayed', 'true');
    return c.json(resource ?? (await getInvitationResource(c.var.db, org.id, id, now)), 201);
  })
  .openapi(bulk, async (c) => {
    const { call, coordinator } = managerContext(c);
    const key = c.req.valid('header')['idempotency-key'];
    // Each row is validated on its own: a bad row is its own 400, never the whole request's.
    const rows = c.req.valid('json').invitations.map((raw, index) => {
      const parsed = CreateInvitationBody.safeParse(raw);
      if (!parsed.success) {
        const err = validationError(parsed.error);
        const email =
          typeof (raw as { email?: unknown }).email === 'string' ? String((raw as { email: string }).email) : '';
        return { invalid: refusal(index, email, 'validation_failed', err.detail, err.errors) };
      }
      const b = parsed.data;
      return {
        email: normalizeEmail(b.email),
        role: b.role,
        message: b.message ?? null,
        expiresInDays: b.expires_in_days ?? DEFAULT_EXPIRES_IN_DAYS,
        locale: b.locale,
      };
    });
    const idempotency = key ? { key, requestHash: await sha256Hex(JSON.stringify(['bulk', rows])) } : undefined;
    const user = currentUser(c);
    const outcome = await coordinator.createInvitationsBulk(call, {
      rows,
      idempotency,
      inviter: { name: user.name, email: user.email },
    });
    const { results, outboxIds, replayed } = unwrap(outcome);
    if (outboxIds.length) c.executionCtx.waitUntil(handOff(c.env, outboxIds));
    if (replayed) c.header('Idempotent-Replayed', 'true');
    return c.json({ results }, 200);
  })
  .openapi(list, async (c) => {
    const { org, now } = managerContext(c);
    const q = c.req.valid('query');
    return c.json(
      await listInvitations(c.var.db, org.id, { status: q.status, limit: q.limit ?? 20, cursor: q.cursor, now }),
      200,
    );
  })
  .openapi(get, async (c) => {
    const params = c.req.valid('param');
    const { org, now } = managerContext(c);
    return c.json(await getInvitationResource(c.var.db, org.id, params.id, now), 200);
  })
  .openapi(patch, async (c) => {
    const params = c.req.valid('param');
    const { org, now, call, coordinator } = managerContext(c);
    unwrap(await coordinator.updateInvitationRole(call, { id: params.id, role: c.req.valid('json').role }));
    return c.json(await getInvitationResource(c.var.db, org.id, params.id, now), 200);
  })
  .openapi(resend, async (c) => {
    const params = c.req.valid('param');
    const { org, now, call, coordinator } = managerContext(c);
    unwrap(
      handOffAfter(
        c.executionCtx,
        c.env,
        await coordinator.resendInvitation(call, {
          id: params.id,
          expiresInDays: c.req.valid('json').expires_in_days,
          locale: c.req.valid('json').locale,
        }),
      ),
    );
    return c.json(await getInvitationResource(c.var.db, org.id, params.id, now), 200);
  })
  .openapi(revoke, async (c) => {
    const params = c.req.valid('param');
    const { org, now, call, coordinator } = managerContext(c);
    unwrap(await coordinator.revokeInvitation(call, { id: params.id }));
    return c.json(await getInvitationResource(c.var.db, org.id, params.id, now), 200);
  });
