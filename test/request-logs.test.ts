import { describe, it, vi } from 'vitest';
import { call, invite, lastToken, ownerWithOrg, uniqueEmail } from './helpers';

describe('structured request logs', () => {
  it('one JSON line per request (written once the response is sent) with method, route, status, duration, org and request id; no secrets', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Logs Co');
    const email = uniqueEmail();
    await invite(owner.token, org.id, { email, role: 'viewer' });
    const token = await lastToken(email);
    const lines: string[] = [];
    const spy = vi
      .spyOn(console, 'log')
      .mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(' ')));
    const list = await call('GET', `/v1/organizations/${org.slug}/invitations`, {
      token: owner.token,
      headers: { 'X-Request-Id': 'req-from-client-1' },
    });
    const preview = await call('GET', `/v1/invitations/preview?token=${token}`, {
      headers: { Cookie: `8b_session=${owner.token}` },
    });
    // Each line is written just after its response (lines of the setup's requests may land here too).
    const ids = [list.headers.get('X-Request-Id'), preview.headers.get('X-Request-Id')];
    const ours = () =>
      lines.map((l) => JSON.parse(l)).filter((e) => e.event === 'request' && ids.includes(e.request_id));
    await vi.waitFor(() => expect(ours()).toHaveLength(2));
    spy.mockRestore();

    expect(list.headers.get('X-Request-Id')).toBe('req-from-client-1');
    expect(preview.headers.get('X-Request-Id')).toMatch(/^req_[0-9a-z]{16}$/);
    const events = ours();
    expect(events[0]).toMatchObject({
      request_id: 'req-from-client-1',
      method: 'GET',
      route: '/v1/organizations/:org/invitations',
      status: 200,
      org_id: org.id,
    });
    expect(events[0].duration_ms).toBeGreaterThanOrEqual(0);
    expect(events[1]).toMatchObject({
      route: '/v1/invitations/preview',
      status: 200,
      request_id: preview.headers.get('X-Request-Id'),
    });
    for (const line of lines) {
      expect(line).not.toContain(token);
      expect(line).not.toContain(owner.token);
      expect(line).not.toContain('Bearer');
    }
  });
});
