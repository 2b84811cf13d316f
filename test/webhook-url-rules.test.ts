import { env } from 'cloudflare:workers';
import { describe, it } from 'vitest';
import { errorForException, errorForStatus } from '../src/webhooks/attempt-errors';
import { webhookUrlProblem } from '../src/webhooks/webhook-url';
import { call, countRows, fetchWithEnv, invite, ownerWithOrg, runQueue, uniqueEmail, drainWebhooks } from './helpers';

/*
 * SPEC §18, webhook URLs at send time too: one URL rule (src/webhooks/webhook-url.ts), checked when
 * an endpoint is saved and again before every delivery; the delivery log names errors by a fixed
 * set of classes, never by the runtime's text.
 */

const APP = 'https://invitations.example';
/** A deployed Worker's settings (the URL rules are relaxed only while APP_URL is local). */
const deployed = { ...env, APP_URL: APP, TOKEN_SIGNING_KEY: 'd'.repeat(48) } as Env;
const receiverPort = new URL(env.TEST_WEBHOOK_RECEIVER).port;

/** Every spelling the review got accepted, and the reserved ranges SPEC §18 adds. */
const REFUSED = [
  // IPv6 literals carrying a loopback or link-local IPv4 address.
  'https://[::7f00:1]/x',
  'https://[::127.0.0.1]/x',
  'https://[64:ff9b::a9fe:a9fe]/x',
  'https://[2002:7f00:1::]/x',
  'https://[::ffff:0:7f00:1]/x',
  'https://[::ffff:127.0.0.1]/x',
  'https://[::ffff:a9fe:a9fe]/latest',
  // The local-use NAT64 prefix, read at /48 and at /96.
  'https://[64:ff9b:1:7f00:0:100::]/x',
  'https://[64:ff9b:1::a00:1]/x',
  // Reserved ranges.
  'https://198.18.0.1/x',
  'https://198.19.255.254/x',
  'https://192.0.0.8/x',
  'https://240.0.0.1/x',
  'https://255.255.255.255/x',
  'https://224.0.0.251/x',
  'https://[fec0::1]/x',
  'https://[100::1]/x',
  'https://[ff02::1]/x',
  // This service, however its host is spelled.
  `${APP}./v1/email-events/postmark`,
  'https://INVITATIONS.example/v1/x',
  'https://invitations.example../x',
  'https://localhost./x',
  'https://api.localhost./x',
];

describe('webhook URLs are judged by where they lead, not how they are spelled', () => {
  it('every spelling of a loopback, reserved or own address is refused by the URL rule', ({ expect }) => {
    for (const url of REFUSED) expect(webhookUrlProblem(APP, url), url).not.toBeNull();
    // An IPv6 literal carrying a public IPv4 address is judged by it too, and passes.
    for (const url of [
      'https://[::ffff:808:808]/x',
      'https://[64:ff9b::808:808]/x',
      'https://[2002:808:808::]/x',
      'https://[2606:4700::1111]/x',
      'https://198.20.0.1/x',
      'https://hooks.example.com./in',
    ]) {
      expect(webhookUrlProblem(APP, url), url).toBeNull();
    }
    expect(webhookUrlProblem(APP, 'https://[64:ff9b::a9fe:a9fe]/x')).toContain('169.254.169.254');
  });

  it('refused at save: each spelling is a 400 validation_failed problem and no endpoint is written', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg();
    for (const url of [...REFUSED, 'https://[::ffff:7f00:1]/x']) {
      const res = await fetchWithEnv(
        `/v1/organizations/${org.id}/webhooks`,
        {
          method: 'POST',
          headers: {
            Authorization: `Bearer ${owner.token}`,
            'Content-Type': 'application/json',
            'CF-Connecting-IP': '203.0.113.9',
          },
          body: JSON.stringify({ url }),
        },
        deployed,
      );
      expect(res.status, url).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(((await res.json()) as { code: string }).code).toBe('validation_failed');
    }
    expect(await countRows('webhook_endpoints', `organization_id = '${org.id}'`)).toBe(0);
  });
});

describe('webhook URLs at send time', () => {
  it('a URL saved before a rule tightened is refused at send: nothing is sent, no retry, and the log says refused', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg();
    // As an older version would have saved it: straight into D1, past today's check.
    const id = `whk_${crypto.randomUUID().replace(/-/g, '').slice(0, 20)}`;
    const name = `saved-before-${Date.now().toString(36)}`;
    await env.DB.prepare(`INSERT INTO webhook_endpoints (id, organization_id, url, enabled, secret, failed_attempts, created_at, updated_at)
      VALUES (?, ?, ?, 1, ?, 0, ?, ?)`)
      .bind(
        id,
        org.id,
        `https://[::ffff:7f00:1]:${receiverPort}/hooks/ok/${name}`,
        `whsec_${btoa('k'.repeat(32))}`,
        Date.now(),
        Date.now(),
      )
      .run();
    expect((await invite(owner.token, org.id, { email: uniqueEmail(), role: 'viewer' })).status).toBe(201);
    const [delivery] = (
      await env.DB.prepare('SELECT id FROM webhook_deliveries WHERE endpoint_id = ?').bind(id).all<{ id: string }>()
    ).results;

    await runQueue([{ webhook: delivery.id }], { APP_URL: APP });

    const row = await env.DB.prepare('SELECT status, attempts FROM webhook_deliveries WHERE id = ?')
      .bind(delivery.id)
      .first();
    expect(row).toEqual({ status: 'failed', attempts: 1 });
    const log = await call('GET', `/v1/organizations/${org.id}/webhooks/${id}/deliveries`, { token: owner.token });
    expect(log.json.data).toHaveLength(1);
    expect(log.json.data[0]).toMatchObject({
      webhook_id: delivery.id,
      error: 'refused',
      status_code: null,
      duration_ms: 0,
      next_attempt_at: null,
    });
  });

  it('the same endpoint is delivered to while its URL passes the rule (local development allows this machine)', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg();
    const name = `local-ok-${Date.now().toString(36)}`;
    const created = await call('POST', `/v1/organizations/${org.id}/webhooks`, {
      token: owner.token,
      body: { url: `${env.TEST_WEBHOOK_RECEIVER}/hooks/ok/${name}` },
    });
    await call('POST', `/v1/organizations/${org.id}/webhooks/${created.json.id}/test`, { token: owner.token });
    await drainWebhooks();
    const [attempt] = (
      await call('GET', `/v1/organizations/${org.id}/webhooks/${created.json.id}/deliveries`, { token: owner.token })
    ).json.data;
    expect(attempt).toMatchObject({ status_code: 200, error: null });
  });
});

