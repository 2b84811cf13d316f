import { env } from 'cloudflare:workers';
import { describe, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { call, drainOutbox, fetchWithEnv, ownerWithOrg, runQueue, uniqueEmail } from './helpers';
import { asJson, logged } from './console-capture';
import { createWith, failingEmail, invitationDelivery, outboxFor, silentQueue } from './delivery-fakes';

/*
 * SPEC §18 "Provider events": the configured EMAIL_API_KEY is redacted from everything stored or
 * logged; tenants see a short generic delivery reason, operators the detail in the log.
 * Two gaps a security review found:
 * - L1: a provider's event text was cut to 200 characters before the key was removed, so a key
 *   straddling character 200 left its first part stored.
 * - L2: with the `cloudflare` transport tenants saw the runtime's error text, and on a
 *   misconfiguration the operator's configuration text.
 */

const RESEND_KEY = 're_test_0123456789';
const POSTMARK_KEY = 'pm-test-0000-1111-2222';
const SVIX_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const BASIC = 'events:pass-0123456789';

/** An organization with an enabled webhook endpoint (so its audit events become webhook payloads) and one sent invitation. */
async function sentInvitation(label: string) {
  const { owner, org } = await ownerWithOrg(`Reasons ${label} Co`);
  const hook = await call('POST', `/v1/organizations/${org.id}/webhooks`, {
    token: owner.token,
    body: { url: `https://hooks.example.com/${label}` },
  });
  if (hook.status !== 201) throw new Error(`create webhook: ${hook.status} ${hook.text}`);
  const { id } = (await createWith(owner.token, org.id, uniqueEmail(label), { DELIVERY_QUEUE: silentQueue })).json;
  await drainOutbox();
  const messageId = `${crypto.randomUUID()}@8bit-ai.dev`;
  await env.DB.prepare("UPDATE invitations SET email_delivery = 'sent', email_delivery_detail = NULL WHERE id = ?")
    .bind(id)
    .run();
  await env.DB.prepare('UPDATE outbox SET provider_message_id = ? WHERE subject_id = ?').bind(messageId, id).run();
  return { owner, org, id, messageId };
}

/** Everything stored that a tenant can see about the invitation: its detail, its audit events, the org's webhook payloads. */
async function storedFor(orgId: string, id: string) {
  const inv = await invitationDelivery(id);
  const audits = await env.DB.prepare('SELECT data FROM audit_events WHERE target_id = ?')
    .bind(id)
    .all<{ data: string }>();
  const hooks = await env.DB.prepare('SELECT body FROM webhook_events WHERE organization_id = ?')
    .bind(orgId)
    .all<{ body: string }>();
  return {
    detail: inv?.email_delivery_detail ?? null,
    audits: audits.results.map((r) => r.data),
    hooks: hooks.results.map((r) => r.body),
  };
}

/** Filler that puts the key's first character at index 190 of a detail that begins with `prefix`. */
const straddling = (prefix: string, key: string) =>
  `${'x'.repeat(190 - prefix.length)}${key} and more text after the key`;

describe('L1: the API key is removed from a provider event before its detail is cut', () => {
  it('resend: a bounce whose detail puts the key across character 200 stores no part of the key', async ({
    expect,
  }) => {
    const { org, id, messageId } = await sentInvitation('l1-resend');
    const message = straddling('Permanent: ', RESEND_KEY);
    expect(`Permanent: ${message}`.indexOf(RESEND_KEY)).toBe(190);
    const body = JSON.stringify({
      type: 'email.bounced',
      data: { email_id: messageId, bounce: { type: 'Permanent', message } },
    });
    const svixId = `msg_${crypto.randomUUID()}`;
    const at = new Date();
    const res = await fetchWithEnv(
      '/v1/email-events/resend',
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'svix-id': svixId,
          'svix-timestamp': String(Math.floor(at.getTime() / 1000)),
          'svix-signature': new Webhook(SVIX_SECRET).sign(svixId, at, body),
        },
        body,
      },
      { ...env, EMAIL_TRANSPORT: 'resend', EMAIL_API_KEY: RESEND_KEY, EMAIL_EVENTS_SECRET: SVIX_SECRET } as Env,
    );
    expect(await res.json()).toEqual({ received: 1, applied: 1 });
    const stored = await storedFor(org.id, id);
    for (const text of [stored.detail!, ...stored.audits, ...stored.hooks])
      expect(text).not.toContain(RESEND_KEY.slice(0, 8));
    expect(stored.detail).toMatch(/^Permanent: x+\[secret\]/);
    expect(stored.detail!.length).toBeLessThanOrEqual(200);
    expect(stored.audits.join('\n')).toContain('[secret]');
    expect(stored.hooks.join('\n')).toContain('[secret]');
  });

  it('postmark: a bounce whose description puts the key across character 200 stores no part of the key', async ({
    expect,
  }) => {
    const { org, id, messageId } = await sentInvitation('l1-postmark');
    const description = straddling('HardBounce: ', POSTMARK_KEY);
    const body = JSON.stringify({
      RecordType: 'Bounce',
      MessageID: messageId,
      Type: 'HardBounce',
      Description: description,
    });
    const res = await fetchWithEnv(
      '/v1/email-events/postmark',
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', Authorization: `Basic ${btoa(BASIC)}` },
        body,
      },
      { ...env, EMAIL_TRANSPORT: 'postmark', EMAIL_API_KEY: POSTMARK_KEY, EMAIL_EVENTS_SECRET: BASIC } as Env,
    );
    expect(await res.json()).toEqual({ received: 1, applied: 1 });
    const stored = await storedFor(org.id, id);
    for (const text of [stored.detail!, ...stored.audits, ...stored.hooks])
      expect(text).not.toContain(POSTMARK_KEY.slice(0, 8));
    expect(stored.detail).toMatch(/^HardBounce: x+\[secret\]/);
    expect(stored.hooks.join('\n')).toContain('[secret]');
  });

  it('cloudflare (Email Sending events on the queue): a configured key in a bounce reason across character 200 is not stored either', async ({
    expect,
  }) => {
    const { org, id, messageId } = await sentInvitation('l1-cloudflare');
    const reason = straddling('hard bounce: ', POSTMARK_KEY);
    const event = {
      type: 'cf.email.sending.message.bounced',
      source: { type: 'email.sending', zoneId: '023e105f4ecef8ad9ca31a8372d0c353', domain: '8bit-ai.dev' },
      payload: {
        eventId: crypto.randomUUID(),
        messageId,
        terminal: true,
        delivery: { status: 'bounced' },
        bounce: { type: 'hard', reason },
      },
    };
    const result = await runQueue([event], { EMAIL_API_KEY: POSTMARK_KEY } as Partial<Env>, 'invitations-email-events');
    expect(result.explicitAcks).toHaveLength(1);
    const stored = await storedFor(org.id, id);
    for (const text of [stored.detail!, ...stored.audits, ...stored.hooks])
      expect(text).not.toContain(POSTMARK_KEY.slice(0, 8));
    expect(stored.detail).toMatch(/^hard bounce: x+\[secret\]/);
  });
});

