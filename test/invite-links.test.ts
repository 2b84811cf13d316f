import { env } from 'cloudflare:workers';
import { describe, it, vi } from 'vitest';
import { addMember, call, countRows, drainWebhooks, ownerWithOrg, signUp, uniqueEmail } from './helpers';

/*
 * Invite links (SPEC §16): managing them (owners and admins), redeeming one (any signed-in
 * account), the resource as its view writes it, the events, and the code kept secret everywhere.
 */

type Token = string;
const linksOf = (org: string) => `/v1/organizations/${org}/invite-links`;
const createLink = (token: Token, org: string, body: Record<string, unknown> = { role: 'developer' }) =>
  call('POST', linksOf(org), { token, body });
const codeOf = (url: string) => url.slice(url.indexOf('/join/') + '/join/'.length);
const redeem = (token: Token, code: string) => call('POST', `/v1/join/${code}`, { token });
const viewOf = async (id: string) =>
  (await env.DB.prepare('SELECT resource FROM invite_link_resources WHERE id = ?')
    .bind(id)
    .first<{ resource: string }>())!.resource;

let hooks = 0;
/** A webhook endpoint of the organization at the test receiver, and what it received. */
async function receiver(token: Token, org: string) {
  const name = `links-${Date.now().toString(36)}-${++hooks}`;
  const res = await call('POST', `/v1/organizations/${org}/webhooks`, {
    token,
    body: { url: `${env.TEST_WEBHOOK_RECEIVER}/hooks/ok/${name}` },
  });
  if (res.status !== 201) throw new Error(`webhook: ${res.status} ${res.text}`);
  return async () => {
    await drainWebhooks();
    const got = (await (await fetch(`${env.TEST_WEBHOOK_RECEIVER}/__hooks?name=${name}`)).json()) as { body: string }[];
    return got.map((r) => ({
      text: r.body,
      ...(JSON.parse(r.body) as { type: string; data: Record<string, unknown> }),
    }));
  };
}

