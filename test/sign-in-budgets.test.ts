import { env } from 'cloudflare:workers';
import { describe, it } from 'vitest';
import { LIMITS } from '../src/rate-limit/rate-limit';
import { call, countRows, drainOutbox, fetchWithEnv, lastToken, signInMailCount, uniqueEmail } from './helpers';

/*
 * SPEC §18, no sign-in lockout by strangers: the strict budget counts per (address, requester
 * network), and a daily ceiling per address protects the inbox while still answering 202.
 */

const fromIp = (ip: string) => ({ 'CF-Connecting-IP': ip });
const askLink = (email: string, ip: string) => call('POST', '/v1/auth/email-link', { body: { email }, headers: fromIp(ip) });
const DAY = LIMITS.signInEmailsPerDay.windowMs;

/** One request with the edge's per-IP limiter letting everything through, so D1's budgets decide. */
async function askPastTheEdge(email: string, ip: string) {
  const permissive = { ...env, SIGN_IN_IP_LIMITER: { limit: async () => ({ success: true }) } } as Env;
  const res = await fetchWithEnv('/v1/auth/email-link', { method: 'POST', headers: { ...fromIp(ip), 'Content-Type': 'application/json' }, body: JSON.stringify({ email }) }, permissive);
  return { status: res.status, code: res.status === 202 ? null : ((await res.json()) as { code: string }).code };
}

describe('§18 the per-address budget counts per requester network', () => {
  it('requests for an address from 5 other networks never stop its owner: the owner still gets the email', async ({ expect }) => {
    const email = uniqueEmail('target');
    for (let n = 1; n <= 5; n++) expect((await askLink(email, `192.0.2.${n}`)).status).toBe(202);
    const before = await signInMailCount(email);
    const owner = await askLink(email, '198.51.100.77');
    expect(owner.status).toBe(202);
    expect(await signInMailCount(email)).toBe(before + 1);
    // The owner's link signs in.
    const verified = await call('POST', '/v1/auth/verify', { body: { token: await lastToken(email, 'sign-in'), name: 'Owner' } });
    expect(verified.status).toBe(200);
  });

  it("a stranger's network that uses up its own budget (429) leaves the owner's untouched", async ({ expect }) => {
    const email = uniqueEmail('target');
    const stranger = '192.0.2.200';
    for (let i = 0; i < LIMITS.signInPerEmail.max; i++) expect((await askPastTheEdge(email, stranger)).status).toBe(202);
    expect(await askPastTheEdge(email, stranger)).toEqual({ status: 429, code: 'rate_limited' });
    await drainOutbox();
    const before = await signInMailCount(email);
    expect((await askLink(email, '198.51.100.78')).status).toBe(202);
    expect(await signInMailCount(email)).toBe(before + 1);
  });

  it('an IPv6 network is its /64: other addresses of the same /64 share its budget, another /64 does not', async ({ expect }) => {
    const email = uniqueEmail('v6');
    for (let i = 1; i <= LIMITS.signInPerEmail.max; i++) expect((await askPastTheEdge(email, `2001:db8:aa:1::${i}`)).status).toBe(202);
    expect(await askPastTheEdge(email, '2001:db8:aa:1:ffff::1')).toEqual({ status: 429, code: 'rate_limited' });
    expect((await askPastTheEdge(email, '2001:db8:aa:2::1')).status).toBe(202);
  });
});

describe('§18 a daily ceiling per address protects the inbox, and still answers 202', () => {
  it('60 requests from 60 networks give at most 50 emails that day, and every request gets 202', async ({ expect }) => {
    const email = uniqueEmail('flooded');
    const statuses: number[] = [];
    // call() gives each request a network of its own (test/helpers.ts anyIp).
    for (let i = 0; i < 60; i++) statuses.push((await call('POST', '/v1/auth/email-link', { body: { email } })).status);
    expect(statuses.every((s) => s === 202)).toBe(true);
    expect(LIMITS.signInEmailsPerDay.max).toBe(50);
    expect(await signInMailCount(email)).toBe(50);
    // Past the ceiling nothing is written: no link, no outbox row.
    expect(await countRows('sign_in_links', `email = '${email}'`)).toBe(50);
  });

  it('over the ceiling the answer is the same as under it (202), and nothing is sent or written', async ({ expect }) => {
    const email = uniqueEmail('ceiling');
    const now = Date.now();
    // Today's 50 already sent (moved into the database rather than sent).
    await env.DB.prepare('INSERT INTO rate_limits (bucket, window_start, count) VALUES (?, ?, 50)').bind(`sign-in:email-day:${email}`, now - (now % DAY)).run();
    const over = await call('POST', '/v1/auth/email-link', { body: { email } });
    const under = await call('POST', '/v1/auth/email-link', { body: { email: uniqueEmail('under') } });
    expect([over.status, over.text]).toEqual([under.status, under.text]);
    expect(await signInMailCount(email)).toBe(0);
    expect(await countRows('sign_in_links', `email = '${email}'`)).toBe(0);
  });

  it("the ceiling is per UTC day: yesterday's 50 do not count today", async ({ expect }) => {
    const email = uniqueEmail('yesterday');
    const today = Date.now() - (Date.now() % DAY);
    await env.DB.prepare('INSERT INTO rate_limits (bucket, window_start, count) VALUES (?, ?, 50)').bind(`sign-in:email-day:${email}`, today - DAY).run();
    expect((await call('POST', '/v1/auth/email-link', { body: { email } })).status).toBe(202);
    expect(await signInMailCount(email)).toBe(1);
  });

  it('a request its network budget refuses (429) does not count against the daily ceiling', async ({ expect }) => {
    const email = uniqueEmail('refused');
    const network = '192.0.2.250';
    for (let i = 0; i < LIMITS.signInPerEmail.max + 10; i++) await askPastTheEdge(email, network);
    const now = Date.now();
    const day = await env.DB.prepare('SELECT count FROM rate_limits WHERE bucket = ? AND window_start = ?')
      .bind(`sign-in:email-day:${email}`, now - (now % DAY))
      .first<{ count: number }>();
    expect(day?.count).toBe(LIMITS.signInPerEmail.max);
  });
});
