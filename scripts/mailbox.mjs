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

/** Emails written at or after `notBefore` (ms), decoded, newest first: `{ to, raw }`. */
function* emails({ notBefore = 0, root = '.wrangler' } = {}) {
  const files = [...emlFiles(root)]
    .map((file) => ({ file, mtime: statSync(file).mtimeMs }))
    .filter(({ mtime }) => mtime >= notBefore)
    .sort((a, b) => b.mtime - a.mtime);
  for (const { file } of files) {
    const raw = decode(readFileSync(file, 'utf8'));
    const to = /^To: .*?<?([^<>\s]+@[^<>\s]+)>?\s*$/im.exec(raw)?.[1]?.toLowerCase();
    yield { to, raw };
  }
}

const linkPattern = (path) => new RegExp(`https?://[^\\s"<]+/${path}\\?token=[\\w.%-]+`);

/**
 * The link (`…/{path}?token=…`) of the newest email to `address` written at or after `notBefore`
 * (ms), or null. `path` defaults to any tokenized link.
 */
export function newestLink(address, { path = '[\\w/-]+', notBefore = 0, root = '.wrangler' } = {}) {
  const wanted = address.trim().toLowerCase();
  const link = linkPattern(path);
  for (const { to, raw } of emails({ notBefore, root })) {
    const found = to === wanted && link.exec(raw)?.[0];
    if (found) return found;
  }
  return null;
}

/** Every address's newest link of `path` in emails written at or after `notBefore`: one pass over the files. */
export function linksByAddress({ path = '[\\w/-]+', notBefore = 0, root = '.wrangler' } = {}) {
  const link = linkPattern(path);
  const out = new Map();
  for (const { to, raw } of emails({ notBefore, root })) {
    const found = link.exec(raw)?.[0];
    if (to && found && !out.has(to)) out.set(to, found);
  }
  return out;
}
