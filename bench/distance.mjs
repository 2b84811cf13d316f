// Speed at a distance (SPEC §19): the latency model in BENCHMARKS.md for a user far from D1's
// primary, ours beside better-auth's. The counts live here, as data, and the section is rendered
// from them: by `npm run bench` when it rewrites BENCHMARKS.md (bench/measure.mjs writeReport), and
// by `node bench/distance.mjs`, which replaces only this section in the existing BENCHMARKS.md.
//
// To update: our counts come from test/placement.test.ts (OURS below); better-auth's from
// `node bench/peer-calls.mjs` (PEER_CALLS below; that script flags any count that has changed).
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const HEADING = '## Speed at a distance (SPEC §19)';

/** The long-haul round trip: Sydney ↔ western North America, where the D1 primary is (`wnam`). */
export const RTT_MS = 160;
/** One D1 call from the coordinator to the primary in the same region, or from the edge to a nearby replica. */
export const NEAR_MS = 2;

/** Published round-trip times (cited in the section). */
export const SOURCES = [
  {
    label: 'AWS inter-region averages, as tabulated in “AWS Regions” (2017)',
    url: 'https://acomputerscientistlearnsaws.blogspot.com/2017/04/aws-regions.html',
    figure:
      'Asia Pacific (Sydney) ↔ US West (N. California) 157.8 ms; ↔ US West (Oregon) 161.9 ms; ↔ US East (N. Virginia) 229.7 ms',
  },
  {
    label: 'WonderProxy, “Miles per Millisecond” (pings between its servers)',
    url: 'https://wonderproxy.com/blog/miles-per-milisecond/',
    figure: 'Sydney ↔ Fremont, California 184.9 ms and 192.0 ms (the two directions)',
  },
  {
    label: 'Cloudflare D1 docs, “Global read replication”',
    url: 'https://developers.cloudflare.com/d1/best-practices/read-replication/',
    figure:
      'a replica in every D1 region (ENAM, WNAM, WEUR, EEUR, APAC, OC); reads use them only through the Sessions API, otherwise every query goes to the primary; writes always go to the primary',
  },
  {
    label: 'Cloudflare Durable Objects docs, “Data location” (location hints)',
    url: 'https://developers.cloudflare.com/durable-objects/reference/data-location',
    figure: 'a Durable Object can be created with a location hint (wnam, enam, sam, weur, eeur, apac, oc, afr, me)',
  },
];

/**
 * Our D1 calls per operation, sequential, by where they run (SPEC §19). `coordinator`: inside the
 * organization's coordinator, a Durable Object placed beside the primary by
 * COORDINATOR_LOCATION_HINT, so in-region; the Worker at the edge makes no D1 call on a write and
 * exactly one call to the coordinator (the one long-haul round trip). `replica`: reads from the
 * Worker through the Sessions API, served by the replica nearest Sydney (APAC/OC): no long haul.
 * As counted by test/placement.test.ts (its table, printed on every run).
 */
export const OURS = {
  create: { where: 'coordinator', calls: 2, detail: '1 read (the caller) + 1 batch' },
  list: { where: 'replica', calls: 1, detail: 'one batch: the caller, their membership and the page' },
  preview: { where: 'replica', calls: 1, detail: 'invitation + organization + inviter + account' },
  accept: { where: 'coordinator', calls: 2, detail: '1 read + 1 batch (anonymous, by the emailed token)' },
  revoke: { where: 'coordinator', calls: 5, detail: '4 reads + 1 batch (role change alike; resend 4 + 2)' },
  memberRole: { where: 'coordinator', calls: 6, detail: '5 reads + 1 batch' },
  memberRemove: { where: 'coordinator', calls: 4, detail: '3 reads + 1 batch' },
};

/**
 * better-auth 1.7.25's sequential D1 calls per request, measured by `node bench/peer-calls.mjs`
 * (its D1 binding, handed to its Kysely D1 dialect, wrapped to record every call; measured
 * 2026-12-06). Every one goes from the Worker at the edge to the primary: it does not use the
 * Sessions API. Each count includes the 2 of its session lookup.
 */
