import { describe, it } from 'vitest';
import fc from 'fast-check';
import { env } from 'cloudflare:workers';
import { drizzle } from 'drizzle-orm/d1';
import { sql } from 'drizzle-orm';
import { domainAllowed } from '../src/organizations/domains';
import { domainAllowedSql } from '../src/invitations/invitation-sql';
import { addMember, call, countRows, invite, ownerWithOrg, uniqueEmail } from './helpers';

/* SPEC §12: allowed email domains. */

describe('allowed email domains', () => {
  it('exact domains and *. wildcards, case-insensitive, on the part after the last @', ({ expect }) => {
    const list = ['example.com', '*.corp.example'];
    expect(domainAllowed(list, 'ada@example.com')).toBe(true);
    expect(domainAllowed(list, 'ADA@EXAMPLE.COM')).toBe(true);
    expect(domainAllowed(list, 'x@eu.corp.example')).toBe(true);
    expect(domainAllowed(list, 'x@a.b.corp.example')).toBe(true);
    expect(domainAllowed(list, 'x@corp.example')).toBe(false);
    expect(domainAllowed(list, 'x@sub.example.com')).toBe(false);
    expect(domainAllowed(list, 'x@notexample.com')).toBe(false);
    expect(domainAllowed(list, 'x@example.com.evil.io')).toBe(false);
    expect(domainAllowed(list, '"a@example.com"@evil.io')).toBe(false);
    expect(domainAllowed([], 'anyone@anywhere.io')).toBe(true);
  });

  it('the one-batch create decides in SQL exactly what domainAllowed decides (property, 400 cases)', async ({
    expect,
  }) => {
    const db = drizzle(env.DB);
    const label = fc.constantFrom('a', 'b', 'corp', 'example', 'x-y', 'eu');
    const domain = fc
      .tuple(fc.array(label, { minLength: 1, maxLength: 3 }), fc.constantFrom('com', 'io'))
      .map(([ls, tld]) => [...ls, tld].join('.'));
    const pattern = fc.tuple(fc.boolean(), domain).map(([wild, d]) => (wild ? `*.${d}` : d));
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(pattern, { maxLength: 4 }), domain, async (list, host) => {
        const email = `someone@${host}`;
        // The organization row as stored: NULL for an empty list, else its JSON.
        const stored = list.length ? JSON.stringify(list) : null;
        const [row] = await db.all<{ ok: number }>(
          sql`SELECT ${domainAllowedSql(email)} AS ok FROM (SELECT ${stored} AS allowed_email_domains) o`,
        );
        expect(row.ok === 1, `${JSON.stringify(list)} ${email}`).toBe(domainAllowed(list, email));
      }),
      { numRuns: 400 },
    );
  });

  it('an owner sets the list; inviting outside it is 422 email_domain_not_allowed (single and bulk); pending invitations are untouched', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Domain Co');
    const earlier = (
      await invite(owner.token, org.id, {
        email: uniqueEmail('outsider').replace('example.com', 'other.io'),
        role: 'viewer',
      })
    ).json;
    const set = await call('PATCH', `/v1/organizations/${org.id}`, {
      token: owner.token,
      body: { allowed_email_domains: ['Example.com', '*.corp.example'] },
    });
    expect(set.status).toBe(200);
    expect(set.json.allowed_email_domains).toEqual(['example.com', '*.corp.example']);
    expect(
      (await call('GET', `/v1/organizations/${org.id}`, { token: owner.token })).json.allowed_email_domains,
    ).toEqual(['example.com', '*.corp.example']);

    expect((await invite(owner.token, org.id, { email: uniqueEmail('in'), role: 'viewer' })).status).toBe(201);
    expect(
      (await invite(owner.token, org.id, { email: `UPPER.${Date.now()}@EXAMPLE.COM`, role: 'viewer' })).status,
    ).toBe(201);
    expect(
      (await invite(owner.token, org.id, { email: `sub.${Date.now()}@eu.corp.example`, role: 'viewer' })).status,
    ).toBe(201);
    const refused = await invite(owner.token, org.id, { email: `x.${Date.now()}@other.io`, role: 'viewer' });
    expect(refused.status).toBe(422);
    expect(refused.json.code).toBe('email_domain_not_allowed');
    expect(refused.json.detail).toContain('example.com');
    expect(
      (await invite(owner.token, org.id, { email: `apex.${Date.now()}@corp.example`, role: 'viewer' })).status,
    ).toBe(422);
    const rows = await call('POST', `/v1/organizations/${org.id}/invitations/bulk`, {
      token: owner.token,
      body: {
        invitations: [
          { email: uniqueEmail('bulkin'), role: 'viewer' },
          { email: `b.${Date.now()}@other.io`, role: 'viewer' },
        ],
      },
    });
    expect(
      rows.json.results.map(
        (r: { status: number; error?: { code: string } }) => `${r.status}${r.error ? `:${r.error.code}` : ''}`,
      ),
    ).toEqual(['201', '422:email_domain_not_allowed']);
    // The invitation sent before the restriction stays pending and valid.
    expect(
      (await call('GET', `/v1/organizations/${org.id}/invitations/${earlier.id}`, { token: owner.token })).json.status,
    ).toBe('pending');
    // An empty list allows every domain again.
    expect(
      (await call('PATCH', `/v1/organizations/${org.id}`, { token: owner.token, body: { allowed_email_domains: [] } }))
        .json.allowed_email_domains,
    ).toEqual([]);
    expect((await invite(owner.token, org.id, { email: `again.${Date.now()}@other.io`, role: 'viewer' })).status).toBe(
      201,
    );
  });

  it('only owners change it (admins 403); bad patterns are 400; nothing written by a refusal', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg();
    const admin = await addMember(owner.token, org.id, 'admin');
    const byAdmin = await call('PATCH', `/v1/organizations/${org.id}`, {
      token: admin.token,
      body: { allowed_email_domains: ['example.com'] },
    });
    expect(byAdmin.status).toBe(403);
    for (const bad of [
      ['not a domain'],
      ['*'],
      ['*.'],
      ['example'],
      ['a@b.com'],
      ['example.com', 'EXAMPLE.com'],
      Array.from({ length: 51 }, (_, i) => `d${i}.com`),
    ]) {
      const res = await call('PATCH', `/v1/organizations/${org.id}`, {
        token: owner.token,
        body: { allowed_email_domains: bad },
      });
      expect(res.status, JSON.stringify(bad).slice(0, 40)).toBe(400);
    }
    expect((await call('PATCH', `/v1/organizations/${org.id}`, { token: owner.token, body: {} })).status).toBe(400);
    expect(
      (await call('GET', `/v1/organizations/${org.id}`, { token: owner.token })).json.allowed_email_domains,
    ).toEqual([]);
    expect(await countRows('audit_events', `organization_id = '${org.id}' AND action = 'organization.updated'`)).toBe(
      0,
    );
  });
});
