import { env } from 'cloudflare:workers';
import { describe, it, vi } from 'vitest';
import { postmarkTransport } from '../src/delivery/transports/postmark';
import { resendTransport } from '../src/delivery/transports/resend';
import type { OutgoingEmail, Transport } from '../src/delivery/transports';
import { drainOutbox, fetchWithEnv, ownerWithOrg, uniqueEmail } from './helpers';
import { createWith, invitationDelivery, outboxFor, silentQueue } from './delivery-fakes';

// The stand-in (test/standins/email-api.ts) speaks each provider's documented format; the
// transports are pointed at it by base URL only.
const RESEND_KEY = 're_test_0123456789';
const POSTMARK_TOKEN = 'pm-test-0000-1111-2222';

interface Recorded {
  provider: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: any;
  answered: number | null;
}
const received = async (to: string): Promise<Recorded[]> => {
  const all = (await (await fetch(`${env.TEST_EMAIL_API}/__requests`)).json()) as Recorded[];
  return all.filter((r) => JSON.stringify(r.body ?? '').includes(to));
};

const email = (to: string, key = `obx_${Math.random().toString(36).slice(2, 22).padEnd(20, '0')}`): OutgoingEmail => ({
  from: 'invitations@8bit-ai.dev',
  fromName: '8bit-ai',
  to,
  subject: 'Olivia invited you to join Acme on 8bit-ai',
  text: 'Accept: https://app.example/invitations/accept?token=eyJhbGciOiJIUzI1NiJ9.e30.sig',
  html: '<p>Accept</p>',
  headers: { 'Auto-Submitted': 'auto-generated' },
  idempotencyKey: key,
});

const providers: { name: string; make: (o?: { apiKey?: string; timeoutMs?: number }) => Transport; path: string }[] = [
  {
    name: 'resend',
    path: '/emails',
    make: (o = {}) =>
      resendTransport({ apiKey: o.apiKey ?? RESEND_KEY, baseUrl: env.TEST_EMAIL_API, timeoutMs: o.timeoutMs }),
  },
  {
    name: 'postmark',
    path: '/email',
    make: (o = {}) =>
      postmarkTransport({ apiKey: o.apiKey ?? POSTMARK_TOKEN, baseUrl: env.TEST_EMAIL_API, timeoutMs: o.timeoutMs }),
  },
];

