import { describe, it } from 'vitest';
import { call } from './helpers';

/** SPEC §4 routes built by the core service, in OpenAPI path syntax. */
const SPEC_ROUTES = [
  'post /v1/auth/email-link',
  'post /v1/auth/verify',
  'post /v1/auth/sign-out',
  'get /v1/me',
  'post /v1/me/api-tokens',
  'get /v1/me/api-tokens',
  'delete /v1/me/api-tokens/{id}',
  'post /v1/organizations',
  'get /v1/organizations/{org}',
  'get /v1/organizations/{org}/members',
  'patch /v1/organizations/{org}/members/{user_id}',
  'delete /v1/organizations/{org}/members/{user_id}',
  'post /v1/organizations/{org}/invitations',
  'get /v1/organizations/{org}/invitations',
  'get /v1/organizations/{org}/invitations/{id}',
  'patch /v1/organizations/{org}/invitations/{id}',
  'post /v1/organizations/{org}/invitations/{id}/resend',
  'post /v1/organizations/{org}/invitations/{id}/revoke',
  'get /v1/invitations/preview',
  'post /v1/invitations/accept',
  // SPEC §16
  'post /v1/organizations/{org}/invite-links',
  'get /v1/organizations/{org}/invite-links',
  'patch /v1/organizations/{org}/invite-links/{id}',
  'delete /v1/organizations/{org}/invite-links/{id}',
  'post /v1/organizations/{org}/invite-links/{id}/rotate',
  'post /v1/join/{code}',
  'post /v1/organizations/{org}/domains',
  'get /v1/organizations/{org}/domains',
  'post /v1/organizations/{org}/domains/{id}/verify',
  'delete /v1/organizations/{org}/domains/{id}',
  'get /v1/me/suggested-organizations',
  'post /v1/organizations/{org}/join',
  'get /v1/organizations/{org}/join-requests',
  'post /v1/organizations/{org}/join-requests/{id}/approve',
  'post /v1/organizations/{org}/join-requests/{id}/reject',
  'get /v1/me/join-requests',
  'delete /v1/me/join-requests/{id}',
  // SPEC §17
  'get /v1/me/invitations',
  'post /v1/me/invitations/{id}/accept',
  'post /v1/me/invitations/{id}/decline',
  'post /v1/invitations/decline',
  'post /v1/invitations/reinvite-request',
];

describe('GET /openapi.json', () => {
  it('is generated from the validating schemas and lists every SPEC §4 route built here', async ({ expect }) => {
    const res = await call('GET', '/openapi.json');
    expect(res.status).toBe(200);
    expect(res.json.openapi).toBe('3.1.0');
    const documented = new Set(
      Object.entries(res.json.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
        Object.keys(ops).map((method) => `${method} ${path.replace(/\/$/, '') || '/'}`),
      ),
    );
    for (const route of SPEC_ROUTES) expect(documented, route).toContain(route);
    // The request schema is the one that validates: the 1000-char message limit and day range show.
    const create =
      res.json.paths['/v1/organizations/{org}/invitations'].post.requestBody.content['application/json'].schema;
    const schema = create.$ref ? res.json.components.schemas[create.$ref.split('/').pop()] : create;
    expect(schema.properties.message).toMatchObject({ maxLength: 1000 });
    expect(schema.properties.expires_in_days).toMatchObject({ minimum: 1, maximum: 30, default: 7 });
    expect(schema.properties.role.enum).toEqual(['owner', 'admin', 'developer', 'viewer', 'billing']);
  });
});