describe('creating and reading invite links', () => {
  it('201 with a secret url (no-store), defaults applied; GET lists and reads without the url; the view is the API byte for byte', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Linked "Résumé" Co');
    const before = Date.now();
    const res = await createLink(owner.token, org.id, { role: 'viewer' });
    expect(res.status).toBe(201);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    const { url, ...resource } = res.json;
    expect(url).toMatch(new RegExp(`^${env.APP_URL}/join/[A-Za-z0-9_-]{32}$`));
    expect(resource).toEqual({
      id: expect.stringMatching(/^lnk_[a-z0-9]{20}$/),
      organization_id: org.id,
      role: 'viewer',
      max_uses: 25,
      uses: 0,
      expires_at: expect.any(String),
      requires_approval: false,
      enabled: true,
      status: 'active',
      disabled_reason: null,
      created_by: owner.user.id,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    const days = (Date.parse(resource.expires_at) - before) / 86_400_000;
    expect(days).toBeGreaterThan(6.99);
    expect(days).toBeLessThan(7.01);
    // Stored only as its SHA-256.
    const row = await env.DB.prepare('SELECT code_hash FROM invite_links WHERE id = ?')
      .bind(resource.id)
      .first<{ code_hash: string }>();
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(codeOf(url)));
    expect(row!.code_hash).toBe([...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join(''));

    const got = await call('GET', `${linksOf(org.id)}/${resource.id}`, { token: owner.token });
    expect(got.status).toBe(200);
    expect(got.json).toEqual(resource);
    expect(got.text).toBe(await viewOf(resource.id));
    const second = await createLink(owner.token, org.slug, {
      role: 'billing',
      max_uses: 3,
      expires_in_days: 30,
      requires_approval: true,
    });
    expect(second.json).toMatchObject({ role: 'billing', max_uses: 3, requires_approval: true });
    const list = await call('GET', linksOf(org.id), { token: owner.token });
    expect(list.json.data.map((l: { id: string }) => l.id)).toEqual([second.json.id, resource.id]);
    expect(list.json.next_cursor).toBeNull();
    expect(list.text).not.toContain('/join/');
    expect(list.text).not.toContain(codeOf(url));
    // A page of one, and the next.
    const page = await call('GET', `${linksOf(org.id)}?limit=1`, { token: owner.token });
    expect(page.json.data).toHaveLength(1);
    const next = await call('GET', `${linksOf(org.id)}?limit=1&cursor=${page.json.next_cursor}`, {
      token: owner.token,
    });
    expect(next.json.data[0].id).toBe(resource.id);
  });

  it('at most 10 live links: the 11th is 409; a used-up, disabled or deleted one frees its place; re-enabling counts', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Ten Links Co');
    const ids: string[] = [];
    const codes: string[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await createLink(owner.token, org.id, { role: 'viewer', max_uses: 1 });
      expect(res.status).toBe(201);
      ids.push(res.json.id);
      codes.push(codeOf(res.json.url));
    }
    const links = await countRows('invite_links', `organization_id = '${org.id}'`);
    const eleventh = await createLink(owner.token, org.id, { role: 'viewer' });
    expect(eleventh.status).toBe(409);
    expect(eleventh.json.code).toBe('invite_link_limit');
    expect(await countRows('invite_links', `organization_id = '${org.id}'`)).toBe(links);
    // Used up: no longer live.
    const joiner = await signUp(uniqueEmail('joiner'));
    expect((await redeem(joiner.token, codes[0])).status).toBe(200);
    const afterUse = await createLink(owner.token, org.id, { role: 'viewer' });
    expect(afterUse.status).toBe(201);
    // Full again; disabling one frees a place, and enabling it again needs one.
    expect((await createLink(owner.token, org.id, { role: 'viewer' })).status).toBe(409);
    const disabled = await call('PATCH', `${linksOf(org.id)}/${ids[1]}`, {
      token: owner.token,
      body: { enabled: false },
    });
    expect(disabled.json).toMatchObject({ enabled: false, status: 'disabled', disabled_reason: 'disabled' });
    const another = await createLink(owner.token, org.id, { role: 'viewer' });
    expect(another.status).toBe(201);
    const again = await call('PATCH', `${linksOf(org.id)}/${ids[1]}`, { token: owner.token, body: { enabled: true } });
    expect(again.status).toBe(409);
    expect(again.json.code).toBe('invite_link_limit');
    expect((await call('DELETE', `${linksOf(org.id)}/${another.json.id}`, { token: owner.token })).status).toBe(204);
    const enabled = await call('PATCH', `${linksOf(org.id)}/${ids[1]}`, {
      token: owner.token,
      body: { enabled: true },
    });
    expect(enabled.status).toBe(200);
    expect(enabled.json).toMatchObject({ enabled: true, status: 'active', disabled_reason: null });
  });
  it('15 concurrent creates: exactly 10 links', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Rushed Links Co');
    const results = await Promise.all(Array.from({ length: 15 }, () => createLink(owner.token, org.id)));
    expect(results.map((r) => r.status).sort()).toEqual([...Array(10).fill(201), ...Array(5).fill(409)]);
    expect(await countRows('invite_links', `organization_id = '${org.id}'`)).toBe(10);
  });
});

