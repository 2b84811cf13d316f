import { describe, it, vi } from 'vitest';
import { bindingErrorCode, cloudflareTransport } from '../src/delivery/transports/cloudflare';
import type { OutgoingEmail } from '../src/delivery/transports';
import { ownerWithOrg, runQueue, uniqueEmail } from './helpers';
import { createWith, invitationDelivery, outboxFor, recordingQueue } from './delivery-fakes';

/*
 * SPEC §15: errors of the `send_email` binding are classified by their error code, not their
 * message text. The binding throws an Error with a `code` property
 * (https://developers.cloudflare.com/email-service/api/send-emails/workers-api/#error-codes).
 */

const email = (to = uniqueEmail('codes')): OutgoingEmail => ({
  from: 'invitations@8bit-ai.dev',
  fromName: '8bit-ai',
  to,
  subject: 'Hello',
  text: 'Hi',
  html: '<p>Hi</p>',
  headers: { 'Auto-Submitted': 'auto-generated' },
  idempotencyKey: 'obx_00000000000000000000',
});

/** A binding whose send throws `err` (as the runtime's binding would), or answers `result`. */
const binding = (outcome: { err?: unknown; result?: unknown }) =>
  ({
    send: async () => {
      if ('err' in outcome) throw outcome.err;
      return outcome.result;
    },
  }) as unknown as SendEmail;

const codeError = (code: string, message = 'refused') => Object.assign(new Error(message), { code });

/**
 * SPEC §18: tenants see a fixed phrase and the code; the runtime's words go to the operator's log,
 * one `email_provider_error` line per failed send. The lines written while `fn` runs.
 */
async function operatorLines(fn: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  try {
    await fn();
    return warn.mock.calls
      .map((c) => {
        try {
          return JSON.parse(String(c[0])) as Record<string, unknown>;
        } catch {
          return {};
        }
      })
      .filter((l) => l.event === 'email_provider_error');
  } finally {
    warn.mockRestore();
  }
}

const PERMANENT = [
  'E_VALIDATION_ERROR',
  'E_FIELD_MISSING',
  'E_TOO_MANY_RECIPIENTS',
  'E_SENDER_NOT_VERIFIED',
  'E_RECIPIENT_NOT_ALLOWED',
  'E_RECIPIENT_SUPPRESSED',
  'E_SENDER_DOMAIN_NOT_AVAILABLE',
  'E_CONTENT_TOO_LARGE',
  'E_HEADER_NOT_ALLOWED',
  'E_HEADER_USE_API_FIELD',
  'E_HEADER_VALUE_INVALID',
  'E_HEADER_VALUE_TOO_LONG',
  'E_HEADER_NAME_INVALID',
  'E_HEADERS_TOO_LARGE',
  'E_HEADERS_TOO_MANY',
];
const RETRYABLE = [
  'E_RATE_LIMIT_EXCEEDED',
  'E_DAILY_LIMIT_EXCEEDED',
  'E_INTERNAL_SERVER_ERROR',
  'E_DELIVERY_FAILED',
  'E_SOMETHING_NEW',
];

