import { createRoute, z } from '@hono/zod-openapi';
import { ApiError } from '../errors';
import { createRouter, jsonResponse, problems } from '../lib/openapi';
import { applyProviderEvent } from './provider-events';
import { EVENT_PARSERS } from './transports';
import { handOffNewWebhooks } from './producer';

const receive = createRoute({
  operationId: 'receiveEmailEvents',
  method: 'post',
  path: '/{provider}',
  tags: ['email-events'],
  summary: "The email provider's delivery events (delivered, bounced, complained)",
  description:
    'Resend: Svix-signed (`svix-id`, `svix-timestamp`, `svix-signature`) with the secret `EMAIL_EVENTS_SECRET`; ' +
    'Postmark: HTTP Basic credentials equal to `EMAIL_EVENTS_SECRET` (`user:password`). Unsigned, badly signed or ' +
    'replayed (timestamp more than 5 minutes away) requests get 401 and change nothing.',
  security: [],
  request: {
    // The signature covers the raw body, so the body is read as text after authentication, not validated first.
    params: z.object({ provider: z.enum(['resend', 'postmark']) }),
  },
  responses: {
    200: jsonResponse(z.object({ received: z.number().int(), applied: z.number().int() }), 'Events read; `applied` changed a state'),
    ...problems(400, 401, 404, 413),
  },
});

export const emailEventRoutes = createRouter().openapi(
  receive,
  async (c) => {
    const { provider } = c.req.valid('param');
    const parse = Object.hasOwn(EVENT_PARSERS, provider) ? EVENT_PARSERS[provider] : undefined;
    if (!parse) throw new ApiError('not_found', 'No such event source.');
    const secret = c.env.EMAIL_EVENTS_SECRET?.trim();
    if (!secret) throw new ApiError('unauthorized', 'Email events are not configured (EMAIL_EVENTS_SECRET is not set).');
    const body = await c.req.text();
    let events: Awaited<ReturnType<typeof parse>>;
    try {
      events = await parse(c.req.raw, body, secret, Date.now());
    } catch {
      throw new ApiError('invalid_json', 'The event body is not valid JSON.');
    }
    if (events === 'unauthorized') throw new ApiError('unauthorized', 'The event is unsigned, badly signed or too old.');
    const now = Date.now();
    let applied = 0;
    for (const event of events) if (await applyProviderEvent(c.var.db, event, now)) applied += 1;
    // A bounce is a webhook event (`invitation.bounced`) too.
    if (applied > 0) c.executionCtx.waitUntil(handOffNewWebhooks(c.env, c.var.db, now));
    return c.json({ received: events.length, applied }, 200);
  },
);
