// `npm run db:restore -- [--remote | --persist-to DIR] [--config FILE] [--env NAME] FILE`
// Loads a file written by `npm run db:backup` into an EMPTY D1 database (binding DB), then checks
// it: the rows per table the backup recorded, and `PRAGMA foreign_key_check`.
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { readHeader } from './d1-dump.mjs';
import {
  UsageError,
  describe,
  importFile,
  parseOptions,
  query,
  rowCounts,
  schemaObjects,
  tablesAndViews,
} from './d1-wrangler.mjs';

const USAGE = `Usage: npm run db:restore -- [--remote | --persist-to DIR] [--config FILE] [--env NAME] FILE
  (no flag)         the local database \`npm start\` uses (.wrangler/state)
  --persist-to DIR  a local database kept in DIR (as \`wrangler dev --persist-to DIR\`)
  --remote          the database in the wrangler configuration's [[d1_databases]] DB entry
  --config, --env   passed to wrangler (a production configuration)
The target must be empty (no tables): create one with \`npx wrangler d1 create NAME\`.`;

/** The start of the file: enough for the header, without reading a large backup twice. */
function head(file) {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    return buf.subarray(0, readSync(fd, buf, 0, buf.length, 0)).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function main() {
  const opts = parseOptions(process.argv.slice(2), USAGE);
  if (!existsSync(opts.file)) throw new UsageError(`${opts.file} does not exist.`);
  const backup = readHeader(head(opts.file), opts.file);
  const target = describe(opts);

  const names = tablesAndViews(opts);
  if (names.length) {
    throw new UsageError(
      `${target} is not empty (${names.length} tables and views: ${names.slice(0, 6).join(', ')}${names.length > 6 ? ', …' : ''}). ` +
        'A restore only loads into an empty database, so nothing was changed. ' +
        (opts.remote
          ? "Create one with `npx wrangler d1 create NAME`, point a configuration's DB binding at it, and restore with --config."
          : 'Restore into another --persist-to directory, or stop `npm start` and move .wrangler/state/v3/d1 aside.'),
    );
  }

  console.log(`Restoring ${opts.file} (taken ${backup.takenAt} from ${backup.source}) into ${target}…`);
  try {
    importFile(opts, opts.file);
  } catch (e) {
    // The load is one transaction (locally one batch; D1 rolls a failed remote import back): say what is left.
    let left;
    try {
      left = tablesAndViews(opts).length
        ? `${target} now holds part of the load: empty it before trying again.`
        : `Nothing was changed: ${target} is still empty.`;
    } catch {
      left = `Check whether ${target} is still empty before trying again.`;
    }
    throw new Error(`${e.message}\n${left}`);
  }

  const counts = rowCounts(opts, Object.keys(backup.rows));
  const [violations] = query(opts, 'PRAGMA foreign_key_check');
  const triggers = schemaObjects(opts).filter((o) => o.type === 'trigger').length;
  const width = Math.max(...Object.keys(backup.rows).map((t) => t.length));
  const wrong = [];
  console.log(`Restored into ${target}:`);
  for (const [table, expected] of Object.entries(backup.rows)) {
    const got = counts[table];
    if (got !== expected) wrong.push(`${table}: ${got} rows, the backup has ${expected}`);
    console.log(
      `  ${table.padEnd(width)}  ${String(got).padStart(8)} rows${got === expected ? '' : `  ≠ ${expected} in the backup`}`,
    );
  }
  if (wrong.length || violations.length) {
    throw new Error(
      `${[
        ...wrong,
        ...(violations.length
          ? [`PRAGMA foreign_key_check: ${violations.length} violation(s), e.g. ${JSON.stringify(violations[0])}`]
          : []),
      ].join('\n')}\n${target} now holds this load; empty it before trying again.`,
    );
  }
  console.log(
    `  Every table has the backup's row count; PRAGMA foreign_key_check is clean; ${triggers} triggers created after the rows (none fired).`,
  );
}

try {
  main();
} catch (e) {
  console.error(`db:restore failed: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
}
