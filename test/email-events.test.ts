import { env } from 'cloudflare:workers';
import { describe, it, vi } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { call, countRows, drainOutbox, fetchWithEnv, invite, ownerWithOrg, uniqueEmail } from './helpers';
import { createWith, invitationDelivery, outboxFor, silentQueue } from './delivery-fakes';

// Svix (Resend's webhooks) signs exactly as Standard Webhooks does; the reference library signs here.
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const BASIC = 'postmark-hooks:s3cret-pass';
const resendEnv = { EMAIL_TRANSPORT: 'resend', EMAIL_API_KEY: 're_test_0123456789' } as Partial<Env>;

/** An invitation sent through the Resend stand-in; returns its id and the provider's message id. */
async function sentThroughResend() {
  const { owner, org } = await ownerWithOrg('Events Co');
  const to = uniqueEmail('events');
  const { id } = (await createWith(owner.token, org.id, to, { DELIVERY_QUEUE: silentQueue })).json;
  await drainOutbox({ ...resendEnv, EMAIL_API_BASE_URL: env.TEST_EMAIL_API });
  const [row] = await outboxFor(id);
  const { provider_message_id } = (await env.DB.prepare('SELECT provider_message_id FROM outbox WHERE id = ?')
    .bind(row.id)
    .first<{ provider_message_id: string }>())!;
  return { owner, org, id, to, messageId: provider_message_id };
}

function resendEvent(type: string, emailId: string, opts: { at?: Date; secret?: string; extra?: object } = {}) {
  const body = JSON.stringify({
    type,
    created_at: new Date().toISOString(),
    data: { email_id: emailId, to: ['x@example.com'], ...opts.extra },
  });
  const msgId = `msg_${Math.random().toString(36).slice(2)}`;
  const at = opts.at ?? new Date();
  const signature = new Webhook(opts.secret ?? SECRET).sign(msgId, at, body);
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'svix-id': msgId,
      'svix-timestamp': String(Math.floor(at.getTime() / 1000)),
      'svix-signature': signature,
    },
  };
}

// Only the configured transport's route is open (SPEC §18): each post configures its provider.
const post = (provider: string, body: string, headers: Record<string, string>) =>
  fetchWithEnv(
    `/v1/email-events/${provider}`,
    { method: 'POST', headers, body },
    { ...env, EMAIL_TRANSPORT: provider, EMAIL_EVENTS_SECRET: provider === 'resend' ? SECRET : BASIC },
  );

describe('SPEC §10: delivery states from the provider (Resend, Svix-signed)', () => {
  it('a signed bounce marks the invitation bounced with the reason, audits it, shows it on the Team page, and a resend is still offered', async ({
    expect,
  }) => {
    const { owner, org, id, to, messageId } = await sentThroughResend();
    expect(await invitationDelivery(id)).toMatchObject({ email_delivery: 'sent' });
    const event = resendEvent('email.bounced', messageId, {
      extra: { bounce: { type: 'Permanent', subType: 'General', message: 'The recipient mailbox does not exist.' } },
    });
    const res = await post('resend', event.body, event.headers);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ received: 1, applied: 1 });
    expect(await invitationDelivery(id)).toMatchObject({
      email_delivery: 'bounced',
      email_delivery_detail: 'Permanent: The recipient mailbox does not exist.',
    });
    expect(await countRows('audit_events', `target_id = '${id}' AND action = 'invitation.bounced'`)).toBe(1);
    const api = await call('GET', `/v1/organizations/${org.id}/invitations/${id}`, { token: owner.token });
    expect(api.json).toMatchObject({
      status: 'pending',
      email_delivery: 'bounced',
      email_delivery_detail: 'Permanent: The recipient mailbox does not exist.',
    });
    const page = await call('GET', `/orgs/${org.slug}/settings/team`, {
      headers: { Cookie: `8b_session=${owner.token}` },
    });
    expect(page.text).toMatch(/class="badge bounced"/);
    expect(page.text).toContain('The recipient mailbox does not exist.');
    expect(page.text).toContain(`aria-label="Resend invitation to ${to}"`);
    // A late "delivered" never hides the bounce; the same bounce twice changes nothing more.
    const late = resendEvent('email.delivered', messageId);
    expect(await (await post('resend', late.body, late.headers)).json()).toEqual({ received: 1, applied: 0 });
    const again = resendEvent('email.bounced', messageId, { extra: { bounce: { message: 'again' } } });
    expect(await (await post('resend', again.body, again.headers)).json()).toEqual({ received: 1, applied: 0 });
    expect(await countRows('audit_events', `target_id = '${id}' AND action = 'invitation.bounced'`)).toBe(1);
  });

  it('delivered and complained events move the state', async ({ expect }) => {
    const { id, messageId } = await sentThroughResend();
    const delivered = resendEvent('email.delivered', messageId);
    await post('resend', delivered.body, delivered.headers);
    expect(await invitationDelivery(id)).toMatchObject({ email_delivery: 'delivered', email_delivery_detail: null });
    const complained = resendEvent('email.complained', messageId);
    await post('resend', complained.body, complained.headers);
    expect(await invitationDelivery(id)).toMatchObject({ email_delivery: 'complained' });
  });

  it('unsigned, badly signed, wrongly keyed or replayed (older than 5 minutes) events get 401 and change nothing', async ({
    expect,
  }) => {
    const { id, messageId } = await sentThroughResend();
    const good = resendEvent('email.bounced', messageId);
    const cases: [string, string, Record<string, string>][] = [
      ['unsigned', good.body, { 'content-type': 'application/json' }],
      ['tampered body', good.body.replace('bounced', 'delivered'), good.headers],
      [
        'wrong key',
        ...(Object.values(
          resendEvent('email.bounced', messageId, { secret: `whsec_${btoa('another-secret-of-24-bytes!')}` }),
        ) as [string, Record<string, string>]),
      ],
      [
        'replayed',
        ...(Object.values(resendEvent('email.bounced', messageId, { at: new Date(Date.now() - 6 * 60_000) })) as [
          string,
          Record<string, string>,
        ]),
      ],
      ['garbage signature', good.body, { ...good.headers, 'svix-signature': 'v1,AAAA v2,xyz' }],
    ];
    for (const [label, body, headers] of cases) {
      const res = await post('resend', body, headers);
      expect(res.status, label).toBe(401);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
    }
    expect(await invitationDelivery(id)).toMatchObject({ email_delivery: 'sent' });
    // Not configured at all: 401 too.
    const unconfigured = await fetchWithEnv(
      '/v1/email-events/resend',
      { method: 'POST', headers: good.headers, body: good.body },
      { ...env, EMAIL_TRANSPORT: 'resend', EMAIL_EVENTS_SECRET: '' },
    );
    expect(unconfigured.status).toBe(401);
    expect(await invitationDelivery(id)).toMatchObject({ email_delivery: 'sent' });
  });
});

