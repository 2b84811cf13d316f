/*
 * The product's fixed caps (SPEC §2, §14), one place each. They are not rate limits: they do not
 * scale with RATE_LIMIT_SCALE.
 */

/** Rule 3: the most pending invitations an organization may have at any moment. */
export const PENDING_LIMIT = 10;

/** The most organizations one account may own (SPEC §14). */
export const OWNED_ORGANIZATIONS_LIMIT = 25;
