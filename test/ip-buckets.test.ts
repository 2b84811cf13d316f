import { env } from 'cloudflare:workers';
import { describe, it } from 'vitest';
import { ipBucket } from '../src/lib/ip-ranges';
import { EDGE_LIMITS, LIMITS } from '../src/rate-limit/rate-limit';
import { call, signUp, uniqueEmail } from './helpers';

/*
 * SPEC §14, hardening part two: one test (at least) per rule, and the security reviewer's
 * scenarios replayed as they were reported.
 * This file: per-IP rate-limit buckets (IPv6 by /64, malformed or missing in `unknown`).
 */

describe('§14 per-IP buckets', () => {
  it('IPv6 by /64, IPv4 as is, missing or malformed in one `unknown` bucket', ({ expect }) => {
    expect(ipBucket('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(ipBucket('2001:0db8:0001:0002:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(ipBucket('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(ipBucket('2001:DB8:1:3::1')).toBe('2001:db8:1:3::/64');
    expect(ipBucket('::')).toBe('0:0:0:0::/64');
    expect(ipBucket('1:2:3:4:5:6:7:8')).toBe('1:2:3:4::/64');
    expect(ipBucket('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
    // IPv4-mapped IPv6 is the IPv4 address itself.
    expect(ipBucket('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(ipBucket('::FFFF:c000:0201')).toBe('192.0.2.1');
    expect(ipBucket('192.0.2.33')).toBe('192.0.2.33');
    const malformed = [
      null,
      undefined,
      '',
      'not an ip',
      'x'.repeat(65),
      '1:2:3',
      '1::2::3',
      '<script>',
      '1:2:3:4:5:6:7:8:9',
      '2001:db8:1:2:00000::1',
      '1:2:3:4:5:6:7::8',
      ':1:2:3:4:5:6:7',
      '256.1.1.1',
      '1.2.3',
      '1.2.3.4.5',
      '::ffff:999.0.0.1',
      `2001:db8:1:2::${'0'.repeat(60)}`,
    ];
    for (const bad of malformed) expect(ipBucket(bad), String(bad)).toBe('unknown');
  });

  it('requests without a client IP share the `unknown` bucket: limited, never skipped', async ({ expect }) => {
    const noIp = { 'CF-Connecting-IP': '' };
    const statuses: number[] = [];
    for (let i = 0; i <= EDGE_LIMITS.signInPerIp.max; i++) {
      statuses.push(
        (await call('POST', '/v1/auth/email-link', { body: { email: uniqueEmail('noip') }, headers: noIp })).status,
      );
    }
    expect(statuses.slice(0, -1).every((s) => s === 202)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
  });

  it('an oversized client IP counts in `unknown` on every per-IP limit (organization creation here), never a cut-down address', async ({
    expect,
  }) => {
    const day = LIMITS.orgCreationPerIp.windowMs;
    await env.DB.prepare('INSERT OR REPLACE INTO rate_limits VALUES (?, ?, ?)')
      .bind('org-creation:ip:unknown', Date.now() - (Date.now() % day), LIMITS.orgCreationPerIp.max)
      .run();
    try {
      const user = await signUp(uniqueEmail('bigip'));
      const oversized = `2001:db8:5:6::${'1'.repeat(70)}`;
      for (const ip of [oversized, '', 'garbage']) {
        const res = await call('POST', '/v1/organizations', {
          token: user.token,
          body: { name: 'Big IP' },
          headers: { 'CF-Connecting-IP': ip },
        });
        expect(res.status, ip.slice(0, 20)).toBe(429);
      }
      expect((await call('POST', '/v1/organizations', { token: user.token, body: { name: 'Real IP' } })).status).toBe(
        201,
      );
    } finally {
      await env.DB.prepare("DELETE FROM rate_limits WHERE bucket = 'org-creation:ip:unknown'").run();
    }
  });

  it('two addresses of one IPv6 /64 share a bucket; another /64 does not', async ({ expect }) => {
    for (let i = 0; i < EDGE_LIMITS.signInPerIp.max; i++) {
      const res = await call('POST', '/v1/auth/email-link', {
        body: { email: uniqueEmail('v6') },
        headers: { 'CF-Connecting-IP': `2001:db8:77:1::${(i + 1).toString(16)}` },
      });
      expect(res.status).toBe(202);
    }
    const sameNet = await call('POST', '/v1/auth/email-link', {
      body: { email: uniqueEmail('v6') },
      headers: { 'CF-Connecting-IP': '2001:db8:77:1:ffff::1' },
    });
    expect(sameNet.status).toBe(429);
    const otherNet = await call('POST', '/v1/auth/email-link', {
      body: { email: uniqueEmail('v6') },
      headers: { 'CF-Connecting-IP': '2001:db8:77:2::1' },
    });
    expect(otherNet.status).toBe(202);
  });
});
