import { env } from 'cloudflare:workers';
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import worker from '../../src/index';
import { describe, it } from 'vitest';
import { eventually, post, requestsTo } from './queue-helpers';

// The pipeline as deployed: the real local queue and its consumer, the dead-letter queue and its
// consumer, and the Resend transport pointed at the stand-in (vitest.config.ts, project `queues`).

describe('the delivery pipeline on real local Queues', () => {
  it('a sign-in link and an invitation travel outbox → queue → consumer → Resend stand-in, once each', async ({
    expect,
  }) => {
    const owner = `owner.${Date.now()}@example.com`;
    expect((await post('/v1/auth/email-link', { email: owner })).status).toBe(202);
    const [signIn] = await eventually(
      async () => ((await requestsTo(owner)).length ? requestsTo(owner) : null),
      'the sign-in email',
    );
    const token = decodeURIComponent(/\/auth\/verify\?token=([\w.%-]+)/.exec(signIn.body.text!)![1]);
    const verified = (await (await post('/v1/auth/verify', { token, name: 'Queue Owner' })).json()) as {
      session_token: string;
    };
    const org = (await (await post('/v1/organizations', { name: 'Queue Co' }, verified.session_token)).json()) as {
      id: string;
    };
    const invitee = `invitee.${Date.now()}@example.com`;
    const created = (await (
      await post(`/v1/organizations/${org.id}/invitations`, { email: invitee, role: 'viewer' }, verified.session_token)
    ).json()) as { id: string };
    await eventually(async () => {
      const row = await env.DB.prepare('SELECT email_delivery FROM invitations WHERE id = ?')
        .bind(created.id)
        .first<{ email_delivery: string }>();
      return row?.email_delivery === 'sent' ? row : null;
    }, 'the invitation to be sent');
    const sent = await requestsTo(invitee);
    expect(sent).toHaveLength(1);
    expect(sent[0].body.text).toMatch(/\/invitations\/accept\?token=ey/);
    expect(await requestsTo(owner)).toHaveLength(1);
  });

  it('retries exhausted (DELIVERY_RETRY_SCALE=0 here): failed, and the dead-letter queue records the message', async ({
    expect,
  }) => {
    const owner = `owner2.${Date.now()}@example.com`;
    await post('/v1/auth/email-link', { email: owner });
    const [signIn] = await eventually(
      async () => ((await requestsTo(owner)).length ? requestsTo(owner) : null),
      'the sign-in email',
    );
    const token = decodeURIComponent(/\/auth\/verify\?token=([\w.%-]+)/.exec(signIn.body.text!)![1]);
    const session = (
      (await (await post('/v1/auth/verify', { token, name: 'Queue Owner' })).json()) as { session_token: string }
    ).session_token;
    const org = (await (await post('/v1/organizations', { name: 'Dead Letter Co' }, session)).json()) as { id: string };
    const invitee = `down.${Date.now()}@example.com`; // the stand-in answers 500 to "down…"
    const created = (await (
      await post(`/v1/organizations/${org.id}/invitations`, { email: invitee, role: 'viewer' }, session)
    ).json()) as { id: string };
    const row = await eventually(
      () =>
        env.DB.prepare(
          'SELECT status, attempts, dead_lettered_at FROM outbox WHERE subject_id = ? AND dead_lettered_at IS NOT NULL',
        )
          .bind(created.id)
          .first<{ status: string; attempts: number }>(),
      'the dead letter',
      45_000,
    );
    expect(row).toMatchObject({ status: 'failed', attempts: 6 });
    expect((await requestsTo(invitee)).map((r) => r.answered)).toEqual([500, 500, 500, 500, 500, 500]);
    const inv = await env.DB.prepare('SELECT email_delivery, email_delivery_detail FROM invitations WHERE id = ?')
      .bind(created.id)
      .first<{ email_delivery: string; email_delivery_detail: string }>();
    expect(inv).toMatchObject({
      email_delivery: 'failed',
      email_delivery_detail: expect.stringMatching(/^Gave up after 6 attempts: resend 500/),
    });
  });

  it('webhooks ride the same queue: an event reaches the receiver signed, and a failed attempt comes back with the same webhook-id', async ({
    expect,
  }) => {
    const { Webhook } = await import('standardwebhooks');
    const owner = `hook-owner.${Date.now()}@example.com`;
    expect((await post('/v1/auth/email-link', { email: owner })).status).toBe(202);
    const [signIn] = await eventually(
      async () => ((await requestsTo(owner)).length ? requestsTo(owner) : null),
      'the sign-in email',
    );
    const token = decodeURIComponent(/\/auth\/verify\?token=([\w.%-]+)/.exec(signIn.body.text!)![1]);
    const session = (
      (await (await post('/v1/auth/verify', { token, name: 'Hook Owner' })).json()) as { session_token: string }
    ).session_token;
    const org = (await (await post('/v1/organizations', { name: 'Hook Queue Co' }, session)).json()) as { id: string };
    const name = `queue-${Date.now().toString(36)}`;
    const hook = (await (
      await post(
        `/v1/organizations/${org.id}/webhooks`,
        { url: `${env.TEST_WEBHOOK_RECEIVER}/hooks/fail-once/${name}`, events: ['invitation.created'] },
        session,
      )
    ).json()) as { id: string; secret: string };
    await post(
      `/v1/organizations/${org.id}/invitations`,
      { email: `hooked.${Date.now()}@example.com`, role: 'viewer' },
      session,
    );
    // First attempt 500, the retry (WEBHOOK_RETRY_SCALE=0 here) 200: both through the real queue.
    const got = await eventually(async () => {
      const hooks = (await (await fetch(`${env.TEST_WEBHOOK_RECEIVER}/__hooks?name=${name}`)).json()) as {
        headers: Record<string, string>;
        body: string;
        answered: number;
      }[];
      return hooks.length >= 2 && hooks[1].answered ? hooks : null;
    }, 'the retried webhook');
    expect(got.map((h) => h.answered)).toEqual([500, 200]);
    expect(got[1].headers['webhook-id']).toBe(got[0].headers['webhook-id']);
    const payload = new Webhook(hook.secret).verify(got[1].body, got[1].headers) as { type: string };
    expect(payload.type).toBe('invitation.created');

    // An expiry written down by the cron sweep is handed to the queue by the cron itself.
    const expiredName = `expired-${Date.now().toString(36)}`;
    await post(
      `/v1/organizations/${org.id}/webhooks`,
      { url: `${env.TEST_WEBHOOK_RECEIVER}/hooks/ok/${expiredName}`, events: ['invitation.expired'] },
      session,
    );
    const stale = (await (
      await post(
        `/v1/organizations/${org.id}/invitations`,
        { email: `stale.${Date.now()}@example.com`, role: 'viewer' },
        session,
      )
    ).json()) as { id: string };
    await env.DB.prepare('UPDATE invitations SET expires_at = ? WHERE id = ?')
      .bind(Date.now() - 1000, stale.id)
      .run();
    const ctx = createExecutionContext();
    await worker.scheduled!(
      { cron: '* * * * *', scheduledTime: Date.now(), noRetry() {} } as ScheduledController,
      env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    const [expired] = await eventually(async () => {
      const hooks = (await (await fetch(`${env.TEST_WEBHOOK_RECEIVER}/__hooks?name=${expiredName}`)).json()) as {
        body: string;
        answered: number;
      }[];
      return hooks.length && hooks[0].answered ? hooks : null;
    }, 'the expiry webhook');
    expect(JSON.parse(expired.body)).toMatchObject({
      type: 'invitation.expired',
      data: { id: stale.id, status: 'expired' },
    });
  });
});
