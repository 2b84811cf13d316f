import { drizzle } from 'drizzle-orm/d1';
import { app } from './app';
import { runExpirySweep, runHousekeeping } from './cron';
import * as schema from './db/schema';

export { OrgCoordinator } from './org-coordinator';

export default {
  fetch: app.fetch,
  async scheduled(controller, env, ctx) {
    const db = drizzle(env.DB, { schema });
    ctx.waitUntil(
      // Independent jobs: one failing does not skip the other.
      Promise.allSettled([
        runExpirySweep(db, controller.scheduledTime).then((swept) =>
          console.log(JSON.stringify({ event: 'expiry_sweep', cron: controller.cron, ...swept })),
        ),
        runHousekeeping(db, controller.scheduledTime).then((cleaned) => console.log(JSON.stringify({ event: 'housekeeping', ...cleaned }))),
      ]).then((results) => {
        for (const r of results) if (r.status === 'rejected') console.error(JSON.stringify({ event: 'cron_failed', error: String(r.reason) }));
      }),
    );
  },
} satisfies ExportedHandler<Env>;
