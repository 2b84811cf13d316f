// Copies the API reference's script (Scalar's standalone bundle, an npm dependency) into public/,
// the Worker's static assets: /docs is served from this origin, never from a third-party CDN.
// Runs after `npm install` / `npm ci` (postinstall), and again from `npm start`.
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';

const from = 'node_modules/@scalar/api-reference/dist/browser/standalone.js';
if (!existsSync(from)) {
  console.warn(`docs-assets: ${from} is missing; /docs will have no script until \`npm install\` runs.`);
} else {
  mkdirSync('public/docs', { recursive: true });
  copyFileSync(from, 'public/docs/scalar.js');
}
