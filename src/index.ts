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
      (async () => {
        const swept = await runExpirySweep(db, controller.scheduledTime);
        console.log(JSON.stringify({ event: 'expiry_sweep', cron: controller.cron, ...swept }));
        const cleaned = await runHousekeeping(db, controller.scheduledTime);
        console.log(JSON.stringify({ event: 'housekeeping', ...cleaned }));
      })(),
    );
  },
} satisfies ExportedHandler<Env>;
