import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, describe, it } from 'vitest';
import { DELIVERY_ATTEMPTS, coordinatorFor, type PendingDelivery } from '../src/org-coordinator';
import { call, invite, mailsTo, ownerWithOrg, setLastSentAt, uniqueEmail } from './helpers';

/** Makes the EMAIL binding fail for these addresses (a thrown error, as the real binding throws). */
const failing = new Set<string>();
(globalThis as { __mailFault?: (to: string) => void }).__mailFault = (to) => {
  if (failing.has(to)) throw new Error(`email to ${to} not allowed`);
};
afterEach(() => failing.clear());

/** Makes every queued retry due now (the object's storage is the clock), then runs the alarm. */
async function runRetriesNow(orgId: string) {
  const stub = coordinatorFor(env, orgId);
  await runInDurableObject(stub, async (_instance, state) => {
    const entries = await state.storage.list<PendingDelivery>({ prefix: 'delivery:' });
    for (const [key, entry] of entries) await state.storage.put(key, { ...entry, dueAt: 0 });
  });
  return runDurableObjectAlarm(stub);
}

const delivery = async (id: string) =>
  (await env.DB.prepare('SELECT email_delivery, delivery_attempts FROM invitations WHERE id = ?').bind(id).first<{ email_delivery: string; delivery_attempts: number }>())!;

describe('email delivery that loses nothing', () => {
  it('a failed send keeps the invitation, marks it queued, and the alarm delivers it later', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Flaky Mail Co');
    const email = uniqueEmail('flaky');
    failing.add(email);
    const created = await invite(owner.token, org.id, { email, role: 'viewer' });
    expect(created.status).toBe(201);
    expect(created.json.email_delivery).toBe('queued');
    expect((await delivery(created.json.id)).email_delivery).toBe('queued');
    expect(mailsTo(email)).toHaveLength(0);
    const alarmAt = await runInDurableObject(coordinatorFor(env, org.id), (_i, state) => state.storage.getAlarm());
    expect(alarmAt).toBeGreaterThan(Date.now());

    failing.delete(email);
    expect(await runRetriesNow(org.id)).toBe(true);
    expect(await delivery(created.json.id)).toEqual({ email_delivery: 'sent', delivery_attempts: 2 });
    expect(mailsTo(email)).toHaveLength(1);
  });

  it(`gives up after ${DELIVERY_ATTEMPTS} attempts with email_delivery failed; a resend still works`, async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Dead Mail Co');
    const email = uniqueEmail('dead');
    failing.add(email);
    const created = (await invite(owner.token, org.id, { email, role: 'viewer' })).json;
    for (let i = 1; i < DELIVERY_ATTEMPTS; i++) {
      expect((await delivery(created.id)).email_delivery).toBe('queued');
      await runRetriesNow(org.id);
    }
    expect(await delivery(created.id)).toEqual({ email_delivery: 'failed', delivery_attempts: DELIVERY_ATTEMPTS });
    const left = await runInDurableObject(coordinatorFor(env, org.id), (_i, state) => state.storage.list({ prefix: 'delivery:' }));
    expect(left.size).toBe(0);
    const one = await call('GET', `/v1/organizations/${org.id}/invitations/${created.id}`, { token: owner.token });
    expect(one.json).toMatchObject({ status: 'pending', email_delivery: 'failed' });

    failing.delete(email);
    await setLastSentAt(created.id, Date.now() - 120_000);
    const resent = await call('POST', `/v1/organizations/${org.id}/invitations/${created.id}/resend`, { token: owner.token });
    expect(resent.status).toBe(200);
    expect((await delivery(created.id)).email_delivery).toBe('sent');
    expect(mailsTo(email)).toHaveLength(1);
  });

  it('a retry never sends a link that was replaced or revoked meanwhile', async ({ expect }) => {
    const { owner, org } = await ownerWithOrg('Stale Retry Co');
    const email = uniqueEmail('stale');
    failing.add(email);
    const created = (await invite(owner.token, org.id, { email, role: 'viewer' })).json;
    await call('POST', `/v1/organizations/${org.id}/invitations/${created.id}/revoke`, { token: owner.token });
    failing.delete(email);
    await runRetriesNow(org.id);
    expect(mailsTo(email)).toHaveLength(0);
  });
});