describe('SPEC §10: delivery states from the provider (Postmark, Basic credentials)', () => {
  const postmarkEnv = { EMAIL_TRANSPORT: 'postmark', EMAIL_API_KEY: 'pm-test-0000-1111-2222' } as Partial<Env>;

  it('Bounce with the right credentials marks bounced; wrong or missing credentials get 401 and change nothing', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Postmark Events Co');
    const to = uniqueEmail('pm-events');
    const { id } = (await createWith(owner.token, org.id, to, { DELIVERY_QUEUE: silentQueue })).json;
    await drainOutbox({ ...postmarkEnv, EMAIL_API_BASE_URL: env.TEST_EMAIL_API });
    const { provider_message_id: messageId } = (await env.DB.prepare(
      'SELECT provider_message_id FROM outbox WHERE subject_id = ?',
    )
      .bind(id)
      .first<{ provider_message_id: string }>())!;
    const bounce = JSON.stringify({
      RecordType: 'Bounce',
      MessageStream: 'outbound',
      // biome-ignore lint/correctness/noPrecisionLoss: Postmark documents this very ID; it arrives as a JSON number
      ID: 4323372036854775807,
      Type: 'HardBounce',
      TypeCode: 1,
      MessageID: messageId,
      Description: 'The server was unable to deliver your message (ex: unknown user, mailbox not found).',
      Email: to,
      BouncedAt: new Date().toISOString(),
      Inactive: true,
    });
    for (const auth of [undefined, `Basic ${btoa('postmark-hooks:wrong')}`, `Bearer ${BASIC}`]) {
      const refused = await post('postmark', bounce, {
        'content-type': 'application/json',
        ...(auth ? { Authorization: auth } : {}),
      });
      expect(refused.status, String(auth)).toBe(401);
    }
    expect(await invitationDelivery(id)).toMatchObject({ email_delivery: 'sent' });
    const soft = JSON.stringify({
      RecordType: 'Bounce',
      Type: 'SoftBounce',
      MessageID: messageId,
      Description: 'Mailbox full',
    });
    expect(
      await (
        await post('postmark', soft, { 'content-type': 'application/json', Authorization: `Basic ${btoa(BASIC)}` })
      ).json(),
    ).toEqual({ received: 0, applied: 0 });
    const ok = await post('postmark', bounce, {
      'content-type': 'application/json',
      Authorization: `Basic ${btoa(BASIC)}`,
    });
    expect(ok.status).toBe(200);
    expect(await invitationDelivery(id)).toMatchObject({
      email_delivery: 'bounced',
      email_delivery_detail: expect.stringMatching(/^HardBounce: The server was unable/),
    });
  });
});

describe('SPEC §10 and rule 10: no token reaches a log line', () => {
  it('a whole lifecycle through the HTTPS transport, with provider refusals, logs no token and no link', async ({
    expect,
  }) => {
    const lines: string[] = [];
    const spies = (['log', 'error', 'warn', 'info'] as const).map((m) =>
      vi.spyOn(console, m).mockImplementation((...args) => void lines.push(args.map(String).join(' '))),
    );
    try {
      const { id, messageId } = await sentThroughResend();
      const event = resendEvent('email.bounced', messageId, {
        extra: { bounce: { message: 'Bounced: https://x/invitations/accept?token=eyJabc.def.ghi' } },
      });
      await post('resend', event.body, event.headers);
      expect((await invitationDelivery(id))?.email_delivery_detail).not.toContain('eyJ');
      const { owner, org } = await ownerWithOrg('Refusals Co');
      await invite(owner.token, org.id, { email: uniqueEmail('reject'), role: 'viewer' });
      await drainOutbox({ ...resendEnv, EMAIL_API_BASE_URL: env.TEST_EMAIL_API });
    } finally {
      for (const s of spies) s.mockRestore();
    }
    expect(lines.length).toBeGreaterThan(5);
    expect(lines.join('\n')).not.toMatch(/eyJ|token=|8b_ses_|whsec_/);
  });
});
