import { createRoute } from '@hono/zod-openapi';
import { ApiError, unwrap } from '../errors';
import { OrgParams, bearer, createRouter, jsonBody, jsonResponse, problems } from '../lib/openapi';
import { coordinatorFor } from '../lib/coordinator';
import { currentMembership, currentUser, requireOrgMember, requireUser } from '../auth/auth.middleware';
import { isManager } from '../lib/roles';
import {
  coordinatorOf,
  credentialPresented,
  nearestFirst,
  requireLiveCredential,
  writeAccess,
  writeRequest,
  written,
} from '../writes';
import { listJoinRequests, listMyJoinRequests, organizationOfRequest } from './requests.store';
import {
  ApproveBody,
  ApprovedSchema,
  JoinRequestListSchema,
  JoinRequestParams,
  JoinRequestSchema,
  ListQuery,
  MyJoinRequestListSchema,
  MyJoinRequestParams,
  RejectBody,
} from './requests.schemas';

const tags = ['join-requests'];
/** Reads: members only (404 otherwise), then owners and admins (403 otherwise). */
const reads = { tags, security: bearer, middleware: [requireOrgMember] };
/** Writes: the coordinator authenticates and authorizes (SPEC §19). */
const writes = { tags, security: bearer, middleware: [writeAccess] };

const list = createRoute({
  operationId: 'listJoinRequests',
  ...reads,
  method: 'get',
  path: '/{org}/join-requests',
  summary: 'Join requests, newest first (owners and admins)',
  description: '`status` filters (`pending` for the ones waiting for a decision). `limit` 1–100, default 20.',
  request: { params: OrgParams, query: ListQuery },
  responses: { 200: jsonResponse(JoinRequestListSchema, 'A page'), ...problems(400, 401, 403, 404) },
});

const approve = createRoute({
  operationId: 'approveJoinRequest',
  ...writes,
  method: 'post',
  path: '/{org}/join-requests/{id}/approve',
  summary: 'Approve a pending join request: the requester becomes a member and is emailed',
  description:
    "Grants `role`, or the request's role when omitted; an admin cannot grant `owner` or `admin` (403). Seats apply " +
    '(409 `seat_limit`, the request stays pending), and so do the allowed email domains (422). A requester who is ' +
    'already a member gets 409 `already_member`, and their request is closed (withdrawn). Not pending: 409 `invalid_state`.',
  request: { params: JoinRequestParams, body: jsonBody(ApproveBody, false) },
  responses: {
    200: jsonResponse(ApprovedSchema, 'Approved: the request and the new member'),
    ...problems(400, 401, 403, 404, 409, 413, 415, 422),
  },
});

const reject = createRoute({
  operationId: 'rejectJoinRequest',
  ...writes,
  method: 'post',
  path: '/{org}/join-requests/{id}/reject',
  summary: 'Reject a pending join request; the requester is emailed (with the reason, if given)',
  request: { params: JoinRequestParams, body: jsonBody(RejectBody, false) },
  responses: { 200: jsonResponse(JoinRequestSchema, 'Rejected'), ...problems(400, 401, 403, 404, 409, 413, 415) },
});

const mine = createRoute({
  operationId: 'listMyJoinRequests',
  tags,
  security: bearer,
  middleware: [requireUser],
  method: 'get',
  path: '/join-requests',
  summary: "The signed-in account's own join requests across organizations, newest first",
  description: 'Each with the organization it asks to join (`organization`: id, name, slug).',
  request: { query: ListQuery },
  responses: { 200: jsonResponse(MyJoinRequestListSchema, 'A page'), ...problems(400, 401) },
});

const withdraw = createRoute({
  operationId: 'withdrawMyJoinRequest',
  tags,
  security: bearer,
  middleware: [credentialPresented],
  method: 'delete',
  path: '/join-requests/{id}',
  summary: 'Withdraw your own pending join request',
  description: "Someone else's request is 404, as an unknown one; a request no longer pending is 409 `invalid_state`.",
  request: { params: MyJoinRequestParams },
  responses: { 204: { description: 'Withdrawn' }, ...problems(400, 401, 404, 409) },
});

export const joinRequestRoutes = createRouter()
  .openapi(list, async (c) => {
    const { org, role } = currentMembership(c);
    if (!isManager(role)) throw new ApiError('forbidden', 'Only owners and admins can see join requests.');
    const q = c.req.valid('query');
    return c.json(
      await listJoinRequests(c.var.db, org.id, { status: q.status, limit: q.limit ?? 20, cursor: q.cursor }),
      200,
    );
  })
  .openapi(approve, async (c) => {
    const { id } = c.req.valid('param');
    const { role } = c.req.valid('json');
    const req = writeRequest(c, c.get('orgId')!);
    return c.json(unwrap(written(c, await coordinatorOf(c).approveJoinRequest(req, { id, role }))), 200);
  })
  .openapi(reject, async (c) => {
    const { id } = c.req.valid('param');
    const { reason } = c.req.valid('json');
    const req = writeRequest(c, c.get('orgId')!);
    return c.json(unwrap(written(c, await coordinatorOf(c).rejectJoinRequest(req, { id, reason }))), 200);
  });

export const myJoinRequestRoutes = createRouter()
  .openapi(mine, async (c) => {
    const user = currentUser(c);
    const q = c.req.valid('query');
    const opts = { status: q.status, limit: q.limit ?? 20, cursor: q.cursor };
    return c.json(await listMyJoinRequests(c.var.db, user.id, opts), 200);
  })
  .openapi(withdraw, async (c) => {
    const { id } = c.req.valid('param');
    // The request's organization names its coordinator: the nearest replica first, then the primary
    // (a request filed a moment ago may not have reached the replica yet).
    const orgId = await nearestFirst(c, (db) => organizationOfRequest(db, id));
    if (!orgId) {
      await requireLiveCredential(c);
      throw new ApiError('not_found', 'No such join request.');
    }
    unwrap(written(c, await coordinatorFor(c.env, orgId).withdrawJoinRequest(writeRequest(c, orgId), { id })));
    return c.body(null, 204);
  });
