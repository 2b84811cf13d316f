import { redact } from '../../lib/redact';

/**
 * What operators see when a send fails (SPEC §18): the provider's or the runtime's own words,
 * redacted, in one log line keyed by the outbox row. Tenants see only the transport's fixed phrase.
 * `status` is the HTTPS provider's answer (null without one); `code` the `send_email` binding's.
 */
export function logProviderError(fields: {
  provider: string;
  outboxId: string;
  status?: number | null;
  code?: string | null;
  detail: string;
  secrets?: readonly (string | null | undefined)[];
}) {
  console.warn(
    JSON.stringify({
      event: 'email_provider_error',
      provider: fields.provider,
      outbox_id: fields.outboxId,
      ...(fields.status !== undefined ? { status: fields.status } : {}),
      ...(fields.code !== undefined ? { code: fields.code } : {}),
      detail: redact(fields.detail, 500, fields.secrets ?? []),
    }),
  );
}
