import { LOCALES, type Locale, type Role } from '../db/schema';

/*
 * The role list lives with the schema (src/db/schema.ts `ROLES`, the column's type); what the
 * roles mean is here, once: who manages an organization. And a stored locale, read back.
 */
/** Owners and admins manage invitations, members and webhooks (rule 1). */
export const MANAGERS: readonly Role[] = ['owner', 'admin'];

export const isManager = (role: Role | null | undefined): boolean => role === 'owner' || role === 'admin';

/** A stored locale, or `en`. */
export const asLocale = (value: string | null | undefined): Locale =>
  (LOCALES as readonly string[]).includes(value ?? '') ? (value as Locale) : 'en';
