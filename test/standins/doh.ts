/*
 * A local stand-in for a DNS-over-HTTPS resolver's JSON API (Cloudflare's and Google's format:
 * https://developers.cloudflare.com/1.1.1.1/encryption/dns-over-https/make-api-requests/dns-json/).
 * The Worker is pointed at it through DOH_URL and does not know it is not the real resolver.
 *
 * `GET /dns-query?name=<name>&type=TXT` with `Accept: application/dns-json` answers
 * `{Status, TC, RD, RA, AD, CD, Question: [{name: "<name>.", type: 16}], Answer?: [{name, type: 16,
 * TTL, data}]}`, each record's `data` its character-strings quoted as the resolver gives them
 * (`"\"part one\" \"part two\""`). Without that Accept, or for another type, 400 as the real one.
 *
 * Tests say what exists, by name (case-insensitive):
 *   PUT /__records {name, records: string[][]}: the TXT records at `name` (each its chunks)
 *   PUT /__records {name, mode}: `servfail` (Status 2), `http500`, `garbage` (200, not JSON),
 *     `hang` (never answers), `cname` (a CNAME to `target.<name>` whose TXT records are `records`)
 * Any other name: NXDOMAIN (Status 3). `GET /__queries?name=` lists the queries made for `name`.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import { listenOnLoopback, readBody } from './http';

type Mode = 'records' | 'servfail' | 'http500' | 'garbage' | 'hang' | 'cname';
interface Zone {
  mode: Mode;
  records: string[][];
}

/** A TXT record's `data` as a resolver presents it: each chunk quoted, `"` and `\` escaped. */
export const quoted = (chunks: string[]) =>
  chunks.map((c) => `"${c.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`).join(' ');

const key = (name: string) => name.toLowerCase().replace(/\.$/, '');

export function startDohStandIn(): Promise<{ server: Server; origin: string }> {
  const zones = new Map<string, Zone>();
  const queries: { name: string; type: string; accept: string | undefined }[] = [];
  const json = (res: ServerResponse, status: number, body: unknown, type = 'application/dns-json') => {
    res.writeHead(status, { 'Content-Type': type });
    res.end(JSON.stringify(body));
  };
  const server = createServer(async (req, res) => {
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://doh');
    if (url.pathname === '/__records' && req.method === 'PUT') {
      const { name, records = [], mode = 'records' } = JSON.parse(raw) as { name: string } & Partial<Zone>;
      zones.set(key(name), { mode, records });
      return json(res, 200, { ok: true }, 'application/json');
    }
    if (url.pathname === '/__queries') {
      const name = key(url.searchParams.get('name') ?? '');
      return json(
        res,
        200,
        queries.filter((q) => key(q.name) === name),
        'application/json',
      );
    }
    if (url.pathname !== '/dns-query' || req.method !== 'GET') return json(res, 404, { error: 'not found' });
    const name = url.searchParams.get('name') ?? '';
    const type = url.searchParams.get('type') ?? 'A';
    const accept = req.headers.accept;
    queries.push({ name, type, accept });
    if (!name || !String(accept).includes('application/dns-json') || !['TXT', '16'].includes(type.toUpperCase())) {
      return json(res, 400, { error: 'Invalid DNS request' }, 'application/json');
    }
    const zone = zones.get(key(name));
    const question = [{ name: `${key(name)}.`, type: 16 }];
    const flags = { TC: false, RD: true, RA: true, AD: false, CD: false };
    if (!zone) return json(res, 200, { Status: 3, ...flags, Question: question });
    switch (zone.mode) {
      case 'hang':
        return;
      case 'http500':
        return json(res, 500, { error: 'internal error' }, 'application/json');
      case 'garbage':
        res.writeHead(200, { 'Content-Type': 'text/html' });
        return res.end('<html>captive portal</html>');
      case 'servfail':
        return json(res, 200, { Status: 2, ...flags, Question: question });
    }
    const owner = zone.mode === 'cname' ? `target.${key(name)}.` : `${key(name)}.`;
    const answer = [
      ...(zone.mode === 'cname' ? [{ name: `${key(name)}.`, type: 5, TTL: 300, data: owner }] : []),
      ...zone.records.map((chunks) => ({ name: owner, type: 16, TTL: 300, data: quoted(chunks) })),
    ];
    return json(res, 200, { Status: 0, ...flags, Question: question, ...(answer.length ? { Answer: answer } : {}) });
  });
  return listenOnLoopback(server);
}