describe('who may manage links', () => {
  it('owner and admin may; developer, viewer and billing get 403; a non-member 404; no credential 401, on every route', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Guarded Links Co');
    const admin = await addMember(owner.token, org.id, 'admin');
    const others = await Promise.all(['developer', 'viewer', 'billing'].map((r) => addMember(owner.token, org.id, r)));
    const stranger = await signUp(uniqueEmail('stranger'));
    const link = (await createLink(owner.token, org.id)).json;
    const one = `${linksOf(org.id)}/${link.id}`;
    const routes = [
      { method: 'POST', path: linksOf(org.id), body: { role: 'viewer' } },
      { method: 'GET', path: linksOf(org.id) },
      { method: 'GET', path: one },
      { method: 'PATCH', path: one, body: { max_uses: 30 } },
      { method: 'POST', path: `${one}/rotate` },
      { method: 'DELETE', path: one },
    ];
    const rows = await countRows('invite_links');
    const audit = await countRows('audit_events');
    for (const r of routes) {
      for (const member of others) {
        const res = await call(r.method, r.path, { token: member.token, body: r.body });
        expect([r.method, r.path, res.status, res.json?.code]).toEqual([r.method, r.path, 403, 'forbidden']);
      }
      const res404 = await call(r.method, r.path, { token: stranger.token, body: r.body });
      expect([r.path, res404.status, res404.json?.code]).toEqual([r.path, 404, 'not_found']);
      const res401 = await call(r.method, r.path, { body: r.body });
      expect([r.path, res401.status, res401.json?.code]).toEqual([r.path, 401, 'unauthorized']);
    }
    expect(await countRows('invite_links')).toBe(rows);
    expect(await countRows('audit_events')).toBe(audit);
    // Admins may do each.
    const expected = [201, 200, 200, 200, 200, 204];
    for (const [i, r] of routes.entries()) {
      const res = await call(r.method, r.path, { token: admin.token, body: r.body });
      expect([r.method, r.path, res.status]).toEqual([r.method, r.path, expected[i]]);
    }
    // A deleted link is gone from the API.
    expect((await call('GET', one, { token: owner.token })).status).toBe(404);
    expect((await call('PATCH', one, { token: owner.token, body: { enabled: true } })).status).toBe(404);
    expect((await call('POST', `${one}/rotate`, { token: owner.token })).status).toBe(404);
    expect((await call('DELETE', one, { token: owner.token })).status).toBe(404);
    // Redeeming needs a credential.
    expect((await call('POST', `/v1/join/${'x'.repeat(32)}`)).status).toBe(401);
    expect((await call('POST', `/v1/join/${'x'.repeat(32)}`, { token: '8b_ses_dead' })).status).toBe(401);
  });
});

