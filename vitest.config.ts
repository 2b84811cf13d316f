import path from 'node:path';
import { readdirSync, readFileSync } from 'node:fs';
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';
import { startEmailApiStandIn } from './test/standins/email-api';
import { startWebhookReceiver } from './test/standins/webhook-receiver';
import { startDohStandIn } from './test/standins/doh';

/**
 * Two projects, both inside workerd against the real local D1, Durable Objects and Queues:
 * - `workers`: every behaviour test. The delivery queue's producer points at a queue nobody
 *   consumes, and tests run the real consumer on the outbox rows themselves (test/helpers.ts
 *   `drainOutbox`), so what was sent is deterministic.
 * - `queues`: the pipeline as deployed, with the real queue consumer and dead-letter queue,
 *   sending through the Resend transport to the local stand-in.
 */
export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, 'migrations'));
  // The HTTPS email API stand-in lives as long as this process (its socket does not hold it open).
  const standIn = await startEmailApiStandIn();
  const receiver = await startWebhookReceiver();
  // The DNS-over-HTTPS resolver stand-in: tests say which TXT records exist (test/standins/doh.ts).
  const doh = await startDohStandIn();
  // The Worker's source, for the test that every message key is used somewhere.
  const source = readdirSync('src', { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(ts|tsx)$/.test(f) && !f.includes('worker-configuration') && !f.startsWith('i18n'))
    .map((f) => readFileSync(path.join('src', f), 'utf8'))
    .join('\n');
  const bindings = {
    TEST_MIGRATIONS: migrations,
    TEST_EMAIL_API: standIn.origin,
    TEST_WEBHOOK_RECEIVER: receiver.origin,
    TEST_SOURCE: source,
    DOH_URL: `${doh.origin}/dns-query`,
    // Test-only key; `.dev.vars` is not read in tests.
    TOKEN_SIGNING_KEY: 'test-signing-key-0123456789abcdefghijklmnopqrstuvwxyz',
    TOKEN_SIGNING_KEYS_PREVIOUS: '',
  };
  const common = {
    setupFiles: ['./test/apply-migrations.ts', './test/mail-tap.ts'],
    testTimeout: 30_000,
  };
  return {
    test: {
      // The worker logs one JSON line per request; show logs only for failing tests.
      silent: 'passed-only' as const,
      projects: [
        {
          plugins: [
            cloudflareTest({
              wrangler: { configPath: './wrangler.toml' },
              miniflare: {
                bindings,
                queueProducers: {
                  DELIVERY_QUEUE: { queueName: 'test-delivery-sink' },
                  DELIVERY_DLQ: { queueName: 'test-dead-letter-sink' },
                },
              },
            }),
          ],
          test: {
            name: 'workers',
            include: ['test/**/*.test.ts'],
            exclude: ['test/e2e/**', 'test/queues/**', 'test/ops/**'],
            ...common,
          },
        },
        {
          plugins: [
            cloudflareTest({
              wrangler: { configPath: './wrangler.toml' },
              miniflare: {
                bindings: {
                  ...bindings,
                  EMAIL_TRANSPORT: 'resend',
                  EMAIL_API_BASE_URL: standIn.origin,
                  EMAIL_API_KEY: 're_test_0123456789',
                  // Retries come back at once (the schedule itself is tested in `workers`).
                  DELIVERY_RETRY_SCALE: '0',
                  WEBHOOK_RETRY_SCALE: '0',
                },
                // Test-only: puts Email Sending events on the real events queue, as the event subscription does.
                queueProducers: { TEST_EMAIL_EVENTS: { queueName: 'invitations-email-events' } },
              },
            }),
          ],
          test: { name: 'queues', include: ['test/queues/**/*.test.ts'], ...common, testTimeout: 60_000 },
        },
      ],
    },
  };
});
