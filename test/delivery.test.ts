import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, it, vi } from 'vitest';
import worker from '../src/index';
import { MAX_ATTEMPTS, RETRY_DELAYS_MS } from '../src/delivery/consumer';
import {
  call,
  countRows,
  drainOutbox,
  fetchWithEnv,
  invite,
  lastToken,
  mailsTo,
  ownerWithOrg,
  runQueue,
  setLastSentAt,
  uniqueEmail,
} from './helpers';
import {
  brokenQueue,
  createWith,
  failingEmail,
  invitationDelivery,
  outboxFor,
  outboxRow,
  poisonedDb,
  recordingQueue,
  setDue,
} from './delivery-fakes';

describe('SPEC §10: one delivery pipeline (outbox → queue → consumer)', () => {
  it('a create writes its outbox row in the same batch, answers without touching the transport, and hands the row to the queue', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Pipeline Co');
    const email = uniqueEmail('pipe');
    const handed = recordingQueue();
    const untouchable = {
      send: async () => {
        throw new Error('the request path must not send');
      },
    } as unknown as SendEmail;
    const created = await createWith(owner.token, org.id, email, { DELIVERY_QUEUE: handed.queue, EMAIL: untouchable });
    expect(created.status).toBe(201);
    expect(created.json.email_delivery).toBe('queued');
    const [row] = await outboxFor(created.json.id);
    expect(row).toMatchObject({ status: 'pending', token_id: expect.stringMatching(/^jti_/) });
    expect(handed.bodies).toEqual([{ outboxId: row.id }]);
    expect(JSON.stringify(handed.bodies)).not.toMatch(/eyJ|jti_/);

    const [verdict] = [await runQueue(handed.bodies)];
    expect(verdict.explicitAcks).toHaveLength(1);
    expect(mailsTo(email)).toHaveLength(1);
    expect(await invitationDelivery(created.json.id)).toMatchObject({ email_delivery: 'sent', delivery_attempts: 1 });
    expect((await outboxRow(row.id))?.status).toBe('sent');
  });

  it('a crash between commit and enqueue loses nothing: the relay re-hands the row on the next cron tick', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Crash Co');
    const email = uniqueEmail('crash');
    const created = await createWith(owner.token, org.id, email, { DELIVERY_QUEUE: brokenQueue });
    expect(created.status).toBe(201);
    const [row] = await outboxFor(created.json.id);
    const tick = async () => {
      const relayed = recordingQueue();
      const ctx = createExecutionContext();
      await worker.scheduled!(
        createScheduledController({ scheduledTime: Date.now(), cron: '* * * * *' }),
        { ...env, DELIVERY_QUEUE: relayed.queue },
        ctx,
      );
      await waitOnExecutionContext(ctx);
      return relayed.bodies;
    };
    // Within 2 minutes of being due the row is left alone (its message may still be on its way).
    expect(await tick()).not.toContainEqual({ outboxId: row.id });
    await setDue(row.id, Date.now() - 3 * 60_000);
    const relayed = await tick();
    expect(relayed).toContainEqual({ outboxId: row.id });
    await runQueue(relayed.filter((b) => (b as { outboxId: string }).outboxId === row.id));
    expect(mailsTo(email)).toHaveLength(1);
    expect(await invitationDelivery(created.json.id)).toMatchObject({ email_delivery: 'sent' });
    // Delivered rows are never relayed again.
    await setDue(row.id, Date.now() - 3 * 60_000);
    expect(await tick()).not.toContainEqual({ outboxId: row.id });
  });

  it('the same message delivered twice, even concurrently, produces one email', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Twice Co');
    const email = uniqueEmail('twice');
    const handed = recordingQueue();
    await createWith(owner.token, org.id, email, { DELIVERY_QUEUE: handed.queue });
    const [body] = handed.bodies;
    const results = await Promise.all([runQueue([body, body]), runQueue([body]), runQueue([body])]);
    await runQueue([body]);
    expect(mailsTo(email)).toHaveLength(1);
    // Every copy is acknowledged (none comes back), except one that found the row mid-send,
    // which returns after that claim and is then acknowledged too.
    const acked = results.reduce((n, r) => n + r.explicitAcks.length, 0);
    const retried = results.flatMap((r) => r.retryMessages);
    expect(acked + retried.length).toBe(4);
    await runQueue(retried.map(() => body));
    expect(mailsTo(email)).toHaveLength(1);
  });

  it("a resend while the old link's message is still queued sends only the new link", async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Resend Race Co');
    const email = uniqueEmail('race');
    const handed = recordingQueue();
    const created = await createWith(owner.token, org.id, email, { DELIVERY_QUEUE: handed.queue });
    await setLastSentAt(created.json.id, Date.now() - 120_000);
    const resent = await fetchWithEnv(
      `/v1/organizations/${org.id}/invitations/${created.json.id}/resend`,
      {
        method: 'POST',
        headers: { Authorization: `Bearer ${owner.token}` },
      },
      { ...env, DELIVERY_QUEUE: handed.queue },
    );
    expect(resent.status).toBe(200);
    const [oldMessage, newMessage] = handed.bodies;
    await runQueue([oldMessage]);
    expect(mailsTo(email)).toHaveLength(0);
    await runQueue([newMessage]);
    expect(mailsTo(email)).toHaveLength(1);
    const [oldRow, newRow] = await outboxFor(created.json.id);
    expect([oldRow.status, newRow.status]).toEqual(['dropped', 'sent']);
    const preview = await call('GET', `/v1/invitations/preview?token=${encodeURIComponent(await lastToken(email))}`);
    expect(preview.status).toBe(200);
  });

  it(`retries with backoff (${MAX_ATTEMPTS} attempts over ${RETRY_DELAYS_MS.reduce((a, b) => a + b) / 60_000} minutes), then failed with a reason, an audit entry and a dead letter; a resend still works`, async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Dead Mail Co');
    const email = uniqueEmail('dead');
    const created = (await invite(owner.token, org.id, { email: uniqueEmail('ok'), role: 'viewer' })).json;
    expect(created.email_delivery).toBe('queued');
    const handed = recordingQueue();
    const inv = await createWith(owner.token, org.id, email, { DELIVERY_QUEUE: handed.queue });
    const [row] = await outboxFor(inv.json.id);
    const dlq = recordingQueue();
    const broken = { EMAIL: failingEmail((to) => to === email), DELIVERY_DLQ: dlq.queue };
    const delays: number[] = [];
    const warnings = vi.spyOn(console, 'warn');
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const result = await runQueue(handed.bodies, broken);
      expect(result.retryMessages).toHaveLength(attempt < MAX_ATTEMPTS ? 1 : 0);
      if (attempt < MAX_ATTEMPTS) {
        const scheduled = (await env.DB.prepare('SELECT next_attempt_at - updated_at AS wait FROM outbox WHERE id = ?')
          .bind(row.id)
          .first<{ wait: number }>())!;
        delays.push(scheduled.wait);
        expect(await invitationDelivery(inv.json.id)).toMatchObject({
          email_delivery: 'queued',
          email_delivery_detail: expect.stringMatching(/^Retrying: cloudflare/),
        });
        await setDue(row.id, Date.now());
      }
    }
    expect(delays).toEqual([...RETRY_DELAYS_MS]);
    expect(RETRY_DELAYS_MS.reduce((a, b) => a + b)).toBeGreaterThanOrEqual(60 * 60_000);
    const failed = await invitationDelivery(inv.json.id);
    expect(failed).toMatchObject({ email_delivery: 'failed', delivery_attempts: MAX_ATTEMPTS });
    // SPEC §18: tenants see a fixed phrase; the runtime's words are in the operator's log line for the row.
    expect(failed?.email_delivery_detail).toBe(
      'Gave up after 6 attempts: cloudflare: the email service could not send it',
    );
    const operatorLines = warnings.mock.calls
      .map((c) => String(c[0]))
      .filter((l) => l.includes('"event":"email_provider_error"') && l.includes(`"outbox_id":"${row.id}"`));
    warnings.mockRestore();
    expect(operatorLines).toHaveLength(MAX_ATTEMPTS);
    expect(JSON.parse(operatorLines.at(-1)!)).toMatchObject({
      provider: 'cloudflare',
      detail: 'Error: send_email: upstream unavailable',
    });
    expect(
      await countRows(
        'audit_events',
        `target_id = '${inv.json.id}' AND action = 'invitation.delivery_failed' AND actor_type = 'system'`,
      ),
    ).toBe(1);
    expect(dlq.bodies).toEqual([{ outboxId: row.id, reason: failed?.email_delivery_detail }]);
    // The dead-letter consumer records it.
    await runQueue(dlq.bodies, {}, 'invitations-delivery-dlq');
    expect(await outboxRow(row.id)).toMatchObject({ status: 'failed', dead_lettered_at: expect.any(Number) });

    const api = await call('GET', `/v1/organizations/${org.id}/invitations/${inv.json.id}`, { token: owner.token });
    expect(api.json).toMatchObject({
      status: 'pending',
      email_delivery: 'failed',
      email_delivery_detail: failed?.email_delivery_detail,
    });
    await setLastSentAt(inv.json.id, Date.now() - 120_000);
    expect(
      (await call('POST', `/v1/organizations/${org.id}/invitations/${inv.json.id}/resend`, { token: owner.token }))
        .status,
    ).toBe(200);
    expect(await invitationDelivery(inv.json.id)).toMatchObject({
      email_delivery: 'sent',
      email_delivery_detail: null,
    });
    expect(mailsTo(email)).toHaveLength(1);
  });

  it('a permanent refusal is failed at once, without retries', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Refused Co');
    const email = uniqueEmail('refused');
    const handed = recordingQueue();
    const inv = await createWith(owner.token, org.id, email, { DELIVERY_QUEUE: handed.queue });
    const result = await runQueue(handed.bodies, {
      EMAIL: failingEmail(() => true, 'E_RECIPIENT_NOT_ALLOWED: destination address is not verified'),
    });
    expect(result.retryMessages).toEqual([]);
    expect(await invitationDelivery(inv.json.id)).toMatchObject({
      email_delivery: 'failed',
      delivery_attempts: 1,
      email_delivery_detail: expect.stringContaining('E_RECIPIENT_NOT_ALLOWED'),
    });
  });

  it('nothing is lost when the consumer throws mid-batch: the others are acknowledged, the failed one comes back and is sent once', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Mid Batch Co');
    const handed = recordingQueue();
    const emails = [uniqueEmail('mid-a'), uniqueEmail('mid-b'), uniqueEmail('mid-c')];
    for (const email of emails) await createWith(owner.token, org.id, email, { DELIVERY_QUEUE: handed.queue });
    const poison = (handed.bodies[1] as { outboxId: string }).outboxId;
    const first = await runQueue(handed.bodies, { DB: poisonedDb(poison) });
    expect(first.explicitAcks).toHaveLength(2);
    expect(first.retryMessages).toHaveLength(1);
    expect(emails.map((e) => mailsTo(e).length)).toEqual([1, 0, 1]);
    // The queue brings every unacknowledged message back (here: the whole batch again).
    await runQueue(handed.bodies);
    expect(emails.map((e) => mailsTo(e).length)).toEqual([1, 1, 1]);
  });

  it('a message the queue gave up on (consumer kept crashing) fails the row through the dead-letter consumer', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Crashing Consumer Co');
    const handed = recordingQueue();
    const inv = await createWith(owner.token, org.id, uniqueEmail('dlq'), { DELIVERY_QUEUE: handed.queue });
    await runQueue(handed.bodies, {}, 'invitations-delivery-dlq');
    expect(await invitationDelivery(inv.json.id)).toMatchObject({
      email_delivery: 'failed',
      email_delivery_detail: expect.stringMatching(/^Gave up/),
    });
    const [row] = await outboxFor(inv.json.id);
    expect(row.status).toBe('failed');
  });

  it('sign-in emails use the same pipeline; a link used before its email went out is not sent', async ({ expect }) => {
    const email = uniqueEmail('signin');
    const handed = recordingQueue();
    const asked = () =>
      fetchWithEnv(
        '/v1/auth/email-link',
        { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email }) },
        { ...env, DELIVERY_QUEUE: handed.queue },
      );
    expect((await asked()).status).toBe(202);
    expect(handed.bodies).toHaveLength(1);
    await runQueue(handed.bodies);
    expect(mailsTo(email)).toHaveLength(1);
    const verified = await call('POST', '/v1/auth/verify', {
      body: { token: await lastToken(email, 'sign-in'), name: 'Sig' },
    });
    expect(verified.status).toBe(200);
    // The same message again, after the link was used: dropped.
    await env.DB.prepare("UPDATE outbox SET status = 'pending', next_attempt_at = 0 WHERE id = ?")
      .bind((handed.bodies[0] as { outboxId: string }).outboxId)
      .run();
    await runQueue(handed.bodies);
    expect(mailsTo(email)).toHaveLength(1);
    expect((await outboxRow((handed.bodies[0] as { outboxId: string }).outboxId))?.status).toBe('dropped');
    // drainOutbox is the queue's stand-in in this project: nothing is left due.
    expect(await drainOutbox()).toEqual([]);
  });
});
