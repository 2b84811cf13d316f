import { exports } from 'cloudflare:workers';
import { describe, it } from 'vitest';

describe('smoke', () => {
  it('healthz answers', async ({ expect }) => {
    const res = await exports.default.fetch('http://x/healthz');
    expect(res.status).toBe(200);
  });
});
