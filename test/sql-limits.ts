/**
 * D1's documented limits on one SQL statement (developers.cloudflare.com/d1/platform/limits/), and
 * a checker that measures a statement against them without running it. Local D1 (workerd's SQLite)
 * refuses more than 100 bound parameters, but runs a function call of 33 arguments or more, and a
 * statement past a limit would pass every other test and fail in production.
 */
export const D1_LIMITS = {
  /** "Maximum arguments per SQL function". */
  functionArguments: 32,
  /** "Maximum bound parameters per query". */
  boundParameters: 100,
  /** "Maximum SQL statement length": 100,000 bytes. */
  statementBytes: 100_000,
} as const;

/**
 * SQLite's built-in functions (core, date and time, aggregate, window, math, JSON, table-valued).
 * A call is one of these names followed by `(`: so `INSERT INTO t (a, b)`, `IN (…)`, `VALUES (…)`,
 * `CHECK (…)` and `CAST(x AS t)` are not counted, and neither is a quoted identifier.
 */
const FUNCTIONS = new Set(
  `abs changes char coalesce concat concat_ws format glob hex if ifnull iif instr last_insert_rowid length like
  likelihood likely load_extension lower ltrim max min nullif octet_length printf quote random randomblob replace
  round rtrim sign soundex sqlite_compileoption_get sqlite_compileoption_used sqlite_offset sqlite_source_id
  sqlite_version substr substring total_changes trim typeof unhex unicode unlikely upper zeroblob
  date time datetime julianday unixepoch strftime timediff
  avg count group_concat string_agg sum total
  row_number rank dense_rank percent_rank cume_dist ntile lag lead first_value last_value nth_value
  acos acosh asin asinh atan atan2 atanh ceil ceiling cos cosh degrees exp floor ln log log10 log2 mod pi pow
  power radians sin sinh sqrt tan tanh trunc
  json jsonb json_array jsonb_array json_array_length json_error_position json_extract jsonb_extract json_insert
  jsonb_insert json_object jsonb_object json_patch jsonb_patch json_pretty json_remove jsonb_remove json_replace
  jsonb_replace json_set jsonb_set json_type json_valid json_quote json_group_array jsonb_group_array
  json_group_object jsonb_group_object json_each json_tree`.split(/\s+/),
);

export interface FunctionCall {
  name: string;
  args: number;
}

/** What the limits are about, in one statement. */
export interface SqlShape {
  /** UTF-8 bytes of the statement's text. */
  bytes: number;
  /** Parameters SQLite would number (`?`, `?NNN`, `:name`, `@name`, `$name`), as `sqlite3_bind_parameter_count`. */
  parameters: number;
  /** Every call of a built-in function, innermost first, with its argument count. */
  calls: FunctionCall[];
}

const IDENT_START = /[A-Za-z_\u0080-\uffff]/;
const IDENT_PART = /[A-Za-z0-9_$\u0080-\uffff]/;

/** Measures one statement: strings, quoted identifiers and comments are skipped. */
export function measure(sql: string): SqlShape {
  const calls: FunctionCall[] = [];
  // One frame per open parenthesis: the function it calls (if any), its commas, whether it holds anything.
  const frames: { name: string | null; commas: number; filled: boolean }[] = [];
  const named = new Set<string>();
  let parameters = 0;
  let previousWord: string | null = null; // the last token, when it was an unquoted word
  const fill = () => {
    if (frames.length > 0) frames[frames.length - 1].filled = true;
  };
  /** Index just past a quoted run opened at `i` and closed by `close` (doubled to escape it). */
  const skipQuoted = (i: number, close: string) => {
    let j = i + 1;
    for (;;) {
      const k = sql.indexOf(close, j);
      if (k < 0) return sql.length;
      if (sql[k + 1] === close && close !== ']') j = k + 2;
      else return k + 1;
    }
  };
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? sql.length : end + 1;
      continue;
    }
    if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? sql.length : end + 2;
      continue;
    }
    let word: string | null = null;
    if (c === "'" || c === '"' || c === '`' || c === '[') {
      i = skipQuoted(i, c === '[' ? ']' : c);
      fill();
    } else if (c === '?') {
      let j = i + 1;
      while (j < sql.length && /[0-9]/.test(sql[j])) j++;
      parameters = j > i + 1 ? Math.max(parameters, Number(sql.slice(i + 1, j))) : parameters + 1;
      i = j;
      fill();
    } else if ((c === ':' || c === '@' || c === '$') && IDENT_START.test(sql[i + 1] ?? '')) {
      let j = i + 1;
      while (j < sql.length && IDENT_PART.test(sql[j])) j++;
      const name = sql.slice(i + 1, j);
      if (!named.has(name)) named.add(name), parameters++;
      i = j;
      fill();
    } else if (IDENT_START.test(c)) {
      let j = i + 1;
      while (j < sql.length && IDENT_PART.test(sql[j])) j++;
      word = sql.slice(i, j).toLowerCase();
      i = j;
      fill();
    } else if (c === '(') {
      fill();
      frames.push({
        name: previousWord !== null && FUNCTIONS.has(previousWord) ? previousWord : null,
        commas: 0,
        filled: false,
      });
      i++;
    } else if (c === ')') {
      const frame = frames.pop();
      if (frame?.name) calls.push({ name: frame.name, args: frame.filled ? frame.commas + 1 : 0 });
      i++;
    } else if (c === ',') {
      if (frames.length > 0) frames[frames.length - 1].commas++;
      i++;
    } else {
      fill();
      i++;
    }
    previousWord = word;
  }
  return { bytes: new TextEncoder().encode(sql).length, parameters, calls };
}

/** The start of a statement, on one line, to name it in a message. */
export const preview = (sql: string) => sql.replace(/\s+/g, ' ').trim().slice(0, 200);

/**
 * Every limit `sql` breaks, as messages naming the statement and the limit; empty when it keeps to
 * all of them. `boundValues` is the number of values bound to it, when known.
 */
export function limitProblems(sql: string, boundValues = 0): string[] {
  const shape = measure(sql);
  const problems: string[] = [];
  for (const call of shape.calls) {
    if (call.args > D1_LIMITS.functionArguments) {
      problems.push(
        `${call.name}() takes ${call.args} arguments, over D1's ${D1_LIMITS.functionArguments} per SQL function`,
      );
    }
  }
  const parameters = Math.max(shape.parameters, boundValues);
  if (parameters > D1_LIMITS.boundParameters)
    problems.push(`${parameters} bound parameters, over D1's ${D1_LIMITS.boundParameters} per query`);
  if (shape.bytes > D1_LIMITS.statementBytes)
    problems.push(`${shape.bytes} bytes, over D1's ${D1_LIMITS.statementBytes} per statement`);
  return problems.map((p) => `${p}: ${preview(sql)}`);
}
