import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createInvitationsClient } from '../../clients/typescript/src/index';
import { E2E_SIGNING_KEY, emailedLink } from './server';

/**
 * `npm run db:backup` / `npm run db:restore` against local databases kept in temporary directories
 * (`--persist-to`): one seeded through the API of its own `wrangler dev`, backed up after that server
 * stopped, and restored into an empty directory. Assertions read both SQLite files directly.
 */
const WRANGLER = join(process.cwd(), 'node_modules/wrangler/bin/wrangler.js');
const ENV = { ...process.env, CI: 'true', WRANGLER_SEND_METRICS: 'false' };
const work = mkdtempSync(join(tmpdir(), 'backup-e2e-'));
const seeded = join(work, 'seeded');
const backupFile = join(work, 'backup.sql');
let n = 0;
const address = (label: string) => `${label}.${Date.now().toString(36)}${++n}@example.com`;

function run(script: 'db-backup' | 'db-restore', ...args: string[]) {
  const res = spawnSync(process.execPath, [`scripts/${script}.mjs`, ...args], { encoding: 'utf8', env: ENV });
  return { status: res.status, out: res.stdout, err: res.stderr };
}

function wrangler(...args: string[]) {
  const res = spawnSync(process.execPath, [WRANGLER, ...args], { encoding: 'utf8', env: ENV });
  if (res.status !== 0) throw new Error(`wrangler ${args.join(' ')}: ${res.stderr}`);
}

/** The D1 SQLite file wrangler keeps under a --persist-to directory. */
function open(dir: string) {
  const d1 = join(dir, 'v3/d1/miniflare-D1DatabaseObject');
  const file = readdirSync(d1).find((f) => f.endsWith('.sqlite') && f !== 'metadata.sqlite');
  return new DatabaseSync(join(d1, file!), { readOnly: true });
}

/** Schema, and every table's rows as SQLite literals (exact: type and bytes), sorted. */
function snapshot(dir: string) {
  const db = open(dir);
  try {
    const schema = db
      .prepare(
        `SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE name NOT LIKE '\\_cf\\_%' ESCAPE '\\' ORDER BY type, name`,
      )
      .all();
    const rows: Record<string, string[]> = {};
    for (const { name } of schema.filter((o) => o.type === 'table') as { name: string }[]) {
      const columns = db
        .prepare(`SELECT name FROM pragma_table_info(?)`)
        .all(name)
        .map((c) => `quote("${c.name}")`);
      rows[name] = db
        .prepare(`SELECT ${columns.join(` || ',' || `)} AS r FROM "${name}" ORDER BY r`)
        .all()
        .map((r) => String(r.r));
    }
    return { schema, rows, fkViolations: db.prepare('PRAGMA foreign_key_check').all() };
  } finally {
    db.close();
  }
}

const counts = (rows: Record<string, string[]>) =>
  Object.fromEntries(Object.entries(rows).map(([t, r]) => [t, r.length]));

