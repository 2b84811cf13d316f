import { env } from 'cloudflare:workers';
import { describe, it } from 'vitest';
import { Browser } from './browser-client';
import { call, countRows, ownerWithOrg, signUp } from './helpers';

/*
 * Domain join (SPEC §16): an account whose email is at an organization's verified domain sees it
 * among its suggestions and joins it (`auto`) or asks to (`request`); anyone else gets 404.
 */

let n = 0;
const uniqueDomain = (label = 'corp') => `${label}-${Date.now().toString(36)}-${++n}.com`;
const person = (domain: string, label = 'p') => `${label}.${Date.now().toString(36)}.${++n}@${domain}`;

async function setTxt(name: string, records: string[][]) {
  const res = await fetch(new URL('/__records', env.DOH_URL), {
    method: 'PUT',
    body: JSON.stringify({ name, records }),
  });
  if (!res.ok) throw new Error(`stand-in: ${res.status}`);
}

/** `domain` added to `org` and, unless `pending`, verified through the resolver stand-in. */
async function withDomain(token: string, org: string, domain: string, opts: { pending?: boolean } = {}) {
  const added = await call('POST', `/v1/organizations/${org}/domains`, { token, body: { domain } });
  if (added.status !== 201) throw new Error(`add: ${added.status} ${added.text}`);
  if (opts.pending) return added.json.id as string;
  await setTxt(added.json.verification.name, [[added.json.verification.value]]);
  const verified = await call('POST', `/v1/organizations/${org}/domains/${added.json.id}/verify`, { token });
  if (verified.status !== 200) throw new Error(`verify: ${verified.status} ${verified.text}`);
  return added.json.id as string;
}

async function settings(token: string, org: string, body: Record<string, unknown>) {
  const res = await call('PATCH', `/v1/organizations/${org}`, { token, body });
  if (res.status !== 200) throw new Error(`settings: ${res.status} ${res.text}`);
}

/** An organization with `domain` verified and domain join set. */
async function openOrg(domain: string, join: 'off' | 'request' | 'auto', extra: Record<string, unknown> = {}) {
  const { owner, org } = await ownerWithOrg(`Org of ${domain}`);
  await withDomain(owner.token, org.id, domain);
  await settings(owner.token, org.id, { domain_join: join, ...extra });
  return { owner, org, domain };
}

const suggestions = async (token: string) =>
  (await call('GET', '/v1/me/suggested-organizations', { token })).json.data as { id: string; join: string }[];
const join = (token: string | undefined, org: string) => call('POST', `/v1/organizations/${org}/join`, { token });

describe('GET /v1/me/suggested-organizations', () => {
  it('lists exactly the organizations whose verified domain is the email’s domain, open to joining, not yet joined', async ({
    expect,
  }) => {
    const domain = uniqueDomain();
    const auto = await openOrg(domain, 'auto');
    const subdomain = `eu.${domain}`;
    const other = uniqueDomain('other');
    // Open to joining, but its domain is another one, or only pending, or a subdomain.
    const byOther = await openOrg(other, 'auto');
    const pendingOnly = await ownerWithOrg('Pending Co');
    await withDomain(pendingOnly.owner.token, pendingOnly.org.id, subdomain, { pending: true });
    await settings(pendingOnly.owner.token, pendingOnly.org.id, { domain_join: 'auto' });

    const alice = await signUp(person(domain, 'alice'));
    const res = await call('GET', '/v1/me/suggested-organizations', { token: alice.token });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      data: [{ id: auto.org.id, name: auto.org.name, slug: auto.org.slug, join: 'auto' }],
    });
    expect(await suggestions((await signUp(person(subdomain, 'sub'))).token)).toEqual([]);
    expect((await suggestions((await signUp(person(other, 'oth'))).token)).map((s) => s.id)).toEqual([byOther.org.id]);

    // `request` says so; `off` hides it; once a member, it is no suggestion.
    await settings(auto.owner.token, auto.org.id, { domain_join: 'request' });
    expect((await suggestions(alice.token)).map((s) => s.join)).toEqual(['request']);
    await settings(auto.owner.token, auto.org.id, { domain_join: 'off' });
    expect(await suggestions(alice.token)).toEqual([]);
    await settings(auto.owner.token, auto.org.id, { domain_join: 'auto' });
    expect((await join(alice.token, auto.org.id)).status).toBe(200);
    expect(await suggestions(alice.token)).toEqual([]);

    expect((await call('GET', '/v1/me/suggested-organizations')).status).toBe(401);
  });
});

