import { vi } from 'vitest';

/** Every console line written while `fn` runs (log, error, warn, info), as the runtime would print it. */
export async function logged(fn: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  const spies = (['log', 'error', 'warn', 'info'] as const).map((m) =>
    vi.spyOn(console, m).mockImplementation((...args) => void lines.push(args.map(String).join(' '))),
  );
  try {
    await fn();
  } finally {
    for (const s of spies) s.mockRestore();
  }
  return lines;
}

/** A log line's JSON object, or {} for a line that is not JSON. */
export const asJson = (line: string): Record<string, unknown> => {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return {};
  }
};
