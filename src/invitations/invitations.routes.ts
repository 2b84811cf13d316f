import { createRoute, z } from '@hono/zod-openapi';
import { normalizeEmail, sha256Hex } from '../lib/crypto';
import type { Context } from 'hono';
import type { AppEnv } from '../env';
import { unwrap } from '../errors';
import { OrgParams, bearer, createRouter, jsonBody, jsonResponse, problems, validationError } from '../lib/openapi';
import { currentMembership, requireOrgMember, requireOrgMemberReading, type ReadAhead } from '../auth/auth.middleware';
import { coordinatorOf, writeAccess, writeRequest, written } from '../writes';
import { refusal } from './bulk.service';
import { requireManager } from '../organizations/organizations.store';
import { getInvitationResource, listInvitations, listPage, listStatement } from './invitations.store';
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
/** Writes: the coordinator authenticates and authorizes (SPEC §19). */
const writes = { tags: ['invitations'], security: bearer, middleware: [writeAccess] };

const create = createRoute({
  operationId: 'createInvitation',
  ...writes,
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
  ...writes,
  method: 'post',
  path: '/{org}/invitations/bulk',
  summary: 'Invite 1 to 50 emails at once; one result per row, in input order',
  description:
    'Each row is answered exactly as a single create would have answered it, in order (a repeated email meets the invitation its first row created). ' +
    'The pending limit holds exactly. `Idempotency-Key` covers the whole request.',
  request: { params: OrgParams, headers: IdempotencyHeaders, body: jsonBody(BulkInvitationsBody) },
  responses: { 200: jsonResponse(BulkResultSchema, 'Per-row results'), ...problems(400, 401, 403, 404, 413, 415, 422) },
});

/**
 * The page, read in the same D1 round trip as the caller's access: from the query as `ListQuery`
 * reads it. Skipped when the query or its cursor is invalid (the route answers those as before).
 */
const listReadAhead: ReadAhead = (c, client, orgRef, now) => {
  const q = ListQuery.safeParse(c.req.query());
  if (!q.success) return null;
  try {
    return listStatement(client, orgRef, {
      status: q.data.status,
      limit: q.data.limit ?? 20,
      cursor: q.data.cursor,
      now,
    });
  } catch {
    return null;
  }
};

const list = createRoute({
  operationId: 'listInvitations',
  ...common,
  middleware: [requireOrgMemberReading(listReadAhead)],
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
  ...writes,
  method: 'patch',
  path: '/{org}/invitations/{id}',
  summary: "Change a pending invitation's role",
  request: { params: InvitationParams, body: jsonBody(UpdateInvitationBody) },
  responses: { 200: jsonResponse(InvitationSchema, 'Updated'), ...problems(400, 401, 403, 404, 409, 413, 415) },
});

const resend = createRoute({
  operationId: 'resendInvitation',
  ...writes,
  method: 'post',
  path: '/{org}/invitations/{id}/resend',
  summary: 'New link, new expiry, email sent again (pending or expired)',
  request: { params: InvitationParams, body: jsonBody(ResendBody, false) },
  responses: { 200: jsonResponse(InvitationSchema, 'Resent'), ...problems(400, 401, 403, 404, 409, 413, 415, 429) },
});

const revoke = createRoute({
  operationId: 'revokeInvitation',
  ...writes,
  method: 'post',
  path: '/{org}/invitations/{id}/revoke',
  summary: 'Revoke a pending invitation, permanently',
  request: { params: InvitationParams },
  responses: { 200: jsonResponse(InvitationSchema, 'Revoked'), ...problems(401, 403, 404, 409) },
});

/** Membership (404 otherwise, by the middleware) and rule 1 (403 for non-managers), for reads. */
function readerContext(c: Context<AppEnv>) {
  const { org, role } = currentMembership(c);
  requireManager(role);
  return { org, now: Date.now() };
}

export const invitationRoutes = createRouter()
  .openapi(create, async (c) => {
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
    const req = writeRequest(c, c.get('orgId')!);
    const { replayed, resource } = unwrap(
      written(c, await coordinatorOf(c).createInvitation(req, { ...input, idempotency })),
    );
    if (replayed) c.header('Idempotent-Replayed', 'true');
    return c.json(resource, 201);
  })
  .openapi(bulk, async (c) => {
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
    const req = writeRequest(c, c.get('orgId')!);
    const { results, replayed } = unwrap(
      written(c, await coordinatorOf(c).createInvitationsBulk(req, { rows, idempotency })),
    );
    if (replayed) c.header('Idempotent-Replayed', 'true');
    return c.json({ results }, 200);
  })
  .openapi(list, async (c) => {
    const { org, now } = readerContext(c);
    const q = c.req.valid('query');
    // The read-ahead's rows, once the caller is known to manage `org` (at the `now` they were read at).
    const ahead = c.var.readAhead;
    const opts = { status: q.status, limit: q.limit ?? 20, cursor: q.cursor, now: ahead?.now ?? now };
    return c.json(ahead ? listPage(ahead.rows, opts) : await listInvitations(c.var.db, org.id, opts), 200);
  })
  .openapi(get, async (c) => {
    const params = c.req.valid('param');
    const { org, now } = readerContext(c);
    return c.json(await getInvitationResource(c.var.db, org.id, params.id, now), 200);
  })
  .openapi(patch, async (c) => {
    const { id } = c.req.valid('param');
    const req = writeRequest(c, c.get('orgId')!);
    const role = c.req.valid('json').role;
    return c.json(unwrap(written(c, await coordinatorOf(c).updateInvitationRole(req, { id, role }))).resource, 200);
  })
  .openapi(resend, async (c) => {
    const { id } = c.req.valid('param');
    const { expires_in_days: expiresInDays, locale } = c.req.valid('json');
    const req = writeRequest(c, c.get('orgId')!);
    const outcome = await coordinatorOf(c).resendInvitation(req, { id, expiresInDays, locale });
    return c.json(unwrap(written(c, outcome)).resource, 200);
  })
  .openapi(revoke, async (c) => {
    const { id } = c.req.valid('param');
    const req = writeRequest(c, c.get('orgId')!);
    return c.json(unwrap(written(c, await coordinatorOf(c).revokeInvitation(req, { id }))).resource, 200);
  });
