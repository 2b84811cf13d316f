// `npm run db:backup -- [--remote | --persist-to DIR] [--config FILE] [--env NAME] FILE`
// Writes the D1 database (binding DB) to one SQL file that `npm run db:restore` loads into an empty
// database: every table's rows, d1_migrations included, with triggers created last.
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backupText, inexactCells, parentsFirst, readStructure, rowsOf } from './d1-dump.mjs';
import { UsageError, describe, exportRows, localStateDir, parseOptions, schemaObjects } from './d1-wrangler.mjs';

const USAGE = `Usage: npm run db:backup -- [--remote | --persist-to DIR] [--config FILE] [--env NAME] FILE
  (no flag)         the local database \`npm start\` uses (.wrangler/state)
  --persist-to DIR  a local database kept in DIR (as \`wrangler dev --persist-to DIR\`)
  --remote          the deployed database (CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID, or \`wrangler login\`)
  --config, --env   passed to wrangler (a production configuration)`;

function main() {
  const opts = parseOptions(process.argv.slice(2), USAGE);
  const source = describe(opts);
  const state = localStateDir(opts);
  // wrangler would quietly create an empty database where none is; a backup of nothing helps no one.
  if (state && !existsSync(join(state, 'v3/d1')))
    throw new UsageError(`No local database in ${state} (no v3/d1 there). Nothing was written.`);

  console.log(`Backing up ${source}…`);
  const objects = schemaObjects(opts);
  if (!objects.some((o) => o.type === 'table'))
    throw new UsageError(`${source} has no tables: nothing to back up. Nothing was written.`);
  const { tables, others } = readStructure(opts, objects);
  const ordered = parentsFirst(tables);

  const work = mkdtempSync(join(tmpdir(), 'd1-backup-'));
  let exported;
  try {
    exportRows(opts, join(work, 'rows.sql'));
    exported = readFileSync(join(work, 'rows.sql'), 'utf8');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const { rows, sequence } = rowsOf(exported, tables);
  const exact = inexactCells(opts, tables);

  const takenAt = new Date().toISOString();
  const text = backupText({ source, takenAt, tables: ordered, others, rows, sequence, exact });
  // Written next to FILE, then renamed: an interrupted backup never leaves half a file under its name.
  const partial = `${opts.file}.partial`;
  // Readable by the operator alone: a backup holds every webhook secret and all users' data.
  rmSync(partial, { force: true });
  writeFileSync(partial, text, { mode: 0o600 });
  renameSync(partial, opts.file);

  console.log(`Wrote ${opts.file} (${Math.ceil(statSync(opts.file).size / 1024)} KiB), taken ${takenAt}:`);
  const width = Math.max(...ordered.map((t) => t.name.length));
  for (const t of ordered)
    console.log(`  ${t.name.padEnd(width)}  ${String(rows.get(t.name).length).padStart(8)} rows`);
  const count = (type) => others.filter((o) => o.type === type).length;
  console.log(
    `  ${ordered.length} tables, ${count('index')} indexes, ${count('view')} views, ${count('trigger')} triggers (created last on restore).`,
  );
  const fixed = [...exact.values()].flat();
  if (fixed.length)
    console.log(`  ${fixed.length} value(s) that wrangler's export writes inexactly were read again exactly.`);
  const unfixable = fixed.filter((c) => c.where === null).length;
  if (unfixable)
    console.warn(
      `  Warning: ${unfixable} such value(s) are in tables without a primary key and are kept as the export wrote them.`,
    );
}

try {
  main();
} catch (e) {
  console.error(`db:backup failed: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
}
