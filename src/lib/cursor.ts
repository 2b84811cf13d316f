import { ApiError } from '../errors';

/*
 * The cursor of a listing ordered by (created_at, id): opaque to clients, shared by every
 * paginated list.
 */

export function encodeCursor(createdAt: number, id: string): string {
  return btoa(JSON.stringify([createdAt, id])).replaceAll('=', '');
}

export function decodeCursor(cursor: string): { createdAt: number; id: string } {
  try {
    const parsed: unknown = JSON.parse(atob(cursor));
    if (
      Array.isArray(parsed) &&
      parsed.length === 2 &&
      Number.isSafeInteger(parsed[0]) &&
      typeof parsed[1] === 'string' &&
      parsed[1].length <= 64
    ) {
      return { createdAt: parsed[0], id: parsed[1] };
    }
  } catch {
    // fall through
  }
  throw new ApiError('invalid_cursor', 'The cursor is not one this API returned.');
}
