/*
 * A local stand-in for the part of Cloudflare's REST API (`/client/v4`) that `npm run deploy`
 * drives through wrangler: D1 (list, create, query — run on a real SQLite file per database),
 * Queues and their consumers, event subscriptions, Workers scripts (upload, secrets, settings,
 * schedules, versions, deployments, static assets), the account's workers.dev subdomain and
 * Workers custom domains. Answers use Cloudflare's envelope (`{success, errors, messages,
 * result}`) and its error codes where wrangler reads them (10007: no such Worker).
 *
 * It also plays the deployed Worker's `GET /healthz?deep=1` for any host: 200 when the newest
 * bundled migration is applied to the Worker's D1 and TOKEN_SIGNING_KEY is set, 503 otherwise.
 *
 * Test controls: `calls` (what was asked, in order), `fail(method, pathPattern)` (the next
 * matching calls answer an error), and `state` to look inside.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomUUID, createHash } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import { listenOnLoopback, readBody } from './http';

export interface Call {
  method: string;
  path: string;
  /** A short, secret-free summary of the body (names, not values). */
  note?: string;
}

interface Database {
  uuid: string;
  name: string;
  created_at: string;
  jurisdiction: string | null;
  primary_location_hint: string | null;
  sqlite: DatabaseSync;
}

interface Queue {
  queue_id: string;
  queue_name: string;
  consumers: {
    consumer_id: string;
    script: string;
    type: 'worker';
    settings: Record<string, unknown>;
    dead_letter_queue?: string;
  }[];
}

interface Script {
  id: string;
  created_on: string;
  modified_on: string;
  /** Secret names → SHA-256 of the value (a test compares them; the value is never kept). */
  secrets: Map<string, string>;
  metadata: any;
  migration_tag: string | null;
  workers_dev: boolean;
  schedules: { cron: string }[];
  versions: string[];
  assetsJwt: string | null;
}

export interface CloudflareState {
  accountId: string;
  token: string;
  subdomain: string | null;
  databases: Map<string, Database>;
  queues: Map<string, Queue>;
  scripts: Map<string, Script>;
  domains: { id: string; hostname: string; service: string; zone_name: string }[];
  subscriptions: { id: string; name: string; source: unknown; destination: unknown; events: string[] }[];
  /** DNS zones on the account, by name. */
  zones: { id: string; name: string }[];
  /** Migration file names bundled with the Worker, for the health answer. */
  bundledMigrations: string[];
}

/** The checks the Worker's deep health names (src/health.ts); test/ops/local-untouched.test.ts compares. */
export const DEEP_HEALTH_CHECKS = ['migrations', 'email', 'signing_key', 'app_url', 'delivery_queue'] as const;

const envelope = (result: unknown, extra: Record<string, unknown> = {}) => ({
  success: true,
  errors: [],
  messages: [],
  result,
  ...extra,
});
const failure = (code: number, message: string) => ({
  success: false,
  errors: [{ code, message }],
  messages: [],
  result: null,
});

