// Opt-in counting of the peer's D1 calls (SPEC §19): `bench/peer-calls.mjs` starts the peer with
// `COUNT_D1=1`; `npm run bench` never sets it, so the measured peer gets the D1 binding untouched.
//
// Every call that reaches D1 is recorded: a prepared statement's `all`, `run`, `first` or `raw`,
// a `batch` (one call, however many statements) and an `exec`. Each call's start and end are
// stamped on a logical clock (one tick per event; `Date.now()` in workerd only advances across
// I/O), so a call that started before another ended ran concurrently with it. `sequential` is the
// longest chain of calls each started after the previous one ended: the number of round trips a
// request waits for when every D1 call crosses an ocean.
//
// Requests are attributed one at a time: the counting script sends one request, then reads the
// log (`GET /__d1-calls`). A request that overlaps another is flagged `overlapped`.

export interface D1Call {
  method: 'all' | 'run' | 'first' | 'raw' | 'batch' | 'exec';
  /** The statement (for a batch: its statements joined by ` ;; `). */
  sql: string;
  statements: number;
  start: number;
  end: number;
  /** Started after the handler had answered (background work). */
  afterResponse: boolean;
}

export interface D1Log {
  path: string;
  calls: D1Call[];
  sequential: number;
  overlapped: boolean;
}

let tick = 0;
let open = 0;
let current: (D1Log & { answered: boolean }) | undefined;
let last: D1Log | undefined;

function record<T>(method: D1Call['method'], sql: string, statements: number, call: () => Promise<T>): Promise<T> {
  const entry: D1Call = { method, sql, statements, start: ++tick, end: 0, afterResponse: current?.answered ?? false };
  current?.calls.push(entry);
  return call().finally(() => {
    entry.end = ++tick;
  });
}

class CountedStatement {
  constructor(
    readonly real: D1PreparedStatement,
    readonly sql: string,
  ) {}
  bind(...values: unknown[]) {
    return new CountedStatement(this.real.bind(...values), this.sql);
  }
  all() {
    return record('all', this.sql, 1, () => this.real.all());
  }
  run() {
    return record('run', this.sql, 1, () => this.real.run());
  }
  first(column?: string) {
    return record('first', this.sql, 1, () => (column === undefined ? this.real.first() : this.real.first(column)));
  }
  raw(options?: { columnNames?: boolean }) {
    return record('raw', this.sql, 1, () =>
      options?.columnNames ? this.real.raw({ columnNames: true }) : this.real.raw(),
    );
  }
}

/** The D1 binding with every call recorded into the current request's log. */
export function countingD1(db: D1Database): D1Database {
  const counted = {
    prepare: (sql: string) => new CountedStatement(db.prepare(sql), sql),
    batch: (statements: CountedStatement[]) =>
      record('batch', statements.map((s) => s.sql).join(' ;; '), statements.length, () =>
        db.batch(statements.map((s) => s.real)),
      ),
    exec: (sql: string) => record('exec', sql, 1, () => db.exec(sql)),
    withSession: () => {
      throw new Error('count-d1: withSession is not counted (better-auth does not use it)');
    },
    dump: () => db.dump(),
  };
  return counted as unknown as D1Database;
}

/** Longest chain of calls, each started after the previous one ended. */
export function sequentialCalls(calls: D1Call[]): number {
  const depth: number[] = [];
  for (let i = 0; i < calls.length; i++) {
    let before = 0;
    for (let j = 0; j < i; j++)
      if (calls[j].end !== 0 && calls[j].end < calls[i].start) before = Math.max(before, depth[j]);
    depth.push(before + 1);
  }
  return Math.max(0, ...depth);
}

/** Runs one request's handler with its D1 calls recorded; the response carries `x-d1-calls`. */
export async function counted(path: string, handle: () => Promise<Response>): Promise<Response> {
  const log = { path, calls: [] as D1Call[], sequential: 0, overlapped: open > 0, answered: false };
  if (current) current.overlapped = true;
  current = log;
  open++;
  try {
    const res = await handle();
    log.answered = true;
    log.sequential = sequentialCalls(log.calls);
    const out = new Response(res.body, res);
    out.headers.set('x-d1-calls', `${log.calls.length};sequential=${log.sequential}`);
    return out;
  } finally {
    open--;
    last = log;
  }
}

/** The last counted request's log (calls made after its response included, as they happened). */
export function lastLog(): D1Log | null {
  if (!last) return null;
  const { path, calls, overlapped } = last;
  return { path, calls, overlapped, sequential: sequentialCalls(calls) };
}
