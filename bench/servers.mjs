// Starts and stops the workers under test: `wrangler dev` on loopback, fresh local storage.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, rmSync } from 'node:fs';

const ENV = { ...process.env, CI: 'true', WRANGLER_SEND_METRICS: 'false' };

export function wrangler(args, { quiet = true } = {}) {
  const res = spawnSync('wrangler', args, { env: ENV, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (res.status !== 0) throw new Error(`wrangler ${args.join(' ')} failed:\n${res.stdout}\n${res.stderr}`);
  if (!quiet) process.stdout.write(res.stdout);
  return res.stdout;
}

/**
 * One `wrangler dev` with its own state directory; `log` collects its output (the worker's JSON
 * log lines are read from it).
 */
export async function startWorker({ name, port, inspectorPort, stateDir, config, vars = {} }) {
  rmSync(stateDir, { recursive: true, force: true });
  if (!existsSync('.dev.vars')) copyFileSync('.dev.vars.example', '.dev.vars');
  const configArgs = config ? ['-c', config] : [];
  wrangler(['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', stateDir, ...configArgs]);
  const args = [
    'dev',
    ...configArgs,
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--inspector-port',
    String(inspectorPort),
    '--persist-to',
    stateDir,
    '--show-interactive-dev-session=false',
  ];
  for (const [k, v] of Object.entries(vars)) args.push('--var', `${k}:${v}`);
  const child = spawn('wrangler', args, { env: ENV, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const worker = { name, port, stateDir, config, child, log: '', origin: `http://127.0.0.1:${port}` };
  child.stdout.on('data', (d) => (worker.log += d));
  child.stderr.on('data', (d) => (worker.log += d));
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      const res = await fetch(`${worker.origin}/healthz`);
      if (res.status < 500) return worker;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  stopWorker(worker);
  throw new Error(`${name} did not start:\n${worker.log}`);
}

export function stopWorker(worker) {
  try {
    process.kill(-worker.child.pid, 'SIGTERM');
  } catch {
    // already gone
  }
}

/** SQL straight into a worker's local D1 (bulk history only; everything else goes through the API). */
export function d1(worker, command) {
  const out = wrangler([
    'd1',
    'execute',
    'DB',
    '--local',
    '--persist-to',
    worker.stateDir,
    ...(worker.config ? ['-c', worker.config] : []),
    '--json',
    '--command',
    command,
  ]);
  return JSON.parse(out);
}
