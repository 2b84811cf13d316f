/** A day in milliseconds (invitation and API token lifetimes are whole days). */
export const DAY_MS = 24 * 60 * 60 * 1000;
/** Unix milliseconds as an ISO 8601 string (how every API timestamp is written), null stays null. */
export const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
