// `npm run deploy`: from an empty Cloudflare account to a checked production deployment, and on
// every later run an upgrade (migrations first, then the Worker). See "Deploying (operators)" in
// the README. Every step first looks, then creates only what is missing, so a run that stopped
// halfway is finished by running it again.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  COORDINATOR_LOCATIONS,
  D1_LOCATIONS,
  DEFAULT_PRODUCTION_CONFIG,
  localConfig,
  previousSettings,
  writeProductionConfig,
} from './deploy/production-config.mjs';
import { cloudflareApi, parseJsonOutput, StepError, wrangler } from './lib/wrangler.mjs';

const USAGE = `Usage: npm run deploy -- (--hostname HOST | --workers-dev) --from ADDRESS [options]

  --hostname HOST          serve on this custom domain (its zone must be on this account)
  --workers-dev            serve on <name>.<your subdomain>.workers.dev instead
  --workers-subdomain SUB  register SUB as the account's workers.dev subdomain if it has none
  --from ADDRESS           the sender address of every email (its domain: a zone on this account)
  --transport NAME         cloudflare (default), resend or postmark
  --location HINT          where a new D1 database lives: ${D1_LOCATIONS.join(', ')};
                           every organization's coordinator is then created there too
  --coordinator-location HINT
                           where coordinators are created instead of --location's place:
                           ${COORDINATOR_LOCATIONS.join(', ')}
  --jurisdiction eu        keep a new D1 database's data in the EU (coordinators get no
                           location unless --location or --coordinator-location names one)
  --name NAME              the Worker's name (default: wrangler.toml's)
  --database NAME          the D1 database's name (default: wrangler.toml's)
  --config FILE            the production configuration (default: ${DEFAULT_PRODUCTION_CONFIG})
  --health-origin URL      check /healthz at this origin instead of the deployed one

A rerun needs no flags: it reads them back from the production configuration.
Needs CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID in the environment.`;

const TRANSPORTS = ['cloudflare', 'resend', 'postmark'];
const SIGNING_KEY = 'TOKEN_SIGNING_KEY';

