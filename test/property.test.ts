import { env } from 'cloudflare:workers';
import { drizzle } from 'drizzle-orm/d1';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { runExpirySweep } from '../src/cron';
import { call, lastToken, ownerWithOrg, setExpiresAt, setLastSentAt } from './helpers';

/*
 * A model of SPEC §2 for one organization, driven by random sequences of create / resend /
 * revoke / accept / expire / sweep. Every response code is predicted by the model, and after
 * every step the organization's real state must equal the model's.
 */

type Status = 'pending' | 'accepted' | 'expired' | 'revoked';
interface Inv {
  id: string;
  email: string;
  status: Status;
  /** Sent less than 60 seconds ago (resend would be refused). */
  hot: boolean;
  token: string;
  stale: string[];
}
interface Model {
  invs: Inv[];
  members: Set<string>;
}
interface Real {
  org: string;
  owner: string;
  emails: string[];
}

const pendingCount = (m: Model) => m.invs.filter((i) => i.status === 'pending').length;
const seen = { codes: new Map<string, number>(), runs: 0, commands: 0 };
const note = (code: string) => seen.codes.set(code, (seen.codes.get(code) ?? 0) + 1);

async function expectCode(res: { status: number; json: any }, status: number, code?: string) {
  const label = `${status}${code ? ` ${code}` : ''}`;
  if (res.status !== status || (code && res.json?.code !== code)) {
    throw new Error(`expected ${label}, got ${res.status} ${JSON.stringify(res.json)}`);
  }
  note(label);
  seen.commands++;
}

/** The real organization equals the model: every status, and never more than 10 pending. */
async function agree(m: Model, r: Real) {
  const list = await call('GET', `/v1/organizations/${r.org}/invitations?limit=100`, { token: r.owner });
  const real = new Map<string, string>(list.json.data.map((i: { id: string; status: string }) => [i.id, i.status]));
  if (real.size !== m.invs.length) throw new Error(`model has ${m.invs.length} invitations, API ${real.size}`);
  for (const inv of m.invs)
    if (real.get(inv.id) !== inv.status) throw new Error(`${inv.id}: model ${inv.status}, API ${real.get(inv.id)}`);
  const org = await call('GET', `/v1/organizations/${r.org}`, { token: r.owner });
  if (org.json.pending_invitations !== pendingCount(m) || pendingCount(m) > 10)
    throw new Error(`pending ${org.json.pending_invitations} vs model ${pendingCount(m)}`);
}

class Create implements fc.AsyncCommand<Model, Real> {
  constructor(readonly e: number) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const email = r.emails[this.e];
    const res = await call('POST', `/v1/organizations/${r.org}/invitations`, {
      token: r.owner,
      body: { email, role: 'viewer' },
    });
    if (m.members.has(email)) await expectCode(res, 409, 'already_member');
    else if (m.invs.some((i) => i.email === email && i.status === 'pending'))
      await expectCode(res, 409, 'invitation_already_pending');
    else if (pendingCount(m) >= 10) await expectCode(res, 409, 'pending_invitation_limit');
    else {
      await expectCode(res, 201);
      m.invs.push({ id: res.json.id, email, status: 'pending', hot: true, token: await lastToken(email), stale: [] });
    }
    await agree(m, r);
  }
  toString = () => `Create(${this.e})`;
}

/** Creates to every free address in turn until the limit refuses one (or addresses run out). */
class FillUp implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(m: Model, r: Real) {
    for (let e = 0; e < r.emails.length; e++) {
      const email = r.emails[e];
      if (m.members.has(email) || m.invs.some((i) => i.email === email && i.status === 'pending')) continue;
      const full = pendingCount(m) >= 10;
      await new Create(e).run(m, r);
      if (full) return;
    }
  }
  toString = () => 'FillUp';
}

class Resend implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly i: number,
    readonly aged: boolean,
  ) {}
  check = (m: Readonly<Model>) => m.invs.length > 0;
  async run(m: Model, r: Real) {
    const inv = m.invs[this.i % m.invs.length];
    if (this.aged) {
      await setLastSentAt(inv.id, Date.now() - 120_000);
      inv.hot = false;
    }
    const res = await call('POST', `/v1/organizations/${r.org}/invitations/${inv.id}/resend`, { token: r.owner });
    const otherPending = m.invs.some((o) => o !== inv && o.email === inv.email && o.status === 'pending');
    if (inv.status === 'accepted' || inv.status === 'revoked') await expectCode(res, 409, 'invalid_state');
    else if (inv.hot) await expectCode(res, 429, 'resend_cooldown');
    else if (inv.status === 'expired' && m.members.has(inv.email)) await expectCode(res, 409, 'already_member');
    else if (inv.status === 'expired' && otherPending) await expectCode(res, 409, 'invitation_already_pending');
    else if (inv.status === 'expired' && pendingCount(m) >= 10) await expectCode(res, 409, 'pending_invitation_limit');
    else {
      await expectCode(res, 200);
      inv.status = 'pending';
      inv.hot = true;
      inv.stale.push(inv.token);
      inv.token = await lastToken(inv.email);
    }
    await agree(m, r);
  }
  toString = () => `Resend(${this.i}, aged=${this.aged})`;
}

