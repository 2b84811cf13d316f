// Seeding: accounts through the public API; bulk history straight into the local D1.
import { newestLink } from '../scripts/mailbox.mjs';
import { d1 } from './servers.mjs';

/** Signs up through the emailed-link flow; returns the session token and user id. */
export async function signUp(api, email, name) {
  const since = Date.now() - 1000;
  await fetch(`${api}/v1/auth/email-link`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email }),
  });
  let link = null;
  for (let i = 0; i < 100 && !link; i++) {
    link = newestLink(email, { path: 'auth/verify', notBefore: since });
    if (!link) await new Promise((r) => setTimeout(r, 100));
  }
  if (!link) throw new Error(`no sign-in email for ${email}`);
  const token = new URL(link).searchParams.get('token');
  const res = await fetch(`${api}/v1/auth/verify`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ token, name }),
  });
  const body = await res.json();
  return { session: body.session_token, userId: body.user.id };
}

/** The most organizations one account may own (SPEC §14): a cap that RATE_LIMIT_SCALE does not raise. */
const OWNED_CAP = 25;

/**
 * Owners for the benchmark's organizations: each new organization goes to an account with room
 * under the owned-organization cap, signing up the next owner (with a personal API token) when the
 * last one is full. `token(org)` is the token of the organization's owner.
 */
export function ownerPool(api, started) {
  const tokens = new Map();
  let current = null;
  let n = 0;
  const newOwner = async () => {
    const owner = await signUp(api, `owner${n++}.${started}@bench.example`, 'Bench Owner');
    const res = await fetch(`${api}/v1/me/api-tokens`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${owner.session}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'bench' }),
    });
    return (await res.json()).token;
  };
  // Slots are handed out synchronously, so organizations created concurrently never overfill an owner.
  const slot = () => {
    if (!current || current.used >= OWNED_CAP) current = { token: newOwner(), used: 0 };
    current.used += 1;
    return current.token;
  };
  return {
    async newOrg(name) {
      const token = await slot();
      const res = await fetch(`${api}/v1/organizations`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ name }),
      });
      const body = await res.json();
      if (!body.id) throw new Error(`POST /v1/organizations answered ${res.status} ${JSON.stringify(body)}`);
      tokens.set(body.id, token);
      return body.id;
    },
    token: (org) => tokens.get(org),
  };
}

const rows = (n) => `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${Number(n)})`;

/**
 * `n` past invitations (accepted, expired, revoked in turn; none pending) in one organization,
 * created one second apart before `t0`, ids `inv_{prefix}0000001…`.
 */
export function seedHistory(worker, orgId, userId, n, prefix, t0 = Date.now()) {
  d1(
    worker,
    `${rows(n)} INSERT INTO invitations (id, organization_id, email, role, status, message, expires_in_days, expires_at, token_id,
       invited_by, last_sent_at, send_count, email_delivery, delivery_attempts, accepted_at, accepted_by, revoked_at, created_at, updated_at)
     SELECT 'inv_${prefix}' || printf('%07d', i), '${orgId}', '${prefix}' || i || '@history.example', 'viewer',
       CASE i % 3 WHEN 0 THEN 'accepted' WHEN 1 THEN 'expired' ELSE 'revoked' END, NULL, 7,
       ${t0} - i * 1000 + 604800000, NULL, '${userId}', ${t0} - i * 1000, 1, 'sent', 1, NULL, NULL, NULL,
       ${t0} - i * 1000, ${t0} - i * 1000
     FROM n`,
  );
}

/** `n` audit events of a typical size in one organization (for the storage model). */
export function seedAudit(worker, orgId, userId, n, prefix, t0 = Date.now()) {
  d1(
    worker,
    `${rows(n)} INSERT INTO audit_events (id, organization_id, actor_type, actor_id, action, target_type, target_id, data, ip, user_agent, created_at)
     SELECT 'aud_${prefix}' || printf('%016d', i), '${orgId}', 'user', '${userId}', 'invitation.created', 'invitation', 'inv_' || printf('%020d', i),
       json_object('email', 'person' || i || '@history.example', 'role', 'viewer', 'expires_in_days', 7), '203.0.113.' || (i % 250),
       'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15', ${t0} - i * 1000
     FROM n`,
  );
}

/** `n` pending invitations already past their expiry, spread over `orgs` new organizations. */
export function seedStaleInvitations(worker, userId, orgs, n, now = Date.now()) {
  d1(
    worker,
    `${rows(orgs)} INSERT INTO organizations (id, name, slug, created_at, updated_at)
    SELECT 'org_sw' || printf('%05d', i), 'Sweep ' || i, 'sweep-org-' || i, ${now}, ${now} FROM n`,
  );
  d1(
    worker,
    `${rows(n)} INSERT INTO invitations (id, organization_id, email, role, status, message, expires_in_days, expires_at, token_id,
       invited_by, last_sent_at, send_count, email_delivery, delivery_attempts, created_at, updated_at)
     SELECT 'inv_sw' || i, 'org_sw' || printf('%05d', 1 + i % ${Number(orgs)}), 'stale' || i || '@sweep.example', 'viewer', 'pending', NULL, 7,
       ${now} - 1000 - i, 'jti_sw' || i, '${userId}', ${now} - 604801000, 1, 'sent', 1, ${now} - 604801000, ${now} - 604801000
     FROM n`,
  );
}
