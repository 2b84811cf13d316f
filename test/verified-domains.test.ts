import { env } from 'cloudflare:workers';
import { describe, it } from 'vitest';
import { lookupTxt, txtValue } from '../src/lib/doh';
import { addMember, call, countRows, drainWebhooks, ownerWithOrg, signUp, uniqueEmail } from './helpers';

/*
 * Verified domains (SPEC §16): an owner adds a domain, publishes the TXT record it names, and
 * verifies it; the Worker looks the record up by DNS over HTTPS (DOH_URL, here the local stand-in of
 * test/standins/doh.ts, told by each test which records exist), and the coordinator decides.
 */

let n = 0;
/** A domain no other test uses (the stand-in and the one-verified-per-domain rule are shared). */
const uniqueDomain = (label = 'acme') => `${label}-${Date.now().toString(36)}-${++n}.com`;
const recordName = (domain: string) => `_8bit-ai-verification.${domain}`;

/** Tells the resolver stand-in the TXT records at `name` (each record its chunks), or how to fail. */
async function setTxt(name: string, records: string[][], mode?: string) {
  const res = await fetch(new URL('/__records', env.DOH_URL), {
    method: 'PUT',
    body: JSON.stringify({ name, records, mode }),
  });
  if (!res.ok) throw new Error(`stand-in: ${res.status}`);
}
const queriesFor = async (name: string): Promise<unknown[]> =>
  (await fetch(new URL(`/__queries?name=${name}`, env.DOH_URL))).json();

const addDomain = (token: string, org: string, domain: unknown) =>
  call('POST', `/v1/organizations/${org}/domains`, { token, body: { domain } });
const verify = (token: string, org: string, id: string) =>
  call('POST', `/v1/organizations/${org}/domains/${id}/verify`, { token });
const viewOf = async (id: string) =>
  (await env.DB.prepare('SELECT resource FROM domain_resources WHERE id = ?').bind(id).first<{ resource: string }>())
    ?.resource;
const statusOf = async (id: string) =>
  (await env.DB.prepare('SELECT status FROM organization_domains WHERE id = ?').bind(id).first<{ status: string }>())
    ?.status;

/** A domain added by `org`'s owner, and its TXT record's name and value. */
async function added(token: string, org: string, domain = uniqueDomain()) {
  const res = await addDomain(token, org, domain);
  if (res.status !== 201) throw new Error(`add domain: ${res.status} ${res.text}`);
  return res.json as { id: string; domain: string; verification: { name: string; value: string } };
}

describe('adding a domain', () => {
  it('answers 201 with the TXT record to publish, as the view writes it byte for byte', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Domain Co');
    const domain = uniqueDomain();
    const res = await addDomain(owner.token, org.id, `  ${domain.toUpperCase()}. `);
    expect(res.status).toBe(201);
    expect(res.json).toEqual({
      id: expect.stringMatching(/^dom_[a-z0-9]{20}$/),
      organization_id: org.id,
      domain,
      status: 'pending',
      verification: {
        type: 'dns_txt',
        name: `_8bit-ai-verification.${domain}`,
        value: expect.stringMatching(/^8bit-ai-verification=[a-z0-9]{32}$/),
      },
      created_at: expect.any(String),
      verified_at: null,
    });
    expect(res.text).toBe(await viewOf(res.json.id));
    const list = await call('GET', `/v1/organizations/${org.id}/domains`, { token: owner.token });
    expect(list.status).toBe(200);
    expect(list.text).toBe(`{"data":[${await viewOf(res.json.id)}]}`);
    expect(await countRows('audit_events', `action = 'domain.added' AND target_id = '${res.json.id}'`)).toBe(1);
  });

  it('refuses public mailbox domains (422 public_email_domain), however written, and writes nothing', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg();
    for (const domain of ['gmail.com', 'GMAIL.COM ', 'outlook.com.', 'proton.me', 'yahoo.com', 'icloud.com']) {
      const res = await addDomain(owner.token, org.id, domain);
      expect(res.status, domain).toBe(422);
      expect(res.json.code).toBe('public_email_domain');
      expect(res.headers.get('content-type')).toBe('application/problem+json');
    }
    expect(await countRows('organization_domains', `organization_id = '${org.id}'`)).toBe(0);
  });

  it('the same domain twice in one organization is 409 invalid_state; more than 20 domains, too', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg();
    const first = await added(owner.token, org.id);
    const again = await addDomain(owner.token, org.id, first.domain.toUpperCase());
    expect(again.status).toBe(409);
    expect(again.json.code).toBe('invalid_state');
    for (let i = 1; i < 20; i++) await added(owner.token, org.id);
    const over = await addDomain(owner.token, org.id, uniqueDomain());
    expect(over.status).toBe(409);
    expect(over.json.code).toBe('invalid_state');
    expect(over.json.detail).toContain('at most 20');
    expect(await countRows('organization_domains', `organization_id = '${org.id}'`)).toBe(20);
  });
});

