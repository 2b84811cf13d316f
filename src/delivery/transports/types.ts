import type { AddressedMail } from '../../email/mime';

/** One email, ready for any transport. `idempotencyKey` is the outbox row's id: one row, one email. */
export interface OutgoingEmail extends AddressedMail {
  idempotencyKey: string;
}

/** What one attempt came to (SPEC §10): sent, worth retrying, or refused for good. */
export type SendResult =
  | { status: 'sent'; providerMessageId: string | null }
  | { status: 'retryable'; reason: string }
  | { status: 'permanent'; reason: string };

/** A way out for email. One file per provider; nothing else knows a provider's name. */
export interface Transport {
  readonly name: string;
  send(email: OutgoingEmail): Promise<SendResult>;
}

/** A provider's delivery event, normalized. */
export interface ProviderEvent {
  providerMessageId: string;
  state: 'delivered' | 'bounced' | 'complained';
  detail: string | null;
}

/** How a provider's event webhook authenticates and reads its events. */
export type ProviderEventParser = (request: Request, body: string, secret: string, nowMs: number) => Promise<ProviderEvent[] | 'unauthorized'>;
