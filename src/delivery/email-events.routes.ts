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
    'Only the route of the configured `EMAIL_TRANSPORT` is open; the other answers 404. ' +
    'Resend: Svix-signed (`svix-id`, `svix-timestamp`, `svix-signature`) with the secret `EMAIL_EVENTS_SECRET`; ' +
    'Postmark: HTTP Basic credentials equal to `EMAIL_EVENTS_SECRET` (`user:password`). Unsigned, badly signed or ' +
    'replayed (timestamp more than 5 minutes away) requests get 401 and change nothing. A `svix-id` already ' +
    'applied within the replay window is answered 200 with `applied: 0` and changes nothing.',
  security: [],
  request: {
    // The signature covers the raw body, so the body is read as text after authentication, not validated first.
    params: z.object({ provider: z.enum(['resend', 'postmark']) }),
  },
  responses: {
    200: jsonResponse(
      z.object({ received: z.number().int(), applied: z.number().int() }),
      'Events read; `applied` changed a state',
    ),
    ...problems(400, 401, 404, 413),
  },
});

export const emailEventRoutes = createRouter().openapi(receive, async (c) => {
  const { provider } = c.req.valid('param');
  // SPEC §18: one secret opens one route. The provider not configured has no event route at all,
  // so a Resend signing secret is never tried as a Postmark password, nor the reverse.
  const configured = (c.env.EMAIL_TRANSPORT || 'cloudflare').trim().toLowerCase();
  const parse = provider === configured && Object.hasOwn(EVENT_PARSERS, provider) ? EVENT_PARSERS[provider] : undefined;
  if (!parse) throw new ApiError('not_found', 'No such event source.');
  const secret = c.env.EMAIL_EVENTS_SECRET?.trim();
  if (!secret) throw new ApiError('unauthorized', 'Email events are not configured (EMAIL_EVENTS_SECRET is not set).');
  const body = await c.req.text();
  let delivery: Awaited<ReturnType<typeof parse>>;
  try {
    delivery = await parse(c.req.raw, body, secret, Date.now());
  } catch {
    throw new ApiError('invalid_json', 'The event body is not valid JSON.');
  }
  if (delivery === 'unauthorized')
    throw new ApiError('unauthorized', 'The event is unsigned, badly signed or too old.');
  const now = Date.now();
  // Every event of this request applies under one claim on its delivery id (SPEC §18: a replay is 200, no change).
  const claim = delivery.deliveryId
    ? { source: provider, id: delivery.deliveryId, claim: crypto.randomUUID() }
    : undefined;
  let applied = 0;
  for (const event of delivery.events) {
    // A provider's text may echo the configured API key: applyProviderEvent removes it before anything is stored.
    if (await applyProviderEvent(c.var.db, event, now, { apiKey: c.env.EMAIL_API_KEY, delivery: claim })) applied += 1;
  }
  // A bounce is a webhook event (`invitation.bounced`) too.
  if (applied > 0) c.executionCtx.waitUntil(handOffNewWebhooks(c.env, c.var.db, now));
  return c.json({ received: delivery.events.length, applied }, 200);
});
