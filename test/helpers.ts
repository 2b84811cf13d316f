import {
  createExecutionContext,
  createMessageBatch,
  getQueueResult,
  runInDurableObject,
  waitOnExecutionContext,
  type QueueResult,
} from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import worker from '../src/index';
import PostalMime from 'postal-mime';
import { outbox } from './mail-tap';

export const BASE = 'http://127.0.0.1:8787';

export interface CallOptions {
  token?: string;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
}

let ipSeq = 0;
/**
 * A client address of its own (documentation range 198.18.0.0/15), as Cloudflare would report
 * it: per-IP limits count each test's requests apart, unless a test names the IP itself.
 */
export const anyIp = () => `198.18.${Math.floor(++ipSeq / 250) % 250}.${(ipSeq % 250) + 1}`;

/** One request through the worker's real fetch handler. */
export async function call(method: string, path: string, opts: CallOptions = {}) {
  const headers: Record<string, string> = { 'CF-Connecting-IP': anyIp(), ...opts.headers };
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  let body: string | undefined = opts.rawBody;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['Content-Type'] ??= 'application/json';
  }
  const res = await exports.default.fetch(new Request(`${BASE}${path}`, { method, headers, body }));
  const text = await res.text();
  await settleEmails(method);
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json, text };
}

/**
 * Emails leave through the delivery queue. In the `workers` test project nothing consumes that
 * queue; instead, after each POST, the real consumer runs on the outbox rows that are due, as the
 * queue would deliver them, so tests read what was sent deterministically.
 */
export async function settleEmails(method: string) {
  if (method === 'POST') await drainOutbox();
}

/**
 * Runs the worker's real queue handler on every due outbox row (optionally with a different
 * environment: a failing EMAIL binding, another transport), until none is due. Returns the
 * queue's verdicts.
 */
export async function drainOutbox(
  overrides: Partial<Env> = {},
  opts: { rounds?: number } = {},
): Promise<QueueResult[]> {
  return drainDue(
    "SELECT id FROM outbox WHERE status IN ('pending', 'sending') AND next_attempt_at <= ? ORDER BY created_at LIMIT 100",
    (id) => ({ outboxId: id }),
    overrides,
    opts.rounds,
  );
}

/** Rounds of the real queue handler over the due rows `query` selects, as messages `toBody` makes. */
async function drainDue(
  query: string,
  toBody: (id: string) => unknown,
  overrides: Partial<Env>,
  rounds = 3,
): Promise<QueueResult[]> {
  const results: QueueResult[] = [];
  for (let round = 0; round < rounds; round++) {
    const { results: due } = await env.DB.prepare(query).bind(Date.now()).all<{ id: string }>();
    if (due.length === 0) break;
    results.push(
      await runQueue(
        due.map((r) => toBody(r.id)),
        overrides,
      ),
    );
  }
  return results;
}

/**
 * Runs the worker's real queue handler on every due webhook message (as the delivery queue would),
 * until none is due. Retries come due later; tests move `next_attempt_at` to bring them forward.
 */
export async function drainWebhooks(
  overrides: Partial<Env> = {},
  opts: { rounds?: number } = {},
): Promise<QueueResult[]> {
  return drainDue(
    "SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY created_at LIMIT 100",
    (id) => ({ webhook: id }),
    overrides,
    opts.rounds,
  );
}

