import { sql, type SQL } from 'drizzle-orm';
import { runBatch } from '../db/batch';
import type { Db } from '../env';
import { ApiError } from '../errors';
import { ipBucket } from '../lib/ip-ranges';

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
  /**
   * Sign-in links to one address asked for from one network (IPv4 address or IPv6 /64): counted
   * per network so that strangers elsewhere never use up the owner's budget (SPEC §18).
   */
  signInPerEmail: { max: 5, windowMs: 15 * 60_000 },
  /**
   * Sign-in emails one address receives in a UTC day, from every network: over it, 202 and no email.
   * A request from a network the account signed in from before is not held back by it (SPEC §18).
   */
  signInEmailsPerDay: { max: 50, windowMs: 24 * 60 * 60_000 },
  /** Invitation emails (creates and resends) sent by one organization. */
  invitationEmailsPerOrg: { max: 50, windowMs: 60 * 60_000 },
  /** Invitation emails sent by one account, across all its organizations (SPEC §14). */
  invitationEmailsPerAccount: { max: 100, windowMs: 60 * 60_000 },
  /** Invitation emails sent from one IP (or /64), across accounts. */
  invitationEmailsPerIp: { max: 200, windowMs: 60 * 60_000 },
  /** Organizations created by one account. */
  orgCreationPerAccount: { max: 10, windowMs: 24 * 60 * 60_000 },
  /** Organizations created from one IP (or /64), across accounts. */
  orgCreationPerIp: { max: 20, windowMs: 24 * 60 * 60_000 },
  /** Test events and redeliveries asked for one webhook endpoint (SPEC §18: no unmetered relay). */
  webhookRelayPerEndpoint: { max: 10, windowMs: 60_000 },
  /** Test events and redeliveries asked for across one organization's endpoints. */
  webhookRelayPerOrg: { max: 60, windowMs: 60_000 },
  /** Webhook requests one organization sends per clock minute; the rest wait for a later minute. */
  webhookDeliveriesPerOrg: { max: 600, windowMs: 60_000 },
  /** Member role changes in one organization (each is a webhook event to every endpoint). */
  roleChangesPerOrg: { max: 60, windowMs: 60 * 60_000 },
  /**
   * Personal API tokens created by one account: each creation emails the account (SPEC §18), so an
   * unmetered create would be a way to flood its inbox. Counted in the batch that writes the token.
   */
  apiTokenCreationPerAccount: { max: 10, windowMs: 60 * 60_000 },
  /**
   * Join requests one account files in a UTC day, across organizations (SPEC §16): each emails every
   * owner and admin, so withdrawing and asking again must not be a way to flood their inboxes.
   */
  joinRequestsPerAccount: { max: 5, windowMs: 24 * 60 * 60_000 },
} as const satisfies Record<string, Limit>;

type LimitName = keyof typeof LIMITS;

/**
 * A limit scaled by the `RATE_LIMIT_SCALE` var (default 1; e.g. 1000 for load tests). Operators
 * can raise or lower every limit at once without a code change.
 */
export function limitFor(env: { RATE_LIMIT_SCALE?: string }, name: LimitName): Limit {
  return { max: scaled(env, LIMITS[name].max), windowMs: LIMITS[name].windowMs };
}

/**
 * A rate limit's count times `RATE_LIMIT_SCALE` (at least 1); a missing or bad value means 1. For
 * rate limits only (SPEC §18): caps (25 owned organizations, 10 pending invitations, seats, 10
 * endpoints) are constants, so a raised scale in a load test never lets an account hold more.
 */
export function scaled(env: { RATE_LIMIT_SCALE?: string }, max: number): number {
  const scale = Number(env.RATE_LIMIT_SCALE ?? '1');
  const factor = Number.isFinite(scale) && scale > 0 ? scale : 1;
  return Math.max(1, Math.floor(max * factor));
}

/**
 * One hit in `bucket`, as a statement for the caller's batch: `statement` counts it (the window's
 * upsert, `RETURNING count`), `within` holds in the same batch's later statements while the count is
 * still within the limit (so a write can be made conditional on it, exactly, under any
 * concurrency), and `wait(count)` gives the seconds to wait when `count` is over the limit, else
 * null. `onlyIf` makes the hit itself conditional. `hit` is this, run alone.
 */
export function hitSql(bucket: string, limit: Limit, now: number, onlyIf: SQL = sql`1`, amount = 1) {
  const windowStart = now - (now % limit.windowMs);
  return {
    // `WHERE` before `ON CONFLICT` is what SQLite's upsert needs after a SELECT; `onlyIf` false counts nothing.
    statement: sql`INSERT INTO rate_limits (bucket, window_start, count) SELECT ${bucket}, ${windowStart}, ${amount} WHERE ${onlyIf}
      ON CONFLICT (bucket, window_start) DO UPDATE SET count = count + ${amount} RETURNING count`,
    within: sql`coalesce((SELECT count FROM rate_limits WHERE bucket = ${bucket} AND window_start = ${windowStart}), 0) <= ${limit.max}`,
    wait: (count: number) =>
      count > limit.max ? Math.max(1, Math.ceil((windowStart + limit.windowMs - now) / 1000)) : null,
  };
}

