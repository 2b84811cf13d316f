/*
 * A production configuration beside the local one changes nothing for local work: `npm start`
 * (scripts/dev.mjs: wrangler dev) and the tests keep reading wrangler.toml, its local APP_URL and
 * the development key.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { experimental_readRawConfig } from 'wrangler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PRODUCTION_CONFIG, writeProductionConfig } from '../../scripts/deploy/production-config.mjs';
import { DEEP_HEALTH_CHECKS } from '../standins/cloudflare-api';

const PORT = '8797';
const production = path.resolve(DEFAULT_PRODUCTION_CONFIG);
/** The Worker name this test's file carries, so that a run killed before cleaning up is recognised. */
const TEST_NAME = 'local-untouched-test';

describe('local work beside wrangler.production.json', () => {
  const leftover = existsSync(production) && JSON.parse(readFileSync(production, 'utf8')).name === TEST_NAME;
  const ours = leftover || !existsSync(production);
  let dev: ReturnType<typeof spawn> | undefined;

  beforeAll(() => {
    // An operator's file as `npm run deploy` writes it (an existing one is left as it is).
    if (ours) {
      writeProductionConfig(
        DEFAULT_PRODUCTION_CONFIG,
        {
          name: TEST_NAME,
          hostname: 'invitations.example.test',
          workersDev: false,
          from: 'invitations@example.test',
          transport: 'resend',
          database: 'invitations-prod',
        },
        { origin: 'https://invitations.example.test', databaseId: '11111111-2222-3333-4444-555555555555' },
      );
    }
  });
  afterAll(() => {
    dev?.kill('SIGTERM');
    if (ours) rmSync(production, { force: true });
  });

  it("wrangler's own look-up (dev, types, local migrations) still finds wrangler.toml", () => {
    const { configPath } = experimental_readRawConfig({});
    expect(path.basename(configPath ?? '')).toBe('wrangler.toml');
  });

  it('npm start serves locally: deep health is green with the local APP_URL and development key', async () => {
    dev = spawn(process.execPath, ['scripts/dev.mjs'], {
      env: { ...process.env, PORT, CI: 'true' },
      stdio: 'ignore',
      detached: false,
    });
    let health: { status: number; body: any } | null = null;
    for (let i = 0; i < 120 && !health; i++) {
      health = await fetch(`http://127.0.0.1:${PORT}/healthz?deep=1`).then(
        async (r) => ({ status: r.status, body: await r.json() }),
        () => null,
      );
      if (!health) await new Promise((r) => setTimeout(r, 500));
    }
    // With the production file's https APP_URL and the development key, every check would fail.
    expect(health?.status, JSON.stringify(health?.body)).toBe(200);
    expect(health?.body.checks).toMatchObject({
      app_url: { ok: true },
      signing_key: { ok: true },
      email: { ok: true, transport: 'cloudflare' },
    });
    // The stand-in of test/ops/deploy.test.ts answers with the same checks, and the deploy command reads them by name.
    expect(Object.keys(health?.body.checks ?? {}).sort()).toEqual([...DEEP_HEALTH_CHECKS].sort());
  });
});
