import { env } from 'cloudflare:workers';
import { afterEach, describe, it, vi } from 'vitest';
import { countRows, drainOutbox, ownerWithOrg, runQueue, uniqueEmail } from './helpers';
import { createWith, invitationDelivery, outboxFor, poisonedDb, silentQueue } from './delivery-fakes';

/*
 * SPEC §15 "Delivery states for the cloudflare transport": Email Sending's delivery events reach the
 * Worker on the `invitations-email-events` queue (an event subscription, --source email.sending) and
 * move `email_delivery` as SPEC §10 says. Each message below has the documented shape
 * (https://developers.cloudflare.com/email-service/platform/event-subscriptions/) and goes through
 * the Worker's real queue handler, dispatched by the queue's name.
 */

const QUEUE = 'invitations-email-events';

/** An Email Sending event for `messageId`, shaped as the documentation's examples. */
function emailSendingEvent(kind: string, messageId: string, payload: Record<string, unknown> = {}) {
  return {
    type: `cf.email.sending.message.${kind}`,
    source: { type: 'email.sending', zoneId: '023e105f4ecef8ad9ca31a8372d0c353', domain: '8bit-ai.dev' },
    payload: {
      eventId: crypto.randomUUID(),
      messageId,
      sender: 'invitations@8bit-ai.dev',
      recipient: 'someone@example.net',
      subject: 'You are invited',
      terminal: kind !== 'deferred',
      delivery: { status: kind },
      ...payload,
    },
    metadata: {
      accountId: 'f9f79265f388666de8122cfb508d7776',
      eventSubscriptionId: '1830c4bb612e43c3af7f4cada31fbf3f',
      eventSchemaVersion: 1,
      eventTimestamp: new Date().toISOString(),
    },
  };
}

const BOUNCED = {
  delivery: {
    status: 'bounced',
    provider: 'external_smtp',
    deliveryTimeMs: 2143,
    smtpStatusCode: '550',
    smtpEnhancedStatusCode: '5.1.1',
    smtpResponse: '550 5.1.1 User unknown',
  },
  bounce: { type: 'hard', classification: 'permanent_failure', reason: '550 5.1.1 User unknown' },
};
const DEFERRED = {
  delivery: {
    status: 'deferred',
    provider: 'external_smtp',
    deliveryTimeMs: 2143,
    smtpStatusCode: '451',
    smtpEnhancedStatusCode: '4.2.0',
    smtpResponse: '451 4.2.0 Temporary mailbox error',
  },
  bounce: { type: 'soft', classification: 'temporary_failure', reason: '451 4.2.0 Temporary mailbox error' },
};
const DELIVERED = {
  delivery: {
    status: 'delivered',
    provider: 'gmail',
    deliveryTimeMs: 1234,
    smtpStatusCode: '250',
    smtpEnhancedStatusCode: '2.0.0',
    smtpResponse: '250 2.0.0 OK 1714820445 a1b2c3 - gsmtp',
  },
};

/** An invitation sent through the real `EMAIL` binding (the default transport); its provider message id. */
async function sentThroughCloudflare(label = 'es') {
  const { owner, org } = await ownerWithOrg('Email Sending Co');
  const to = uniqueEmail(label);
  const { id } = (await createWith(owner.token, org.id, to, { DELIVERY_QUEUE: silentQueue })).json;
  await drainOutbox();
  const [row] = await outboxFor(id);
  const { provider_message_id: messageId } = (await env.DB.prepare(
    'SELECT provider_message_id FROM outbox WHERE id = ?',
  )
    .bind(row.id)
    .first<{ provider_message_id: string }>())!;
  return { id, org, messageId };
}

const events = (...bodies: unknown[]) => runQueue(bodies, {}, QUEUE);
const audits = (id: string, action: string) =>
  countRows('audit_events', `target_id = '${id}' AND action = '${action}' AND actor_type = 'system'`);

afterEach(() => {
  vi.restoreAllMocks();
});

