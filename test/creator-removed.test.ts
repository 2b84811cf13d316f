import { env } from 'cloudflare:workers';
import { drizzle } from 'drizzle-orm/d1';
import { describe, it } from 'vitest';
import { createEndpoint, updateEndpoint } from '../src/webhooks/webhooks.service';
import { addMember, call, countRows, drainWebhooks, invite, ownerWithOrg, uniqueEmail } from './helpers';

/*
 * SPEC §18, authority does not outlive its holder, completed: a webhook endpoint lives as long as
 * its `created_by` is an owner or admin. Events go through the real pipeline (audit trigger, queue
 * handler, the local receiver of test/standins/webhook-receiver.ts).
 */

let n = 0;
const hookName = () => `creator-${Date.now().toString(36)}-${++n}`;
const hookUrl = (name: string) => `${env.TEST_WEBHOOK_RECEIVER}/hooks/ok/${name}`;
/** The event types `name` received, oldest first. */
const receivedTypes = async (name: string): Promise<string[]> =>
  ((await (await fetch(`${env.TEST_WEBHOOK_RECEIVER}/__hooks?name=${name}`)).json()) as { body: string }[]).map(
    (r) => JSON.parse(r.body).type,
  );

async function endpointBy(token: string, org: string) {
  const name = hookName();
  const res = await call('POST', `/v1/organizations/${org}/webhooks`, { token, body: { url: hookUrl(name) } });
  if (res.status !== 201) throw new Error(`create webhook: ${res.status} ${res.text}`);
  return { name, id: res.json.id as string, json: res.json };
}
const readHook = async (token: string, org: string, id: string) =>
  (await call('GET', `/v1/organizations/${org}/webhooks/${id}`, { token })).json;
const auditOf = async (token: string, org: string, action: string) =>
  (await call('GET', `/v1/organizations/${org}/audit-log?limit=100`, { token })).json.data.filter(
    (e: { action: string }) => e.action === action,
  );

/** An owner, an admin with an endpoint of their own, and the owner's endpoint. */
async function orgWithAdminEndpoint() {
  const { owner, org } = await ownerWithOrg('Hooked Co');
  const admin = await addMember(owner.token, org.id, 'admin');
  const ownerHook = await endpointBy(owner.token, org.id);
  const adminHook = await endpointBy(admin.token, org.id);
  return { owner, org, admin, ownerHook, adminHook };
}

describe('§18 webhook endpoints record created_by', () => {
  it('an endpoint records its creator, shown in the API', async ({ expect }) => {
    const { owner, org, admin, ownerHook, adminHook } = await orgWithAdminEndpoint();
    expect(adminHook.json.created_by).toBe(admin.user.id);
    expect(ownerHook.json.created_by).toBe(owner.user.id);
    expect((await readHook(owner.token, org.id, adminHook.id)).created_by).toBe(admin.user.id);
  });
});

