import { sql } from 'drizzle-orm';
import type { Db } from './env';
import { transportFor } from './delivery/transports';
import { appUrlProblem, signingKeyProblem } from './lib/deployment';
import { errorMessage } from './lib/redact';

/**
 * The newest migration bundled with this Worker (wrangler records applied ones by file name in
 * `d1_migrations`). test/health.test.ts fails when a newer file lands in migrations/ without it.
 */
export const NEWEST_MIGRATION = '0015_invitee_side.sql';

interface Check {
  ok: boolean;
  problem?: string;
  [detail: string]: unknown;
}

/**
 * Deep health (SPEC §15): every check a user's flow depends on, each named, none carrying a
 * secret. `ok` only when all hold.
 */
export async function deepHealth(
  env: Env,
  db: Db,
  requestUrl: string,
): Promise<{ ok: boolean; checks: Record<string, Check> }> {
  const transport = transportFor(env);
  const appUrl = appUrlProblem(env, requestUrl);
  const key = signingKeyProblem(env);
  const checks: Record<string, Check> = {
    migrations: await migrationsCheck(db),
    email: transport.ok ? { ok: true, transport: transport.transport.name } : { ok: false, problem: transport.reason },
    signing_key: key ? { ok: false, problem: key } : { ok: true },
    app_url: appUrl ? { ok: false, problem: appUrl } : { ok: true },
    delivery_queue: env.DELIVERY_QUEUE
      ? { ok: true }
      : { ok: false, problem: 'The DELIVERY_QUEUE binding is missing.' },
  };
  return { ok: Object.values(checks).every((c) => c.ok), checks };
}

async function migrationsCheck(db: Db): Promise<Check> {
  const fix = 'Apply them: npm run deploy (or wrangler d1 migrations apply DB --remote).';
  try {
    const [row] = await db.all<{ newest: string | null; bundled: number }>(
      sql`SELECT (SELECT name FROM d1_migrations ORDER BY id DESC LIMIT 1) AS newest,
        EXISTS (SELECT 1 FROM d1_migrations WHERE name = ${NEWEST_MIGRATION}) AS bundled`,
    );
    if (row?.bundled) return { ok: true, newest: NEWEST_MIGRATION };
    return {
      ok: false,
      newest: NEWEST_MIGRATION,
      applied: row?.newest ?? null,
      problem: `The newest migration, ${NEWEST_MIGRATION}, is not applied to D1. ${fix}`,
    };
  } catch (err) {
    // No d1_migrations table: nothing was ever applied to this database.
    return {
      ok: false,
      newest: NEWEST_MIGRATION,
      applied: null,
      problem: `D1 has no applied migrations (${errorMessage(err, 80)}). ${fix}`,
    };
  }
}
