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
  /**
   * The most sends per second the provider documents for an account (SPEC §15), which the
   * consumer keeps to unless `EMAIL_SEND_RATE_PER_SECOND` says otherwise; null when the provider
   * documents no per-second limit (sends are then not paced).
   */
  readonly defaultSendRatePerSecond: number | null;
  send(email: OutgoingEmail): Promise<SendResult>;
}

/** A provider's delivery event, normalized. */
export interface ProviderEvent {
  providerMessageId: string;
  /** `failed`: the provider gave up on a message it had accepted (never a bounce or a complaint). */
  state: 'delivered' | 'bounced' | 'complained' | 'failed';
  /**
   * The provider's text as it came, neither redacted nor cut: `applyProviderEvent` removes the API
   * key (and other secrets) first and only then cuts it, so no part of a key survives a cut.
   */
  detail: string | null;
}

/**
 * One authenticated post to a provider's event webhook: its events, and the provider's id for the
 * delivery when it has one (Svix's `svix-id`, the same on every retry of one message), by which a
 * replay is recognized (SPEC §18).
 */
export interface ProviderEventDelivery {
  deliveryId: string | null;
  events: ProviderEvent[];
}

/** How a provider's event webhook authenticates and reads its events. */
export type ProviderEventParser = (
  request: Request,
  body: string,
  secret: string,
  nowMs: number,
) => Promise<ProviderEventDelivery | 'unauthorized'>;

/**
 * A provider's delivery event read from a queue message (a provider that publishes its events to a
 * Cloudflare Queue rather than to a webhook): an event to apply, a known event that changes no state
 * (`ignored`, e.g. a temporary deferral), or a message that is not one of its events (`unreadable`).
 */
export type QueuedEventReading =
  | { kind: 'event'; type: string; event: ProviderEvent }
  | { kind: 'ignored'; type: string; providerMessageId: string | null }
  | { kind: 'unreadable'; reason: string };
