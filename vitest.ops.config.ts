import { defineConfig } from 'vitest/config';

/**
 * Operator tooling, in Node: `npm run deploy` driving the real wrangler against a local stand-in of
 * Cloudflare's API (test/standins/cloudflare-api.ts), and the production configuration beside the
 * local one.
 */
export default defineConfig({
  test: {
    include: ['test/ops/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