describe('SPEC §15: Email Sending delivery events on the queue move email_delivery (SPEC §10)', () => {
  it('the binding’s message id is kept (without the Message-ID brackets) to match events', async ({ expect }) => {
    const { messageId } = await sentThroughCloudflare();
    expect(messageId).toMatch(/^[^<>\s]+@[^<>\s]+$/);
  });

  it('message.delivered → delivered; then message.complained → complained, audited', async ({ expect }) => {
    const { id, messageId } = await sentThroughCloudflare();
    expect(await invitationDelivery(id)).toMatchObject({ email_delivery: 'sent' });
    const delivered = await events(emailSendingEvent('delivered', messageId, DELIVERED));
    expect(delivered.explicitAcks).toHaveLength(1);
    expect(await invitationDelivery(id)).toMatchObject({ email_delivery: 'delivered', email_delivery_detail: null });
    const complained = await events(
      emailSendingEvent('complained', messageId, { delivery: { status: 'complained' }, complaint: { type: 'abuse' } }),
    );
    expect(complained.explicitAcks).toHaveLength(1);
    expect(await invitationDelivery(id)).toMatchObject({
      email_delivery: 'complained',
      email_delivery_detail: 'Marked as spam by the recipient',
    });
    expect(await audits(id, 'invitation.complained')).toBe(1);
  });

  it('message.bounced → bounced with the bounce reason, audited; a late delivered does not hide it', async ({
    expect,
  }) => {
    const { id, messageId } = await sentThroughCloudflare();
    await events(emailSendingEvent('bounced', messageId, BOUNCED));
    expect(await invitationDelivery(id)).toMatchObject({
      email_delivery: 'bounced',
      email_delivery_detail: 'hard bounce: 550 5.1.1 User unknown',
    });
    expect(await audits(id, 'invitation.bounced')).toBe(1);
    const late = await events(emailSendingEvent('delivered', messageId, DELIVERED));
    expect(late.explicitAcks).toHaveLength(1);
    expect(await invitationDelivery(id)).toMatchObject({ email_delivery: 'bounced' });
  });

  it('message.deferred (not terminal) changes nothing; the later message.delivered applies', async ({ expect }) => {
    const { id, messageId } = await sentThroughCloudflare();
    const deferred = await events(emailSendingEvent('deferred', messageId, DEFERRED));
    expect(deferred.explicitAcks).toHaveLength(1);
    expect(deferred.retryMessages).toEqual([]);
    expect(await invitationDelivery(id)).toMatchObject({ email_delivery: 'sent' });
    await events(emailSendingEvent('delivered', messageId, DELIVERED));
    expect(await invitationDelivery(id)).toMatchObject({ email_delivery: 'delivered' });
  });

  it('message.failed → failed with its reason and an invitation.delivery_failed audit event; never after delivered', async ({
    expect,
  }) => {
    const { id, messageId } = await sentThroughCloudflare();
    await events(
      emailSendingEvent('failed', messageId, {
        delivery: { status: 'failed' },
        failure: { reason: 'delivery_failed' },
      }),
    );
    expect(await invitationDelivery(id)).toMatchObject({
      email_delivery: 'failed',
      email_delivery_detail: 'cloudflare: delivery failed (delivery_failed)',
    });
    expect(await audits(id, 'invitation.delivery_failed')).toBe(1);

    const other = await sentThroughCloudflare('es-delivered');
    await events(emailSendingEvent('delivered', other.messageId, DELIVERED));
    await events(
      emailSendingEvent('failed', other.messageId, {
        delivery: { status: 'failed' },
        failure: { reason: 'delivery_failed' },
      }),
    );
    expect(await invitationDelivery(other.id)).toMatchObject({ email_delivery: 'delivered' });
    expect(await audits(other.id, 'invitation.delivery_failed')).toBe(0);
  });

  it('message.rejected (suppressed before delivery) → failed, as a suppressed recipient refused at send time is', async ({
    expect,
  }) => {
    const { id, messageId } = await sentThroughCloudflare();
    await events(
      emailSendingEvent('rejected', messageId, {
        delivery: { status: 'rejected' },
        rejection: { reason: 'suppressed', party: 'recipient', detail: 'Recipient is suppressed' },
      }),
    );
    expect(await invitationDelivery(id)).toMatchObject({
      email_delivery: 'failed',
      email_delivery_detail: 'cloudflare: rejected (suppressed): Recipient is suppressed',
    });
    expect(await audits(id, 'invitation.delivery_failed')).toBe(1);
  });

  it('events in one batch apply in order; an event for another message id changes nothing', async ({ expect }) => {
    const a = await sentThroughCloudflare('es-a');
    const b = await sentThroughCloudflare('es-b');
    const result = await events(
      emailSendingEvent('delivered', a.messageId, DELIVERED),
      emailSendingEvent('complained', a.messageId, { complaint: { type: 'abuse' } }),
      emailSendingEvent('bounced', b.messageId, BOUNCED),
      emailSendingEvent('bounced', 'not-a-message-we-sent@8bit-ai.dev', BOUNCED),
    );
    expect(result.explicitAcks).toHaveLength(4);
    expect(await invitationDelivery(a.id)).toMatchObject({ email_delivery: 'complained' });
    expect(await invitationDelivery(b.id)).toMatchObject({ email_delivery: 'bounced' });
  });

  it('the id inside Message-ID brackets matches too', async ({ expect }) => {
    const { id, messageId } = await sentThroughCloudflare();
    await events(emailSendingEvent('delivered', `<${messageId}>`, DELIVERED));
    expect(await invitationDelivery(id)).toMatchObject({ email_delivery: 'delivered' });
  });

  it('unknown or malformed messages are acknowledged and logged (one line each), never retried', async ({ expect }) => {
    const { id, messageId } = await sentThroughCloudflare();
    const errors = vi.spyOn(console, 'error');
    const logs = vi.spyOn(console, 'log');
    const malformed = [
      'not json {',
      null,
      42,
      [],
      {},
      { type: 'cf.r2.object.create', payload: { messageId } },
      { type: 'cf.email.sending.message.delivered' },
      { type: 'cf.email.sending.message.delivered', payload: { messageId: 17 } },
      { type: 'cf.email.sending.message.delivered', source: { type: 'kv' }, payload: { messageId } },
    ];
    const unknown = emailSendingEvent('opened', messageId, {});
    const result = await events(...malformed, unknown);
    expect(result.retryMessages).toEqual([]);
    expect(result.retryBatch.retry).toBe(false);
    expect(result.explicitAcks).toHaveLength(malformed.length + 1);
    const lines = (spy: typeof errors) =>
      spy.mock.calls.map((c) => JSON.parse(String(c[0])) as Record<string, unknown>);
    const unreadable = lines(errors).filter((l) => l.event === 'email_event_unreadable');
    expect(unreadable).toHaveLength(malformed.length);
    for (const line of unreadable)
      expect(line).toMatchObject({ queue: QUEUE, message_id: expect.any(String), reason: expect.any(String) });
    expect(lines(logs).filter((l) => l.event === 'email_event')).toEqual([
      { event: 'email_event', type: 'opened', outcome: 'ignored', provider_message_id: messageId },
    ]);
    expect(await invitationDelivery(id)).toMatchObject({ email_delivery: 'sent' });
  });

  it('a message whose event cannot be written (D1 down) comes back later; the others are acknowledged', async ({
    expect,
  }) => {
    const a = await sentThroughCloudflare('es-db-a');
    const b = await sentThroughCloudflare('es-db-b');
    const result = await runQueue(
      [emailSendingEvent('delivered', a.messageId, DELIVERED), emailSendingEvent('delivered', b.messageId, DELIVERED)],
      { DB: poisonedDb(b.messageId) },
      QUEUE,
    );
    expect(result.explicitAcks).toHaveLength(1);
    expect(result.retryMessages).toEqual([{ msgId: expect.any(String) }]);
    expect(await invitationDelivery(a.id)).toMatchObject({ email_delivery: 'delivered' });
    expect(await invitationDelivery(b.id)).toMatchObject({ email_delivery: 'sent' });
  });
});
