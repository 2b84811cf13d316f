export function newestLink(address: string, opts?: { path?: string; notBefore?: number; root?: string }): string | null;