describe('SPEC §10: the Resend transport speaks its documented API', () => {
  it('POST /emails with Bearer key, User-Agent, Idempotency-Key and {from, to, subject, html, text, headers}; {id} is kept', async ({
    expect,
  }) => {
    const to = uniqueEmail('resend-ok');
    const msg = email(to);
    const result = await providers[0].make().send(msg);
    expect(result).toEqual({ status: 'sent', providerMessageId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    const [req] = await received(to);
    expect(req).toMatchObject({ method: 'POST', path: '/emails', answered: 200 });
    expect(req.headers.authorization).toBe(`Bearer ${RESEND_KEY}`);
    expect(req.headers['content-type']).toMatch(/^application\/json/);
    expect(req.headers['user-agent']).toMatch(/^8bit-ai-invitations\//);
    expect(req.headers['idempotency-key']).toBe(msg.idempotencyKey);
    expect(req.body).toEqual({
      from: '8bit-ai <invitations@8bit-ai.dev>',
      to: [to],
      subject: msg.subject,
      html: msg.html,
      text: msg.text,
      headers: msg.headers,
    });
  });

  it('the same Idempotency-Key twice is one email at Resend (same id)', async ({ expect }) => {
    const to = uniqueEmail('resend-idem');
    const msg = email(to);
    const [a, b] = [await providers[0].make().send(msg), await providers[0].make().send(msg)];
    expect(a).toEqual(b);
  });
});

describe('SPEC §10: the Postmark transport speaks its documented API', () => {
  it('POST /email with X-Postmark-Server-Token and {From, To, Subject, HtmlBody, TextBody, MessageStream, Headers}; MessageID is kept', async ({
    expect,
  }) => {
    const to = uniqueEmail('pm-ok');
    const msg = email(to);
    const result = await providers[1].make().send(msg);
    expect(result).toEqual({ status: 'sent', providerMessageId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    const [req] = await received(to);
    expect(req).toMatchObject({ method: 'POST', path: '/email', answered: 200 });
    expect(req.headers['x-postmark-server-token']).toBe(POSTMARK_TOKEN);
    expect(req.headers.accept).toBe('application/json');
    expect(req.headers['user-agent']).toMatch(/^8bit-ai-invitations\//);
    expect(req.body).toEqual({
      From: '8bit-ai <invitations@8bit-ai.dev>',
      To: to,
      Subject: msg.subject,
      HtmlBody: msg.html,
      TextBody: msg.text,
      MessageStream: 'outbound',
      Headers: [{ Name: 'Auto-Submitted', Value: 'auto-generated' }],
    });
  });
});

describe.each(providers)('SPEC §10: classifying $name answers', ({ make }) => {
  it('422 (refused recipient) is permanent, with a reason that never carries the link', async ({ expect }) => {
    const result = await make().send(email(uniqueEmail('reject')));
    expect(result).toMatchObject({ status: 'permanent', reason: expect.stringMatching(/ 422: /) });
    expect(JSON.stringify(result)).not.toContain('eyJ');
  });

  it('a wrong API key is permanent', async ({ expect }) => {
    expect(await make({ apiKey: 'wrong' }).send(email(uniqueEmail('badkey')))).toMatchObject({
      status: 'permanent',
      reason: expect.stringMatching(/ 40[13]/),
    });
  });

  it('429 and 500 are retryable', async ({ expect }) => {
    expect(await make().send(email(uniqueEmail('limited')))).toMatchObject({
      status: 'retryable',
      reason: expect.stringMatching(/ 429/),
    });
    expect(await make().send(email(uniqueEmail('down')))).toMatchObject({
      status: 'retryable',
      reason: expect.stringMatching(/ 500/),
    });
  });

  it('no answer within the timeout is retryable (the timeout is 10 s; shortened here)', async ({ expect }) => {
    const started = Date.now();
    expect(await make({ timeoutMs: 300 }).send(email(uniqueEmail('hang')))).toEqual({
      status: 'retryable',
      reason: expect.stringMatching(/no answer within 0.3 s/),
    });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('a network error is retryable', async ({ expect }) => {
    const t = make();
    const unreachable = (t.name === 'resend' ? resendTransport : postmarkTransport)({
      apiKey: 'k',
      baseUrl: 'http://127.0.0.1:9',
    });
    expect(await unreachable.send(email(uniqueEmail('net')))).toMatchObject({
      status: 'retryable',
      reason: expect.stringMatching(/network error/),
    });
  });
});

describe('SPEC §10: choosing and checking the transport', () => {
  const resendEnv = { EMAIL_TRANSPORT: 'resend', EMAIL_API_BASE_URL: '', EMAIL_API_KEY: RESEND_KEY } as Partial<Env>;

  it('EMAIL_TRANSPORT=resend sends invitations through the HTTPS API; the provider id is kept; retries reuse the Idempotency-Key', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Resend Co');
    const to = uniqueEmail('flaky-resend');
    const { id } = (await createWith(owner.token, org.id, to, { DELIVERY_QUEUE: silentQueue }, 'developer')).json;
    const overrides = { ...resendEnv, EMAIL_API_BASE_URL: env.TEST_EMAIL_API };
    await drainOutbox(overrides); // the stand-in fails the first attempt for "flaky…"
    expect(await invitationDelivery(id)).toMatchObject({ email_delivery: 'queued' });
    const [row] = await outboxFor(id);
    await env.DB.prepare('UPDATE outbox SET next_attempt_at = 0 WHERE id = ?').bind(row.id).run();
    await drainOutbox(overrides);
    expect(await invitationDelivery(id)).toMatchObject({ email_delivery: 'sent', delivery_attempts: 2 });
    const requests = await received(to);
    expect(requests.map((r) => r.answered)).toEqual([500, 200]);
    expect(new Set(requests.map((r) => r.headers['idempotency-key']))).toEqual(new Set([row.id]));
    expect(requests[1].body.text).toMatch(/\/invitations\/accept\?token=ey/);
    const stored = await env.DB.prepare('SELECT provider_message_id FROM outbox WHERE id = ?')
      .bind(row.id)
      .first<{ provider_message_id: string }>();
    expect(stored?.provider_message_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('a misconfiguration (missing key, unknown transport) is a clear log line, failed with the reason, and healthz?deep=1 says so', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Misconfigured Co');
    const { id } = (await createWith(owner.token, org.id, uniqueEmail('nokey'), { DELIVERY_QUEUE: silentQueue })).json;
    const errors = vi.spyOn(console, 'error');
    await drainOutbox({ EMAIL_TRANSPORT: 'resend', EMAIL_API_KEY: '' });
    expect(errors.mock.calls.map((c) => String(c[0])).join('\n')).toMatch(
      /"event":"email_transport_misconfigured","reason":"EMAIL_TRANSPORT is resend but the secret EMAIL_API_KEY is not set"/,
    );
    // SPEC §18: the configuration problem is in the operator's log line for the row; tenants see a fixed phrase.
    const [row] = await outboxFor(id);
    expect(errors.mock.calls.map((c) => String(c[0]))).toContainEqual(
      expect.stringContaining(
        `"reason":"EMAIL_TRANSPORT is resend but the secret EMAIL_API_KEY is not set","outbox_id":"${row.id}"`,
      ),
    );
    errors.mockRestore();
    expect(await invitationDelivery(id)).toMatchObject({
      email_delivery: 'failed',
      email_delivery_detail: 'Email is not configured on this service',
    });

    const health = async (e: Partial<Env>) => (await fetchWithEnv('/healthz?deep=1', {}, { ...env, ...e })).json();
    expect(await health({})).toMatchObject({ ok: true, email: 'ok', email_transport: 'cloudflare' });
    // SPEC §15 amends §10: a transport that cannot send makes deep health fail (503, ok: false).
    expect(await health({ EMAIL_TRANSPORT: 'sendgrid' })).toMatchObject({
      ok: false,
      email: 'misconfigured',
      email_problem: expect.stringContaining('unknown'),
    });
    expect(await health({ EMAIL_TRANSPORT: 'postmark' })).toMatchObject({ email: 'misconfigured' });
    expect(await health({ EMAIL_TRANSPORT: 'postmark', EMAIL_API_KEY: POSTMARK_TOKEN })).toMatchObject({
      email: 'ok',
      email_transport: 'postmark',
    });
    expect((await fetchWithEnv('/healthz', {}, { ...env, EMAIL_TRANSPORT: 'sendgrid' })).status).toBe(200);
  });
});