describe('POST /v1/organizations/{org}/join', () => {
  it('auto: a member with domain_join_role at once; member.added says via domain; twice: 409 already_member', async ({
    expect,
  }) => {
    const domain = uniqueDomain();
    const { org } = await openOrg(domain, 'auto', { domain_join_role: 'developer' });
    const bob = await signUp(person(domain, 'bob'), 'Bob Domain');
    const res = await join(bob.token, org.slug);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ organization: { id: org.id, name: org.name, slug: org.slug }, role: 'developer' });
    const me = await call('GET', '/v1/me', { token: bob.token });
    expect(me.json.organizations).toEqual([{ id: org.id, name: org.name, slug: org.slug, role: 'developer' }]);
    const audit = await env.DB.prepare(
      "SELECT data FROM audit_events WHERE organization_id = ? AND action = 'member.added' AND target_id = ?",
    )
      .bind(org.id, bob.user.id)
      .first<{ data: string }>();
    expect(JSON.parse(audit!.data)).toMatchObject({ via: 'domain', role: 'developer', email: bob.email, domain });
    const again = await join(bob.token, org.id);
    expect(again.status).toBe(409);
    expect(again.json.code).toBe('already_member');
  });

  it('request: 202 with the join request (the view’s JSON); owners are emailed; asking again: 409', async ({
    expect,
  }) => {
    const domain = uniqueDomain();
    const { org } = await openOrg(domain, 'request', { domain_join_role: 'billing' });
    const carol = await signUp(person(domain, 'carol'), 'Carol Asks');
    const res = await join(carol.token, org.id);
    expect(res.status).toBe(202);
    expect(res.json.join_request).toMatchObject({
      organization_id: org.id,
      user: { id: carol.user.id, email: carol.email, name: 'Carol Asks' },
      source: 'domain',
      link_id: null,
      role: 'billing',
      status: 'pending',
    });
    const view = await env.DB.prepare('SELECT resource FROM join_request_resources WHERE id = ?')
      .bind(res.json.join_request.id)
      .first<{ resource: string }>();
    expect(res.text).toBe(`{"join_request":${view!.resource}}`);
    expect(await countRows('memberships', `organization_id = '${org.id}' AND user_id = '${carol.user.id}'`)).toBe(0);
    expect(
      await countRows('outbox', `kind = 'join_request_email' AND subject_id = '${res.json.join_request.id}'`),
    ).toBe(1);
    const again = await join(carol.token, org.id);
    expect(again.status).toBe(409);
    expect(again.json.code).toBe('invalid_state');
    expect(await countRows('join_requests', `organization_id = '${org.id}'`)).toBe(1);
  });

  it('anyone else gets 404: another domain, domain join off, a domain only pending, a subdomain, no such organization', async ({
    expect,
  }) => {
    const domain = uniqueDomain();
    const open = await openOrg(domain, 'auto');
    const off = await openOrg(uniqueDomain(), 'off');
    const pending = await ownerWithOrg('Pending');
    const pendingDomain = uniqueDomain();
    await withDomain(pending.owner.token, pending.org.id, pendingDomain, { pending: true });
    await settings(pending.owner.token, pending.org.id, { domain_join: 'auto' });

    const stranger = await signUp(person(uniqueDomain('elsewhere'), 'eve'));
    const offPerson = await signUp(person(off.domain, 'off'));
    const pendingPerson = await signUp(person(pendingDomain, 'pend'));
    const subPerson = await signUp(person(`sub.${domain}`, 'sub'));
    const cases: [string, string, string][] = [
      ['another domain', stranger.token, open.org.id],
      ['join off', offPerson.token, off.org.id],
      ['pending domain', pendingPerson.token, pending.org.id],
      ['subdomain', subPerson.token, open.org.id],
      ['no such organization (slug)', stranger.token, 'no-such-org-anywhere'],
      ['no such organization (id)', stranger.token, 'org_00000000000000000000'],
    ];
    for (const [label, token, org] of cases) {
      const res = await join(token, org);
      expect(res.status, label).toBe(404);
      expect(res.json.code, label).toBe('not_found');
    }
    for (const org of [open.org.id, off.org.id, pending.org.id]) {
      expect(await countRows('memberships', `organization_id = '${org}'`)).toBe(1);
      expect(await countRows('join_requests', `organization_id = '${org}'`)).toBe(0);
    }
    const unauthenticated = await join(undefined, open.org.id);
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.headers.get('content-type')).toBe('application/problem+json');
  });

  it('the organization’s allowed email domains still apply (422 email_domain_not_allowed)', async ({ expect }) => {
    const domain = uniqueDomain();
    const { org } = await openOrg(domain, 'auto', { allowed_email_domains: ['only-this.com'] });
    const dana = await signUp(person(domain, 'dana'));
    expect(await suggestions(dana.token)).toEqual([]);
    const res = await join(dana.token, org.id);
    expect(res.status).toBe(422);
    expect(res.json.code).toBe('email_domain_not_allowed');
  });

  it('20 accounts at the domain joining at once with 5 seats free: exactly 5 members, 15 × 409 seat_limit', async ({
    expect,
  }) => {
    const domain = uniqueDomain('seats');
    // The owner holds one seat: 6 seats leave 5.
    const { org } = await openOrg(domain, 'auto', { seat_limit: 6 });
    const people = [];
    for (let i = 0; i < 20; i++) people.push(await signUp(person(domain, `s${i}`)));
    const results = await Promise.all(people.map((p) => join(p.token, org.id)));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.filter((s) => s === 409)).toHaveLength(15);
    expect(results.filter((r) => r.status === 409).every((r) => r.json.code === 'seat_limit')).toBe(true);
    expect(await countRows('memberships', `organization_id = '${org.id}'`)).toBe(6);
    expect(
      await countRows(
        'audit_events',
        `organization_id = '${org.id}' AND action = 'member.added' AND json_extract(data, '$.via') = 'domain'`,
      ),
    ).toBe(5);
  });
});

