import { drizzle } from 'drizzle-orm/d1';
import { app } from './app';
import { runExpirySweep } from './cron';
import * as schema from './db/schema';

export { OrgCoordinator } from './org-coordinator';

export default {
  fetch: app.fetch,
  async scheduled(controller, env, ctx) {
    const db = drizzle(env.DB, { schema });
    ctx.waitUntil(
      runExpirySweep(db, controller.scheduledTime).then((result) =>
        console.log(JSON.stringify({ event: 'expiry_sweep', cron: controller.cron, ...result })),
      ),
    );
  },
} satisfies ExportedHandler<Env>;
