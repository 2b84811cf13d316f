import { env } from 'cloudflare:workers';
import { describe, it } from 'vitest';
import { addMember, call, countRows, mailsTo, ownerWithOrg, uniqueEmail } from './helpers';

const create = (token: string, org: string, body: unknown, key?: string) =>
  call('POST', `/v1/organizations/${org}/invitations`, { token, body, headers: key ? { 'Idempotency-Key': key } : {} });

describe('Idempotency-Key on invitation create', () => {
  it('same key and body: the first result again, same id, no second email', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Idem Co');
    const email = uniqueEmail();
    const first = await create(owner.token, org.id, { email, role: 'viewer' }, 'key-1');
    const again = await create(owner.token, org.id, { email: ` ${email.toUpperCase()} `, role: 'viewer' }, 'key-1');
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.json.id).toBe(first.json.id);
    expect(again.headers.get('Idempotent-Replayed')).toBe('true');
    expect(mailsTo(email)).toHaveLength(1);
  });

  it('same key, different body: 422 idempotency_key_reused, nothing written', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg();
    await create(owner.token, org.id, { email: uniqueEmail(), role: 'viewer' }, 'key-2');
    const before = await countRows('invitations', `organization_id = '${org.id}'`);
    const res = await create(owner.token, org.id, { email: uniqueEmail(), role: 'viewer' }, 'key-2');
    expect(res.status).toBe(422);
    expect(res.json.code).toBe('idempotency_key_reused');
    expect(await countRows('invitations', `organization_id = '${org.id}'`)).toBe(before);
  });

  it('10 concurrent requests with one key make one invitation and one email', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg();
    const email = uniqueEmail();
    const results = await Promise.all(
      Array.from({ length: 10 }, () => create(owner.token, org.id, { email, role: 'developer' }, 'burst-key')),
    );
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(201));
    expect(new Set(results.map((r) => r.json.id)).size).toBe(1);
    expect(await countRows('invitations', `organization_id = '${org.id}'`)).toBe(1);
    expect(mailsTo(email)).toHaveLength(1);
  });

  it('keys are scoped to the caller, and expire after 24 hours', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg();
    const admin = await addMember(owner.token, org.id, 'admin');
    const a = await create(owner.token, org.id, { email: uniqueEmail(), role: 'viewer' }, 'shared-key');
    const b = await create(admin.token, org.id, { email: uniqueEmail(), role: 'viewer' }, 'shared-key');
    expect(b.status).toBe(201);
    expect(b.json.id).not.toBe(a.json.id);
    await env.DB.prepare('UPDATE idempotency_keys SET created_at = created_at - 86400001 WHERE key = ?')
      .bind('shared-key')
      .run();
    const fresh = await create(owner.token, org.id, { email: uniqueEmail(), role: 'viewer' }, 'shared-key');
    expect(fresh.status).toBe(201);
    expect(fresh.headers.get('Idempotent-Replayed')).toBeNull();
  });

  it('a malformed key is a 400', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg();
    const res = await create(owner.token, org.id, { email: uniqueEmail(), role: 'viewer' }, 'has space');
    expect(res.status).toBe(400);
    expect(res.json.code).toBe('validation_failed');
  });
});