describe('L2: on the cloudflare transport tenants see a fixed phrase, operators the runtime text in the log', () => {
  it('a refusal by the send_email binding: tenants see "cloudflare: refused by the email service (CODE)"; the runtime message is in one log line keyed by outbox_id', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Reasons Refused Co');
    const hook = await call('POST', `/v1/organizations/${org.id}/webhooks`, {
      token: owner.token,
      body: { url: 'https://hooks.example.com/l2-refused' },
    });
    expect(hook.status).toBe(201);
    const to = uniqueEmail('l2-refused');
    const { id } = (await createWith(owner.token, org.id, to, { DELIVERY_QUEUE: silentQueue })).json;
    const runtime = `destination address ${to} is not verified on account 023e105f`;
    const lines = await logged(
      async () => void (await drainOutbox({ EMAIL: failingEmail(() => true, `E_RECIPIENT_NOT_ALLOWED: ${runtime}`) })),
    );
    const reason = 'cloudflare: refused by the email service (E_RECIPIENT_NOT_ALLOWED)';

    expect(await invitationDelivery(id)).toMatchObject({ email_delivery: 'failed', email_delivery_detail: reason });
    const api = await call('GET', `/v1/organizations/${org.id}/invitations/${id}`, { token: owner.token });
    expect(api.json.email_delivery_detail).toBe(reason);
    const page = await call('GET', `/orgs/${org.slug}/settings/team`, {
      headers: { Cookie: `8b_session=${owner.token}` },
    });
    expect(page.text).toContain(reason);
    const stored = await storedFor(org.id, id);
    expect(stored.audits.join('\n')).toContain(reason);
    expect(stored.hooks.join('\n')).toContain(reason);
    for (const text of [api.text, page.text, ...stored.audits, ...stored.hooks])
      expect(text).not.toContain('is not verified');
    const [row] = await outboxFor(id);
    const last = await env.DB.prepare('SELECT last_error FROM outbox WHERE id = ?')
      .bind(row.id)
      .first<{ last_error: string }>();
    expect(last?.last_error).toBe(reason);

    const operator = lines.map(asJson).filter((l) => l.event === 'email_provider_error' && l.outbox_id === row.id);
    expect(operator).toHaveLength(1);
    expect(operator[0]).toMatchObject({
      provider: 'cloudflare',
      code: 'E_RECIPIENT_NOT_ALLOWED',
      detail: expect.stringContaining(runtime),
    });
  });

  it('a misconfiguration: tenants see "Email is not configured on this service"; the configuration problem is in one log line keyed by outbox_id', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Reasons Misconfigured Co');
    const { id } = (await createWith(owner.token, org.id, uniqueEmail('l2-misconf'), { DELIVERY_QUEUE: silentQueue }))
      .json;
    const lines = await logged(async () => void (await drainOutbox({ EMAIL_TRANSPORT: 'sendgrid' })));
    expect(await invitationDelivery(id)).toMatchObject({
      email_delivery: 'failed',
      email_delivery_detail: 'Email is not configured on this service',
    });
    const audit = await call('GET', `/v1/organizations/${org.id}/audit-log`, { token: owner.token });
    expect(audit.text).toContain('Email is not configured on this service');
    expect(audit.text).not.toContain('sendgrid');
    const [row] = await outboxFor(id);
    const operator = lines
      .map(asJson)
      .filter((l) => l.event === 'email_transport_misconfigured' && l.outbox_id === row.id);
    expect(operator).toHaveLength(1);
    expect(operator[0].reason).toContain('EMAIL_TRANSPORT "sendgrid" is unknown');
  });
});