describe('the dashboard: "Organizations you can join"', () => {
  it('lists the suggestions with Join and Ask to join forms; joining lands in the organization; a request says it was sent', async ({
    expect,
  }) => {
    const domain = uniqueDomain('dash');
    const auto = await openOrg(domain, 'auto');
    const asks = await ownerWithOrg('Asks Co');
    // One verified organization per domain: the second one is at the same people's other domain.
    const alias = uniqueDomain('alias');
    await withDomain(asks.owner.token, asks.org.id, alias);
    await settings(asks.owner.token, asks.org.id, { domain_join: 'request' });

    const frank = await signUp(person(domain, 'frank'), 'Frank Home');
    const b = new Browser().signInAs(frank.token);
    const home = await b.get('/');
    expect(home.status).toBe(200);
    expect(home.html).toContain('Organizations you can join');
    expect(home.html).toContain(`action="/orgs/${auto.org.slug}/join"`);
    expect(home.html).toMatch(/name="_csrf" value="[\w-]{43}"/);
    // Without the CSRF token: refused, nothing written.
    const forged = await b.post(`/orgs/${auto.org.slug}/join`, { _csrf: 'x'.repeat(43) });
    expect(forged.status).toBe(403);
    expect(await countRows('memberships', `organization_id = '${auto.org.id}'`)).toBe(1);
    const joined = await b.post(`/orgs/${auto.org.slug}/join`, {});
    expect(joined.status).toBe(303);
    expect(joined.location).toBe(`/orgs/${auto.org.slug}/settings/team`);
    expect(await countRows('memberships', `organization_id = '${auto.org.id}' AND user_id = '${frank.user.id}'`)).toBe(
      1,
    );
    // Nothing left to join: home is the organization again.
    expect((await b.get('/')).location).toBe(`/orgs/${auto.org.slug}/settings/team`);

    const grace = await signUp(person(alias, 'grace'), 'Grace Asks');
    const g = new Browser().signInAs(grace.token);
    const page = await g.get('/');
    expect(page.html).toContain('Ask to join');
    const asked = await g.post(`/orgs/${asks.org.slug}/join`, {});
    expect(asked.status).toBe(303);
    expect(asked.location).toBe('/?notice=requested');
    const after = await g.get(asked.location!);
    expect(after.html).toContain('Request sent. The organization’s owners and admins will decide');
    expect(after.html).toContain('<span class="badge pending">Request sent</span>');
    expect(after.html).not.toContain(`action="/orgs/${asks.org.slug}/join"`);
    // An organization the visitor cannot join: back home with plain words, nothing written.
    const refused = await g.post(`/orgs/${auto.org.slug}/join`, {});
    expect(refused.location).toBe('/?error=not_found');
    expect((await g.get('/?error=not_found')).html).toContain('You cannot join that organization');
    expect(await countRows('memberships', `organization_id = '${auto.org.id}' AND user_id = '${grace.user.id}'`)).toBe(
      0,
    );
  });

  it('is not shown when there is nothing to join', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Plain Co');
    const home = await new Browser().signInAs(owner.token).get('/');
    expect(home.status).toBe(303);
    expect(home.location).toBe(`/orgs/${org.slug}/settings/team`);
    const team = await new Browser().signInAs(owner.token).get(home.location!);
    expect(team.html).not.toContain('Organizations you can join');
  });
});
