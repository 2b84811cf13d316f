import { drizzle } from 'drizzle-orm/d1';
import { fail, type Failure } from '../errors';
import type { Actor, EmailQuota } from '../lib/write-context';
import { ipBucket } from '../lib/ip-ranges';
import { hitAll, limitFor } from './rate-limit';

/** Storage key prefix of the hourly invitation-email counter; the window start follows. */
export const RATE_PREFIX = 'rate:org-emails:';

/**
 * An organization's hourly invitation-email count, in its coordinator's own storage: every create
 * and resend of the organization passes through that object one at a time, so the count is exact
 * under any concurrency and costs no D1 round trip. Cached in memory; the stored copy survives
 * restarts.
 */
export class OrgEmailWindow {
  #current: { window: number; count: number } | null = null;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly env: Env,
  ) {}

  #limit() {
    return limitFor(this.env, 'invitationEmailsPerOrg');
  }

  /** The current window's count (loaded from storage on first use, the previous one dropped). */
  async at(now: number) {
    const window = now - (now % this.#limit().windowMs);
    // A request stamped just before the hour that arrives after one stamped just after it counts
    // in the newer window: a window never moves back (that would drop the newer count).
    if (this.#current && window < this.#current.window) return this.#current;
    if (this.#current?.window !== window) {
      const stored = (await this.storage.get<number>(`${RATE_PREFIX}${window}`)) ?? 0;
      if (this.#current) void this.storage.delete(`${RATE_PREFIX}${this.#current.window}`);
      this.#current = { window, count: stored };
    }
    return this.#current;
  }

  async hasRoom(now: number, emails: number) {
    return (await this.at(now)).count + emails <= this.#limit().max;
  }

  /** Counts `emails`; the refusal when that went over the limit. */
  async charge(now: number, emails: number): Promise<Failure | null> {
    const limit = this.#limit();
    const counter = await this.at(now);
    counter.count += emails;
    // Write-through; storage writes of one object are ordered, so no await is needed for safety.
    void this.storage.put(`${RATE_PREFIX}${counter.window}`, counter.count);
    if (counter.count <= limit.max) return null;
    const wait = Math.max(1, Math.ceil((counter.window + limit.windowMs - now) / 1000));
    return fail(
      'rate_limited',
      `This organization sent too many invitation emails. Try again in ${wait} seconds.`,
      wait,
    );
  }
}

/**
 * The hourly invitation-email limits of one write (SPEC §14): per organization (`window`), per
 * inviting account and per IP (D1 counters in `rate_limits`, seen by every organization's object).
 */
export function emailQuota(env: Env, window: OrgEmailWindow, actor: Actor, now: number): EmailQuota {
  const counters = [
    { bucket: `invitation-emails:account:${actor.userId}`, limit: limitFor(env, 'invitationEmailsPerAccount') },
    { bucket: `invitation-emails:ip:${ipBucket(actor.ip)}`, limit: limitFor(env, 'invitationEmailsPerIp') },
  ].map((c) => ({ bucket: c.bucket, windowStart: now - (now % c.limit.windowMs), max: c.limit.max, limit: c.limit }));
  return {
    counters,
    orgHasRoom: (emails) => window.hasRoom(now, emails),
    chargeOrg: async (emails) => void (await window.charge(now, emails)),
    async charge(emails) {
      // The organization's own limit first: a send it refuses charges no D1 counter.
      if (!(await window.hasRoom(now, emails))) return window.charge(now, emails);
      // Both D1 counters in one round trip.
      const over = await hitAll(
        drizzle(env.DB),
        counters.map(({ bucket, limit }) => ({ bucket, limit })),
        now,
        emails,
      );
      if (over) {
        const who = over.index === 0 ? 'Your account' : 'Your network';
        return fail(
          'rate_limited',
          `${who} sent too many invitation emails. Try again in ${over.wait} seconds.`,
          over.wait,
        );
      }
      return window.charge(now, emails);
    },
  };
}
