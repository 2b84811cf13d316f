import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, it, type ExpectStatic } from 'vitest';
import worker from '../src/index';
import { D1_LIMITS, limitProblems, measure, preview } from './sql-limits';
import { createWith, silentQueue } from './delivery-fakes';
import {
  addMember,
  call,
  drainOutbox,
  drainWebhooks,
  fetchWithEnv,
  invite,
  lastToken,
  ownerWithOrg,
  runQueue,
  setExpiresAt,
  setLastSentAt,
  uniqueEmail,
} from './helpers';

/*
 * SPEC §15: migrations and the Worker's statements inside D1's documented limits: at most 32
 * arguments per SQL function, 100 bound parameters and 100 KB per statement. Local D1 runs a call
 * of 33 arguments, so nothing else would notice one that production may refuse.
 */

describe('the checker (test/sql-limits.ts)', () => {
  const args = (n: number) => Array.from({ length: n }, (_, i) => `'k${i}'`).join(', ');
  const marks = (n: number) => Array.from({ length: n }, () => '?').join(', ');

  it('reports a call with 33 arguments and passes one with 32', ({ expect }) => {
    expect(limitProblems(`SELECT json_array(${args(32)})`)).toEqual([]);
    const problems = limitProblems(`SELECT json_array(${args(33)})`);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /^json_array\(\) takes 33 arguments, over D1's 32 per SQL function: SELECT json_array\('k0'/,
    );
    // Nested: the inner call is counted on its own, and the outer one sees one argument for it.
    expect(measure(`SELECT json_set(json_object(${args(32)}), '$.a', 1)`).calls).toEqual([
      { name: 'json_object', args: 32 },
      { name: 'json_set', args: 3 },
    ]);
  });

  it('reports 101 parameters and passes 100, however they are written or bound', ({ expect }) => {
    expect(limitProblems(`SELECT 1 WHERE x IN (${marks(100)})`)).toEqual([]);
    expect(limitProblems(`SELECT 1 WHERE x IN (${marks(101)})`)).toEqual([
      expect.stringMatching(/^101 bound parameters, over D1's 100 per query: SELECT 1 WHERE x IN \(\?, \?/),
    ]);
    expect(limitProblems('SELECT ?101')).toHaveLength(1);
    expect(measure('SELECT ?1, ?1, :a, @b, $c, :a, ?').parameters).toBe(5);
    expect(limitProblems('SELECT 1', 100)).toEqual([]);
    expect(limitProblems('SELECT 1', 101)).toHaveLength(1);
  });

  it('does not count lists that are not calls, nor anything in strings, quoted names or comments', ({ expect }) => {
    const wide = Array.from({ length: 40 }, (_, i) => `c${i}`).join(', ');
    const sql = `INSERT INTO t (${wide}) VALUES (${args(40)}) -- max(${wide}) ?
      /* json_object(${args(40)}) :x */ ON CONFLICT DO NOTHING RETURNING "count"(${wide}), 'json(${args(40)}) ?' WHERE a IN (${args(40)})`;
    expect(measure(sql)).toMatchObject({ parameters: 0, calls: [] });
  });

  it('reports a statement over 100 KB', ({ expect }) => {
    const body = `SELECT '${'x'.repeat(D1_LIMITS.statementBytes - 10)}'`;
    expect(limitProblems(body)).toEqual([]);
    expect(limitProblems(`${body} || 'é'`).join()).toMatch(/100\d{3} bytes, over D1's 100000 per statement/);
  });
});

describe('migrations', () => {
  /** Every statement of every migration, in the order they apply. */
  const statements = env.TEST_MIGRATIONS.flatMap((m) =>
    m.queries.map((sql, i) => ({ where: `${m.name} #${i + 1}`, sql })),
  );
  it('every statement keeps to the limits', ({ expect }) => {
    // Fresh databases run every migration, 0005 and 0006 included, before 0008 replaces their trigger.
    expect(statements.flatMap((s) => limitProblems(s.sql).map((problem) => `${s.where}: ${problem}`))).toEqual([]);
  });

  it('the schema they leave behind (every table, index, view and trigger) keeps to the limits', async ({ expect }) => {
    const { results } = await env.DB.prepare('SELECT type, name, sql FROM sqlite_schema WHERE sql IS NOT NULL').all<{
      type: string;
      name: string;
      sql: string;
    }>();
    expect(results.map((r) => r.name)).toEqual(
      expect.arrayContaining(['invitation_resources', 'webhook_events_from_audit']),
    );
    expect(results.flatMap((r) => limitProblems(r.sql).map((p) => `${r.type} ${r.name}: ${p}`))).toEqual([]);
  });

  it('the invitation resource is written once, in the view, and is the API resource byte for byte', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Résumé "Quoted" Inc');
    const id = (
      await invite(owner.token, org.id, {
        email: uniqueEmail('view'),
        role: 'developer',
        message: 'Bienvenue "à bord" \\ 🎉\nLine two',
      })
    ).json.id;
    const resource = async () =>
      (await env.DB.prepare('SELECT resource FROM invitation_resources WHERE id = ?')
        .bind(id)
        .first<{ resource: string }>())!.resource;
    const api = async () =>
      (await call('GET', `/v1/organizations/${org.id}/invitations/${id}`, { token: owner.token })).text;
    expect(await resource()).toBe(await api());
    expect(
      (await call('POST', `/v1/organizations/${org.id}/invitations/${id}/revoke`, { token: owner.token })).status,
    ).toBe(200);
    expect(await resource()).toBe(await api());
    const trigger = statements
      .filter(({ sql }) => /CREATE\s+TRIGGER\s+`webhook_events_from_audit`/i.test(sql))
      .at(-1)!.sql;
    expect(trigger.match(/'expires_in_days'/g)).toBeNull();
  });
});

