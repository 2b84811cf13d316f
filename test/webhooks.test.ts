import { env, exports } from 'cloudflare:workers';
import { drizzle } from 'drizzle-orm/d1';
import { Webhook } from 'standardwebhooks';
import { describe, it } from 'vitest';
import { WEBHOOK_EVENT_TYPES } from '../src/db/schema';
import { runExpirySweep } from '../src/cron';
import { WEBHOOK_RETRY_DELAYS_MS, deliverWebhook } from '../src/webhooks/sender';
import { runOutboxRelay } from '../src/delivery/relay';
import { webhookUrlProblem } from '../src/webhooks/webhooks.store';
import { createWith, failingEmail, recordingQueue, silentQueue } from './delivery-fakes';
import {
  addMember,
  call,
  countRows,
  drainOutbox,
  drainWebhooks,
  runQueue,
  fetchWithEnv,
  invite,
  lastToken,
  ownerWithOrg,
  setExpiresAt,
  setLastSentAt,
  signUp,
  uniqueEmail,
} from './helpers';

/*
 * Webhooks (SPEC §11): signatures checked by `standardwebhooks`, the specification's reference
 * library; deliveries to a local receiver (test/standins/webhook-receiver.ts) through the worker's
 * real queue handler.
 */

/** What the receiver recorded for one request (test/standins/webhook-receiver.ts). */
interface ReceivedHook {
  mode: string;
  name: string;
  headers: Record<string, string>;
  body: string;
  answered: number | null;
}

let n = 0;
const hookName = (label: string) => `${label}-${Date.now().toString(36)}-${++n}`;
const hookUrl = (mode: string, name: string) => `${env.TEST_WEBHOOK_RECEIVER}/hooks/${mode}/${name}`;
const received = async (name: string): Promise<ReceivedHook[]> =>
  (await fetch(`${env.TEST_WEBHOOK_RECEIVER}/__hooks?name=${name}`)).json();
const db = () => drizzle(env.DB);

async function endpointFor(token: string, org: string, mode = 'ok', body: Record<string, unknown> = {}) {
  const name = hookName(mode);
  const res = await call('POST', `/v1/organizations/${org}/webhooks`, {
    token,
    body: { url: hookUrl(mode, name), ...body },
  });
  if (res.status !== 201) throw new Error(`create webhook: ${res.status} ${res.text}`);
  return { name, id: res.json.id as string, secret: res.json.secret as string, json: res.json };
}

const deliveryOf = (endpointId: string) =>
  env.DB.prepare(
    'SELECT id, status, attempts, next_attempt_at FROM webhook_deliveries WHERE endpoint_id = ? ORDER BY created_at DESC LIMIT 1',
  )
    .bind(endpointId)
    .first<{ id: string; status: string; attempts: number; next_attempt_at: number }>();
const bringForward = (deliveryId: string) =>
  env.DB.prepare('UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id = ?')
    .bind(Date.now() - 1, deliveryId)
    .run();

describe('webhook endpoints API', () => {
  it('creates an endpoint with a whsec_ secret shown once; lists, reads and updates without it; deletes', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Hooks Co');
    const created = await endpointFor(owner.token, org.id, 'ok', {
      description: 'CRM sync',
      events: ['invitation.accepted', 'member.removed'],
    });
    expect(created.json).toMatchObject({
      id: expect.stringMatching(/^whk_/),
      enabled: true,
      description: 'CRM sync',
      events: ['invitation.accepted', 'member.removed'],
      disabled_reason: null,
    });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(atob(created.secret.slice(6)).length).toBeGreaterThanOrEqual(24);
    const list = await call('GET', `/v1/organizations/${org.id}/webhooks`, { token: owner.token });
    expect(list.json.data).toHaveLength(1);
    expect(list.text).not.toContain(created.secret);
    const read = await call('GET', `/v1/organizations/${org.id}/webhooks/${created.id}`, { token: owner.token });
    expect(read.json).toEqual(list.json.data[0]);
    expect(read.text).not.toContain('whsec_');
    const patched = await call('PATCH', `/v1/organizations/${org.id}/webhooks/${created.id}`, {
      token: owner.token,
      body: { events: null, description: null, enabled: false },
    });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({
      events: [...WEBHOOK_EVENT_TYPES],
      description: null,
      enabled: false,
      disabled_reason: 'Disabled by a member',
    });
    expect(
      (await call('DELETE', `/v1/organizations/${org.id}/webhooks/${created.id}`, { token: owner.token })).status,
    ).toBe(204);
    expect(
      (await call('GET', `/v1/organizations/${org.id}/webhooks/${created.id}`, { token: owner.token })).status,
    ).toBe(404);
    const audit = await call('GET', `/v1/organizations/${org.id}/audit-log`, { token: owner.token });
    expect(audit.json.data.map((e: { action: string }) => e.action)).toEqual(
      expect.arrayContaining(['webhook.created', 'webhook.updated', 'webhook.deleted']),
    );
    expect(audit.text).not.toContain('whsec_');
  });

  it('URL rules: https; http only to localhost/127.0.0.1 in local development; no credentials; 2048 characters; 10 per organization', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg();
    const create = (url: string) =>
      call('POST', `/v1/organizations/${org.id}/webhooks`, { token: owner.token, body: { url } });
    for (const bad of [
      'http://example.com/hook',
      'ftp://example.com/x',
      'https://user:pass@example.com/x',
      `https://example.com/${'a'.repeat(2040)}`,
      'not a url',
      'javascript:alert(1)',
      'http://10.0.0.1/x',
    ]) {
      const res = await create(bad);
      expect(res.status, bad.slice(0, 40)).toBe(400);
      expect(res.json.code).toBe('validation_failed');
    }
    expect((await create('https://hooks.example.com/in')).status).toBe(201);
    expect((await create('http://localhost:9999/in')).status).toBe(201);
    // With an https APP_URL (production), http is refused even to localhost.
    const prod = { ...env, APP_URL: 'https://invitations.example', TOKEN_SIGNING_KEY: 'p'.repeat(40) };
    const res = await fetchWithEnv(
      `/v1/organizations/${org.id}/webhooks`,
      {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${owner.token}`,
          'Content-Type': 'application/json',
          Host: 'invitations.example',
        },
        body: JSON.stringify({ url: 'http://127.0.0.1:9999/in' }),
      },
      prod,
    );
    // (The guard sees a request to 127.0.0.1 with an https APP_URL as a configured deployment.)
    expect([400, 503]).toContain(res.status);
    for (let i = 2; i < 10; i++) expect((await create(`https://hooks.example.com/${i}`)).status).toBe(201);
    const eleventh = await create('https://hooks.example.com/11');
    expect(eleventh.status).toBe(400);
    expect(eleventh.json.detail).toContain('at most 10');
    expect(await countRows('webhook_endpoints', `organization_id = '${org.id}'`)).toBe(10);
  });

  it('refuses unknown event types, repeated ones, and an empty update', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg();
    for (const body of [
      { url: 'https://x.example', events: ['invitation.exploded'] },
      { url: 'https://x.example', events: [] },
      { url: 'https://x.example', events: ['member.added', 'member.added'] },
    ]) {
      const res = await call('POST', `/v1/organizations/${org.id}/webhooks`, { token: owner.token, body });
      expect(res.status).toBe(400);
      expect(res.json.code).toBe('validation_failed');
    }
    const hook = await endpointFor(owner.token, org.id);
    expect(
      (await call('PATCH', `/v1/organizations/${org.id}/webhooks/${hook.id}`, { token: owner.token, body: {} })).status,
    ).toBe(400);
  });
});

