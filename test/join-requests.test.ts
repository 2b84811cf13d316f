import { env } from 'cloudflare:workers';
import { drizzle } from 'drizzle-orm/d1';
import { describe, it } from 'vitest';
import { runBatch } from '../src/db/batch';
import { requestStatements } from '../src/joins/join-sql';
import { newId } from '../src/lib/ids';
import {
  addMember,
  call,
  countRows,
  drainOutbox,
  drainWebhooks,
  lastToken,
  ownerWithOrg,
  signUp,
  uniqueEmail,
} from './helpers';

/*
 * Join requests (SPEC §16): the owners' and admins' decisions (approve, reject), the requester's
 * list and withdrawal, their events and their refusals.
 *
 * Requests are filed here with `requestStatements` (src/joins/join-sql.ts), the statements a link
 * that requires approval and a domain join with `domain_join` = `request` both run in their
 * coordinator: the same rows, audit event and owner emails, without depending on those routes.
 */

type Account = Awaited<ReturnType<typeof signUp>>;

/** Files a pending request by `requester` to `orgId`, as the ways in do; returns its id. */
async function fileRequest(orgId: string, requester: Account, role = 'developer', opts: { drain?: boolean } = {}) {
  const id = newId('jrq');
  const ctx = {
    db: drizzle(env.DB),
    organizationId: orgId,
    actor: { userId: requester.user.id, ip: null, userAgent: null },
    now: Date.now(),
  };
  const joiner = { id: requester.user.id, email: requester.email };
  const request = { id, source: 'domain' as const, linkId: null, role: role as 'developer' };
  const [inserted] = await runBatch(ctx.db, requestStatements(ctx, joiner, request, []));
  if (inserted.meta.changes !== 1) throw new Error('request not filed');
  if (opts.drain !== false) await drainOutbox();
  return id;
}

const base = (org: string) => `/v1/organizations/${org}/join-requests`;
const approve = (token: string, org: string, id: string, body?: unknown) =>
  call('POST', `${base(org)}/${id}/approve`, { token, body });
const reject = (token: string, org: string, id: string, body?: unknown) =>
  call('POST', `${base(org)}/${id}/reject`, { token, body });
const statusOf = async (id: string) =>
  (await env.DB.prepare('SELECT status FROM join_requests WHERE id = ?').bind(id).first<{ status: string }>())?.status;
const isMember = async (org: string, userId: string) =>
  (await countRows('memberships', `organization_id = '${org}' AND user_id = '${userId}'`)) === 1;
const viewResource = async (id: string) =>
  (await env.DB.prepare('SELECT resource FROM join_request_resources WHERE id = ?')
    .bind(id)
    .first<{ resource: string }>())!.resource;

