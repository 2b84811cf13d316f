/*
 * A local webhook receiver for the delivery tests: it records every request (headers and the raw
 * body, as a Standard Webhooks library needs them) and answers by path, `/hooks/<mode>/<name>`:
 *   ok → 200            fail-once → 500 on the first request for that name, then 200
 *   always-500 → 500    redirect → 302 to /hooks/ok/<name>-redirected     hang → never answers
 *   big → 200 with a 6,000-byte body of two-byte characters
 * `GET /__hooks?name=<name>` lists what `<name>` received, oldest first.
 */
import { createServer, type Server } from 'node:http';
import { listenOnLoopback, readBody } from './http';

export interface ReceivedHook {
  mode: string;
  name: string;
  headers: Record<string, string>;
  body: string;
  answered: number | null;
}

export function startWebhookReceiver(): Promise<{ server: Server; origin: string }> {
  const received: ReceivedHook[] = [];
  const seen = new Set<string>();
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://receiver');
    if (url.pathname === '/__hooks') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return res.end(JSON.stringify(received.filter((r) => r.name === url.searchParams.get('name'))));
    }
    const [, prefix, mode, name] = url.pathname.split('/');
    if (prefix !== 'hooks' || !mode || !name) {
      res.writeHead(404);
      return res.end();
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
    const hook: ReceivedHook = { mode, name, headers, body, answered: null };
    received.push(hook);
    const answer = (status: number, text = '', extra: Record<string, string> = {}) => {
      hook.answered = status;
      res.writeHead(status, { 'Content-Type': 'text/plain', ...extra });
      res.end(text);
    };
    if (mode === 'hang') return;
    if (mode === 'always-500') return answer(500, 'receiver is down');
    if (mode === 'fail-once') {
      if (!seen.has(name)) {
        seen.add(name);
        return answer(500, 'first try fails');
      }
      return answer(200, 'ok');
    }
    if (mode === 'redirect') return answer(302, '', { Location: `/hooks/ok/${name}-redirected` });
    // 6,000 bytes of two-byte characters: the kept part must be cut by bytes, on a character boundary.
    if (mode === 'big') return answer(200, 'é'.repeat(3000));
    return answer(200, 'ok');
  });
  return listenOnLoopback(server);
}
