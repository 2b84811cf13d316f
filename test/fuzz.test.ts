import { env, exports } from 'cloudflare:workers';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { BASE, call, invite, ownerWithOrg, uniqueEmail } from './helpers';

/*
 * A few thousand random and adversarial requests to every API endpoint: never a 5xx, every error
 * is valid problem+json, and a rejected request writes nothing. (Rate-limit counters, and the
 * `last_used_at` of a credential that did authenticate, are what a refused request may write, by
 * design, so they are left out of the comparison.)
 */

const TABLES = [
  'users',
  'organizations',
  'memberships',
  'invitations',
  'sessions',
  'api_tokens',
  'sign_in_links',
  'audit_events',
  'idempotency_keys',
  'webhook_endpoints',
  'webhook_events',
  'webhook_deliveries',
  'webhook_attempts',
];
async function snapshot() {
  const all = await env.DB.batch(TABLES.map((t) => env.DB.prepare(`SELECT * FROM ${t} ORDER BY rowid`)));
  return JSON.stringify(all.map((r) => r.results.map((row) => ({ ...(row as object), last_used_at: undefined }))));
}

const ADVERSARIAL = [
  "'; DROP TABLE invitations; --",
  '" OR 1=1 --',
  '<script>alert(1)</script>',
  'a\u0000b',
  '\r\nBcc: evil@example.com',
  '../../etc/passwd',
  '%00',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection probe, sent as is
  '${7*7}',
  '{{constructor.constructor("return 1")()}}',
  '\u202e\u0000\ud83d\ude00',
  'x'.repeat(20_000),
  '9'.repeat(400),
  '-1',
  '1e309',
  'NaN',
  'null',
  'true',
  '__proto__',
];

const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom(...ADVERSARIAL),
);
/** Header values: visible ASCII and the adversarial ASCII strings (fetch refuses CR/LF itself). */
const headerText = fc.oneof(
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 60 }),
  fc.constantFrom(...ADVERSARIAL.filter((a) => /^[\x20-\x7e]*$/.test(a))),
);
const value = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    text,
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(text, tie('v'), { maxKeys: 4 }),
  ),
})).v;
const fieldNames = fc.constantFrom(
  'email',
  'role',
  'message',
  'expires_in_days',
  'name',
  'slug',
  'token',
  'status',
  '__proto__',
  'constructor',
);
const body = fc.oneof(
  fc.dictionary(fieldNames, value, { maxKeys: 5 }).map((o) => JSON.stringify(o)),
  value.map((v) => JSON.stringify(v)),
  text,
  fc.constantFrom(
    '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[',
    '{"a":'.repeat(3000),
    `{"email":"a@b.co","role":"viewer","message":"${'m'.repeat(17_000)}"}`,
  ),
);
const query = fc.array(fc.tuple(fc.constantFrom('status', 'limit', 'cursor', 'token', 'x', 'limit'), text), {
  maxLength: 3,
});
const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  '',
  'application/problem+json',
);

