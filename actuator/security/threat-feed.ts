/**
 * Threat-intelligence feeds of IPv4 addresses and networks, in the formats they are published in —
 * Spamhaus DROP as text (`1.10.16.0/20 ; SBL256894`, `;` comments) or as JSON lines (`{"cidr":…}` with a
 * trailing metadata object), FireHOL netsets and plain lists (`#` comments, one address or network per
 * line) — read line by line with the line of every bad entry named (a bad feed changes nothing), then
 * planned as one `firewall group network-group`: deduplicated, single addresses as /32, never an entry
 * that overlaps the allow-list (own sites, management, the routers' API addresses), at most `maxEntries`
 * (the first ones in feed order; the rest counted).
 */
import ipaddr from 'ipaddr.js';

export interface FeedEntries {
  networks: string[];
  /** `name:line: problem` for every line that is neither a comment nor a valid entry. */
  problems: string[];
}

/** A valid IPv4 network in canonical form (single address → /32; host bits must be zero), or undefined. */
function network(text: string): string | undefined {
  try {
    if (text.includes('/')) {
      const [ip, len] = ipaddr.parseCIDR(text);
      if (ip.kind() !== 'ipv4') return undefined;
      const base = ipaddr.IPv4.networkAddressFromCIDR(text).toString();
      return base === ip.toString() ? `${base}/${len}` : undefined;
    }
    const ip = ipaddr.parse(text);
    return ip.kind() === 'ipv4' ? `${ip.toString()}/32` : undefined;
  } catch {
    return undefined;
  }
}

/** The entries of one feed file (`name` labels its problems). */
export function parseFeed(name: string, text: string): FeedEntries {
  const networks: string[] = [];
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) return;
    let entry: string | undefined;
    if (line.startsWith('{')) {
      let obj: Record<string, unknown>;
      try {
        obj = JSON.parse(line) as Record<string, unknown>;
      } catch {
        problems.push(`${name}:${i + 1}: not a JSON object`);
        return;
      }
      if (obj['type'] === 'metadata') return;
      entry = typeof obj['cidr'] === 'string' ? obj['cidr'] : undefined;
      if (entry === undefined) {
        problems.push(`${name}:${i + 1}: a JSON entry without "cidr"`);
        return;
      }
    } else entry = line.split(/[\s;#]/)[0]!;
    const n = network(entry);
    if (n) networks.push(n);
    else problems.push(`${name}:${i + 1}: "${entry}" is not an IPv4 address or network (host bits zero)`);
  });
  return { networks, problems };
}

export interface ThreatGroupPlan {
  networks: string[];
  /** Entries left out because they overlap the allow-list, with the allowed network they touch. */
  allowed: { network: string; allow: string }[];
  /** Entries over `maxEntries`, not in the group. */
  truncated: number;
}

const overlaps = (a: string, b: string) => {
  const [ipa, la] = ipaddr.parseCIDR(a);
  const [ipb, lb] = ipaddr.parseCIDR(b);
  return la <= lb ? ipb.match([ipa, la]) : ipa.match([ipb, lb]);
};

/** One network group from several feeds' entries, the allow-list and the size bound. */
export function planThreatGroup(entries: readonly string[], allow: readonly string[], maxEntries: number): ThreatGroupPlan {
  const allowNets = allow.map((a) => network(a) ?? a);
  const seen = new Set<string>();
  const networks: string[] = [];
  const allowed: ThreatGroupPlan['allowed'] = [];
  let truncated = 0;
  for (const n of entries) {
    if (seen.has(n)) continue;
    seen.add(n);
    const hit = allowNets.find((a) => overlaps(a, n));
    if (hit) allowed.push({ network: n, allow: hit });
    else if (networks.length < maxEntries) networks.push(n);
    else truncated++;
  }
  return { networks, allowed, truncated };
}
