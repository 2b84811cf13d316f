import { defineConfig } from 'vitest/config';

/** Browser tests: Node drives Debian's Chromium against `wrangler dev` (see test/e2e/server.ts). */
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.ts'],
    globalSetup: ['./test/e2e/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
