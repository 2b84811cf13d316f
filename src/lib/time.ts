/** Unix milliseconds as an ISO 8601 string (how every API timestamp is written), null stays null. */
export const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