describe('§18 a creator removed, leaving or demoted below admin: their endpoints are disabled in the same batch', () => {
  it("the removed admin's endpoint gets no event after the removal batch and shows creator_removed", async ({
    expect,
  }) => {
    const { owner, org, admin, ownerHook, adminHook } = await orgWithAdminEndpoint();
    await invite(admin.token, org.id, { email: uniqueEmail('before'), role: 'viewer' });
    await drainWebhooks();
    // Live until the removal: the pipeline reaches it.
    expect(await receivedTypes(adminHook.name)).toEqual(['invitation.created']);

    expect(
      (await call('DELETE', `/v1/organizations/${org.id}/members/${admin.user.id}`, { token: owner.token })).status,
    ).toBe(204);
    await invite(owner.token, org.id, {
      email: uniqueEmail('after'),
      role: 'admin',
      message: 'Welcome aboard, personally',
    });
    await drainWebhooks();

    // Nothing of the removal batch (member.removed, their invitation revoked) nor after it.
    expect(await receivedTypes(adminHook.name)).toEqual(['invitation.created']);
    expect((await receivedTypes(ownerHook.name)).sort()).toEqual([
      'invitation.created',
      'invitation.created',
      'invitation.revoked',
      'member.removed',
    ]);
    expect(await readHook(owner.token, org.id, adminHook.id)).toMatchObject({
      enabled: false,
      disabled_reason: 'creator_removed',
      created_by: admin.user.id,
    });
    expect(
      await countRows('webhook_deliveries', `endpoint_id = '${adminHook.id}' AND status IN ('pending', 'sending')`),
    ).toBe(0);
    const [disabled, ...others] = await auditOf(owner.token, org.id, 'webhook.disabled');
    expect(others).toEqual([]);
    expect(disabled).toMatchObject({
      actor: { type: 'system', user_id: null },
      target: { type: 'webhook', id: adminHook.id },
    });
    expect(disabled.data).toMatchObject({
      reason: 'creator_removed',
      created_by: admin.user.id,
      url: hookUrl(adminHook.name),
    });
  });

  it('an admin who leaves: their endpoint is disabled with creator_removed', async ({ expect }) => {
    const { owner, org, admin, adminHook } = await orgWithAdminEndpoint();
    expect(
      (await call('DELETE', `/v1/organizations/${org.id}/members/${admin.user.id}`, { token: admin.token })).status,
    ).toBe(204);
    await invite(owner.token, org.id, { email: uniqueEmail(), role: 'viewer' });
    await drainWebhooks();
    expect(await receivedTypes(adminHook.name)).toEqual([]);
    expect(await readHook(owner.token, org.id, adminHook.id)).toMatchObject({
      enabled: false,
      disabled_reason: 'creator_removed',
    });
    expect(await auditOf(owner.token, org.id, 'webhook.disabled')).toHaveLength(1);
  });

  it('an admin demoted to member: their endpoint is disabled; an owner demoted to admin keeps theirs', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg();
    const admin = await addMember(owner.token, org.id, 'admin');
    const coOwner = await addMember(owner.token, org.id, 'owner');
    const adminHook = await endpointBy(admin.token, org.id);
    const coOwnerHook = await endpointBy(coOwner.token, org.id);
    for (const [who, role] of [
      [admin, 'developer'],
      [coOwner, 'admin'],
    ] as const) {
      const res = await call('PATCH', `/v1/organizations/${org.id}/members/${who.user.id}`, {
        token: owner.token,
        body: { role },
      });
      expect(res.status).toBe(200);
    }
    await invite(owner.token, org.id, { email: uniqueEmail(), role: 'viewer' });
    await drainWebhooks();
    expect(await receivedTypes(adminHook.name)).toEqual([]);
    expect(await readHook(owner.token, org.id, adminHook.id)).toMatchObject({
      enabled: false,
      disabled_reason: 'creator_removed',
    });
    expect(await readHook(owner.token, org.id, coOwnerHook.id)).toMatchObject({ enabled: true, disabled_reason: null });
    expect((await receivedTypes(coOwnerHook.name)).sort()).toEqual([
      'invitation.created',
      'member.role_changed',
      'member.role_changed',
    ]);
  });

  it("an owner's endpoint, and another admin's, are untouched when an unrelated admin is removed", async ({
    expect,
  }) => {
    const { owner, org, admin, ownerHook } = await orgWithAdminEndpoint();
    const other = await addMember(owner.token, org.id, 'admin');
    const otherHook = await endpointBy(other.token, org.id);
    expect(
      (await call('DELETE', `/v1/organizations/${org.id}/members/${admin.user.id}`, { token: owner.token })).status,
    ).toBe(204);
    for (const hook of [ownerHook, otherHook]) {
      expect(await readHook(owner.token, org.id, hook.id)).toMatchObject({ enabled: true, disabled_reason: null });
    }
    expect(
      (await auditOf(owner.token, org.id, 'webhook.disabled')).map((e: { target: { id: string } }) => e.target.id),
    ).not.toContain(ownerHook.id);
  });

  it('a refused removal (the last owner leaving) disables nothing', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg();
    const hook = await endpointBy(owner.token, org.id);
    expect(
      (await call('DELETE', `/v1/organizations/${org.id}/members/${owner.user.id}`, { token: owner.token })).status,
    ).toBe(409);
    expect(await readHook(owner.token, org.id, hook.id)).toMatchObject({ enabled: true, disabled_reason: null });
  });
});

describe("§18 enabling again, or a new URL, makes the actor the endpoint's created_by", () => {
  it('a remaining admin re-enables the endpoint: it becomes theirs and receives events again', async ({ expect }) => {
    const { owner, org, admin, adminHook } = await orgWithAdminEndpoint();
    await call('DELETE', `/v1/organizations/${org.id}/members/${admin.user.id}`, { token: owner.token });
    const enabled = await call('PATCH', `/v1/organizations/${org.id}/webhooks/${adminHook.id}`, {
      token: owner.token,
      body: { enabled: true },
    });
    expect(enabled.status).toBe(200);
    expect(enabled.json).toMatchObject({ enabled: true, disabled_reason: null, created_by: owner.user.id });
    await invite(owner.token, org.id, { email: uniqueEmail(), role: 'viewer' });
    await drainWebhooks();
    expect(await receivedTypes(adminHook.name)).toEqual(['invitation.created']);
  });

  it("pointing another's endpoint at a new URL makes you its created_by, so your removal disables it; a description edit does not", async ({
    expect,
  }) => {
    const { owner, org, admin, ownerHook } = await orgWithAdminEndpoint();
    const patch = (body: Record<string, unknown>) =>
      call('PATCH', `/v1/organizations/${org.id}/webhooks/${ownerHook.id}`, { token: admin.token, body });
    expect((await patch({ description: 'labelled by the admin', url: hookUrl(ownerHook.name) })).json.created_by).toBe(
      owner.user.id,
    );
    expect((await patch({ url: hookUrl(hookName()) })).json.created_by).toBe(admin.user.id);
    await call('DELETE', `/v1/organizations/${org.id}/members/${admin.user.id}`, { token: owner.token });
    expect(await readHook(owner.token, org.id, ownerHook.id)).toMatchObject({
      enabled: false,
      disabled_reason: 'creator_removed',
    });
  });
});

