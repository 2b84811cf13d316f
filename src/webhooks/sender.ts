import { sql } from 'drizzle-orm';
import { systemAuditSql } from '../audit/audit.store';
import { runBatch } from '../db/batch';
import type { Db } from '../env';
import { newId } from '../lib/ids';
import { errorMessage, redact } from '../lib/redact';
import { signStandardWebhook } from '../lib/standard-webhooks';
import { errorForException, errorForStatus, type AttemptError } from './attempt-errors';
import { deliverySlot } from './delivery-cap';
import { webhookUrlProblem } from './webhook-url';

/** Delays before attempts 2 to 8 (SPEC §11), times `WEBHOOK_RETRY_SCALE`; then the message is given up. */
export const WEBHOOK_RETRY_DELAYS_MS = [
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  10 * 3_600_000,
];
export const WEBHOOK_MAX_ATTEMPTS = WEBHOOK_RETRY_DELAYS_MS.length + 1;
export const WEBHOOK_TIMEOUT_MS = 10_000;
/** At most this much of a receiver's answer is kept. */
export const RESPONSE_KEEP_BYTES = 1024;
/** An endpoint failing for this long, with at least this many failed attempts, is disabled. */
export const AUTO_DISABLE_AFTER_MS = 24 * 3_600_000;
export const AUTO_DISABLE_MIN_ATTEMPTS = 20;
/** One consumer's hold on a message while it sends (longer than the timeout). */
const CLAIM_MS = 60_000;

export function webhookRetryDelay(env: { WEBHOOK_RETRY_SCALE?: string }, attempt: number): number {
  const scale = Number(env.WEBHOOK_RETRY_SCALE ?? '1');
  return Math.round(WEBHOOK_RETRY_DELAYS_MS[attempt - 1] * (Number.isFinite(scale) && scale >= 0 ? scale : 1));
}

interface Claimed {
  id: string;
  organization_id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  attempts: number;
  url: string | null;
  enabled: number | null;
  secret: string | null;
  previous_secret: string | null;
  previous_secret_expires_at: number | null;
  body: string | null;
}

export type WebhookVerdict = { done: true } | { done: false; retryInMs: number };

/** `text` cut to at most `bytes` UTF-8 bytes, never in the middle of a character. */
export function cutToBytes(text: string, bytes: number): string {
  const encoded = new TextEncoder().encode(text);
  if (encoded.length <= bytes) return text;
  return new TextDecoder().decode(encoded.slice(0, bytes)).replace(/\uFFFD+$/, '');
}

/** Reads at most `limit` bytes of a response body, then lets the rest go. */
async function readSome(res: Response, limit: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } finally {
    void reader.cancel().catch(() => undefined);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return new TextDecoder().decode(all.slice(0, limit));
}

/**
 * Sends one webhook message (one event to one endpoint) once: claims it, checks the endpoint's URL
 * against the URL rule as it stands now (SPEC §18: a URL saved before a rule tightened is refused
 * here, and logged as `refused`), takes a place in the organization's per-minute cap (over it, the
 * message waits for a later minute, not counted as an attempt), signs it per Standard Webhooks with
 * the current secret (and the previous one during a rotation), posts it with a timeout and without
 * following redirects, and records the attempt with an error class of a fixed set. A deleted or
 * disabled endpoint's message is dropped. Returns when to try again, if at all.
 */
