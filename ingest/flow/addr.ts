/**
 * Address helpers for the decoders: IPv4/IPv6 bytes → text (RFC 5952 for v6) and back, fast enough
 * for the hot path (no allocation beyond the string).
 */

const DEC: string[] = Array.from({ length: 256 }, (_, i) => String(i));
const DEC_DOT: string[] = Array.from({ length: 256 }, (_, i) => `${i}.`);

/** Dotted quad of the 4 bytes at `off`. */
export function ipv4At(buf: Buffer, off: number): string {
  return DEC_DOT[buf[off]!]! + DEC_DOT[buf[off + 1]!]! + DEC_DOT[buf[off + 2]!]! + DEC[buf[off + 3]!]!;
}

const groups = new Int32Array(8);

/** RFC 5952 text of the 16 bytes at `off` (longest run of ≥ 2 zero groups compressed, lowercase). */
export function ipv6At(buf: Buffer, off: number): string {
  const g = groups;
  for (let i = 0; i < 8; i++) g[i] = (buf[off + 2 * i]! << 8) | buf[off + 2 * i + 1]!;
  // IPv4-mapped (::ffff:a.b.c.d) keeps its dotted tail.
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${ipv4At(buf, off + 12)}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) bestStart = -1;
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += '::';
      i += bestLen - 1;
      continue;
    }
    if (out !== '' && !out.endsWith(':')) out += ':';
    out += g[i]!.toString(16);
  }
  return out;
}

/** Writes an IPv4 dotted quad at `off`; returns false when `addr` is not one. */
export function writeIpv4(buf: Buffer, off: number, addr: string): boolean {
  const parts = addr.split('.');
  if (parts.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const v = Number(parts[i]);
    if (!Number.isInteger(v) || v < 0 || v > 255) return false;
    buf[off + i] = v;
  }
  return true;
}

/** Writes an IPv6 address (any valid textual form, incl. an IPv4 tail) at `off`; false when invalid. */
export function writeIpv6(buf: Buffer, off: number, addr: string): boolean {
  let text = addr;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    const v4 = Buffer.alloc(4);
    if (!writeIpv4(v4, 0, text.slice(lastColon + 1))) return false;
    tail.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    text = text.slice(0, lastColon + 1);
    if (!text.endsWith('::')) text = text.slice(0, -1);
  }
  const halves = text.split('::');
  if (halves.length > 2) return false;
  const parse = (s: string) => (s === '' ? [] : s.split(':').map((h) => (/^[0-9a-fA-F]{1,4}$/.test(h) ? parseInt(h, 16) : NaN)));
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  const groupsWanted = 8 - tail.length;
  let groups: number[];
  if (halves.length === 2) {
    const fill = groupsWanted - head.length - rest.length;
    if (fill < 0) return false;
    groups = [...head, ...new Array<number>(fill).fill(0), ...rest];
  } else groups = head;
  groups = [...groups, ...tail];
  if (groups.length !== 8 || groups.some((x) => Number.isNaN(x))) return false;
  for (let i = 0; i < 8; i++) buf.writeUInt16BE(groups[i]!, off + 2 * i);
  return true;
}

export function isIpv4(addr: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(addr);
}
