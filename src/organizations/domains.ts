import { z } from '@hono/zod-openapi';

/**
 * Allowed email domains (SPEC §12): exact domains (`example.com`) and wildcards (`*.example.com`,
 * any subdomain, not the domain itself), compared case-insensitively with the part of the address
 * after its last `@`. An empty list (stored as NULL) allows every domain.
 */
export const DomainPatternSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(253)
  .regex(
    /^(\*\.)?([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
    'a domain like example.com, or *.example.com for its subdomains',
  );

export const AllowedDomainsSchema = z
  .array(DomainPatternSchema)
  .max(50)
  .refine((list) => new Set(list).size === list.length, 'lists a domain twice');

/** The stored list, or null (everything allowed). */
export const parseDomains = (stored: string | null | undefined): string[] =>
  stored ? (JSON.parse(stored) as string[]) : [];

/** True when `email` may be invited under `patterns` (an empty list allows all). */
export function domainAllowed(patterns: readonly string[], email: string): boolean {
  if (patterns.length === 0) return true;
  const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase();
  return patterns.some((p) => (p.startsWith('*.') ? domain.endsWith(p.slice(1)) : domain === p));
}
