declare namespace Cloudflare {
  interface Env {
    TEST_MIGRATIONS: import('cloudflare:test').D1Migration[];
    /** Origin of the Resend/Postmark stand-in (test/standins/email-api.ts). */
    TEST_EMAIL_API: string;
    /** Origin of the webhook receiver (test/standins/webhook-receiver.ts). */
    TEST_WEBHOOK_RECEIVER: string;
    /** The Worker's source text (src/, without the catalogues), for the unused-key test. */
    TEST_SOURCE: string;
  }
}
