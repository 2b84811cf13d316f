// The product against a peer: better-auth 1.7's organization plugin (bench/peers/better-auth/) on
// the same runtime, driven with the same shapes in the same run, ours first and then the peer for
// each shape: a race of concurrent invitations into a fresh organization (does the pending limit
// of 10 hold?), creating invitations at concurrency 1 and 16, and listing an organization's
// invitations at concurrency 1 and 16.
import { readFileSync } from 'node:fs';
import { linksByAddress } from '../scripts/mailbox.mjs';
import { round, run } from './load.mjs';

export const PEER_NAME = 'better-auth';
const LIMIT = 10;

/** Speed targets, reported and never enforced: ours ÷ peer. */
export const PEER_TARGETS = {
  create_p50_c1: { label: 'create invitation p50 (c=1)', op: '≤', value: 0.75 },
  create_rps_c16: { label: 'create invitation throughput (c=16)', op: '≥', value: 1.5 },
  list_p50_c1: { label: 'list invitations p50 (c=1)', op: null, value: null },
  list_rps_c16: { label: 'list invitations throughput (c=16)', op: '≥', value: 1.5 },
};

/**
 * Our API (`Authorization: Bearer <personal API token>` of the organization's owner; `owners` is
 * bench/seed.mjs's ownerPool, as an account owns at most 25 organizations).
 */
function oursSide({ origin, owners, warm, awaitEmails = true }) {
  const call = (method, org, path, body) =>
    fetch(`${origin}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${owners.token(org)}`,
        ...(body ? { 'Content-Type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
  return {
    name: 'ours',
    key: 'ours',
    awaitEmails,
    created: 201,
    refused: 409,
    newOrg: (name) => owners.newOrg(name),
    invite: (org, email) => call('POST', org, `/v1/organizations/${org}/invitations`, { email, role: 'viewer' }),
    list: (org) => call('GET', org, `/v1/organizations/${org}/invitations`),
    pending: async (org) => (await (await call('GET', org, `/v1/organizations/${org}`)).json()).pending_invitations,
    // Each organization's Durable Object starts on its first write: one untimed request each.
    warm,
  };
}

/** better-auth's API under /api/auth, with the session token as a bearer token (its `bearer()` plugin). */
async function peerSide({ origin }, started) {
  // better-auth refuses state-changing requests without an Origin it trusts (its baseURL), as a
  // browser would send; the benchmark sends it on every request.
  const base = { Origin: origin, 'Content-Type': 'application/json' };
  const signUp = await fetch(`${origin}/api/auth/sign-up/email`, {
    method: 'POST',
    headers: base,
    body: JSON.stringify({
      email: `owner.${started}@bench.example`,
      password: `bench-password-${started}`,
      name: 'Bench Owner',
    }),
  });
  const token = signUp.headers.get('set-auth-token');
  await signUp.arrayBuffer();
  if (signUp.status !== 200 || !token)
    throw new Error(`${PEER_NAME}: sign-up answered ${signUp.status} without a session token`);
  const headers = { ...base, Authorization: `Bearer ${token}` };
  const list = (org) =>
    fetch(`${origin}/api/auth/organization/list-invitations?organizationId=${encodeURIComponent(org)}`, { headers });
  let slug = 0;
  return {
    name: PEER_NAME,
    key: 'peer',
    created: 200,
    // better-auth answers 403 INVITATION_LIMIT_REACHED when it sees the limit.
    refused: 403,
    newOrg: async (name) => {
      const res = await fetch(`${origin}/api/auth/organization/create`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ name, slug: `bench-${started}-${slug++}`, keepCurrentActiveOrganization: true }),
      });
      const body = await res.json();
      if (!body.id) throw new Error(`${PEER_NAME}: organization/create answered ${res.status} ${JSON.stringify(body)}`);
      return body.id;
    },
    invite: (org, email) =>
      fetch(`${origin}/api/auth/organization/invite-member`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ email, role: 'member', organizationId: org }),
      }),
    list,
    pending: async (org) => (await (await list(org)).json()).filter((i) => i.status === 'pending').length,
    // The same untimed first request per organization as ours gets (better-auth keeps no
    // per-organization state to start, so this is one list call).
    warm: async (orgIds) => {
      for (const org of orgIds) await (await list(org)).arrayBuffer();
    },
  };
}

const orgs = (side, n, label) => Promise.all(Array.from({ length: n }, (_, i) => side.newOrg(`${label} ${i}`)));

/**
 * Our invitation emails leave through the delivery queue, after the create answered; the peer
 * sends inside the request. Before the next timed run starts, wait (untimed, at most 30 s) until
 * ours are all written, so our background sends do not share the machine with the peer's run.
 */
