import { createRoute } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../env';
import { ApiError, unwrap } from '../errors';
import { bearer, createRouter, jsonResponse, problems } from '../lib/openapi';
import { coordinatorFor } from '../lib/coordinator';
import { currentUser, requireUser } from '../auth/auth.middleware';
import { credentialPresented, nearestFirst, requireLiveCredential, writeRequest, written } from '../writes';
import { listMyInvitations, organizationOfInvitation } from './inbox.store';
import { DeclinedSchema, InboxAcceptedSchema, InboxParams, InboxSchema } from './invitations.schemas';

/*
 * The invitee's inbox (SPEC §17), under `/v1/me`: the live pending invitations addressed to the
 * signed-in account's email, across organizations, accepted or declined without the link (the
 * session proves the email). An invitation addressed to anyone else is 404, as an unknown one.
 */

const tags = ['me'];

/**
 * A write whose organization is not in the path: 401 without a credential (never a coordinator
 * call for it). The coordinator authenticates it.
 */

const list = createRoute({
  operationId: 'listMyInvitations',
  tags,
  security: bearer,
  middleware: [requireUser],
  method: 'get',
  path: '/invitations',
  summary: 'Invitations for you: the live pending invitations to your email, across organizations',
  description: `Soonest expiry first, at most 100. No token is ever listed: accept or decline by id below.`,
  responses: { 200: jsonResponse(InboxSchema, 'Your invitations'), ...problems(401) },
});

const accept = createRoute({
  operationId: 'acceptMyInvitation',
  tags,
  security: bearer,
  middleware: [credentialPresented],
  method: 'post',
  path: '/invitations/{id}/accept',
  summary: 'Accept an invitation to your email from the inbox (no link needed)',
  description:
    'Joins exactly as the emailed link would, as the signed-in account. An invitation to another email, or an ' +
    'unknown one, is 404; one addressed to you that is no longer pending (accepted, declined, revoked, expired) ' +
    'is 410 `invitation_invalid`. An owner invitation past the owned-organization cap is 409 `organization_limit`.',
  request: { params: InboxParams },
  responses: { 200: jsonResponse(InboxAcceptedSchema, 'Joined'), ...problems(400, 401, 404, 409, 410) },
});

const decline = createRoute({
  operationId: 'declineMyInvitation',
  tags,
  security: bearer,
  middleware: [credentialPresented],
  method: 'post',
  path: '/invitations/{id}/decline',
  summary: 'Decline an invitation to your email from the inbox',
  description:
    'The invitation becomes `declined` (final; its link dies at once) and the inviter is emailed. Another ' +
    "email's invitation, or an unknown one, is 404; one no longer pending is 410 `invitation_invalid`.",
  request: { params: InboxParams },
  responses: { 200: jsonResponse(DeclinedSchema, 'Declined'), ...problems(400, 401, 404, 410) },
});

/**
 * The coordinator of the invitation's organization: the nearest replica first, then the primary
 * (an invitation sent a moment ago may not have reached the replica yet). 401 for a dead
 * credential, then 404, when there is no such invitation.
 */
async function organizationFor(c: Context<AppEnv>, id: string) {
  const orgId = await nearestFirst(c, (db) => organizationOfInvitation(db, id));
  if (orgId) return orgId;
  await requireLiveCredential(c);
  throw new ApiError('not_found', 'No such invitation for you.');
}

export const inboxRoutes = createRouter()
  .openapi(list, async (c) => {
    const user = currentUser(c);
    return c.json({ data: await listMyInvitations(c.var.db, user.email, Date.now()) }, 200);
  })
  .openapi(accept, async (c) => {
    const { id } = c.req.valid('param');
    const orgId = await organizationFor(c, id);
    const outcome = await coordinatorFor(c.env, orgId).acceptMyInvitation(writeRequest(c, orgId), { invitationId: id });
    // The caller is signed in already: never a session token or a sign-in link here.
    const { organization, role, user } = unwrap(written(c, outcome));
    return c.json({ organization, role, user }, 200);
  })
  .openapi(decline, async (c) => {
    const { id } = c.req.valid('param');
    const orgId = await organizationFor(c, id);
    const outcome = await coordinatorFor(c.env, orgId).declineMyInvitation(writeRequest(c, orgId), {
      invitationId: id,
    });
    unwrap(written(c, outcome));
    return c.json({ declined: true as const }, 200);
  });
