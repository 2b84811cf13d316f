import { isLocalAppUrl } from '../lib/deployment';
import { nonPublicAddress } from '../lib/ip-ranges';

/** A host name as DNS compares it: lower case, without the trailing dot of a fully qualified name. */
const canonicalHost = (hostname: string) => hostname.toLowerCase().replace(/\.+$/, '');

/**
 * The webhook URL rule (SPEC §11, §18): why `raw` may not receive this deployment's webhooks, or
 * null. Checked when an endpoint is saved and again before every delivery (src/webhooks/sender.ts),
 * so a URL saved before a rule tightened is refused at send.
 *
 * https; http only to localhost or 127.0.0.1 while APP_URL is http (local development, where a
 * receiver on this machine is the point); no credentials; at most 2048 characters. Outside local
 * development, also not `localhost`, not an IP literal outside public unicast (an IPv6 literal that
 * carries an IPv4 address is judged by that address: src/lib/ip-ranges.ts), and not this service
 * itself, however its host is spelled: deliveries must not become requests to internal addresses.
 * A host *name* that resolves to such an address cannot be seen from a Worker (README, Webhooks).
 */
export function webhookUrlProblem(appUrl: string, raw: string): string | null {
  if (raw.length > 2048) return 'The URL is longer than 2048 characters.';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'The URL is not a valid absolute URL.';
  }
  if (url.username || url.password) return 'The URL must not contain credentials.';
  const local = isLocalAppUrl(appUrl);
  if (url.protocol === 'https:') {
    if (local) return null;
    const host = canonicalHost(url.hostname);
    if (host === 'localhost' || host.endsWith('.localhost'))
      return 'The URL must point to a public host, not localhost.';
    const address = nonPublicAddress(host);
    if (address) return `The URL must point to a public host: ${address}.`;
    if (host === canonicalHost(new URL(appUrl).hostname)) return 'The URL must not point to this service itself.';
    return null;
  }
  const localTarget = url.protocol === 'http:' && ['localhost', '127.0.0.1'].includes(url.hostname);
  if (localTarget && local) return null;
  return localTarget
    ? 'http:// URLs are allowed only in local development; use https://.'
    : 'The URL must use https://.';
}
