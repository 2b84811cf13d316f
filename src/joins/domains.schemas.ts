import { z } from '@hono/zod-openapi';
import { DOMAIN_JOIN_POLICIES, DOMAIN_STATUSES, JOIN_ROLES } from '../db/schema';
import { Id, OrgParams } from '../lib/openapi';

/** Where an organization publishes its proof: a TXT record at this prefix + the domain. */
export const VERIFICATION_PREFIX = '_8bit-ai-verification.';
/** The TXT record's value is this + the domain's token. */
export const VERIFICATION_VALUE_PREFIX = '8bit-ai-verification=';
/** At most this many domains (pending or verified) per organization. */
export const DOMAINS_PER_ORGANIZATION = 20;

/** The TXT record's name for `domain`. */
export const verificationName = (domain: string) => `${VERIFICATION_PREFIX}${domain}`;

/** A domain as it is stored and compared: trimmed, lower case, without the root's trailing dot. */
export const normalizeDomain = (value: string) => value.trim().toLowerCase().replace(/\.$/, '');

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** A top-level domain: letters, or an internationalized one in its `xn--` form (never digits: no IP). */
const TLD = /^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;
/** Special-use names (RFC 6761, RFC 6762, RFC 7686, RFC 8375) no DNS outside a network answers for. */
const SPECIAL_USE = new Set(['localhost', 'local', 'invalid', 'internal', 'arpa', 'onion', 'alt']);
/** The longest domain whose record name (`_8bit-ai-verification.` + domain) fits DNS's 253. */
const MAX_DOMAIN = 253 - VERIFICATION_PREFIX.length;

/** Why `domain` (normalized) is not a domain an organization can verify, or null. */
export function domainProblem(domain: string): string | null {
  if (!domain) return 'a domain name is required, like example.com';
  if (domain.length > MAX_DOMAIN) return `at most ${MAX_DOMAIN} characters`;
  if (/^[a-z][a-z0-9+.-]*:\/\/|\//.test(domain)) return 'the domain only, without a scheme or path';
  if (/^\[|:/.test(domain) || /^[\d.]+$/.test(domain)) return 'an IP address is not a domain name';
  if (domain.includes('@')) return 'the domain only, without the part before @ (example.com, not a@example.com)';
  if (domain.startsWith('*.')) return 'a domain, not a wildcard';
  const labels = domain.split('.');
  if (labels.length < 2) return 'a registrable domain with at least two labels, like example.com';
  if (!labels.every((l) => LABEL.test(l))) {
    return 'labels of letters, digits and inner hyphens (1 to 63 each), separated by single dots; internationalized names in their xn-- form';
  }
  const tld = labels.at(-1)!;
  if (!TLD.test(tld)) return 'the last label must be a top-level domain, like com';
  if (SPECIAL_USE.has(tld)) return `.${tld} names are not in the public DNS`;
  return null;
}

/** A domain as a request gives it: normalized, then checked. */
export const DomainNameSchema = z
  .string()
  .max(300)
  .transform(normalizeDomain)
  .superRefine((domain, ctx) => {
    const problem = domainProblem(domain);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .openapi({
    type: 'string',
    example: 'acme.com',
    description:
      'A registrable domain (trimmed, lower-cased, a trailing dot dropped); IP addresses, wildcards and public mailbox domains are refused',
  });

export const AddDomainBody = z.object({ domain: DomainNameSchema }).strict().openapi('AddDomainBody');

/** A domain's id as `newId('dom')` makes it. */
export const DomainParams = OrgParams.extend({
  id: Id.regex(/^dom_[a-z0-9]{20}$/, 'a domain id (dom_…)').openapi({ description: 'Domain id (dom_…)' }),
});

/** The resource, as the `domain_resources` view writes it (migrations/0014_joins.sql). */
export const DomainSchema = z
  .object({
    id: z.string().openapi({ example: 'dom_0123456789abcdefghij' }),
    organization_id: z.string(),
    domain: z.string().openapi({ example: 'acme.com' }),
    status: z.enum(DOMAIN_STATUSES),
    verification: z.object({
      type: z.literal('dns_txt'),
      name: z.string().openapi({ example: '_8bit-ai-verification.acme.com' }),
      value: z.string().openapi({ example: '8bit-ai-verification=k3j4h5g6f7d8s9a0q1w2e3r4t5y6u7i8' }),
    }),
    created_at: z.string().openapi({ format: 'date-time' }),
    verified_at: z.string().nullable().openapi({ format: 'date-time' }),
  })
  .openapi('Domain');
export type DomainResource = z.infer<typeof DomainSchema>;

export const DomainListSchema = z.object({ data: z.array(DomainSchema) }).openapi('DomainList');

/** An organization the caller may join by their email's verified domain (SPEC §16). */
export const SuggestedOrganizationSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    slug: z.string(),
    join: z.enum(DOMAIN_JOIN_POLICIES.filter((p) => p !== 'off') as ['request', 'auto']).openapi({
      description: '`auto`: joining makes you a member at once; `request`: an owner or admin decides',
    }),
  })
  .openapi('SuggestedOrganization');

export const SuggestionListSchema = z
  .object({ data: z.array(SuggestedOrganizationSchema) })
  .openapi('SuggestedOrganizationList');

/** What a domain join answers when it made the caller a member (200). */
export const DomainJoinedSchema = z
  .object({
    organization: z.object({ id: z.string(), name: z.string(), slug: z.string() }),
    role: z.enum(JOIN_ROLES),
  })
  .openapi('DomainJoined');
