// Reads the emails that the local `send_email` binding writes as .eml files under .wrangler/.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

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

/** Base64 parts (non-ASCII text) decoded in place, so links can be found in them. */
const decode = (raw) =>
  raw.replace(/Content-Transfer-Encoding: base64\r?\n\r?\n([A-Za-z0-9+/=\r\n]+)/g, (_, b64) =>
    Buffer.from(b64.replace(/\s+/g, ''), 'base64').toString('utf8'),
  );

/**
 * The link (`…/{path}?token=…`) of the newest email to `address` written at or after `notBefore`
 * (ms), or null. `path` defaults to any tokenized link.
 */
export function newestLink(address, { path = '[\\w/-]+', notBefore = 0, root = '.wrangler' } = {}) {
  const to = new RegExp(`^To: .*<?${address.trim().toLowerCase().replace(/[.+]/g, '\\$&')}>?`, 'im');
  const link = new RegExp(`https?://[^\\s"<]+/${path}\\?token=[\\w.%-]+`);
  const files = [...emlFiles(root)]
    .map((file) => ({ file, mtime: statSync(file).mtimeMs }))
    .filter(({ mtime }) => mtime >= notBefore)
    .sort((a, b) => b.mtime - a.mtime);
  for (const { file } of files) {
    const raw = decode(readFileSync(file, 'utf8'));
    if (!to.test(raw)) continue;
    const found = link.exec(raw)?.[0];
    if (found) return found;
  }
  return null;
}

/** Every address's newest link of `path` in emails written at or after `notBefore`: one pass over the files. */
export function linksByAddress({ path = '[\\w/-]+', notBefore = 0, root = '.wrangler' } = {}) {
  const link = new RegExp(`https?://[^\\s"<]+/${path}\\?token=[\\w.%-]+`);
  const out = new Map();
  const files = [...emlFiles(root)]
    .map((file) => ({ file, mtime: statSync(file).mtimeMs }))
    .filter(({ mtime }) => mtime >= notBefore)
    .sort((a, b) => a.mtime - b.mtime);
  for (const { file } of files) {
    const raw = decode(readFileSync(file, 'utf8'));
    const to = /^To: .*?<?([^<>\s]+@[^<>\s]+)>?\s*$/im.exec(raw)?.[1]?.toLowerCase();
    const found = link.exec(raw)?.[0];
    if (to && found) out.set(to, found);
  }
  return out;
}
