export function newestLink(address: string, opts?: { path?: string; notBefore?: number; root?: string }): string | null;
export function linksByAddress(opts?: { path?: string; notBefore?: number; root?: string }): Map<string, string>;