async function freePort() {
  const srv = createNetServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

/** `wrangler dev` on its own port and --persist-to directory, as `startServer` in ./server does for the suite. */
async function startWorker(stateDir: string) {
  const [port, inspector] = [await freePort(), await freePort()];
  const origin = `http://127.0.0.1:${port}`;
  wrangler('d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', stateDir);
  mkdirSync('.wrangler', { recursive: true });
  writeFileSync('.wrangler/backup-e2e.vars', `TOKEN_SIGNING_KEY="${E2E_SIGNING_KEY}"\n`);
  const child = spawn(
    process.execPath,
    [
      WRANGLER,
      'dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--inspector-port',
      String(inspector),
      '--persist-to',
      stateDir,
      '--env-file',
      '.wrangler/backup-e2e.vars',
      '--var',
      `APP_URL:${origin}`,
      '--var',
      'RATE_LIMIT_SCALE:10',
      '--show-interactive-dev-session=false',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: ENV, detached: true },
  );
  let log = '';
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  for (const deadline = Date.now() + 60_000; Date.now() < deadline && child.exitCode === null; ) {
    if (
      await fetch(`${origin}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return { child, origin };
    await new Promise((r) => setTimeout(r, 250));
  }
  stopWorker(child);
  throw new Error(`wrangler dev did not start:\n${log}`);
}

function stopWorker(child: ChildProcess) {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    process.kill(-child.pid!, 'SIGTERM');
  } catch {
    child.kill('SIGTERM');
  }
  return exited;
}

/** Polls a query on the running worker's database until `done` holds. */
async function until(dir: string, sql: string, done: (row: Record<string, unknown>) => boolean) {
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 300))) {
    const db = open(dir);
    const row = db.prepare(sql).get() as Record<string, unknown>;
    db.close();
    if (done(row)) return;
  }
  throw new Error(`timed out waiting for: ${sql}`);
}

/** Organizations, members, invitations in every status, audit events, webhooks with deliveries: all through the API. */
async function seed(origin: string, receiver: string) {
  const api = createInvitationsClient({ baseUrl: origin });
  const token = (link: string) => new URL(link).searchParams.get('token')!;
  const ok = <T>(r: { data?: T; error?: unknown; response: Response }): T => {
    if (r.data === undefined) throw new Error(`${r.response.url}: ${r.response.status} ${JSON.stringify(r.error)}`);
    return r.data;
  };

  const ownerEmail = address('backup-owner');
  const since = Date.now() - 1000;
  await api.POST('/v1/auth/email-link', { body: { email: ownerEmail } });
  const signedIn = ok(
    await api.POST('/v1/auth/verify', {
      body: { token: token(await emailedLink(ownerEmail, 'auth/verify', since)), name: 'Bea Backup' },
    }),
  );
  const owner = api.withToken(signedIn.session_token);
  ok(await owner.POST('/v1/me/api-tokens', { body: { name: 'ci' } }));
  const org = ok(await owner.POST('/v1/organizations', { body: { name: `Backed Up ${Date.now().toString(36)}` } }));
  ok(await owner.POST('/v1/organizations', { body: { name: `Second ${Date.now().toString(36)}` } }));
  ok(
    await owner.POST('/v1/organizations/{org}/webhooks', {
      params: { path: { org: org.id } },
      body: { url: `${receiver}/hooks`, description: 'backup test' },
    }),
  );

  const invite = (
    email: string,
    extra: { message?: string; expires_in_days?: number } = {},
    headers?: Record<string, string>,
  ) =>
    owner.POST('/v1/organizations/{org}/invitations', {
      params: { path: { org: org.id } },
      body: { email, role: 'developer', ...extra },
      headers,
    });
  // A line break and a literal backslash-n in one text: `wrangler d1 export` alone writes both as line breaks.
  ok(
    await invite(
      address('pending'),
      { message: 'Welcome!\nYour share is C:\\new\\data', expires_in_days: 14 },
      { 'Idempotency-Key': 'backup-e2e-1' },
    ),
  );
  const revoked = ok(await invite(address('revoked')));
  ok(
    await owner.POST('/v1/organizations/{org}/invitations/{id}/revoke', {
      params: { path: { org: org.id, id: revoked.id } },
    }),
  );
  const expiring = ok(await invite(address('expiring'), { expires_in_days: 1 }));
  const joinerEmail = address('accepted');
  const inviteSince = Date.now() - 1000;
  ok(await invite(joinerEmail));
  const joined = ok(
    await api.POST('/v1/invitations/accept', {
      body: { token: token(await emailedLink(joinerEmail, 'invitations/accept', inviteSince)), name: 'Jo Joined' },
    }),
  );
  ok(
    await owner.PATCH('/v1/organizations/{org}/members/{user_id}', {
      params: { path: { org: org.id, user_id: joined.user.id } },
      body: { role: 'admin' },
    }),
  );

  // Its expiry moved into the past in the database, then the cron's sweep writes it down (and its webhook).
  wrangler(
    'd1',
    'execute',
    'DB',
    '--local',
    '--persist-to',
    seeded,
    '--command',
    `UPDATE invitations SET expires_at = ${Date.now() - 1000} WHERE id = '${expiring.id}'`,
  );
  const cron = await fetch(`${origin}/cdn-cgi/handler/scheduled?cron=*+*+*+*+*`);
  if (!cron.ok) throw new Error(`scheduled handler: ${cron.status}`);
  await cron.arrayBuffer();
}

let receiver: Server;
let deliveries = 0;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    deliveries++;
    req.resume().on('end', () => res.writeHead(200).end('ok'));
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const { child, origin } = await startWorker(seeded);
  try {
    await seed(origin, `http://127.0.0.1:${(receiver.address() as { port: number }).port}`);
    // Settled: the expiry written, every email sent and every webhook delivered.
    await until(seeded, "SELECT count(*) AS n FROM webhook_events WHERE type = 'invitation.expired'", (r) => r.n === 1);
    await until(
      seeded,
      "SELECT (SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')) + (SELECT count(*) FROM webhook_deliveries WHERE status IN ('pending', 'sending')) AS n",
      (r) => r.n === 0,
    );
  } finally {
    await stopWorker(child);
  }
}, 180_000);

afterAll(() => {
  receiver?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('npm run db:backup / db:restore', () => {
  it('round-trips a database seeded through the API into an empty one: same rows, foreign keys hold, no trigger fired', async ({
    expect,
  }) => {
    const before = snapshot(seeded);
    // The seed covers what the backup must carry.
    const statuses = db(seeded, 'SELECT DISTINCT status FROM invitations ORDER BY 1').map((r) => r.status);
    expect(statuses).toEqual(['accepted', 'expired', 'pending', 'revoked']);
    for (const table of [
      'organizations',
      'memberships',
      'audit_events',
      'webhook_endpoints',
      'webhook_events',
      'webhook_deliveries',
      'webhook_attempts',
      'idempotency_keys',
      'api_tokens',
    ]) {
      expect(before.rows[table].length, table).toBeGreaterThan(0);
    }
    expect(before.rows.d1_migrations).toHaveLength(readdirSync('migrations').filter((f) => f.endsWith('.sql')).length);
    expect(deliveries).toBeGreaterThan(0);

    const backup = run('db-backup', '--persist-to', seeded, backupFile);
    expect(backup.err).toBe('');
    expect(backup.status).toBe(0);
    expect(backup.out).toMatch(/invitations\s+4 rows/);
    // It holds webhook secrets and users' data: readable by its owner alone.
    expect(statSync(backupFile).mode & 0o777).toBe(0o600);

    const restored = join(work, 'restored');
    const restore = run('db-restore', '--persist-to', restored, backupFile);
    expect(restore.err).toBe('');
    expect(restore.status).toBe(0);
    expect(restore.out).toContain('PRAGMA foreign_key_check is clean');

    const after = snapshot(restored);
    console.log('round trip, rows per table:', JSON.stringify(counts(after.rows)));
    expect(after.fkViolations).toEqual([]);
    expect(after.schema).toEqual(before.schema);
    expect(counts(after.rows)).toEqual(counts(before.rows));
    // Content, table by table (webhook_events and webhook_deliveries included: no trigger added a row).
    for (const table of Object.keys(before.rows)) expect(after.rows[table], table).toEqual(before.rows[table]);
  });

  it('refuses a database that is not empty, and changes nothing', async ({ expect }) => {
    // The usual mistake: migrations already applied to the new database.
    const migrated = join(work, 'migrated');
    wrangler('d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', migrated);
    const before = snapshot(migrated);
    const refused = run('db-restore', '--persist-to', migrated, backupFile);
    expect(refused.status).toBe(1);
    expect(refused.err).toMatch(/is not empty .*nothing was changed/);
    expect(snapshot(migrated)).toEqual(before);

    // And one holding data: the seeded database itself.
    const seededBefore = snapshot(seeded);
    expect(run('db-restore', '--persist-to', seeded, backupFile).status).toBe(1);
    expect(snapshot(seeded)).toEqual(seededBefore);
  });

  it("carries values past D1's 100 KB statement limit, and text and numbers the export writes inexactly", async ({
    expect,
  }) => {
    const source = join(work, 'odd');
    wrangler('d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', source);
    // Written by SQL functions, so that the statement itself stays short.
    wrangler(
      'd1',
      'execute',
      'DB',
      '--local',
      '--persist-to',
      source,
      '--command',
      `INSERT INTO idempotency_keys (organization_id, user_id, key, request_hash, invitation_id, created_at, response)
         VALUES ('o', 'u', 'k', 'h', 'i', 1, 'BEGIN ' || 'TRANSACTION ' || replace(hex(zeroblob(40000)), '00', 'é''\\' || char(10) || 'n\\n'));
       INSERT INTO audit_events (id, organization_id, actor_type, action, target_type, target_id, created_at, data)
         VALUES ('a', 'o', 'system', 'x', 'y', 'z', 1, randomblob(150000));
       INSERT INTO rate_limits VALUES ('big', 1, 9007199254740993), ('real', 2, 2.0)`,
    );
    const file = join(work, 'odd.sql');
    expect(run('db-backup', '--persist-to', source, file).status).toBe(0);
    const target = join(work, 'odd-restored');
    const restore = run('db-restore', '--persist-to', target, file);
    expect(restore.err).toBe('');
    const [before, after] = [snapshot(source), snapshot(target)];
    expect(Buffer.byteLength(before.rows.idempotency_keys[0])).toBeGreaterThan(200_000);
    expect(after.rows).toEqual(before.rows);
  });
});

function db(dir: string, sql: string) {
  const d = open(dir);
  try {
    return d.prepare(sql).all() as Record<string, unknown>[];
  } finally {
    d.close();
  }
}