class Revoke implements fc.AsyncCommand<Model, Real> {
  constructor(readonly i: number) {}
  check = (m: Readonly<Model>) => m.invs.length > 0;
  async run(m: Model, r: Real) {
    const inv = m.invs[this.i % m.invs.length];
    const res = await call('POST', `/v1/organizations/${r.org}/invitations/${inv.id}/revoke`, { token: r.owner });
    if (inv.status === 'pending') {
      await expectCode(res, 200);
      inv.status = 'revoked';
    } else await expectCode(res, 409, 'invalid_state');
    await agree(m, r);
  }
  toString = () => `Revoke(${this.i})`;
}

class Accept implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly i: number,
    readonly useStale: boolean,
  ) {}
  check = (m: Readonly<Model>) => m.invs.length > 0;
  async run(m: Model, r: Real) {
    const inv = m.invs[this.i % m.invs.length];
    const token = this.useStale && inv.stale.length > 0 ? inv.stale[0] : inv.token;
    const res = await call('POST', '/v1/invitations/accept', { body: { token, name: 'Prop Erty' } });
    if (token === inv.token && inv.status === 'pending') {
      await expectCode(res, 200);
      inv.status = 'accepted';
      m.members.add(inv.email);
    } else await expectCode(res, 410, 'invitation_invalid');
    await agree(m, r);
  }
  toString = () => `Accept(${this.i}, stale=${this.useStale})`;
}

class Expire implements fc.AsyncCommand<Model, Real> {
  constructor(readonly i: number) {}
  check = (m: Readonly<Model>) => m.invs.length > 0;
  async run(m: Model, r: Real) {
    const inv = m.invs[this.i % m.invs.length];
    await setExpiresAt(inv.id, Date.now() - 1);
    if (inv.status === 'pending') inv.status = 'expired';
    seen.commands++;
    await agree(m, r);
  }
  toString = () => `Expire(${this.i})`;
}

class Sweep implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(m: Model, r: Real) {
    await runExpirySweep(drizzle(env.DB), Date.now());
    seen.commands++;
    await agree(m, r);
  }
  toString = () => 'Sweep';
}

const EMAILS = 24;
const create = fc.integer({ min: 0, max: EMAILS - 1 }).map((e) => new Create(e));
// Create is listed five times so that sequences regularly reach the limit of 10.
const commands = [
  create,
  create,
  create,
  create,
  create,
  fc.tuple(fc.nat(), fc.boolean()).map(([i, aged]) => new Resend(i, aged)),
  fc.nat().map((i) => new Revoke(i)),
  fc.tuple(fc.nat(), fc.boolean()).map(([i, stale]) => new Accept(i, stale)),
  fc.nat().map((i) => new Expire(i)),
  fc.constant(new Sweep()),
  fc.constant(new FillUp()),
];

describe('property: the rules hold for any sequence of operations', () => {
  it('a model of SPEC §2 predicts every response, and the state always agrees', { timeout: 300_000 }, async ({
    expect,
  }) => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 40, size: 'max' }), async (cmds) => {
        const { owner, org } = await ownerWithOrg(`Prop ${++run}`);
        const emails = Array.from({ length: EMAILS }, (_, i) => `p${run}.e${i}.${Date.now().toString(36)}@example.com`);
        seen.runs++;
        await fc.asyncModelRun(
          () => ({
            model: { invs: [], members: new Set<string>() },
            real: { org: org.id, owner: owner.token, emails },
          }),
          cmds,
        );
      }),
      { numRuns: 30, endOnFailure: true },
    );
    console.info(
      `property runs: ${seen.runs}, commands: ${seen.commands}, codes seen: ${JSON.stringify(Object.fromEntries(seen.codes))}`,
    );
    for (const code of [
      '201',
      '200',
      '409 invalid_state',
      '429 resend_cooldown',
      '410 invitation_invalid',
      '409 pending_invitation_limit',
    ]) {
      expect(seen.codes.get(code) ?? 0, code).toBeGreaterThan(0);
    }
  });
});