/** A statement the Worker prepared on D1, and the number of values it bound to it. */
interface Seen {
  sql: string;
  values: number;
}

/**
 * Records every statement prepared on the DB binding, as test/delivery-fakes.ts `poisonedDb` and
 * test/faults.test.ts wrap it: the database's and each session's `prepare`, and each statement's
 * `bind`. Here the wrapping goes on the binding itself, not on an env passed to one request: the
 * coordinator (a Durable Object) has its own env object whose DB is this same binding, and it makes
 * most of the writes. Returns the function that takes the wrapping off.
 */
function recordStatements(seen: Seen[]): () => void {
  const statement = (sql: string, stmt: D1PreparedStatement): D1PreparedStatement =>
    new Proxy(stmt, {
      get(target, prop) {
        if (prop === 'bind')
          return (...values: unknown[]) => (
            seen.push({ sql, values: values.length }), statement(sql, target.bind(...values))
          );
        const value = Reflect.get(target, prop);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  const preparing = (prepare: (sql: string) => D1PreparedStatement) => (sql: string) => (
    seen.push({ sql, values: 0 }), statement(sql, prepare(sql))
  );
  const session = (s: D1DatabaseSession): D1DatabaseSession =>
    new Proxy(s, {
      get(target, prop) {
        if (prop === 'prepare') return preparing((sql) => target.prepare(sql));
        const value = Reflect.get(target, prop);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  const db = env.DB;
  const { prepare, withSession } = db;
  Object.assign(db, {
    prepare: preparing((sql) => prepare.call(db, sql)),
    withSession: (...args: Parameters<D1Database['withSession']>) => session(withSession.apply(db, args)),
  });
  return () => {
    delete (db as Partial<D1Database>).prepare;
    delete (db as Partial<D1Database>).withSession;
  };
}

/** A broad tour of the product, through the Worker's fetch, queue and scheduled handlers. */
async function tour(expect: ExpectStatic) {
  const ok = async (res: Promise<{ status: number; json: any; text: string }>, status = 200) => {
    const r = await res;
    expect(r.status, r.text).toBe(status);
    return r.json;
  };
  const { owner, org } = await ownerWithOrg('Limits Tour');
  const auth = { token: owner.token };
  const base = `/v1/organizations/${org.id}`;
  const cookie = { headers: { Cookie: `8b_session=${owner.token}` } };
  await ok(call('GET', '/v1/me', auth));
  const apiToken = await ok(call('POST', '/v1/me/api-tokens', { ...auth, body: { name: 'ci' } }), 201);
  await ok(call('GET', '/v1/me/api-tokens', auth));
  await ok(call('GET', '/v1/me/sessions', auth));
  await ok(call('GET', base, { token: apiToken.token }));
  await ok(call('PATCH', base, { ...auth, body: { allowed_email_domains: ['example.com'], default_locale: 'fr' } }));
  // A webhook endpoint first: every change below is then also an event and a delivery.
  const hook = await ok(
    call('POST', `${base}/webhooks`, {
      ...auth,
      body: { url: `${env.TEST_WEBHOOK_RECEIVER}/hooks/ok/limits-${Date.now()}` },
    }),
    201,
  );
  await ok(call('GET', `${base}/webhooks`, auth));
  await ok(call('PATCH', `${base}/webhooks/${hook.id}`, { ...auth, body: { description: 'tour' } }));
  await ok(call('POST', `${base}/webhooks/${hook.id}/test`, auth), 202);
  await ok(call('POST', `${base}/webhooks/${hook.id}/rotate-secret`, auth));
  // Single invitations: create, read, list, change, resend, revoke, accept.
  const email = uniqueEmail('single');
  const single = await ok(invite(owner.token, org.id, { email, role: 'developer', message: 'Welcome' }), 201);
  await ok(call('GET', `${base}/invitations/${single.id}`, auth));
  await ok(call('GET', `${base}/invitations?status=pending&limit=2`, auth));
  await ok(call('PATCH', `${base}/invitations/${single.id}`, { ...auth, body: { role: 'viewer' } }));
  await setLastSentAt(single.id, Date.now() - 3_600_000);
  await ok(call('POST', `${base}/invitations/${single.id}/resend`, { ...auth, body: {} }));
  await ok(call('GET', `/v1/invitations/preview?token=${encodeURIComponent(await lastToken(email))}`));
  await ok(call('GET', `/invitations/accept?token=${encodeURIComponent(await lastToken(email))}`));
  const joined = await ok(
    call('POST', '/v1/invitations/accept', { body: { token: await lastToken(email), name: 'Joiner' } }),
  );
  const doomed = await ok(invite(owner.token, org.id, { email: uniqueEmail('revoked'), role: 'viewer' }), 201);
  await ok(call('POST', `${base}/invitations/${doomed.id}/revoke`, auth));
  const leaver = await addMember(owner.token, org.id, 'admin');
  // An email the queue gave up on: the dead-letter consumer marks it failed.
  const stuck = (await createWith(owner.token, org.id, uniqueEmail('dlq'), { DELIVERY_QUEUE: silentQueue })).json;
  const [{ id: outboxId }] = (
    await env.DB.prepare('SELECT id FROM outbox WHERE subject_id = ?').bind(stuck.id).all<{ id: string }>()
  ).results;
  await runQueue([{ outboxId }], {}, 'invitations-delivery-dlq');
  // 50 rows at once (the pending limit takes the first ones), then the same request replayed.
  const rows = Array.from({ length: 50 }, (_, i) => ({
    email: uniqueEmail(`bulk${i}`),
    role: 'viewer',
    message: `Row ${i}`,
  }));
  const headers = { 'Idempotency-Key': `limits-${Date.now()}` };
  const bulk = await ok(call('POST', `${base}/invitations/bulk`, { ...auth, headers, body: { invitations: rows } }));
  expect(bulk.results.length).toBe(50);
  await ok(call('POST', `${base}/invitations/bulk`, { ...auth, headers, body: { invitations: rows } }));
  // Members: list, change a role, remove one, one leaves.
  await ok(call('GET', `${base}/members`, auth));
  await ok(call('PATCH', `${base}/members/${joined.user.id}`, { ...auth, body: { role: 'billing' } }));
  await ok(call('DELETE', `${base}/members/${joined.user.id}`, auth), 204);
  await ok(call('DELETE', `${base}/members/${leaver.user.id}`, { token: leaver.token }), 204);
  await ok(call('GET', `${base}/audit-log?limit=5`, auth));
  // Pages read what the API reads, through their own queries.
  for (const path of ['/', '/account', `/orgs/${org.slug}/settings/team`, `/orgs/${org.slug}/settings/webhooks`])
    await ok(call('GET', path, cookie));
  // The delivery consumer, the provider's events (webhook and queue), the webhook consumer, the cron.
  await drainOutbox();
  // A provider's delivery event (Postmark, HTTP Basic) about a sent invitation email.
  const messageId = `pm-${Date.now()}`;
  await env.DB.prepare('UPDATE outbox SET provider_message_id = ? WHERE subject_id = ?')
    .bind(messageId, bulk.results[1].invitation.id)
    .run();
  const secret = 'events:tour-secret';
  const bounce = JSON.stringify({
    RecordType: 'Bounce',
    Type: 'HardBounce',
    MessageID: messageId,
    Description: 'Mailbox not found',
    BouncedAt: new Date().toISOString(),
  });
  const event = await fetchWithEnv(
    '/v1/email-events/postmark',
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', Authorization: `Basic ${btoa(secret)}` },
      body: bounce,
    },
    { ...env, EMAIL_TRANSPORT: 'postmark', EMAIL_EVENTS_SECRET: secret },
  );
  expect(event.status).toBe(200);
  // An Email Sending delivery event, from its queue subscription.
  const sendingId = `cf-${Date.now()}`;
  await env.DB.prepare('UPDATE outbox SET provider_message_id = ? WHERE subject_id = ?')
    .bind(sendingId, bulk.results[2].invitation.id)
    .run();
  await runQueue(
    [
      {
        type: 'cf.email.sending.message.delivered',
        source: { type: 'email.sending', zoneId: 'zone', domain: '8bit-ai.dev' },
        payload: {
          eventId: crypto.randomUUID(),
          messageId: sendingId,
          sender: 'invitations@8bit-ai.dev',
          recipient: 'someone@example.net',
          terminal: true,
          delivery: { status: 'delivered' },
        },
        metadata: {
          accountId: 'account',
          eventSubscriptionId: 'subscription',
          eventSchemaVersion: 1,
          eventTimestamp: new Date().toISOString(),
        },
      },
    ],
    {},
    'invitations-email-events',
  );
  expect(
    (
      await env.DB.prepare('SELECT email_delivery FROM invitations WHERE id = ?')
        .bind(bulk.results[2].invitation.id)
        .first<{ email_delivery: string }>()
    )?.email_delivery,
  ).toBe('delivered');
  await drainWebhooks();
  const deliveries = await ok(call('GET', `${base}/webhooks/${hook.id}/deliveries`, auth));
  await ok(call('POST', `${base}/webhooks/${hook.id}/deliveries/${deliveries.data[0].id}/redeliver`, auth), 202);
  await drainWebhooks();
  await setExpiresAt(bulk.results[0].invitation.id, Date.now() - 1);
  const ctx = createExecutionContext();
  const tenthMinute = Math.ceil(Date.now() / 600_000) * 600_000;
  await worker.scheduled!(createScheduledController({ scheduledTime: tenthMinute, cron: '* * * * *' }), env, ctx);
  await waitOnExecutionContext(ctx);
  await drainWebhooks();
  await ok(call('POST', '/v1/auth/sign-out', auth), 204);
}

describe('statements the Worker builds', () => {
  it('every statement sent to D1 during a tour of the product keeps to the limits', async ({ expect }) => {
    const seen: Seen[] = [];
    const stop = recordStatements(seen);
    try {
      await tour(expect);
    } finally {
      stop();
    }
    // The tour reached the coordinator's writes, the consumers and the cron (the recording works).
    const reached = (pattern: RegExp) => seen.some((s) => pattern.test(s.sql));
    for (const pattern of [
      /insert into "?invitations"?/i,
      /insert into "?memberships"?/i,
      /update "?webhook_deliveries"?/i,
      /provider_message_id/i,
      /"?outbox"?/i,
      /delete from "?sessions"?/i,
      /"?idempotency_keys"?/i,
    ]) {
      expect(reached(pattern), String(pattern)).toBe(true);
    }
    // One entry per distinct statement, with the most values it was bound with.
    const statements = new Map<string, number>();
    for (const s of seen) statements.set(s.sql, Math.max(statements.get(s.sql) ?? 0, s.values));
    const shapes = [...statements].map(([sql, values]) => ({ sql, values, shape: measure(sql) }));
    console.log(
      JSON.stringify({
        statements: statements.size,
        maxFunctionArgs: Math.max(...shapes.flatMap((s) => s.shape.calls.map((c) => c.args))),
        maxParameters: Math.max(...shapes.map((s) => Math.max(s.values, s.shape.parameters))),
        maxBytes: Math.max(...shapes.map((s) => s.shape.bytes)),
        widest: preview(
          shapes.reduce((a, b) =>
            Math.max(b.values, b.shape.parameters) > Math.max(a.values, a.shape.parameters) ? b : a,
          ).sql,
        ),
      }),
    );
    expect(shapes.flatMap(({ sql, values }) => limitProblems(sql, values))).toEqual([]);
  });
});
