import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { AppEnv } from '../env';
import { acceptPages } from './accept.pages';
import { accountPages } from './account.pages';
import { webhookPages } from './webhooks.pages';
import { APP_CSS, APP_JS } from './assets';
import { authPages } from './auth.pages';
import { joinPages } from './join.pages';
import { orgPages } from './orgs.pages';
import { csrfCookie, pageSecurityHeaders } from './pages.middleware';
import { teamPages } from './team.pages';

/** The server-rendered dashboard and the acceptance pages (Hono JSX, forms work without JavaScript). */
export const pages = new Hono<AppEnv>();

pages.get('/assets/app.css', (c) =>
  c.body(APP_CSS, 200, { 'Content-Type': 'text/css; charset=utf-8', 'Cache-Control': 'public, max-age=3600' }),
);
pages.get('/assets/app.js', (c) =>
  c.body(APP_JS, 200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'public, max-age=3600' }),
);

pages.use(
  '*',
  pageSecurityHeaders,
  csrfCookie,
  bodyLimit({ maxSize: 16 * 1024, onError: (c) => c.text('Form too large', 413) }),
);
pages.route('/', authPages);
pages.route('/', orgPages);
pages.route('/', teamPages);
pages.route('/', acceptPages);
pages.route('/', joinPages);
pages.route('/', accountPages);
pages.route('/', webhookPages);
