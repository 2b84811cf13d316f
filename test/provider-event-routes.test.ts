import { env } from 'cloudflare:workers';
import { drizzle } from 'drizzle-orm/d1';
import { describe, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { runHousekeeping } from '../src/cron';
import { SEEN_EVENT_ID_MS } from '../src/delivery/provider-events';
import { countRows, drainOutbox, fetchWithEnv, ownerWithOrg, uniqueEmail } from './helpers';
import { createWith, invitationDelivery, silentQueue } from './delivery-fakes';

// SPEC §18 "Provider events": only the configured transport's route is open, and a Svix id already
// applied within the replay window changes nothing.
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const RESEND = {
  EMAIL_TRANSPORT: 'resend',
  EMAIL_API_KEY: 're_test_0123456789',
  EMAIL_API_BASE_URL: env.TEST_EMAIL_API,
} as Partial<Env>;

/** An invitation sent through the Resend stand-in: its id and the provider's message id. */
async function sentThroughResend() {
  const { owner, org } = await ownerWithOrg('Provider Routes Co');
  const { id } = (await createWith(owner.token, org.id, uniqueEmail('routes'), { DELIVERY_QUEUE: silentQueue })).json;
  await drainOutbox(RESEND);
  const row = await env.DB.prepare('SELECT provider_message_id FROM outbox WHERE subject_id = ?')
    .bind(id)
    .first<{ provider_message_id: string }>();
  return { id, messageId: row!.provider_message_id };
}

/** A Svix-signed Resend bounce; the same object posted twice is a replay of one delivery. */
function signedBounce(messageId: string, svixId = `msg_${crypto.randomUUID()}`) {
  const body = JSON.stringify({
    type: 'email.bounced',
    created_at: new Date().toISOString(),
    data: { email_id: messageId, bounce: { type: 'Permanent', message: 'No such mailbox.' } },
  });
  const at = new Date();
  const headers = {
    'content-type': 'application/json',
    'svix-id': svixId,
    'svix-timestamp': String(Math.floor(at.getTime() / 1000)),
    'svix-signature': new Webhook(SECRET).sign(svixId, at, body),
  };
  return { body, headers };
}

const post = (provider: string, event: { body: string; headers: Record<string, string> }, overrides: Partial<Env>) =>
  fetchWithEnv(
    `/v1/email-events/${provider}`,
    { method: 'POST', headers: event.headers, body: event.body },
    { ...env, ...overrides },
  );

const bounces = (id: string) => countRows('audit_events', `target_id = '${id}' AND action = 'invitation.bounced'`);

describe('SPEC §18: only the configured transport’s event route is open', () => {
  it('with EMAIL_TRANSPORT=resend, the Postmark route is 404 not_found even with the secret as its password, and changes nothing', async ({
    expect,
  }) => {
    const { id, messageId } = await sentThroughResend();
    // The review's case: the Resend signing secret used as Postmark's Basic credentials.
    const bounce = {
      body: JSON.stringify({
        RecordType: 'Bounce',
        Type: 'HardBounce',
        MessageID: messageId,
        Description: 'Mailbox not found',
      }),
      headers: { 'content-type': 'application/json', Authorization: `Basic ${btoa(SECRET)}` },
    };
    const res = await post('postmark', bounce, { EMAIL_TRANSPORT: 'resend', EMAIL_EVENTS_SECRET: SECRET });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(((await res.json()) as { code: string }).code).toBe('not_found');
    expect(await invitationDelivery(id)).toMatchObject({ email_delivery: 'sent' });
    // The configured route takes the same secret.
    expect(
      (await post('resend', signedBounce(messageId), { EMAIL_TRANSPORT: 'resend', EMAIL_EVENTS_SECRET: SECRET }))
        .status,
    ).toBe(200);
    expect(await invitationDelivery(id)).toMatchObject({ email_delivery: 'bounced' });
  });

  it('with EMAIL_TRANSPORT=postmark the Resend route is 404, and with cloudflare both are', async ({ expect }) => {
    const { id, messageId } = await sentThroughResend();
    for (const transport of ['postmark', 'cloudflare', ' Postmark ']) {
      const res = await post('resend', signedBounce(messageId), {
        EMAIL_TRANSPORT: transport,
        EMAIL_EVENTS_SECRET: SECRET,
      });
      expect(res.status, transport).toBe(404);
      expect(((await res.json()) as { code: string }).code).toBe('not_found');
    }
    const basic = 'hooks:pass-word';
    const pm = {
      body: JSON.stringify({ RecordType: 'Delivery', MessageID: messageId }),
      headers: { 'content-type': 'application/json', Authorization: `Basic ${btoa(basic)}` },
    };
    expect((await post('postmark', pm, { EMAIL_TRANSPORT: 'cloudflare', EMAIL_EVENTS_SECRET: basic })).status).toBe(
      404,
    );
    expect(await invitationDelivery(id)).toMatchObject({ email_delivery: 'sent' });
  });
});

describe('SPEC §18: a Svix id already seen within the replay window is answered 200 and changes nothing', () => {
  const configured = { EMAIL_TRANSPORT: 'resend', EMAIL_EVENTS_SECRET: SECRET } as Partial<Env>;

  it('replaying the same signed event after a state change: 200, the state and the audit log unchanged; a new id still applies', async ({
    expect,
  }) => {
    const { id, messageId } = await sentThroughResend();
    const event = signedBounce(messageId);
    expect(await (await post('resend', event, configured)).json()).toEqual({ received: 1, applied: 1 });
    expect(await bounces(id)).toBe(1);
    // The state moves on (here by hand: no route takes a bounced invitation back to `sent` for the same link).
    await env.DB.prepare("UPDATE invitations SET email_delivery = 'sent', email_delivery_detail = NULL WHERE id = ?")
      .bind(id)
      .run();
    const replay = await post('resend', event, configured);
    expect(replay.status).toBe(200);
    expect(await replay.json()).toEqual({ received: 1, applied: 0 });
    expect(await invitationDelivery(id)).toMatchObject({ email_delivery: 'sent', email_delivery_detail: null });
    expect(await bounces(id)).toBe(1);
    // A tampered copy of the seen id is still refused, not waved through as a replay.
    expect((await post('resend', { ...event, body: event.body.replace('No such', 'Any') }, configured)).status).toBe(
      401,
    );
    // Another delivery (a new svix-id) of the same event is not a replay.
    expect(await (await post('resend', signedBounce(messageId), configured)).json()).toEqual({
      received: 1,
      applied: 1,
    });
    expect(await bounces(id)).toBe(2);
  });

  it('seen ids are deleted by the housekeeping cron once past the replay window, not before', async ({ expect }) => {
    const { messageId } = await sentThroughResend();
    const svixId = `msg_retention_${crypto.randomUUID()}`;
    await post('resend', signedBounce(messageId, svixId), configured);
    const seen = () => countRows('provider_event_ids', `event_id = '${svixId}'`);
    expect(await seen()).toBe(1);
    const db = drizzle(env.DB);
    const now = Date.now();
    await runHousekeeping(db, now + SEEN_EVENT_ID_MS - 60_000);
    expect(await seen()).toBe(1);
    await runHousekeeping(db, now + SEEN_EVENT_ID_MS + 60_000);
    expect(await seen()).toBe(0);
  });
});
