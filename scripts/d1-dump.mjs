// The backup file: one SQL file, written from `wrangler d1 export --no-schema` and the schema, in the
// order an empty D1 database accepts and without firing a trigger:
//   tables → rows (parent tables first) → sqlite_sequence → indexes → views → triggers.
// `wrangler d1 export` alone writes each table's rows right after its CREATE TABLE, in creation
// order (`memberships` before `users`), which D1's always-on foreign keys refuse.
import { id, lit, query } from './d1-wrangler.mjs';

export const FORMAT = '-- D1 backup, format 1';
/** D1 refuses a statement over 100 KB (its documented limit); stay below with room to spare. */
const MAX_BYTES = 90_000;
/** Code units per piece of a split value: at most 3 UTF-8 bytes each, so a piece stays under 75 KB. */
const PIECE = 25_000;

/**
 * Tables (with columns, primary key and parent tables) and the other schema objects.
 * @returns {{ tables: Table[], others: { type: string, name: string, sql: string }[] }}
 * @typedef {{ name: string, sql: string, columns: string[], pk: string[], parents: Set<string> }} Table
 */
export function readStructure(opts, objects) {
  const tables = objects.filter((o) => o.type === 'table');
  const results = tables.length
    ? query(
        opts,
        tables.map((t) => `PRAGMA table_info(${id(t.name)}); PRAGMA foreign_key_list(${id(t.name)})`).join('; '),
      )
    : [];
  return {
    tables: tables.map((t, i) => {
      const [info, fks] = [results[2 * i], results[2 * i + 1]];
      return {
        name: t.name,
        sql: t.sql,
        columns: info.map((c) => String(c.name)),
        pk: info
          .filter((c) => Number(c.pk) > 0)
          .sort((a, b) => Number(a.pk) - Number(b.pk))
          .map((c) => String(c.name)),
        parents: new Set(fks.map((f) => String(f.table)).filter((p) => p !== t.name)),
      };
    }),
    others: objects.filter((o) => o.type !== 'table'),
  };
}

/** Parents before children; creation order otherwise. A cycle keeps creation order (rows are loaded with deferred foreign keys). */
export function parentsFirst(tables) {
  const names = new Set(tables.map((t) => t.name));
  const placed = new Set();
  const ordered = [];
  let rest = tables;
  while (rest.length) {
    const ready = rest.filter((t) => [...t.parents].every((p) => placed.has(p) || !names.has(p)));
    const next = ready.length ? ready : [rest[0]];
    for (const t of next) placed.add(t.name);
    ordered.push(...next);
    rest = rest.filter((t) => !placed.has(t.name));
  }
  return ordered;
}

