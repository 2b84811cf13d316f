/*
 * Standard Webhooks signatures (the scheme Svix uses): `v1,` + base64 HMAC-SHA256 over
 * `{id}.{timestamp}.{body}`, keyed with the base64-decoded bytes after `whsec_`.
 */

const encoder = new TextEncoder();

function base64ToBytes(b64: string): Uint8Array | null {
  try {
    const bin = atob(b64);
    return Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
  } catch {
    return null;
  }
}

const bytesToBase64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));

async function hmacKey(secret: string): Promise<CryptoKey | null> {
  const raw = base64ToBytes(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret);
  if (!raw || raw.length === 0) return null;
  return crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
}

/** The `v1,<base64>` signature of one message. */
export async function signStandardWebhook(
  secret: string,
  id: string,
  timestamp: number,
  body: string,
): Promise<string> {
  const key = await hmacKey(secret);
  if (!key) throw new Error('The webhook secret is not whsec_ + base64.');
  const mac = await crypto.subtle.sign('HMAC', key, encoder.encode(`${id}.${timestamp}.${body}`));
  return `v1,${bytesToBase64(new Uint8Array(mac))}`;
}

/** Seconds a signed timestamp may be away from now (either way): older deliveries are replays. */
export const REPLAY_WINDOW_SECONDS = 5 * 60;

/**
 * True when one of the space-separated `v1,` signatures is valid for this secret, and the
 * timestamp is within the replay window. HMAC verification by WebCrypto is constant-time.
 */
export async function verifyStandardWebhook(
  secret: string,
  headers: {
    id: string | null | undefined;
    timestamp: string | null | undefined;
    signature: string | null | undefined;
  },
  body: string,
  nowMs: number,
): Promise<boolean> {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature || !/^\d{1,12}$/.test(timestamp) || id.length > 256) return false;
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > REPLAY_WINDOW_SECONDS) return false;
  const key = await hmacKey(secret);
  if (!key) return false;
  const data = encoder.encode(`${id}.${timestamp}.${body}`);
  for (const part of signature.split(' ').slice(0, 10)) {
    const [version, sig] = part.split(',', 2);
    const mac = version === 'v1' && sig ? base64ToBytes(sig) : null;
    if (mac && mac.length === 32 && (await crypto.subtle.verify('HMAC', key, mac, data))) return true;
  }
  return false;
}

/** Constant-time equality of two strings (compares their SHA-256 digests). */
export async function timingSafeEqualText(a: string, b: string): Promise<boolean> {
  const [da, db] = await Promise.all([
    crypto.subtle.digest('SHA-256', encoder.encode(a)),
    crypto.subtle.digest('SHA-256', encoder.encode(b)),
  ]);
  return crypto.subtle.timingSafeEqual(da, db);
}
