import { env } from 'cloudflare:workers';
import { describe, it } from 'vitest';
import { eventually, post, requestsTo } from './queue-helpers';

// SPEC §15: Email Sending's delivery events arrive on their own queue (`invitations-email-events`,
// fed by the event subscription in production, by a test-only producer here) and the Worker's
// queue handler, dispatching by the queue's name, moves the invitation's `email_delivery`.

const events = (env as unknown as { TEST_EMAIL_EVENTS: Queue }).TEST_EMAIL_EVENTS;

const bounced = (messageId: string) => ({
  type: 'cf.email.sending.message.bounced',
  source: { type: 'email.sending', zoneId: '023e105f4ecef8ad9ca31a8372d0c353', domain: '8bit-ai.dev' },
  payload: {
    eventId: crypto.randomUUID(),
    messageId,
    sender: 'invitations@8bit-ai.dev',
    recipient: 'invitee@example.net',
    subject: 'You are invited',
    terminal: true,
    delivery: {
      status: 'bounced',
      provider: 'external_smtp',
      deliveryTimeMs: 2143,
      smtpStatusCode: '550',
      smtpEnhancedStatusCode: '5.1.1',
      smtpResponse: '550 5.1.1 User unknown',
    },
    bounce: { type: 'hard', classification: 'permanent_failure', reason: '550 5.1.1 User unknown' },
  },
  metadata: {
    accountId: 'f9f79265f388666de8122cfb508d7776',
    eventSubscriptionId: '1830c4bb612e43c3af7f4cada31fbf3f',
    eventSchemaVersion: 1,
    eventTimestamp: new Date().toISOString(),
  },
});

describe('the email-events queue, consumed for real', () => {
  it('a bounced event published to the queue marks the invitation bounced; malformed messages in the same batch do not hold it up', async ({
    expect,
  }) => {
    const owner = `events-owner.${Date.now()}@example.com`;
    expect((await post('/v1/auth/email-link', { email: owner })).status).toBe(202);
    const [signIn] = await eventually(
      async () => ((await requestsTo(owner)).length ? requestsTo(owner) : null),
      'the sign-in email',
    );
    const token = decodeURIComponent(/\/auth\/verify\?token=([\w.%-]+)/.exec(signIn.body.text!)![1]);
    const session = (
      (await (await post('/v1/auth/verify', { token, name: 'Events Owner' })).json()) as { session_token: string }
    ).session_token;
    const org = (await (await post('/v1/organizations', { name: 'Events Queue Co' }, session)).json()) as {
      id: string;
    };
    const invitee = `events-invitee.${Date.now()}@example.com`;
    const created = (await (
      await post(`/v1/organizations/${org.id}/invitations`, { email: invitee, role: 'viewer' }, session)
    ).json()) as { id: string };
    await eventually(async () => {
      const row = await env.DB.prepare('SELECT email_delivery FROM invitations WHERE id = ?')
        .bind(created.id)
        .first<{ email_delivery: string }>();
      return row?.email_delivery === 'sent' ? row : null;
    }, 'the invitation to be sent');
    const { provider_message_id: messageId } = (await env.DB.prepare(
      'SELECT provider_message_id FROM outbox WHERE subject_id = ?',
    )
      .bind(created.id)
      .first<{ provider_message_id: string }>())!;

    await events.sendBatch([
      { body: 'not an event' },
      { body: { type: 'cf.email.sending.message.bounced' } },
      { body: bounced(messageId), contentType: 'json' },
    ]);
    const row = await eventually(async () => {
      const r = await env.DB.prepare('SELECT email_delivery, email_delivery_detail FROM invitations WHERE id = ?')
        .bind(created.id)
        .first<{ email_delivery: string; email_delivery_detail: string }>();
      return r?.email_delivery === 'bounced' ? r : null;
    }, 'the bounce to apply');
    expect(row).toEqual({ email_delivery: 'bounced', email_delivery_detail: 'hard bounce: 550 5.1.1 User unknown' });
  });
});