export async function deliverWebhook(
  env: Pick<Env, 'WEBHOOK_RETRY_SCALE' | 'APP_URL' | 'RATE_LIMIT_SCALE'>,
  db: Db,
  deliveryId: string,
  now: number,
  opts: { timeoutMs?: number } = {},
): Promise<WebhookVerdict> {
  const claimEnd = now + CLAIM_MS;
  const [row] =
    await db.all<Claimed>(sql`UPDATE webhook_deliveries SET status = 'sending', next_attempt_at = ${claimEnd}, updated_at = ${now}
    WHERE id = ${deliveryId} AND status = 'pending' AND next_attempt_at <= ${now}
    RETURNING id, organization_id, endpoint_id, event_id, event_type, attempts,
      (SELECT url FROM webhook_endpoints WHERE id = endpoint_id) AS url,
      (SELECT enabled FROM webhook_endpoints WHERE id = endpoint_id) AS enabled,
      (SELECT secret FROM webhook_endpoints WHERE id = endpoint_id) AS secret,
      (SELECT previous_secret FROM webhook_endpoints WHERE id = endpoint_id) AS previous_secret,
      (SELECT previous_secret_expires_at FROM webhook_endpoints WHERE id = endpoint_id) AS previous_secret_expires_at,
      (SELECT body FROM webhook_events WHERE id = event_id) AS body`);
  if (!row) return { done: true };
  if (!row.url || row.enabled !== 1 || !row.secret || row.body === null) {
    await db.run(sql`UPDATE webhook_deliveries SET status = 'dropped', updated_at = ${now} WHERE id = ${row.id}`);
    return { done: true };
  }
  const log = (fields: Record<string, unknown>) =>
    console.log(
      JSON.stringify({
        event: 'webhook_attempt',
        webhook_id: row.id,
        endpoint_id: row.endpoint_id,
        event_type: row.event_type,
        ...fields,
      }),
    );

  const refusal = webhookUrlProblem(env.APP_URL, row.url);
  if (refusal) {
    // Waiting changes nothing about a URL: no retry. Redelivering from the log after the URL is
    // fixed sends it to the new one.
    await recordAttempt(env, db, row, now, { statusCode: null, error: 'refused', kept: null, duration: 0 });
    log({ attempt: row.attempts + 1, outcome: 'failed', error: 'refused', detail: refusal });
    return { done: true };
  }

  const slot = await deliverySlot(env, db, row.organization_id, now);
  if (slot) {
    await db.run(sql`UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ${slot.retryAt}, updated_at = ${now}
      WHERE id = ${row.id} AND status = 'sending' AND next_attempt_at = ${claimEnd}`);
    log({ outcome: 'deferred', retry_at: new Date(slot.retryAt).toISOString() });
    return { done: false, retryInMs: slot.retryAt - now };
  }

  const timestamp = Math.floor(now / 1000);
  const secrets = [
    row.secret,
    ...(row.previous_secret && (row.previous_secret_expires_at ?? 0) > now ? [row.previous_secret] : []),
  ];
  const signatures = await Promise.all(secrets.map((s) => signStandardWebhook(s, row.id, timestamp, row.body!)));
  const started = Date.now();
  let statusCode: number | null = null;
  let error: AttemptError | null = null;
  let kept: string | null = null;
  let detail: string | undefined;
  try {
    const res = await fetch(row.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': '8bit-ai-webhooks/1.0',
        'webhook-id': row.id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signatures.join(' '),
      },
      body: row.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(opts.timeoutMs ?? WEBHOOK_TIMEOUT_MS),
    });
    statusCode = res.status;
    kept = cutToBytes(redact(await readSome(res, RESPONSE_KEEP_BYTES), 4 * RESPONSE_KEEP_BYTES), RESPONSE_KEEP_BYTES);
    error = errorForStatus(res.status);
  } catch (err) {
    error = errorForException(err);
    detail = errorMessage(err, 200);
  }
  const elapsed = Date.now() - started;
  // Without an HTTP answer, how long the failure took is not logged either: it told open ports
  // from closed ones as well as the text did (13 ms against 2 ms in the review).
  const duration = error === 'connection_failed' || error === 'tls_error' ? 0 : elapsed;
  const verdict = await recordAttempt(env, db, row, now, { statusCode, error, kept, duration });
  log({
    attempt: row.attempts + 1,
    status_code: statusCode,
    outcome: verdict.status,
    duration_ms: elapsed,
    error,
    ...(detail ? { detail } : {}),
  });
  return verdict.retryIn === null ? { done: true } : { done: false, retryInMs: verdict.retryIn };
}

/**
 * Writes one attempt and its consequences in one batch: the log row, the message's next state
 * (retried on the schedule, unless refused or out of attempts), the endpoint's failure streak, and
 * the auto-disable (with its audit event) once every delivery failed for 24 hours.
 */
async function recordAttempt(
  env: Pick<Env, 'WEBHOOK_RETRY_SCALE'>,
  db: Db,
  row: Claimed,
  now: number,
  outcome: { statusCode: number | null; error: AttemptError | null; kept: string | null; duration: number },
): Promise<{ status: string; retryIn: number | null }> {
  const { statusCode, error, kept, duration } = outcome;
  const attempt = row.attempts + 1;
  const ok = error === null;
  const retryIn = !ok && error !== 'refused' && attempt < WEBHOOK_MAX_ATTEMPTS ? webhookRetryDelay(env, attempt) : null;
  const next = retryIn === null ? null : now + retryIn;
  const status = ok ? 'delivered' : next === null ? 'failed' : 'pending';
  const failingFor24h = sql`id = ${row.endpoint_id} AND enabled = 1 AND failing_since <= ${now - AUTO_DISABLE_AFTER_MS} AND failed_attempts >= ${AUTO_DISABLE_MIN_ATTEMPTS}`;
  await runBatch(db, [
    sql`INSERT INTO webhook_attempts (id, delivery_id, endpoint_id, event_id, event_type, attempt, status_code, duration_ms, error, response_body, next_attempt_at, created_at)
      VALUES (${newId('wha')}, ${row.id}, ${row.endpoint_id}, ${row.event_id}, ${row.event_type}, ${attempt}, ${statusCode}, ${duration}, ${error}, ${kept}, ${next}, ${now})`,
    sql`UPDATE webhook_deliveries SET status = ${status}, attempts = ${attempt}, next_attempt_at = ${next ?? now}, updated_at = ${now}
      WHERE id = ${row.id} AND status = 'sending'`,
    ok
      ? sql`UPDATE webhook_endpoints SET failing_since = NULL, failed_attempts = 0 WHERE id = ${row.endpoint_id}`
      : sql`UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, ${now}), failed_attempts = failed_attempts + 1 WHERE id = ${row.endpoint_id}`,
    ...(ok
      ? []
      : [
          // Audited when (and only when) the update below disables it: same predicate, run first.
          systemAuditSql({
            action: 'webhook.disabled',
            target: 'webhook',
            data: sql`json_object('reason', 'every delivery failed for 24 hours', 'failed_attempts', failed_attempts, 'url', url)`,
            from: sql`webhook_endpoints WHERE ${failingFor24h}`,
            now,
          }),
          sql`UPDATE webhook_endpoints SET enabled = 0, updated_at = ${now},
              disabled_reason = ${`Disabled after every delivery failed for 24 hours (last: ${error})`}
            WHERE ${failingFor24h}`,
        ]),
  ]);
  return { status, retryIn };
}