function options() {
  const { values } = parseArgs({
    options: {
      hostname: { type: 'string' },
      'workers-dev': { type: 'boolean' },
      'workers-subdomain': { type: 'string' },
      from: { type: 'string' },
      transport: { type: 'string' },
      location: { type: 'string' },
      'coordinator-location': { type: 'string' },
      jurisdiction: { type: 'string' },
      name: { type: 'string' },
      database: { type: 'string' },
      config: { type: 'string', default: DEFAULT_PRODUCTION_CONFIG },
      'health-origin': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const before = previousSettings(values.config);
  const local = localConfig();
  const location = values.location?.toLowerCase();
  const coordinatorFlag = values['coordinator-location']?.trim().toLowerCase();
  const workersDev = values['workers-dev'] ?? (values.hostname ? false : (before.workersDev ?? false));
  const settings = {
    name: values.name ?? before.name ?? local.name,
    hostname: workersDev ? null : (values.hostname ?? before.hostname ?? null)?.toLowerCase(),
    workersDev,
    from: values.from ?? before.from,
    transport: (values.transport ?? before.transport ?? 'cloudflare').toLowerCase(),
    database: values.database ?? before.database ?? local.d1_databases?.[0]?.database_name,
    namespaces: before.namespaces,
    vars: before.vars ?? {},
    location,
    jurisdiction: values.jurisdiction,
    // COORDINATOR_LOCATION_HINT (SPEC §19): named, else where --location puts the database, else
    // as the production file has it (a rerun), else wrangler.toml's (none).
    coordinatorLocation:
      coordinatorFlag ?? location ?? before.coordinatorLocation ?? local.vars?.COORDINATOR_LOCATION_HINT ?? '',
    // What the production file said before this run: undefined on a first run.
    previousCoordinatorLocation: before.name === undefined ? undefined : (before.coordinatorLocation ?? ''),
    config: values.config,
    subdomain: values['workers-subdomain'],
    healthOrigin: values['health-origin'],
  };
  const problems = [];
  if (!process.env.CLOUDFLARE_API_TOKEN) problems.push('CLOUDFLARE_API_TOKEN is not set.');
  if (!process.env.CLOUDFLARE_ACCOUNT_ID) problems.push('CLOUDFLARE_ACCOUNT_ID is not set.');
  if (
    !settings.workersDev &&
    !/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,}$/.test(settings.hostname ?? '')
  ) {
    problems.push('Give --hostname HOST (a custom domain such as invitations.example.com) or --workers-dev.');
  }
  if (!/^[^@\s<>]+@[a-z0-9.-]+\.[a-z]{2,}$/i.test(settings.from ?? ''))
    problems.push('Give --from ADDRESS, the sender of every email (e.g. invitations@example.com).');
  if (!TRANSPORTS.includes(settings.transport)) problems.push(`--transport must be one of ${TRANSPORTS.join(', ')}.`);
  if (settings.jurisdiction && settings.jurisdiction !== 'eu') problems.push('--jurisdiction takes eu.');
  if (location && !D1_LOCATIONS.includes(location))
    problems.push(`--location takes one of D1's location hints: ${D1_LOCATIONS.join(', ')}.`);
  if (settings.coordinatorLocation && !COORDINATOR_LOCATIONS.includes(settings.coordinatorLocation)) {
    const from =
      coordinatorFlag !== undefined
        ? '--coordinator-location'
        : location
          ? null // said above, as --location's problem
          : `COORDINATOR_LOCATION_HINT in ${settings.config}`;
    if (from)
      problems.push(
        `${from} is "${settings.coordinatorLocation}": it takes one of Durable Objects' location hints: ${COORDINATOR_LOCATIONS.join(', ')}.`,
      );
  }
  if (problems.length) throw new StepError(`${problems.join('\n')}\n\n${USAGE}`);
  return settings;
}

/** The steps, numbered as the README lists them. */
const STEPS = [
  'D1',
  'Queues',
  'Email Sending events',
  'Hostname',
  'Production configuration',
  'Secret',
  'Migrations',
  'Worker',
  'Health',
];
let stepNumber = 0;
const step = (name, detail = '') => {
  stepNumber = STEPS.indexOf(name) + 1;
  console.log(`\n[${stepNumber}] ${name}${detail ? `: ${detail}` : ''}`);
};
const say = (line) => console.log(`    ${line}`);

/**
 * The D1 database by name, created (with its location or jurisdiction) when missing. Returns its
 * uuid and, when Cloudflare says it, the region its primary runs in.
 */
async function ensureDatabase(settings) {
  step('D1', `database "${settings.database}"`);
  const find = async () =>
    parseJsonOutput((await wrangler(['d1', 'list', '--json'])).out).find((d) => d.name === settings.database);
  let db = await find();
  if (db) {
    const region = await primaryRegion(db.uuid);
    say(`exists: ${db.uuid}${region ? ` (primary in ${region})` : ''}`);
    return { uuid: db.uuid, region };
  }
  const args = ['d1', 'create', settings.database];
  if (settings.location) args.push('--location', settings.location);
  if (settings.jurisdiction) args.push('--jurisdiction', settings.jurisdiction);
  await wrangler(args);
  db = await find();
  if (!db) throw new StepError(`wrangler created the database "${settings.database}" but it is not listed; run again.`);
  const region = await primaryRegion(db.uuid);
  const placed = settings.jurisdiction
    ? `jurisdiction ${settings.jurisdiction}`
    : settings.location
      ? `near ${settings.location}`
      : null;
  const where = [
    placed,
    region && (settings.jurisdiction || region !== settings.location) ? `primary in ${region}` : null,
  ].filter(Boolean);
  say(`created: ${db.uuid}${where.length ? ` (${where.join(', ')})` : ''}`);
  return { uuid: db.uuid, region };
}

/**
 * The region D1 reports its primary in (`running_in_region`, e.g. WEUR), lower-cased like a
 * location hint; null when the answer has none. Only said to the operator, never relied on.
 */
async function primaryRegion(uuid) {
  const answer = await cloudflareApi('GET', `/accounts/${process.env.CLOUDFLARE_ACCOUNT_ID}/d1/database/${uuid}`).catch(
    () => null,
  );
  const region = answer?.success ? answer.result?.running_in_region : null;
  return typeof region === 'string' && region ? region.toLowerCase() : null;
}

/**
 * Step 5's word on COORDINATOR_LOCATION_HINT (SPEC §19): each organization's coordinator belongs
 * beside the D1 primary, and a hint counts only when a coordinator is first created.
 */
function coordinatorNotes(settings, region) {
  const hint = settings.coordinatorLocation;
  // What to pass to put coordinators beside the primary, when D1 said where that is.
  const beside = region && COORDINATOR_LOCATIONS.includes(region) ? `--coordinator-location ${region}` : null;
  const notes = [];
  if (!hint) {
    const why = settings.jurisdiction
      ? `the ${settings.jurisdiction.toUpperCase()} jurisdiction chooses the database's place, so no hint follows from it`
      : 'no --location or --coordinator-location named one';
    notes.push(
      `coordinators get no location hint (${why}): each is created near its organization's first request, perhaps far from the database. Run again with ${beside ?? '--coordinator-location HINT'}${region ? ` (the primary is in ${region})` : ''}.`,
    );
  } else if (region && region !== hint) {
    notes.push(
      `the database's primary is in ${region}, not ${hint}: each of a coordinator's D1 calls would cross regions.${beside ? ` ${beside} puts coordinators beside it.` : ''}`,
    );
  }
  const before = settings.previousCoordinatorLocation;
  if (before !== undefined && before !== hint) {
    notes.push(
      `changed from ${before || 'none'}: coordinators created before keep their place; organizations first written from now on get ${hint || 'none'}.`,
    );
  }
  return notes;
}

/** Every queue wrangler.toml names (producers, consumers, dead-letter queues), created when missing. */
async function ensureQueues(local) {
  const names = new Set();
  for (const p of local.queues?.producers ?? []) names.add(p.queue);
  for (const c of local.queues?.consumers ?? []) {
    names.add(c.queue);
    if (c.dead_letter_queue) names.add(c.dead_letter_queue);
  }
  step('Queues', [...names].join(', '));
  for (const name of names) {
    const info = await wrangler(['queues', 'info', name], { allowFailure: true });
    if (info.code === 0) {
      say(`exists: ${name}`);
      continue;
    }
    await wrangler(['queues', 'create', name]);
    say(`created: ${name}`);
  }
}

/** The deployed origin; for workers.dev, the account's subdomain (registered when asked to). */
async function resolveOrigin(settings) {
  step('Hostname', settings.workersDev ? 'workers.dev' : `${settings.hostname} (custom domain)`);
  if (!settings.workersDev) return `https://${settings.hostname}`;
  const account = process.env.CLOUDFLARE_ACCOUNT_ID;
  let answer = await cloudflareApi('GET', `/accounts/${account}/workers/subdomain`);
  if (!answer.success) {
    // 10007: the account has none yet. Anything else (a token without access, an outage) is said as it is.
    if (!answer.errors?.some((e) => e.code === 10007))
      throw new StepError(`Reading the account's workers.dev subdomain failed: ${apiErrors(answer)}`);
    if (!settings.subdomain) {
      throw new StepError(
        'This account has no workers.dev subdomain yet. Choose one and run again with --workers-subdomain NAME (or use --hostname).',
      );
    }
    answer = await cloudflareApi('PUT', `/accounts/${account}/workers/subdomain`, { subdomain: settings.subdomain });
    if (!answer.success)
      throw new StepError(`Registering the workers.dev subdomain "${settings.subdomain}" failed: ${apiErrors(answer)}`);
    say(`registered the account's subdomain: ${settings.subdomain}.workers.dev`);
  }
  return `https://${settings.name}.${answer.result.subdomain}.workers.dev`;
}

const apiErrors = (answer) =>
  (answer.errors ?? []).map((e) => `${e.message} (${e.code})`).join('; ') || `HTTP ${answer.status}`;

/**
 * The signing key: kept when the Worker has one, else generated (48 random bytes) into a private
 * file handed to `wrangler deploy --secrets-file`, deleted after. Never printed.
 */
async function signingKeyFile(configFile) {
  step('Secret', SIGNING_KEY);
  const listed = await wrangler(['secret', 'list', '--config', configFile, '--format', 'json'], { allowFailure: true });
  if (listed.code === 0 && parseJsonOutput(listed.out).some((s) => s.name === SIGNING_KEY)) {
    say('set already: kept as it is');
    return null;
  }
  if (listed.code !== 0 && !/10007|does not exist|not found/i.test(listed.out + listed.err)) {
    throw new StepError(`Could not list the Worker's secrets:\n${listed.err || listed.out}`);
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'invitations-deploy-'));
  const file = path.join(dir, 'secrets.json');
  writeFileSync(file, JSON.stringify({ [SIGNING_KEY]: randomBytes(48).toString('base64') }), { mode: 0o600 });
  say('not set: a new random key goes up with the Worker (never printed)');
  // The file goes whatever ends the run: success, failure, or Ctrl-C.
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  const interrupted = (signal) => {
    cleanup();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  return {
    file,
    cleanup: () => {
      process.off('SIGINT', interrupted);
      process.off('SIGTERM', interrupted);
      cleanup();
    },
  };
}

/** Email Sending's delivery events reach the Worker through a queue subscription (cloudflare only). */
async function ensureEmailEventsSubscription(settings, local) {
  const queue = local.queues?.consumers?.find((c) => /email-events/.test(c.queue))?.queue;
  step('Email Sending events', queue ? `queue ${queue}` : '');
  if (settings.transport !== 'cloudflare' || !queue) {
    say(`skipped: the ${settings.transport} transport reports delivery through its own webhook`);
    return;
  }
  const domain = settings.from.split('@')[1].toLowerCase();
  const listed = parseJsonOutput((await wrangler(['queues', 'subscription', 'list', queue, '--json'])).out);
  // One subscription per sending domain: a new --from domain gets its own.
  if (
    (Array.isArray(listed) ? listed : []).some((s) => s.source?.type === 'email.sending' && s.source?.domain === domain)
  ) {
    say(`subscribed already (${domain})`);
    return;
  }
  const zone = await zoneOf(domain);
  if (!zone) {
    say(`no zone found for ${domain} on this account: add it to Cloudflare, then run again to subscribe`);
    return;
  }
  await wrangler([
    'queues',
    'subscription',
    'create',
    queue,
    '--source',
    'email.sending',
    '--events',
    EMAIL_SENDING_EVENTS.join(','),
    '--zone-id',
    zone.id,
    '--domain',
    domain,
    '--name',
    `${settings.name} email events`,
  ]);
  say(`subscribed (zone ${zone.name})`);
}

/** The Email Sending events the Worker reads: EMAIL_SENDING_EVENT_TYPES in src/delivery/transports/cloudflare.ts. */
const EMAIL_SENDING_EVENTS = ['delivered', 'deferred', 'bounced', 'failed', 'rejected', 'complained'].map(
  (type) => `message.${type}`,
);

/** The zone holding `domain`: the domain itself or its nearest parent on this account. */
async function zoneOf(domain) {
  const labels = domain.split('.');
  for (let i = 0; i < labels.length - 1; i++) {
    const name = labels.slice(i).join('.');
    const answer = await cloudflareApi(
      'GET',
      `/zones?name=${encodeURIComponent(name)}&account.id=${process.env.CLOUDFLARE_ACCOUNT_ID}`,
    );
    if (!answer.success)
      throw new StepError(
        `Looking up the zone of ${domain} failed (does the token have Zone: Read?): ${apiErrors(answer)}`,
      );
    if (answer.result?.length) return answer.result[0];
  }
  return null;
}

/** `GET /healthz?deep=1` on the deployed origin, a few times (a new custom domain needs a moment). */
async function checkHealth(origin, settings) {
  const target = settings.healthOrigin ?? origin;
  step('Health', `"${target}/healthz?deep=1"`);
  const attempts = Number(process.env.DEPLOY_HEALTH_ATTEMPTS ?? 10);
  let last = null;
  for (let i = 1; i <= attempts; i++) {
    try {
      const response = await fetch(`${target}/healthz?deep=1`, { signal: AbortSignal.timeout(10_000) });
      last = { status: response.status, body: await response.json().catch(() => null) };
      if (last.status === 200 || last.status === 503) break;
    } catch (err) {
      last = { status: 0, body: { error: String(err.message ?? err) } };
    }
    if (i < attempts) await new Promise((r) => setTimeout(r, Math.min(30_000, 2_000 * i)));
  }
  for (const [name, check] of Object.entries(last?.body?.checks ?? {}))
    say(`${check.ok ? 'ok  ' : 'FAIL'} ${name}${check.ok ? '' : `: ${check.problem ?? JSON.stringify(check)}`}`);
  if (!last?.body?.checks) say(`no answer: ${JSON.stringify(last)}`);
  return last;
}

function leftToDo(origin, settings, health) {
  const cfg = settings.config === DEFAULT_PRODUCTION_CONFIG ? '' : ` -- --config ${settings.config}`;
  const domain = settings.from.split('@')[1];
  const lines = [];
  if (settings.transport === 'cloudflare') {
    lines.push(
      `Onboard ${domain} to Email Sending (dashboard: Email Service → Email Sending; needs Workers Paid), so mail reaches any address.`,
    );
  } else {
    lines.push(
      `Set the ${settings.transport} API key: npx wrangler secret put EMAIL_API_KEY --config ${settings.config}`,
    );
    lines.push(
      `Add the provider's event webhook ${origin}/v1/email-events/${settings.transport} and: npx wrangler secret put EMAIL_EVENTS_SECRET --config ${settings.config}`,
    );
  }
  if (!settings.workersDev)
    lines.push(
      `A new custom domain needs a few minutes for its certificate: check again below if health failed to connect.`,
    );
  lines.push(
    `Check: curl -s "${origin}/healthz?deep=1"   (or: npm run deploy${cfg}, which changes nothing that is in place)`,
  );
  console.log(`\nLeft to do by hand:\n${lines.map((l) => `  - ${l}`).join('\n')}`);
  const failing = Object.entries(health?.body?.checks ?? {})
    .filter(([, c]) => !c.ok)
    .map(([name]) => name);
  return failing;
}

async function main() {
  const settings = options();
  const local = localConfig();
  console.log(`Deploying ${settings.name} to account ${process.env.CLOUDFLARE_ACCOUNT_ID}`);
  const database = await ensureDatabase(settings);
  await ensureQueues(local);
  await ensureEmailEventsSubscription(settings, local);
  const origin = await resolveOrigin(settings);
  step('Production configuration', settings.config);
  writeProductionConfig(settings.config, settings, { origin, databaseId: database.uuid });
  const coordinator = settings.coordinatorLocation
    ? `coordinator near ${settings.coordinatorLocation}`
    : 'coordinator: no location hint';
  say(`written, with APP_URL ${origin}; ${coordinator}`);
  for (const note of coordinatorNotes(settings, database.region)) say(`note: ${note}`);
  const secrets = await signingKeyFile(settings.config);
  try {
    step('Migrations', 'before the new Worker, so it never runs on an older schema');
    await wrangler(['d1', 'migrations', 'apply', 'DB', '--remote', '--config', settings.config], { echo: true });
    step('Worker');
    await wrangler(['deploy', '--config', settings.config, ...(secrets ? ['--secrets-file', secrets.file] : [])], {
      echo: true,
    });
  } finally {
    secrets?.cleanup();
  }
  const health = await checkHealth(origin, settings);
  const failing = leftToDo(origin, settings, health);
  // The email transport is the operator's to finish (a domain to onboard, a key to set): not a failure.
  const blocking = failing.filter((name) => name !== 'email');
  if (!health?.body?.checks || blocking.length) {
    console.error(
      `\nDeployed, but health is not green (${blocking.join(', ') || 'no answer'}). Fix it and run npm run deploy again.`,
    );
    process.exit(1);
  }
  console.log(`\nDone: ${origin}`);
}

main().catch((err) => {
  if (err instanceof StepError && stepNumber === 0) console.error(`\nNothing ran: ${err.message}`);
  else if (err instanceof StepError) {
    console.error(
      `\nStopped at step ${stepNumber} (${STEPS[stepNumber - 1]}): ${err.message}\nNothing after this step ran. Fix the cause and run npm run deploy again: it keeps what is in place and finishes the rest.`,
    );
  } else console.error(err);
  process.exit(1);
});
