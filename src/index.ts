import { drizzle } from 'drizzle-orm/d1';
import { app } from './app';
import { RETENTION_DEFAULTS, retentionDays, runExpirySweep, runHousekeeping, runReminders } from './cron';
import { consumeDeliveryBatch } from './delivery/consumer';
import { consumeDeadLetters } from './delivery/dead-letter';
import { consumeEmailEventBatch } from './delivery/email-events.queue';
import { runOutboxRelay } from './delivery/relay';
import { handOffNewWebhooks } from './delivery/producer';
import { isLocalAppUrl } from './lib/deployment';
import { errorMessage } from './lib/redact';

export { OrgCoordinator } from './org-coordinator';
export { SendPacer } from './delivery/send-pacer';

/** Housekeeping runs on every tenth minute; the relay, the sweep and the reminders on every tick. */
const HOUSEKEEPING_EVERY_MINUTES = 10;

export default {
  fetch: app.fetch,
  async queue(batch, env, _ctx) {
    // One consumer for the delivery queue, one for its dead-letter queue, and one for the email
    // provider's delivery events (`invitations-email-events`, fed by an event subscription).
    if (batch.queue.endsWith('-dlq')) await consumeDeadLetters(batch, env);
    else if (batch.queue.endsWith('-email-events')) await consumeEmailEventBatch(batch, env);
    else await consumeDeliveryBatch(batch, env);
  },
  async scheduled(controller, env, ctx) {
    const db = drizzle(env.DB);
    const now = controller.scheduledTime;
    const log = (event: string) => (result: object) =>
      console.log(JSON.stringify({ event, cron: controller.cron, ...result }));
    // Raised limits are for load tests; in production they would open the spam relay again.
    const scale = Number(env.RATE_LIMIT_SCALE ?? '1');
    if (scale > 1 && !isLocalAppUrl(env.APP_URL)) {
      console.warn(
        JSON.stringify({
          event: 'rate_limit_scale_raised',
          rate_limit_scale: scale,
          detail: 'Every rate limit is multiplied by RATE_LIMIT_SCALE; set it to 1 in production.',
        }),
      );
    }
    const jobs = [
      runOutboxRelay(env, db, now).then(log('outbox_relay')),
      // Expiries are webhook events (`invitation.expired`), handed to the queue after the sweep.
      runExpirySweep(db, now).then(async (result) => {
        if (result.expired > 0) await handOffNewWebhooks(env, db, now);
        log('expiry_sweep')(result);
      }),
      // Reminders before expiry (SPEC §17), each organization's through its coordinator.
      runReminders(env, db, now).then(log('reminders')),
    ];
    if (new Date(now).getUTCMinutes() % HOUSEKEEPING_EVERY_MINUTES === 0)
      jobs.push(
        runHousekeeping(db, now, undefined, {
          invitationDays: retentionDays(env.RETENTION_DAYS, RETENTION_DEFAULTS.invitationDays),
          auditDays: retentionDays(env.AUDIT_RETENTION_DAYS, RETENTION_DEFAULTS.auditDays),
        }).then(log('housekeeping')),
      );
    ctx.waitUntil(
      // Independent jobs: one failing does not skip the others.
      Promise.allSettled(jobs).then((results) => {
        for (const r of results)
          if (r.status === 'rejected')
            console.error(JSON.stringify({ event: 'cron_failed', error: errorMessage(r.reason) }));
      }),
    );
  },
} satisfies ExportedHandler<Env>;