describe('fuzz: every API endpoint', async () => {
  const { owner, org } = await ownerWithOrg('Fuzz Co');
  const inv = (await invite(owner.token, org.id, { email: uniqueEmail(), role: 'viewer' })).json;
  // A personal API token: a fuzzed sign-out cannot end it, so most requests get past authentication.
  const pat = (await call('POST', '/v1/me/api-tokens', { token: owner.token, body: { name: 'fuzz' } })).json
    .token as string;
  const segment = fc.oneof(
    fc.constantFrom(org.id, org.slug, inv.id, owner.user.id),
    text.map((t) => encodeURIComponent(t).slice(0, 200)),
  );
  const endpoints: [string, (a: string, b: string) => string][] = [
    ['POST', () => '/v1/auth/email-link'],
    ['POST', () => '/v1/auth/verify'],
    ['POST', () => '/v1/auth/sign-out'],
    ['GET', () => '/v1/me'],
    ['POST', () => '/v1/me/api-tokens'],
    ['GET', () => '/v1/me/api-tokens'],
    ['DELETE', (a) => `/v1/me/api-tokens/${a}`],
    ['POST', () => '/v1/organizations'],
    ['GET', (a) => `/v1/organizations/${a}`],
    ['GET', (a) => `/v1/organizations/${a}/members`],
    ['PATCH', (a, b) => `/v1/organizations/${a}/members/${b}`],
    ['DELETE', (a, b) => `/v1/organizations/${a}/members/${b}`],
    ['POST', (a) => `/v1/organizations/${a}/invitations`],
    ['POST', (a) => `/v1/organizations/${a}/invitations/bulk`],
    ['PATCH', (a) => `/v1/organizations/${a}`],
    ['GET', (a) => `/v1/organizations/${a}/invitations`],
    ['GET', (a, b) => `/v1/organizations/${a}/invitations/${b}`],
    ['PATCH', (a, b) => `/v1/organizations/${a}/invitations/${b}`],
    ['POST', (a, b) => `/v1/organizations/${a}/invitations/${b}/resend`],
    ['POST', (a, b) => `/v1/organizations/${a}/invitations/${b}/revoke`],
    ['GET', (a) => `/v1/organizations/${a}/audit-log`],
    ['GET', () => '/v1/me/sessions'],
    ['DELETE', (a) => `/v1/me/sessions/${a}`],
    ['POST', (a) => `/v1/organizations/${a}/webhooks`],
    ['GET', (a) => `/v1/organizations/${a}/webhooks`],
    ['GET', (a, b) => `/v1/organizations/${a}/webhooks/${b}`],
    ['PATCH', (a, b) => `/v1/organizations/${a}/webhooks/${b}`],
    ['DELETE', (a, b) => `/v1/organizations/${a}/webhooks/${b}`],
    ['POST', (a, b) => `/v1/organizations/${a}/webhooks/${b}/rotate-secret`],
    ['POST', (a, b) => `/v1/organizations/${a}/webhooks/${b}/test`],
    ['GET', (a, b) => `/v1/organizations/${a}/webhooks/${b}/deliveries`],
    ['POST', (a, b) => `/v1/organizations/${a}/webhooks/${b}/deliveries/${a}/redeliver`],
    ['GET', () => '/v1/invitations/preview'],
    ['POST', () => '/v1/invitations/accept'],
  ];
  const request = fc.record({
    endpoint: fc.constantFrom(...endpoints),
    a: segment,
    b: segment,
    body,
    query,
    contentType,
    auth: fc.oneof(
      { arbitrary: fc.constant(`Bearer ${pat}`), weight: 6 },
      fc.constant(undefined),
      headerText.map((t) => `Bearer ${t}`),
      fc.constantFrom('Bearer', 'Basic x', 'bearer 8b_pat_x'),
    ),
    idempotencyKey: fc.option(headerText, { nil: undefined }),
    requestId: fc.option(headerText, { nil: undefined }),
  });

  it('2,500 requests: no 5xx, valid problems, and no write by a rejected request', { timeout: 600_000 }, async ({
    expect,
  }) => {
    const statuses = new Map<number, number>();
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const [method, path] = r.endpoint;
        const url = new URL(`${BASE}${path(r.a, r.b)}`);
        for (const [k, v] of r.query) url.searchParams.append(k, v);
        const headers = new Headers();
        try {
          if (r.contentType) headers.set('Content-Type', r.contentType);
          if (r.auth) headers.set('Authorization', r.auth);
          if (r.idempotencyKey !== undefined) headers.set('Idempotency-Key', r.idempotencyKey);
          if (r.requestId !== undefined) headers.set('X-Request-Id', r.requestId);
        } catch {
          // Not a legal header value (fetch itself refuses CR/LF and non-Latin-1): nothing to send.
        }
        const before = await snapshot();
        const res = await exports.default.fetch(
          new Request(url, { method, headers, body: method === 'GET' ? undefined : r.body }),
        );
        const raw = await res.text();
        sent++;
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        expect(res.status, `${method} ${url.pathname} → ${raw.slice(0, 300)}`).toBeLessThan(500);
        if (res.status >= 400) {
          expect(res.headers.get('content-type')).toBe('application/problem+json');
          const problem = JSON.parse(raw);
          expect(problem).toMatchObject({
            type: expect.any(String),
            title: expect.any(String),
            detail: expect.any(String),
            code: expect.stringMatching(/^[a-z_]+$/),
            status: res.status,
          });
          expect(await snapshot(), `${method} ${url.pathname} wrote despite ${res.status}`).toBe(before);
        }
      }),
      { numRuns: 2500, endOnFailure: true },
    );
    console.info(`fuzz: ${sent} requests, statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
    expect(sent).toBe(2500);
  });
});
