import ipaddr from 'ipaddr.js';

/** Ranges a NAT'd or local host lives in: such an address cannot be dialled from the internet. */
const notPublic = new Set([
  'private',
  'loopback',
  'linkLocal',
  'carrierGradeNat',
  'unspecified',
  'broadcast',
  'multicast',
  'uniqueLocal',
]);

/**
 * Whether `host` can be dialled from anywhere. A hostname counts as public (it cannot be checked
 * offline); the documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24) stand in for public
 * addresses in examples, so they count as public too.
 */
export function isPublicHost(host: string): boolean {
  if (!ipaddr.isValid(host)) return true;
  return !notPublic.has(ipaddr.parse(host).range());
}
