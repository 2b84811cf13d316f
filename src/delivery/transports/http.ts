import { redact } from '../../lib/redact';
import type { SendResult } from './types';

/** SPEC §10: one attempt gives up after 10 seconds (and is then retryable). */
export const SEND_TIMEOUT_MS = 10_000;
export const USER_AGENT = '8bit-ai-invitations/1.0 (+https://8bit-ai.dev)';

/**
 * POSTs JSON to a provider and classifies the answer: 2xx sent (the caller reads the id), 429 and
 * 5xx retryable, any other 4xx permanent; a network error or timeout is retryable. Redirects are
 * not followed. The reason keeps at most a short, redacted piece of the provider's answer.
 */
export async function postJson(
  provider: string,
  url: string,
  headers: Record<string, string>,
  body: unknown,
  timeoutMs: number,
  readId: (json: Record<string, unknown>) => unknown,
): Promise<SendResult> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'User-Agent': USER_AGENT, ...headers },
      body: JSON.stringify(body),
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
    return { status: 'retryable', reason: timedOut ? `${provider}: no answer within ${timeoutMs / 1000} s` : `${provider}: network error` };
  }
  const text = (await res.text().catch(() => '')).slice(0, 4096);
  let json: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object') json = parsed as Record<string, unknown>;
  } catch {
    // not JSON: the status decides
  }
  const said = typeof json.message === 'string' ? json.message : typeof json.Message === 'string' ? json.Message : '';
  const reason = redact(`${provider} ${res.status}${said ? `: ${said}` : ''}`, 200);
  if (res.status >= 200 && res.status < 300) {
    const id = readId(json);
    return { status: 'sent', providerMessageId: typeof id === 'string' && id ? id.slice(0, 200) : null };
  }
  if (res.status === 429 || res.status >= 500) return { status: 'retryable', reason };
  return { status: 'permanent', reason };
}
