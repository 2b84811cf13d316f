import { env } from 'cloudflare:workers';
import { describe, it } from 'vitest';
import { call, invite, ownerWithOrg, setLastSentAt, uniqueEmail } from './helpers';

const TABLES = ['users', 'organizations', 'memberships', 'invitations', 'sessions', 'api_tokens', 'sign_in_links', 'audit_events'];

/** A fingerprint of every row of every table: any write changes it. */
async function snapshot() {
  const parts = await Promise.all(TABLES.map((t) => env.DB.prepare(`SELECT * FROM ${t} ORDER BY rowid`).all()));
  return JSON.stringify(parts.map((p) => p.results));
}

interface Case {
  name: string;
  method: string;
  path: string;
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
  auth?: boolean;
  status: number;
  code: string;
}

describe('bad input gets a clear 4xx problem and changes nothing', async () => {
  const { owner, org } = await ownerWithOrg('Strict Co');
  const inv = (await invite(owner.token, org.id, { email: uniqueEmail(), role: 'viewer' })).json;
  await setLastSentAt(inv.id, Date.now() - 120_000);
  const good = { email: 'valid@example.com', role: 'viewer' };
  const invitations = `/v1/organizations/${org.id}/invitations`;
  const one = `${invitations}/${inv.id}`;
  const json = { 'Content-Type': 'application/json' };

  const cases: Case[] = [
    { name: 'truncated JSON', method: 'POST', path: invitations, raw: '{"email":', headers: json, auth: true, status: 400, code: 'invalid_json' },
    { name: 'empty body with JSON type', method: 'POST', path: invitations, raw: '', headers: json, auth: true, status: 400, code: 'invalid_json' },
    { name: 'JSON array', method: 'POST', path: invitations, body: [good], auth: true, status: 400, code: 'validation_failed' },
    { name: 'JSON string', method: 'POST', path: invitations, body: 'valid@example.com', auth: true, status: 400, code: 'validation_failed' },
    { name: 'JSON null', method: 'POST', path: invitations, raw: 'null', headers: json, auth: true, status: 400, code: 'validation_failed' },
    { name: 'missing email', method: 'POST', path: invitations, body: { role: 'viewer' }, auth: true, status: 400, code: 'validation_failed' },
    { name: 'missing role', method: 'POST', path: invitations, body: { email: 'a@example.com' }, auth: true, status: 400, code: 'validation_failed' },
    { name: 'email is a number', method: 'POST', path: invitations, body: { ...good, email: 42 }, auth: true, status: 400, code: 'validation_failed' },
    { name: 'email malformed', method: 'POST', path: invitations, body: { ...good, email: 'not-an-email' }, auth: true, status: 400, code: 'validation_failed' },
    { name: 'email empty', method: 'POST', path: invitations, body: { ...good, email: '' }, auth: true, status: 400, code: 'validation_failed' },
    { name: 'email too long', method: 'POST', path: invitations, body: { ...good, email: `${'a'.repeat(250)}@example.com` }, auth: true, status: 400, code: 'validation_failed' },
    { name: 'email with CRLF', method: 'POST', path: invitations, body: { ...good, email: 'a@example.com\r\nBcc: b@example.com' }, auth: true, status: 400, code: 'validation_failed' },
    { name: 'unknown role', method: 'POST', path: invitations, body: { ...good, role: 'superuser' }, auth: true, status: 400, code: 'validation_failed' },
    { name: 'role null', method: 'POST', path: invitations, body: { ...good, role: null }, auth: true, status: 400, code: 'validation_failed' },
    { name: 'role number', method: 'POST', path: invitations, body: { ...good, role: 5 }, auth: true, status: 400, code: 'validation_failed' },
    { name: 'expires_in_days 0', method: 'POST', path: invitations, body: { ...good, expires_in_days: 0 }, auth: true, status: 400, code: 'validation_failed' },
    { name: 'expires_in_days 31', method: 'POST', path: invitations, body: { ...good, expires_in_days: 31 }, auth: true, status: 400, code: 'validation_failed' },
    { name: 'expires_in_days -1', method: 'POST', path: invitations, body: { ...good, expires_in_days: -1 }, auth: true, status: 400, code: 'validation_failed' },
    { name: 'expires_in_days 1.5', method: 'POST', path: invitations, body: { ...good, expires_in_days: 1.5 }, auth: true, status: 400, code: 'validation_failed' },
    { name: 'expires_in_days string', method: 'POST', path: invitations, body: { ...good, expires_in_days: '7' }, auth: true, status: 400, code: 'validation_failed' },
    { name: 'expires_in_days huge', method: 'POST', path: invitations, body: { ...good, expires_in_days: 1e308 }, auth: true, status: 400, code: 'validation_failed' },
    { name: 'message 1001 chars', method: 'POST', path: invitations, body: { ...good, message: 'x'.repeat(1001) }, auth: true, status: 400, code: 'validation_failed' },
    { name: 'message number', method: 'POST', path: invitations, body: { ...good, message: 12 }, auth: true, status: 400, code: 'validation_failed' },
    { name: 'unknown field', method: 'POST', path: invitations, body: { ...good, is_admin: true }, auth: true, status: 400, code: 'validation_failed' },
    { name: 'deeply nested email', method: 'POST', path: invitations, body: { ...good, email: { a: { b: { c: [1, 2, { d: 'x' }] } } } }, auth: true, status: 400, code: 'validation_failed' },
    { name: 'oversized body (17 KiB)', method: 'POST', path: invitations, body: { ...good, message: 'x'.repeat(17 * 1024) }, auth: true, status: 413, code: 'payload_too_large' },
    { name: 'text/plain content type', method: 'POST', path: invitations, raw: JSON.stringify(good), headers: { 'Content-Type': 'text/plain' }, auth: true, status: 415, code: 'unsupported_media_type' },
    { name: 'form content type', method: 'POST', path: invitations, raw: 'email=a%40b.co&role=viewer', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, auth: true, status: 415, code: 'unsupported_media_type' },
    { name: 'body without content type', method: 'POST', path: invitations, raw: JSON.stringify(good), headers: {}, auth: true, status: 415, code: 'unsupported_media_type' },
    { name: 'limit 0', method: 'GET', path: `${invitations}?limit=0`, auth: true, status: 400, code: 'validation_failed' },
    { name: 'limit 101', method: 'GET', path: `${invitations}?limit=101`, auth: true, status: 400, code: 'validation_failed' },
    { name: 'limit not a number', method: 'GET', path: `${invitations}?limit=ten`, auth: true, status: 400, code: 'validation_failed' },
    { name: 'limit fractional', method: 'GET', path: `${invitations}?limit=1.5`, auth: true, status: 400, code: 'validation_failed' },
    { name: 'bad status filter', method: 'GET', path: `${invitations}?status=active`, auth: true, status: 400, code: 'validation_failed' },
    { name: 'garbage cursor', method: 'GET', path: `${invitations}?cursor=%%%garbage`, auth: true, status: 400, code: 'invalid_cursor' },
    { name: 'well-formed but foreign cursor', method: 'GET', path: `${invitations}?cursor=${btoa('{"a":1}')}`, auth: true, status: 400, code: 'invalid_cursor' },
    { name: 'unknown query parameter', method: 'GET', path: `${invitations}?sort=asc`, auth: true, status: 400, code: 'validation_failed' },
    { name: 'resend with expires_in_days 99', method: 'POST', path: `${one}/resend`, body: { expires_in_days: 99 }, auth: true, status: 400, code: 'validation_failed' },
    { name: 'resend with wrong type', method: 'POST', path: `${one}/resend`, body: { expires_in_days: 'soon' }, auth: true, status: 400, code: 'validation_failed' },
    { name: 'patch without role', method: 'PATCH', path: one, body: {}, auth: true, status: 400, code: 'validation_failed' },
    { name: 'patch with unknown role', method: 'PATCH', path: one, body: { role: 'god' }, auth: true, status: 400, code: 'validation_failed' },
    { name: 'patch member with unknown role', method: 'PATCH', path: `/v1/organizations/${org.id}/members/${owner.user.id}`, body: { role: 'root' }, auth: true, status: 400, code: 'validation_failed' },
    { name: 'organization without name', method: 'POST', path: '/v1/organizations', body: {}, auth: true, status: 400, code: 'validation_failed' },
    { name: 'organization blank name', method: 'POST', path: '/v1/organizations', body: { name: '   ' }, auth: true, status: 400, code: 'validation_failed' },
    { name: 'organization bad slug', method: 'POST', path: '/v1/organizations', body: { name: 'X', slug: 'Bad Slug!' }, auth: true, status: 400, code: 'validation_failed' },
    { name: 'organization name too long', method: 'POST', path: '/v1/organizations', body: { name: 'n'.repeat(101) }, auth: true, status: 400, code: 'validation_failed' },
    { name: 'organization slug taken', method: 'POST', path: '/v1/organizations', body: { name: 'Dup', slug: org.slug }, auth: true, status: 409, code: 'slug_taken' },
    { name: 'api token without name', method: 'POST', path: '/v1/me/api-tokens', body: {}, auth: true, status: 400, code: 'validation_failed' },
    { name: 'email-link with bad email', method: 'POST', path: '/v1/auth/email-link', body: { email: 'nope' }, status: 400, code: 'validation_failed' },
    { name: 'email-link with SQL fragment', method: 'POST', path: '/v1/auth/email-link', body: { email: "x'; DROP TABLE users; --" }, status: 400, code: 'validation_failed' },
    { name: 'verify without token', method: 'POST', path: '/v1/auth/verify', body: {}, status: 400, code: 'validation_failed' },
    { name: 'verify with a 5000-char token', method: 'POST', path: '/v1/auth/verify', body: { token: 'a'.repeat(5000) }, status: 400, code: 'validation_failed' },
    { name: 'verify with a garbage token', method: 'POST', path: '/v1/auth/verify', body: { token: 'garbage', name: 'X' }, status: 410, code: 'link_invalid' },
    { name: 'accept with numeric token', method: 'POST', path: '/v1/invitations/accept', body: { token: 123 }, status: 400, code: 'validation_failed' },
    { name: 'accept with blank name', method: 'POST', path: '/v1/invitations/accept', body: { token: 'x', name: '   ' }, status: 400, code: 'validation_failed' },
    { name: 'accept with invalid JSON', method: 'POST', path: '/v1/invitations/accept', raw: '{token:', headers: json, status: 400, code: 'invalid_json' },
    { name: 'preview without token', method: 'GET', path: '/v1/invitations/preview', status: 400, code: 'validation_failed' },
    { name: 'unknown route', method: 'GET', path: '/v1/nothing-here', status: 404, code: 'not_found' },
  ];

  it(`has at least 40 cases (${cases.length})`, ({ expect }) => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  for (const c of cases) {
    it(`${c.name} → ${c.status} ${c.code}`, async ({ expect }) => {
      const before = await snapshot();
      const res = await call(c.method, c.path, {
        token: c.auth ? owner.token : undefined,
        body: c.body,
        rawBody: c.raw,
        headers: c.headers,
      });
      expect(res.status, res.text).toBe(c.status);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(res.json).toMatchObject({ code: c.code, status: c.status, type: expect.any(String), title: expect.any(String), detail: expect.any(String) });
      if (c.code === 'validation_failed') expect(res.json.errors.length).toBeGreaterThan(0);
      expect(await snapshot()).toBe(before);
    });
  }
});
