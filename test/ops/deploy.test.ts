/*
 * `npm run deploy`, offline: the real script drives the real wrangler against a local stand-in of
 * Cloudflare's API (CLOUDFLARE_API_BASE_URL), which records what it was asked and keeps the
 * account's state (D1 on SQLite, queues, scripts, secrets as hashes, domains).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloudflareApiStandIn, type Call } from '../standins/cloudflare-api';

const ACCOUNT = '0123456789abcdef0123456789abcdef';
const TOKEN = 'stand-in-api-token';
const WORKER = '8bit-ai-invitations';
const HOST = 'invitations.example.test';
const migrations = readdirSync('migrations')
  .filter((f) => f.endsWith('.sql'))
  .sort();

type StandIn = Awaited<ReturnType<typeof startCloudflareApiStandIn>>;

/** Runs `npm run deploy`'s script with the operator's environment pointed at the stand-in. */
function deploy(cf: StandIn, args: string[], extraEnv: Record<string, string> = {}) {
  return new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(process.execPath, ['scripts/deploy.mjs', ...args, '--health-origin', cf.origin], {
      env: {
        ...process.env,
        CLOUDFLARE_API_BASE_URL: cf.apiBaseUrl,
        CLOUDFLARE_API_TOKEN: TOKEN,
        CLOUDFLARE_ACCOUNT_ID: ACCOUNT,
        DEPLOY_HEALTH_ATTEMPTS: '1',
        ...extraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ code, out }));
  });
}

const account = `/accounts/${ACCOUNT}`;
/** The Worker's code going up: the first upload, or a new version of an existing Worker. */
const isUpload = (c: Call) =>
  (c.method === 'PUT' && c.path.startsWith(`${account}/workers/scripts/${WORKER}?`)) ||
  (c.method === 'POST' && c.path.startsWith(`${account}/workers/scripts/${WORKER}/versions`));
const isMigrationQuery = (c: Call) => c.method === 'POST' && /\/d1\/database\/[^/]+\/query$/.test(c.path);
const creates = (calls: Call[]) =>
  calls.filter(
    (c) => c.method === 'POST' && /\/(d1\/database|queues|event_subscriptions\/subscriptions)$/.test(c.path),
  );
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** The transcript the closing note and README quote: each API call, in order. */
const transcript = (calls: Call[]) =>
  calls
    .map((c) => `${c.method} ${c.path.replace(account, '/accounts/:account')}${c.note ? `  (${c.note})` : ''}`)
    .join('\n');

