// Prints the SQL of better-auth's own schema for the peer's options (core tables and the
// organization plugin's), as better-auth's migration planner compiles it for SQLite against an
// empty database. `node bench/peers/better-auth/schema.mjs > bench/peers/better-auth/migrations/0000_better_auth.sql`
// regenerates the peer's D1 migration (after a better-auth upgrade).
import { readFileSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { bearer, organization } from 'better-auth/plugins';
import { getMigrations } from 'better-auth/db/migration';

const { compileMigrations } = await getMigrations({
  database: new DatabaseSync(':memory:'),
  emailAndPassword: { enabled: true },
  plugins: [bearer(), organization({ invitationLimit: 10 })],
});
const sql = await compileMigrations();
const { version } = JSON.parse(
  readFileSync(new URL('../../../node_modules/better-auth/package.json', import.meta.url), 'utf8'),
);
process.stdout.write(
  `-- better-auth ${version}'s schema (user, session, account, verification, organization, member,\n-- invitation), compiled by bench/peers/better-auth/schema.mjs with better-auth's getMigrations.\n${sql.trim().replace(/;?$/, ';')}\n`,
);
