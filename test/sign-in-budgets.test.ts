import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { drizzle } from 'drizzle-orm/d1';
import { KNOWN_NETWORK_MS } from '../src/auth/auth.store';
import { runHousekeeping } from '../src/cron';
import { LIMITS } from '../src/rate-limit/rate-limit';
import {
  call,
  countRows,
  drainOutbox,
  fetchWithEnv,
  invite,
  lastToken,
  ownerWithOrg,
  signInMailCount,
  uniqueEmail,
} from './helpers';

/*
 * SPEC §18, no sign-in lockout by strangers: the strict budget counts per (address, requester
 * network), and a daily ceiling per address protects the inbox while still answering 202.
 */

const fromIp = (ip: string) => ({ 'CF-Connecting-IP': ip });
const askLink = (email: string, ip: string) =>
  call('POST', '/v1/auth/email-link', { body: { email }, headers: fromIp(ip) });
const DAY = LIMITS.signInEmailsPerDay.windowMs;

/** One request with the edge's per-IP limiter letting everything through, so D1's budgets decide. */
async function askPastTheEdge(email: string, ip: string) {
  const permissive = { ...env, SIGN_IN_IP_LIMITER: { limit: async () => ({ success: true }) } } as Env;
  const res = await fetchWithEnv(
    '/v1/auth/email-link',
    { method: 'POST', headers: { ...fromIp(ip), 'Content-Type': 'application/json' }, body: JSON.stringify({ email }) },
    permissive,
  );
  return { status: res.status, code: res.status === 202 ? null : ((await res.json()) as { code: string }).code };
}