describe('SPEC §15: send_email binding errors by code', () => {
  it('every documented refusal code is permanent, with the code in the reason', async ({ expect }) => {
    for (const code of PERMANENT) {
      let result: unknown;
      const logged = await operatorLines(async () => {
        result = await cloudflareTransport(binding({ err: codeError(code, 'the message says nothing useful') })).send(
          email(),
        );
      });
      expect(result, code).toEqual({
        status: 'permanent',
        reason: `cloudflare: refused by the email service (${code})`,
      });
      expect(logged, code).toEqual([
        expect.objectContaining({
          provider: 'cloudflare',
          outbox_id: 'obx_00000000000000000000',
          code,
          detail: 'Error: the message says nothing useful',
        }),
      ]);
    }
  });

  it('rate limits, quota, internal errors, delivery failures and unknown codes are retryable', async ({ expect }) => {
    const phrase: Record<string, string> = {
      E_RATE_LIMIT_EXCEEDED: 'rate limited by the email service',
      E_DAILY_LIMIT_EXCEEDED: 'rate limited by the email service',
      E_INTERNAL_SERVER_ERROR: 'the email service is unavailable',
      E_DELIVERY_FAILED: 'the email service could not deliver it',
      E_SOMETHING_NEW: 'the email service could not send it',
    };
    for (const code of RETRYABLE) {
      let result: unknown;
      const logged = await operatorLines(async () => {
        result = await cloudflareTransport(binding({ err: codeError(code) })).send(email());
      });
      expect(result, code).toMatchObject({ status: 'retryable', reason: `cloudflare: ${phrase[code]} (${code})` });
      expect(logged, code).toEqual([expect.objectContaining({ code, detail: 'Error: refused' })]);
    }
  });

  it('the code decides, not the words: "invalid"/"not verified" in a retryable code’s message stay retryable, and words without a code are retryable', async ({
    expect,
  }) => {
    const internal = await cloudflareTransport(
      binding({ err: codeError('E_INTERNAL_SERVER_ERROR', 'invalid upstream answer; sender not verified yet') }),
    ).send(email());
    expect(internal.status).toBe('retryable');
    let wordsOnly: unknown;
    const logged = await operatorLines(async () => {
      wordsOnly = await cloudflareTransport(binding({ err: new Error('destination address is not verified') })).send(
        email(),
      );
    });
    expect(wordsOnly).toEqual({ status: 'retryable', reason: 'cloudflare: the email service could not send it' });
    expect(logged).toEqual([
      expect.objectContaining({
        provider: 'cloudflare',
        code: null,
        detail: 'Error: destination address is not verified',
      }),
    ]);
    expect((await cloudflareTransport(binding({ err: 'a string' })).send(email())).status).toBe('retryable');
  });

  it('a code property wins over a code-looking message; a message that opens with a code is read as that code', ({
    expect,
  }) => {
    expect(bindingErrorCode(codeError('E_RATE_LIMIT_EXCEEDED', 'E_RECIPIENT_SUPPRESSED: no'))).toBe(
      'E_RATE_LIMIT_EXCEEDED',
    );
    expect(bindingErrorCode(new Error('E_RECIPIENT_SUPPRESSED: recipient is suppressed'))).toBe(
      'E_RECIPIENT_SUPPRESSED',
    );
    expect(bindingErrorCode(new Error('upstream said E_RECIPIENT_SUPPRESSED'))).toBeNull();
    expect(bindingErrorCode(codeError('not-a-code'))).toBeNull();
    expect(bindingErrorCode(null)).toBeNull();
  });

  it('a sent message keeps the binding’s messageId without its Message-ID brackets', async ({ expect }) => {
    expect(
      await cloudflareTransport(binding({ result: { messageId: '<abc.123@8bit-ai.dev>' } })).send(email()),
    ).toEqual({ status: 'sent', providerMessageId: 'abc.123@8bit-ai.dev' });
    expect(
      await cloudflareTransport(binding({ result: { messageId: '0101018f7d0c4d9a-msg-deadbeef' } })).send(email()),
    ).toEqual({ status: 'sent', providerMessageId: '0101018f7d0c4d9a-msg-deadbeef' });
    expect(await cloudflareTransport(binding({ result: undefined })).send(email())).toEqual({
      status: 'sent',
      providerMessageId: null,
    });
  });

  it('through the queue consumer: E_RECIPIENT_SUPPRESSED fails the invitation at once; E_RATE_LIMIT_EXCEEDED is retried', async ({
    expect,
  }) => {
    const { owner, org } = await ownerWithOrg('Codes Co');
    const handed = recordingQueue();
    const suppressed = await createWith(owner.token, org.id, uniqueEmail('suppressed'), {
      DELIVERY_QUEUE: handed.queue,
    });
    const limited = await createWith(owner.token, org.id, uniqueEmail('limited'), { DELIVERY_QUEUE: handed.queue });
    const [bodySuppressed, bodyLimited] = handed.bodies;
    let refused!: Awaited<ReturnType<typeof runQueue>>;
    const refusedLog = await operatorLines(async () => {
      refused = await runQueue([bodySuppressed], {
        EMAIL: binding({ err: codeError('E_RECIPIENT_SUPPRESSED', 'Recipient is suppressed') }),
      });
    });
    expect(refused.retryMessages).toEqual([]);
    expect(await invitationDelivery(suppressed.json.id)).toMatchObject({
      email_delivery: 'failed',
      delivery_attempts: 1,
      email_delivery_detail: 'cloudflare: refused by the email service (E_RECIPIENT_SUPPRESSED)',
    });
    expect(refusedLog).toEqual([
      expect.objectContaining({
        outbox_id: (bodySuppressed as { outboxId: string }).outboxId,
        code: 'E_RECIPIENT_SUPPRESSED',
        detail: 'Error: Recipient is suppressed',
      }),
    ]);
    let later!: Awaited<ReturnType<typeof runQueue>>;
    const laterLog = await operatorLines(async () => {
      later = await runQueue([bodyLimited], {
        EMAIL: binding({ err: codeError('E_RATE_LIMIT_EXCEEDED', 'slow down') }),
      });
    });
    expect(later.retryMessages).toHaveLength(1);
    expect(await invitationDelivery(limited.json.id)).toMatchObject({
      email_delivery: 'queued',
      email_delivery_detail: 'Retrying: cloudflare: rate limited by the email service (E_RATE_LIMIT_EXCEEDED)',
    });
    expect(laterLog).toEqual([
      expect.objectContaining({
        outbox_id: (bodyLimited as { outboxId: string }).outboxId,
        code: 'E_RATE_LIMIT_EXCEEDED',
        detail: 'Error: slow down',
      }),
    ]);
    expect((await outboxFor(limited.json.id))[0]).toMatchObject({ status: 'pending' });
  });
});