/** Counts one hit in `bucket`; returns the seconds to wait when over the limit, else null. */
export async function hit(db: Db, bucket: string, limit: Limit, now: number): Promise<number | null> {
  const counted = hitSql(bucket, limit, now);
  const rows = await db.all<{ count: number }>(counted.statement);
  return counted.wait(rows[0]?.count ?? 1);
}

/**
 * Counts one hit in each bucket in a single D1 round trip (one batch); returns the first that is
 * over its limit with the seconds to wait, or null.
 */
export async function hitAll(
  db: Db,
  hits: readonly { bucket: string; limit: Limit }[],
  now: number,
  amount = 1,
): Promise<{ index: number; wait: number } | null> {
  const counted = hits.map(({ bucket, limit }) => hitSql(bucket, limit, now, sql`1`, amount));
  const results = await runBatch(
    db,
    counted.map((c) => c.statement),
  );
  for (let i = 0; i < hits.length; i++) {
    const wait = counted[i].wait((results[i].results[0] as { count: number } | undefined)?.count ?? 1);
    if (wait !== null) return { index: i, wait };
  }
  return null;
}

/**
 * Counts one hit in each bucket, in order, in one batch: each only while every bucket before it is
 * within its limit, so a hit the first limit refuses uses up nothing of the next (20 calls to one
 * webhook endpoint do not spend the organization's budget for its other endpoints). Returns the
 * first bucket over its limit, with the seconds to wait and its count (how far over: a place in
 * line), or null.
 */
export async function hitInOrder(
  db: Db,
  hits: readonly { bucket: string; limit: Limit }[],
  now: number,
): Promise<{ index: number; wait: number; count: number } | null> {
  const counted: ReturnType<typeof hitSql>[] = [];
  for (const { bucket, limit } of hits)
    counted.push(
      hitSql(
        bucket,
        limit,
        now,
        counted.length
          ? sql.join(
              counted.map((c) => c.within),
              sql` AND `,
            )
          : undefined,
      ),
    );
  const results = await runBatch(
    db,
    counted.map((c) => c.statement),
  );
  for (let i = 0; i < hits.length; i++) {
    const count = (results[i].results[0] as { count: number } | undefined)?.count ?? 0;
    const wait = counted[i].wait(count);
    if (wait !== null) return { index: i, wait, count };
  }
  return null;
}

/** Throws 429 `rate_limited` with Retry-After when over the limit. */
export async function enforce(db: Db, bucket: string, limit: Limit, now: number): Promise<void> {
  const wait = await hit(db, bucket, limit, now);
  if (wait !== null) {
    throw new ApiError('rate_limited', `Too many requests. Try again in ${wait} seconds.`, {
      headers: { 'Retry-After': String(wait) },
    });
  }
}

/**
 * Per-IP limits of the public, unauthenticated paths, counted by the Workers Rate Limiting binding
 * at the edge (wrangler.toml `[[ratelimits]]`): no D1 write on the hottest paths. The binding counts
 * per location and approximately, which suits a per-IP abuse limit; exact quotas stay in D1 or the
 * organization's Durable Object. `max` and `periodSeconds` repeat the binding's configuration.
 */
export const EDGE_LIMITS = {
  /** Sign-in links asked for from one IP (or /64). */
  signInPerIp: { binding: 'SIGN_IN_IP_LIMITER', max: 5, periodSeconds: 60 },
  /** Invitation previews and accepts (API and pages) from one IP (or /64). */
  acceptPerIp: { binding: 'ACCEPT_IP_LIMITER', max: 20, periodSeconds: 60 },
} as const;

/**
 * Throws 429 `rate_limited` (Retry-After: the binding's period) when `ip`'s bucket is over an edge
 * limit. `RATE_LIMIT_SCALE` k > 1 spreads each bucket over k keys, multiplying the limit about k
 * times, as it multiplies the D1 limits.
 */
export async function enforceAtEdge(
  env: Pick<Env, 'SIGN_IN_IP_LIMITER' | 'ACCEPT_IP_LIMITER' | 'RATE_LIMIT_SCALE'>,
  name: keyof typeof EDGE_LIMITS,
  ip: string | null,
) {
  const limit = EDGE_LIMITS[name];
  const shards = scaled(env, 1);
  const key = `${ipBucket(ip)}${shards > 1 ? `#${Math.floor(Math.random() * shards)}` : ''}`;
  const { success } = await env[limit.binding].limit({ key });
  if (!success) {
    throw new ApiError(
      'rate_limited',
      `Too many requests from your network. Try again in ${limit.periodSeconds} seconds.`,
      {
        headers: { 'Retry-After': String(limit.periodSeconds) },
      },
    );
  }
}
