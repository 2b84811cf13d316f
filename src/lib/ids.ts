const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** Random base36 string of `length` characters (about 5.17 bits each). */
export function randomString(length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  let out = '';
  for (const b of bytes) out += ALPHABET[b % 36];
  return out;
}

/** Opaque prefixed identifier, e.g. `inv_…`, `org_…`, `usr_…`. */
export const newId = (
  prefix:
    | 'usr'
    | 'org'
    | 'inv'
    | 'ses'
    | 'tok'
    | 'aud'
    | 'jti'
    | 'obx'
    | 'whk'
    | 'evt'
    | 'msg'
    | 'wha'
    | 'lnk'
    | 'dom'
    | 'jrq',
) => `${prefix}_${randomString(20)}`;
