import { SignJWT, decodeProtectedHeader, jwtVerify, errors as joseErrors } from 'jose';
import { sha256Hex } from '../lib/crypto';

/** Audiences keep an invitation token from ever being accepted as a sign-in token and vice versa. */
export const AUDIENCE = {
  invitation: '8bit-ai:invitation',
  signIn: '8bit-ai:sign-in',
} as const;
type Audience = (typeof AUDIENCE)[keyof typeof AUDIENCE];

const ISSUER = '8bit-ai-invitations';
const ALG = 'HS256';

interface SigningKey {
  kid: string;
  secret: Uint8Array;
}

type KeyEnv = Pick<Env, 'TOKEN_SIGNING_KEY'> & { TOKEN_SIGNING_KEYS_PREVIOUS?: string };

const keyCache = new Map<string, SigningKey>();

async function toKey(raw: string): Promise<SigningKey> {
  let key = keyCache.get(raw);
  if (!key) {
    // The kid names a key without revealing it: a short hash, stable across deploys.
    key = { kid: (await sha256Hex(`8bit-ai-kid:${raw}`)).slice(0, 16), secret: new TextEncoder().encode(raw) };
    keyCache.set(raw, key);
  }
  return key;
}

/** The current key signs; the current and previous keys verify (rotation without breaking sent links). */
async function keyring(env: KeyEnv): Promise<{ current: SigningKey; all: SigningKey[] }> {
  if (!env.TOKEN_SIGNING_KEY || env.TOKEN_SIGNING_KEY.length < 32) {
    throw new Error('TOKEN_SIGNING_KEY must be set to at least 32 characters');
  }
  const current = await toKey(env.TOKEN_SIGNING_KEY);
  const previous = (env.TOKEN_SIGNING_KEYS_PREVIOUS ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k.length > 0);
  return { current, all: [current, ...(await Promise.all(previous.map(toKey)))] };
}

export interface TokenClaims {
  /** The subject: an invitation id or a normalized email. */
  sub: string;
  jti: string;
  /** Organization id, for invitation tokens (routes the accept to the right Durable Object). */
  org?: string;
  /** Expiry as Unix milliseconds; stored in the JWT as whole seconds. */
  expiresAt: number;
}

/** Signs a link token for `audience`. */
export async function signToken(env: KeyEnv, audience: Audience, claims: TokenClaims, now: number): Promise<string> {
  const { current } = await keyring(env);
  const jwt = new SignJWT(claims.org ? { org: claims.org } : {})
    .setProtectedHeader({ alg: ALG, kid: current.kid, typ: 'JWT' })
    .setIssuer(ISSUER)
    .setAudience(audience)
    .setSubject(claims.sub)
    .setJti(claims.jti)
    .setIssuedAt(Math.floor(now / 1000))
    .setExpirationTime(Math.ceil(claims.expiresAt / 1000));
  return jwt.sign(current.secret);
}

/**
 * Verifies signature, kid, issuer, audience and expiry. Returns null for anything invalid —
 * callers never learn (or leak) why a token failed.
 */
export async function verifyToken(
  env: KeyEnv,
  audience: Audience,
  token: string,
  now: number,
): Promise<{ sub: string; jti: string; org?: string } | null> {
  if (typeof token !== 'string' || token.length === 0 || token.length > 4096) return null;
  try {
    const header = decodeProtectedHeader(token);
    const { all } = await keyring(env);
    const key = all.find((k) => k.kid === header.kid);
    if (!key || header.alg !== ALG) return null;
    const { payload } = await jwtVerify(token, key.secret, {
      algorithms: [ALG],
      issuer: ISSUER,
      audience,
      currentDate: new Date(now),
      requiredClaims: ['sub', 'jti', 'exp'],
    });
    if (typeof payload.sub !== 'string' || typeof payload.jti !== 'string') return null;
    const org = typeof payload.org === 'string' ? payload.org : undefined;
    return { sub: payload.sub, jti: payload.jti, org };
  } catch (err) {
    if (err instanceof joseErrors.JOSEError || err instanceof TypeError || err instanceof SyntaxError) return null;
    throw err;
  }
}
