import { createRoute } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../env';
import { ApiError, unwrap } from '../errors';
import { OrgParams, bearer, createRouter, jsonBody, jsonResponse, problems } from '../lib/openapi';
import { sha256Hex } from '../lib/crypto';
import { coordinatorFor } from '../lib/coordinator';
import { currentMembership, requireOrgMember } from '../auth/auth.middleware';
import { requireManager } from '../organizations/organizations.store';
import {
  coordinatorOf,
  credentialPresented,
  nearestFirst,
  requireLiveCredential,
  writeAccess,
  writeRequest,
  written,
} from '../writes';
import { linkResource, listLinks, organizationOfCode } from './links.store';
import type { LinkWithCode } from './links.service';
import {
  CodeParams,
  CreateLinkBody,
  InviteLinkListSchema,
  InviteLinkSchema,
  InviteLinkWithUrlSchema,
  JoinRequestedSchema,
  LINK_EXPIRES_IN_DAYS,
  LINK_MAX_USES,
  LinkListQuery,
  LinkParams,
  RedeemedSchema,
  UpdateLinkBody,
} from './links.schemas';

/*
 * Invite links (SPEC §16): owners and admins manage them under `/v1/organizations/{org}`; any
 * signed-in account redeems one at `POST /v1/join/{code}`. The code is a secret: it is in the
 * create and rotate answers only (never cached), and the request log names the route pattern,
 * never the path.
 */

const reads = { tags: ['invite-links'], security: bearer, middleware: [requireOrgMember] };
/** Writes: the coordinator authenticates and authorizes (SPEC §19). */
const writes = { tags: ['invite-links'], security: bearer, middleware: [writeAccess] };

const create = createRoute({
  operationId: 'createInviteLink',
  ...writes,
  method: 'post',
  path: '/{org}/invite-links',
  summary: 'Create an invite link (owners/admins; at most 10 live links)',
  description:
    '`url` is a secret, shown only here and on rotate. Live links (enabled, not expired, not used up) count against the limit of 10.',
  request: { params: OrgParams, body: jsonBody(CreateLinkBody) },
  responses: {
    201: jsonResponse(InviteLinkWithUrlSchema, 'Created; `url` is shown only now'),
    ...problems(400, 401, 403, 404, 409, 413, 415),
  },
});

const list = createRoute({
  operationId: 'listInviteLinks',
  ...reads,
  method: 'get',
  path: '/{org}/invite-links',
  summary: 'Invite links, newest first, without their URLs (deleted ones are not listed)',
  request: { params: OrgParams, query: LinkListQuery },
  responses: { 200: jsonResponse(InviteLinkListSchema, 'A page'), ...problems(400, 401, 403, 404) },
});

const get = createRoute({
  operationId: 'getInviteLink',
  ...reads,
  method: 'get',
  path: '/{org}/invite-links/{id}',
  summary: 'One invite link, without its URL',
  request: { params: LinkParams },
  responses: { 200: jsonResponse(InviteLinkSchema, 'The link'), ...problems(401, 403, 404) },
});

const update = createRoute({
  operationId: 'updateInviteLink',
  ...writes,
  method: 'patch',
  path: '/{org}/invite-links/{id}',
  summary: 'Enable or disable a link, or change its uses or expiry',
  description: 'Enabling a link again counts against the 10 live links and makes the caller its `created_by`.',
  request: { params: LinkParams, body: jsonBody(UpdateLinkBody) },
  responses: { 200: jsonResponse(InviteLinkSchema, 'Updated'), ...problems(400, 401, 403, 404, 409, 413, 415) },
});

const rotate = createRoute({
  operationId: 'rotateInviteLink',
  ...writes,
  method: 'post',
  path: '/{org}/invite-links/{id}/rotate',
  summary: 'A new URL for the link; the old one stops working at once',
  description: 'The caller becomes the link’s `created_by`.',
  request: { params: LinkParams },
  responses: {
    200: jsonResponse(InviteLinkWithUrlSchema, 'Rotated; the new `url` is shown only now'),
    ...problems(401, 403, 404),
  },
});

const remove = createRoute({
  operationId: 'deleteInviteLink',
  ...writes,
  method: 'delete',
  path: '/{org}/invite-links/{id}',
  summary: 'End a link (its URL stops working at once)',
  request: { params: LinkParams },
  responses: { 204: { description: 'Deleted' }, ...problems(401, 403, 404) },
});

