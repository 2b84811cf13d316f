/*
 * A local stand-in for the Resend and Postmark sending APIs, speaking their documented request and
 * response formats, for contract tests. The transports are pointed at it through
 * EMAIL_API_BASE_URL and do not know it is not the real service.
 *
 * Behaviour by recipient (the part before @):
 *   reject… → the provider's 422 (invalid / inactive recipient)   limited… → 429
 *   down…   → 500                                                   hang…    → never answers
 *   flaky…  → 500 on the first attempt for that address, then success
 *   echo…   → 422 whose message quotes the API key it was sent (as a careless provider might)
 * Anything else succeeds. `GET /__requests` lists what was received; `DELETE /__requests` clears.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenOnLoopback, readBody } from './http';
import { randomUUID } from 'node:crypto';

export const RESEND_TEST_KEY = 're_test_0123456789';
export const POSTMARK_TEST_TOKEN = 'pm-test-0000-1111-2222';

export interface RecordedRequest {
  provider: 'resend' | 'postmark' | 'unknown';
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: any;
  answered: number | null;
}

const send = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
};

export function startEmailApiStandIn(): Promise<{ server: Server; origin: string }> {
  const requests: RecordedRequest[] = [];
  const seenFlaky = new Set<string>();
  const idempotency = new Map<string, { body: string; id: string }>();

  const behaviour = (to: string): 'ok' | 'reject' | 'limited' | 'down' | 'hang' | 'echo' => {
    const local = to.split('@')[0].toLowerCase();
    for (const kind of ['reject', 'limited', 'down', 'hang', 'echo'] as const) if (local.startsWith(kind)) return kind;
    if (local.startsWith('flaky') && !seenFlaky.has(to)) return (seenFlaky.add(to), 'down');
    return 'ok';
  };

  const resend = (req: IncomingMessage, res: ServerResponse, raw: string, rec: RecordedRequest) => {
    const answer = (status: number, body: unknown) => ((rec.answered = status), send(res, status, body));
    if (!req.headers['user-agent'])
      return answer(403, { statusCode: 403, name: 'missing_user_agent', message: 'A User-Agent header is required.' });
    const auth = req.headers.authorization;
    if (!auth)
      return answer(401, {
        statusCode: 401,
        name: 'missing_api_key',
        message: 'Missing API key in the authorization header.',
      });
    if (auth !== `Bearer ${RESEND_TEST_KEY}`)
      return answer(403, { statusCode: 403, name: 'invalid_api_key', message: 'API key is invalid.' });
    if (!String(req.headers['content-type']).startsWith('application/json'))
      return answer(422, { statusCode: 422, name: 'validation_error', message: 'Invalid content type.' });
    const b = rec.body;
    const fieldsOk =
      b &&
      typeof b.from === 'string' &&
      Array.isArray(b.to) &&
      b.to.length >= 1 &&
      b.to.length <= 50 &&
      b.to.every((t: unknown) => typeof t === 'string') &&
      typeof b.subject === 'string' &&
      (typeof b.html === 'string' || typeof b.text === 'string') &&
      (b.headers === undefined || (typeof b.headers === 'object' && !Array.isArray(b.headers)));
    if (!fieldsOk)
      return answer(422, {
        statusCode: 422,
        name: 'validation_error',
        message: 'Missing or invalid `from`, `to`, `subject`, `html` or `text` field.',
      });
    const key = req.headers['idempotency-key'];
    if (typeof key === 'string') {
      const seen = idempotency.get(key);
      if (seen && seen.body !== raw)
        return answer(409, {
          statusCode: 409,
          name: 'invalid_idempotent_request',
          message: 'Same idempotency key used with a different request payload.',
        });
      if (seen) return answer(200, { id: seen.id });
    }
    switch (behaviour(b.to[0])) {
      case 'reject':
        return answer(422, {
          statusCode: 422,
          name: 'validation_error',
          message: `Invalid \`to\` field. The email address needs to follow the \`email@example.com\` format.`,
        });
      case 'limited':
        return answer(429, {
          statusCode: 429,
          name: 'rate_limit_exceeded',
          message: 'Too many requests. You can only make 2 requests per second.',
        });
      case 'down':
        return answer(500, {
          statusCode: 500,
          name: 'internal_server_error',
          message: 'An unexpected error occurred.',
        });
      case 'hang':
        return void (rec.answered = null);
      case 'echo':
        return answer(422, {
          statusCode: 422,
          name: 'validation_error',
          message: `The key ${auth.slice('Bearer '.length)} may not send to ${b.to[0]}.`,
        });
    }
    const id = randomUUID();
    if (typeof key === 'string') idempotency.set(key, { body: raw, id });
    return answer(200, { id });
  };

  const postmark = (req: IncomingMessage, res: ServerResponse, rec: RecordedRequest) => {
    const answer = (status: number, body: unknown) => ((rec.answered = status), send(res, status, body));
    if (req.headers['x-postmark-server-token'] !== POSTMARK_TEST_TOKEN) {
      return answer(401, {
        ErrorCode: 10,
        Message: 'No Account or Server API tokens were supplied in the HTTP headers.',
      });
    }
    if (
      !String(req.headers['content-type']).startsWith('application/json') ||
      !String(req.headers.accept).includes('application/json')
    ) {
      return answer(415, { ErrorCode: 0, Message: 'Accept and Content-Type must be application/json.' });
    }
    const b = rec.body;
    const fieldsOk =
      b &&
      typeof b.From === 'string' &&
      typeof b.To === 'string' &&
      typeof b.Subject === 'string' &&
      (typeof b.HtmlBody === 'string' || typeof b.TextBody === 'string') &&
      (b.MessageStream === undefined || typeof b.MessageStream === 'string') &&
      (b.Headers === undefined ||
        (Array.isArray(b.Headers) &&
          b.Headers.every((h: any) => typeof h?.Name === 'string' && typeof h?.Value === 'string')));
    if (!fieldsOk) return answer(422, { ErrorCode: 300, Message: 'Invalid email request.' });
    switch (behaviour(b.To)) {
      case 'reject':
        return answer(422, {
          ErrorCode: 406,
          Message: 'You tried to send to recipient(s) that have been marked as inactive.',
        });
      case 'limited':
        return answer(429, { ErrorCode: 429, Message: 'Rate limit exceeded.' });
      case 'down':
        return answer(500, { ErrorCode: 500, Message: 'Internal server error.' });
      case 'hang':
        return void (rec.answered = null);
      case 'echo':
        return answer(422, {
          ErrorCode: 412,
          Message: `Server token ${req.headers['x-postmark-server-token']} may not send to ${b.To}.`,
        });
    }
    return answer(200, {
      To: b.To,
      SubmittedAt: new Date().toISOString(),
      MessageID: randomUUID(),
      ErrorCode: 0,
      Message: 'OK',
    });
  };

  const server = createServer(async (req, res) => {
    const raw = await readBody(req);
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/__requests') {
      if (req.method === 'DELETE') requests.length = 0;
      return send(res, 200, requests);
    }
    let body: any;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      body = undefined;
    }
    const provider =
      req.method === 'POST' && path === '/emails'
        ? 'resend'
        : req.method === 'POST' && path === '/email'
          ? 'postmark'
          : 'unknown';
    const rec: RecordedRequest = {
      provider,
      method: req.method ?? '',
      path,
      headers: req.headers,
      body,
      answered: null,
    };
    requests.push(rec);
    if (provider === 'resend') return resend(req, res, raw, rec);
    if (provider === 'postmark') return postmark(req, res, rec);
    rec.answered = 404;
    return send(res, 404, { statusCode: 404, message: 'Not found' });
  });
  return listenOnLoopback(server);
}