/** Splits SQL text into statements (without their `;`), honouring quotes and comments. */
export function splitStatements(text) {
  const out = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const close = { "'": "'", '"': '"', '`': '`', '[': ']' }[c];
    if (close) {
      i = text.indexOf(close, i + 1);
      if (i < 0) throw new Error('the export ends inside a quoted string');
    } else if (c === '-' && text[i + 1] === '-') {
      i = text.indexOf('\n', i);
      if (i < 0) break;
    } else if (c === ';') {
      out.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  const tail = text.slice(start).trim();
  if (tail) out.push(tail);
  return out.filter(Boolean);
}

// `INSERT INTO "t" ("a","b") VALUES(` as wrangler writes it; other quotings and no column list are taken too.
const NAME = String.raw`"(?:[^"]|"")*"|\`(?:[^\`]|\`\`)*\`|\[[^\]]*\]|[A-Za-z_][\w$]*`;
const INSERT = new RegExp(String.raw`^INSERT INTO (${NAME})\s*(?:\(((?:\s*(?:${NAME})\s*,?)*)\))?\s*VALUES\s*\(`, 'i');
const unquote = (q) =>
  q[0] === '"' || q[0] === '`' ? q.slice(1, -1).replaceAll(q[0] + q[0], q[0]) : q[0] === '[' ? q.slice(1, -1) : q;

/**
 * The rows of `wrangler d1 export --no-schema`, per table, as INSERT statements; sqlite_sequence apart.
 * Fails if the export does not match the schema read before it (a migration ran in between).
 */
export function rowsOf(exported, tables) {
  const byName = new Map(tables.map((t) => [t.name, t]));
  const rows = new Map(tables.map((t) => [t.name, []]));
  const sequence = [];
  for (const stmt of splitStatements(exported)) {
    if (/^PRAGMA defer_foreign_keys/i.test(stmt) || /^DELETE FROM "?sqlite_sequence"?$/i.test(stmt)) continue;
    const m = INSERT.exec(stmt);
    if (!m) throw new Error(`unexpected statement in wrangler's export: ${stmt.slice(0, 120)}`);
    const name = unquote(m[1]);
    if (name === 'sqlite_sequence') {
      sequence.push(stmt);
      continue;
    }
    const table = byName.get(name);
    const columns =
      m[2] === undefined ? (table?.columns ?? []) : (m[2].match(new RegExp(NAME, 'g')) ?? []).map(unquote);
    if (!table || columns.join('\u0000') !== table.columns.join('\u0000')) {
      throw new Error(
        `the export's rows of ${name} do not match its schema: did a migration run during the backup? Run it again.`,
      );
    }
    rows.get(name).push(stmt);
  }
  return { rows, sequence };
}

/**
 * Cells the export writes inexactly, read again with SQLite's quote(): text holding both a line
 * break and a literal backslash-n (or backslash-r), which the export's `replace(…,'\n',char(10))`
 * turns into two line breaks; reals (1.0 comes out as the integer 1); integers past 2^53.
 * @returns {Map<string, { column: string, where: string | null, value: string }[]>}
 */
export function inexactCells(opts, tables) {
  const wanted = tables.filter((t) => t.columns.length);
  // One SELECT per table (D1 allows 5 terms in a compound SELECT): the row's key, and each inexact cell quoted.
  const statements = wanted.map((t) => {
    const where = t.pk.length
      ? t.pk.map((c, i) => `${i ? "' AND ' || " : ''}${lit(`${id(c)} = `)} || quote(${id(c)})`).join(' || ')
      : 'NULL';
    const inexact = t.columns.map((c) => {
      const v = id(c);
      return `((typeof(${v}) = 'text' AND ((instr(${v}, char(10)) > 0 AND instr(${v}, '\\n') > 0) OR (instr(${v}, char(13)) > 0 AND instr(${v}, '\\r') > 0)))
        OR typeof(${v}) = 'real' OR (typeof(${v}) = 'integer' AND (${v} > 9007199254740991 OR ${v} < -9007199254740991)))`;
    });
    const cells = t.columns.map((c, i) => `CASE WHEN ${inexact[i]} THEN quote(${id(c)}) END AS c${i}`);
    return `SELECT ${where} AS w, ${cells.join(', ')} FROM ${id(t.name)} WHERE ${inexact.join(' OR ')}`;
  });
  const found = new Map();
  for (let i = 0; i < statements.length; ) {
    let j = i + 1;
    while (j < statements.length && statements.slice(i, j + 1).join('; ').length < MAX_BYTES) j++;
    query(opts, statements.slice(i, j).join('; ')).forEach((rows, k) => {
      const t = wanted[i + k];
      const cells = rows.flatMap((r) =>
        t.columns.flatMap((column, c) =>
          r[`c${c}`] == null ? [] : [{ column, where: r.w === null ? null : String(r.w), value: String(r[`c${c}`]) }],
        ),
      );
      if (cells.length) found.set(t.name, cells);
    });
    i = j;
  }
  return found;
}

const bytes = (s) => Buffer.byteLength(s);

/** A long text or blob literal as pieces whose concatenation is the value; throws for anything else. */
function pieces(expr, where) {
  const blob = /^X'([0-9a-fA-F]*)'$/.exec(expr);
  if (blob) {
    const hex = blob[1];
    const out = [];
    for (let i = 0; i < hex.length; i += 2 * PIECE) out.push(`X'${hex.slice(i, i + 2 * PIECE)}'`);
    return { blob: true, parts: out };
  }
  // A string literal, possibly wrapped by the export in replace(…,'\n',char(10)) calls.
  const text = /^((?:replace\()*)'((?:[^']|'')*)'((?:,'\\[nr]',char\(1[03]\)\))*)$/s.exec(expr);
  if (!text)
    throw new Error(`${where}: a value of ${bytes(expr)} bytes that cannot be split under D1's 100 KB statement limit`);
  const [, open, body, close] = text;
  const out = [];
  for (let start = 0; start < body.length; ) {
    let end = Math.min(start + PIECE, body.length);
    // Never cut a '' pair, a \n the replace() call decodes, or a surrogate pair.
    while (end < body.length && end > start && /['\\\uD800-\uDBFF]/.test(body[end - 1])) end--;
    if (end === start) throw new Error(`${where}: cannot split a value of ${bytes(expr)} bytes`);
    out.push(`${open}'${body.slice(start, end)}'${close}`);
    start = end;
  }
  return { blob: false, parts: out };
}

const appendPiece = (column, part, blob) =>
  blob ? `${id(column)} = CAST(${id(column)} || ${part} AS BLOB)` : `${id(column)} = ${id(column)} || ${part}`;

/** An INSERT as it is, or, past D1's statement limit, an INSERT with shortened values and UPDATEs that append the rest. */
function fitInsert(stmt, table) {
  if (bytes(stmt) <= MAX_BYTES) return [stmt];
  const open = INSERT.exec(stmt)[0].length;
  const values = splitValues(stmt.slice(open, -1));
  const where = `${table.name} row`;
  if (!table.pk.length)
    throw new Error(
      `${where}: ${bytes(stmt)} bytes, over D1's 100 KB statement limit, and the table has no primary key to split it by`,
    );
  const match = table.pk.map((c) => `${id(c)} = ${values[table.columns.indexOf(c)]}`).join(' AND ');
  const updates = [];
  const insertOf = () => `${stmt.slice(0, open)}${values.join(',')})`;
  for (const i of values.map((_, i) => i).sort((a, b) => values[b].length - values[a].length)) {
    if (bytes(insertOf()) <= MAX_BYTES || values[i].length < 1000) break;
    const { blob, parts } = pieces(values[i], where);
    values[i] = parts[0];
    updates.push(
      ...parts
        .slice(1)
        .map((p) => `UPDATE ${id(table.name)} SET ${appendPiece(table.columns[i], p, blob)} WHERE ${match}`),
    );
  }
  if (bytes(insertOf()) > MAX_BYTES)
    throw new Error(`${where}: ${bytes(stmt)} bytes, and it cannot be brought under D1's 100 KB statement limit`);
  return [insertOf(), ...updates];
}

/** The comma-separated values of a VALUES(…) list, honouring quotes and parentheses. */
function splitValues(list) {
  const out = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < list.length; i++) {
    const c = list[i];
    if (c === "'") i = list.indexOf("'", i + 1);
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      out.push(list.slice(start, i));
      start = i + 1;
    }
  }
  out.push(list.slice(start));
  return out;
}