describe('redeeming a link', () => {
  it('joins with the link’s role (200), counts a use, and the member is listed; redeeming again is 409 already_member', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Join Me Co');
    const link = (await createLink(owner.token, org.id, { role: 'billing', max_uses: 5 })).json;
    const joiner = await signUp(uniqueEmail('joiner'), 'Jo Joiner');
    const res = await redeem(joiner.token, codeOf(link.url));
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ organization: { id: org.id, name: org.name, slug: org.slug }, role: 'billing' });
    const members = await call('GET', `/v1/organizations/${org.id}/members`, { token: owner.token });
    expect(members.json.data.find((m: { email: string }) => m.email === joiner.email)?.role).toBe('billing');
    const got = await call('GET', `${linksOf(org.id)}/${link.id}`, { token: owner.token });
    expect(got.json).toMatchObject({ uses: 1, status: 'active' });
    const again = await redeem(joiner.token, codeOf(link.url));
    expect(again.status).toBe(409);
    expect(again.json.code).toBe('already_member');
    // An owner (already a member) too.
    expect((await redeem(owner.token, codeOf(link.url))).json.code).toBe('already_member');
    // An unknown code is 410, like a dead one.
    const unknown = await redeem(joiner.token, 'A'.repeat(32));
    expect(unknown.status).toBe(410);
    expect(unknown.json.code).toBe('invite_link_invalid');
  });

  it('one account redeems a link once: after leaving, the same link is refused (409 invalid_state), another link works', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Once Co');
    const link = (await createLink(owner.token, org.id, { role: 'viewer' })).json;
    const joiner = await signUp(uniqueEmail('leaver'));
    expect((await redeem(joiner.token, codeOf(link.url))).status).toBe(200);
    const left = await call('DELETE', `/v1/organizations/${org.id}/members/${joiner.user.id}`, { token: joiner.token });
    expect(left.status).toBe(204);
    const members = await countRows('memberships', `organization_id = '${org.id}'`);
    const second = await redeem(joiner.token, codeOf(link.url));
    expect(second.status).toBe(409);
    expect(second.json.code).toBe('invalid_state');
    expect(await countRows('memberships', `organization_id = '${org.id}'`)).toBe(members);
    expect((await call('GET', `${linksOf(org.id)}/${link.id}`, { token: owner.token })).json.uses).toBe(1);
    const other = (await createLink(owner.token, org.id, { role: 'viewer' })).json;
    expect((await redeem(joiner.token, codeOf(other.url))).status).toBe(200);
  });

  it('seats apply: 409 seat_limit and nothing written; allowed email domains apply: 422', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Seated Co');
    const link = (await createLink(owner.token, org.id, { role: 'developer' })).json;
    expect(
      (await call('PATCH', `/v1/organizations/${org.id}`, { token: owner.token, body: { seat_limit: 2 } })).status,
    ).toBe(200);
    const first = await signUp(uniqueEmail('seat1'));
    expect((await redeem(first.token, codeOf(link.url))).status).toBe(200);
    const second = await signUp(uniqueEmail('seat2'));
    const full = await redeem(second.token, codeOf(link.url));
    expect(full.status).toBe(409);
    expect(full.json.code).toBe('seat_limit');
    expect((await call('GET', `${linksOf(org.id)}/${link.id}`, { token: owner.token })).json.uses).toBe(1);
    expect(await countRows('invite_link_redemptions', `user_id = '${second.user.id}'`)).toBe(0);

    await call('PATCH', `/v1/organizations/${org.id}`, {
      token: owner.token,
      body: { seat_limit: null, allowed_email_domains: ['corp.example'] },
    });
    const outsider = await redeem(second.token, codeOf(link.url));
    expect(outsider.status).toBe(422);
    expect(outsider.json.code).toBe('email_domain_not_allowed');
    const insider = await signUp(`in.${Date.now().toString(36)}@corp.example`);
    expect((await redeem(insider.token, codeOf(link.url))).status).toBe(200);
  });

  it('a link that requires approval files a join request (202) with the link’s role; a second try is 409', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Approval Co');
    const link = (await createLink(owner.token, org.id, { role: 'developer', requires_approval: true })).json;
    const asker = await signUp(uniqueEmail('asker'), 'Ada Asker');
    const res = await redeem(asker.token, codeOf(link.url));
    expect(res.status).toBe(202);
    expect(res.json.join_request).toMatchObject({
      id: expect.stringMatching(/^jrq_/),
      organization_id: org.id,
      user: { id: asker.user.id, email: asker.email, name: 'Ada Asker' },
      source: 'link',
      link_id: link.id,
      role: 'developer',
      status: 'pending',
    });
    const view = await env.DB.prepare('SELECT resource FROM join_request_resources WHERE id = ?')
      .bind(res.json.join_request.id)
      .first<{ resource: string }>();
    expect(JSON.stringify(res.json.join_request)).toBe(view!.resource);
    // Not a member yet; the use is counted.
    expect(await countRows('memberships', `organization_id = '${org.id}' AND user_id = '${asker.user.id}'`)).toBe(0);
    expect((await call('GET', `${linksOf(org.id)}/${link.id}`, { token: owner.token })).json.uses).toBe(1);
    const again = await redeem(asker.token, codeOf(link.url));
    expect(again.status).toBe(409);
    expect(again.json.code).toBe('invalid_state');
    expect(await countRows('join_requests', `user_id = '${asker.user.id}'`)).toBe(1);
  });

  it('50 concurrent redemptions of a link with max_uses 10: exactly 10 members, the rest 410; used_up', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Crowded Co');
    const link = (await createLink(owner.token, org.id, { role: 'viewer', max_uses: 10 })).json;
    const accounts = [];
    for (let i = 0; i < 50; i++) accounts.push(await signUp(uniqueEmail(`crowd${i}`)));
    const results = await Promise.all(accounts.map((a) => redeem(a.token, codeOf(link.url))));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.filter((s) => s === 410)).toHaveLength(40);
    expect(results.filter((r) => r.status === 410).every((r) => r.json.code === 'invite_link_invalid')).toBe(true);
    expect(await countRows('memberships', `organization_id = '${org.id}'`)).toBe(11);
    expect(await countRows('invite_link_redemptions', `link_id = '${link.id}'`)).toBe(10);
    const got = await call('GET', `${linksOf(org.id)}/${link.id}`, { token: owner.token });
    expect(got.json).toMatchObject({ uses: 10, status: 'used_up', enabled: true });
    expect(
      await countRows(
        'audit_events',
        `target_id = '${link.id}' AND action = 'invite_link.disabled' AND json_extract(data, '$.reason') = 'used_up'`,
      ),
    ).toBe(1);
  });
});