describe('npm run deploy against the stand-in', () => {
  let dir: string;
  let cf: StandIn;
  let config: string;
  const localConfigHash = sha256('wrangler.toml');

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'deploy-test-'));
    cf = await startCloudflareApiStandIn({
      accountId: ACCOUNT,
      token: TOKEN,
      bundledMigrations: migrations,
      dir,
      zones: ['example.test'],
    });
    config = path.join(dir, 'wrangler.production.json');
  });
  afterAll(async () => {
    await cf?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a fresh account: creates everything, applies the migrations before the upload, sets the key once, attaches the domain, and checks health', async () => {
    const run = await deploy(cf, [
      '--hostname',
      HOST,
      '--from',
      `invitations@example.test`,
      '--location',
      'weur',
      '--config',
      config,
    ]);
    expect(run.code, run.out).toBe(0);
    const calls = [...cf.calls];
    console.log(`--- fresh deploy: output ---\n${run.out}\n--- fresh deploy: API calls ---\n${transcript(calls)}`);

    // Created: the database near weur, the three queues, the Email Sending subscription.
    expect(creates(calls).map((c) => `${c.path.replace(account, '')} ${c.note}`)).toEqual([
      '/d1/database name=invitations location=weur jurisdiction=-',
      '/queues queue_name=invitations-delivery',
      '/queues queue_name=invitations-delivery-dlq',
      '/queues queue_name=invitations-email-events',
      expect.stringMatching(/^\/event_subscriptions\/subscriptions .*"type":"email.sending".*"domain":"example.test"/),
    ]);
    // Subscribed to exactly the event types the Worker's reader knows (src/delivery/transports/cloudflare.ts).
    const known = /EMAIL_SENDING_EVENT_TYPES = \[([^\]]+)\]/
      .exec(readFileSync('src/delivery/transports/cloudflare.ts', 'utf8'))![1]
      .match(/'[^']+'/g)!
      .map((t) => `message.${t.slice(1, -1)}`);
    expect(known).toHaveLength(6);
    expect(cf.state.subscriptions.map((s) => s.events)).toEqual([known]);
    // Every migration applied, all before the Worker's upload.
    const db = [...cf.state.databases.values()][0];
    expect(
      db.sqlite
        .prepare('SELECT name FROM d1_migrations ORDER BY id')
        .all()
        .map((r: any) => r.name),
    ).toEqual(migrations);
    const upload = calls.findIndex(isUpload);
    expect(upload).toBeGreaterThan(0);
    expect(
      calls
        .filter(isMigrationQuery)
        .map((c) => c.note)
        .filter((n) => n?.startsWith('migration ')),
    ).toEqual(migrations.map((m) => `migration ${m}`));
    expect(calls.findLastIndex(isMigrationQuery)).toBeLessThan(upload);
    expect(calls.filter(isUpload)).toHaveLength(1);
    // The key went up with the Worker, once, and was never printed.
    const script = cf.state.scripts.get(WORKER)!;
    expect([...script.secrets.keys()]).toEqual(['TOKEN_SIGNING_KEY']);
    expect(calls[upload].note).toContain('secret_text:TOKEN_SIGNING_KEY');
    expect(run.out).not.toMatch(/[A-Za-z0-9+/]{64}/);
    // The custom domain is attached, workers.dev is off, and the Worker is bound to the new D1.
    expect(cf.state.domains.map((d) => [d.hostname, d.service])).toEqual([[HOST, WORKER]]);
    expect(script.workers_dev).toBe(false);
    const bindings = script.metadata.bindings as { type: string; name: string; text?: string; id?: string }[];
    expect(bindings.find((b) => b.name === 'DB')?.id).toBe(db.uuid);
    expect(bindings.find((b) => b.name === 'APP_URL')?.text).toBe(`https://${HOST}`);
    // Health was checked on the deployed Worker, and what is left is said.
    expect(run.out).toMatch(/ok {3}migrations[\s\S]*ok {3}signing_key/);
    expect(run.out).toContain('Left to do by hand');
    expect(run.out).toContain('Onboard example.test to Email Sending');
    expect(run.out).toContain(`curl -s "https://${HOST}/healthz?deep=1"`);
    // The production values live in their own file; wrangler.toml is as it was.
    const production = JSON.parse(readFileSync(config, 'utf8'));
    expect(production.vars).toMatchObject({
      APP_URL: `https://${HOST}`,
      EMAIL_FROM: 'invitations@example.test',
      EMAIL_TRANSPORT: 'cloudflare',
      RATE_LIMIT_SCALE: '1',
      COORDINATOR_LOCATION_HINT: 'weur',
    });
    expect(production.ratelimits.map((r: { namespace_id: string }) => r.namespace_id)).not.toContain('8001');
    expect(sha256('wrangler.toml')).toBe(localConfigHash);
  });

  it('a second run upgrades: nothing re-created, the key unchanged, the pending migration applied before the upload', async () => {
    const db = [...cf.state.databases.values()][0];
    // The account one migration behind, as after a `git pull` that brought a new one: 0008 undone
    // (its view and the trigger it re-creates dropped, its record gone), so the upgrade applies it again.
    const behind = '0008_webhook_invitation_view.sql';
    db.sqlite.exec(
      `DROP TRIGGER IF EXISTS webhook_events_from_audit; DROP VIEW IF EXISTS invitation_resources; DELETE FROM d1_migrations WHERE name = '${behind}';`,
    );
    // The operator tuned a var in the production file: the rerun keeps it.
    const file = JSON.parse(readFileSync(config, 'utf8'));
    writeFileSync(config, JSON.stringify({ ...file, vars: { ...file.vars, EMAIL_SEND_RATE_PER_SECOND: '2' } }));
    const keyBefore = cf.state.scripts.get(WORKER)!.secrets.get('TOKEN_SIGNING_KEY');
    const before = cf.calls.length;
    // No flags but where the production file is: the rest is read back from it.
    const run = await deploy(cf, ['--config', config]);
    expect(run.code, run.out).toBe(0);
    const calls = cf.calls.slice(before);
    console.log(`--- upgrade: output ---\n${run.out}\n--- upgrade: API calls ---\n${transcript(calls)}`);

    expect(creates(calls)).toEqual([]);
    expect(cf.state.databases.size).toBe(1);
    expect(cf.state.scripts.get(WORKER)!.secrets.get('TOKEN_SIGNING_KEY')).toBe(keyBefore);
    const upload = calls.findIndex(isUpload);
    expect(calls[upload].note).not.toContain('secret_text');
    const applied = calls.filter((c) => isMigrationQuery(c) && c.note?.startsWith('migration '));
    expect(applied.map((c) => c.note)).toEqual([`migration ${behind}`]);
    expect(calls.indexOf(applied[0])).toBeLessThan(upload);
    expect(
      db.sqlite
        .prepare('SELECT name FROM d1_migrations ORDER BY name')
        .all()
        .map((r: any) => r.name),
    ).toEqual(migrations);
    expect(run.out).toContain('set already: kept as it is');
    const vars = cf.state.scripts.get(WORKER)!.metadata.bindings as { name: string; text?: string }[];
    expect(vars.find((b) => b.name === 'EMAIL_SEND_RATE_PER_SECOND')?.text).toBe('2');
    expect(vars.find((b) => b.name === 'APP_URL')?.text).toBe(`https://${HOST}`);
    expect(run.out).toMatch(/ok {3}migrations/);
  });
});