describe('verifying a domain by its TXT record', () => {
  it('no TXT record: 422 domain_not_verified saying none was found; the domain stays pending', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg();
    const d = await added(owner.token, org.id);
    const res = await verify(owner.token, org.id, d.id);
    expect(res.status).toBe(422);
    expect(res.json.code).toBe('domain_not_verified');
    expect(res.json.detail).toContain(`No TXT record was found at ${recordName(d.domain)}`);
    expect(await statusOf(d.id)).toBe('pending');
    // The Worker asked the resolver, as a DNS JSON client does.
    expect(await queriesFor(recordName(d.domain))).toEqual([
      { name: recordName(d.domain), type: 'TXT', accept: 'application/dns-json' },
    ]);
  });

  it('a TXT record with another value: 422 naming what was found', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg();
    const d = await added(owner.token, org.id);
    await setTxt(d.verification.name, [['8bit-ai-verification=not-the-token'], ['v=spf1 -all']]);
    const res = await verify(owner.token, org.id, d.id);
    expect(res.status).toBe(422);
    expect(res.json.code).toBe('domain_not_verified');
    expect(res.json.detail).toContain('"8bit-ai-verification=not-the-token", "v=spf1 -all"');
    expect(res.json.detail).toContain(d.verification.value);
    expect(await statusOf(d.id)).toBe('pending');
    expect(await countRows('audit_events', `action = 'domain.verified' AND target_id = '${d.id}'`)).toBe(0);
  });

  it('found (split in chunks, among other records): verified; the domain.verified event carries the API resource', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg();
    const hookName = `domains-${Date.now().toString(36)}-${++n}`;
    const hook = await call('POST', `/v1/organizations/${org.id}/webhooks`, {
      token: owner.token,
      body: { url: `${env.TEST_WEBHOOK_RECEIVER}/hooks/ok/${hookName}`, events: ['domain.verified'] },
    });
    expect(hook.status).toBe(201);
    const d = await added(owner.token, org.id);
    const value = d.verification.value;
    await setTxt(d.verification.name, [
      ['v=spf1 include:_spf.example.net -all'],
      [value.slice(0, 10), value.slice(10, 30), value.slice(30)],
      ['google-site-verification=abc'],
    ]);
    const res = await verify(owner.token, org.id, d.id);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ id: d.id, status: 'verified', verified_at: expect.any(String) });
    expect(res.text).toBe(await viewOf(d.id));
    expect(await countRows('audit_events', `action = 'domain.verified' AND target_id = '${d.id}'`)).toBe(1);

    await drainWebhooks();
    const got = (await (await fetch(`${env.TEST_WEBHOOK_RECEIVER}/__hooks?name=${hookName}`)).json()) as {
      body: string;
    }[];
    expect(got).toHaveLength(1);
    const event = JSON.parse(got[0].body);
    expect(event.type).toBe('domain.verified');
    expect(event.data).toEqual(res.json);
    expect(JSON.stringify(event.data)).toBe(res.text);

    // Verifying again answers the domain as it is, without a lookup.
    const lookups = (await queriesFor(d.verification.name)).length;
    const again = await verify(owner.token, org.id, d.id);
    expect(again.status).toBe(200);
    expect(again.text).toBe(res.text);
    expect(await queriesFor(d.verification.name)).toHaveLength(lookups);
  });

  it('a record reached through a CNAME verifies too', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg();
    const d = await added(owner.token, org.id);
    await setTxt(d.verification.name, [[d.verification.value]], 'cname');
    expect((await verify(owner.token, org.id, d.id)).json.status).toBe('verified');
  });

  it('a resolver that fails, errs or answers garbage: 422 domain_not_verified saying so, nothing changed', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg();
    for (const [mode, says] of [
      ['servfail', 'the resolver answered SERVFAIL'],
      ['http500', 'the resolver answered HTTP 500'],
      ['garbage', 'did not answer in the DNS JSON format'],
    ]) {
      const d = await added(owner.token, org.id);
      await setTxt(d.verification.name, [[d.verification.value]], mode);
      const res = await verify(owner.token, org.id, d.id);
      expect(res.status, mode).toBe(422);
      expect(res.json.code).toBe('domain_not_verified');
      expect(res.json.detail).toContain(says);
      expect(await statusOf(d.id)).toBe('pending');
    }
  });

  it('a resolver that never answers: 422 after the 5 s timeout, not a 5xx', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg();
    const d = await added(owner.token, org.id);
    await setTxt(d.verification.name, [], 'hang');
    const started = Date.now();
    const res = await verify(owner.token, org.id, d.id);
    expect(res.status).toBe(422);
    expect(res.json.detail).toContain('did not answer within 5 s');
    expect(Date.now() - started).toBeLessThan(9_000);
    expect(await statusOf(d.id)).toBe('pending');
  });

  it('an unreachable resolver and a bad DOH_URL give a problem, never a throw', async ({ expect }) => {
    const unreachable = async () => {
      throw new TypeError('Network connection lost.');
    };
    expect(await lookupTxt(env.DOH_URL, 'x.example.com', { fetcher: unreachable })).toEqual({
      ok: false,
      problem: 'the resolver could not be reached',
    });
    expect((await lookupTxt('not a url', 'x.example.com')).ok).toBe(false);
    // TXT data: quoted character-strings, escapes decoded, chunks joined; unquoted data as it is.
    expect(txtValue('"abc" "def"')).toBe('abcdef');
    expect(txtValue('"say \\"hi\\" \\\\ \\065"')).toBe('say "hi" \\ A');
    expect(txtValue('plain value')).toBe('plain value');
  });
});

