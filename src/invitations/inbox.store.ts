// SCAFFOLD (helper A replaces this file): the invitee's inbox (SPEC §17).
import type { Db } from '../env';

/** One invitation in the inbox, as `GET /v1/me/invitations` lists it. */
export interface InboxItem {
  id: string;
  organization: { name: string; slug: string };
  role: string;
  inviter: { name: string | null };
  expires_at: string;
}

/** The live pending invitations addressed to `email`, across organizations. */
export async function listMyInvitations(_db: Db, _email: string, _now: number): Promise<InboxItem[]> {
  return [];
}