describe('signatures (Standard Webhooks, verified by the reference library)', () => {
  it('one signature normally; the body or the secret changed by one byte fails verification', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg();
    const hook = await endpointFor(owner.token, org.id);
    const sent = await call('POST', `/v1/organizations/${org.id}/webhooks/${hook.id}/test`, { token: owner.token });
    expect(sent.status).toBe(202);
    await drainWebhooks();
    const [got] = await received(hook.name);
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['webhook-id']).toBe(sent.json.webhook_id);
    expect(got.headers['webhook-signature'].split(' ')).toHaveLength(1);
    expect(Math.abs(Number(got.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
    const payload = new Webhook(hook.secret).verify(got.body, got.headers) as {
      type: string;
      timestamp: string;
      data: unknown;
    };
    expect(payload).toMatchObject({
      type: 'webhook.test',
      data: { webhook_endpoint_id: hook.id, organization_id: org.id },
    });
    expect(new Date(payload.timestamp).toISOString()).toBe(payload.timestamp);
    const tampered = got.body.replace('webhook.test', 'webhook.tesT');
    expect(() => new Webhook(hook.secret).verify(tampered, got.headers)).toThrow();
    const other = `whsec_${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))}`;
    expect(() => new Webhook(other).verify(got.body, got.headers)).toThrow();
  });

  it('during a rotation two signatures: both the new and the old secret verify; after 24 hours only the new', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg();
    const hook = await endpointFor(owner.token, org.id);
    const rotated = await call('POST', `/v1/organizations/${org.id}/webhooks/${hook.id}/rotate-secret`, {
      token: owner.token,
    });
    expect(rotated.status).toBe(200);
    expect(rotated.json.secret).toMatch(/^whsec_/);
    expect(rotated.json.secret).not.toBe(hook.secret);
    await call('POST', `/v1/organizations/${org.id}/webhooks/${hook.id}/test`, { token: owner.token });
    await drainWebhooks();
    const [during] = await received(hook.name);
    expect(during.headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(new Webhook(rotated.json.secret).verify(during.body, during.headers)).toBeTruthy();
    expect(new Webhook(hook.secret).verify(during.body, during.headers)).toBeTruthy();
    await env.DB.prepare('UPDATE webhook_endpoints SET previous_secret_expires_at = ? WHERE id = ?')
      .bind(Date.now() - 1, hook.id)
      .run();
    await call('POST', `/v1/organizations/${org.id}/webhooks/${hook.id}/test`, { token: owner.token });
    await drainWebhooks();
    const after = (await received(hook.name))[1];
    expect(after.headers['webhook-signature'].split(' ')).toHaveLength(1);
    expect(new Webhook(rotated.json.secret).verify(after.body, after.headers)).toBeTruthy();
    expect(() => new Webhook(hook.secret).verify(after.body, after.headers)).toThrow();
  });
});

describe('the lifecycle, as events', () => {
  it('every change of an invitation and a membership is one event whose data is the resource as the API returns it', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Lifecycle Co');
    const hook = await endpointFor(owner.token, org.id);
    const expected: { type: string; data: unknown }[] = [];
    const api = async (id: string) =>
      (await call('GET', `/v1/organizations/${org.id}/invitations/${id}`, { token: owner.token })).json;

    // Invitation A: created, resent, role changed, revoked.
    const a = (await invite(owner.token, org.id, { email: uniqueEmail('a'), role: 'viewer' })).json;
    expected.push({ type: 'invitation.created', data: { ...(await api(a.id)), email_delivery: 'queued' } });
    await setLastSentAt(a.id, Date.now() - 120_000);
    expect(
      (await call('POST', `/v1/organizations/${org.id}/invitations/${a.id}/resend`, { token: owner.token })).status,
    ).toBe(200);
    expected.push({ type: 'invitation.resent', data: { ...(await api(a.id)), email_delivery: 'queued' } });
    expect(
      (
        await call('PATCH', `/v1/organizations/${org.id}/invitations/${a.id}`, {
          token: owner.token,
          body: { role: 'developer' },
        })
      ).status,
    ).toBe(200);
    expected.push({ type: 'invitation.role_changed', data: await api(a.id) });
    expect(
      (await call('POST', `/v1/organizations/${org.id}/invitations/${a.id}/revoke`, { token: owner.token })).status,
    ).toBe(200);
    expected.push({ type: 'invitation.revoked', data: await api(a.id) });

    // Invitation B: accepted by a new account, who joins (member.added), changes role, is removed.
    const bEmail = uniqueEmail('b');
    const b = (await invite(owner.token, org.id, { email: bEmail, role: 'viewer' })).json;
    expected.push({ type: 'invitation.created', data: { ...(await api(b.id)), email_delivery: 'queued' } });
    const accepted = await call('POST', '/v1/invitations/accept', {
      body: { token: await lastToken(bEmail), name: 'Bea' },
    });
    expect(accepted.status).toBe(200);
    const member = accepted.json.user as { id: string };
    expected.push({ type: 'invitation.accepted', data: await api(b.id) });
    expected.push({
      type: 'member.added',
      // SPEC §16: how the member came in.
      data: { organization_id: org.id, user_id: member.id, email: bEmail, role: 'viewer', via: 'invitation' },
    });
    expect(
      (
        await call('PATCH', `/v1/organizations/${org.id}/members/${member.id}`, {
          token: owner.token,
          body: { role: 'billing' },
        })
      ).status,
    ).toBe(200);
    expected.push({
      type: 'member.role_changed',
      data: { organization_id: org.id, user_id: member.id, email: bEmail, role: 'billing', previous_role: 'viewer' },
    });
    expect(
      (await call('DELETE', `/v1/organizations/${org.id}/members/${member.id}`, { token: owner.token })).status,
    ).toBe(204);
    expected.push({
      type: 'member.removed',
      data: { organization_id: org.id, user_id: member.id, email: bEmail, role: 'billing' },
    });

    // Invitation C: expires, written down by the cron sweep.
    const c = (await invite(owner.token, org.id, { email: uniqueEmail('c'), role: 'viewer' })).json;
    expected.push({ type: 'invitation.created', data: { ...(await api(c.id)), email_delivery: 'queued' } });
    await setExpiresAt(c.id, Date.now() - 10);
    const sweptAt = Date.now();
    await runExpirySweep(db(), sweptAt);
    expected.push({ type: 'invitation.expired', data: await api(c.id) });

    await drainWebhooks();
    const got = (await received(hook.name)).map(
      (r) => JSON.parse(r.body) as { type: string; timestamp: string; data: unknown },
    );
    expect(got.map((e) => e.type).sort()).toEqual(expected.map((e) => e.type).sort());
    // Order is not guaranteed; match each expected event to the received one of its type and subject.
    const key = (e: { type: string; data: any }) => `${e.type}:${e.data.id ?? e.data.user_id}`;
    const byKey = new Map(got.map((e) => [key(e), e]));
    for (const e of expected) {
      const event = byKey.get(key(e));
      expect(event, key(e)).toBeDefined();
      // The email's own delivery state moves on after the event (queued → sent): compare the rest.
      const { email_delivery: _a, ...wanted } = e.data as Record<string, unknown>;
      const { email_delivery: _b, ...actual } = event!.data as Record<string, unknown>;
      expect(actual, key(e)).toEqual(wanted);
    }
    const bodies = (await received(hook.name)).map((r) => r.body).join('\n');
    expect(bodies).not.toMatch(/eyJ|token=|8b_ses_|8b_pat_|whsec_/);
  });

  it('an endpoint subscribed to some types receives only those; an organization without endpoints writes no events', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg();
    const hook = await endpointFor(owner.token, org.id, 'ok', { events: ['invitation.revoked'] });
    const a = (await invite(owner.token, org.id, { email: uniqueEmail(), role: 'viewer' })).json;
    await call('POST', `/v1/organizations/${org.id}/invitations/${a.id}/revoke`, { token: owner.token });
    await drainWebhooks();
    expect((await received(hook.name)).map((r) => JSON.parse(r.body).type)).toEqual(['invitation.revoked']);

    const quiet = await ownerWithOrg();
    await invite(quiet.owner.token, quiet.org.id, { email: uniqueEmail(), role: 'viewer' });
    expect(await countRows('webhook_events', `organization_id = '${quiet.org.id}'`)).toBe(0);
  });

  it('delivery failures and the system revocations of §14 are events too', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg();
    const hook = await endpointFor(owner.token, org.id, 'ok', { events: ['invitation.revoked', 'member.removed'] });
    const admin = await addMember(owner.token, org.id, 'admin');
    const planted = (await invite(admin.token, org.id, { email: uniqueEmail('planted'), role: 'viewer' })).json;
    await call('DELETE', `/v1/organizations/${org.id}/members/${admin.user.id}`, { token: owner.token });
    await drainWebhooks();
    const events = (await received(hook.name)).map((r) => JSON.parse(r.body));
    expect(events.map((e) => e.type).sort()).toEqual(['invitation.revoked', 'member.removed']);
    const revoked = events.find((e) => e.type === 'invitation.revoked');
    expect(revoked.data).toEqual(
      (await call('GET', `/v1/organizations/${org.id}/invitations/${planted.id}`, { token: owner.token })).json,
    );
  });
});