describe('one organization per domain', () => {
  it('a domain verified by one organization: 409 domain_taken for another, at add and at verify', async ({
    expect,
  }) => {
    const a = await ownerWithOrg('Alpha');
    const b = await ownerWithOrg('Beta');
    const domain = uniqueDomain('shared');
    const da = await added(a.owner.token, a.org.id, domain);
    // Both may have it pending (anyone can claim; only the owner of the DNS can prove it).
    const db = await added(b.owner.token, b.org.id, domain);
    await setTxt(recordName(domain), [[da.verification.value], [db.verification.value]]);
    expect((await verify(a.owner.token, a.org.id, da.id)).status).toBe(200);
    const late = await verify(b.owner.token, b.org.id, db.id);
    expect(late.status).toBe(409);
    expect(late.json.code).toBe('domain_taken');
    const c = await ownerWithOrg('Gamma');
    const third = await addDomain(c.owner.token, c.org.id, domain);
    expect(third.status).toBe(409);
    expect(third.json.code).toBe('domain_taken');
    expect(await statusOf(db.id)).toBe('pending');
  });

  it('two organizations verifying the same domain at once: exactly one is verified', async ({ expect }) => {
    const domain = uniqueDomain('race');
    const orgs = await Promise.all([ownerWithOrg('R1'), ownerWithOrg('R2'), ownerWithOrg('R3')]);
    const domains: Awaited<ReturnType<typeof added>>[] = [];
    for (const o of orgs) domains.push(await added(o.owner.token, o.org.id, domain));
    await setTxt(
      recordName(domain),
      domains.map((d) => [d.verification.value]),
    );
    const results = await Promise.all(orgs.map((o, i) => verify(o.owner.token, o.org.id, domains[i].id)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409]);
    expect(results.filter((r) => r.status === 409).every((r) => r.json.code === 'domain_taken')).toBe(true);
    expect(await countRows('organization_domains', `domain = '${domain}' AND status = 'verified'`)).toBe(1);
  });
});