describe('§18 a write racing the removal of its author cannot keep an endpoint alive', () => {
  const db = () => drizzle(env.DB);
  const ctxOf = (org: string, userId: string) => ({
    env,
    db: db(),
    organizationId: org,
    actor: { userId, ip: null, userAgent: null },
    now: Date.now(),
  });

  it('a create or an enable whose author lost the role after the route checked it is refused with 403', async ({
    expect,
  }) => {
    const { owner, org, admin, ownerHook } = await orgWithAdminEndpoint();
    await call('PATCH', `/v1/organizations/${org.id}/webhooks/${ownerHook.id}`, {
      token: owner.token,
      body: { enabled: false },
    });
    await call('DELETE', `/v1/organizations/${org.id}/members/${admin.user.id}`, { token: owner.token });
    // The service as the route calls it, after its role check passed for the (then) admin.
    await expect(createEndpoint(ctxOf(org.id, admin.user.id), { url: hookUrl(hookName()) })).rejects.toMatchObject({
      code: 'forbidden',
    });
    await expect(updateEndpoint(ctxOf(org.id, admin.user.id), ownerHook.id, { enabled: true })).rejects.toMatchObject({
      code: 'forbidden',
    });
    expect(await countRows('webhook_endpoints', `organization_id = '${org.id}'`)).toBe(2);
    expect(await countRows('webhook_endpoints', `organization_id = '${org.id}' AND enabled = 1`)).toBe(0);
    expect(await readHook(owner.token, org.id, ownerHook.id)).toMatchObject({
      enabled: false,
      created_by: owner.user.id,
    });
  });

  it("creates racing their author's removal, from three concurrent clients: none of the created endpoints stays enabled", async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg();
    const admin = await addMember(owner.token, org.id, 'admin');
    // Each client creates one endpoint after another, so some land before the removal and some after.
    const client = async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++)
        statuses.push(
          (
            await call('POST', `/v1/organizations/${org.id}/webhooks`, {
              token: admin.token,
              body: { url: hookUrl(hookName()) },
            })
          ).status,
        );
      return statuses;
    };
    const [removal, ...clients] = await Promise.all([
      call('DELETE', `/v1/organizations/${org.id}/members/${admin.user.id}`, { token: owner.token }),
      client(),
      client(),
      client(),
    ]);
    expect(removal.status).toBe(204);
    const statuses = clients.flat();
    for (const status of statuses) expect([201, 403, 404]).toContain(status);
    expect(await countRows('webhook_endpoints', `created_by = '${admin.user.id}' AND enabled = 1`)).toBe(0);
    const created = statuses.filter((s) => s === 201).length;
    expect(
      await countRows('webhook_endpoints', `created_by = '${admin.user.id}' AND disabled_reason = 'creator_removed'`),
    ).toBe(created);
  });
});

describe('§18 migration 0009 on endpoints that existed before it', () => {
  it('backfills created_by from the audit log while that creator is still an owner or admin; otherwise NULL (never auto-disabled)', async ({
    expect,
  }) => {
    const { owner, org, admin, ownerHook, adminHook } = await orgWithAdminEndpoint();
    const gone = await addMember(owner.token, org.id, 'admin');
    const goneHook = await endpointBy(gone.token, org.id);
    await call('DELETE', `/v1/organizations/${org.id}/members/${gone.user.id}`, { token: owner.token });
    await env.DB.prepare('UPDATE webhook_endpoints SET created_by = NULL WHERE organization_id = ?').bind(org.id).run();
    // The migration's own backfill statement, as wrangler applies it.
    const migration = env.TEST_MIGRATIONS.find((m) => m.name.startsWith('0009_'))!;
    await env.DB.prepare(migration.queries.find((q) => q.includes('UPDATE `webhook_endpoints`'))!).run();
    const createdBy = async (id: string) => (await readHook(owner.token, org.id, id)).created_by;
    expect(await createdBy(ownerHook.id)).toBe(owner.user.id);
    expect(await createdBy(adminHook.id)).toBe(admin.user.id);
    expect(await createdBy(goneHook.id)).toBeNull();
  });
});
