import { sql } from 'drizzle-orm';
import type { Db } from '../env';
import { ApiError } from '../errors';

export interface Limit {
  max: number;
  windowMs: number;
}

/**
 * The numbers (documented in the README). Fixed windows. The per-IP and per-address counters live
 * in D1 (one atomic upsert per hit, seen by every location); the per-organization email counter
 * lives in the organization's Durable Object, which already serializes those sends.
 */
export const LIMITS = {
  /** Sign-in links to one address. */
  signInPerEmail: { max: 5, windowMs: 15 * 60_000 },
  /** Sign-in links asked for from one IP. */
  signInPerIp: { max: 20, windowMs: 15 * 60_000 },
  /** Previews and accepts (API and pages) from one IP. */
  acceptPerIp: { max: 60, windowMs: 10 * 60_000 },
  /** Invitation emails (creates and resends) sent by one organization. */
  invitationEmailsPerOrg: { max: 50, windowMs: 60 * 60_000 },
} as const satisfies Record<string, Limit>;

type LimitName = keyof typeof LIMITS;

/**
 * A limit scaled by the `RATE_LIMIT_SCALE` var (default 1; e.g. 1000 for load tests). Operators
 * can raise or lower every limit at once without a code change.
 */
export function limitFor(env: { RATE_LIMIT_SCALE?: string }, name: LimitName): Limit {
  const scale = Number(env.RATE_LIMIT_SCALE ?? '1');
  const factor = Number.isFinite(scale) && scale > 0 ? scale : 1;
  return { max: Math.max(1, Math.floor(LIMITS[name].max * factor)), windowMs: LIMITS[name].windowMs };
}

/** Counts one hit in `bucket`; returns the seconds to wait when over the limit, else null. */
export async function hit(db: Db, bucket: string, limit: Limit, now: number): Promise<number | null> {
  const windowStart = now - (now % limit.windowMs);
  const rows = await db.all<{ count: number }>(sql`INSERT INTO rate_limits (bucket, window_start, count) VALUES (${bucket}, ${windowStart}, 1)
    ON CONFLICT (bucket, window_start) DO UPDATE SET count = count + 1 RETURNING count`);
  const count = rows[0]?.count ?? 1;
  return count > limit.max ? Math.max(1, Math.ceil((windowStart + limit.windowMs - now) / 1000)) : null;
}

/** Throws 429 `rate_limited` with Retry-After when over the limit. */
export async function enforce(db: Db, bucket: string, limit: Limit, now: number): Promise<void> {
  const wait = await hit(db, bucket, limit, now);
  if (wait !== null) {
    throw new ApiError('rate_limited', `Too many requests. Try again in ${wait} seconds.`, { headers: { 'Retry-After': String(wait) } });
  }
}

/**
 * The client IP as Cloudflare reports it. Absent only off Cloudflare (local tools and tests), where
 * per-IP limits are skipped rather than lumping every client into one bucket.
 */
export const clientIp = (header: string | undefined) => (header && header.length <= 64 ? header : null);
