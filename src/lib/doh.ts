/*
 * A DNS-over-HTTPS client for TXT records, in the JSON format Cloudflare's and Google's resolvers
 * share (https://developers.cloudflare.com/1.1.1.1/encryption/dns-over-https/make-api-requests/dns-json/):
 * `GET <DOH_URL>?name=<name>&type=TXT` with `Accept: application/dns-json`, answered with
 * `{Status, Question, Answer: [{name, type: 16, TTL, data}]}`. A TXT record's `data` is its
 * character-strings, each quoted (`"v=spf1 -all"`, or `"part one" "part two"` for a long value):
 * the value is their concatenation (RFC 7208 §3.3 reads TXT values the same way).
 */

/** Where verification records are looked up when `DOH_URL` is empty. */
export const DEFAULT_DOH_URL = 'https://cloudflare-dns.com/dns-query';
/** How long a lookup may take before it counts as failed. */
export const DOH_TIMEOUT_MS = 5_000;
/** A resolver's answer larger than this is not read (a TXT answer is a few KiB at most). */
const MAX_ANSWER_BYTES = 256 * 1024;

const TXT = 16;
/** DNS response codes (RFC 1035 §4.1.1, RFC 6895): NOERROR and NXDOMAIN are answers; the rest failures. */
const RCODES: Record<number, string> = { 1: 'FORMERR', 2: 'SERVFAIL', 4: 'NOTIMP', 5: 'REFUSED' };

/** The TXT values at a name (none: `[]`), or why the resolver gave no usable answer. */
export type TxtLookup = { ok: true; values: string[] } | { ok: false; problem: string };

/**
 * One TXT record's value from its `data`: the quoted character-strings unquoted (`\"`, `\\` and
 * `\DDD` escapes decoded) and joined. Data that is not quoted (some resolvers give the text as is)
 * is taken as it is.
 */
export function txtValue(data: string): string {
  const text = data.trim();
  if (!text.startsWith('"')) return text;
  let out = '';
  let i = 0;
  while (i < text.length) {
    if (text[i] !== '"') {
      i++; // whitespace between the strings
      continue;
    }
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\' && i + 1 < text.length) {
        const digits = /^\d{3}/.exec(text.slice(i + 1, i + 4));
        if (digits) {
          out += String.fromCharCode(Number(digits[0]) & 0xff);
          i += 4;
        } else {
          out += text[i + 1];
          i += 2;
        }
      } else {
        out += text[i++];
      }
    }
    i++; // the closing quote
  }
  return out;
}

/** The TXT values of a resolver's JSON answer for `name`, or what is wrong with it. */
export function readTxtAnswer(body: unknown): TxtLookup {
  if (typeof body !== 'object' || body === null || typeof (body as { Status?: unknown }).Status !== 'number') {
    return { ok: false, problem: 'the resolver did not answer in the DNS JSON format' };
  }
  const { Status: status, Answer: answer } = body as { Status: number; Answer?: unknown };
  // NXDOMAIN: no such name, so no record.
  if (status === 3) return { ok: true, values: [] };
  if (status !== 0) return { ok: false, problem: `the resolver answered ${RCODES[status] ?? `DNS error ${status}`}` };
  if (answer === undefined) return { ok: true, values: [] };
  if (!Array.isArray(answer)) return { ok: false, problem: 'the resolver did not answer in the DNS JSON format' };
  // A CNAME chain answers with the CNAME records too, and the TXT records under the target's name:
  // the values are those of the type-16 records.
  const values = answer
    .filter((r) => r && r.type === TXT && typeof r.data === 'string')
    .map((r) => txtValue(r.data as string));
  return { ok: true, values };
}

/**
 * Looks up the TXT records at `name` through the resolver at `dohUrl`. Never throws: a resolver that
 * cannot be reached, is too slow (`timeoutMs`), answers an HTTP error or something that is not DNS
 * JSON gives `{ok: false, problem}`.
 */
export async function lookupTxt(
  dohUrl: string,
  name: string,
  opts: { timeoutMs?: number; fetcher?: typeof fetch } = {},
): Promise<TxtLookup> {
  let url: URL;
  try {
    url = new URL(dohUrl || DEFAULT_DOH_URL);
  } catch {
    return { ok: false, problem: 'the resolver address (DOH_URL) is not a URL' };
  }
  url.searchParams.set('name', name);
  url.searchParams.set('type', 'TXT');
  const timeoutMs = opts.timeoutMs ?? DOH_TIMEOUT_MS;
  try {
    const res = await (opts.fetcher ?? fetch)(url.toString(), {
      headers: { accept: 'application/dns-json' },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) {
      await res.body?.cancel();
      return { ok: false, problem: `the resolver answered HTTP ${res.status}` };
    }
    const length = Number(res.headers.get('content-length') ?? 0);
    if (length > MAX_ANSWER_BYTES) {
      await res.body?.cancel();
      return { ok: false, problem: 'the resolver answered more than a DNS answer holds' };
    }
    const text = await res.text();
    if (text.length > MAX_ANSWER_BYTES)
      return { ok: false, problem: 'the resolver answered more than a DNS answer holds' };
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return { ok: false, problem: 'the resolver did not answer in the DNS JSON format' };
    }
    return readTxtAnswer(body);
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
    return {
      ok: false,
      problem: timedOut
        ? `the resolver did not answer within ${timeoutMs / 1000} s`
        : 'the resolver could not be reached',
    };
  }
}