describe('delivery faults, each with a local receiver', () => {
  it('500 then 200: retried after 5 s with the same webhook-id; the log shows both attempts', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg();
    const hook = await endpointFor(owner.token, org.id, 'fail-once');
    await call('POST', `/v1/organizations/${org.id}/webhooks/${hook.id}/test`, { token: owner.token });
    const before = Date.now();
    await drainWebhooks();
    const first = (await deliveryOf(hook.id))!;
    expect(first).toMatchObject({ status: 'pending', attempts: 1 });
    expect(first.next_attempt_at - before).toBeGreaterThanOrEqual(WEBHOOK_RETRY_DELAYS_MS[0] - 50);
    expect(first.next_attempt_at - Date.now()).toBeLessThanOrEqual(WEBHOOK_RETRY_DELAYS_MS[0]);
    await bringForward(first.id);
    await drainWebhooks();
    expect((await deliveryOf(hook.id))!.status).toBe('delivered');
    const hooks = await received(hook.name);
    expect(hooks.map((h) => h.answered)).toEqual([500, 200]);
    expect(new Set(hooks.map((h) => h.headers['webhook-id']))).toEqual(new Set([first.id]));
    const log = await call('GET', `/v1/organizations/${org.id}/webhooks/${hook.id}/deliveries`, { token: owner.token });
    expect(log.json.data.map((a: { attempt: number; status_code: number }) => [a.attempt, a.status_code])).toEqual([
      [2, 200],
      [1, 500],
    ]);
    expect(log.json.data[1]).toMatchObject({
      webhook_id: first.id,
      event_type: 'webhook.test',
      error: 'http_500',
      next_attempt_at: expect.any(String),
    });
  });

  it('a receiver that never answers times out and is retried', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg();
    const hook = await endpointFor(owner.token, org.id, 'hang');
    await call('POST', `/v1/organizations/${org.id}/webhooks/${hook.id}/test`, { token: owner.token });
    const delivery = (await deliveryOf(hook.id))!;
    // The real timeout is 10 s; this call passes 300 ms (the only knob), through the same code.
    const verdict = await deliverWebhook(env, db(), delivery.id, Date.now(), { timeoutMs: 300 });
    expect(verdict).toEqual({ done: false, retryInMs: WEBHOOK_RETRY_DELAYS_MS[0] });
    const attempt = await env.DB.prepare('SELECT status_code, error FROM webhook_attempts WHERE delivery_id = ?')
      .bind(delivery.id)
      .first();
    expect(attempt).toEqual({ status_code: null, error: 'timeout' });
    expect((await deliveryOf(hook.id))!.status).toBe('pending');
  });

  it('a 3xx is not followed: recorded as a failure, and the redirect target receives nothing', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg();
    const hook = await endpointFor(owner.token, org.id, 'redirect');
    await call('POST', `/v1/organizations/${org.id}/webhooks/${hook.id}/test`, { token: owner.token });
    await drainWebhooks();
    const log = await call('GET', `/v1/organizations/${org.id}/webhooks/${hook.id}/deliveries`, { token: owner.token });
    expect(log.json.data[0]).toMatchObject({ status_code: 302, error: 'redirect_not_followed' });
    expect(await received(`${hook.name}-redirected`)).toEqual([]);
  });

  it('at most 1 KiB of a response is kept', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg();
    const hook = await endpointFor(owner.token, org.id, 'big');
    await call('POST', `/v1/organizations/${org.id}/webhooks/${hook.id}/test`, { token: owner.token });
    await drainWebhooks();
    const kept = await env.DB.prepare(
      'SELECT response_body AS body, length(CAST(response_body AS BLOB)) AS bytes FROM webhook_attempts WHERE endpoint_id = ?',
    )
      .bind(hook.id)
      .first<{ body: string; bytes: number }>();
    expect(kept!.bytes).toBe(1024);
    expect(kept!.body).toBe('é'.repeat(512));
  });

  it('a disabled endpoint gets nothing: no new deliveries, and those already queued are dropped', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg();
    const hook = await endpointFor(owner.token, org.id);
    await invite(owner.token, org.id, { email: uniqueEmail(), role: 'viewer' });
    expect((await deliveryOf(hook.id))!.status).toBe('pending');
    await call('PATCH', `/v1/organizations/${org.id}/webhooks/${hook.id}`, {
      token: owner.token,
      body: { enabled: false },
    });
    await invite(owner.token, org.id, { email: uniqueEmail(), role: 'viewer' });
    expect(await countRows('webhook_deliveries', `endpoint_id = '${hook.id}'`)).toBe(1);
    await drainWebhooks();
    expect((await deliveryOf(hook.id))!.status).toBe('dropped');
    expect(await received(hook.name)).toEqual([]);
    const test = await call('POST', `/v1/organizations/${org.id}/webhooks/${hook.id}/test`, { token: owner.token });
    expect(test.status).toBe(409);
  });

  it("a deleted endpoint's queued events are dropped", async ({ expect }) => {
    const { owner, org } = await ownerWithOrg();
    const hook = await endpointFor(owner.token, org.id);
    await invite(owner.token, org.id, { email: uniqueEmail(), role: 'viewer' });
    const queued = (await deliveryOf(hook.id))!;
    await call('DELETE', `/v1/organizations/${org.id}/webhooks/${hook.id}`, { token: owner.token });
    await drainWebhooks();
    const after = await env.DB.prepare('SELECT status FROM webhook_deliveries WHERE id = ?')
      .bind(queued.id)
      .first<{ status: string }>();
    expect(after!.status).toBe('dropped');
    expect(await received(hook.name)).toEqual([]);
  });

  it('a receiver that keeps failing: retries after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, then given up', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg();
    const hook = await endpointFor(owner.token, org.id, 'always-500');
    await call('POST', `/v1/organizations/${org.id}/webhooks/${hook.id}/test`, { token: owner.token });
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      const d = (await deliveryOf(hook.id))!;
      await bringForward(d.id);
      const t = Date.now();
      await drainWebhooks({}, { rounds: 1 });
      const after = (await deliveryOf(hook.id))!;
      if (after.status === 'pending') waits.push(Math.round((after.next_attempt_at - t) / 1000) * 1000);
    }
    expect(waits).toEqual(WEBHOOK_RETRY_DELAYS_MS);
    expect((await deliveryOf(hook.id))!).toMatchObject({ status: 'failed', attempts: 8 });
    expect((await received(hook.name)).length).toBe(8);
  });

  it('an endpoint whose deliveries all failed for 24 hours (20+ attempts) is disabled, with an audit event', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg();
    const hook = await endpointFor(owner.token, org.id, 'always-500');
    await env.DB.prepare('UPDATE webhook_endpoints SET failing_since = ?, failed_attempts = 19 WHERE id = ?')
      .bind(Date.now() - 25 * 3_600_000, hook.id)
      .run();
    await call('POST', `/v1/organizations/${org.id}/webhooks/${hook.id}/test`, { token: owner.token });
    await drainWebhooks({}, { rounds: 1 });
    const read = await call('GET', `/v1/organizations/${org.id}/webhooks/${hook.id}`, { token: owner.token });
    expect(read.json.enabled).toBe(false);
    expect(read.json.disabled_reason).toMatch(/every delivery failed for 24 hours/);
    const audit = await call('GET', `/v1/organizations/${org.id}/audit-log`, { token: owner.token });
    expect(audit.json.data.find((e: { action: string }) => e.action === 'webhook.disabled')).toMatchObject({
      actor: { type: 'system' },
    });
    // 19 failures within the day would not have disabled it.
    const young = await endpointFor(owner.token, org.id, 'always-500');
    await env.DB.prepare('UPDATE webhook_endpoints SET failing_since = ?, failed_attempts = 30 WHERE id = ?')
      .bind(Date.now() - 23 * 3_600_000, young.id)
      .run();
    await call('POST', `/v1/organizations/${org.id}/webhooks/${young.id}/test`, { token: owner.token });
    await drainWebhooks({}, { rounds: 1 });
    expect(
      (await call('GET', `/v1/organizations/${org.id}/webhooks/${young.id}`, { token: owner.token })).json.enabled,
    ).toBe(true);
  });

  it('redelivers one attempt from the log with the same webhook-id', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg();
    const hook = await endpointFor(owner.token, org.id);
    await call('POST', `/v1/organizations/${org.id}/webhooks/${hook.id}/test`, { token: owner.token });
    await drainWebhooks();
    const [attempt] = (
      await call('GET', `/v1/organizations/${org.id}/webhooks/${hook.id}/deliveries`, { token: owner.token })
    ).json.data;
    const again = await call(
      'POST',
      `/v1/organizations/${org.id}/webhooks/${hook.id}/deliveries/${attempt.id}/redeliver`,
      { token: owner.token },
    );
    expect(again.status).toBe(202);
    expect(again.json.webhook_id).toBe(attempt.webhook_id);
    await drainWebhooks();
    const hooks = await received(hook.name);
    expect(hooks.map((h) => h.headers['webhook-id'])).toEqual([attempt.webhook_id, attempt.webhook_id]);
    expect(
      (
        await call('POST', `/v1/organizations/${org.id}/webhooks/${hook.id}/deliveries/wha_nope/redeliver`, {
          token: owner.token,
        })
      ).status,
    ).toBe(404);
  });
});

