// `npm run lint:layers`: dependencies point down (issue 18). Every file under src/ sits on a
// floor; a file may import only from a strictly lower floor or from its own folder, and never a
// routes file or a page. Exits 1 listing every violation.
//
// Floors, bottom to top:
//   0   src/env.ts, src/errors.ts: the base every floor may import (they may import src/db/schema.ts)
//   1   src/lib/            pure helpers; besides lib, only src/env.ts, src/errors.ts, src/db/schema.ts
//   2   src/db/             schema, session, batch, fragments (shared SQL), the outbox row and messages
//   3   src/i18n/           the message catalogues (the email templates are written in them)
//   4   src/email/, src/audit/ (writer and store), src/rate-limit/: the rest of the infrastructure
//   5   src/auth/
//   6   src/organizations/
//   7   src/invitations/
//   8   src/joins/          seats, invite links, verified domains, join requests (SPEC §16)
//   9   src/webhooks/
//   10  src/delivery/
//   11  src/me/
//   top every *.routes.ts, src/pages/, and src/{app,index,cron,health,org-coordinator,writes}.ts:
//       may import anything.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SRC = join(ROOT, 'src');

const FOLDER_FLOORS = {
  lib: 1,
  db: 2,
  i18n: 3,
  email: 4,
  audit: 4,
  'rate-limit': 4,
  auth: 5,
  organizations: 6,
  invitations: 7,
  joins: 8,
  webhooks: 9,
  delivery: 10,
  me: 11,
};
const BASE = new Set(['env.ts', 'errors.ts']);
const TOP_FILES = new Set(['app.ts', 'index.ts', 'cron.ts', 'health.ts', 'org-coordinator.ts', 'writes.ts']);
const SCHEMA = 'db/schema.ts';
const TOP = Number.POSITIVE_INFINITY;

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...walk(path));
    else if (/\.tsx?$/.test(name) && name !== 'worker-configuration.d.ts') out.push(path);
  }
  return out;
}

/** Where a file (path relative to src/) sits: its folder and floor. */
function place(rel) {
  const parts = rel.split('/');
  const folder = parts.length > 1 ? parts[0] : '';
  const name = parts[parts.length - 1];
  if (folder === '') {
    if (BASE.has(rel)) return { folder, floor: 0 };
    if (TOP_FILES.has(rel)) return { folder, floor: TOP };
    return { folder, floor: undefined };
  }
  if (folder === 'pages' || /\.routes\.tsx?$/.test(name)) return { folder, floor: TOP };
  return { folder, floor: FOLDER_FLOORS[folder] };
}

function resolveImport(fromFile, spec) {
  const base = resolve(dirname(fromFile), spec);
  for (const candidate of [base, `${base}.ts`, `${base}.tsx`, join(base, 'index.ts'), join(base, 'index.tsx')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  // `./x.js` written for `./x.ts`
  const stripped = base.replace(/\.[cm]?js$/, '');
  for (const candidate of [`${stripped}.ts`, `${stripped}.tsx`]) if (existsSync(candidate)) return candidate;
  return undefined;
}

const IMPORT_RE = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]*)['"]/gm;

const violations = [];
const unplaced = new Set();
for (const file of walk(SRC)) {
  const rel = relative(SRC, file).split('\\').join('/');
  const me = place(rel);
  if (me.floor === undefined) {
    unplaced.add(rel);
    continue;
  }
  const text = readFileSync(file, 'utf8');
  for (const match of text.matchAll(IMPORT_RE)) {
    const spec = match[1];
    const line = text.slice(0, match.index).split('\n').length;
    const where = `src/${rel}:${line}`;
    const target = resolveImport(file, spec);
    if (!target) {
      violations.push(`${where} imports '${spec}', which does not resolve to a file`);
      continue;
    }
    const trel = relative(SRC, target).split('\\').join('/');
    if (trel === 'worker-configuration.d.ts') continue;
    if (trel.startsWith('..')) {
      violations.push(`${where} imports '${spec}' from outside src/`);
      continue;
    }
    const it = place(trel);
    if (it.floor === undefined) {
      unplaced.add(trel);
      continue;
    }
    if (me.floor === TOP) continue;
    let ok;
    if (me.floor === 0 || me.floor === 1) {
      // the base and lib: themselves, each other (lib → base) and the schema's types and consts
      ok = it.floor === 0 || trel === SCHEMA || (me.floor === 1 && it.folder === 'lib');
    } else if (it.floor === TOP) {
      ok = false;
    } else {
      ok = it.floor < me.floor || it.folder === me.folder;
    }
    if (!ok) {
      const why = it.floor === TOP ? 'a routes file or page' : `floor ${it.floor} (${it.folder || 'src'}/)`;
      violations.push(`${where} (floor ${me.floor}, ${me.folder || 'src'}/) imports src/${trel}: ${why}`);
    }
  }
}

for (const rel of unplaced) violations.push(`src/${rel} is on no floor: add it to scripts/check-layers.mjs`);

if (violations.length > 0) {
  console.error(`Layering: ${violations.length} violation(s) — dependencies point down (scripts/check-layers.mjs):`);
  for (const v of violations) console.error(`  ${v}`);
  process.exit(1);
}
console.log('Layering: every import in src/ points down.');