describe('removing a domain', () => {
  it('204, gone from the list, in the audit log; again: 404', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg();
    const d = await added(owner.token, org.id);
    const res = await call('DELETE', `/v1/organizations/${org.id}/domains/${d.id}`, { token: owner.token });
    expect(res.status).toBe(204);
    expect((await call('GET', `/v1/organizations/${org.id}/domains`, { token: owner.token })).json.data).toEqual([]);
    const audit = await env.DB.prepare(
      "SELECT data FROM audit_events WHERE action = 'domain.removed' AND target_id = ?",
    )
      .bind(d.id)
      .first<{ data: string }>();
    expect(JSON.parse(audit!.data)).toEqual({ domain: d.domain, status: 'pending' });
    const again = await call('DELETE', `/v1/organizations/${org.id}/domains/${d.id}`, { token: owner.token });
    expect(again.status).toBe(404);
    // Removed, the domain can be claimed again.
    expect((await addDomain(owner.token, org.id, d.domain)).status).toBe(201);
  });
});

describe('who may manage domains', () => {
  it('owners do everything; admins only list; developers, viewers and billing get 403; others 404; no credential 401', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Authz Co');
    const d = await added(owner.token, org.id);
    const members = {
      admin: await addMember(owner.token, org.id, 'admin'),
      developer: await addMember(owner.token, org.id, 'developer'),
      viewer: await addMember(owner.token, org.id, 'viewer'),
      billing: await addMember(owner.token, org.id, 'billing'),
    };
    const outsider = await signUp(uniqueEmail('outsider'));
    const base = `/v1/organizations/${org.id}/domains`;
    const routes = [
      { name: 'add', method: 'POST', path: base, body: { domain: uniqueDomain() } },
      { name: 'list', method: 'GET', path: base },
      { name: 'verify', method: 'POST', path: `${base}/${d.id}/verify` },
      { name: 'delete', method: 'DELETE', path: `${base}/${d.id}` },
    ];
    const statuses: Record<string, Record<string, number>> = {};
    const callers: [string, string | undefined][] = [
      ['none', undefined],
      ['outsider', outsider.token],
      ...Object.entries(members).map(([role, m]) => [role, m.token] as [string, string]),
    ];
    for (const [who, token] of callers) {
      statuses[who] = {};
      for (const r of routes) {
        const res = await call(r.method, r.path, { token, body: r.body });
        statuses[who][r.name] = res.status;
        if (res.status >= 400) expect(res.headers.get('content-type')).toBe('application/problem+json');
      }
    }
    expect(statuses).toEqual({
      none: { add: 401, list: 401, verify: 401, delete: 401 },
      outsider: { add: 404, list: 404, verify: 404, delete: 404 },
      admin: { add: 403, list: 200, verify: 403, delete: 403 },
      developer: { add: 403, list: 403, verify: 403, delete: 403 },
      viewer: { add: 403, list: 403, verify: 403, delete: 403 },
      billing: { add: 403, list: 403, verify: 403, delete: 403 },
    });
    // Nothing the refused callers tried was written; the owner still can.
    expect(await countRows('organization_domains', `organization_id = '${org.id}'`)).toBe(1);
    expect((await addDomain(owner.token, org.id, uniqueDomain())).status).toBe(201);
    expect((await call('DELETE', `${base}/${d.id}`, { token: owner.token })).status).toBe(204);
  });
});