describe('webhook routes: authorization and bad input', () => {
  it('5 roles × every route: owners and admins may, other members 403, non-members 404', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg();
    const people: [string, string][] = [['owner', owner.token]];
    for (const role of ['admin', 'developer', 'viewer', 'billing'])
      people.push([role, (await addMember(owner.token, org.id, role)).token]);
    people.push(['non-member', (await signUp(uniqueEmail('outsider'))).token]);
    const base = `/v1/organizations/${org.id}/webhooks`;
    let checked = 0;
    for (const [role, token] of people) {
      // A fresh endpoint with one logged attempt per caller, so deletes and rotations do not interfere.
      const hook = await endpointFor(owner.token, org.id);
      await call('POST', `${base}/${hook.id}/test`, { token: owner.token });
      await drainWebhooks();
      const [attempt] = (await call('GET', `${base}/${hook.id}/deliveries`, { token: owner.token })).json.data;
      const routes: [string, string, unknown?][] = [
        ['GET', base],
        ['GET', `${base}/${hook.id}`],
        ['GET', `${base}/${hook.id}/deliveries`],
        ['PATCH', `${base}/${hook.id}`, { description: 'changed' }],
        ['POST', `${base}/${hook.id}/test`],
        ['POST', `${base}/${hook.id}/deliveries/${attempt.id}/redeliver`],
        ['POST', `${base}/${hook.id}/rotate-secret`],
        ['POST', base, { url: `https://matrix.example/${role}` }],
        ['DELETE', `${base}/${hook.id}`],
      ];
      const manager = role === 'owner' || role === 'admin';
      for (const [method, path, body] of routes) {
        const res = await call(method, path, { token, body });
        if (manager) expect(res.status, `${role} ${method} ${path}: ${res.text}`).toBeLessThan(300);
        else {
          expect(res.status, `${role} ${method} ${path}`).toBe(role === 'non-member' ? 404 : 403);
          expect(res.json.code).toBe(role === 'non-member' ? 'not_found' : 'forbidden');
        }
        checked++;
      }
      if (manager)
        await call(
          'DELETE',
          `${base}/${(await call('GET', base, { token: owner.token })).json.data.find((w: { url: string }) => w.url.endsWith(`/${role}`)).id}`,
          { token: owner.token },
        );
    }
    expect(checked).toBe(6 * 9);
  });

  it('40+ malformed requests to the webhook routes: 4xx problems, nothing written', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg();
    const hook = await endpointFor(owner.token, org.id);
    const base = `/v1/organizations/${org.id}/webhooks`;
    const snapshot = async () => {
      const rows = await env.DB.batch(
        ['webhook_endpoints', 'webhook_events', 'webhook_deliveries', 'webhook_attempts', 'audit_events'].map((t) =>
          env.DB.prepare(`SELECT * FROM ${t} ORDER BY rowid`),
        ),
      );
      return JSON.stringify(rows.map((r) => r.results));
    };
    const before = await snapshot();
    const bad: [string, string, { body?: unknown; rawBody?: string; headers?: Record<string, string> }][] = [
      ['POST', base, { body: {} }],
      ['POST', base, { body: { url: '' } }],
      ['POST', base, { body: { url: 42 } }],
      ['POST', base, { body: { url: null } }],
      ['POST', base, { body: { url: 'https://x.example', events: 'all' } }],
      ['POST', base, { body: { url: 'https://x.example', events: [1] } }],
      ['POST', base, { body: { url: 'https://x.example', events: ['Invitation.Created'] } }],
      ['POST', base, { body: { url: 'https://x.example', description: 'd'.repeat(201) } }],
      ['POST', base, { body: { url: 'https://x.example', secret: 'whsec_mine' } }],
      ['POST', base, { body: { url: 'https://x.example', enabled: false } }],
      ['POST', base, { body: { url: 'http://x.example' } }],
      ['POST', base, { body: { url: 'https://u:p@x.example' } }],
      ['POST', base, { body: { url: `https://x.example/${'a'.repeat(2050)}` } }],
      ['POST', base, { body: { url: '//x.example' } }],
      ['POST', base, { body: { url: 'file:///etc/passwd' } }],
      ['POST', base, { rawBody: '{"url":', headers: { 'Content-Type': 'application/json' } }],
      [
        'POST',
        base,
        { rawBody: 'url=https://x.example', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } },
      ],
      ['POST', base, { rawBody: '[]', headers: { 'Content-Type': 'application/json' } }],
      ['POST', base, { rawBody: 'null', headers: { 'Content-Type': 'application/json' } }],
      [
        'POST',
        base,
        {
          rawBody: JSON.stringify({ url: 'https://x.example', pad: 'p'.repeat(20_000) }),
          headers: { 'Content-Type': 'application/json' },
        },
      ],
      ['PATCH', `${base}/${hook.id}`, { body: {} }],
      ['PATCH', `${base}/${hook.id}`, { body: { enabled: 'yes' } }],
      ['PATCH', `${base}/${hook.id}`, { body: { url: 'http://evil.example' } }],
      ['PATCH', `${base}/${hook.id}`, { body: { events: [] } }],
      ['PATCH', `${base}/${hook.id}`, { body: { events: ['nope'] } }],
      ['PATCH', `${base}/${hook.id}`, { body: { secret: 'x' } }],
      ['PATCH', `${base}/${hook.id}`, { body: { id: 'whk_other' } }],
      ['PATCH', `${base}/${hook.id}`, { rawBody: 'not json', headers: { 'Content-Type': 'application/json' } }],
      ['PATCH', `${base}/whk_missing`, { body: { enabled: false } }],
      ['GET', `${base}/whk_missing`, {}],
      ['GET', `${base}/${'x'.repeat(65)}`, {}],
      ['DELETE', `${base}/whk_missing`, {}],
      ['POST', `${base}/whk_missing/rotate-secret`, {}],
      ['POST', `${base}/whk_missing/test`, {}],
      ['GET', `${base}/whk_missing/deliveries`, {}],
      ['GET', `${base}/${hook.id}/deliveries?limit=0`, {}],
      ['GET', `${base}/${hook.id}/deliveries?limit=101`, {}],
      ['GET', `${base}/${hook.id}/deliveries?limit=abc`, {}],
      ['GET', `${base}/${hook.id}/deliveries?cursor=garbage`, {}],
      ['GET', `${base}/${hook.id}/deliveries?status=failed`, {}],
      ['POST', `${base}/${hook.id}/deliveries/wha_missing/redeliver`, {}],
      ['PUT', `${base}/${hook.id}`, { body: { url: 'https://x.example' } }],
      ['GET', `/v1/organizations/org_missing/webhooks`, {}],
    ];
    expect(bad.length).toBeGreaterThanOrEqual(40);
    for (const [method, path, opts] of bad) {
      const res = await call(method, path, { token: owner.token, ...opts });
      expect(res.status, `${method} ${path.slice(-40)} ${JSON.stringify(opts).slice(0, 60)}`).toBeGreaterThanOrEqual(
        400,
      );
      expect(res.status).toBeLessThan(500);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.json.code).toEqual(expect.any(String));
    }
    expect(await snapshot()).toBe(before);
  });
});