describe('the delivery log names errors by class', () => {
  it('an open loopback port that fails the connection and a closed one give the same class, no runtime text and no timing', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg();
    // Open: the receiver's port, spoken to in TLS it does not speak. Closed: port 1.
    const urls = [
      `https://127.0.0.1:${receiverPort}/hooks/ok/open`,
      'https://127.0.0.1:1/closed',
      'http://127.0.0.1:1/closed',
    ];
    const logs = [];
    for (const url of urls) {
      const hook = await call('POST', `/v1/organizations/${org.id}/webhooks`, { token: owner.token, body: { url } });
      expect(hook.status, url).toBe(201);
      await call('POST', `/v1/organizations/${org.id}/webhooks/${hook.json.id}/test`, { token: owner.token });
      await drainWebhooks();
      const log = await call('GET', `/v1/organizations/${org.id}/webhooks/${hook.json.id}/deliveries`, {
        token: owner.token,
      });
      logs.push(log);
      const [attempt] = log.json.data;
      expect(attempt, url).toMatchObject({ status_code: null, error: 'connection_failed', duration_ms: 0 });
    }
    for (const log of logs) expect(log.text).not.toMatch(/internal error|connection lost|reference =|Network/i);
  });

  it('every outcome maps to one class of the fixed set', ({ expect }) => {
    expect([200, 204, 299].map(errorForStatus)).toEqual([null, null, null]);
    expect([301, 302, 308].map(errorForStatus)).toEqual(Array(3).fill('redirect_not_followed'));
    expect([100, 404, 429, 500, 503].map(errorForStatus)).toEqual([
      'http_100',
      'http_404',
      'http_429',
      'http_500',
      'http_503',
    ]);
    expect(errorForException(new DOMException('signal timed out', 'TimeoutError'))).toBe('timeout');
    expect(errorForException(new Error('TLS handshake failed: certificate has expired'))).toBe('tls_error');
    for (const text of [
      'internal error; reference = x1',
      'Network connection lost.',
      'getaddrinfo ENOTFOUND hooks.example.com',
      'the runtimes details',
    ]) {
      expect(errorForException(new Error(text)), text).toBe('connection_failed');
    }
  });

  it('attempts logged before the fixed set keep no runtime text: migration 0012 rewrites them to their class', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg();
    const hook = await call('POST', `/v1/organizations/${org.id}/webhooks`, {
      token: owner.token,
      body: { url: 'https://hooks.example.com/old' },
    });
    const old: [string, number | null, string][] = [
      ['HTTP 500', 500, 'http_500'],
      ['HTTP 302: redirects are not followed', 302, 'redirect_not_followed'],
      ['No answer within 10 s', null, 'timeout'],
      ['Network error: internal error; reference = abc123', null, 'connection_failed'],
      ['Network error: Network connection lost.', null, 'connection_failed'],
      ['Network error: TLS peer certificate is not trusted', null, 'tls_error'],
    ];
    const at = Date.now() - 60_000;
    for (const [i, [text, status]] of old.entries()) {
      await env.DB.prepare(`INSERT INTO webhook_attempts (id, delivery_id, endpoint_id, event_id, event_type, attempt, status_code, duration_ms, error, created_at)
        VALUES (?, 'msg_old', ?, 'evt_old', 'webhook.test', 1, ?, 13, ?, ?)`)
        .bind(`wha_old${i}${at}`, hook.json.id, status, text, at - i)
        .run();
    }
    await env.DB.prepare(
      "UPDATE webhook_endpoints SET enabled = 0, disabled_reason = 'Disabled after every delivery failed for 24 hours (last: Network error: internal error; reference = abc)' WHERE id = ?",
    )
      .bind(hook.json.id)
      .run();

    const migration = env.TEST_MIGRATIONS.find((m) => m.name.startsWith('0012_'))!;
    for (const query of migration.queries) await env.DB.prepare(query).run();

    const log = await call('GET', `/v1/organizations/${org.id}/webhooks/${hook.json.id}/deliveries`, {
      token: owner.token,
    });
    expect(log.json.data.map((a: { error: string }) => a.error)).toEqual(old.map(([, , cls]) => cls));
    const read = await call('GET', `/v1/organizations/${org.id}/webhooks/${hook.json.id}`, { token: owner.token });
    expect(read.json.disabled_reason).toBe(
      'Disabled after every delivery failed for 24 hours (last: connection_failed)',
    );
  });
});
