/** Address arithmetic discovery needs: interface addresses (`10.1.0.1/30`), their networks, containment. */
import ipaddr from 'ipaddr.js';

/** An address configured on an interface, with its prefix length and the network it sits in. */
export interface InterfaceAddress {
  /** `10.1.0.1` */
  address: string;
  length: number;
  /** `10.1.0.0/30` */
  network: string;
  family: 'ipv4' | 'ipv6';
}

/** `10.1.0.1/30` → its parts; undefined for anything else (`dhcp`, `dhcpv6`, a bare address). */
export function interfaceAddress(text: string): InterfaceAddress | undefined {
  if (!ipaddr.isValidCIDR(text)) return undefined;
  const [addr, length] = ipaddr.parseCIDR(text);
  const family = addr.kind();
  const network =
    family === 'ipv4'
      ? ipaddr.IPv4.networkAddressFromCIDR(text).toString()
      : ipaddr.IPv6.networkAddressFromCIDR(text).toNormalizedString();
  return { address: addr.toString(), length, network: `${normalize(network)}/${length}`, family };
}

function normalize(address: string): string {
  return ipaddr.parse(address).toString();
}

/** True when `address` (bare or with a length) lies inside `cidr`; false when either does not parse. */
export function cidrContains(cidr: string, address: string): boolean {
  if (!ipaddr.isValidCIDR(cidr)) return false;
  const bare = address.split('/')[0]!;
  if (!ipaddr.isValid(bare)) return false;
  const range = ipaddr.parseCIDR(cidr);
  const addr = ipaddr.parse(bare);
  return addr.kind() === range[0].kind() && addr.match(range);
}

/** The network of a CIDR in canonical form (`10.1.0.5/16` → `10.1.0.0/16`), or undefined. */
export function canonicalCidr(cidr: string): string | undefined {
  return interfaceAddress(cidr)?.network;
}

/** Prefix length of a CIDR (0 when it does not parse): the longest match wins when networks nest. */
export function prefixLength(cidr: string): number {
  return ipaddr.isValidCIDR(cidr) ? ipaddr.parseCIDR(cidr)[1] : 0;
}

/**
 * A point-to-point subnet: what two routers' link interfaces share. IPv4 /29 (GCP VLAN attachments) to
 * /31, IPv6 /126 and /127; a LAN (/24, /16) shared by two routers is a multi-access segment, not a link.
 */
export function isPointToPoint(a: InterfaceAddress): boolean {
  return a.family === 'ipv4' ? a.length >= 29 && a.length <= 31 : a.length >= 126 && a.length <= 127;
}
