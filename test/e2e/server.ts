import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { newestLink } from '../../scripts/mailbox.mjs';

/** The worker under test: `wrangler dev` on its own port and a fresh local database. */
export const PORT = Number(process.env.E2E_PORT ?? 8788);
export const ORIGIN = `http://127.0.0.1:${PORT}`;
export const STATE_DIR = '.wrangler/e2e-state';

/**
 * The server's secrets, from its own env file: a current signing key, and as the previous key of a
 * rotation the development key of .dev.vars.example, so the browser tests also prove that
 * `TOKEN_SIGNING_KEYS_PREVIOUS` reaches the Worker under `wrangler dev` (SPEC §14).
 */
export const E2E_SIGNING_KEY = 'e2e-current-signing-key-0123456789abcdefghij';
export const E2E_PREVIOUS_KEY = /^TOKEN_SIGNING_KEY="([^"]+)"/m.exec(readFileSync('.dev.vars.example', 'utf8'))![1];
const ENV_FILE = '.wrangler/e2e.vars';

const wrangler = (args: string[], opts: { stdio?: 'inherit' | 'pipe' } = {}) =>
  spawnSync('wrangler', args, {
    stdio: opts.stdio ?? 'inherit',
    env: { ...process.env, CI: 'true', WRANGLER_SEND_METRICS: 'false' },
  });

export async function startServer(): Promise<ChildProcess> {
  rmSync(STATE_DIR, { recursive: true, force: true });
  mkdirSync('.wrangler', { recursive: true });
  writeFileSync(
    ENV_FILE,
    `TOKEN_SIGNING_KEY="${E2E_SIGNING_KEY}"\nTOKEN_SIGNING_KEYS_PREVIOUS="${E2E_PREVIOUS_KEY}"\n`,
  );
  const migrated = wrangler(['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', STATE_DIR]);
  if (migrated.status !== 0) throw new Error('migrations failed');
  const child = spawn(
    'wrangler',
    [
      'dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(PORT),
      '--persist-to',
      STATE_DIR,
      '--env-file',
      ENV_FILE,
      '--var',
      `APP_URL:${ORIGIN}`,
      // Every browser here is 127.0.0.1 (wrangler dev sets CF-Connecting-IP), so the per-IP limits
      // (5 sign-in links a minute) would meet a whole suite; the limits themselves are tested in workerd.
      '--var',
      'RATE_LIMIT_SCALE:10',
      '--show-interactive-dev-session=false',
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CI: 'true', WRANGLER_SEND_METRICS: 'false' },
      detached: true,
    },
  );
  let log = '';
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${ORIGIN}/healthz`)).ok) return child;
    } catch {
      // not up yet
    }
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  child.kill('SIGTERM');
  throw new Error(`wrangler dev did not start:\n${log}`);
}

export function stopServer(child: ChildProcess) {
  try {
    process.kill(-child.pid!, 'SIGTERM');
  } catch {
    child.kill('SIGTERM');
  }
}

/** Runs SQL against the server's local D1 (used to move time, never to sleep). */
export function sql(command: string) {
  const res = wrangler(['d1', 'execute', 'DB', '--local', '--persist-to', STATE_DIR, '--command', command], {
    stdio: 'pipe',
  });
  if (res.status !== 0) throw new Error(`d1 execute failed: ${res.stderr}`);
}

/** The newest link of `kind` emailed to `to` (the local send_email binding writes .eml files). */
export async function emailedLink(
  to: string,
  kind: 'invitations/accept' | 'auth/verify',
  notBefore = 0,
  except?: string | null,
): Promise<string> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const link = newestLink(to, { path: kind, notBefore });
    if (link && link !== except) return link;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no ${kind} email to ${to}`);
}