describe('events, audit and logs', () => {
  it('invite_link.created and .disabled carry the API resource; member.added says via link; the code is nowhere', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Evented Co');
    const received = await receiver(owner.token, org.id);
    const lines: string[] = [];
    const spies = (['log', 'error', 'warn', 'info'] as const).map((m) =>
      vi.spyOn(console, m).mockImplementation((...args) => void lines.push(args.map(String).join(' '))),
    );
    const codes: string[] = [];
    let link: Record<string, unknown> & { id: string; url: string };
    let joiner: Awaited<ReturnType<typeof signUp>>;
    try {
      link = (await createLink(owner.token, org.id, { role: 'developer', max_uses: 1 })).json;
      codes.push(codeOf(link.url));
      const created = (await call('GET', `${linksOf(org.id)}/${link.id}`, { token: owner.token })).json;
      joiner = await signUp(uniqueEmail('evented'));
      expect((await redeem(joiner.token, codes[0])).status).toBe(200);
      const usedUp = (await call('GET', `${linksOf(org.id)}/${link.id}`, { token: owner.token })).json;
      const rotated = await call('POST', `${linksOf(org.id)}/${link.id}/rotate`, { token: owner.token });
      expect(rotated.headers.get('Cache-Control')).toBe('no-store');
      codes.push(codeOf(rotated.json.url));
      expect((await call('DELETE', `${linksOf(org.id)}/${link.id}`, { token: owner.token })).status).toBe(204);
      const deleted = JSON.parse(await viewOf(link.id));

      const events = await received();
      // Rotating the used-up link kills a URL that admitted no one already: no second event for it.
      expect(events.map((e) => e.type)).toEqual([
        'invite_link.created',
        'member.added',
        'invite_link.disabled',
        'invite_link.disabled',
      ]);
      expect(events[0].data).toEqual(created);
      expect(events[1].data).toMatchObject({ user_id: joiner.user.id, role: 'developer', via: 'link' });
      expect(events[2].data).toEqual(usedUp);
      expect(events[2].data).toMatchObject({ status: 'used_up', uses: 1 });
      expect(events[3].data).toEqual(deleted);
      expect(events[3].data).toMatchObject({ status: 'deleted', enabled: false, disabled_reason: 'deleted' });
      const audit = await call('GET', `/v1/organizations/${org.id}/audit-log?limit=100`, { token: owner.token });
      const reasons = audit.json.data
        .filter((e: { action: string }) => e.action === 'invite_link.disabled')
        .map((e: { data: { reason: string } }) => e.data.reason);
      expect(reasons.sort()).toEqual(['deleted', 'used_up']);
      const added = audit.json.data.find((e: { action: string }) => e.action === 'member.added');
      expect(added.data).toMatchObject({ via: 'link', link_id: link.id });
      const stored = await env.DB.prepare(
        'SELECT (SELECT group_concat(coalesce(data, ""), "|") FROM audit_events WHERE organization_id = ?1) AS audit, (SELECT group_concat(body, "|") FROM webhook_events WHERE organization_id = ?1) AS hooks',
      )
        .bind(org.id)
        .first<{ audit: string; hooks: string }>();
      for (const code of codes) {
        for (const text of [stored!.audit, stored!.hooks, audit.text, ...events.map((e) => e.text)])
          expect(text).not.toContain(code);
      }
      // The request log lines (written just after each response) name the route pattern.
      await vi.waitFor(() => expect(lines.some((l) => l.includes('/v1/join/:code'))).toBe(true));
    } finally {
      for (const s of spies) s.mockRestore();
    }
    for (const code of codes) expect(lines.filter((l) => l.includes(code))).toEqual([]);
    expect(lines.some((l) => l.includes('/v1/organizations/:org/invite-links/:id/rotate'))).toBe(true);
  });
});