describe('Settings > Webhooks page', () => {
  const csrf = 'w'.repeat(43);
  const page = (path: string, token: string, form?: Record<string, string | string[]>) => {
    const body = new URLSearchParams();
    if (form) {
      body.append('_csrf', csrf);
      for (const [k, v] of Object.entries(form)) for (const one of ([] as string[]).concat(v)) body.append(k, one);
    }
    return exports.default.fetch(
      new Request(`http://127.0.0.1:8787${path}`, {
        method: form ? 'POST' : 'GET',
        redirect: 'manual',
        headers: {
          Cookie: `8b_csrf=${csrf}; 8b_session=${token}`,
          ...(form ? { 'Content-Type': 'application/x-www-form-urlencoded', Origin: 'http://127.0.0.1:8787' } : {}),
        },
        body: form ? body : undefined,
      }),
    );
  };

  it('an owner adds an endpoint (secret shown once, with a copy button), sends a test and sees the delivery; others are sent to Team', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Page Hooks Co');
    const base = `/orgs/${org.slug}/settings/webhooks`;
    const empty = await page(base, owner.token);
    expect(empty.status).toBe(200);
    const html = await empty.text();
    expect(html).toContain('aria-current="page">Webhooks');
    expect(html).toContain('Add an endpoint');
    const name = hookName('page');
    const added = await page(base, owner.token, {
      url: hookUrl('ok', name),
      description: 'From the page',
      events: ['invitation.created', 'invitation.accepted'],
    });
    expect(added.status).toBe(200);
    const addedHtml = await added.text();
    const secret = /id="new-secret" type="text" readonly="" value="(whsec_[^"]+)"/.exec(addedHtml)?.[1];
    expect(secret).toMatch(/^whsec_/);
    expect(addedHtml).toContain('data-copy="new-secret"');
    expect(addedHtml).not.toMatch(/<script>/);
    const [endpoint] = (await call('GET', `/v1/organizations/${org.id}/webhooks`, { token: owner.token })).json.data;
    expect(endpoint).toMatchObject({
      description: 'From the page',
      events: ['invitation.accepted', 'invitation.created'],
    });
    expect(await (await page(base, owner.token)).text()).not.toContain(secret);

    const tested = await page(`${base}/${endpoint.id}/test`, owner.token, {});
    expect(tested.status).toBe(303);
    expect(tested.headers.get('location')).toBe(`${base}?notice=tested`);
    await drainWebhooks();
    const after = await (await page(base, owner.token)).text();
    expect(after).toMatch(/<td class="mono">webhook\.test<\/td>/);
    expect(after).toMatch(/class="badge delivered">200</);
    const [got] = await received(name);
    expect(new Webhook(secret!).verify(got.body, got.headers)).toBeTruthy();

    // Disable, then delete, from the page.
    expect((await page(`${base}/${endpoint.id}/toggle`, owner.token, {})).headers.get('location')).toBe(
      `${base}?notice=disabled`,
    );
    expect(
      (await call('GET', `/v1/organizations/${org.id}/webhooks/${endpoint.id}`, { token: owner.token })).json.enabled,
    ).toBe(false);
    expect((await page(`${base}/${endpoint.id}/delete`, owner.token, {})).headers.get('location')).toBe(
      `${base}?notice=deleted`,
    );
    expect(await countRows('webhook_endpoints', `organization_id = '${org.id}'`)).toBe(0);

    // A bad URL is explained, keeping what was typed; nothing is created.
    const bad = await page(base, owner.token, { url: 'http://example.com/in', events: ['member.added'] });
    expect(bad.status).toBe(400);
    const badHtml = await bad.text();
    expect(badHtml).toContain('https://');
    expect(badHtml).toContain('value="http://example.com/in"');
    expect(await countRows('webhook_endpoints', `organization_id = '${org.id}'`)).toBe(0);

    const viewer = await addMember(owner.token, org.id, 'viewer');
    const redirected = await page(base, viewer.token);
    expect(redirected.status).toBe(303);
    expect(redirected.headers.get('location')).toBe(`/orgs/${org.slug}/settings/team`);
    expect((await page(base, viewer.token, { url: 'https://x.example', events: ['member.added'] })).status).toBe(303);
    expect(await countRows('webhook_endpoints', `organization_id = '${org.id}'`)).toBe(0);
    const outsider = await signUp(uniqueEmail('page-outsider'));
    expect((await page(base, outsider.token)).status).toBe(404);
    // Without the CSRF token: refused.
    const forged = await exports.default.fetch(
      new Request(`http://127.0.0.1:8787${base}`, {
        method: 'POST',
        headers: { Cookie: `8b_session=${owner.token}`, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'url=https%3A%2F%2Fx.example&events=member.added',
      }),
    );
    expect(forged.status).toBe(403);
  });
});