describe('npm run deploy when a step fails halfway', () => {
  let dir: string;
  let cf: StandIn;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'deploy-fail-'));
    cf = await startCloudflareApiStandIn({
      accountId: ACCOUNT,
      token: TOKEN,
      bundledMigrations: migrations,
      dir,
      subdomain: null,
    });
  });
  afterAll(async () => {
    await cf?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stops with a clear message naming the step, and a rerun finishes without re-creating what exists', async () => {
    const config = path.join(dir, 'wrangler.production.json');
    // After the database, the first queue cannot be created (Cloudflare answers an error).
    cf.fail('POST', /\/queues$/, { status: 400, times: 1 });
    const args = [
      '--workers-dev',
      '--workers-subdomain',
      'acme',
      '--from',
      'invitations@acme.example',
      '--transport',
      'resend',
      '--jurisdiction',
      'eu',
      '--config',
      config,
    ];
    const first = await deploy(cf, args);
    expect(first.code).toBe(1);
    expect(first.out).toMatch(/Stopped at step 2 \(Queues\): wrangler queues create invitations-delivery failed/);
    expect(first.out).toContain('injected by the test');
    expect(first.out).toContain('run npm run deploy again');
    expect(cf.calls.some(isUpload)).toBe(false);
    expect(cf.state.databases.size).toBe(1);

    const before = cf.calls.length;
    const second = await deploy(cf, args);
    expect(second.code, second.out).toBe(0);
    const calls = cf.calls.slice(before);
    // The database was not created twice; the queues were finished; no subscription for resend.
    expect(creates(calls).map((c) => c.note)).toEqual([
      'queue_name=invitations-delivery',
      'queue_name=invitations-delivery-dlq',
      'queue_name=invitations-email-events',
    ]);
    expect(cf.state.databases.size).toBe(1);
    expect([...cf.state.databases.values()][0].jurisdiction).toBe('eu');
    // workers.dev: the account's subdomain registered, the Worker served there.
    expect(cf.state.subdomain).toBe('acme');
    expect(cf.state.scripts.get(WORKER)!.workers_dev).toBe(true);
    expect(JSON.parse(readFileSync(config, 'utf8')).vars.APP_URL).toBe(`https://${WORKER}.acme.workers.dev`);
    // Resend's key is the operator's to set: health says so, the command says how, and still succeeds.
    expect(second.out).toMatch(/FAIL email/);
    expect(second.out).toContain('wrangler secret put EMAIL_API_KEY');
    expect(cf.state.subscriptions).toEqual([]);
    // The EU jurisdiction names no place: coordinators get no hint, and the command says what to pass.
    expect(JSON.parse(readFileSync(config, 'utf8')).vars.COORDINATOR_LOCATION_HINT).toBe('');
    expect(second.out).toContain('coordinator: no location hint');
    expect(second.out).toMatch(
      /note: coordinators get no location hint \(the EU jurisdiction chooses the database's place, so no hint follows from it\)[^\n]*Run again with --coordinator-location weur \(the primary is in weur\)\./,
    );
  });

  it('a failed upload, after the migrations: the rerun uploads once, applies nothing twice, and sets one key', async () => {
    const account2 = await startCloudflareApiStandIn({
      accountId: ACCOUNT,
      token: TOKEN,
      bundledMigrations: migrations,
      dir,
      zones: ['example.test'],
    });
    try {
      const config = path.join(dir, 'upload-fails.json');
      const args = ['--hostname', HOST, '--from', 'invitations@example.test', '--config', config];
      account2.fail('PUT', new RegExp(`^${account}/workers/scripts/${WORKER}$`), { status: 400 });
      const first = await deploy(account2, args);
      expect(first.code).toBe(1);
      expect(first.out).toMatch(/Stopped at step 8 \(Worker\): wrangler deploy/);
      expect(account2.state.scripts.size).toBe(0);
      const applied = [...account2.state.databases.values()][0].sqlite
        .prepare('SELECT count(*) AS n FROM d1_migrations')
        .get() as { n: number };
      expect(applied.n).toBe(migrations.length);

      const before = account2.calls.length;
      const second = await deploy(account2, args);
      expect(second.code, second.out).toBe(0);
      const calls = account2.calls.slice(before);
      expect(creates(calls)).toEqual([]);
      expect(calls.filter((c) => isMigrationQuery(c) && c.note?.startsWith('migration '))).toEqual([]);
      expect(calls.filter(isUpload)).toHaveLength(1);
      expect([...account2.state.scripts.get(WORKER)!.secrets.keys()]).toEqual(['TOKEN_SIGNING_KEY']);
    } finally {
      await account2.close();
    }
  });
});

