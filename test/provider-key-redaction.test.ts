import { env } from 'cloudflare:workers';
import { describe, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { call, drainOutbox, fetchWithEnv, ownerWithOrg, uniqueEmail } from './helpers';
import { asJson, logged } from './console-capture';
import { createWith, invitationDelivery, outboxFor, silentQueue } from './delivery-fakes';

// SPEC §18 "Provider events": the configured EMAIL_API_KEY is redacted from everything stored or
// logged; tenants see a short generic delivery reason, operators the detail in the log. The
// stand-in's `echo…` recipients get a refusal that quotes the key it was sent.
const PROVIDERS = [
  { name: 'resend', env: { EMAIL_TRANSPORT: 'resend', EMAIL_API_KEY: 're_test_0123456789' } },
  { name: 'postmark', env: { EMAIL_TRANSPORT: 'postmark', EMAIL_API_KEY: 'pm-test-0000-1111-2222' } },
] as const;

describe('SPEC §18: the email API key is never stored or logged; tenants see a generic reason', () => {
  for (const provider of PROVIDERS) {
    const key = provider.env.EMAIL_API_KEY;

    it(`${provider.name}: a refusal quoting the key is stored as "${provider.name} 422: refused by the email provider"; the log has the provider's words without the key`, async ({
      expect,
    }) => {
      const { owner, org } = await ownerWithOrg(`Echo ${provider.name} Co`);
      const to = uniqueEmail('echo');
      const { id } = (await createWith(owner.token, org.id, to, { DELIVERY_QUEUE: silentQueue })).json;
      const lines = await logged(
        async () =>
          void (await drainOutbox({ ...provider.env, EMAIL_API_BASE_URL: env.TEST_EMAIL_API } as Partial<Env>)),
      );
      const reason = `${provider.name} 422: refused by the email provider`;

      // Tenants: the API, the Team page and the audit log (and so webhooks) carry the generic reason.
      expect(await invitationDelivery(id)).toMatchObject({ email_delivery: 'failed', email_delivery_detail: reason });
      const api = await call('GET', `/v1/organizations/${org.id}/invitations/${id}`, { token: owner.token });
      expect(api.json.email_delivery_detail).toBe(reason);
      const page = await call('GET', `/orgs/${org.slug}/settings/team`, {
        headers: { Cookie: `8b_session=${owner.token}` },
      });
      expect(page.text).toContain(reason);
      const audit = await call('GET', `/v1/organizations/${org.id}/audit-log`, { token: owner.token });
      expect(JSON.stringify(audit.json)).toContain(reason);
      for (const text of [api.text, page.text, audit.text]) expect(text).not.toContain(key);

      // Stored for operators: the outbox row holds the same short reason, never the key.
      const [row] = await outboxFor(id);
      const stored = await env.DB.prepare('SELECT last_error FROM outbox WHERE id = ?')
        .bind(row.id)
        .first<{ last_error: string }>();
      expect(stored?.last_error).toBe(reason);

      // Operators: one log line for the outbox row with the provider's own words, the key replaced.
      const detail = lines.map(asJson).find((l) => l.event === 'email_provider_error' && l.outbox_id === row.id);
      expect(detail).toMatchObject({
        provider: provider.name,
        status: 422,
        detail: expect.stringContaining(`[secret] may not send to ${to}`),
      });
      expect(lines.join('\n')).not.toContain(key);
    });
  }

  it('a provider event whose text quotes the key is stored without it', async ({ expect }) => {
    const resend = PROVIDERS[0];
    const { owner, org } = await ownerWithOrg('Echo Events Co');
    const { id } = (await createWith(owner.token, org.id, uniqueEmail('echo-event'), { DELIVERY_QUEUE: silentQueue }))
      .json;
    await drainOutbox({ ...resend.env, EMAIL_API_BASE_URL: env.TEST_EMAIL_API } as Partial<Env>);
    // (`echo-event…` is refused by the stand-in; give the row a message id as if it had been sent.)
    await env.DB.prepare("UPDATE invitations SET email_delivery = 'sent' WHERE id = ?").bind(id).run();
    const messageId = crypto.randomUUID();
    await env.DB.prepare('UPDATE outbox SET provider_message_id = ? WHERE subject_id = ?').bind(messageId, id).run();
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const body = JSON.stringify({
      type: 'email.bounced',
      data: {
        email_id: messageId,
        bounce: { type: 'Permanent', message: `Rejected for key ${resend.env.EMAIL_API_KEY}` },
      },
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
          'svix-signature': new Webhook(secret).sign(svixId, at, body),
        },
        body,
      },
      { ...env, ...resend.env, EMAIL_EVENTS_SECRET: secret },
    );
    expect(await res.json()).toEqual({ received: 1, applied: 1 });
    expect(await invitationDelivery(id)).toMatchObject({
      email_delivery: 'bounced',
      email_delivery_detail: 'Permanent: Rejected for key [secret]',
    });
  });
});
