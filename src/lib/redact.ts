/**
 * The one scrubber for text that may reach a log line or a stored reason (a provider's error, a
 * thrown message): JWT-shaped strings, `token=` query values, `8b_…` and `whsec_…` secrets go,
 * and the result is cut to `max` characters.
 */
export function redact(text: string, max = 300): string {
  const clean = text
    .replace(/eyJ[\w-]*\.[\w-]*\.[\w-]*/g, '[token]')
    .replace(/([?&]token=)[^&\s"'<>]+/gi, '$1[token]')
    .replace(/\b8b_[a-z]+_[\w-]+/gi, '[secret]')
    .replace(/\bwhsec_[\w+/=-]+/g, '[secret]');
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

/** An error (or anything thrown) as a redacted one-line message, without stack or bound parameters. */
export function errorMessage(err: unknown, max = 300): string {
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return redact(message.replace(/\s+/g, ' '), max);
}