async function settle(side, emails, since) {
  if (!side.awaitEmails || emails.length === 0) return;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const map = linksByAddress({ path: 'invitations/accept', notBefore: since });
    if (emails.every((e) => map.has(e))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Drives both sides with the same shapes. `ours`: { origin, owners, warm(orgIds), awaitEmails (wait
 * for our emails between runs; default true) }; `peer`: { origin }.
 * `n`: { raceTrials, raceConcurrency, createOrgs, listCalls }. `onRun(result)` is called for each
 * timed run (to print it). Returns { race, runs, ratios, over_limit }.
 */
export async function comparePeer({ ours: oursOpts, peer: peerOpts, n, started = Date.now(), onRun = () => {} }) {
  const sides = [oursSide(oursOpts), await peerSide(peerOpts, started)];
  const { version } = JSON.parse(
    readFileSync(new URL('../node_modules/better-auth/package.json', import.meta.url), 'utf8'),
  );
  const out = { peer: PEER_NAME, version, counts: n, race: {}, runs: {} };
  let seq = 0;
  const email = (tag) => `peer.${tag}.${seq++}.${started}@bench.example`;
  const timed = async (side, shape, opts) => {
    const since = Date.now() - 1000;
    const sent = [];
    const r = await run({
      ...opts,
      name: `${side.name}: ${opts.name}`,
      send: (i) => opts.send(i, (tag) => (sent.push(email(tag)), sent.at(-1))),
    });
    (out.runs[shape] ??= {})[side.key] = r;
    onRun(r);
    await settle(side, sent, since);
    return r;
  };

  // Race: `raceConcurrency` invitations at once into a fresh organization, `raceTrials` times.
  for (const side of sides) {
    const trials = [];
    for (let t = 0; t < n.raceTrials; t++) {
      const since = Date.now() - 1000;
      const [org] = await orgs(side, 1, `Peer race ${t}`);
      const sent = Array.from({ length: n.raceConcurrency }, () => email('race'));
      const admitted = [];
      const r = await run({
        name: `${side.name}: race`,
        concurrency: n.raceConcurrency,
        requests: n.raceConcurrency,
        ok: (res) => res.status === side.created || res.status === side.refused,
        send: (i) => side.invite(org, sent[i]),
        after: (res, _body, i) => void (res.status === side.created && admitted.push(sent[i])),
      });
      const pending = await side.pending(org);
      trials.push({ admitted: admitted.length, pending, statuses: r.statuses, failures: r.failures });
      await settle(side, admitted, since);
    }
    out.race[side.key] = {
      trials,
      // A trial whose pending count could not be read counts as over the limit.
      over_limit_trials: trials.filter((x) => !(x.pending <= LIMIT) || x.admitted > LIMIT).length,
      max_pending: Math.max(...trials.map((x) => x.pending)),
      max_admitted: Math.max(...trials.map((x) => x.admitted)),
    };
  }

  // Create: `createOrgs` × 10 invitations (exactly the limit per organization, never over it),
  // at concurrency 1 (paced, a latency run) and 16, each on fresh organizations warmed once.
  const listOrg = {};
  for (const c of [1, 16]) {
    for (const side of sides) {
      const orgIds = await orgs(side, n.createOrgs, `Peer create c${c}`);
      await side.warm(orgIds);
      await timed(side, `create_c${c}`, {
        name: `create invitation (${n.createOrgs} orgs)`,
        concurrency: c,
        requests: orgIds.length * LIMIT,
        ok: (res) => res.status === side.created,
        send: (i, next) => side.invite(orgIds[i % orgIds.length], next('create')),
      });
      // The concurrency-1 organizations now hold 10 pending invitations each: the list shape's.
      if (c === 1) listOrg[side.name] = orgIds[0];
    }
  }

  // List: an organization with 10 pending invitations, at concurrency 1 and 16.
  for (const c of [1, 16]) {
    for (const side of sides) {
      await timed(side, `list_c${c}`, {
        name: 'list invitations (10 pending)',
        concurrency: c,
        requests: n.listCalls,
        send: () => side.list(listOrg[side.name]),
      });
    }
  }

  const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? round(a / b) : null);
  const R = out.runs;
  const values = {
    create_p50_c1: [R.create_c1.ours.p50_ms, R.create_c1.peer.p50_ms, 'ms'],
    create_rps_c16: [R.create_c16.ours.throughput_rps, R.create_c16.peer.throughput_rps, 'req/s'],
    list_p50_c1: [R.list_c1.ours.p50_ms, R.list_c1.peer.p50_ms, 'ms'],
    list_rps_c16: [R.list_c16.ours.throughput_rps, R.list_c16.peer.throughput_rps, 'req/s'],
  };
  out.ratios = Object.entries(values).map(([key, [ours, peer, unit]]) => {
    const t = PEER_TARGETS[key];
    const r = ratio(ours, peer);
    const met = t.op === null || r === null ? null : t.op === '≤' ? r <= t.value : r >= t.value;
    return { key, metric: t.label, unit, ours, peer, ratio: r, target: t.op ? `${t.op} ${t.value}×` : null, met };
  });
  out.over_limit = {
    trials: n.raceTrials,
    concurrency: n.raceConcurrency,
    ours: out.race.ours.over_limit_trials,
    peer: out.race.peer.over_limit_trials,
    ours_max_pending: out.race.ours.max_pending,
    peer_max_pending: out.race.peer.max_pending,
  };
  return out;
}

/** The console table. */
export function peerTable(p) {
  const pad = (s, w) => `${String(s ?? '–').padEnd(w - 1)} `;
  const row = (metric, ours, peer, ratio = '', target = '', met = '') =>
    `${pad(`peer: ${metric}`, 52)}${pad(ours, 15)}${pad(peer, 20)}${pad(ratio, 12)}${pad(target, 9)}${met}`.trimEnd();
  const rows = [
    row('metric', 'ours', `${PEER_NAME} ${p.version}`, 'ours ÷ peer', 'target', 'met'),
    ...p.ratios.map((r) =>
      row(
        r.metric,
        `${r.ours} ${r.unit}`,
        `${r.peer} ${r.unit}`,
        r.ratio === null ? '–' : `${r.ratio}×`,
        r.target ?? '–',
        r.met === null ? '–' : r.met ? 'yes' : 'no',
      ),
    ),
    row(
      `race (${p.over_limit.concurrency} at once): trials above ${LIMIT} pending`,
      `${p.over_limit.ours} of ${p.over_limit.trials}`,
      `${p.over_limit.peer} of ${p.over_limit.trials}`,
    ),
    row('race: most pending after one trial', p.over_limit.ours_max_pending, p.over_limit.peer_max_pending),
  ];
  return rows.join('\n');
}
