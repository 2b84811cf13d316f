import { DurableObject } from 'cloudflare:workers';
import type { Transport } from './transports';

/**
 * SPEC §15, provider limits: the delivery consumer never sends faster than the configured
 * transport allows.
 *
 * Why a Durable Object. The delivery queue runs several consumer invocations at once (Queues
 * scales them with the backlog) and each sends its batch of up to 10 concurrently, so no limit
 * kept inside one invocation holds for the account. `max_concurrency = 1` with pacing inside the
 * batch would be exact only while nothing else shared the limit, and it would serialize webhooks
 * (which ride the same queue) behind emails. One `SendPacer` per transport (named by the
 * transport) is the single place that hands out send slots: every send asks it first. It never
 * sends and never waits itself; a call is a few synchronous storage operations, so calls are
 * strictly one after another and two consumers can never be given overlapping slots.
 *
 * The rule it keeps is a sliding window: with `rate` R per second (R ≥ 1), a slot is granted at the
 * earliest time `t` ≥ the caller's `now` and ≥ the previous slot such that fewer than ⌊R⌋ slots lie
 * in (t − 1 s, t], so no window of one second holds more than ⌊R⌋ sends; up to ⌊R⌋ sends go out at
 * once when the account has been quiet. A rate below 1 grants one slot per 1/R seconds.
 *
 * A slot at most `maxWaitMs` away is taken and the consumer sleeps until it; a later one is not
 * taken: the caller is told when to come back (`retryAt`) and puts its message back on the queue.
 * Those return times are spread at the rate themselves (`deferredUntil`), so a large backlog comes
 * back a little at a time instead of all at once.
 */

/** The most a consumer sleeps for a slot (inside its 60 s claim, before its 10 s send timeout). */
export const PACE_MAX_WAIT_MS = 20_000;
export const MAX_SEND_RATE_PER_SECOND = 1000;

/** How a rate becomes a window: at most `count` slots in any `windowMs`. */
export function paceWindow(ratePerSecond: number): { count: number; windowMs: number } {
  const rate = Math.min(Math.max(ratePerSecond, 0.001), MAX_SEND_RATE_PER_SECOND);
  return rate >= 1 ? { count: Math.floor(rate), windowMs: 1000 } : { count: 1, windowMs: Math.ceil(1000 / rate) };
}

/**
 * The send rate in force for `transport`: `EMAIL_SEND_RATE_PER_SECOND` when it holds a positive
 * number (at most 1000), `0` for no pacing at all, and otherwise (empty, or not a number) the
 * transport's documented default; null means unpaced.
 */
export function sendRatePerSecond(
  env: { EMAIL_SEND_RATE_PER_SECOND?: string },
  transport: Pick<Transport, 'defaultSendRatePerSecond'>,
): number | null {
  const raw = env.EMAIL_SEND_RATE_PER_SECOND?.trim();
  const given = raw ? Number(raw) : Number.NaN;
  if (given === 0) return null;
  if (Number.isFinite(given) && given > 0) return Math.min(given, MAX_SEND_RATE_PER_SECOND);
  return transport.defaultSendRatePerSecond;
}

export type SendSlot = { at: number } | { retryAt: number };

export class SendPacer extends DurableObject<Env> {
  /** A slot for one send at or after `now` (ms), or when to ask again. */
  reserve(now: number, ratePerSecond: number, maxWaitMs: number): SendSlot {
    if (![now, ratePerSecond, maxWaitMs].every(Number.isFinite) || ratePerSecond <= 0)
      throw new RangeError('reserve(now, rate > 0, maxWaitMs)');
    const { count, windowMs } = paceWindow(ratePerSecond);
    const kv = this.ctx.storage.kv;
    const grants = kv.get<number[]>('grants') ?? [];
    const last = grants.length ? grants[grants.length - 1] : Number.NEGATIVE_INFINITY;
    // The count-th latest slot must be a full window before the new one.
    const bound = grants.length >= count ? grants[grants.length - count] + windowMs : Number.NEGATIVE_INFINITY;
    const at = Math.max(now, last, bound);
    if (at - now > maxWaitMs) {
      const retryAt = Math.max(at, kv.get<number>('deferredUntil') ?? Number.NEGATIVE_INFINITY);
      kv.put('deferredUntil', retryAt + windowMs / count);
      return { retryAt };
    }
    grants.push(at);
    // Slots a full window before this one can never bound a later slot (slots only move forward).
    kv.put('grants', grants.filter((g) => g > at - windowMs).slice(-count));
    return { at };
  }
}

/** Asks the transport's pacer for a slot (one Durable Object per transport name). */
export function reserveSendSlot(
  env: Pick<Env, 'SEND_PACER'>,
  transportName: string,
  ratePerSecond: number,
  now: number,
  maxWaitMs = PACE_MAX_WAIT_MS,
): Promise<SendSlot> {
  return env.SEND_PACER.get(env.SEND_PACER.idFromName(transportName)).reserve(now, ratePerSecond, maxWaitMs);
}
