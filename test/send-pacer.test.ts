import { env } from 'cloudflare:workers';
import { drizzle } from 'drizzle-orm/d1';
import { describe, it, vi } from 'vitest';
import { deliverOne, type DeliveryClock } from '../src/delivery/consumer';
import { PACE_MAX_WAIT_MS, paceWindow, sendRatePerSecond, type SendPacer } from '../src/delivery/send-pacer';
import { cloudflareTransport } from '../src/delivery/transports/cloudflare';
import { postmarkTransport } from '../src/delivery/transports/postmark';
import { RESEND_SEND_RATE_PER_SECOND, resendTransport } from '../src/delivery/transports/resend';
import { anyIp, fetchWithEnv, mailsTo, runQueue, uniqueEmail } from './helpers';
import { outboxRow, recordingQueue } from './delivery-fakes';

/*
 * SPEC §15 "Provider limits respected": the delivery consumer never sends faster than the
 * configured transport allows, across concurrent consumers. Time is passed in (each delivery gets a
 * clock of its own whose sleep only moves its time forward), never slept through.
 */

/** The real SendPacer namespace, with instance names of this test's own (no other test shares its slots). */
function isolatedPacers(): DurableObjectNamespace<SendPacer> {
  const tag = crypto.randomUUID();
  return new Proxy(env.SEND_PACER, {
    get(target, prop) {
      if (prop === 'idFromName') return (name: string) => target.idFromName(`${tag}:${name}`);
      const value = Reflect.get(target, prop);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** The most of `times` that any half-open window [t, t + windowMs) holds. */
function mostInAnyWindow(times: number[], windowMs = 1000): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[j] < sorted[i] - windowMs + 1) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

/** `n` sign-in emails committed to the outbox (not yet delivered); their outbox ids. */
async function pendingSignInEmails(n: number): Promise<{ ids: string[]; emails: string[] }> {
  const handed = recordingQueue();
  const emails = Array.from({ length: n }, () => uniqueEmail('paced'));
  for (const email of emails) {
    const res = await fetchWithEnv(
      '/v1/auth/email-link',
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'CF-Connecting-IP': anyIp() },
        body: JSON.stringify({ email }),
      },
      { ...env, DELIVERY_QUEUE: handed.queue },
    );
    if (res.status !== 202) throw new Error(`email-link: ${res.status}`);
  }
  const ids = handed.bodies.map((b) => (b as { outboxId: string }).outboxId);
  if (ids.length !== n) throw new Error(`expected ${n} outbox rows, got ${ids.length}`);
  return { ids, emails };
}

/**
 * Delivers every row at once, each on a clock of its own starting at `start`, the way several
 * consumer invocations would run them side by side; a message put back comes back when the queue
 * would bring it (its clock moves on by the delay). Returns when each email reached the provider:
 * the `EMAIL` binding (cloudflare) or the HTTPS API (resend, postmark; answered here with a 200),
 * on the clock of the delivery that sent it.
 */
async function deliverAllAtOnce(rows: { ids: string[]; emails: string[] }, start: number, overrides: Partial<Env>) {
  const db = drizzle(env.DB);
  const clockOf = new Map<string, () => number>();
  const sends: { to: string; at: number }[] = [];
  const sent = (to: string) => sends.push({ to, at: clockOf.get(to)!() });
  const binding = {
    send: async (m: EmailMessage) => {
      sent(m.to);
      return { messageId: `<${crypto.randomUUID()}@pace.test>` };
    },
  } as unknown as SendEmail;
  const fetchSpy = vi.spyOn(globalThis, 'fetch').mockImplementation(async (_input, init) => {
    const body = JSON.parse(String(init?.body)) as { to?: string[]; To?: string };
    sent(body.to?.[0] ?? body.To!);
    return Response.json({ id: crypto.randomUUID(), MessageID: crypto.randomUUID(), ErrorCode: 0 });
  });
  let putBack = 0;
  try {
    await Promise.all(
      rows.ids.map(async (id, i) => {
        let t = start;
        clockOf.set(rows.emails[i], () => t);
        const clock: DeliveryClock = { now: () => t, sleep: async (ms) => void (t += ms) };
        for (let round = 0; round < 50; round++) {
          const verdict = await deliverOne({ ...env, EMAIL: binding, ...overrides }, db, id, t, clock);
          if (verdict.ack) return;
          putBack++;
          t += verdict.retryAfterMs;
        }
        throw new Error(`${id} never delivered`);
      }),
    );
  } finally {
    fetchSpy.mockRestore();
  }
  return { sends, putBack };
}

describe('SPEC §15: the send rate per transport', () => {
  it('EMAIL_SEND_RATE_PER_SECOND: empty is the transport’s default (Resend 4/s; Cloudflare and Postmark unpaced), 0 is off, a number wins', ({
    expect,
  }) => {
    const resend = resendTransport({ apiKey: 're_x' });
    const cloudflare = cloudflareTransport(env.EMAIL);
    const postmark = postmarkTransport({ apiKey: 'pm' });
    expect(RESEND_SEND_RATE_PER_SECOND).toBeLessThan(5); // Resend's documented default: 5 requests/s per team
    expect(sendRatePerSecond({ EMAIL_SEND_RATE_PER_SECOND: '' }, resend)).toBe(4);
    expect(sendRatePerSecond({}, resend)).toBe(4);
    expect(sendRatePerSecond({ EMAIL_SEND_RATE_PER_SECOND: '' }, cloudflare)).toBeNull();
    expect(sendRatePerSecond({ EMAIL_SEND_RATE_PER_SECOND: '' }, postmark)).toBeNull();
    expect(sendRatePerSecond({ EMAIL_SEND_RATE_PER_SECOND: '0' }, resend)).toBeNull();
    expect(sendRatePerSecond({ EMAIL_SEND_RATE_PER_SECOND: '2.5' }, cloudflare)).toBe(2.5);
    expect(sendRatePerSecond({ EMAIL_SEND_RATE_PER_SECOND: ' 10 ' }, postmark)).toBe(10);
    expect(sendRatePerSecond({ EMAIL_SEND_RATE_PER_SECOND: 'fast' }, resend)).toBe(4);
    expect(sendRatePerSecond({ EMAIL_SEND_RATE_PER_SECOND: '-3' }, resend)).toBe(4);
    expect(sendRatePerSecond({ EMAIL_SEND_RATE_PER_SECOND: '99999' }, resend)).toBe(1000);
    expect(paceWindow(4)).toEqual({ count: 4, windowMs: 1000 });
    expect(paceWindow(2.5)).toEqual({ count: 2, windowMs: 1000 });
    expect(paceWindow(0.5)).toEqual({ count: 1, windowMs: 2000 });
  });

  it('the pacer: 300 concurrent asks (rate 7) get slots no earlier than asked, at most 7 in any second, none beyond the wait; the rest are told when to come back, spread at the rate', async ({
    expect,
  }) => {
    const pacers = isolatedPacers();
    const pacer = pacers.get(pacers.idFromName('resend'));
    const t0 = 1_000_000;
    const asks = Array.from({ length: 300 }, (_, i) => t0 + ((i * 37) % 5000));
    const answers = await Promise.all(asks.map(async (now) => ({ now, slot: await pacer.reserve(now, 7, 3000) })));
    const granted = answers
      .filter((a) => 'at' in a.slot)
      .map((a) => ({ now: a.now, at: (a.slot as { at: number }).at }));
    const deferred = answers
      .filter((a) => 'retryAt' in a.slot)
      .map((a) => ({ now: a.now, retryAt: (a.slot as { retryAt: number }).retryAt }));
    expect(granted.length).toBeGreaterThan(7 * 3);
    expect(deferred.length).toBeGreaterThan(0);
    for (const g of granted) {
      expect(g.at).toBeGreaterThanOrEqual(g.now);
      expect(g.at - g.now).toBeLessThanOrEqual(3000);
    }
    expect(mostInAnyWindow(granted.map((g) => g.at))).toBe(7);
    for (const d of deferred) expect(d.retryAt - d.now).toBeGreaterThan(3000);
    // Come-back times are spread: no second holds more of them than the rate.
    expect(mostInAnyWindow(deferred.map((d) => d.retryAt))).toBeLessThanOrEqual(7);
  });

  it('the pacer below one per second: rate 0.5 is one slot every 2 s', async ({ expect }) => {
    const pacers = isolatedPacers();
    const pacer = pacers.get(pacers.idFromName('cloudflare'));
    const slots = await Promise.all(Array.from({ length: 5 }, () => pacer.reserve(0, 0.5, 60_000)));
    expect(slots.map((s) => (s as { at: number }).at).sort((a, b) => a - b)).toEqual([0, 2000, 4000, 6000, 8000]);
  });

  it('60 deliveries at once at 2 per second: every email sent once, never 3 in one second, the ones too far off put back without using an attempt', async ({
    expect,
  }) => {
    const rows = await pendingSignInEmails(60);
    const { ids } = rows;
    const { sends, putBack } = await deliverAllAtOnce(rows, Date.now(), {
      EMAIL_SEND_RATE_PER_SECOND: '2',
      SEND_PACER: isolatedPacers(),
    });
    expect(sends).toHaveLength(60);
    expect(new Set(sends.map((s) => s.to)).size).toBe(60);
    expect(mostInAnyWindow(sends.map((s) => s.at))).toBe(2);
    // 60 sends at 2 per second take at least 29.5 s from the first to the last.
    const times = sends.map((s) => s.at).sort((a, b) => a - b);
    expect(times.at(-1)! - times[0]).toBeGreaterThanOrEqual(29_000);
    // 2/s × the 20 s a consumer may wait: the rest were put back on the queue and came back.
    expect(PACE_MAX_WAIT_MS).toBe(20_000);
    expect(putBack).toBeGreaterThan(0);
    for (const id of ids) expect(await outboxRow(id)).toMatchObject({ status: 'sent', attempts: 1 });
  });

  it('the same deliveries unpaced (rate 0) all go out in the same instant: the measure above can fail', async ({
    expect,
  }) => {
    const rows = await pendingSignInEmails(10);
    const { sends, putBack } = await deliverAllAtOnce(rows, Date.now(), {
      EMAIL_SEND_RATE_PER_SECOND: '0',
      SEND_PACER: isolatedPacers(),
    });
    expect(putBack).toBe(0);
    expect(mostInAnyWindow(sends.map((s) => s.at))).toBe(10);
  });

  it('Resend by default: 20 deliveries at once reach its API at most 4 in any second', async ({ expect }) => {
    const rows = await pendingSignInEmails(20);
    const { sends, putBack } = await deliverAllAtOnce(rows, Date.now(), {
      EMAIL_TRANSPORT: 'resend',
      EMAIL_API_KEY: 're_test_0123456789',
      EMAIL_SEND_RATE_PER_SECOND: '',
      SEND_PACER: isolatedPacers(),
    });
    expect(putBack).toBe(0);
    expect(sends).toHaveLength(20);
    expect(mostInAnyWindow(sends.map((s) => s.at))).toBe(4);
    for (const id of rows.ids) expect(await outboxRow(id)).toMatchObject({ status: 'sent', attempts: 1 });
  });

  it('the queue handler asks the pacer: with the transport’s slots taken for the next 20 s, a message is put back (no attempt used, nothing sent)', async ({
    expect,
  }) => {
    const { ids, emails } = await pendingSignInEmails(1);
    const pacers = isolatedPacers();
    const pacer = pacers.get(pacers.idFromName('cloudflare'));
    const now = Date.now();
    for (let i = 0; i < 25; i++) await pacer.reserve(now, 1, 60_000);
    const before = mailsTo(emails[0]).length;
    const result = await runQueue([{ outboxId: ids[0] }], { SEND_PACER: pacers, EMAIL_SEND_RATE_PER_SECOND: '1' });
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages).toHaveLength(1);
    expect(mailsTo(emails[0]).length).toBe(before);
    const row = await outboxRow(ids[0]);
    expect(row).toMatchObject({ status: 'pending', attempts: 0 });
    expect(row!.next_attempt_at).toBeGreaterThanOrEqual(now + 24_000);
  });
});
