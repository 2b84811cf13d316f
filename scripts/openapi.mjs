// `npm run openapi [-- --check]`: writes the OpenAPI document the Worker serves to
// openapi/openapi.json (started with `wrangler dev` on a fresh local database), or with --check
// fails when the committed file differs from what the Worker serves now (drift).
import { readFileSync, writeFileSync } from 'node:fs';
import { startWorker, stopWorker } from '../bench/servers.mjs';

const FILE = 'openapi/openapi.json';
const check = process.argv.includes('--check');
const worker = await startWorker({
  name: 'openapi',
  port: 8793,
  inspectorPort: 9243,
  stateDir: '.wrangler/openapi-state',
});
let served;
try {
  served = `${JSON.stringify(await (await fetch(`${worker.origin}/openapi.json`)).json(), null, 2)}\n`;
} finally {
  stopWorker(worker);
}
if (check) {
  let committed = '';
  try {
    committed = readFileSync(FILE, 'utf8');
  } catch {
    // missing: drift
  }
  if (committed !== served) {
    console.error(
      `${FILE} differs from the document the Worker serves. Run \`npm run openapi\` and commit the result.`,
    );
    process.exit(1);
  }
  console.log(`${FILE} matches the served document.`);
} else {
  writeFileSync(FILE, served);
  console.log(`wrote ${FILE}`);
}
