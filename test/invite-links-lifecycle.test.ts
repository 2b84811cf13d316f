import { env } from 'cloudflare:workers';
import { describe, it, vi } from 'vitest';
import { Browser } from './browser-client';
import { addMember, call, countRows, drainWebhooks, lastToken, ownerWithOrg, signUp, uniqueEmail } from './helpers';

/*
 * Every way an invite link dies (SPEC §16) answers 410 `invite_link_invalid` from the next request
 * on: disabled, expired, used up, rotated (the old URL), deleted, and taken with its creator
 * (removed, leaving, demoted below admin). Time is moved in the database.
 */

const linksOf = (org: string) => `/v1/organizations/${org}/invite-links`;
const codeOf = (url: string) => url.slice(url.indexOf('/join/') + '/join/'.length);
const redeem = (token: string, code: string) => call('POST', `/v1/join/${code}`, { token });
/** A fresh account's redemption of `code`: its status and code. */
const newcomer = async (code: string) => {
  const res = await redeem((await signUp(uniqueEmail('newcomer'))).token, code);
  return [res.status, res.json.code ?? null];
};
const GONE = [410, 'invite_link_invalid'];
const JOINED = [200, null];

async function orgWithLink(body: Record<string, unknown> = { role: 'developer' }) {
  const { owner, org } = await ownerWithOrg('Lifecycle Co');
  const res = await call('POST', linksOf(org.id), { token: owner.token, body });
  if (res.status !== 201) throw new Error(`link: ${res.status} ${res.text}`);
  const get = async () => (await call('GET', `${linksOf(org.id)}/${res.json.id}`, { token: owner.token })).json;
  const patch = (body: Record<string, unknown>, token = owner.token) =>
    call('PATCH', `${linksOf(org.id)}/${res.json.id}`, { token, body });
  return { owner, org, link: res.json, code: codeOf(res.json.url), get, patch };
}

describe('each way a link dies is 410 at once, and what can be undone is', () => {
  it('disabled, then enabled again', async ({ expect }) => {
    const { code, get, patch } = await orgWithLink();
    expect(await newcomer(code)).toEqual(JOINED);
    expect((await patch({ enabled: false })).status).toBe(200);
    expect(await newcomer(code)).toEqual(GONE);
    expect(await get()).toMatchObject({ enabled: false, status: 'disabled', disabled_reason: 'disabled' });
    expect((await patch({ enabled: true })).json).toMatchObject({ enabled: true, status: 'active' });
    expect(await newcomer(code)).toEqual(JOINED);
  });

  it('expired (expires_at moved into the past), then given new days', async ({ expect }) => {
    const { link, code, get, patch } = await orgWithLink();
    await env.DB.prepare('UPDATE invite_links SET expires_at = ? WHERE id = ?')
      .bind(Date.now() - 1, link.id)
      .run();
    expect(await newcomer(code)).toEqual(GONE);
    const expired = await get();
    expect(expired).toMatchObject({ status: 'expired', enabled: true });
    // The view says `active` (it does not know the time); the API says `expired`, as the trigger does.
    const view = await env.DB.prepare(
      `SELECT json_set(resource, '$.status', 'expired') AS resource FROM invite_link_resources WHERE id = ?`,
    )
      .bind(link.id)
      .first<{ resource: string }>();
    expect(JSON.stringify(expired)).toBe(view!.resource);
    const renewed = await patch({ expires_in_days: 1 });
    expect(renewed.json.status).toBe('active');
    expect(await newcomer(code)).toEqual(JOINED);
  });

  it('used up, then given more uses', async ({ expect }) => {
    const { code, get, patch } = await orgWithLink({ role: 'viewer', max_uses: 1 });
    expect(await newcomer(code)).toEqual(JOINED);
    expect(await newcomer(code)).toEqual(GONE);
    expect(await get()).toMatchObject({ status: 'used_up', uses: 1, max_uses: 1 });
    expect((await patch({ max_uses: 2 })).json.status).toBe('active');
    expect(await newcomer(code)).toEqual(JOINED);
  });

  it('rotated: the old URL is 410, the new one works', async ({ expect }) => {
    const { owner, org, link, code } = await orgWithLink();
    const rotated = await call('POST', `${linksOf(org.id)}/${link.id}/rotate`, { token: owner.token });
    expect(rotated.status).toBe(200);
    expect(rotated.json.id).toBe(link.id);
    const fresh = codeOf(rotated.json.url);
    expect(fresh).not.toBe(code);
    // The old URL's death is an event, once (SPEC §16: invite_link.disabled covers rotation).
    expect(
      await countRows(
        'audit_events',
        `target_id = '${link.id}' AND action = 'invite_link.disabled' AND json_extract(data, '$.reason') = 'rotated'`,
      ),
    ).toBe(1);
    expect(await newcomer(code)).toEqual(GONE);
    expect(await newcomer(fresh)).toEqual(JOINED);
  });

  it('deleted', async ({ expect }) => {
    const { owner, org, link, code } = await orgWithLink();
    expect((await call('DELETE', `${linksOf(org.id)}/${link.id}`, { token: owner.token })).status).toBe(204);
    expect(await newcomer(code)).toEqual(GONE);
    const row = await env.DB.prepare('SELECT enabled, disabled_reason, deleted_at FROM invite_links WHERE id = ?')
      .bind(link.id)
      .first<{ enabled: number; disabled_reason: string; deleted_at: number | null }>();
    expect(row).toMatchObject({ enabled: 0, disabled_reason: 'deleted', deleted_at: expect.any(Number) });
    const list = await call('GET', linksOf(org.id), { token: owner.token });
    expect(list.json.data).toEqual([]);
  });
});

