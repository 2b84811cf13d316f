import { env } from 'cloudflare:workers';
import { fetchWithEnv } from './helpers';

/** A DELIVERY_QUEUE (or DLQ) that records message bodies instead of queueing them. */
export function recordingQueue() {
  const bodies: unknown[] = [];
  const queue = {
    send: async (body: unknown) => void bodies.push(body),
    sendBatch: async (messages: Iterable<{ body: unknown }>) => void bodies.push(...[...messages].map((m) => m.body)),
  } as unknown as Queue;
  return { queue, bodies };
}

/** A DELIVERY_QUEUE whose every send fails, as when the isolate dies between commit and enqueue. */
export const brokenQueue = {
  send: async () => {
    throw new Error('queue unavailable');
  },
  sendBatch: async () => {
    throw new Error('queue unavailable');
  },
} as unknown as Queue;

/** The real EMAIL binding, except that sends to `failing` addresses throw `message`. */
export function failingEmail(
  failing: (to: string) => boolean,
  message = 'send_email: upstream unavailable',
): SendEmail {
  return {
    send: async (m: EmailMessage) => {
      if (failing(m.to)) throw new Error(message);
      return env.EMAIL.send(m);
    },
  } as unknown as SendEmail;
}

/** The real D1 binding, except that any statement bound with `poison` throws. */
export function poisonedDb(poison: string): D1Database {
  const wrapStatement = (stmt: D1PreparedStatement): D1PreparedStatement =>
    new Proxy(stmt, {
      get(target, prop) {
        if (prop === 'bind') {
          return (...params: unknown[]) => {
            if (params.includes(poison)) throw new Error('D1_ERROR: injected failure');
            return wrapStatement(target.bind(...params));
          };
        }
        const value = Reflect.get(target, prop);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  // The database and each of its sessions (a request's queries run in one).
  const wrap = <T extends D1Database | D1DatabaseSession>(db: T): T =>
    new Proxy(db, {
      get(target, prop) {
        if (prop === 'prepare') return (query: string) => wrapStatement(target.prepare(query));
        if (prop === 'withSession')
          return (...args: Parameters<D1Database['withSession']>) => wrap((target as D1Database).withSession(...args));
        const value = Reflect.get(target, prop);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  return wrap(env.DB);
}

export const outboxRow = (id: string) =>
  env.DB.prepare('SELECT * FROM outbox WHERE id = ?').bind(id).first<{
    status: string;
    attempts: number;
    next_attempt_at: number;
    last_error: string | null;
    provider_message_id: string | null;
    dead_lettered_at: number | null;
  }>();

export const outboxFor = (subjectId: string) =>
  env.DB.prepare('SELECT * FROM outbox WHERE subject_id = ? ORDER BY created_at, rowid')
    .bind(subjectId)
    .all<{ id: string; status: string; token_id: string }>()
    .then((r) => r.results);

/** Moves an outbox row's due time (the database is the clock). */
export const setDue = (id: string, at: number) =>
  env.DB.prepare('UPDATE outbox SET next_attempt_at = ? WHERE id = ?').bind(at, id).run();

export const invitationDelivery = (id: string) =>
  env.DB.prepare('SELECT email_delivery, email_delivery_detail, delivery_attempts FROM invitations WHERE id = ?')
    .bind(id)
    .first<{ email_delivery: string; email_delivery_detail: string | null; delivery_attempts: number }>();

/** Creates an invitation through the worker with `overrides` (no drain): the row is committed, not yet delivered. */
export async function createWith(token: string, org: string, email: string, overrides: Partial<Env>, role = 'viewer') {
  const res = await fetchWithEnv(
    `/v1/organizations/${org}/invitations`,
    {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ email, role }),
    },
    { ...env, ...overrides },
  );
  return { status: res.status, json: (await res.json()) as { id: string; email_delivery: string } };
}

/** A DELIVERY_QUEUE that accepts and forgets: the test delivers the outbox rows itself. */
export const silentQueue = { send: async () => undefined, sendBatch: async () => undefined } as unknown as Queue;