export const PEER_CALLS = {
  '/api/auth/get-session': 2,
  '/api/auth/sign-in/email': 3,
  '/api/auth/organization/invite-member': 10,
  '/api/auth/organization/list-invitations': 5,
  '/api/auth/organization/get-invitation': 6,
  '/api/auth/organization/accept-invitation': 8,
  '/api/auth/organization/cancel-invitation': 7,
  '/api/auth/organization/update-member-role': 9,
  '/api/auth/organization/remove-member': 9,
};

const OPERATIONS = [
  ['create invitation', 'create', 'invite-member'],
  ['list invitations', 'list', 'list-invitations'],
  ['get / preview invitation', 'preview', 'get-invitation'],
  ['accept invitation (existing account)', 'accept', 'accept-invitation'],
  ['cancel / revoke invitation', 'revoke', 'cancel-invitation'],
  ['update member role', 'memberRole', 'update-member-role'],
  ['remove member', 'memberRemove', 'remove-member'],
];

/** One row of the model: long-haul round trips and modeled milliseconds, ours and the peer's. */
export function model() {
  return OPERATIONS.map(([name, key, path]) => {
    const o = OURS[key];
    const oursLong = o.where === 'coordinator' ? 1 : 0;
    const peerLong = PEER_CALLS[`/api/auth/organization/${path}`];
    return {
      name,
      ours_long_haul: oursLong,
      ours_near_calls: o.calls,
      ours_ms: oursLong * RTT_MS + o.calls * NEAR_MS,
      ours_detail: o.detail,
      ours_where: o.where,
      peer_endpoint: path,
      peer_long_haul: peerLong,
      peer_ms: peerLong * RTT_MS,
    };
  });
}

