import { createRoute } from '@hono/zod-openapi';
import { ApiError, unwrap } from '../errors';
import { openSession } from '../db/session';
import { lookupTxt } from '../lib/doh';
import { OrgParams, bearer, createRouter, jsonBody, jsonResponse, problems } from '../lib/openapi';
import {
  currentMembership,
  currentUser,
  presentedSecret,
  requireOrgMember,
  requireUser,
  resolveAccess,
} from '../auth/auth.middleware';
import { coordinatorOf, writeAccess, writeRequest, written } from '../writes';
import {
  AddDomainBody,
  DomainJoinedSchema,
  DomainListSchema,
  DomainParams,
  DomainSchema,
  SuggestionListSchema,
  verificationName,
} from './domains.schemas';
import { findDomain, listDomains, suggestionsFor } from './domains.store';
import { JoinRequestSchema } from './requests.schemas';
import { z } from '@hono/zod-openapi';

const tags = ['domains'];
/** Writes: the coordinator authenticates and authorizes (SPEC §19); 401/404 for the rest first. */
const writes = { tags, security: bearer, middleware: [writeAccess] };

const add = createRoute({
  operationId: 'addDomain',
  ...writes,
  method: 'post',
  path: '/{org}/domains',
  summary: 'Add a domain to verify by a DNS TXT record (owners)',
  description:
    'Publish `verification.value` as a TXT record at `verification.name`, then verify. Public mailbox domains are refused (422 `public_email_domain`); a domain another organization verified is 409 `domain_taken`; the same domain twice, or more than 20 domains, is 409 `invalid_state`.',
  request: { params: OrgParams, body: jsonBody(AddDomainBody) },
  responses: { 201: jsonResponse(DomainSchema, 'Added, pending'), ...problems(400, 401, 403, 404, 409, 413, 415, 422) },
});

const list = createRoute({
  operationId: 'listDomains',
  tags,
  security: bearer,
  middleware: [requireOrgMember],
  method: 'get',
  path: '/{org}/domains',
  summary: 'The organization’s domains, oldest first (owners and admins)',
  request: { params: OrgParams },
  responses: { 200: jsonResponse(DomainListSchema, 'Domains'), ...problems(401, 403, 404) },
});

const verify = createRoute({
  operationId: 'verifyDomain',
  ...writes,
  method: 'post',
  path: '/{org}/domains/{id}/verify',
  summary: 'Look the TXT record up and verify the domain (owners)',
  description:
    'The record is looked up by DNS over HTTPS. Found: the domain is `verified` (200, and a `domain.verified` event). Not found, or found with another value: 422 `domain_not_verified`, whose detail says what was found; a resolver that fails or does not answer within 5 s is 422 `domain_not_verified` too, saying so. A verified domain is answered as it is.',
  request: { params: DomainParams },
  responses: { 200: jsonResponse(DomainSchema, 'Verified'), ...problems(400, 401, 403, 404, 409, 422) },
});

const remove = createRoute({
  operationId: 'deleteDomain',
  ...writes,
  method: 'delete',
  path: '/{org}/domains/{id}',
  summary: 'Remove a domain (owners); members who joined by it stay',
  request: { params: DomainParams },
  responses: { 204: { description: 'Removed' }, ...problems(400, 401, 403, 404) },
});

const join = createRoute({
  operationId: 'joinByDomain',
  tags,
  security: bearer,
  middleware: [writeAccess],
  method: 'post',
  path: '/{org}/join',
  summary: 'Join an organization by your email’s verified domain',
  description:
    'For an account whose email domain is a verified domain of the organization, with `domain_join` not `off`: `auto` makes it a member with `domain_join_role` (200; seats apply, 409 `seat_limit`), `request` files a join request (202). Already a member: 409 `already_member`; a request already pending: 409 `invalid_state`. Anyone else: 404.',
  request: { params: OrgParams },
  responses: {
    200: jsonResponse(DomainJoinedSchema, 'Joined'),
    202: jsonResponse(z.object({ join_request: JoinRequestSchema }), 'Join request filed'),
    ...problems(401, 404, 409, 422, 429),
  },
});

export const domainRoutes = createRouter()
  .openapi(add, async (c) => {
    const { domain } = c.req.valid('json');
    const req = writeRequest(c, c.get('orgId')!);
    return c.json(unwrap(written(c, await coordinatorOf(c).addDomain(req, { domain }))), 201);
  })
  .openapi(list, async (c) => {
    const { org, role } = currentMembership(c);
    if (role !== 'owner' && role !== 'admin') {
      throw new ApiError('forbidden', 'Only owners and admins can see the organization’s domains.');
    }
    return c.json({ data: await listDomains(c.var.db, org.id) }, 200);
  })
  .openapi(verify, async (c) => {
    const { id } = c.req.valid('param');
    const orgId = c.get('orgId')!;
    // Who asks, before anything leaves for the resolver: a lookup is an outbound request, never made
    // for a dead credential, a non-member or a member who may not verify (the coordinator checks again).
    const access = await resolveAccess(c, presentedSecret(c)!, orgId);
    if (!access) throw new ApiError('unauthorized', 'Sign in, or send Authorization: Bearer <token>.');
    if (!access.membership) throw new ApiError('not_found', 'No such organization.');
    if (access.membership.role !== 'owner') throw new ApiError('forbidden', 'Only owners can verify domains.');
    // The record's name and token, from the nearest replica (the primary if it has not seen the
    // domain yet); then the lookup, here, so that a slow resolver never holds the coordinator.
    const row =
      (await findDomain(openSession(c.env.DB, 'first-unconstrained').db, orgId, id)) ??
      (await findDomain(c.var.db, orgId, id));
    const lookup = row?.status === 'pending' ? await lookupTxt(c.env.DOH_URL, verificationName(row.domain)) : null;
    const req = writeRequest(c, orgId);
    return c.json(unwrap(written(c, await coordinatorOf(c).verifyDomain(req, { id, lookup }))), 200);
  })
  .openapi(remove, async (c) => {
    const { id } = c.req.valid('param');
    const req = writeRequest(c, c.get('orgId')!);
    unwrap(written(c, await coordinatorOf(c).deleteDomain(req, { id })));
    return c.body(null, 204);
  })
  .openapi(join, async (c) => {
    const req = writeRequest(c, c.get('orgId')!);
    const joined = unwrap(written(c, await coordinatorOf(c).joinByDomain(req)));
    if ('join_request' in joined) return c.json({ join_request: joined.join_request }, 202);
    return c.json(joined, 200);
  });

const suggestions = createRoute({
  operationId: 'listSuggestedOrganizations',
  tags,
  security: bearer,
  middleware: [requireUser],
  method: 'get',
  path: '/suggested-organizations',
  summary: 'Organizations you can join by your email’s verified domain',
  description:
    'Organizations with a verified domain equal to the part of your email after `@`, `domain_join` not `off`, that you are not a member of. `join` says whether joining is at once (`auto`) or a request (`request`).',
  responses: { 200: jsonResponse(SuggestionListSchema, 'Suggestions'), ...problems(401) },
});

export const suggestionRoutes = createRouter().openapi(suggestions, async (c) => {
  const user = currentUser(c);
  return c.json({ data: await suggestionsFor(c.var.db, user) }, 200);
});
