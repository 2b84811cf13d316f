// `npm start`: a local signing key if missing, local D1 migrated, then `wrangler dev` on 127.0.0.1:8787.
// Everything runs on this machine (local D1 = SQLite, local Durable Objects); no account, no internet.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync } from 'node:fs';

if (!existsSync('.dev.vars')) {
  copyFileSync('.dev.vars.example', '.dev.vars');
  console.log('Created .dev.vars from .dev.vars.example (local signing key).');
}

// The API reference's script (/docs/scalar.js), in case `npm install` ran with scripts disabled.
spawnSync(process.execPath, ['scripts/docs-assets.mjs'], { stdio: 'inherit' });

const migrate = spawnSync('wrangler', ['d1', 'migrations', 'apply', 'DB', '--local'], {
  stdio: ['ignore', 'inherit', 'inherit'],
  env: { ...process.env, CI: 'true' },
});
if (migrate.status !== 0) process.exit(migrate.status ?? 1);

const port = process.env.PORT ?? '8787';
const dev = spawn('wrangler', ['dev', '--ip', '127.0.0.1', '--port', port, ...process.argv.slice(2)], {
  stdio: 'inherit',
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => dev.kill(signal));
dev.on('exit', (code) => process.exit(code ?? 0));