export function distanceSection() {
  const rows = model();
  const table = [
    '| operation | ours: long-haul RTTs | ours: modeled ms | better-auth: long-haul RTTs | better-auth: modeled ms |',
    '|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${r.ours_long_haul} | ${r.ours_ms} (${r.ours_long_haul} × ${RTT_MS} + ${r.ours_near_calls} × ${NEAR_MS}) | ${r.peer_long_haul} | ${r.peer_ms} (${r.peer_long_haul} × ${RTT_MS}) |`,
    ),
  ].join('\n');
  const ours = [
    '| operation | where our D1 calls run | sequential D1 calls there | long-haul RTTs |',
    '|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${r.ours_where === 'coordinator' ? 'coordinator, beside the primary (the Worker: 0 D1 calls, 1 call to the coordinator)' : 'the Worker, on the nearest replica (Sessions API)'} | ${r.ours_near_calls}: ${r.ours_detail} | ${r.ours_long_haul} |`,
    ),
  ].join('\n');
  const peer = [
    '| request (better-auth endpoint) | sequential D1 calls, all to the primary | of which the session lookup |',
    '|---|---|---|',
    ...Object.entries(PEER_CALLS).map(
      ([path, n]) =>
        `| \`${path.replace('/api/auth', '')}\` | ${n} | ${path.endsWith('sign-in/email') ? '– (signs in)' : 2} |`,
    ),
  ].join('\n');
  return `${HEADING}

<!-- Rendered from bench/distance.mjs (edit the counts there, then \`node bench/distance.mjs\`); \`npm run bench\` keeps it. -->

A user in Sydney; the Worker runs at the Cloudflare edge in Sydney; D1's primary is in western
North America (\`wnam\`). Every sequential call that crosses the Pacific costs one round trip.
The model counts those round trips per request and multiplies.

**Round trip Sydney ↔ western North America: ${RTT_MS} ms.** Published figures: AWS's Sydney region
to US West (N. California) averages 157.8 ms and to US West (Oregon) 161.9 ms; WonderProxy's pings
between Sydney and Fremont, California took 184.9 and 192.0 ms. ${RTT_MS} ms is the cloud-backbone
figure; on the slower public-internet path (about 190 ms) every long-haul term below grows by a
fifth, which widens the gap in absolute milliseconds.

**Assumptions**, stated plainly:

- One D1 call inside a region (the coordinator to the primary beside it; the Worker to the replica
  nearest Sydney) costs ${NEAR_MS} ms. This is an assumption, not a measured production figure; locally
  each D1 call costs about 1 ms (SPEC §19).
- The user ↔ Sydney edge round trip, TLS, and the Worker's own CPU are left out of both columns:
  they are the same order for both (10–25 ms p50 on the local runtime, tables above). The columns
  are the part of the latency that the distance to the primary adds.
- The coordinator is already placed (\`COORDINATOR_LOCATION_HINT\` = the primary's region) and
  running; a Worker → Durable Object call costs one round trip, like a D1 call.
- Reads are served by the replica nearest Sydney (D1 keeps one in every region, APAC and OC
  included; reached only through the Sessions API). A read that sends \`x-d1-bookmark\` may wait
  for that replica to catch up with the write it names; that wait is not modeled.
- better-auth as configured in \`bench/peers/better-auth/\`: its D1 binding handed to its Kysely
  D1 dialect, which sends every query as its own \`prepare().bind().all()\` and awaits it before the
  next (no \`batch\`, no Sessions API), so every call, reads included, goes to the primary and every
  sequential call is a long-haul round trip. Its \`sendInvitationEmail\` (awaited inside the
  invite) is not counted. It accepts only for a signed-in recipient: an existing account that is not
  signed in first signs in, a separate request of ${PEER_CALLS['/api/auth/sign-in/email']} more sequential calls.

### The model (RTT ${RTT_MS} ms, in-region call ${NEAR_MS} ms)

${table}

A write of ours costs one long-haul round trip whatever it does inside; better-auth's costs as many
as its handler awaits D1 calls, 7 to 10 for these writes, and its reads cost 5 to 6 where ours
cost none.

### Our counts (SPEC §19; writes to be confirmed by \`test/placement.test.ts\`)

${ours}

### better-auth's counts (measured: \`node bench/peer-calls.mjs\`)

One request per operation against the peer started as the benchmark starts it, its D1 binding
wrapped (only when \`COUNT_D1=1\`, which \`npm run bench\` never sets) so every \`all\`/\`run\`/\`first\`/
\`raw\`/\`batch\`/\`exec\` is recorded with its start and end; the sequential count is the longest
chain of calls each started after the previous one ended. Every call it made was sequential (none
overlapped, none after the response, no batch).

${peer}

**How better-auth authenticates.** Each request (the \`bearer()\` plugin turns
\`Authorization: Bearer\` into its session cookie) first reads the session by its token, then the
session's user: 2 sequential queries, on the primary, before the handler's own (no cookie cache
or secondary storage configured, its defaults). Its organization handlers then read the caller's
membership joined with its user (\`findMemberByOrgId\`), which its Kysely adapter runs as two
queries, so an administrator's write (create, cancel, role change, remove) spends 4 of its calls
establishing who the caller is. Once a session's \`updateAge\` (1 day by default) has passed, a
request also refreshes it with an \`UPDATE\` (not in these counts).

Sources: [AWS inter-region latency table](${SOURCES[0].url}); [WonderProxy, Miles per Millisecond](${SOURCES[1].url});
[Cloudflare D1, Global read replication](${SOURCES[2].url}); [Cloudflare Durable Objects, Data location](${SOURCES[3].url}).
`;
}

/** Replaces (or inserts, before "## Where the time goes") this section in an existing BENCHMARKS.md. */
export function spliceSection(md) {
  const section = distanceSection();
  const start = md.indexOf(HEADING);
  if (start !== -1) {
    const next = md.indexOf('\n## ', start + HEADING.length);
    return `${md.slice(0, start)}${section}${next === -1 ? '' : `\n${md.slice(next + 1)}`}`;
  }
  const before = md.indexOf('## Where the time goes');
  return before === -1 ? `${md.trimEnd()}\n\n${section}` : `${md.slice(0, before)}${section}\n${md.slice(before)}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync('BENCHMARKS.md', spliceSection(readFileSync('BENCHMARKS.md', 'utf8')));
  for (const r of model())
    console.log(
      `${r.name.padEnd(40)} ours ${r.ours_long_haul} long-haul, ${r.ours_ms} ms; better-auth ${r.peer_long_haul} long-haul, ${r.peer_ms} ms`,
    );
}