const redeem = createRoute({
  operationId: 'redeemInviteLink',
  tags: ['invite-links'],
  security: bearer,
  middleware: [credentialPresented],
  method: 'post',
  path: '/{code}',
  summary: 'Join an organization through an invite link (signed in)',
  description:
    '200 as a member with the link’s role, or 202 with a join request when the link requires approval. ' +
    'A link that is disabled, expired, used up, rotated or deleted is 410 `invite_link_invalid`; an account redeems a link once (409 `invalid_state`).',
  request: { params: CodeParams },
  responses: {
    200: jsonResponse(RedeemedSchema, 'Joined'),
    202: jsonResponse(JoinRequestedSchema, 'Asked to join; an owner or admin decides'),
    ...problems(400, 401, 409, 410, 422, 429),
  },
});

/** Membership (404 otherwise, by the middleware) and rule 1 (403 for non-managers), for reads. */
function managerOf(c: Context<AppEnv>) {
  const { org, role } = currentMembership(c);
  requireManager(role);
  return org;
}

const linkUrl = (c: Context<AppEnv>, code: string) => `${c.env.APP_URL.replace(/\/+$/, '')}/join/${code}`;

/** The resource with its new URL, never cached. */
function withUrl(c: Context<AppEnv>, { resource, code }: LinkWithCode) {
  c.header('Cache-Control', 'no-store');
  return { ...resource, url: linkUrl(c, code) };
}

/** The SHA-256 of a code as stored, and the organization whose link it is (a replica first), or null. */
export async function organizationOfLink(c: Context<AppEnv>, code: string) {
  const codeHash = await sha256Hex(code);
  return { codeHash, orgId: await nearestFirst(c, (db) => organizationOfCode(db, codeHash)) };
}

const GONE = 'This invite link is no longer valid. Ask the organization for a new one.';

export const inviteLinkRoutes = createRouter()
  .openapi(create, async (c) => {
    const body = c.req.valid('json');
    const input = {
      role: body.role,
      maxUses: body.max_uses ?? LINK_MAX_USES.default,
      expiresInDays: body.expires_in_days ?? LINK_EXPIRES_IN_DAYS.default,
      requiresApproval: body.requires_approval ?? false,
    };
    const req = writeRequest(c, c.get('orgId')!);
    return c.json(withUrl(c, unwrap(written(c, await coordinatorOf(c).createInviteLink(req, input)))), 201);
  })
  .openapi(list, async (c) => {
    const org = managerOf(c);
    const q = c.req.valid('query');
    return c.json(await listLinks(c.var.db, org.id, { limit: q.limit ?? 20, cursor: q.cursor, now: Date.now() }), 200);
  })
  .openapi(get, async (c) => {
    const { id } = c.req.valid('param');
    const org = managerOf(c);
    const link = await linkResource(c.var.db, org.id, id, Date.now());
    if (!link) throw new ApiError('not_found', 'No such invite link in this organization.');
    return c.json(link, 200);
  })
  .openapi(update, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const input = { id, enabled: body.enabled, maxUses: body.max_uses, expiresInDays: body.expires_in_days };
    const req = writeRequest(c, c.get('orgId')!);
    return c.json(unwrap(written(c, await coordinatorOf(c).updateInviteLink(req, input))), 200);
  })
  .openapi(rotate, async (c) => {
    const { id } = c.req.valid('param');
    const req = writeRequest(c, c.get('orgId')!);
    return c.json(withUrl(c, unwrap(written(c, await coordinatorOf(c).rotateInviteLink(req, { id })))), 200);
  })
  .openapi(remove, async (c) => {
    const { id } = c.req.valid('param');
    const req = writeRequest(c, c.get('orgId')!);
    unwrap(written(c, await coordinatorOf(c).deleteInviteLink(req, { id })));
    return c.body(null, 204);
  });

export const joinRoutes = createRouter().openapi(redeem, async (c) => {
  const { codeHash, orgId } = await organizationOfLink(c, c.req.valid('param').code);
  if (!orgId) {
    // No such link: a dead credential still hears 401 first, as anywhere else.
    await requireLiveCredential(c);
    throw new ApiError('invite_link_invalid', GONE);
  }
  const outcome = unwrap(
    written(c, await coordinatorFor(c.env, orgId).redeemInviteLink(writeRequest(c, orgId), { codeHash })),
  );
  if ('requested' in outcome) return c.json(outcome.requested, 202);
  return c.json(outcome.joined, 200);
});
