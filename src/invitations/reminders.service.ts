// SCAFFOLD (helper A replaces this file): the reminders before expiry (SPEC §17).
import { fail, type Outcome } from '../errors';
import type { SendingContext } from '../lib/write-context';

/** Sends this organization's due reminders that fit in its hourly email limit; the rest wait. */
export const sendReminders = async (_ctx: SendingContext): Promise<Outcome<{ sent: number; waiting: number }>> =>
  fail('internal_error');
