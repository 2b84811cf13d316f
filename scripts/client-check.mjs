// `npm run client:check`: fails when the client's committed types (clients/typescript/src/schema.d.ts)
// differ from what openapi-typescript generates from the committed document (drift).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const fresh = join(mkdtempSync(join(tmpdir(), 'client-')), 'schema.d.ts');
const run = spawnSync('openapi-typescript', ['openapi/openapi.json', '--default-non-nullable', 'false', '-o', fresh], {
  stdio: 'inherit',
});
if (run.status !== 0) process.exit(run.status ?? 1);
const committed = 'clients/typescript/src/schema.d.ts';
if (readFileSync(fresh, 'utf8') !== readFileSync(committed, 'utf8')) {
  console.error(
    `${committed} is out of date with openapi/openapi.json. Run \`npm run client:generate\` and commit it.`,
  );
  process.exit(1);
}
console.log(`${committed} matches openapi/openapi.json.`);
