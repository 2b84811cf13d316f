// How the operator scripts (deploy, db:backup, db:restore) reach Cloudflare: the pinned wrangler,
// run with the same Node as the script (no shell, no .bin shim), and Cloudflare's REST API (same
// token, same base URL) for the two look-ups wrangler has no command for (the account's workers.dev
// subdomain, a zone's id).
import { spawn } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');
/** wrangler's own entry point, run with `process.execPath`. */
export const WRANGLER = path.join(root, 'node_modules', 'wrangler', 'bin', 'wrangler.js');

/** A step that failed: its message is what the operator reads, then the command exits 1. */
export class StepError extends Error {}

/**
 * Runs wrangler without a terminal (CI=true: no prompt, confirmations take their default) and
 * returns its output. `echo` streams it to the operator as it comes; a failure throws with the
 * tail of what wrangler said.
 */
export function wrangler(args, { echo = false, allowFailure = false } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRANGLER, ...args], {
      cwd: root,
      // WRANGLER_LOG_SANITIZE: wrangler's debug log never holds a request body (a secret's value).
      env: {
        ...process.env,
        CI: 'true',
        WRANGLER_SEND_METRICS: 'false',
        WRANGLER_LOG_SANITIZE: 'true',
        FORCE_COLOR: '0',
        NO_COLOR: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => {
      chunk = plain(chunk);
      out += chunk;
      if (echo) process.stdout.write(indent(String(chunk)));
    });
    child.stderr.on('data', (chunk) => {
      chunk = plain(chunk);
      err += chunk;
      if (echo) process.stderr.write(indent(String(chunk)));
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0 || allowFailure) return resolve({ code, out, err });
      const said = lastLines(`${out}\n${err}`);
      reject(new StepError(`wrangler ${args.slice(0, 3).join(' ')} failed (exit ${code}):\n${said}`));
    });
  });
}

/** wrangler colours its errors even without a terminal. */
export const plain = (chunk) => String(chunk).replace(/\x1b\[[0-9;]*m/g, '');

const indent = (text) => text.replace(/^(?=.)/gm, '    ');

/** The lines that say what went wrong, without wrangler's banner and log-file footer. */
function lastLines(text) {
  const lines = text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l && !/^[─\s]+$|wrangler \d|Logs were written|please create an issue|newer version/.test(l));
  return indent(lines.slice(-12).join('\n'));
}

/** Cloudflare's REST API, for what wrangler has no command for. */
export async function cloudflareApi(method, route, body) {
  const base = process.env.CLOUDFLARE_API_BASE_URL || 'https://api.cloudflare.com/client/v4';
  const token = process.env.CLOUDFLARE_API_TOKEN;
  if (!token)
    throw new StepError('CLOUDFLARE_API_TOKEN is needed for this step (see "Before you start" in the README).');
  const response = await fetch(`${base}${route}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await response
    .json()
    .catch(() => ({ success: false, errors: [{ code: 0, message: `HTTP ${response.status}` }] }));
  return { status: response.status, ...data };
}

/** The first JSON value in wrangler's output (its `--json` commands may print a banner first). */
export function parseJsonOutput(text) {
  const start = text.search(/^[[{]/m);
  if (start < 0) throw new StepError(`wrangler printed no JSON:\n${lastLines(text)}`);
  return JSON.parse(text.slice(start));
}