let messageSeq = 0;
/** Delivers these message bodies to the worker's queue handler, as one batch of `queue`. */
export async function runQueue(
  bodies: unknown[],
  overrides: Partial<Env> = {},
  queue = 'invitations-delivery',
  attempts = 1,
): Promise<QueueResult> {
  const batch = createMessageBatch(
    queue,
    bodies.map((body) => ({ id: `msg-${++messageSeq}`, timestamp: new Date(), attempts, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue!(batch, { ...env, ...overrides }, ctx);
  return getQueueResult(batch, ctx);
}

/** The messages sent to `to` since the start of this test file, oldest first. */
export const mailsTo = (to: string) => outbox.filter((m) => m.to === to.toLowerCase());

export async function parseMail(raw: string) {
  return PostalMime.parse(raw);
}

/** The token from the last link of `kind` emailed to `to`. */
export async function lastToken(to: string, kind: 'invitation' | 'sign-in' = 'invitation'): Promise<string> {
  const mails = mailsTo(to);
  if (mails.length === 0) throw new Error(`no mail to ${to}`);
  const parsed = await parseMail(mails.at(-1)!.raw);
  const pattern =
    kind === 'invitation' ? /\/invitations\/accept\?token=([\w.%-]+)/ : /\/auth\/verify\?token=([\w.%-]+)/;
  const match = pattern.exec(parsed.text ?? '');
  if (!match) throw new Error(`no ${kind} link in mail to ${to}`);
  return decodeURIComponent(match[1]);
}

/** How many sign-in emails `to` has received in this test file. */
export async function signInMailCount(to: string) {
  let n = 0;
  for (const m of mailsTo(to)) if (/\/auth\/verify\?token=/.test((await parseMail(m.raw)).text ?? '')) n++;
  return n;
}

let counter = 0;
/** A unique address per call, so tests in one file never collide. */
export const uniqueEmail = (label = 'user') => `${label}.${Date.now().toString(36)}.${++counter}@example.com`;

/** Signs up through the emailed link flow and returns the session token. */
export async function signUp(email = uniqueEmail(), name = 'Test User') {
  const sent = await call('POST', '/v1/auth/email-link', { body: { email } });
  if (sent.status !== 202) throw new Error(`email-link: ${sent.status} ${sent.text}`);
  const token = await lastToken(email, 'sign-in');
  const verified = await call('POST', '/v1/auth/verify', { body: { token, name } });
  if (verified.status !== 200) throw new Error(`verify: ${verified.status} ${verified.text}`);
  return {
    email: email.toLowerCase(),
    token: verified.json.session_token as string,
    user: verified.json.user as { id: string; email: string; name: string },
  };
}

export async function createOrg(token: string, name = 'Acme Inc') {
  const res = await call('POST', '/v1/organizations', { token, body: { name } });
  if (res.status !== 201) throw new Error(`create org: ${res.status} ${res.text}`);
  return res.json as { id: string; slug: string; name: string };
}

export async function invite(token: string, org: string, body: Record<string, unknown>) {
  return call('POST', `/v1/organizations/${org}/invitations`, { token, body });
}

/** Invites, accepts as a fresh account, and returns the new member's session. */
export async function addMember(ownerToken: string, org: string, role: string) {
  const email = uniqueEmail(role);
  const created = await invite(ownerToken, org, { email, role });
  if (created.status !== 201) throw new Error(`invite: ${created.status} ${created.text}`);
  const accepted = await call('POST', '/v1/invitations/accept', {
    body: { token: await lastToken(email), name: `${role} person` },
  });
  if (accepted.status !== 200) throw new Error(`accept: ${accepted.status} ${accepted.text}`);
  return { email, token: accepted.json.session_token as string, user: accepted.json.user as { id: string } };
}

/** An owner with a fresh organization. */
export async function ownerWithOrg(name = 'Acme Inc') {
  const owner = await signUp(uniqueEmail('owner'), 'Olivia Owner');
  const org = await createOrg(owner.token, name);
  return { owner, org };
}

/** Moves an invitation's expiry (the database is the clock for expiry tests). */
export async function setExpiresAt(id: string, expiresAt: number) {
  await env.DB.prepare('UPDATE invitations SET expires_at = ? WHERE id = ?').bind(expiresAt, id).run();
}

/** Moves the last send time back, to step past the resend cooldown without sleeping. */
export async function setLastSentAt(id: string, lastSentAt: number) {
  await env.DB.prepare('UPDATE invitations SET last_sent_at = ? WHERE id = ?').bind(lastSentAt, id).run();
}

export async function countRows(table: string, where = '1') {
  const row = await env.DB.prepare(`SELECT count(*) AS n FROM ${table} WHERE ${where}`).first<{ n: number }>();
  return row?.n ?? 0;
}

/**
 * One request through the worker with a different environment (faults, key rotation). Writes run
 * in the organization's coordinator, which has its own environment: the bindings and vars that
 * differ from the test's reach it too, for the length of each call to it.
 */
export async function fetchWithEnv(path: string, init: RequestInit, e: Env) {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(`${BASE}${path}`, init), withCoordinatorEnv(e), ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

function withCoordinatorEnv(e: Env): Env {
  // Not D1: a test that swaps the database records the Worker's own use of it.
  const changed = (Object.keys(e) as (keyof Env)[]).filter((k) => e[k] !== env[k] && k !== 'DB');
  // A test that brings its own coordinators keeps them.
  if (changed.length === 0 || e.ORG_COORDINATOR !== env.ORG_COORDINATOR) return e;
  return { ...e, ORG_COORDINATOR: coordinatorsWith(Object.fromEntries(changed.map((k) => [k, e[k]]))) };
}

/**
 * The real coordinators, with `overrides` in each one's environment for the length of every call
 * to it (then put back). `on.called` runs as a call starts; `on.returned` as its result arrives,
 * before anything the coordinator deferred (its hand-offs) could run with the overrides gone.
 */
export function coordinatorsWith(
  overrides: Partial<Record<keyof Env, unknown>>,
  on: { called?: () => void; returned?: () => void } = {},
): Env['ORG_COORDINATOR'] {
  const namespace = env.ORG_COORDINATOR;
  const keys = Object.keys(overrides);
  const ownEnv = (instance: unknown) => (instance as { env: Record<string, unknown> }).env;
  const stubFor = (stub: DurableObjectStub) =>
    new Proxy(stub, {
      get(target, prop) {
        if (prop === 'fetch' || typeof prop !== 'string') return Reflect.get(target, prop);
        return async (...args: unknown[]) => {
          on.called?.();
          const saved = await runInDurableObject(target, (instance) => {
            const before = Object.fromEntries(keys.map((k) => [k, ownEnv(instance)[k]]));
            Object.assign(ownEnv(instance), overrides);
            return before;
          });
          try {
            const result = await (target as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[prop](
              ...args,
            );
            on.returned?.();
            return result;
          } finally {
            await runInDurableObject(target, (instance) => void Object.assign(ownEnv(instance), saved));
          }
        };
      },
    });
  return {
    idFromName: (name: string) => namespace.idFromName(name),
    get: (id: DurableObjectId, options?: DurableObjectNamespaceGetDurableObjectOptions) =>
      stubFor(namespace.get(id, options)),
  } as unknown as Env['ORG_COORDINATOR'];
}

/**
 * An email quota with room for every send, counting nothing: for tests that drive a service
 * without its coordinator (the guarded SQL alone), where the email limits are not the point.
 */
export function roomyQuota(): import('../src/lib/write-context').EmailQuota {
  return { counters: [], orgHasRoom: async () => true, chargeOrg: async () => {}, charge: async () => null };
}
