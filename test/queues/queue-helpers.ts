import { env, exports } from 'cloudflare:workers';

/** What the `queues` project's tests share: a request to the Worker, a bounded wait, the stand-in's log. */
const BASE = 'http://127.0.0.1:8787';

export const post = (path: string, body: unknown, token?: string) =>
  exports.default.fetch(
    new Request(`${BASE}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    }),
  );

/** Polls (bounded) until `probe` returns a value: the queue delivers on its own schedule. */
export async function eventually<T>(probe: () => Promise<T | undefined | null>, what: string, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** What the email API stand-in received for `to`. */
export const requestsTo = async (to: string) =>
  (
    (await (await fetch(`${env.TEST_EMAIL_API}/__requests`)).json()) as {
      body: { to?: string[]; text?: string };
      answered: number | null;
    }[]
  ).filter((r) => r.body?.to?.includes(to));
