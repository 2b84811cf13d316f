import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, it } from 'vitest';
import worker from '../src/index';
import {
  BASE,
  addMember,
  coordinatorsWith,
  countRows,
  invite,
  lastToken,
  ownerWithOrg,
  setLastSentAt,
  signUp,
  uniqueEmail,
} from './helpers';

/*
 * SPEC §19, proven by counting. Every D1 call the Worker makes and every call the organization's
 * coordinator makes on a request's path is recorded, with the session constraint it ran under:
 * - a write makes no D1 call from the Worker and exactly one call to the coordinator, which does all
 *   of the write's D1 work (the caller's authentication included) beside the primary;
 * - a read makes no D1 call that must go to the primary (only unconstrained sessions, or one that
 *   starts at a bookmark the client sent) and never calls the coordinator.
 * (This replaces the round-trip test of issue 13; its counts are asserted here, on the real paths.)
 */

interface Tally {
  /** D1 statements run on their own, and batches, by the constraint of the session they ran in. */
  reads: number;
  batches: number;
  primary: number;
}

const tally = (): Tally => ({ reads: 0, batches: 0, primary: 0 });

/** A D1 binding that counts every call, and where it had to run. */
function countingD1(t: Tally): D1Database {
  const count = (primary: boolean, kind: 'reads' | 'batches') => {
    t[kind] += 1;
    if (primary) t.primary += 1;
  };
  const statement = (stmt: D1PreparedStatement, primary: boolean): D1PreparedStatement =>
    new Proxy(stmt, {
      get(target, prop) {
        if (prop === 'bind') return (...args: unknown[]) => statement(target.bind(...args), primary);
        const value = Reflect.get(target, prop);
        if (prop === 'all' || prop === 'run' || prop === 'first' || prop === 'raw') {
          return (...args: unknown[]) => {
            count(primary, 'reads');
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  const session = (s: D1DatabaseSession, primary: boolean) =>
    new Proxy(s, {
      get(target, prop) {
        if (prop === 'prepare') return (q: string) => statement(target.prepare(q), primary);
        if (prop === 'batch') return (stmts: D1PreparedStatement[]) => (count(primary, 'batches'), target.batch(stmts));
        const value = Reflect.get(target, prop);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  return new Proxy(env.DB, {
    get(target, prop) {
      // The binding itself, without a session, always runs on the primary.
      if (prop === 'prepare') return (q: string) => statement(target.prepare(q), true);
      if (prop === 'batch') return (stmts: D1PreparedStatement[]) => (count(true, 'batches'), target.batch(stmts));
      if (prop === 'withSession') {
        return (first?: string) => session(target.withSession(first), first === 'first-primary');
      }
      const value = Reflect.get(target, prop);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** One request through the Worker, counting its D1 calls and its coordinator's. */
async function measured(path: string, init: RequestInit & { token?: string; json?: unknown } = {}) {
  const worker_ = tally();
  const coordinator = tally();
  // Every call to a coordinator, and what it had cost on its path when its result arrived.
  let coordinatorCalls = 0;
  const snapshots: Tally[] = [];
  const counted = coordinatorsWith(
    { DB: countingD1(coordinator) },
    { called: () => void (coordinatorCalls += 1), returned: () => void snapshots.push({ ...coordinator }) },
  );
  const headers = new Headers(init.headers);
  if (init.token) headers.set('Authorization', `Bearer ${init.token}`);
  if (init.json !== undefined) headers.set('Content-Type', 'application/json');
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request(`${BASE}${path}`, {
      ...init,
      headers,
      body: init.json === undefined ? init.body : JSON.stringify(init.json),
    }),
    { ...env, DB: countingD1(worker_), ORG_COORDINATOR: counted },
    ctx,
  );
  const body = await res.text();
  await waitOnExecutionContext(ctx);
  return { status: res.status, body, worker: worker_, coordinatorCalls, coordinator: snapshots[0] ?? tally() };
}

/**
 * A credential's use is recorded at most once a minute (`last_used_at`, SPEC §14): the one write a
 * read request may make, on the primary, once a minute per credential (a write's is deferred in
 * the coordinator). Recorded just now here (moved in the database), so the counts are the path's.
 */
const used = () =>
  env.DB.batch([
    env.DB.prepare('UPDATE sessions SET last_used_at = ?').bind(Date.now()),
    env.DB.prepare('UPDATE api_tokens SET last_used_at = ?').bind(Date.now()),
  ]);

const table: string[] = [];
const row = (op: string, m: Awaited<ReturnType<typeof measured>>) =>
  table.push(
    `| ${op} | ${m.worker.reads + m.worker.batches} | ${m.worker.primary} | ${m.coordinatorCalls} | ${m.coordinator.reads} | ${m.coordinator.batches} |`,
  );

describe('SPEC §19: where each operation does its D1 work', () => {
  it('writes: no D1 call from the Worker, one coordinator call, the D1 work beside the primary', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Placement Co');
    const member = await addMember(owner.token, org.id, 'developer');
    // The coordinator's first write reads whether the organization has webhook endpoints (once).
    await invite(owner.token, org.id, { email: uniqueEmail('warm'), role: 'viewer' });
    await used();
    const base = `/v1/organizations/${org.id}`;

    // Create: one read (the caller) and one batch (every rule a guard of the INSERT); the email
    // counted once, and its outbox row written in that batch.
    const email = uniqueEmail('placed');
    const create = await measured(`${base}/invitations`, {
      method: 'POST',
      token: owner.token,
      json: { email, role: 'viewer' },
    });
    expect(create.status).toBe(201);
    const id = JSON.parse(create.body).id as string;
    expect(create.worker).toEqual(tally());
    expect(create.coordinatorCalls).toBe(1);
    expect(create.coordinator).toMatchObject({ reads: 1, batches: 1 });
    expect(await countRows('outbox', `subject_id = '${id}'`)).toBe(1);
    expect(await countRows('rate_limits', `bucket = 'invitation-emails:account:${owner.user.id}'`)).toBe(1);
    row('create invitation', create);

    // A refused create writes nothing and names the rule: the batch, then the checks one by one.
    const before = await countRows('invitations', `organization_id = '${org.id}'`);
    const refused = await measured(`${base}/invitations`, {
      method: 'POST',
      token: owner.token,
      json: { email, role: 'viewer' },
    });
    expect(refused.status).toBe(409);
    expect(JSON.parse(refused.body).code).toBe('invitation_already_pending');
    expect(refused.worker).toEqual(tally());
    expect(refused.coordinator.batches).toBe(1);
    expect(await countRows('invitations', `organization_id = '${org.id}'`)).toBe(before);
    row('create invitation (refused)', refused);

    const bulk = await measured(`${base}/invitations/bulk`, {
      method: 'POST',
      token: owner.token,
      json: {
        invitations: [
          { email: uniqueEmail('b1'), role: 'viewer' },
          { email: uniqueEmail('b2'), role: 'viewer' },
        ],
      },
    });
    expect(bulk.status).toBe(200);
    row('bulk (2 rows)', bulk);

    await setLastSentAt(id, Date.now() - 120_000);
    const resend = await measured(`${base}/invitations/${id}/resend`, { method: 'POST', token: owner.token, json: {} });
    expect(resend.status).toBe(200);
    row('resend', resend);

    const patch = await measured(`${base}/invitations/${id}`, {
      method: 'PATCH',
      token: owner.token,
      json: { role: 'developer' },
    });
    expect(patch.status).toBe(200);
    row('invitation role change', patch);

    const revoke = await measured(`${base}/invitations/${id}/revoke`, { method: 'POST', token: owner.token });
    expect(revoke.status).toBe(200);
    row('revoke', revoke);

    const role = await measured(`${base}/members/${member.user.id}`, {
      method: 'PATCH',
      token: owner.token,
      json: { role: 'viewer' },
    });
    expect(role.status).toBe(200);
    row('member role change', role);

    const remove = await measured(`${base}/members/${member.user.id}`, { method: 'DELETE', token: owner.token });
    expect(remove.status).toBe(204);
    row('remove member', remove);

    // Accept (anonymous, new account): one read (the invitation) and one batch, in the coordinator.
    const invitee = uniqueEmail('acc');
    await invite(owner.token, org.id, { email: invitee, role: 'viewer' });
    const accept = await measured('/v1/invitations/accept', {
      method: 'POST',
      json: { token: await lastToken(invitee), name: 'New Person' },
    });
    expect(accept.status).toBe(200);
    expect(accept.coordinator).toMatchObject({ reads: 1, batches: 1 });
    row('accept (anonymous)', accept);

    console.log(table.join('\n'));
    for (const m of [bulk, resend, patch, revoke, role, remove, accept]) {
      expect(m.worker).toEqual(tally());
      expect(m.coordinatorCalls).toBe(1);
      // At most: the caller, the subject, the state, the answer, and the email or role-change
      // counters; the change itself is one batch (the D1 email counters are a second one).
      expect(m.coordinator.reads + m.coordinator.batches).toBeLessThanOrEqual(6);
      expect(m.coordinator.batches).toBeGreaterThanOrEqual(1);
    }
  });

  it('ways in (SPEC §16): one coordinator call each; a way in by code or id finds its organization on a replica', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Placement Joins');
    await invite(owner.token, org.id, { email: uniqueEmail('warm'), role: 'viewer' });
    const base = `/v1/organizations/${org.id}`;
    const joiner = await signUp(uniqueEmail('joiner'));
    const asker = await signUp(uniqueEmail('asker'));
    await used();

    const created = await measured(`${base}/invite-links`, {
      method: 'POST',
      token: owner.token,
      json: { role: 'viewer' },
    });
    expect(created.status).toBe(201);
    row('create invite link', created);
    const link = JSON.parse(created.body) as { id: string; url: string };
    const code = link.url.slice(link.url.lastIndexOf('/join/') + 6);
    const approval = JSON.parse(
      (
        await measured(`${base}/invite-links`, {
          method: 'POST',
          token: owner.token,
          json: { role: 'viewer', requires_approval: true },
        })
      ).body,
    ) as { url: string };

    const redeem = await measured(`/v1/join/${code}`, { method: 'POST', token: joiner.token });
    expect(redeem.status).toBe(200);
    row('redeem invite link (join)', redeem);
    const ask = await measured(`/v1/join/${approval.url.slice(approval.url.lastIndexOf('/join/') + 6)}`, {
      method: 'POST',
      token: asker.token,
    });
    expect(ask.status).toBe(202);
    row('redeem invite link (join request)', ask);
    const requestId = JSON.parse(ask.body).join_request.id as string;
    const approve = await measured(`${base}/join-requests/${requestId}/approve`, {
      method: 'POST',
      token: owner.token,
      json: {},
    });
    expect(approve.status).toBe(200);
    row('approve join request', approve);
    const rotate = await measured(`${base}/invite-links/${link.id}/rotate`, { method: 'POST', token: owner.token });
    expect(rotate.status).toBe(200);
    row('rotate invite link', rotate);

    for (const m of [created, redeem, ask, approve, rotate]) {
      expect(m.coordinatorCalls).toBe(1);
      expect(m.worker.primary).toBe(0);
      expect(m.coordinator.batches).toBeGreaterThanOrEqual(1);
      expect(m.coordinator.reads + m.coordinator.batches).toBeLessThanOrEqual(6);
    }
    // Writes under /{org} make no D1 call from the Worker; a redemption names its organization only
    // by its code, which the Worker looks up once, on the nearest replica.
    for (const m of [created, approve, rotate]) expect(m.worker).toEqual(tally());
    for (const m of [redeem, ask]) expect(m.worker.reads + m.worker.batches).toBe(1);
  });

  it('reads: no coordinator, and no D1 call that must go to the primary', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Reads Co');
    const invitee = uniqueEmail('read');
    const inv = (await invite(owner.token, org.id, { email: invitee, role: 'viewer' })).json;
    await used();
    const base = `/v1/organizations/${org.id}`;
    const reads: [string, string][] = [
      ['list invitations', `${base}/invitations`],
      ['get invitation', `${base}/invitations/${inv.id}`],
      ['get organization', base],
      ['list members', `${base}/members`],
      ['preview', `/v1/invitations/preview?token=${encodeURIComponent(await lastToken(invitee))}`],
    ];
    for (const [name, path] of reads) {
      const m = await measured(path, { token: owner.token });
      expect(m.status, name).toBe(200);
      expect(m.coordinatorCalls, name).toBe(0);
      expect(m.worker.primary, name).toBe(0);
      row(name, m);
    }
    console.log(
      [
        '| operation | Worker D1 calls | of them on the primary | coordinator calls | coordinator reads | coordinator batches |',
        '|---|---|---|---|---|---|',
        ...table,
      ].join('\n'),
    );
  });
});