describe('the join request resource', () => {
  it('is the view’s JSON byte for byte, in the list, after a rejection and in the requester’s list', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Résumé "Quoted" Inc');
    const requester = await signUp(uniqueEmail('quoted'), 'Zoë "Q" \\ Ünïcode 🎉');
    const id = await fileRequest(org.id, requester, 'viewer');
    const list = await call('GET', base(org.id), { token: owner.token });
    expect(list.status).toBe(200);
    expect(list.text).toBe(`{"data":[${await viewResource(id)}],"next_cursor":null}`);
    expect(list.json.data[0]).toMatchObject({
      id,
      organization_id: org.id,
      user: { id: requester.user.id, email: requester.email, name: 'Zoë "Q" \\ Ünïcode 🎉' },
      source: 'domain',
      link_id: null,
      role: 'viewer',
      status: 'pending',
      reason: null,
      decided_at: null,
      decided_by: null,
    });
    const rejected = await reject(owner.token, org.id, id, { reason: '  Not "now" \\ \n maybe later 🙂  ' });
    expect(rejected.status).toBe(200);
    expect(rejected.text).toBe(await viewResource(id));
    expect(rejected.json).toMatchObject({
      status: 'rejected',
      reason: 'Not "now" \\ \n maybe later 🙂',
      decided_by: owner.user.id,
    });
    const mine = await call('GET', '/v1/me/join-requests', { token: requester.token });
    expect(mine.status).toBe(200);
    expect(mine.json.data).toEqual([
      { ...rejected.json, organization: { id: org.id, name: org.name, slug: org.slug } },
    ]);
  });

  it('lists newest first, filters by status, pages with a cursor', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await fileRequest(org.id, await signUp(uniqueEmail('req'))));
    expect((await reject(owner.token, org.id, ids[0])).status).toBe(200);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; json: { data: { id: string }[]; next_cursor: string | null } } = await call(
        'GET',
        `${base(org.id)}?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        { token: owner.token },
      );
      expect(page.status).toBe(200);
      expect(page.json.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.json.data.map((r) => r.id));
      cursor = page.json.next_cursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
    const pending = await call('GET', `${base(org.id)}?status=pending`, { token: owner.token });
    expect(pending.json.data.map((r: { id: string }) => r.id)).toEqual(ids.slice(1).reverse());
    const rejected = await call('GET', `${base(org.id)}?status=rejected`, { token: owner.token });
    expect(rejected.json.data.map((r: { id: string }) => r.id)).toEqual([ids[0]]);
  });
});

describe('approving', () => {
  it('makes the requester a member with the request’s role, answers the request and the member', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg();
    const requester = await signUp(uniqueEmail('joiner'), 'Jo Joiner');
    const id = await fileRequest(org.id, requester, 'billing');
    const res = await approve(owner.token, org.id, id);
    expect(res.status).toBe(200);
    expect(res.json.join_request).toEqual(JSON.parse(await viewResource(id)));
    expect(res.json.join_request).toMatchObject({ status: 'approved', role: 'billing', decided_by: owner.user.id });
    expect(res.json.member).toMatchObject({ user_id: requester.user.id, email: requester.email, role: 'billing' });
    const members = await call('GET', `/v1/organizations/${org.id}/members`, { token: owner.token });
    expect(members.json.data).toContainEqual(res.json.member);
    // The new member sees the organization.
    const me = await call('GET', '/v1/me', { token: requester.token });
    expect(me.json.organizations).toContainEqual({ id: org.id, name: org.name, slug: org.slug, role: 'billing' });
    const audit = await call('GET', `/v1/organizations/${org.id}/audit-log?limit=5`, { token: owner.token });
    const actions = audit.json.data.map((e: { action: string }) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['member.added', 'join_request.approved']));
    // Decided: a second approval, or a rejection, is refused and changes nothing.
    expect((await approve(owner.token, org.id, id)).json.code).toBe('invalid_state');
    expect((await reject(owner.token, org.id, id)).json.code).toBe('invalid_state');
    expect(await statusOf(id)).toBe('approved');
  });

  it('two admins approving the same request at once: one member, one success, one 409', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg();
    const [a, b] = [await addMember(owner.token, org.id, 'admin'), await addMember(owner.token, org.id, 'admin')];
    const requester = await signUp();
    const id = await fileRequest(org.id, requester);
    const results = await Promise.all([approve(a.token, org.id, id), approve(b.token, org.id, id)]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    expect(results.find((r) => r.status === 409)!.json.code).toBe('invalid_state');
    expect(await countRows('memberships', `organization_id = '${org.id}' AND user_id = '${requester.user.id}'`)).toBe(
      1,
    );
    expect(await countRows('audit_events', `target_id = '${id}' AND action = 'join_request.approved'`)).toBe(1);
    expect(await countRows('audit_events', `target_id = '${requester.user.id}' AND action = 'member.added'`)).toBe(1);
  });

  it('ten concurrent approvals and rejections: exactly one decision, and a member only when it was approval', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg();
    const admin = await addMember(owner.token, org.id, 'admin');
    for (let round = 0; round < 3; round++) {
      const requester = await signUp();
      const id = await fileRequest(org.id, requester);
      const calls = Array.from({ length: 10 }, (_, i) =>
        i % 2 === round % 2
          ? approve(i % 3 ? owner.token : admin.token, org.id, id)
          : reject(i % 3 ? admin.token : owner.token, org.id, id, { reason: `no ${i}` }),
      );
      const results = await Promise.all(calls);
      const won = results.filter((r) => r.status === 200);
      expect(won).toHaveLength(1);
      expect(results.filter((r) => r.status === 409 && r.json.code === 'invalid_state')).toHaveLength(9);
      const decided = await statusOf(id);
      expect(['approved', 'rejected']).toContain(decided);
      expect(await isMember(org.id, requester.user.id)).toBe(decided === 'approved');
      expect(
        await countRows(
          'audit_events',
          `target_id = '${id}' AND action IN ('join_request.approved', 'join_request.rejected')`,
        ),
      ).toBe(1);
      expect(await countRows('outbox', `subject_id = '${id}' AND kind = 'join_decision_email'`)).toBe(1);
    }
  });

  it('with every seat taken: 409 seat_limit, the request stays pending; with a seat freed, it goes through', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg();
    const requester = await signUp();
    const id = await fileRequest(org.id, requester);
    const patched = await call('PATCH', `/v1/organizations/${org.id}`, { token: owner.token, body: { seat_limit: 1 } });
    expect(patched.json).toMatchObject({ seat_limit: 1, seats_used: 1 });
    const refused = await approve(owner.token, org.id, id);
    expect(refused.status).toBe(409);
    expect(refused.json.code).toBe('seat_limit');
    expect(await statusOf(id)).toBe('pending');
    expect(await isMember(org.id, requester.user.id)).toBe(false);
    expect(await countRows('outbox', `subject_id = '${id}' AND kind = 'join_decision_email'`)).toBe(0);
    await call('PATCH', `/v1/organizations/${org.id}`, { token: owner.token, body: { seat_limit: 2 } });
    expect((await approve(owner.token, org.id, id)).status).toBe(200);
    const after = await call('GET', `/v1/organizations/${org.id}`, { token: owner.token });
    expect(after.json).toMatchObject({ seat_limit: 2, seats_used: 2 });
  });

  it('an admin cannot grant owner or admin (403, still pending); an owner grants admin', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg();
    const admin = await addMember(owner.token, org.id, 'admin');
    const requester = await signUp();
    const id = await fileRequest(org.id, requester);
    for (const role of ['owner', 'admin']) {
      const res = await approve(admin.token, org.id, id, { role });
      expect(res.status, role).toBe(403);
      expect(res.json.code).toBe('forbidden');
    }
    expect(await statusOf(id)).toBe('pending');
    expect(await isMember(org.id, requester.user.id)).toBe(false);
    const granted = await approve(owner.token, org.id, id, { role: 'admin' });
    expect(granted.status).toBe(200);
    expect(granted.json.member.role).toBe('admin');
    expect(granted.json.join_request.role).toBe('admin');
    // The new admin manages: they see the join requests.
    expect((await call('GET', base(org.id), { token: requester.token })).status).toBe(200);
  });

  it('an admin grants another join role than asked for', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg();
    const admin = await addMember(owner.token, org.id, 'admin');
    const requester = await signUp();
    const id = await fileRequest(org.id, requester, 'developer');
    const res = await approve(admin.token, org.id, id, { role: 'viewer' });
    expect(res.status).toBe(200);
    expect(res.json.member.role).toBe('viewer');
  });

  it('a requester who became a member another way: 409 already_member, and the request is closed', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg();
    const requester = await signUp();
    const id = await fileRequest(org.id, requester);
    // An invitation accepted meanwhile.
    await call('POST', `/v1/organizations/${org.id}/invitations`, {
      token: owner.token,
      body: { email: requester.email, role: 'viewer' },
    });
    const accepted = await call('POST', '/v1/invitations/accept', {
      token: requester.token,
      body: { token: await lastToken(requester.email) },
    });
    expect(accepted.status).toBe(200);
    // The accept closed the request in its own batch: there is nothing left to approve.
    expect(await statusOf(id)).toBe('withdrawn');
    const res = await approve(owner.token, org.id, id);
    expect(res.status).toBe(409);
    expect(res.json.code).toBe('invalid_state');
    const pending = await call('GET', `${base(org.id)}?status=pending`, { token: owner.token });
    expect(pending.json.data).toEqual([]);
    // Still a viewer: the approval changed nothing of the membership.
    const members = await call('GET', `/v1/organizations/${org.id}/members`, { token: owner.token });
    expect(members.json.data.find((m: { user_id: string }) => m.user_id === requester.user.id).role).toBe('viewer');
  });

  it('a pending request of someone already a member (a membership no way in made, e.g. restored data): 409 already_member, and the request is closed', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg();
    const requester = await signUp();
    const id = await fileRequest(org.id, requester);
    const now = Date.now();
    await env.DB.prepare(
      `INSERT INTO memberships (organization_id, user_id, role, created_at, updated_at) VALUES (?, ?, 'viewer', ?, ?)`,
    )
      .bind(org.id, requester.user.id, now, now)
      .run();
    const res = await approve(owner.token, org.id, id);
    expect(res.status).toBe(409);
    expect(res.json.code).toBe('already_member');
    expect(await statusOf(id)).toBe('withdrawn');
    expect(await countRows('outbox', `kind = 'join_decision_email' AND subject_id = '${id}'`)).toBe(0);
  });

  it('unknown ids and another organization’s requests are 404', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg();
    const other = await ownerWithOrg('Other');
    const theirs = await fileRequest(other.org.id, await signUp());
    for (const id of [theirs, newId('jrq')]) {
      expect((await approve(owner.token, org.id, id)).status).toBe(404);
      expect((await reject(owner.token, org.id, id)).status).toBe(404);
    }
    expect(await statusOf(theirs)).toBe('pending');
  });
});

describe('withdrawing', () => {
  it('own pending → 204 and gone from the pending list; someone else’s → 404; decided → 409; signed out → 401', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg();
    const requester = await signUp();
    const stranger = await signUp();
    const id = await fileRequest(org.id, requester);
    expect((await call('DELETE', `/v1/me/join-requests/${id}`, { token: stranger.token })).status).toBe(404);
    expect((await call('DELETE', `/v1/me/join-requests/${id}`, { token: owner.token })).status).toBe(404);
    expect((await call('DELETE', `/v1/me/join-requests/${id}`)).status).toBe(401);
    expect((await call('DELETE', `/v1/me/join-requests/${id}`, { token: '8b_ses_dead' })).status).toBe(401);
    expect(await statusOf(id)).toBe('pending');
    const withdrawn = await call('DELETE', `/v1/me/join-requests/${id}`, { token: requester.token });
    expect(withdrawn.status).toBe(204);
    const pending = await call('GET', `${base(org.id)}?status=pending`, { token: owner.token });
    expect(pending.json.data).toEqual([]);
    const mine = await call('GET', '/v1/me/join-requests', { token: requester.token });
    expect(mine.json.data[0]).toMatchObject({ id, status: 'withdrawn', decided_by: requester.user.id });
    const again = await call('DELETE', `/v1/me/join-requests/${id}`, { token: requester.token });
    expect(again.status).toBe(409);
    expect(again.json.code).toBe('invalid_state');
    expect((await approve(owner.token, org.id, id)).json.code).toBe('invalid_state');
    expect(await countRows('audit_events', `target_id = '${id}' AND action = 'join_request.withdrawn'`)).toBe(1);
    // A decided request cannot be withdrawn either.
    const decided = await fileRequest(org.id, requester);
    expect((await reject(owner.token, org.id, decided)).status).toBe(200);
    expect((await call('DELETE', `/v1/me/join-requests/${decided}`, { token: requester.token })).status).toBe(409);
    expect(await statusOf(decided)).toBe('rejected');
    expect((await call('DELETE', `/v1/me/join-requests/${newId('jrq')}`, { token: requester.token })).status).toBe(404);
  });
});

describe('webhooks', () => {
  const received = async (name: string): Promise<{ body: string }[]> =>
    (await fetch(`${env.TEST_WEBHOOK_RECEIVER}/__hooks?name=${name}`)).json();

  it('join_request.approved and .rejected carry the API resource; member.added says via request', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg();
    const name = `jrq-${Date.now().toString(36)}`;
    const hook = await call('POST', `/v1/organizations/${org.id}/webhooks`, {
      token: owner.token,
      body: { url: `${env.TEST_WEBHOOK_RECEIVER}/hooks/ok/${name}` },
    });
    expect(hook.status).toBe(201);
    const joiner = await signUp();
    const approvedId = await fileRequest(org.id, joiner, 'viewer');
    const approved = await approve(owner.token, org.id, approvedId, { role: 'developer' });
    const rejectedId = await fileRequest(org.id, await signUp());
    const rejected = await reject(owner.token, org.id, rejectedId, { reason: 'Sorry' });
    await drainWebhooks();
    const events = (await received(name)).map((h) => JSON.parse(h.body) as { type: string; data: unknown });
    const of = (type: string) => events.filter((e) => e.type === type).map((e) => e.data);
    expect(of('join_request.approved')).toEqual([approved.json.join_request]);
    expect(of('join_request.rejected')).toEqual([rejected.json]);
    expect(of('join_request.created')).toHaveLength(2);
    expect(of('member.added')).toEqual([
      { organization_id: org.id, user_id: joiner.user.id, email: joiner.email, role: 'developer', via: 'request' },
    ]);
  });
});

describe('who may', () => {
  it('list, approve and reject: owners and admins; developer, viewer and billing 403; others 404; nobody 401', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg();
    const members = {
      developer: await addMember(owner.token, org.id, 'developer'),
      viewer: await addMember(owner.token, org.id, 'viewer'),
      billing: await addMember(owner.token, org.id, 'billing'),
    };
    const admin = await addMember(owner.token, org.id, 'admin');
    const outsider = await signUp();
    const id = await fileRequest(org.id, await signUp());
    const routes = [
      (t?: string) => call('GET', base(org.id), { token: t }),
      (t?: string) => approve(t as string, org.id, id),
      (t?: string) => reject(t as string, org.id, id),
    ];
    for (const route of routes) {
      for (const [role, m] of Object.entries(members)) {
        const res = await route(m.token);
        expect(res.status, role).toBe(403);
        expect(res.json.code).toBe('forbidden');
      }
      expect((await route(outsider.token)).status).toBe(404);
      expect((await route(undefined)).status).toBe(401);
      expect((await route('8b_ses_not_a_session')).status).toBe(401);
    }
    expect(await statusOf(id)).toBe('pending');
    expect((await call('GET', base(org.id), { token: admin.token })).status).toBe(200);
    expect((await reject(admin.token, org.id, id)).status).toBe(200);
    const next = await fileRequest(org.id, await signUp());
    expect((await approve(owner.token, org.id, next)).status).toBe(200);
    // A slug works as well as the id.
    expect((await call('GET', base(org.slug), { token: owner.token })).json.data).toHaveLength(2);
    // The requester's own list: any signed-in account; nobody 401.
    expect((await call('GET', '/v1/me/join-requests', { token: outsider.token })).json).toEqual({
      data: [],
      next_cursor: null,
    });
    expect((await call('GET', '/v1/me/join-requests')).status).toBe(401);
  });
});

describe('malformed requests', () => {
  it('are 4xx problems with a code, and write nothing', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg();
    const requester = await signUp();
    const id = await fileRequest(org.id, requester);
    const json = { 'Content-Type': 'application/json' };
    const cases: {
      name: string;
      method: string;
      path: string;
      body?: unknown;
      raw?: string;
      headers?: Record<string, string>;
      status: number;
      code: string;
    }[] = [
      {
        name: 'bad role',
        method: 'POST',
        path: `${base(org.id)}/${id}/approve`,
        body: { role: 'superuser' },
        status: 400,
        code: 'validation_failed',
      },
      {
        name: 'role of the wrong type',
        method: 'POST',
        path: `${base(org.id)}/${id}/approve`,
        body: { role: 3 },
        status: 400,
        code: 'validation_failed',
      },
      {
        name: 'unknown field on approve',
        method: 'POST',
        path: `${base(org.id)}/${id}/approve`,
        body: { role: 'viewer', force: true },
        status: 400,
        code: 'validation_failed',
      },
      {
        name: 'unknown field on reject',
        method: 'POST',
        path: `${base(org.id)}/${id}/reject`,
        body: { why: 'x' },
        status: 400,
        code: 'validation_failed',
      },
      {
        name: 'reason too long',
        method: 'POST',
        path: `${base(org.id)}/${id}/reject`,
        body: { reason: 'x'.repeat(501) },
        status: 400,
        code: 'validation_failed',
      },
      {
        name: 'reason of the wrong type',
        method: 'POST',
        path: `${base(org.id)}/${id}/reject`,
        body: { reason: ['no'] },
        status: 400,
        code: 'validation_failed',
      },
      {
        name: 'bad JSON',
        method: 'POST',
        path: `${base(org.id)}/${id}/approve`,
        raw: '{"role": "viewer"',
        headers: json,
        status: 400,
        code: 'invalid_json',
      },
      {
        name: 'JSON that is not an object',
        method: 'POST',
        path: `${base(org.id)}/${id}/reject`,
        raw: '"no"',
        headers: json,
        status: 400,
        code: 'validation_failed',
      },
      {
        name: 'wrong content type',
        method: 'POST',
        path: `${base(org.id)}/${id}/approve`,
        raw: '{}',
        headers: { 'Content-Type': 'text/plain' },
        status: 415,
        code: 'unsupported_media_type',
      },
      {
        name: 'form content type on reject',
        method: 'POST',
        path: `${base(org.id)}/${id}/reject`,
        raw: 'reason=x',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        status: 415,
        code: 'unsupported_media_type',
      },
      {
        name: 'bad id on approve',
        method: 'POST',
        path: `${base(org.id)}/not-an-id/approve`,
        body: {},
        status: 400,
        code: 'validation_failed',
      },
      {
        name: 'bad id on withdraw',
        method: 'DELETE',
        path: `/v1/me/join-requests/${'x'.repeat(65)}`,
        status: 400,
        code: 'validation_failed',
      },
      {
        name: 'bad status filter',
        method: 'GET',
        path: `${base(org.id)}?status=maybe`,
        status: 400,
        code: 'validation_failed',
      },
      { name: 'bad cursor', method: 'GET', path: `${base(org.id)}?cursor=bm9wZQ`, status: 400, code: 'invalid_cursor' },
      { name: 'limit 0', method: 'GET', path: `${base(org.id)}?limit=0`, status: 400, code: 'validation_failed' },
      { name: 'limit 101', method: 'GET', path: `${base(org.id)}?limit=101`, status: 400, code: 'validation_failed' },
      {
        name: 'limit not a number',
        method: 'GET',
        path: `${base(org.id)}?limit=ten`,
        status: 400,
        code: 'validation_failed',
      },
      {
        name: 'unknown query parameter',
        method: 'GET',
        path: `${base(org.id)}?sort=asc`,
        status: 400,
        code: 'validation_failed',
      },
      {
        name: 'bad cursor on my list',
        method: 'GET',
        path: '/v1/me/join-requests?cursor=%%%',
        status: 400,
        code: 'invalid_cursor',
      },
      {
        name: 'oversized body',
        method: 'POST',
        path: `${base(org.id)}/${id}/reject`,
        body: { reason: 'x'.repeat(17 * 1024) },
        status: 413,
        code: 'payload_too_large',
      },
    ];
    const snapshot = async () => [
      await countRows('join_requests', `organization_id = '${org.id}' AND status = 'pending'`),
      await countRows('memberships', `organization_id = '${org.id}'`),
      await countRows('audit_events', `organization_id = '${org.id}'`),
      await countRows('outbox', `organization_id = '${org.id}'`),
    ];
    const before = await snapshot();
    for (const c of cases) {
      const res = await call(c.method, c.path, {
        token: owner.token,
        body: c.body,
        rawBody: c.raw,
        headers: c.headers,
      });
      expect(res.status, c.name).toBe(c.status);
      expect(res.headers.get('content-type'), c.name).toBe('application/problem+json');
      expect(res.json.code, c.name).toBe(c.code);
    }
    expect(await snapshot()).toEqual(before);
    expect(await statusOf(id)).toBe('pending');
    // An input refusal never tells a stranger more than a 404, nor anyone signed out more than a 401.
    const stranger = await signUp();
    expect((await approve(stranger.token, org.id, id, { role: 'superuser' })).status).toBe(404);
    expect((await call('POST', `${base(org.id)}/${id}/approve`, { body: { role: 'superuser' } })).status).toBe(401);
    expect((await call('DELETE', '/v1/me/join-requests/bad', { token: '8b_ses_dead' })).status).toBe(401);
  });
});

describe('Settings > Team', () => {
  it('shows seats and pending requests to managers; Approve and Reject forms decide; refusals are page alerts', async ({
    expect,
  }) => {
    const { Browser } = await import('./browser-client');
    const { owner, org } = await ownerWithOrg('Page Co');
    const admin = await addMember(owner.token, org.id, 'admin');
    const developer = await addMember(owner.token, org.id, 'developer');
    const first = await signUp(uniqueEmail('first'), 'First <Requester>');
    const second = await signUp(uniqueEmail('second'), 'Second Requester');
    const firstId = await fileRequest(org.id, first, 'viewer');
    const secondId = await fileRequest(org.id, second, 'billing');
    const team = `/orgs/${org.slug}/settings/team`;
    /** A browser signed in as `token`, holding the CSRF cookie of a first page view. */
    const browserOf = async (token: string) => {
      const b = new Browser().signInAs(token);
      await b.get(team);
      return b;
    };

    const asOwner = await browserOf(owner.token);
    let page = await asOwner.get(team);
    expect(page.status).toBe(200);
    expect(page.html).toContain('Join requests');
    expect(page.html).toContain('First &lt;Requester&gt;');
    expect(page.html).toContain(first.email);
    expect(page.html).toContain('3 seats used');
    expect(page.html).toContain(`action="${team}/join-requests/${firstId}/approve"`);
    // The owner may grant admin; the admin's select offers only the join roles.
    expect(page.html).toMatch(/<option value="admin"/);
    const adminPage = await new Browser().signInAs(admin.token).get(team);
    const adminRow = adminPage.html.slice(adminPage.html.indexOf(`data-join-request="${first.email}"`));
    expect(adminRow.slice(0, adminRow.indexOf('</tr>'))).not.toMatch(/<option value="(owner|admin)"/);
    // Developers see neither the requests nor their forms.
    const devPage = await new Browser().signInAs(developer.token).get(team);
    expect(devPage.status).toBe(200);
    expect(devPage.html).not.toContain('Join requests');
    expect(devPage.html).not.toContain(first.email);

    await call('PATCH', `/v1/organizations/${org.id}`, { token: owner.token, body: { seat_limit: 3 } });
    page = await asOwner.get(team);
    expect(page.html).toContain('3 of 3 seats');
    const full = await asOwner.post(`${team}/join-requests/${firstId}/approve`, { role: 'viewer' });
    expect(full.status).toBe(303);
    expect(full.location).toBe(`${team}?error=seat_limit`);
    const alert = await asOwner.get(full.location!);
    expect(alert.html).toMatch(/role="alert">[^<]*Every seat is taken/);
    expect(await statusOf(firstId)).toBe('pending');

    await call('PATCH', `/v1/organizations/${org.id}`, { token: owner.token, body: { seat_limit: 4 } });
    const approved = await asOwner.post(`${team}/join-requests/${firstId}/approve`, { role: 'developer' });
    expect(approved.location).toBe(`${team}?notice=request_approved`);
    expect(await isMember(org.id, first.user.id)).toBe(true);
    const rejected = await (await browserOf(admin.token)).post(`${team}/join-requests/${secondId}/reject`, {
      reason: '  Not this quarter  ',
    });
    expect(rejected.status).toBe(303);
    const after = await call('GET', `${base(org.id)}?status=rejected`, { token: owner.token });
    expect(after.json.data[0]).toMatchObject({ id: secondId, reason: 'Not this quarter' });
    page = await asOwner.get(`${team}?notice=request_approved`);
    expect(page.html).toContain('4 of 4 seats');
    expect(page.html).toContain('No one is waiting to join.');

    // A developer's forged post is refused by the coordinator, and a stranger's is a 404.
    const third = await fileRequest(org.id, await signUp());
    const forged = await (await browserOf(developer.token)).post(`${team}/join-requests/${third}/reject`, {});
    expect(forged.location).toBe(`${team}?error=forbidden`);
    const stranger = await signUp();
    const strangerPost = await (await browserOf(stranger.token)).post(`${team}/join-requests/${third}/approve`, {});
    expect(strangerPost.status).toBe(404);
    expect(await statusOf(third)).toBe('pending');
  });

  it('owners set the seat limit and domain join from the settings form; bad values are refused', async ({ expect }) => {
    const { Browser } = await import('./browser-client');
    const { owner, org } = await ownerWithOrg('Settings Co');
    const b = new Browser().signInAs(owner.token);
    const team = `/orgs/${org.slug}/settings/team`;
    await b.get(team);
    const fields = {
      domains: '',
      default_locale: 'en',
      seat_limit: '7',
      domain_join: 'request',
      domain_join_role: 'developer',
    };
    const saved = await b.post(`/orgs/${org.slug}/settings/organization`, fields);
    expect(saved.location).toBe(`/orgs/${org.slug}/settings/team?notice=settings_saved`);
    const resource = await call('GET', `/v1/organizations/${org.id}`, { token: owner.token });
    expect(resource.json).toMatchObject({ seat_limit: 7, domain_join: 'request', domain_join_role: 'developer' });
    expect((await b.get(team)).html).toContain('1 of 7 seats');
    const bad = await b.post(`/orgs/${org.slug}/settings/organization`, { ...fields, seat_limit: '0' });
    expect(bad.status).toBe(400);
    expect(bad.html).toContain('Enter a seat limit from 1 to 100,000');
    expect((await b.post(`/orgs/${org.slug}/settings/organization`, { ...fields, domain_join: 'always' })).status).toBe(
      400,
    );
    expect((await call('GET', `/v1/organizations/${org.id}`, { token: owner.token })).json.seat_limit).toBe(7);
    // Empty: no limit.
    await b.post(`/orgs/${org.slug}/settings/organization`, { ...fields, seat_limit: '' });
    expect((await call('GET', `/v1/organizations/${org.id}`, { token: owner.token })).json.seat_limit).toBeNull();
  });
});

describe('a request through a real invite link', () => {
  it('is listed with its link, emails the owner once, and approving it makes a member', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Linked Co');
    const link = await call('POST', `/v1/organizations/${org.id}/invite-links`, {
      token: owner.token,
      body: { role: 'billing', requires_approval: true },
    });
    expect(link.status).toBe(201);
    const code = new URL(link.json.url).pathname.split('/').pop();
    const requester = await signUp(uniqueEmail('linked'), 'Lin Linked');
    const asked = await call('POST', `/v1/join/${code}`, { token: requester.token });
    expect(asked.status).toBe(202);
    const id = asked.json.join_request.id;
    expect(asked.json.join_request).toEqual(JSON.parse(await viewResource(id)));
    const list = await call('GET', `${base(org.id)}?status=pending`, { token: owner.token });
    expect(list.json.data).toEqual([asked.json.join_request]);
    expect(list.json.data[0]).toMatchObject({ source: 'link', link_id: link.json.id, role: 'billing' });
    const { mailsTo, parseMail } = await import('./helpers');
    const subjects = await Promise.all(mailsTo(owner.email).map(async (m) => (await parseMail(m.raw)).subject));
    expect(subjects.filter((s) => s?.includes('asks to join'))).toEqual([
      'Lin Linked asks to join Linked Co on 8bit-ai',
    ]);
    const approved = await approve(owner.token, org.id, id);
    expect(approved.status).toBe(200);
    expect(approved.json.member).toMatchObject({ user_id: requester.user.id, role: 'billing' });
  });
});
