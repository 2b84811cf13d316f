/**
 * IP literals and the ranges that are not public unicast (SPEC §11 and §18). A Worker cannot see
 * the address a host name resolves to, so this judges only what a URL spells; the README says what
 * the platform does about the rest.
 */

/** An IPv4 address in dotted decimal (each octet 0-255), as its four octets, or null. */
export function parseIpv4(text: string): number[] | null {
  const octets = text.split('.');
  if (octets.length !== 4 || octets.some((o) => !/^\d{1,3}$/.test(o) || Number(o) > 255)) return null;
  return octets.map(Number);
}

/** The eight 16-bit groups of an IPv6 address (an IPv4 tail allowed: `::ffff:192.0.2.1`), or null. */
export function parseIpv6(text: string): number[] | null {
  let head = text.toLowerCase();
  const lastColon = head.lastIndexOf(':');
  if (lastColon < 0) return null;
  if (head.slice(lastColon + 1).includes('.')) {
    const v4 = parseIpv4(head.slice(lastColon + 1));
    if (!v4) return null;
    head = `${head.slice(0, lastColon + 1)}${((v4[0] << 8) | v4[1]).toString(16)}:${((v4[2] << 8) | v4[3]).toString(16)}`;
  }
  const halves = head.split('::');
  if (halves.length > 2) return null;
  const split = (part: string) => (part === '' ? [] : part.split(':'));
  const left = split(halves[0]);
  const right = halves.length === 2 ? split(halves[1]) : [];
  const given = [...left, ...right];
  if (given.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return null;
  if (halves.length === 2 ? given.length > 7 : given.length !== 8) return null;
  const zeros: string[] = halves.length === 2 ? Array(8 - given.length).fill('0') : [];
  return [...left, ...zeros, ...right].map((g) => parseInt(g, 16));
}

type Range = readonly [prefix: bigint, bits: number, name: string];

const v4Range = (cidr: string, name: string): Range => {
  const [address, bits] = cidr.split('/');
  return [octetsToBigInt(parseIpv4(address)!), Number(bits), name];
};
const v6Range = (cidr: string, name: string): Range => {
  const [address, bits] = cidr.split('/');
  return [groupsToBigInt(parseIpv6(address)!), Number(bits), name];
};
const octetsToBigInt = (octets: number[]) => octets.reduce((n, o) => (n << 8n) | BigInt(o), 0n);
const groupsToBigInt = (groups: number[]) => groups.reduce((n, g) => (n << 16n) | BigInt(g), 0n);
const inRange = (value: bigint, width: number, [prefix, bits]: Range) =>
  value >> BigInt(width - bits) === prefix >> BigInt(width - bits);

/** IPv4 ranges a webhook may not target: §11's private, loopback and link-local, and §18's reserved. */
const V4_REFUSED: readonly Range[] = [
  v4Range('0.0.0.0/8', 'this network'),
  v4Range('10.0.0.0/8', 'private'),
  v4Range('100.64.0.0/10', 'shared (carrier-grade NAT)'),
  v4Range('127.0.0.0/8', 'loopback'),
  v4Range('169.254.0.0/16', 'link-local'),
  v4Range('172.16.0.0/12', 'private'),
  v4Range('192.0.0.0/24', 'IETF protocol assignments'),
  v4Range('192.168.0.0/16', 'private'),
  v4Range('198.18.0.0/15', 'benchmarking'),
  v4Range('224.0.0.0/4', 'multicast'),
  v4Range('240.0.0.0/4', 'reserved'),
];

/** IPv6 ranges refused outright. */
const V6_REFUSED: readonly Range[] = [
  v6Range('::/128', 'unspecified'),
  v6Range('::1/128', 'loopback'),
  v6Range('100::/64', 'discard-only'),
  v6Range('fc00::/7', 'unique local'),
  v6Range('fe80::/10', 'link-local'),
  v6Range('fec0::/10', 'site-local'),
  v6Range('ff00::/8', 'multicast'),
];

/**
 * IPv6 ranges that carry an IPv4 address, and where (bit offsets of its pieces): a packet to one
 * of them reaches that IPv4 address (compatible, mapped, translated, NAT64, 6to4), so it is judged
 * as that address. The local-use NAT64 prefix may be split at /48, /56, /64 or /96 (RFC 6052 and
 * RFC 8215), so every one of those readings must be public.
 */
const V6_EMBEDDING: readonly { range: Range; readings: readonly (readonly [start: number, bits: number][])[] }[] = [
  { range: v6Range('::/96', 'IPv4-compatible'), readings: [[[96, 32]]] },
  { range: v6Range('::ffff:0:0/96', 'IPv4-mapped'), readings: [[[96, 32]]] },
  { range: v6Range('::ffff:0:0:0/96', 'IPv4-translated'), readings: [[[96, 32]]] },
  { range: v6Range('64:ff9b::/96', 'NAT64'), readings: [[[96, 32]]] },
  {
    range: v6Range('64:ff9b:1::/48', 'local-use NAT64'),
    readings: [
      [
        [48, 16],
        [72, 16],
      ],
      [
        [56, 8],
        [72, 24],
      ],
      [[72, 32]],
      [[96, 32]],
    ],
  },
  { range: v6Range('2002::/16', '6to4'), readings: [[[16, 32]]] },
];

const bitsAt = (value: bigint, start: number, bits: number) =>
  (value >> BigInt(128 - start - bits)) & ((1n << BigInt(bits)) - 1n);
const dotted = (n: bigint) => [24n, 16n, 8n, 0n].map((s) => Number((n >> s) & 255n)).join('.');

/**
 * Why `host` (a URL's hostname: dotted IPv4, or bracketed IPv6 as the URL parser writes them) is
 * not a public unicast address, e.g. `127.0.0.1 is loopback (127.0.0.0/8)`; null when it is public
 * or not an IP literal at all (a name).
 */
export function nonPublicAddress(host: string): string | null {
  const v4 = parseIpv4(host);
  if (v4) {
    const value = octetsToBigInt(v4);
    const range = V4_REFUSED.find((r) => inRange(value, 32, r));
    return range ? `${host} is ${range[2]} (${dotted(range[0])}/${range[1]})` : null;
  }
  if (!host.startsWith('[') || !host.endsWith(']')) return null;
  const groups = parseIpv6(host.slice(1, -1));
  if (!groups) return `${host} is not a valid IPv6 address`;
  const value = groupsToBigInt(groups);
  const refused = V6_REFUSED.find((r) => inRange(value, 128, r));
  if (refused) return `${host} is ${refused[2]}`;
  const embedding = V6_EMBEDDING.find(({ range }) => inRange(value, 128, range));
  if (!embedding) return null;
  for (const reading of embedding.readings) {
    const embedded = reading.reduce((n, [start, bits]) => (n << BigInt(bits)) | bitsAt(value, start, bits), 0n);
    const why = nonPublicAddress(dotted(embedded));
    if (why) return `${host} is ${embedding.range[2]} and reaches ${why}`;
  }
  return null;
}

/**
 * The per-IP bucket of a client address (SPEC §14): an IPv4 address as is, an IPv6 address by its
 * /64 (one subscriber usually holds a whole /64, so per-/128 buckets cost nothing to evade; an
 * IPv4-mapped address by its IPv4), and a missing, oversized or malformed address in one shared
 * `unknown` bucket: never a skipped limit.
 */
export function ipBucket(ip: string | null | undefined): string {
  if (!ip || ip.length > 64) return 'unknown';
  if (!ip.includes(':')) return parseIpv4(ip)?.join('.') ?? 'unknown';
  const groups = parseIpv6(ip);
  if (!groups) return 'unknown';
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [hi, lo] = [groups[6], groups[7]];
    return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}
