/**
 * Deployment guards (SPEC §14): a Worker deployed with development settings refuses to serve
 * rather than email links to 127.0.0.1 or sign tokens with a key anyone can read.
 */

/** The signing key published in `.dev.vars.example`; never valid outside local development. */
export const DEV_SIGNING_KEY = 'local-dev-signing-key-not-for-production-0123456789';

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Local development: `APP_URL` is plain http on 127.0.0.1 or localhost (any port). */
export function isLocalAppUrl(appUrl: string | undefined): boolean {
  try {
    const url = new URL(appUrl ?? '');
    return url.protocol === 'http:' && LOCAL_HOSTS.has(url.hostname);
  } catch {
    return false;
  }
}

/**
 * Why this deployment must not serve, or null. `requestUrl` catches the default APP_URL deployed
 * as is: it claims local development while requests arrive at a public host.
 */
export function deploymentProblem(
  env: Pick<Env, 'APP_URL' | 'TOKEN_SIGNING_KEY' | 'TOKEN_SIGNING_KEYS_PREVIOUS'>,
  requestUrl?: string,
): string | null {
  return appUrlProblem(env, requestUrl) ?? signingKeyProblem(env);
}

/** APP_URL's half of the guard: local development, or an https origin. */
export function appUrlProblem(env: Pick<Env, 'APP_URL'>, requestUrl?: string): string | null {
  if (isLocalAppUrl(env.APP_URL)) {
    const host = requestUrl ? new URL(requestUrl).hostname : '127.0.0.1';
    if (LOCAL_HOSTS.has(host)) return null;
    return `APP_URL is ${env.APP_URL}, a local development address, but this request came to ${host}. Set APP_URL to this deployment's https:// origin.`;
  }
  if (!/^https:\/\/[^/]/.test(env.APP_URL ?? '')) return 'APP_URL must be an https:// URL outside local development.';
  return null;
}

/**
 * The signing keys' half: outside local development, 32 bytes or more and never the published
 * development key, previous keys included (they still verify links).
 */
export function signingKeyProblem(
  env: Pick<Env, 'APP_URL' | 'TOKEN_SIGNING_KEY' | 'TOKEN_SIGNING_KEYS_PREVIOUS'>,
): string | null {
  if (isLocalAppUrl(env.APP_URL)) return null;
  const fix = 'Set a random one: openssl rand -base64 48 | wrangler secret put TOKEN_SIGNING_KEY';
  // Trimmed as the previous keys are: the development key with a stray space or newline (a paste,
  // `echo` into `wrangler secret put`) is still the published key.
  const key = (env.TOKEN_SIGNING_KEY ?? '').trim();
  if (key === DEV_SIGNING_KEY) return `TOKEN_SIGNING_KEY is the development key published in .dev.vars.example. ${fix}`;
  if (new TextEncoder().encode(key).length < 32) return `TOKEN_SIGNING_KEY is shorter than 32 bytes. ${fix}`;
  const previous = (env.TOKEN_SIGNING_KEYS_PREVIOUS ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  if (previous.some((k) => k === DEV_SIGNING_KEY || new TextEncoder().encode(k).length < 32)) {
    return 'TOKEN_SIGNING_KEYS_PREVIOUS holds the published development key or a key shorter than 32 bytes. Remove it: wrangler secret put TOKEN_SIGNING_KEYS_PREVIOUS';
  }
  return null;
}

const logged = new Set<string>();

/** Logs each deployment problem once per isolate (every request would repeat it). */
export function logDeploymentProblemOnce(problem: string) {
  if (logged.has(problem)) return;
  logged.add(problem);
  console.error(JSON.stringify({ event: 'deployment_misconfigured', problem }));
}