describe('npm run deploy: where each organization coordinator is created (SPEC §19)', () => {
  let dir: string;
  let cf: StandIn;
  let config: string;
  const args = ['--hostname', HOST, '--from', 'invitations@example.test'];
  /** COORDINATOR_LOCATION_HINT as the production file has it, and as the deployed Worker got it. */
  const hint = (cf: StandIn, file: string) => ({
    file: JSON.parse(readFileSync(file, 'utf8')).vars.COORDINATOR_LOCATION_HINT,
    worker: (cf.state.scripts.get(WORKER)!.metadata.bindings as { name: string; text?: string }[]).find(
      (b) => b.name === 'COORDINATOR_LOCATION_HINT',
    )?.text,
  });
  const account = (name: string) =>
    startCloudflareApiStandIn({
      accountId: ACCOUNT,
      token: TOKEN,
      bundledMigrations: migrations,
      dir: mkdtempSync(path.join(dir, `${name}-`)),
      zones: ['example.test'],
    });

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'deploy-coordinator-'));
    cf = await account('wnam');
    config = path.join(dir, 'wrangler.production.json');
  });
  afterAll(async () => {
    await cf?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the hint follows --location: wnam in the production file and on the deployed Worker', async () => {
    const run = await deploy(cf, [...args, '--location', 'wnam', '--config', config]);
    expect(run.code, run.out).toBe(0);
    expect(creates(cf.calls)[0].note).toBe('name=invitations location=wnam jurisdiction=-');
    expect(hint(cf, config)).toEqual({ file: 'wnam', worker: 'wnam' });
    expect(run.out).toMatch(
      /\[5\] Production configuration: .*\n {4}written, with APP_URL \S+; coordinator near wnam\n/,
    );
    expect(run.out).not.toContain('note:');
  });

  it('an upgrade rerun with no flags keeps it', async () => {
    const before = cf.calls.length;
    const run = await deploy(cf, ['--config', config]);
    expect(run.code, run.out).toBe(0);
    expect(creates(cf.calls.slice(before))).toEqual([]);
    expect(hint(cf, config)).toEqual({ file: 'wnam', worker: 'wnam' });
    expect(run.out).toContain('coordinator near wnam');
    expect(run.out).not.toContain('note:');
  });

  it('--coordinator-location sets it when the database exists, and says that coordinators already created stay', async () => {
    const before = cf.calls.length;
    const run = await deploy(cf, ['--config', config, '--coordinator-location', 'ENAM']);
    expect(run.code, run.out).toBe(0);
    expect(creates(cf.calls.slice(before))).toEqual([]);
    expect(cf.state.databases.size).toBe(1);
    expect(hint(cf, config)).toEqual({ file: 'enam', worker: 'enam' });
    expect(run.out).toContain('exists: ');
    expect(run.out).toContain('coordinator near enam');
    // Away from the primary (which D1 reports in wnam), and a hint counts only at an object's creation.
    expect(run.out).toContain(
      "note: the database's primary is in wnam, not enam: each of a coordinator's D1 calls would cross regions. --coordinator-location wnam puts coordinators beside it.",
    );
    expect(run.out).toContain('note: changed from wnam: coordinators created before keep their place');
  });

  it('a bad hint is refused before anything is created, whether a flag or the production file says it', async () => {
    const fresh = await account('refused');
    try {
      const file = path.join(dir, 'refused.json');
      const refused = async (extra: string[], message: string) => {
        const run = await deploy(fresh, [...args, ...extra, '--config', file]);
        expect(run.code, run.out).toBe(1);
        expect(run.out).toContain('Nothing ran: ');
        expect(run.out).toContain(message);
      };
      await refused(
        ['--coordinator-location', 'mars'],
        '--coordinator-location is "mars": it takes one of Durable Objects\' location hints: wnam, enam, sam, weur, eeur, apac, oc, afr, me.',
      );
      // A Durable Object hint that is no D1 location: not for --location, which places the database.
      await refused(
        ['--location', 'sam'],
        "--location takes one of D1's location hints: weur, eeur, apac, oc, wnam, enam.",
      );
      await refused(
        ['--location', 'weur', '--coordinator-location', 'antarctica'],
        '--coordinator-location is "antarctica"',
      );
      expect(fresh.calls).toEqual([]);
      expect(() => readFileSync(file)).toThrow();
      // A production file edited by hand, read back by a rerun.
      const edited = path.join(dir, 'edited.json');
      const good = JSON.parse(readFileSync(config, 'utf8'));
      writeFileSync(edited, JSON.stringify({ ...good, vars: { ...good.vars, COORDINATOR_LOCATION_HINT: 'us-east' } }));
      const run = await deploy(fresh, ['--config', edited]);
      expect(run.code, run.out).toBe(1);
      expect(run.out).toContain(`Nothing ran: COORDINATOR_LOCATION_HINT in ${edited} is "us-east"`);
      expect(fresh.calls).toEqual([]);
      expect(fresh.state.databases.size).toBe(0);
    } finally {
      await fresh.close();
    }
  });

  it('--coordinator-location wins over --location on a fresh account: the database near weur, coordinators near apac', async () => {
    const fresh = await account('override');
    try {
      const file = path.join(dir, 'override.json');
      const run = await deploy(fresh, [
        ...args,
        '--location',
        'weur',
        '--coordinator-location',
        'apac',
        '--config',
        file,
      ]);
      expect(run.code, run.out).toBe(0);
      expect(creates(fresh.calls)[0].note).toBe('name=invitations location=weur jurisdiction=-');
      expect(hint(fresh, file)).toEqual({ file: 'apac', worker: 'apac' });
      expect(run.out).toContain('coordinator near apac');
      expect(run.out).toContain("note: the database's primary is in weur, not apac");
      expect(run.out).not.toContain('changed from');
    } finally {
      await fresh.close();
    }
  });
});
