import { env, exports } from 'cloudflare:workers';
import { afterEach, describe, it, vi } from 'vitest';
import { addMember, call, drainWebhooks, ownerWithOrg, runQueue } from './helpers';

/*
 * SPEC §18, no unmetered relay. Limits count in fixed windows, so each test pins the clock (Date
 * only, in the test and the Worker alike): a burst then falls in one window, and "a minute later"
 * is a clock moved, not a wait.
 */

const pinClock = (at: number) => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(at);
};
afterEach(() => void vi.useRealTimers());
/** Seconds from `at` to the end of its fixed window. */
const secondsLeft = (at: number, windowMs: number) => Math.ceil((windowMs - (at % windowMs)) / 1000);

let n = 0;
const hookName = (label: string) => `${label}-${Date.now().toString(36)}-${++n}`;
const received = async (name: string): Promise<{ headers: Record<string, string> }[]> =>
  (await fetch(`${env.TEST_WEBHOOK_RECEIVER}/__hooks?name=${name}`)).json();

async function endpoint(token: string, org: string) {
  const name = hookName('relay');
  const res = await call('POST', `/v1/organizations/${org}/webhooks`, {
    token,
    body: { url: `${env.TEST_WEBHOOK_RECEIVER}/hooks/ok/${name}` },
  });
  if (res.status !== 201) throw new Error(`create webhook: ${res.status} ${res.text}`);
  return { id: res.json.id as string, name };
}

describe('test events and redeliveries are metered', () => {
  it('10 a minute per endpoint: 20 concurrent test calls give 10 deliveries, and 10 × 429 rate_limited with Retry-After', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg();
    const hook = await endpoint(owner.token, org.id);
    const at = Date.now();
    pinClock(at);
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        call('POST', `/v1/organizations/${org.id}/webhooks/${hook.id}/test`, { token: owner.token }),
      ),
    );
    expect(results.filter((r) => r.status === 202)).toHaveLength(10);
    const refused = results.filter((r) => r.status === 429);
    expect(refused).toHaveLength(10);
    for (const r of refused) {
      expect(r.headers.get('content-type')).toContain('application/problem+json');
      expect(r.json.code).toBe('rate_limited');
      expect(r.headers.get('retry-after')).toBe(String(secondsLeft(at, 60_000)));
    }
    await drainWebhooks();
    expect(await received(hook.name)).toHaveLength(10);
    // The next minute, the endpoint may be tested again.
    pinClock(at + 60_000);
    expect(
      (await call('POST', `/v1/organizations/${org.id}/webhooks/${hook.id}/test`, { token: owner.token })).status,
    ).toBe(202);
  });

  it("redeliveries count with test events; 60 a minute across an organization's endpoints, and calls the endpoint's limit refused spend none of it", async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg();
    const hooks = [];
    for (let i = 0; i < 7; i++) hooks.push(await endpoint(owner.token, org.id));
    const [first, ...others] = hooks;
    pinClock(Date.now());
    const test = (id: string) =>
      call('POST', `/v1/organizations/${org.id}/webhooks/${id}/test`, { token: owner.token });
    for (let i = 0; i < 10; i++) expect((await test(first.id)).status).toBe(202);
    await drainWebhooks();
    const [attempt] = (
      await call('GET', `/v1/organizations/${org.id}/webhooks/${first.id}/deliveries`, { token: owner.token })
    ).json.data;
    const redeliver = await call(
      'POST',
      `/v1/organizations/${org.id}/webhooks/${first.id}/deliveries/${attempt.id}/redeliver`,
      { token: owner.token },
    );
    expect(redeliver.status).toBe(429);
    expect(redeliver.json.detail).toContain('this endpoint');
    expect((await test(first.id)).status).toBe(429);
    // 10 served so far: 50 more across five endpoints, all at once, are exactly the organization's 60.
    const burst = await Promise.all(others.slice(0, 5).flatMap((h) => Array.from({ length: 10 }, () => test(h.id))));
    expect(burst.map((r) => r.status)).toEqual(Array(50).fill(202));
    const over = await test(others[5].id);
    expect(over.status).toBe(429);
    expect(over.json.detail).toContain("this organization's endpoints");
    expect(over.headers.get('retry-after')).toMatch(/^\d+$/);
  });
});

