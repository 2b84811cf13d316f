// `node bench/peer-calls.mjs [--sql] [--json]`: the peer's D1 calls per operation (SPEC §19).
// Starts the peer (bench/peers/better-auth/) the way `npm run bench` does (`wrangler dev`, a fresh
// local D1), but with `COUNT_D1=1`, which wraps its D1 binding so every call is recorded per
// request (bench/peers/better-auth/count-d1.ts). Seeds through better-auth's own API, performs
// each operation once, one request at a time, and prints the calls each request made: all of
// them, and the sequential ones (the longest chain of calls each started after the previous one
// ended: the round trips a request waits for when D1 is far away). `--sql` prints the statements;
// `--json` writes bench/results/peer-calls.json.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter } from 'node:path';
import { PEER_CALLS } from './distance.mjs';

// Run as `node bench/peer-calls.mjs` (not through npm): find wrangler where npm would.
process.env.PATH = `${new URL('../node_modules/.bin', import.meta.url).pathname}${delimiter}${process.env.PATH}`;
const { startWorker, stopWorker } = await import('./servers.mjs');

const SQL = process.argv.includes('--sql');
const JSON_OUT = process.argv.includes('--json');
const PORT = 8793;
const ORIGIN = `http://127.0.0.1:${PORT}`;
const started = Date.now();
const { version } = JSON.parse(readFileSync(new URL('../node_modules/better-auth/package.json', import.meta.url)));

const peer = await startWorker({
  name: 'better-auth (counting D1 calls)',
  port: PORT,
  inspectorPort: 9243,
  stateDir: '.wrangler/bench-peer-calls',
  config: 'bench/peers/better-auth/wrangler.toml',
  vars: { COUNT_D1: '1', BETTER_AUTH_URL: ORIGIN },
});
process.on('SIGINT', () => (stopWorker(peer), process.exit(130)));

/** A session-authenticated caller of better-auth's API (the session token as a bearer token). */
const caller = (token) => async (method, path, body) => {
  const res = await fetch(`${ORIGIN}/api/auth${path}`, {
    method,
    headers: {
      // better-auth refuses state-changing requests without an Origin it trusts.
      Origin: ORIGIN,
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'Content-Type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  const json = text ? JSON.parse(text) : null;
  if (res.status !== 200) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
  return { json, token: res.headers.get('set-auth-token'), d1: res.headers.get('x-d1-calls') };
};
const anonymous = caller(null);
const signUp = async (who) => {
  const { token, json } = await anonymous('POST', '/sign-up/email', {
    email: `${who}.${started}@bench.example`,
    password: `bench-password-${started}`,
    name: who,
  });
  return { token, userId: json.user.id, email: json.user.email, as: caller(token) };
};

const rows = [];
/** Performs one request and reads back the D1 calls it made. */
const count = async (operation, send) => {
  const out = await send();
  const log = await (await fetch(`${ORIGIN}/__d1-calls`)).json();
  if (log.overlapped) throw new Error(`${operation}: another request overlapped it`);
  rows.push({
    operation,
    path: log.path,
    calls: log.calls.length,
    sequential: log.sequential,
    batches: log.calls.filter((c) => c.method === 'batch').length,
    after_response: log.calls.filter((c) => c.afterResponse).length,
    session_lookup: sessionLookup(log.calls),
    sql: log.calls.map((c) => `${c.method}${c.afterResponse ? ' (after response)' : ''}: ${c.sql}`),
  });
  return out.json;
};
/**
 * better-auth's authentication at the start of a request: the session by its token, then its user
 * (2 sequential calls; no cookie cache or secondary storage is configured, better-auth's default).
 */
const sessionLookup = (calls) => {
  if (!/from "session" where "session"."token" = \?/.test(calls[0]?.sql ?? '')) return 0;
  return /from "user" where "user"."id" = \?/.test(calls[1]?.sql ?? '') ? 2 : 1;
};

try {
  // Seed: an owner with an organization, an invitee and a member-to-be with accounts of their own.
  const owner = await signUp('owner');
  const invitee = await signUp('invitee');
  const org = (
    await owner.as('POST', '/organization/create', {
      name: 'Counted',
      slug: `counted-${started}`,
      keepCurrentActiveOrganization: true,
    })
  ).json;
  // Warm the isolate (better-auth builds its context on the first request): untimed, uncounted use.
  await owner.as('GET', '/get-session');

  await count('session lookup alone (get-session)', () => owner.as('GET', '/get-session'));
  // better-auth accepts only for a signed-in recipient: an existing account not signed in signs in first.
  await count('sign in (sign-in/email; before accepting, if not signed in)', () =>
    anonymous('POST', '/sign-in/email', { email: invitee.email, password: `bench-password-${started}` }),
  );
  const invitation = await count('create invitation (invite-member)', () =>
    owner.as('POST', '/organization/invite-member', { email: invitee.email, role: 'member', organizationId: org.id }),
  );
  await count('list invitations (list-invitations)', () =>
    owner.as('GET', `/organization/list-invitations?organizationId=${encodeURIComponent(org.id)}`),
  );
  await count('get/preview invitation (get-invitation, as the invitee)', () =>
    invitee.as('GET', `/organization/get-invitation?id=${encodeURIComponent(invitation.id)}`),
  );
  const accepted = await count('accept invitation (accept-invitation, existing account)', () =>
    invitee.as('POST', '/organization/accept-invitation', { invitationId: invitation.id }),
  );
  const other = await owner.as('POST', '/organization/invite-member', {
    email: `other.${started}@bench.example`,
    role: 'member',
    organizationId: org.id,
  });
  await count('cancel invitation (cancel-invitation)', () =>
    owner.as('POST', '/organization/cancel-invitation', { invitationId: other.json.id }),
  );
  await count('update member role (update-member-role)', () =>
    owner.as('POST', '/organization/update-member-role', {
      memberId: accepted.member.id,
      role: 'admin',
      organizationId: org.id,
    }),
  );
  await count('remove member (remove-member)', () =>
    owner.as('POST', '/organization/remove-member', { memberIdOrEmail: accepted.member.id, organizationId: org.id }),
  );
} finally {
  stopWorker(peer);
}

const pad = (s, w) => String(s).padEnd(w);
console.log(`\nbetter-auth ${version}, organization plugin, D1 binding through its Kysely D1 dialect`);
console.log(
  `${pad('operation', 62)}${pad('D1 calls', 10)}${pad('sequential', 12)}${pad('session lookup', 16)}${pad('batches', 9)}after response`,
);
for (const r of rows) {
  console.log(
    `${pad(r.operation, 62)}${pad(r.calls, 10)}${pad(r.sequential, 12)}${pad(r.session_lookup, 16)}${pad(r.batches, 9)}${r.after_response}`,
  );
  if (SQL) for (const s of r.sql) console.log(`    ${s}`);
}
// The sequential counts BENCHMARKS.md's latency model uses (bench/distance.mjs): flag any change.
const drift = rows.filter((r) => PEER_CALLS[r.path] !== undefined && PEER_CALLS[r.path] !== r.sequential);
for (const r of drift)
  console.log(
    `NOTE: ${r.path} now makes ${r.sequential} sequential D1 calls; bench/distance.mjs (PEER_CALLS) says ${PEER_CALLS[r.path]}`,
  );
if (JSON_OUT) {
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    'bench/results/peer-calls.json',
    JSON.stringify({ peer: 'better-auth', version, measured_at: new Date(started).toISOString(), rows }, null, 2),
  );
}
