import { z } from '@hono/zod-openapi';
import { WEBHOOK_EVENT_TYPES } from '../db/schema';
import { Id, OrgParams, PageQuery } from '../lib/openapi';

export const EventTypeSchema = z.enum(WEBHOOK_EVENT_TYPES);
/** Events an endpoint subscribes to: at least one, no repeats; omitted, every type. */
const EventsSchema = z
  .array(EventTypeSchema)
  .min(1)
  .max(WEBHOOK_EVENT_TYPES.length)
  .refine((events) => new Set(events).size === events.length, 'lists an event type twice');
const UrlSchema = z.string().trim().min(1).max(2048);
const DescriptionSchema = z.string().trim().max(200);

export const CreateWebhookBody = z
  .object({ url: UrlSchema, events: EventsSchema.optional(), description: DescriptionSchema.optional() })
  .strict()
  .openapi('CreateWebhook', {
    example: {
      url: 'https://example.com/webhooks/8bit-ai',
      events: ['invitation.accepted', 'member.removed'],
      description: 'Provisioning',
    },
  });

export const UpdateWebhookBody = z
  .object({
    url: UrlSchema.optional(),
    events: EventsSchema.nullable().optional().openapi({ description: 'null: every event type' }),
    enabled: z.boolean().optional(),
    description: DescriptionSchema.nullable().optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'give at least one of url, events, enabled, description')
  .openapi('UpdateWebhook', { example: { enabled: false } });

export const WebhookParams = OrgParams.extend({ id: Id });
export const AttemptParams = WebhookParams.extend({ attempt_id: Id });

export const WebhookSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    events: z.array(z.string()),
    description: z.string().nullable(),
    enabled: z.boolean(),
    disabled_reason: z.string().nullable().openapi({
      description:
        'Why the endpoint is disabled: `creator_removed` when `created_by` was removed, left or was demoted below admin; otherwise a sentence',
    }),
    created_by: z.string().nullable().openapi({
      description:
        'The user id whose owner/admin role keeps the endpoint alive: its creator, or whoever last enabled it or changed its URL. null: unknown (created before this was recorded)',
    }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Webhook');

export const CreatedWebhookSchema = WebhookSchema.extend({
  secret: z.string().openapi({ description: 'whsec_ + base64 of 32 random bytes; shown only here and on rotation' }),
}).openapi('CreatedWebhook');

export const SecretSchema = z.object({ secret: z.string() }).openapi('WebhookSecret');

export const DeliveryAttemptSchema = z
  .object({
    id: z.string(),
    webhook_id: z
      .string()
      .openapi({ description: 'The `webhook-id` header: the same on every attempt of one event to this endpoint' }),
    event_id: z.string(),
    event_type: z.string(),
    attempt: z.number().int(),
    status_code: z.number().int().nullable(),
    duration_ms: z.number().int().openapi({
      description:
        'Until the HTTP answer or the timeout; 0 when there was no HTTP answer (connection_failed, tls_error) or nothing was sent (refused)',
    }),
    error: z.string().nullable().openapi({
      description:
        'null on success; otherwise one of `timeout`, `connection_failed`, `tls_error`, `redirect_not_followed`, `http_<status>` (e.g. `http_500`), or `refused` (the URL breaks the webhook URL rules at send time; nothing was sent)',
      example: 'http_500',
    }),
    created_at: z.string(),
    next_attempt_at: z.string().nullable(),
  })
  .openapi('WebhookDeliveryAttempt');

export const DeliveriesQuery = PageQuery;
