/** Shorter values are not treated as secrets: replacing them would mangle ordinary words. */
const MIN_SECRET_LENGTH = 8;

/**
 * The one scrubber for text that may reach a log line or a stored reason (a provider's error, a
 * thrown message): JWT-shaped strings, `token=` query values, `8b_…` and `whsec_…` secrets go,
 * and so does every configured secret in `secrets` (the email provider's API key, which has no
 * shape of its own: SPEC §18), before the result is cut to `max` characters.
 */
export function redact(text: string, max = 300, secrets: readonly (string | null | undefined)[] = []): string {
  let clean = text;
  for (const secret of secrets) {
    const value = secret?.trim();
    if (value && value.length >= MIN_SECRET_LENGTH) clean = clean.split(value).join('[secret]');
  }
  clean = clean
    .replace(/eyJ[\w-]*\.[\w-]*\.[\w-]*/g, '[token]')
    .replace(/([?&]token=)[^&\s"'<>]+/gi, '$1[token]')
    .replace(/\b8b_[a-z]+_[\w-]+/gi, '[secret]')
    .replace(/\bwhsec_[\w+/=-]+/g, '[secret]');
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

/** Drizzle puts a failed query's bound values after `params:`; they may be emails or secrets. */
const withoutParams = (message: string) => message.replace(/\s*\bparams:[\s\S]*$/, '');

/**
 * An error (or anything thrown) as one redacted line, for every logged error (SPEC §14): its name
 * and message, then its causes (a driver error wrapped by drizzle), never the bound parameters.
 */
export function errorMessage(err: unknown, max = 300, secrets: readonly (string | null | undefined)[] = []): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current !== undefined && current !== null; depth++) {
    if (current instanceof Error) {
      parts.push(`${current.name}: ${withoutParams(current.message)}`);
      current = current.cause;
    } else {
      parts.push(withoutParams(String(current)));
      break;
    }
  }
  // The innermost cause (the driver's own words) first: a long query must not crowd it out.
  return redact(parts.reverse().join(' <- in: ').replace(/\s+/g, ' '), max, secrets);
}

/** The first frames of an error's stack, without its message line (which holds the message again). */
export function errorStack(err: unknown, frames = 5): string | undefined {
  if (!(err instanceof Error) || !err.stack) return undefined;
  const lines = err.stack.split('\n').filter((line) => /^\s+at /.test(line));
  return redact(
    lines
      .slice(0, frames)
      .map((l) => l.trim())
      .join(' | '),
    1000,
  );
}
