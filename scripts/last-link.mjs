// `npm run -s last-link -- someone@example.com`: prints the link of the newest email that the local
// `send_email` binding wrote for that address (wrangler dev saves each message as a .eml file under
// .wrangler/tmp). Add --token to print only the token.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const tokenOnly = args.includes('--token');
const address = args.find((a) => !a.startsWith('--'))?.trim().toLowerCase();
if (!address) {
  console.error('usage: npm run -s last-link -- <email> [--token]');
  process.exit(2);
}

function* emlFiles(dir) {
  let entries = [];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* emlFiles(path);
    else if (entry.name.endsWith('.eml')) yield path;
  }
}

const newest = [...emlFiles('.wrangler/tmp')]
  .map((path) => ({ path, mtime: statSync(path).mtimeMs, raw: readFileSync(path, 'utf8') }))
  .filter(({ raw }) => new RegExp(`^To: .*<?${address.replace(/[.+]/g, '\\$&')}>?`, 'im').test(raw))
  .sort((a, b) => b.mtime - a.mtime)[0];
if (!newest) {
  console.error(`No email to ${address} under .wrangler/tmp yet.`);
  process.exit(1);
}
// Parts may be base64 (non-ASCII text): decode those before looking for the link.
const decoded = newest.raw.replace(
  /Content-Transfer-Encoding: base64\r?\n\r?\n([A-Za-z0-9+/=\r\n]+)/g,
  (_, b64) => Buffer.from(b64.replace(/\s+/g, ''), 'base64').toString('utf8'),
);
const link = /https?:\/\/\S+?\?token=[\w.%-]+/.exec(decoded)?.[0];
if (!link) {
  console.error(`The newest email to ${address} (${newest.path}) has no link.`);
  process.exit(1);
}
console.log(tokenOnly ? decodeURIComponent(new URL(link).searchParams.get('token')) : link);