describe('a creator who loses authority takes their links with them, in the same batch', () => {
  /** An owner, an admin, and a link the admin created, with a webhook receiver. */
  async function adminsLink() {
    const { owner, org } = await ownerWithOrg('Authority Co');
    const admin = await addMember(owner.token, org.id, 'admin');
    const name = `creator-links-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
    await call('POST', `/v1/organizations/${org.id}/webhooks`, {
      token: owner.token,
      body: { url: `${env.TEST_WEBHOOK_RECEIVER}/hooks/ok/${name}` },
    });
    const link = (await call('POST', linksOf(org.id), { token: admin.token, body: { role: 'viewer' } })).json;
    const events = async () => {
      await drainWebhooks();
      const got = (await (await fetch(`${env.TEST_WEBHOOK_RECEIVER}/__hooks?name=${name}`)).json()) as {
        body: string;
      }[];
      return got.map((r) => JSON.parse(r.body) as { type: string; data: Record<string, unknown> });
    };
    const get = async () => (await call('GET', `${linksOf(org.id)}/${link.id}`, { token: owner.token })).json;
    return { owner, org, admin, link, code: codeOf(link.url), events, get };
  }

  it('removed: 410 at once, creator_removed with a system audit event and its webhook event; an owner can enable it again and becomes its creator', async ({
    expect,
  }) => {
    const { owner, org, admin, link, code, events, get } = await adminsLink();
    expect(await newcomer(code)).toEqual(JOINED);
    const removed = await call('DELETE', `/v1/organizations/${org.id}/members/${admin.user.id}`, {
      token: owner.token,
    });
    expect(removed.status).toBe(204);
    expect(await newcomer(code)).toEqual(GONE);
    const dead = await get();
    expect(dead).toMatchObject({ enabled: false, status: 'disabled', disabled_reason: 'creator_removed' });
    const audit = await env.DB.prepare(
      `SELECT actor_type, data FROM audit_events WHERE target_id = ? AND action = 'invite_link.disabled'`,
    )
      .bind(link.id)
      .all<{ actor_type: string; data: string }>();
    expect(audit.results.map((r) => [r.actor_type, JSON.parse(r.data).reason])).toEqual([
      ['system', 'creator_removed'],
    ]);
    const disabled = (await events()).filter((e) => e.type === 'invite_link.disabled');
    expect(disabled.map((e) => e.data)).toEqual([dead]);

    const enabled = await call('PATCH', `${linksOf(org.id)}/${link.id}`, {
      token: owner.token,
      body: { enabled: true },
    });
    expect(enabled.json).toMatchObject({ enabled: true, status: 'active', created_by: owner.user.id });
    expect(await newcomer(code)).toEqual(JOINED);
  });

  it('demoted below admin: 410 at once; leaving: 410 at once; an owner demoted to admin keeps them', async ({
    expect,
  }) => {
    const demoted = await adminsLink();
    const change = await call('PATCH', `/v1/organizations/${demoted.org.id}/members/${demoted.admin.user.id}`, {
      token: demoted.owner.token,
      body: { role: 'developer' },
    });
    expect(change.status).toBe(200);
    expect(await newcomer(demoted.code)).toEqual(GONE);
    expect((await demoted.get()).disabled_reason).toBe('creator_removed');

    const leaving = await adminsLink();
    const left = await call('DELETE', `/v1/organizations/${leaving.org.id}/members/${leaving.admin.user.id}`, {
      token: leaving.admin.token,
    });
    expect(left.status).toBe(204);
    expect(await newcomer(leaving.code)).toEqual(GONE);

    // An owner made admin is still a manager: their link stands.
    const { owner, org, admin } = await adminsLink();
    const ownersLink = (await call('POST', linksOf(org.id), { token: owner.token, body: { role: 'viewer' } })).json;
    await call('PATCH', `/v1/organizations/${org.id}/members/${admin.user.id}`, {
      token: owner.token,
      body: { role: 'owner' },
    });
    const stepDown = await call('PATCH', `/v1/organizations/${org.id}/members/${owner.user.id}`, {
      token: admin.token,
      body: { role: 'admin' },
    });
    expect(stepDown.status).toBe(200);
    expect(await newcomer(codeOf(ownersLink.url))).toEqual(JOINED);
  });

  it('a link rotated or enabled again by an admin becomes theirs: it dies with their authority', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Takeover Co');
    const admin = await addMember(owner.token, org.id, 'admin');
    const rotatedLink = (await call('POST', linksOf(org.id), { token: owner.token, body: { role: 'viewer' } })).json;
    const rotated = await call('POST', `${linksOf(org.id)}/${rotatedLink.id}/rotate`, { token: admin.token });
    expect(rotated.json.created_by).toBe(admin.user.id);
    const enabledLink = (await call('POST', linksOf(org.id), { token: owner.token, body: { role: 'viewer' } })).json;
    await call('PATCH', `${linksOf(org.id)}/${enabledLink.id}`, { token: owner.token, body: { enabled: false } });
    const enabled = await call('PATCH', `${linksOf(org.id)}/${enabledLink.id}`, {
      token: admin.token,
      body: { enabled: true },
    });
    expect(enabled.json.created_by).toBe(admin.user.id);
    // Changing uses or expiry takes nothing over.
    const edited = (await call('POST', linksOf(org.id), { token: owner.token, body: { role: 'viewer' } })).json;
    const patched = await call('PATCH', `${linksOf(org.id)}/${edited.id}`, {
      token: admin.token,
      body: { max_uses: 50 },
    });
    expect(patched.json.created_by).toBe(owner.user.id);

    await call('DELETE', `/v1/organizations/${org.id}/members/${admin.user.id}`, { token: owner.token });
    expect(await newcomer(codeOf(rotated.json.url))).toEqual(GONE);
    expect(await newcomer(codeOf(enabledLink.url))).toEqual(GONE);
    expect(await newcomer(codeOf(edited.url))).toEqual(JOINED);
    expect(
      await countRows('invite_links', `organization_id = '${org.id}' AND disabled_reason = 'creator_removed'`),
    ).toBe(2);
  });
});

describe('the invite link page, /join/{code}', () => {
  it('shows the organization and the role, consumes nothing, is never cached and sends no referrer; a dead link is the 410 page', async ({
    expect,
  }) => {
    const { org, link, code, get, patch } = await orgWithLink({ role: 'billing', requires_approval: true });
    const page = await new Browser().get(`/join/${code}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('Cache-Control')).toBe('no-store');
    expect(page.headers.get('Referrer-Policy')).toBe('no-referrer');
    expect(page.html).toContain(`Join ${org.name}`);
    expect(page.html).toContain('Billing');
    expect(page.html).toContain('approves each request');
    expect(page.html).toContain(`name="next" value="/join/${code}"`);
    expect((await get()).uses).toBe(0);
    const member = new Browser().signInAs((await signUp(uniqueEmail('viewer'))).token);
    expect((await member.get(`/join/${code}`)).html).toContain(`Ask to join ${org.name}`);
    expect((await get()).uses).toBe(0);
    await patch({ enabled: false });
    const dead = await new Browser().get(`/join/${code}`);
    expect(dead.status).toBe(410);
    expect(dead.html).toContain('Invite link no longer valid');
    expect((await new Browser().get('/join/not-a-code')).status).toBe(410);
    expect(link.id).toMatch(/^lnk_/);
  });

  it('signed out: the emailed sign-in link (or sign-up) comes back to the page; the form joins and lands on the team page', async ({
    expect,
  }) => {
    const { org, code, get } = await orgWithLink({ role: 'developer' });
    const lines: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...args) => void lines.push(args.map(String).join(' ')));
    const b = new Browser();
    await b.get(`/join/${code}`);
    const email = uniqueEmail('visitor');
    const sent = await b.post('/sign-in', { email, next: `/join/${code}` });
    expect(sent.status).toBe(200);
    const verified = await b.post('/auth/verify', { token: await lastToken(email, 'sign-in'), name: 'Vi Visitor' });
    expect(verified.status).toBe(303);
    expect(verified.location).toBe(`/join/${code}`);
    const page = await b.get(verified.location!);
    expect(page.html).toContain(`Join ${org.name}`);
    expect((await get()).uses).toBe(0);
    const joined = await b.post(`/join/${code}`, {});
    expect(joined.status).toBe(303);
    expect(joined.location).toBe(`/orgs/${org.slug}/settings/team`);
    expect((await get()).uses).toBe(1);
    expect((await b.get(joined.location!)).status).toBe(200);
    // The pages' log lines name the route pattern, never the code.
    try {
      // (Lines of the previous test's requests may land here too: at least this test's three.)
      await vi.waitFor(() =>
        expect(lines.filter((l) => l.includes('"route":"/join/:code"')).length).toBeGreaterThanOrEqual(3),
      );
    } finally {
      log.mockRestore();
    }
    expect(lines.filter((l) => l.includes(code))).toEqual([]);
    // The remembered path is used once: the next sign-in goes home.
    await b.post('/sign-out', {});
    await b.post('/sign-in', { email });
    expect((await b.post('/auth/verify', { token: await lastToken(email, 'sign-in') })).location).toBe('/');
  });

  it('the return path is a same-site path only: another site, or a protocol-relative one, goes home', async ({
    expect,
  }) => {
    for (const next of ['https://evil.example/join/x', '//evil.example/join/x', '/\\evil.example', 'join/x']) {
      const b = new Browser();
      await b.get('/sign-in');
      const email = uniqueEmail('redirect');
      await b.post('/sign-in', { email, next });
      const verified = await b.post('/auth/verify', { token: await lastToken(email, 'sign-in'), name: 'Red Irect' });
      expect([next, verified.location]).toEqual([next, '/']);
    }
  });

  it('a link that requires approval: "Request sent"; refusals say why (seats: 409), a dead link is 410, no CSRF token is 403', async ({
    expect,
  }) => {
    const { owner, org, code } = await orgWithLink({ role: 'viewer', requires_approval: true });
    const asker = new Browser().signInAs((await signUp(uniqueEmail('asker'))).token);
    await asker.get(`/join/${code}`);
    const asked = await asker.post(`/join/${code}`, {});
    expect(asked.status).toBe(200);
    expect(asked.html).toContain('Request sent');
    expect(await countRows('join_requests', `organization_id = '${org.id}' AND status = 'pending'`)).toBe(1);

    const open = (await call('POST', linksOf(org.id), { token: owner.token, body: { role: 'viewer' } })).json;
    await call('PATCH', `/v1/organizations/${org.id}`, { token: owner.token, body: { seat_limit: 1 } });
    const full = new Browser().signInAs((await signUp(uniqueEmail('full'))).token);
    await full.get(`/join/${codeOf(open.url)}`);
    const refused = await full.post(`/join/${codeOf(open.url)}`, {});
    expect(refused.status).toBe(409);
    expect(refused.html).toContain(`Could not join ${org.name}`);
    expect(refused.html).toContain('no seat left');
    const forged = await full.post(`/join/${codeOf(open.url)}`, { _csrf: 'forged' });
    expect(forged.status).toBe(403);
    await call('DELETE', `${linksOf(org.id)}/${open.id}`, { token: owner.token });
    expect((await full.post(`/join/${codeOf(open.url)}`, {})).status).toBe(410);
    expect(await countRows('memberships', `organization_id = '${org.id}'`)).toBe(1);
  });
});