/** One cell set to its exact value (read with quote()), split like a long INSERT when needed. */
function exactCell(table, cell) {
  const stmt = `UPDATE ${id(table.name)} SET ${id(cell.column)} = ${cell.value} WHERE ${cell.where}`;
  if (bytes(stmt) <= MAX_BYTES) return [stmt];
  const { blob, parts } = pieces(cell.value, `${table.name} row`);
  return parts.map(
    (p, i) =>
      `UPDATE ${id(table.name)} SET ${i ? appendPiece(cell.column, p, blob) : `${id(cell.column)} = ${p}`} WHERE ${cell.where}`,
  );
}

/**
 * wrangler's local `d1 execute --file` strips the first "BEGIN TRANSACTION" it finds, even inside a
 * string (and refuses a second one): such text is written as two concatenated literals.
 */
const guardText = (stmt) => stmt.replaceAll('BEGIN TRANSACTION', "BEGIN TRANS'||'ACTION");

/** The backup file's text. */
export function backupText({ source, takenAt, tables, others, rows, sequence, exact }) {
  const counts = Object.fromEntries(tables.map((t) => [t.name, rows.get(t.name).length]));
  const section = (title, statements) => (statements.length ? [`-- ${title}`, ...statements.map((s) => `${s};`)] : []);
  const data = tables.flatMap((t) => [
    ...rows.get(t.name).flatMap((stmt) => fitInsert(stmt, t)),
    ...(exact.get(t.name) ?? []).filter((c) => c.where !== null).flatMap((c) => exactCell(t, c)),
  ]);
  return [
    `${FORMAT}: written by \`npm run db:backup\`; load it with \`npm run db:restore\` into an empty database.`,
    `-- source: ${source}`,
    `-- taken: ${takenAt}`,
    `-- rows: ${JSON.stringify(counts)}`,
    'PRAGMA defer_foreign_keys=TRUE;',
    ...section(
      'Tables, parents first',
      tables.map((t) => t.sql),
    ),
    ...section('Rows, parent tables first (no trigger exists yet, so none fires)', data.map(guardText)),
    ...section('AUTOINCREMENT counters', sequence.length ? ['DELETE FROM sqlite_sequence', ...sequence] : []),
    ...section(
      'Indexes',
      others.filter((o) => o.type === 'index').map((o) => o.sql),
    ),
    ...section(
      'Views',
      others.filter((o) => o.type === 'view').map((o) => o.sql),
    ),
    ...section(
      'Triggers, last',
      others.filter((o) => o.type === 'trigger').map((o) => o.sql),
    ),
    '',
  ].join('\n');
}

/** The header of a backup file: where it came from and the rows per table; throws if it is not one. */
export function readHeader(head, file) {
  if (!head.startsWith(FORMAT))
    throw new Error(`${file} is not a backup written by \`npm run db:backup\` (its first line is not "${FORMAT}…").`);
  const field = (name) => new RegExp(`^-- ${name}: (.*)$`, 'm').exec(head)?.[1];
  const rows = field('rows');
  if (!rows) throw new Error(`${file} has no "-- rows:" line: it is damaged or was cut short.`);
  return {
    source: field('source'),
    takenAt: field('taken'),
    rows: /** @type {Record<string, number>} */ (JSON.parse(rows)),
  };
}