describe('deliveries per organization are capped per minute', () => {
  it('over the cap a delivery waits its turn: a burst all arrives, none dropped, never more than the cap in one minute', async ({
    expect,
  }) => {
    // The cap is 600 a minute times RATE_LIMIT_SCALE: 0.005 makes it 3.
    const tiny = { RATE_LIMIT_SCALE: '0.005' } as Partial<Env>;
    const cap = 3;
    const { owner, org } = await ownerWithOrg();
    const hook = await endpoint(owner.token, org.id);
    const t0 = Date.now() - (Date.now() % 60_000) + 1_000;
    pinClock(t0);
    for (let i = 0; i < 10; i++)
      expect(
        (await call('POST', `/v1/organizations/${org.id}/webhooks/${hook.id}/test`, { token: owner.token })).status,
      ).toBe(202);
    const { results: due } = await env.DB.prepare(
      "SELECT id FROM webhook_deliveries WHERE endpoint_id = ? AND status = 'pending'",
    )
      .bind(hook.id)
      .all<{ id: string }>();
    expect(due).toHaveLength(10);

    // Minute 0: five consumers at once, two messages each. The ones over the cap go back on the
    // queue with a delay, not counted as attempts.
    const rehanded: { body: unknown; delaySeconds?: number }[] = [];
    const queue = {
      send: async () => undefined,
      sendBatch: async (m: Iterable<{ body: unknown; delaySeconds?: number }>) => void rehanded.push(...m),
    } as unknown as Queue;
    await Promise.all(
      [0, 2, 4, 6, 8].map((i) =>
        runQueue(
          due.slice(i, i + 2).map((r) => ({ webhook: r.id })),
          { ...tiny, DELIVERY_QUEUE: queue },
        ),
      ),
    );
    const perMinute = [(await received(hook.name)).length];
    expect(perMinute[0]).toBe(cap);
    expect(rehanded).toHaveLength(10 - cap);
    for (const m of rehanded) expect(m.delaySeconds).toBeGreaterThan(0);
    const waiting = await env.DB.prepare(
      "SELECT count(*) AS n FROM webhook_deliveries WHERE endpoint_id = ? AND status = 'pending' AND attempts = 0 AND next_attempt_at >= ?",
    )
      .bind(hook.id, t0 - 1_000 + 60_000)
      .first<{ n: number }>();
    expect(waiting!.n).toBe(10 - cap);

    // Later minutes: the clock moves to the end of each, and what is due is sent.
    for (let minute = 1; minute <= 6 && perMinute.reduce((a, b) => a + b, 0) < 10; minute++) {
      pinClock(t0 + minute * 60_000 + 58_000);
      const before = (await received(hook.name)).length;
      await drainWebhooks(tiny);
      perMinute.push((await received(hook.name)).length - before);
    }
    expect(perMinute).toEqual([3, 3, 3, 1]);
    const ids = (await received(hook.name)).map((h) => h.headers['webhook-id']);
    expect(new Set(ids)).toEqual(new Set(due.map((r) => r.id)));
    const states = await env.DB.prepare('SELECT status, attempts FROM webhook_deliveries WHERE endpoint_id = ?')
      .bind(hook.id)
      .all();
    expect(states.results).toEqual(Array(10).fill({ status: 'delivered', attempts: 1 }));
  });
});

describe('role changes are metered per organization', () => {
  it('60 an hour: 70 concurrent changes give 60, then 429 rate_limited with Retry-After, and nothing changes', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg();
    const members = [];
    for (let i = 0; i < 10; i++) members.push(await addMember(owner.token, org.id, 'viewer'));
    const at = Date.now();
    pinClock(at);
    const change = (userId: string, role: string) =>
      call('PATCH', `/v1/organizations/${org.id}/members/${userId}`, { token: owner.token, body: { role } });
    // Six rounds of ten at once, each a real change (viewer → developer → viewer …): 60.
    for (let round = 1; round <= 6; round++) {
      const role = round % 2 ? 'developer' : 'viewer';
      const results = await Promise.all(members.map((m) => change(m.user.id, role)));
      expect(
        results.map((r) => r.status),
        `round ${round}`,
      ).toEqual(Array(10).fill(200));
    }
    const seventh = await Promise.all(members.map((m) => change(m.user.id, 'billing')));
    for (const r of seventh) {
      expect(r.status).toBe(429);
      expect(r.json.code).toBe('rate_limited');
      expect(r.headers.get('retry-after')).toBe(String(secondsLeft(at, 3_600_000)));
    }
    const listed = (await call('GET', `/v1/organizations/${org.id}/members`, { token: owner.token })).json.data as {
      user_id: string;
      role: string;
    }[];
    for (const m of members) expect(listed.find((l) => l.user_id === m.user.id)!.role).toBe('viewer');
    const audited = await env.DB.prepare(
      "SELECT count(*) AS n FROM audit_events WHERE organization_id = ? AND action = 'member.role_changed'",
    )
      .bind(org.id)
      .first<{ n: number }>();
    expect(audited!.n).toBe(60);
  });
});

describe('the Webhooks page says when a limit refuses', () => {
  it("Send test past the endpoint's limit: 429 with the reason and Retry-After, on the page", async ({ expect }) => {
    const start = Math.ceil(Date.now() / 60_000) * 60_000 + 1_000;
    pinClock(start);
    const { owner, org } = await ownerWithOrg('Relay Page Co');
    const hook = await endpoint(owner.token, org.id);
    const csrf = 'r'.repeat(43);
    const send = () =>
      exports.default.fetch(
        new Request(`http://127.0.0.1:8787/orgs/${org.slug}/settings/webhooks/${hook.id}/test`, {
          method: 'POST',
          redirect: 'manual',
          headers: {
            Cookie: `8b_csrf=${csrf}; 8b_session=${owner.token}`,
            'Content-Type': 'application/x-www-form-urlencoded',
            Origin: 'http://127.0.0.1:8787',
          },
          body: new URLSearchParams({ _csrf: csrf }),
        }),
      );
    for (let i = 0; i < 10; i++) expect((await send()).status).toBe(303);
    const refused = await send();
    expect(refused.status).toBe(429);
    expect(refused.headers.get('Retry-After')).toBe(String(secondsLeft(start, 60_000)));
    expect(await refused.text()).toContain('this endpoint');
  });
});
