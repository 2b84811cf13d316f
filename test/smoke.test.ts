import { exports } from 'cloudflare:workers';
import { describe, it } from 'vitest';

describe('smoke', () => {
  it('healthz answers', async ({ expect }) => {
    const res = await exports.default.fetch('http://127.0.0.1:8787/healthz');
    expect(res.status).toBe(200);
  });
});
