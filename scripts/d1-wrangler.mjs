// The D1 database behind the `DB` binding, reached through the real wrangler CLI: which database a
// command means (--remote, --persist-to DIR, or the local one `npm start` uses), queries, export, import.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { plain, WRANGLER } from './lib/wrangler.mjs';

export const BINDING = 'DB';
const CONFIG_NAMES = ['wrangler.jsonc', 'wrangler.json', 'wrangler.toml'];

/** A failure the user can act on: printed without a stack trace. */
export class UsageError extends Error {}

/**
 * `[--remote | --persist-to DIR] [--config FILE] [--env NAME] FILE` → the options every command takes.
 * @returns {{ file: string, remote: boolean, persistTo?: string, config?: string, env?: string }}
 */
export function parseOptions(argv, usage) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        remote: { type: 'boolean', default: false },
        'persist-to': { type: 'string' },
        config: { type: 'string', short: 'c' },
        env: { type: 'string', short: 'e' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError(`${e.message}\n${usage}`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  if (positionals.length !== 1) throw new UsageError(`Give exactly one FILE.\n${usage}`);
  if (values.remote && values['persist-to'])
    throw new UsageError(
      `--remote and --persist-to are exclusive: a remote database is not kept in a local directory.\n${usage}`,
    );
  return {
    file: positionals[0],
    remote: values.remote,
    persistTo: values['persist-to'],
    config: values.config,
    env: values.env,
  };
}

/** "the remote database", "the local database in DIR", or the one `npm start` uses. */
export function describe(opts) {
  if (opts.remote)
    return `the remote database (binding ${BINDING}${opts.config ? `, ${opts.config}` : ''}${opts.env ? `, env ${opts.env}` : ''})`;
  if (opts.persistTo) return `the local database in ${opts.persistTo}`;
  return 'the local database of `npm start` (.wrangler/state)';
}

/** The directory wrangler keeps a local database in (`<DIR>/v3/d1`), or undefined for --remote. */
export function localStateDir(opts) {
  if (opts.remote) return undefined;
  return resolve(
    opts.persistTo ?? join(opts.config ? dirname(resolve(opts.config)) : process.cwd(), '.wrangler/state'),
  );
}

const configFlags = (opts) => [
  ...(opts.config ? ['--config', opts.config] : []),
  ...(opts.env ? ['--env', opts.env] : []),
];
const whereFlags = (opts) =>
  opts.remote ? ['--remote'] : ['--local', ...(opts.persistTo ? ['--persist-to', opts.persistTo] : [])];

/** Runs wrangler with the same Node as this script; throws with wrangler's own error text. */
function wrangler(args) {
  const res = spawnSync(process.execPath, [WRANGLER, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', WRANGLER_LOG_SANITIZE: 'true' },
  });
  if (res.error) throw res.error;
  if (res.status === 0) return res.stdout;
  let detail = '';
  try {
    detail = JSON.parse(res.stdout.trim()).error?.text ?? '';
  } catch {
    // not --json output
  }
  const output = plain(`${res.stderr}\n${res.stdout}`);
  detail ||=
    output
      .split('\n')
      .filter((l) => /✘|ERROR|Error/.test(l))
      .join('\n') || output.trim();
  throw new Error(`wrangler ${args.slice(0, 2).join(' ')} failed (exit ${res.status}): ${detail.trim()}`);
}

/**
 * Runs `sql` (one or more statements) with `wrangler d1 execute --json --command`, and returns each
 * statement's rows.
 * @returns {Record<string, unknown>[][]}
 */
export function query(opts, sql) {
  const out = wrangler([
    'd1',
    'execute',
    BINDING,
    ...whereFlags(opts),
    ...configFlags(opts),
    '--json',
    '--command',
    sql,
  ]);
  return JSON.parse(out).map((r) => r.results ?? []);
}

/** Loads a SQL file with `wrangler d1 execute --file` (one transaction locally; remote imports roll back on failure). */
export function importFile(opts, file) {
  wrangler(['d1', 'execute', BINDING, ...whereFlags(opts), ...configFlags(opts), '--yes', '--file', file]);
}

/**
 * `wrangler d1 export --no-schema` into `output`. `d1 export` has no --persist-to: for a local database
 * kept elsewhere it runs with a copy of the config in a temporary directory whose `.wrangler/state`
 * links to that directory (wrangler looks for local state next to its config).
 */
export function exportRows(opts, output) {
  const flags = ['--no-schema', '--output', output];
  if (opts.remote) return void wrangler(['d1', 'export', BINDING, '--remote', ...configFlags(opts), ...flags]);
  if (!opts.persistTo) return void wrangler(['d1', 'export', BINDING, '--local', ...configFlags(opts), ...flags]);
  const config = opts.config ?? CONFIG_NAMES.find((name) => existsSync(name));
  if (!config)
    throw new UsageError(
      'No wrangler configuration here (wrangler.toml); run from the project directory or pass --config.',
    );
  const dir = mkdtempSync(join(tmpdir(), 'd1-export-'));
  try {
    mkdirSync(join(dir, '.wrangler'));
    symlinkSync(resolve(opts.persistTo), join(dir, '.wrangler/state'), 'junction');
    copyFileSync(config, join(dir, basename(config)));
    wrangler([
      'd1',
      'export',
      BINDING,
      '--local',
      '--config',
      join(dir, basename(config)),
      ...(opts.env ? ['--env', opts.env] : []),
      ...flags,
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Double-quoted SQL identifier. */
export const id = (name) => `"${String(name).replaceAll('"', '""')}"`;
/** Single-quoted SQL string literal. */
export const lit = (text) => `'${String(text).replaceAll("'", "''")}'`;

/** Names D1 and SQLite keep for themselves: never dumped, never counted as "not empty". */
export const NOT_INTERNAL = `name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\'`;

/** The tables and views of the database (D1's and SQLite's own aside): none means empty. */
export function tablesAndViews(opts) {
  const [rows] = query(
    opts,
    `SELECT name FROM sqlite_schema WHERE ${NOT_INTERNAL} AND type IN ('table', 'view') ORDER BY rowid`,
  );
  return rows.map((r) => String(r.name));
}

/** The tables, indexes, views and triggers of the database, in creation order. */
export function schemaObjects(opts) {
  const [rows] = query(
    opts,
    `SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE sql IS NOT NULL AND ${NOT_INTERNAL} ORDER BY rowid`,
  );
  return /** @type {{ type: string, name: string, tbl_name: string, sql: string }[]} */ (rows);
}

/** Row counts per table, in one command (one statement per table: D1 allows 5 terms in a compound SELECT). */
export function rowCounts(opts, tables) {
  if (tables.length === 0) return {};
  const results = query(opts, tables.map((t) => `SELECT count(*) AS n FROM ${id(t)}`).join('; '));
  return Object.fromEntries(tables.map((t, i) => [t, Number(results[i][0].n)]));
}