describe('more events, and the machinery around delivery', () => {
  it('invitation.delivery_failed, invitation.bounced and member.left (as member.removed) carry the resource as the API shows it', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Failures Co');
    const hook = await endpointFor(owner.token, org.id, 'ok', {
      events: ['invitation.delivery_failed', 'invitation.bounced', 'member.removed'],
    });
    const api = async (id: string) =>
      (await call('GET', `/v1/organizations/${org.id}/invitations/${id}`, { token: owner.token })).json;

    // A permanent refusal by the send_email binding: failed after one attempt.
    const refused = (await createWith(owner.token, org.id, uniqueEmail('refused'), { DELIVERY_QUEUE: silentQueue }))
      .json;
    await drainOutbox({ EMAIL: failingEmail(() => true, 'E_RECIPIENT_NOT_ALLOWED: destination address not verified') });
    expect((await api(refused.id)).email_delivery).toBe('failed');

    // A hard bounce reported by Resend (Svix-signed, as the provider does).
    const bouncing = (await createWith(owner.token, org.id, uniqueEmail('bouncing'), { DELIVERY_QUEUE: silentQueue }))
      .json;
    await drainOutbox({
      EMAIL_TRANSPORT: 'resend',
      EMAIL_API_KEY: 're_test_0123456789',
      EMAIL_API_BASE_URL: env.TEST_EMAIL_API,
    } as Partial<Env>);
    const [{ provider_message_id: messageId }] = (
      await env.DB.prepare('SELECT provider_message_id FROM outbox WHERE subject_id = ?')
        .bind(bouncing.id)
        .all<{ provider_message_id: string }>()
    ).results;
    const eventSecret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const bounceBody = JSON.stringify({
      type: 'email.bounced',
      created_at: new Date().toISOString(),
      data: { email_id: messageId, bounce: { type: 'Permanent', message: 'No such mailbox.' } },
    });
    const svixId = `msg_${Date.now().toString(36)}`;
    const bounced = await fetchWithEnv(
      '/v1/email-events/resend',
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'svix-id': svixId,
          'svix-timestamp': String(Math.floor(Date.now() / 1000)),
          'svix-signature': new Webhook(eventSecret).sign(svixId, new Date(), bounceBody),
        },
        body: bounceBody,
      },
      { ...env, EMAIL_TRANSPORT: 'resend', EMAIL_EVENTS_SECRET: eventSecret },
    );
    expect(bounced.status).toBe(200);

    // A member leaves on their own.
    const leaver = await addMember(owner.token, org.id, 'developer');
    expect(
      (await call('DELETE', `/v1/organizations/${org.id}/members/${leaver.user.id}`, { token: leaver.token })).status,
    ).toBe(204);

    await drainWebhooks();
    const events = (await received(hook.name)).map((r) => JSON.parse(r.body) as { type: string; data: any });
    expect(events.map((e) => e.type).sort()).toEqual([
      'invitation.bounced',
      'invitation.delivery_failed',
      'member.removed',
    ]);
    expect(events.find((e) => e.type === 'invitation.delivery_failed')!.data).toEqual(await api(refused.id));
    expect(events.find((e) => e.type === 'invitation.bounced')!.data).toEqual(await api(bouncing.id));
    expect(events.find((e) => e.type === 'invitation.bounced')!.data).toMatchObject({
      email_delivery: 'bounced',
      email_delivery_detail: 'Permanent: No such mailbox.',
    });
    expect(events.find((e) => e.type === 'member.removed')!.data).toEqual({
      organization_id: org.id,
      user_id: leaver.user.id,
      email: leaver.email,
      role: 'developer',
    });
  });

  it('a success ends the failure streak; the relay re-hands an overdue message; the dead-letter queue gives one up', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg();
    const hook = await endpointFor(owner.token, org.id);
    await env.DB.prepare('UPDATE webhook_endpoints SET failing_since = ?, failed_attempts = 7 WHERE id = ?')
      .bind(Date.now() - 3_600_000, hook.id)
      .run();
    await call('POST', `/v1/organizations/${org.id}/webhooks/${hook.id}/test`, { token: owner.token });
    await drainWebhooks();
    expect(
      await env.DB.prepare('SELECT failing_since, failed_attempts FROM webhook_endpoints WHERE id = ?')
        .bind(hook.id)
        .first(),
    ).toEqual({ failing_since: null, failed_attempts: 0 });

    // A message whose queue hand-off was lost: the relay hands it over once it is 2 minutes overdue.
    await call('POST', `/v1/organizations/${org.id}/webhooks/${hook.id}/test`, { token: owner.token });
    const lost = (await deliveryOf(hook.id))!;
    const { queue, bodies } = recordingQueue();
    await runOutboxRelay({ DELIVERY_QUEUE: queue }, db(), Date.now());
    expect(bodies).not.toContainEqual({ webhook: lost.id });
    await env.DB.prepare('UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id = ?')
      .bind(Date.now() - 3 * 60_000, lost.id)
      .run();
    await runOutboxRelay({ DELIVERY_QUEUE: queue }, db(), Date.now());
    expect(bodies).toContainEqual({ webhook: lost.id });

    // The dead-letter queue (a consumer that kept crashing) gives the message up.
    await runQueue([{ webhook: lost.id }], {}, 'invitations-delivery-dlq');
    expect((await deliveryOf(hook.id))!.status).toBe('failed');
  });

  it('outside local development, endpoints must be public: no localhost, private or link-local literals, nor this service', ({
    expect,
  }) => {
    const prod = 'https://invitations.example';
    for (const bad of [
      'https://localhost/x',
      'https://api.localhost/x',
      'https://127.0.0.1/x',
      'https://10.1.2.3/x',
      'https://172.20.0.1/x',
      'https://192.168.1.1/x',
      'https://169.254.169.254/latest',
      'https://100.64.0.1/x',
      'https://0.0.0.0/x',
      'https://[::1]/x',
      'https://[fd00::1]/x',
      'https://[fe80::1]/x',
      'https://[::ffff:10.0.0.1]/x',
      'https://2130706433/x',
      'https://0x7f.1/x',
      'https://invitations.example/v1/x',
      'http://127.0.0.1/x',
    ]) {
      expect(webhookUrlProblem(prod, bad), bad).not.toBeNull();
    }
    for (const good of [
      'https://hooks.example.com/in',
      'https://8.8.8.8/x',
      'https://[2001:db8::1]/x',
      'https://172.32.0.1/x',
    ])
      expect(webhookUrlProblem(prod, good), good).toBeNull();
    // Local development: a receiver on this machine is the point.
    expect(webhookUrlProblem('http://127.0.0.1:8787', 'https://localhost:9000/in')).toBeNull();
    expect(webhookUrlProblem('http://127.0.0.1:8787', 'http://127.0.0.1:9000/in')).toBeNull();
  });

  it('a member who may not manage webhooks gets 403 even for a malformed body (the role is checked first)', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg();
    const viewer = await addMember(owner.token, org.id, 'viewer');
    const res = await call('POST', `/v1/organizations/${org.id}/webhooks`, {
      token: viewer.token,
      body: { nonsense: true },
    });
    expect(res.status).toBe(403);
  });

  it('concurrent rotations lose no secret: the last one is current and the one before still signs', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg();
    const hook = await endpointFor(owner.token, org.id);
    const [a, b] = await Promise.all(
      [1, 2].map(() =>
        call('POST', `/v1/organizations/${org.id}/webhooks/${hook.id}/rotate-secret`, { token: owner.token }),
      ),
    );
    const row = (await env.DB.prepare('SELECT secret, previous_secret FROM webhook_endpoints WHERE id = ?')
      .bind(hook.id)
      .first<{ secret: string; previous_secret: string }>())!;
    expect(new Set([row.secret, row.previous_secret])).toEqual(new Set([a.json.secret, b.json.secret]));
  });

  it('a PATCH racing an auto-disable does not re-enable the endpoint', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg();
    const hook = await endpointFor(owner.token, org.id);
    await env.DB.prepare("UPDATE webhook_endpoints SET enabled = 0, disabled_reason = 'auto' WHERE id = ?")
      .bind(hook.id)
      .run();
    const res = await call('PATCH', `/v1/organizations/${org.id}/webhooks/${hook.id}`, {
      token: owner.token,
      body: { description: 'just a label' },
    });
    expect(res.json).toMatchObject({ enabled: false, disabled_reason: 'auto', description: 'just a label' });
  });
});