describe('malformed requests', () => {
  it('every one is a 4xx problem with a code, and nothing is written', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg();
    const d = await added(owner.token, org.id);
    const base = `/v1/organizations/${org.id}/domains`;
    const json = { 'Content-Type': 'application/json' };
    const cases: {
      label: string;
      method: string;
      path: string;
      body?: unknown;
      raw?: string;
      headers?: Record<string, string>;
    }[] = [
      ...[
        '',
        '   ',
        'localhost',
        'acme',
        '1.2.3.4',
        '[::1]',
        '::1',
        'exa mple.com',
        '-acme.com',
        'acme-.com',
        'acme..com',
        `${'a'.repeat(64)}.com`,
        `${'abcdefghi.'.repeat(24)}com`,
        '*.acme.com',
        'https://acme.com',
        'acme.com/path',
        'user@acme.com',
        'acme.123',
        'acme.local',
        'ex_ample.com',
        'münchen.de',
        'x'.repeat(301),
      ].map((domain) => ({
        label: `domain ${JSON.stringify(domain).slice(0, 40)}`,
        method: 'POST',
        path: base,
        body: { domain },
      })),
      { label: 'a number', method: 'POST', path: base, body: { domain: 42 } },
      { label: 'null', method: 'POST', path: base, body: { domain: null } },
      { label: 'missing', method: 'POST', path: base, body: {} },
      { label: 'unknown field', method: 'POST', path: base, body: { domain: uniqueDomain(), verified: true } },
      { label: 'an array', method: 'POST', path: base, body: [uniqueDomain()] },
      { label: 'bad JSON', method: 'POST', path: base, raw: '{"domain": "acme.com"', headers: json },
      {
        label: 'wrong content type',
        method: 'POST',
        path: base,
        raw: 'domain=acme.com',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      },
      {
        label: 'too large',
        method: 'POST',
        path: base,
        raw: JSON.stringify({ domain: 'a'.repeat(20_000) }),
        headers: json,
      },
      { label: 'verify bad id', method: 'POST', path: `${base}/not-an-id/verify` },
      { label: 'verify unknown id', method: 'POST', path: `${base}/dom_00000000000000000000/verify` },
      { label: 'verify id with SQL', method: 'POST', path: `${base}/${encodeURIComponent("dom_x' OR 1=1 --")}/verify` },
      { label: 'delete bad id', method: 'DELETE', path: `${base}/${d.id}x` },
      { label: 'delete unknown id', method: 'DELETE', path: `${base}/dom_00000000000000000000` },
      {
        label: 'unknown org',
        method: 'POST',
        path: '/v1/organizations/no-such-org-here/domains',
        body: { domain: uniqueDomain() },
      },
    ];
    const before = {
      domains: await countRows('organization_domains', `organization_id = '${org.id}'`),
      audit: await countRows('audit_events', `organization_id = '${org.id}'`),
    };
    for (const c of cases) {
      const res = await call(c.method, c.path, {
        token: owner.token,
        body: c.body,
        rawBody: c.raw,
        headers: c.headers,
      });
      expect(res.status, c.label).toBeGreaterThanOrEqual(400);
      expect(res.status, c.label).toBeLessThan(500);
      expect(res.headers.get('content-type'), c.label).toBe('application/problem+json');
      expect(res.json.code, c.label).toMatch(/^[a-z_]+$/);
    }
    expect(cases.length).toBeGreaterThanOrEqual(12);
    expect({
      domains: await countRows('organization_domains', `organization_id = '${org.id}'`),
      audit: await countRows('audit_events', `organization_id = '${org.id}'`),
    }).toEqual(before);
  });
});