describe('§18 the per-address budget counts per requester network', () => {
  it('requests for an address from 5 other networks never stop its owner: the owner still gets the email', async ({
    expect,
  }) => {
    const email = uniqueEmail('target');
    for (let n = 1; n <= 5; n++) expect((await askLink(email, `192.0.2.${n}`)).status).toBe(202);
    const before = await signInMailCount(email);
    const owner = await askLink(email, '198.51.100.77');
    expect(owner.status).toBe(202);
    expect(await signInMailCount(email)).toBe(before + 1);
    // The owner's link signs in.
    const verified = await call('POST', '/v1/auth/verify', {
      body: { token: await lastToken(email, 'sign-in'), name: 'Owner' },
    });
    expect(verified.status).toBe(200);
  });

  it("a stranger's network that uses up its own budget (429) leaves the owner's untouched", async ({ expect }) => {
    const email = uniqueEmail('target');
    const stranger = '192.0.2.200';
    for (let i = 0; i < LIMITS.signInPerEmail.max; i++)
      expect((await askPastTheEdge(email, stranger)).status).toBe(202);
    expect(await askPastTheEdge(email, stranger)).toEqual({ status: 429, code: 'rate_limited' });
    await drainOutbox();
    const before = await signInMailCount(email);
    expect((await askLink(email, '198.51.100.78')).status).toBe(202);
    expect(await signInMailCount(email)).toBe(before + 1);
  });

  it('an IPv6 network is its /64: other addresses of the same /64 share its budget, another /64 does not', async ({
    expect,
  }) => {
    const email = uniqueEmail('v6');
    for (let i = 1; i <= LIMITS.signInPerEmail.max; i++)
      expect((await askPastTheEdge(email, `2001:db8:aa:1::${i}`)).status).toBe(202);
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

  it('over the ceiling the answer is the same as under it (202), and nothing is sent or written', async ({
    expect,
  }) => {
    const email = uniqueEmail('ceiling');
    const now = Date.now();
    // Today's 50 already sent (moved into the database rather than sent).
    await env.DB.prepare('INSERT INTO rate_limits (bucket, window_start, count) VALUES (?, ?, 50)')
      .bind(`sign-in:email-day:${email}`, now - (now % DAY))
      .run();
    const over = await call('POST', '/v1/auth/email-link', { body: { email } });
    const under = await call('POST', '/v1/auth/email-link', { body: { email: uniqueEmail('under') } });
    expect([over.status, over.text]).toEqual([under.status, under.text]);
    expect(await signInMailCount(email)).toBe(0);
    expect(await countRows('sign_in_links', `email = '${email}'`)).toBe(0);
  });

  it("the ceiling is per UTC day: yesterday's 50 do not count today", async ({ expect }) => {
    const email = uniqueEmail('yesterday');
    const today = Date.now() - (Date.now() % DAY);
    await env.DB.prepare('INSERT INTO rate_limits (bucket, window_start, count) VALUES (?, ?, 50)')
      .bind(`sign-in:email-day:${email}`, today - DAY)
      .run();
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

describe('§18 the daily ceiling never locks the owner out at a network they signed in from', () => {
  /** A new account for `email`, signed in by a link asked for and clicked from `ip` ('' for none). */
  async function signInFrom(email: string, ip: string) {
    expect((await askPastTheEdge(email, ip)).status).toBe(202);
    await drainOutbox();
    const verified = await call('POST', '/v1/auth/verify', {
      body: { token: await lastToken(email, 'sign-in'), name: 'Owner' },
      headers: fromIp(ip),
    });
    expect(verified.status).toBe(200);
    return { token: verified.json.session_token as string, userId: verified.json.user.id as string };
  }
  const networksOf = async (userId: string) =>
    (
      await env.DB.prepare('SELECT network FROM sign_in_networks WHERE user_id = ? ORDER BY network')
        .bind(userId)
        .all<{ network: string }>()
    ).results.map((r) => r.network);
  /** 10 stranger networks (`<net>.1` to `<net>.10`) × 5 requests each, each within its network's budget: the day's 50. */
  async function flood(email: string, net: string) {
    for (let n = 1; n <= 10; n++)
      for (let i = 0; i < LIMITS.signInPerEmail.max; i++)
        expect((await askPastTheEdge(email, `${net}.${n}`)).status).toBe(202);
    const now = Date.now();
    const day = await env.DB.prepare('SELECT count FROM rate_limits WHERE bucket = ? AND window_start = ?')
      .bind(`sign-in:email-day:${email}`, now - (now % DAY))
      .first<{ count: number }>();
    expect(day!.count).toBeGreaterThanOrEqual(LIMITS.signInEmailsPerDay.max);
    await drainOutbox();
  }
  /** Sign-in emails `email` receives for one request from `ip`. */
  async function mailsFor(email: string, ip: string) {
    const before = await signInMailCount(email);
    const res = await askPastTheEdge(email, ip);
    await drainOutbox();
    return { status: res.status, sent: (await signInMailCount(email)) - before };
  }

  it('strangers use up the day from 10 networks; the owner still gets a link at home (signed in there before, then signed out), not from a new network', async ({
    expect,
  }) => {
    const email = uniqueEmail('locked-out');
    const home = '203.0.113.10';
    const owner = await signInFrom(email, home);
    expect(await networksOf(owner.userId)).toEqual([home]);
    // Signing out ends the session, not what the account knows of its networks.
    expect((await call('POST', '/v1/auth/sign-out', { token: owner.token })).status).toBe(204);
    await flood(email, '192.0.2');

    // A brand-new network is still capped: 202 and nothing sent, nothing written.
    const links = await countRows('sign_in_links', `email = '${email}'`);
    expect(await mailsFor(email, '198.51.103.201')).toEqual({ status: 202, sent: 0 });
    expect(await countRows('sign_in_links', `email = '${email}'`)).toBe(links);
    // Home, where the owner signed in before: the email is sent, and its link signs in there.
    expect(await mailsFor(email, home)).toEqual({ status: 202, sent: 1 });
    const back = await call('POST', '/v1/auth/verify', {
      body: { token: await lastToken(email, 'sign-in') },
      headers: fromIp(home),
    });
    expect(back.status).toBe(200);
    // Home still has only its own budget: 5 per 15 minutes (the sign-up's request and the one above count).
    for (let i = 2; i < LIMITS.signInPerEmail.max; i++)
      expect(await mailsFor(email, home)).toEqual({ status: 202, sent: 1 });
    expect(await askPastTheEdge(email, home)).toEqual({ status: 429, code: 'rate_limited' });
  });

  it('an IPv6 network is its /64 here too: another address of the /64 the owner signed in from gets the link, another /64 does not', async ({
    expect,
  }) => {
    const email = uniqueEmail('v6-home');
    const owner = await signInFrom(email, '2001:db8:77:1::5');
    expect(await networksOf(owner.userId)).toEqual(['2001:db8:77:1::/64']);
    await flood(email, '198.51.100');
    expect(await mailsFor(email, '2001:db8:77:2::5')).toEqual({ status: 202, sent: 0 });
    expect(await mailsFor(email, '2001:db8:77:1:ffff::9')).toEqual({ status: 202, sent: 1 });
  });

  it('a sign-in without a usable client IP (the shared unknown bucket) makes no network known', async ({ expect }) => {
    const email = uniqueEmail('no-ip');
    const owner = await signInFrom(email, '');
    expect(await networksOf(owner.userId)).toEqual([]);
    await flood(email, '198.51.101');
    expect(await mailsFor(email, '')).toEqual({ status: 202, sent: 0 });
  });

  it('a network last signed in from over a year ago is known no more, and housekeeping deletes it', async ({
    expect,
  }) => {
    const email = uniqueEmail('long-ago');
    const home = '203.0.113.30';
    const owner = await signInFrom(email, home);
    const longAgo = Date.now() - KNOWN_NETWORK_MS - 60_000;
    await env.DB.prepare('UPDATE sign_in_networks SET last_signed_in_at = ? WHERE user_id = ?')
      .bind(longAgo, owner.userId)
      .run();
    await flood(email, '198.51.104');
    expect(await mailsFor(email, home)).toEqual({ status: 202, sent: 0 });
    await runHousekeeping(drizzle(env.DB), Date.now());
    expect(await networksOf(owner.userId)).toEqual([]);
  });

  it('an invitation accepted from a network signs in there, and makes that network known', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Networks Co');
    const email = uniqueEmail('invited');
    expect((await invite(owner.token, org.id, { email, role: 'viewer' })).status).toBe(201);
    const office = '203.0.113.20';
    const accepted = await call('POST', '/v1/invitations/accept', {
      body: { token: await lastToken(email), name: 'Ivy' },
      headers: fromIp(office),
    });
    expect(accepted.status).toBe(200);
    expect(accepted.json.session_token).toMatch(/^8b_ses_/);
    expect(await networksOf(accepted.json.user.id)).toEqual([office]);
    await flood(email, '198.51.102');
    expect(await mailsFor(email, office)).toEqual({ status: 202, sent: 1 });
  });
});
