// The production wrangler configuration: wrangler.toml (the one `npm start` and the tests read)
// with the operator's values put in, written to its own file. wrangler.toml is never changed, so
// local work never sees an https APP_URL, and a deployment never sees the local one.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { experimental_readRawConfig } from 'wrangler';
import { StepError } from '../lib/wrangler.mjs';

const root = path.resolve(import.meta.dirname, '../..');

export const DEFAULT_PRODUCTION_CONFIG = 'wrangler.production.json';

/** Per-IP rate-limit namespaces of production's own (the local ones are 8001, 8002, …). */
const PRODUCTION_NAMESPACE_BASE = 1000;

/** D1's location hints (`wrangler d1 create --location`): where a new database's primary lives. */
export const D1_LOCATIONS = ['weur', 'eeur', 'apac', 'oc', 'wnam', 'enam'];

/**
 * Durable Objects' location hints, for COORDINATOR_LOCATION_HINT (SPEC §19): every D1 hint is one
 * of them, so a coordinator can always be put beside the primary.
 */
export const COORDINATOR_LOCATIONS = ['wnam', 'enam', 'sam', 'weur', 'eeur', 'apac', 'oc', 'afr', 'me'];

/** Development knobs at their production value on a first run, whatever wrangler.toml says. */
const PRODUCTION_VARS = { RATE_LIMIT_SCALE: '1', DELIVERY_RETRY_SCALE: '1', WEBHOOK_RETRY_SCALE: '1' };

/**
 * What a previous run decided, read back from the production file: a rerun (an upgrade) needs no
 * flags. Returns {} when there is no file yet.
 */
export function previousSettings(file) {
  const full = path.resolve(root, file);
  if (!existsSync(full)) return {};
  const config = JSON.parse(readFileSync(full, 'utf8'));
  const domain = (config.routes ?? []).find((r) => r.custom_domain)?.pattern;
  return {
    name: config.name,
    hostname: domain ?? null,
    workersDev: !domain && config.workers_dev === true,
    from: config.vars?.EMAIL_FROM,
    transport: config.vars?.EMAIL_TRANSPORT,
    database: config.d1_databases?.[0]?.database_name,
    namespaces: (config.ratelimits ?? []).map((r) => r.namespace_id),
    coordinatorLocation: config.vars?.COORDINATOR_LOCATION_HINT,
    // Vars the operator set in this file (EMAIL_SEND_RATE_PER_SECOND, RETENTION_DAYS, …) outlive reruns.
    vars: config.vars ?? {},
  };
}

/** The local configuration as written, the base of production's. */
export function localConfig() {
  return experimental_readRawConfig({ config: path.join(root, 'wrangler.toml') }).rawConfig;
}

/**
 * Builds and writes the production file. `origin` is the deployed https origin; `databaseId` the
 * remote D1's uuid. Paths in the file are relative to where it is written, as wrangler reads them.
 */
export function writeProductionConfig(file, settings, { origin, databaseId }) {
  const base = localConfig();
  const full = path.resolve(root, file);
  const rel = (p) => path.relative(path.dirname(full), path.resolve(root, p)) || '.';
  const [db, ...otherDbs] = base.d1_databases ?? [];
  if (!db || otherDbs.length) throw new StepError('wrangler.toml must declare exactly one D1 database.');
  const config = {
    $schema: rel('node_modules/wrangler/config-schema.json'),
    ...base,
    name: settings.name,
    main: rel(base.main),
    vars: {
      ...base.vars,
      ...PRODUCTION_VARS,
      ...settings.vars,
      APP_URL: origin,
      EMAIL_FROM: settings.from,
      EMAIL_TRANSPORT: settings.transport,
      // Where each organization's coordinator is first created: beside the D1 primary (SPEC §19).
      ...(settings.coordinatorLocation === undefined
        ? {}
        : { COORDINATOR_LOCATION_HINT: settings.coordinatorLocation }),
    },
    d1_databases: [
      {
        ...db,
        database_name: settings.database,
        database_id: databaseId,
        migrations_dir: rel(db.migrations_dir ?? 'migrations'),
      },
    ],
    ratelimits: (base.ratelimits ?? []).map((r, i) => ({
      ...r,
      namespace_id: settings.namespaces?.[i] ?? String(PRODUCTION_NAMESPACE_BASE + i + 1),
    })),
    ...(base.assets ? { assets: { ...base.assets, directory: rel(base.assets.directory) } } : {}),
    workers_dev: settings.workersDev,
    routes: settings.workersDev ? [] : [{ pattern: settings.hostname, custom_domain: true }],
  };
  writeFileSync(full, `${JSON.stringify(config, null, 2)}\n`);
  return { file: full, config };
}