describe('malformed requests to the link routes: a 4xx problem with a code, and nothing written', () => {
  it('each is refused and no row of links, redemptions, members, requests or audit changes', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Strict Links Co');
    const link = (await createLink(owner.token, org.id, { role: 'viewer', max_uses: 3 })).json;
    const joiner = await signUp(uniqueEmail('strict'));
    expect((await redeem(joiner.token, codeOf(link.url))).status).toBe(200);
    expect((await redeem((await signUp(uniqueEmail('strict'))).token, codeOf(link.url))).status).toBe(200);
    const all = linksOf(org.id);
    const one = `${all}/${link.id}`;
    const unknown = `${all}/lnk_nosuchlink000000000`;
    interface Case {
      name: string;
      method: string;
      path: string;
      body?: unknown;
      raw?: string;
      type?: string;
      status: number;
      code: string;
    }
    const invalid = (name: string, method: string, path: string, body?: unknown): Case => ({
      name,
      method,
      path,
      body,
      status: 400,
      code: 'validation_failed',
    });
    const create = (name: string, body: unknown) => invalid(name, 'POST', all, body);
    const patch = (name: string, body: unknown) => invalid(name, 'PATCH', one, body);
    const cases: Case[] = [
      create('role owner', { role: 'owner' }),
      create('role admin', { role: 'admin' }),
      create('unknown role', { role: 'root' }),
      create('no role', { max_uses: 5 }),
      create('max_uses 0', { role: 'viewer', max_uses: 0 }),
      create('max_uses 1001', { role: 'viewer', max_uses: 1001 }),
      create('max_uses "5"', { role: 'viewer', max_uses: '5' }),
      create('max_uses 2.5', { role: 'viewer', max_uses: 2.5 }),
      create('expires_in_days 31', { role: 'viewer', expires_in_days: 31 }),
      create('expires_in_days 0', { role: 'viewer', expires_in_days: 0 }),
      create('requires_approval "yes"', { role: 'viewer', requires_approval: 'yes' }),
      create('unknown field', { role: 'viewer', url: 'https://evil.example' }),
      create('a JSON array', [{ role: 'viewer' }]),
      { ...create('truncated JSON', undefined), raw: '{"role":', status: 400, code: 'invalid_json' },
      {
        ...create('text/plain', undefined),
        raw: '{"role":"viewer"}',
        type: 'text/plain',
        status: 415,
        code: 'unsupported_media_type',
      },
      { ...create('over 16 KiB', { role: 'viewer', pad: 'x'.repeat(17_000) }), status: 413, code: 'payload_too_large' },
      patch('empty PATCH', {}),
      patch('PATCH enabled "false"', { enabled: 'false' }),
      patch('PATCH role', { role: 'developer' }),
      patch('PATCH expires_in_days 31', { expires_in_days: 31 }),
      { ...patch('PATCH max_uses below uses', { max_uses: 1 }), status: 409, code: 'invalid_state' },
      { ...invalid('PATCH unknown id', 'PATCH', unknown, { enabled: false }), status: 404, code: 'not_found' },
      invalid('PATCH an id too long', 'PATCH', `${all}/${'x'.repeat(65)}`, { enabled: false }),
      { ...invalid('rotate unknown id', 'POST', `${unknown}/rotate`), status: 404, code: 'not_found' },
      { ...invalid('DELETE unknown id', 'DELETE', unknown), status: 404, code: 'not_found' },
      { ...invalid('GET unknown id', 'GET', unknown), status: 404, code: 'not_found' },
      invalid('list limit 0', 'GET', `${all}?limit=0`),
      { ...invalid('list bad cursor', 'GET', `${all}?cursor=nonsense`), code: 'invalid_cursor' },
      invalid('list unknown query', 'GET', `${all}?status=active`),
      invalid('redeem a code too long', 'POST', `/v1/join/${'a'.repeat(300)}`),
      {
        ...invalid('redeem an unknown code', 'POST', `/v1/join/${'b'.repeat(32)}`),
        status: 410,
        code: 'invite_link_invalid',
      },
    ];
    const tables = ['invite_links', 'invite_link_redemptions', 'memberships', 'join_requests', 'audit_events'];
    const snapshot = async () =>
      JSON.stringify(
        await Promise.all(
          tables.map(async (t) => (await env.DB.prepare(`SELECT * FROM ${t} ORDER BY rowid`).all()).results),
        ),
      );
    const before = await snapshot();
    for (const c of cases) {
      const res = await call(c.method, c.path, {
        token: c.path.startsWith('/v1/join') ? joiner.token : owner.token,
        body: c.raw === undefined ? c.body : undefined,
        rawBody: c.raw,
        headers: c.raw === undefined ? undefined : { 'Content-Type': c.type ?? 'application/json' },
      });
      const got = [c.name, res.status, res.json?.code, res.headers.get('Content-Type')];
      expect(got).toEqual([c.name, c.status, c.code, 'application/problem+json']);
    }
    expect(cases.length).toBeGreaterThanOrEqual(15);
    expect(await snapshot()).toBe(before);
  });
});