export async function startCloudflareApiStandIn(opts: {
  accountId: string;
  token: string;
  bundledMigrations: string[];
  dir: string;
  subdomain?: string | null;
  zones?: string[];
}) {
  const state: CloudflareState = {
    accountId: opts.accountId,
    token: opts.token,
    subdomain: opts.subdomain ?? null,
    databases: new Map(),
    queues: new Map(),
    scripts: new Map(),
    domains: [],
    subscriptions: [],
    zones: (opts.zones ?? []).map((name) => ({ id: createHash('md5').update(name).digest('hex'), name })),
    bundledMigrations: opts.bundledMigrations,
  };
  const calls: Call[] = [];
  const failures: { method: string; pattern: RegExp; status: number; times: number }[] = [];
  const unknown: string[] = [];
  const uploadTokens = new Set<string>();
  /** A JWT-shaped token: wrangler reads its `exp` before uploading assets. */
  const sessionJwt = () => {
    const token = `${[
      '{"alg":"none"}',
      JSON.stringify({ exp: Math.floor(Date.now() / 1000) + 3600, sub: randomUUID() }),
    ]
      .map((p) => Buffer.from(p).toString('base64url'))
      .join('.')}.sig`;
    uploadTokens.add(token);
    return token;
  };

  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://standin');
    try {
      if (url.pathname === '/healthz') return health(req, res, url);
      const route = url.pathname.replace(/^\/client\/v4/, '');
      const call: Call = {
        method: req.method ?? 'GET',
        path: route + (url.search && !route.includes('/query') ? url.search : ''),
      };
      calls.push(call);
      const injected = failures.find((f) => f.method === call.method && f.pattern.test(route));
      if (injected) {
        if (--injected.times === 0) failures.splice(failures.indexOf(injected), 1);
        call.note = 'failed on purpose';
        return json(res, injected.status, failure(10013, 'An unknown error has occurred (injected by the test).'));
      }
      // Static assets are uploaded with the upload session's JWT, everything else with the API token.
      const bearer = String(req.headers.authorization ?? '').replace(/^Bearer /, '');
      const authorized = route.endsWith('/workers/assets/upload') ? uploadTokens.has(bearer) : bearer === state.token;
      if (!authorized) return json(res, 403, failure(10000, 'Authentication error'));
      const prefix = `/accounts/${state.accountId}`;
      if (!route.startsWith(prefix)) {
        if (route === '/user') return json(res, 200, envelope({ id: 'user', email: 'operator@example.test' }));
        if (route === '/user/tokens/verify') return json(res, 200, envelope({ id: 'tok', status: 'active' }));
        if (route === '/zones' && req.method === 'GET') {
          const name = url.searchParams.get('name');
          const account = url.searchParams.get('account.id');
          const list =
            account && account !== state.accountId ? [] : state.zones.filter((z) => !name || z.name === name);
          return json(
            res,
            200,
            envelope(list.map((z) => ({ ...z, status: 'active', account: { id: state.accountId } }))),
          );
        }
        if (route === '/memberships')
          return json(res, 200, envelope([{ account: { id: state.accountId, name: 'Stand-in account' } }]));
        unknown.push(`${req.method} ${route}`);
        return json(res, 404, failure(7003, `No route for that URI (stand-in): ${route}`));
      }
      const answer = handle(req.method ?? 'GET', route.slice(prefix.length), url, body, req, call);
      if (!answer) {
        unknown.push(`${req.method} ${route}`);
        return json(res, 404, failure(7003, `No route for that URI (stand-in): ${route}`));
      }
      return json(res, answer[0], answer[1]);
    } catch (err) {
      return json(res, 500, failure(10000, `stand-in error: ${(err as Error).message}`));
    }
  });

  function json(res: ServerResponse, status: number, body: unknown) {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  /** The deployed Worker's deep health, derived from what was deployed and migrated. */
  function health(req: IncomingMessage, res: ServerResponse, url: URL) {
    // Asked by its hostname, or (the deploy command's --health-origin) at the stand-in's own address.
    const host = String(req.headers.host ?? '');
    const scripts = [...state.scripts.entries()];
    const script =
      scripts.find(([, s]) => JSON.stringify(s.metadata?.bindings ?? []).includes(`https://${host}`)) ??
      (scripts.length === 1 ? scripts[0] : undefined);
    if (!script || url.searchParams.get('deep') !== '1')
      return json(res, 404, { error: `no Worker answers on ${host}` });
    const [, s] = script;
    const dbBinding = (s.metadata.bindings as any[]).find((b) => b.type === 'd1');
    const db = [...state.databases.values()].find((d) => d.uuid === dbBinding?.id);
    let applied: string[] = [];
    try {
      applied = (db?.sqlite.prepare('SELECT name FROM d1_migrations ORDER BY id').all() ?? []).map((r: any) =>
        String(r.name),
      );
    } catch {
      applied = [];
    }
    const newest = state.bundledMigrations[state.bundledMigrations.length - 1];
    const vars = Object.fromEntries(
      (s.metadata.bindings as any[]).filter((b) => b.type === 'plain_text').map((b) => [b.name, b.text]),
    );
    const transport = vars.EMAIL_TRANSPORT || 'cloudflare';
    const checks = {
      migrations: { ok: applied.includes(newest), newest, applied: applied[applied.length - 1] ?? null },
      email: { ok: transport === 'cloudflare' || s.secrets.has('EMAIL_API_KEY'), transport },
      signing_key: { ok: s.secrets.has('TOKEN_SIGNING_KEY') },
      app_url: { ok: String(vars.APP_URL).startsWith('https://') },
      delivery_queue: {
        ok: (s.metadata.bindings as any[]).some((b) => b.type === 'queue' && b.name === 'DELIVERY_QUEUE'),
      },
    } satisfies Record<(typeof DEEP_HEALTH_CHECKS)[number], unknown>;
    const ok = Object.values(checks).every((c) => c.ok);
    return json(res, ok ? 200 : 503, { ok, checks });
  }

  function handle(
    method: string,
    path: string,
    url: URL,
    body: string,
    req: IncomingMessage,
    call: Call,
  ): [number, unknown] | null {
    let m: RegExpMatchArray | null;
    // ---- D1
    if (path === '/d1/database' && method === 'GET') {
      const name = url.searchParams.get('name');
      const list = [...state.databases.values()].filter((d) => !name || d.name === name).map(d1Info);
      const page = Number(url.searchParams.get('page') ?? '1');
      const perPage = Number(url.searchParams.get('per_page') ?? '10');
      return [
        200,
        envelope(list.slice((page - 1) * perPage, page * perPage), {
          result_info: { page, per_page: perPage, count: list.length, total_count: list.length },
        }),
      ];
    }
    if (path === '/d1/database' && method === 'POST') {
      const input = JSON.parse(body) as { name: string; primary_location_hint?: string; jurisdiction?: string };
      call.note = `name=${input.name} location=${input.primary_location_hint ?? '-'} jurisdiction=${input.jurisdiction ?? '-'}`;
      if ([...state.databases.values()].some((d) => d.name === input.name))
        return [400, failure(7502, 'A database with that name already exists')];
      const uuid = randomUUID();
      const db: Database = {
        uuid,
        name: input.name,
        created_at: new Date().toISOString(),
        jurisdiction: input.jurisdiction ?? null,
        primary_location_hint: input.primary_location_hint ?? null,
        sqlite: new DatabaseSync(`${opts.dir}/${uuid}.sqlite`),
      };
      db.sqlite.exec('PRAGMA foreign_keys = ON');
      state.databases.set(uuid, db);
      return [200, envelope(d1Info(db))];
    }
    if ((m = path.match(/^\/d1\/database\/([^/]+)$/)) && method === 'GET') {
      const db = findDb(m[1]);
      return db ? [200, envelope(d1Info(db))] : [404, failure(7404, 'The database could not be found')];
    }
    if ((m = path.match(/^\/d1\/database\/([^/]+)\/(query|raw)$/)) && method === 'POST') {
      const db = findDb(m[1]);
      if (!db) return [404, failure(7404, 'The database could not be found')];
      const input = JSON.parse(body) as { sql: string; params?: unknown[] };
      const migration = /INSERT INTO "?d1_migrations"? \(name\)\s*values \('([^']+)'\);\s*$/i.exec(input.sql)?.[1];
      call.note = migration ? `migration ${migration}` : input.sql.replace(/\s+/g, ' ').slice(0, 80);
      return [200, envelope(runSql(db, input.sql, input.params ?? [], m[2] === 'raw'))];
    }
    // ---- Queues
    if (path === '/queues' && method === 'GET') {
      const name = url.searchParams.get('name');
      const list = [...state.queues.values()].filter((q) => !name || q.queue_name === name).map(queueInfo);
      const page = Number(url.searchParams.get('page') ?? '1');
      return [
        200,
        envelope(page > 1 ? [] : list, {
          result_info: { page, per_page: 100, count: list.length, total_count: list.length },
        }),
      ];
    }
    if (path === '/queues' && method === 'POST') {
      const input = JSON.parse(body) as { queue_name: string };
      call.note = `queue_name=${input.queue_name}`;
      if (state.queues.has(input.queue_name)) return [400, failure(11009, 'A queue with this name already exists')];
      const queue: Queue = { queue_id: randomUUID().replace(/-/g, ''), queue_name: input.queue_name, consumers: [] };
      state.queues.set(queue.queue_name, queue);
      return [200, envelope(queueInfo(queue))];
    }
    if ((m = path.match(/^\/queues\/([^/]+)$/)) && method === 'GET') {
      const queue = findQueue(m[1]);
      return queue ? [200, envelope(queueInfo(queue))] : [404, failure(11000, 'Queue not found')];
    }
    if ((m = path.match(/^\/queues\/([^/]+)\/consumers$/))) {
      const queue = findQueue(m[1]);
      if (!queue) return [404, failure(11000, 'Queue not found')];
      if (method === 'GET') return [200, envelope(queue.consumers)];
      if (method === 'POST') {
        const input = JSON.parse(body);
        call.note = `queue=${queue.queue_name} script=${input.script_name}`;
        if (queue.consumers.some((c) => c.script === input.script_name))
          return [400, failure(11004, 'This queue already has a consumer for this script')];
        const consumer = {
          consumer_id: randomUUID(),
          script: input.script_name,
          type: 'worker' as const,
          settings: input.settings ?? {},
          dead_letter_queue: input.dead_letter_queue,
        };
        queue.consumers.push(consumer);
        return [200, envelope(consumer)];
      }
    }
    if ((m = path.match(/^\/queues\/([^/]+)\/consumers\/([^/]+)$/))) {
      const queue = findQueue(m[1]);
      const consumer = queue?.consumers.find((c) => c.consumer_id === m![2] || c.script === m![2]);
      if (!queue || !consumer) return [404, failure(11000, 'Consumer not found')];
      if (method === 'PUT') {
        const input = JSON.parse(body);
        call.note = `queue=${queue.queue_name} script=${input.script_name}`;
        Object.assign(consumer, { settings: input.settings ?? {}, dead_letter_queue: input.dead_letter_queue });
        return [200, envelope(consumer)];
      }
      if (method === 'DELETE') {
        queue.consumers.splice(queue.consumers.indexOf(consumer), 1);
        return [200, envelope(null)];
      }
    }
    // ---- Event subscriptions (Email Sending → a queue)
    if (path === '/event_subscriptions/subscriptions' && method === 'GET') {
      const queueId = url.searchParams.get('queue_id');
      const list = state.subscriptions.filter(
        (s) => !queueId || (s.destination as { queue_id?: string })?.queue_id === queueId,
      );
      return [
        200,
        envelope(list, { result_info: { page: 1, per_page: 100, count: list.length, total_count: list.length } }),
      ];
    }
    if (path === '/event_subscriptions/subscriptions' && method === 'POST') {
      const input = JSON.parse(body);
      call.note = `name=${input.name} source=${JSON.stringify(input.source)} destination=${JSON.stringify(input.destination)}`;
      const sub = {
        id: randomUUID().replace(/-/g, ''),
        name: input.name,
        source: input.source,
        destination: input.destination,
        events: input.events ?? [],
      };
      state.subscriptions.push(sub);
      return [200, envelope(sub)];
    }
    // ---- Workers: the account's workers.dev subdomain
    if (path === '/workers/subdomain' && method === 'GET') {
      return state.subdomain
        ? [200, envelope({ subdomain: state.subdomain })]
        : [404, failure(10007, 'This account does not have a workers.dev subdomain')];
    }
    if (path === '/workers/subdomain' && method === 'PUT') {
      const input = JSON.parse(body);
      call.note = `subdomain=${input.subdomain}`;
      state.subdomain = input.subdomain;
      return [200, envelope({ subdomain: input.subdomain })];
    }
    // ---- Workers: scripts
    if ((m = path.match(/^\/workers\/services\/([^/]+)$/)) && method === 'GET') {
      const script = state.scripts.get(m[1]);
      if (!script) return [404, failure(10090, 'This Worker does not exist on your account.')];
      return [
        200,
        envelope({
          id: m[1],
          default_environment: {
            environment: 'production',
            created_on: script.created_on,
            modified_on: script.modified_on,
            script: {
              id: m[1],
              tag: script.id,
              migration_tag: script.migration_tag,
              etag: script.id,
              handlers: ['fetch', 'queue', 'scheduled'],
              last_deployed_from: 'wrangler',
            },
          },
          created_on: script.created_on,
          modified_on: script.modified_on,
          environments: [],
        }),
      ];
    }
    if ((m = path.match(/^\/workers\/workers\/([^/]+)$/)) && method === 'GET') {
      const script = state.scripts.get(m[1]);
      if (!script) return [404, failure(10007, 'This Worker does not exist on your account.')];
      return [
        200,
        envelope({
          id: script.id,
          name: m[1],
          created_on: script.created_on,
          updated_on: script.modified_on,
          subdomain: { enabled: script.workers_dev, previews_enabled: false },
          observability: null,
          tags: [],
        }),
      ];
    }
    // A Worker's code and bindings: the first upload (PUT), and every later one as a new version.
    const upload =
      ((m = path.match(/^\/workers\/scripts\/([^/]+)$/)) && method === 'PUT') ||
      ((m = path.match(/^\/workers\/scripts\/([^/]+)\/versions$/)) && method === 'POST');
    if (upload && m) {
      const metadata = multipartMetadata(req, body);
      const name = m[1];
      const now = new Date().toISOString();
      const existing = state.scripts.get(name);
      if (method === 'POST' && !existing) return [404, failure(10007, 'This Worker does not exist on your account.')];
      const script: Script = existing ?? {
        id: randomUUID(),
        created_on: now,
        modified_on: now,
        secrets: new Map(),
        metadata: {},
        migration_tag: null,
        workers_dev: false,
        schedules: [],
        versions: [],
        assetsJwt: null,
      };
      // Secrets given with the upload are set; the others are kept (`bindings_inherit=strict`).
      for (const b of metadata?.bindings ?? [])
        if (b.type === 'secret_text') script.secrets.set(b.name, sha256(b.text));
      // `inherit`: the binding of that name the previous version had (wrangler sends it for queues).
      const previous = (script.metadata?.bindings ?? []) as { name: string }[];
      const bindings = (metadata?.bindings ?? []).map((b: any) =>
        b.type === 'inherit' ? (previous.find((p) => p.name === b.name) ?? b) : b,
      );
      script.metadata = { ...metadata, bindings: bindings.filter((b: any) => b.type !== 'secret_text') };
      if (metadata?.migrations?.new_tag) script.migration_tag = metadata.migrations.new_tag;
      script.modified_on = now;
      const version = randomUUID();
      script.versions.push(version);
      state.scripts.set(name, script);
      call.note = `bindings=${(metadata?.bindings ?? []).map((b: any) => `${b.type}:${b.name}`).join(',')}${metadata?.migrations ? ` migrations=${metadata.migrations.new_tag}` : ''}`;
      if (method === 'POST')
        return [
          200,
          envelope({
            id: version,
            number: script.versions.length,
            resources: {
              script: { etag: script.id, handlers: ['fetch', 'queue', 'scheduled'] },
              bindings: metadata?.bindings ?? [],
            },
            startup_time_ms: 12,
          }),
        ];
      return [
        200,
        envelope({
          id: name,
          etag: script.id,
          handlers: ['fetch', 'queue', 'scheduled'],
          created_on: script.created_on,
          modified_on: now,
          usage_model: 'standard',
          compatibility_date: metadata?.compatibility_date,
          deployment_id: version,
          startup_time_ms: 12,
          migration_tag: script.migration_tag,
        }),
      ];
    }
    if ((m = path.match(/^\/workers\/scripts\/([^/]+)\/secrets$/))) {
      const script = state.scripts.get(m[1]);
      if (method === 'GET') {
        if (!script) return [404, failure(10007, 'This Worker does not exist on your account.')];
        return [200, envelope([...script.secrets.keys()].map((name) => ({ name, type: 'secret_text' })))];
      }
      if (method === 'PUT') {
        if (!script) return [404, failure(10007, 'This Worker does not exist on your account.')];
        const input = JSON.parse(body);
        call.note = `name=${input.name}`;
        script.secrets.set(input.name, sha256(input.text));
        return [200, envelope({ name: input.name, type: 'secret_text' })];
      }
    }
    if ((m = path.match(/^\/workers\/scripts\/([^/]+)\/(settings|script-settings)$/))) {
      const script = state.scripts.get(m[1]);
      if (!script) return [404, failure(10007, 'This Worker does not exist on your account.')];
      if (method === 'PATCH') {
        const input = multipartSettings(req, body);
        call.note = Object.keys(input ?? {}).join(',');
        Object.assign(script.metadata, { settings: { ...(script.metadata.settings ?? {}), ...input } });
      }
      return [
        200,
        envelope({
          bindings: script.metadata.bindings ?? [],
          compatibility_date: script.metadata.compatibility_date,
          compatibility_flags: script.metadata.compatibility_flags ?? [],
          logpush: false,
          observability: script.metadata.observability ?? null,
          tail_consumers: null,
          placement: {},
          usage_model: 'standard',
          ...(script.metadata.settings ?? {}),
        }),
      ];
    }
    if ((m = path.match(/^\/workers\/scripts\/([^/]+)\/schedules$/))) {
      const script = state.scripts.get(m[1]);
      if (!script) return [404, failure(10007, 'This Worker does not exist on your account.')];
      if (method === 'PUT') {
        script.schedules = JSON.parse(body);
        call.note = script.schedules.map((s) => s.cron).join(' ');
      }
      return [200, envelope({ schedules: script.schedules })];
    }
    if ((m = path.match(/^\/workers\/scripts\/([^/]+)\/subdomain$/))) {
      const script = state.scripts.get(m[1]);
      if (!script) return [404, failure(10007, 'This Worker does not exist on your account.')];
      if (method === 'POST') {
        const input = JSON.parse(body);
        call.note = `enabled=${input.enabled}`;
        script.workers_dev = Boolean(input.enabled);
      }
      return [200, envelope({ enabled: script.workers_dev, previews_enabled: false })];
    }
    if ((m = path.match(/^\/workers\/scripts\/([^/]+)\/deployments$/))) {
      const script = state.scripts.get(m[1]);
      if (!script) return [404, failure(10007, 'This Worker does not exist on your account.')];
      const latest = script.versions[script.versions.length - 1];
      const deployment = {
        id: randomUUID(),
        source: 'wrangler',
        strategy: 'percentage',
        created_on: script.modified_on,
        versions: [{ version_id: latest, percentage: 100 }],
      };
      return [200, envelope(method === 'POST' ? deployment : { deployments: [deployment] })];
    }
    if ((m = path.match(/^\/workers\/scripts\/([^/]+)\/assets-upload-session$/)) && method === 'POST') {
      const script = state.scripts.get(m[1]);
      const input = JSON.parse(body) as { manifest: Record<string, { hash: string; size: number }> };
      call.note = `${Object.keys(input.manifest).length} files`;
      const jwt = sessionJwt();
      if (script) script.assetsJwt = jwt;
      // Every file is new: one bucket of all hashes.
      return [200, envelope({ jwt, buckets: [Object.values(input.manifest).map((f) => f.hash)] })];
    }
    if (path === '/workers/assets/upload' && method === 'POST') {
      return [201, envelope({ jwt: sessionJwt() })];
    }
    // ---- Workers custom domains
    if (path === '/workers/domains/records' && method === 'GET') {
      const service = url.searchParams.get('service');
      return [200, envelope(state.domains.filter((d) => !service || d.service === service))];
    }
    if ((m = path.match(/^\/workers\/scripts\/([^/]+)\/domains\/changeset$/)) && method === 'POST') {
      const input = JSON.parse(body) as { hostname: string; zone_name?: string }[];
      call.note = input.map((d) => d.hostname).join(',');
      // What attaching these domains would change: new ones are added, ours are unchanged.
      const mine = (h: string) => state.domains.find((d) => d.hostname === h);
      return [
        200,
        envelope({
          added: input.filter((d) => !mine(d.hostname)).map((d) => ({ ...d, id: '' })),
          removed: [],
          updated: input
            .filter((d) => mine(d.hostname))
            .map((d) => ({ ...mine(d.hostname)!, modified: mine(d.hostname)!.service !== m![1] })),
          conflicting: [],
        }),
      ];
    }
    if ((m = path.match(/^\/workers\/scripts\/([^/]+)\/domains\/records$/)) && method === 'PUT') {
      const input = JSON.parse(body) as {
        origins: { hostname: string }[];
        override_scope?: boolean;
        override_existing_origin?: boolean;
      };
      call.note = input.origins.map((o) => o.hostname).join(',');
      for (const o of input.origins) {
        if (!state.domains.some((d) => d.hostname === o.hostname))
          state.domains.push({
            id: randomUUID(),
            hostname: o.hostname,
            service: m[1],
            zone_name: o.hostname.split('.').slice(-2).join('.'),
          });
      }
      return [200, envelope(state.domains.filter((d) => d.service === m![1]))];
    }
    return null;
  }

  function findDb(idOrName: string) {
    return state.databases.get(idOrName) ?? [...state.databases.values()].find((d) => d.name === idOrName);
  }
  function findQueue(idOrName: string) {
    return [...state.queues.values()].find((q) => q.queue_id === idOrName || q.queue_name === idOrName);
  }
  function d1Info(d: Database) {
    return {
      uuid: d.uuid,
      name: d.name,
      created_at: d.created_at,
      version: 'production',
      num_tables: 0,
      file_size: 0,
      jurisdiction: d.jurisdiction,
      running_in_region: d.primary_location_hint?.toUpperCase() ?? 'WEUR',
    };
  }
  function queueInfo(q: Queue) {
    return {
      queue_id: q.queue_id,
      queue_name: q.queue_name,
      created_on: '',
      modified_on: '',
      producers: [],
      producers_total_count: 0,
      consumers: q.consumers,
      consumers_total_count: q.consumers.length,
      settings: { delivery_delay: 0, message_retention_period: 345600 },
    };
  }

  /** D1's HTTP query: statements split on `;`, one result per statement. */
  function runSql(db: Database, text: string, params: unknown[], raw: boolean) {
    const results: unknown[] = [];
    for (const statement of splitStatements(text)) {
      const started = performance.now();
      const prepared = db.sqlite.prepare(statement);
      const bound = statement.includes('?') ? (params as any[]) : [];
      let rows: any[] = [];
      let changes = 0;
      if (/^\s*(SELECT|PRAGMA|WITH)\b/i.test(statement) || /\bRETURNING\b/i.test(statement))
        rows = prepared.all(...bound);
      else changes = Number(prepared.run(...bound).changes);
      const meta = {
        duration: performance.now() - started,
        changes,
        rows_read: rows.length,
        rows_written: changes,
        last_row_id: 0,
        changed_db: changes > 0,
        size_after: 0,
        served_by: 'stand-in',
      };
      if (raw) {
        const columns = rows.length ? Object.keys(rows[0]) : [];
        results.push({ success: true, meta, results: { columns, rows: rows.map((r) => columns.map((c) => r[c])) } });
      } else results.push({ success: true, meta, results: rows.map((r) => ({ ...r })) });
    }
    return results;
  }

  const { origin } = await listenOnLoopback(server);
  return {
    origin,
    apiBaseUrl: `${origin}/client/v4`,
    state,
    calls,
    unknown,
    /** The next `times` calls matching `method` and `pattern` (the path after /client/v4) fail. */
    fail(method: string, pattern: RegExp, { status = 500, times = 1 } = {}) {
      failures.push({ method, pattern, status, times });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Splits SQL on semicolons outside strings, comments and trigger bodies (BEGIN … END). */
export function splitStatements(text: string): string[] {
  const out: string[] = [];
  let current = '';
  let depth = 0;
  const tokens = text.match(/'(?:[^']|'')*'|"(?:[^"]|"")*"|`[^`]*`|--[^\n]*|\/\*[\s\S]*?\*\/|\w+|;|[\s\S]/g) ?? [];
  for (const t of tokens) {
    if (t.startsWith('--') || t.startsWith('/*')) continue;
    if (/^BEGIN$/i.test(t) || /^CASE$/i.test(t)) depth++;
    if (/^END$/i.test(t) && depth > 0) depth--;
    if (t === ';' && depth === 0) {
      if (current.trim()) out.push(current.trim());
      current = '';
      continue;
    }
    current += t;
  }
  if (current.trim()) out.push(current.trim());
  return out;
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

/** The `metadata` part of a multipart Worker upload. */
function multipartMetadata(req: IncomingMessage, body: string): any {
  const boundary = /boundary=([^;]+)/.exec(String(req.headers['content-type']))?.[1];
  if (!boundary) return null;
  for (const part of body.split(`--${boundary}`)) {
    if (/name="metadata"/.test(part)) {
      const json = part.slice(part.indexOf('\r\n\r\n') + 4).replace(/\r\n$/, '');
      return JSON.parse(json);
    }
  }
  return null;
}

function multipartSettings(req: IncomingMessage, body: string): any {
  if (String(req.headers['content-type']).startsWith('application/json')) return JSON.parse(body || '{}');
  const boundary = /boundary=([^;]+)/.exec(String(req.headers['content-type']))?.[1];
  if (!boundary) return {};
  for (const part of body.split(`--${boundary}`)) {
    if (/name="settings"/.test(part)) return JSON.parse(part.slice(part.indexOf('\r\n\r\n') + 4).replace(/\r\n$/, ''));
  }
  return {};
}
