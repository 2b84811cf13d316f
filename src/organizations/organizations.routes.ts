import { createRoute, z } from '@hono/zod-openapi';
import { ApiError, unwrap } from '../errors';
import { Id, OrgParams, bearer, createRouter, jsonBody, jsonResponse, problems } from '../lib/openapi';
import { actorOf } from '../lib/request';
import { currentMembership, currentUser, requireOrgMember, requireUser } from '../auth/auth.middleware';
import { coordinatorOf, writeAccess, writeRequest, written } from '../writes';
import {
  createOrganization,
  listMembers,
  organizationResource,
  updateOrganizationSettings,
} from './organizations.store';
import {
  ChangeRoleBody,
  CreateOrganizationBody,
  MemberSchema,
  OrganizationSchema,
  UpdateOrganizationBody,
} from './organizations.schemas';

const common = { tags: ['organizations'], security: bearer, middleware: [requireUser] };
const inOrg = { ...common, middleware: [requireOrgMember] };
/** Member changes: the coordinator authenticates and authorizes (SPEC §19). */
const writes = { ...common, middleware: [writeAccess] };
const MemberParams = OrgParams.extend({ user_id: Id });

const create = createRoute({
  operationId: 'createOrganization',
  ...common,
  method: 'post',
  path: '/',
  summary: 'Create an organization; the caller becomes its owner',
  request: { body: jsonBody(CreateOrganizationBody) },
  responses: { 201: jsonResponse(OrganizationSchema, 'Created'), ...problems(400, 401, 409, 413, 415, 429) },
});

const get = createRoute({
  operationId: 'getOrganization',
  ...inOrg,
  method: 'get',
  path: '/{org}',
  summary: 'An organization, with its pending invitation count',
  request: { params: OrgParams },
  responses: { 200: jsonResponse(OrganizationSchema, 'The organization'), ...problems(401, 404) },
});

const update = createRoute({
  operationId: 'updateOrganization',
  ...inOrg,
  method: 'patch',
  path: '/{org}',
  summary: 'Change the settings: allowed email domains, default locale, seat limit, domain join (owners)',
  description: 'Invitations already pending are not touched by a change of the allowed domains.',
  request: { params: OrgParams, body: jsonBody(UpdateOrganizationBody) },
  responses: { 200: jsonResponse(OrganizationSchema, 'Updated'), ...problems(400, 401, 403, 404, 413, 415) },
});

const members = createRoute({
  operationId: 'listMembers',
  ...inOrg,
  method: 'get',
  path: '/{org}/members',
  summary: 'Members of the organization',
  request: { params: OrgParams },
  responses: { 200: jsonResponse(z.object({ data: z.array(MemberSchema) }), 'Members'), ...problems(401, 404) },
});

const changeRole = createRoute({
  operationId: 'updateMember',
  ...writes,
  method: 'patch',
  path: '/{org}/members/{user_id}',
  summary:
    "Change a member's role (owners/admins; only owners touch the owner role; 60 changes an hour per organization)",
  request: { params: MemberParams, body: jsonBody(ChangeRoleBody) },
  responses: { 200: jsonResponse(MemberSchema, 'Updated'), ...problems(400, 401, 403, 404, 409, 413, 415, 429) },
});

const remove = createRoute({
  operationId: 'removeMember',
  ...writes,
  method: 'delete',
  path: '/{org}/members/{user_id}',
  summary: 'Remove a member (owners/admins), or leave (self)',
  request: { params: MemberParams },
  responses: { 204: { description: 'Removed' }, ...problems(401, 403, 404, 409) },
});

export const organizationRoutes = createRouter()
  .openapi(create, async (c) => {
    const user = currentUser(c);
    const org = await createOrganization(
      c.env,
      c.var.db,
      actorOf(c, user.id),
      user.id,
      c.req.valid('json'),
      Date.now(),
    );
    return c.json(org, 201);
  })
  .openapi(get, async (c) => {
    const { org, role } = currentMembership(c);
    return c.json(await organizationResource(c.var.db, org, role, Date.now()), 200);
  })
  .openapi(update, async (c) => {
    const user = currentUser(c);
    const { org, role } = currentMembership(c);
    if (role !== 'owner') throw new ApiError('forbidden', 'Only owners can change the organization’s settings.');
    const body = c.req.valid('json');
    const now = Date.now();
    const settings = {
      domains: body.allowed_email_domains,
      defaultLocale: body.default_locale,
      seatLimit: body.seat_limit,
      domainJoin: body.domain_join,
      domainJoinRole: body.domain_join_role,
      reminderDaysBeforeExpiry: body.reminder_days_before_expiry,
    };
    await updateOrganizationSettings(c.var.db, actorOf(c, user.id), org.id, settings, now);
    const given = <T>(value: T | undefined, was: T) => (value === undefined ? was : value);
    const after = {
      ...org,
      allowedEmailDomains:
        body.allowed_email_domains === undefined
          ? org.allowedEmailDomains
          : body.allowed_email_domains.length
            ? JSON.stringify(body.allowed_email_domains)
            : null,
      defaultLocale: given(body.default_locale, org.defaultLocale),
      seatLimit: given(body.seat_limit, org.seatLimit),
      domainJoin: given(body.domain_join, org.domainJoin),
      domainJoinRole: given(body.domain_join_role, org.domainJoinRole),
      reminderDaysBeforeExpiry: given(body.reminder_days_before_expiry, org.reminderDaysBeforeExpiry),
    };
    return c.json(await organizationResource(c.var.db, after, role, now), 200);
  })
  .openapi(members, async (c) => {
    const { org } = currentMembership(c);
    return c.json({ data: await listMembers(c.var.db, org.id) }, 200);
  })
  .openapi(changeRole, async (c) => {
    const { user_id: userId } = c.req.valid('param');
    const req = writeRequest(c, c.get('orgId')!);
    const role = c.req.valid('json').role;
    return c.json(unwrap(written(c, await coordinatorOf(c).changeMemberRole(req, { userId, role }))), 200);
  })
  .openapi(remove, async (c) => {
    const { user_id: userId } = c.req.valid('param');
    const req = writeRequest(c, c.get('orgId')!);
    unwrap(written(c, await coordinatorOf(c).removeMember(req, { userId })));
    return c.body(null, 204);
  });
