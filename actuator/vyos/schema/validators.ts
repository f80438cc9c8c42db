/**
 * The VyOS constraint validators named in vyos-paths.json (`_meta.validators`), re-implemented as
 * pure functions of the value: vyos-utils `numeric`, ipaddrcheck-style address checks, `port-multi`,
 * `ip-protocol`… Two of them read the router's own state (`file-path --lookup-path /sys/class/net`,
 * `script`: an existing executable) and cannot be decided off the router; {@link RouterStateChecks}
 * says what a caller wants from them. A name the table does not know is a data error:
 * {@link isKnownValidator} lets the schema builder refuse it at load time.
 */
import ipaddr from 'ipaddr.js';

type Check = (value: string, args: string[]) => boolean;

const ipv4Re = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function isV4(v: string): boolean {
  return ipv4Re.test(v);
}

function isV6(v: string): boolean {
  return v.includes(':') && ipaddr.IPv6.isValid(v) && !v.includes('%');
}

function splitCidr(v: string): [string, number] | undefined {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(v);
  if (!m) return undefined;
  return [m[1]!, Number(m[2])];
}

function isV4Prefix(v: string, hostBitsZero: boolean): boolean {
  const c = splitCidr(v);
  if (!c || !isV4(c[0]) || c[1] > 32) return false;
  if (!hostBitsZero) return true;
  const net = ipaddr.IPv4.networkAddressFromCIDR(v).toString();
  return net === c[0];
}

function isV6Prefix(v: string, hostBitsZero: boolean): boolean {
  const c = splitCidr(v);
  if (!c || !isV6(c[0]) || c[1] > 128) return false;
  if (!hostBitsZero) return true;
  const net = ipaddr.IPv6.networkAddressFromCIDR(v).toNormalizedString();
  return net === ipaddr.IPv6.parse(c[0]).toNormalizedString();
}

/** A host address with prefix: not the network address (except /31, /32, /127, /128). */
function isV4Host(v: string): boolean {
  const c = splitCidr(v);
  if (!c || !isV4(c[0]) || c[1] > 32) return false;
  if (c[1] >= 31) return true;
  const net = ipaddr.IPv4.networkAddressFromCIDR(v).toString();
  const bcast = ipaddr.IPv4.broadcastAddressFromCIDR(v).toString();
  return c[0] !== net && c[0] !== bcast;
}

function isV6Host(v: string): boolean {
  const c = splitCidr(v);
  if (!c || !isV6(c[0]) || c[1] > 128) return false;
  if (c[1] >= 127) return true;
  const net = ipaddr.IPv6.networkAddressFromCIDR(v).toNormalizedString();
  return ipaddr.IPv6.parse(c[0]).toNormalizedString() !== net;
}

function v4ToNumber(v: string): number {
  return ipaddr.IPv4.parse(v)
    .toByteArray()
    .reduce((n, b) => n * 256 + b, 0);
}

function isV4Range(v: string): boolean {
  const parts = v.split('-');
  if (parts.length !== 2 || !isV4(parts[0]!) || !isV4(parts[1]!)) return false;
  return v4ToNumber(parts[0]!) <= v4ToNumber(parts[1]!);
}

function isV6Range(v: string): boolean {
  const parts = v.split('-');
  return parts.length === 2 && isV6(parts[0]!) && isV6(parts[1]!);
}

function negated(check: (v: string) => boolean): Check {
  return (v) => v.startsWith('!') && check(v.slice(1));
}

/** vyos-utils `numeric`: --range A-B (repeatable), --positive, --non-negative, --allow-range, --relative. */
function numeric(value: string, args: string[]): boolean {
  let v = value;
  if (args.includes('--relative') && /^[+-]/.test(v)) v = v.slice(1);
  const ranges: [number, number][] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--range' && args[i + 1]) {
      const m = /^(\d+)-(\d+)$/.exec(args[i + 1]!);
      if (m) ranges.push([Number(m[1]), Number(m[2])]);
      i++;
    }
  }
  const inBounds = (n: number) => {
    if (args.includes('--positive') && n <= 0) return false;
    if (args.includes('--non-negative') && n < 0) return false;
    return ranges.length === 0 || ranges.some(([a, b]) => n >= a && n <= b);
  };
  if (args.includes('--allow-range')) {
    const m = /^(\d+)-(\d+)$/.exec(v);
    if (m) return Number(m[1]) <= Number(m[2]) && inBounds(Number(m[1])) && inBounds(Number(m[2]));
  }
  if (!/^\d+$/.test(v)) return false;
  return inBounds(Number(v));
}

/** Service names the emulator knows for port-multi/port-range (a subset of /etc/services). */
const serviceNames = new Set([
  'ftp', 'ssh', 'telnet', 'smtp', 'domain', 'http', 'https', 'ntp', 'snmp', 'bgp', 'ldap', 'imap', 'pop3',
  'syslog', 'isakmp', 'ipsec-nat-t', 'openvpn', 'sip', 'rdp', 'mysql', 'postgresql', 'redis', 'kafka',
]); // prettier-ignore

function isPort(v: string): boolean {
  if (/^\d+$/.test(v)) return Number(v) >= 1 && Number(v) <= 65535;
  return serviceNames.has(v);
}

function isPortRange(v: string): boolean {
  const m = /^(\d+)-(\d+)$/.exec(v);
  if (m) return isPort(m[1]!) && isPort(m[2]!) && Number(m[1]) <= Number(m[2]);
  return isPort(v);
}

const protocolNames = new Set([
  'all', 'tcp_udp', 'ip', 'icmp', 'igmp', 'ggp', 'ipencap', 'st', 'tcp', 'egp', 'igp', 'pup', 'udp', 'hmp',
  'xns-idp', 'rdp', 'iso-tp4', 'dccp', 'xtp', 'ddp', 'idpr-cmtp', 'ipv6', 'ipv6-route', 'ipv6-frag', 'idrp',
  'rsvp', 'gre', 'esp', 'ah', 'skip', 'ipv6-icmp', 'icmpv6', 'ipv6-nonxt', 'ipv6-opts', 'rspf', 'vmtp', 'eigrp',
  'ospf', 'ax.25', 'ipip', 'etherip', 'encap', 'pim', 'ipcomp', 'vrrp', 'l2tp', 'isis', 'sctp', 'fc',
  'mobility-header', 'udplite', 'mpls-in-ip', 'manet', 'hip', 'shim6', 'wesp', 'rohc',
]); // prettier-ignore

const macRe = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;
const interfacePrefixes =
  /^(bond|br|dum|en|ersp|eth|gnv|ifb|ipoe|lan|l2tp|l2tpeth|macsec|peth|ppp|pppoe|pptp|sstp|sstpc|tun|veth|vti|vtun|vxlan|wg|wlan|wwan|lo)/;

const checks: Record<string, Check> = {
  numeric,
  'numeric-exclude': (v, a) => numeric(v.startsWith('!') ? v.slice(1) : v, a),
  'ip-address': (v) => isV4(v) || isV6(v),
  'ipv4-address': (v) => isV4(v),
  'ipv6-address': (v) => isV6(v),
  ipv6: (v) => isV6(v) || isV6Prefix(v, false),
  'ip-prefix': (v) => isV4Prefix(v, true) || isV6Prefix(v, true),
  'ipv4-prefix': (v) => isV4Prefix(v, true),
  'ipv6-prefix': (v) => isV6Prefix(v, true),
  'ip-cidr': (v) => isV4Prefix(v, false) || isV6Prefix(v, false),
  'ip-host': (v) => isV4Host(v) || isV6Host(v),
  'ipv4-host': (v) => isV4Host(v),
  'ipv4-range': (v) => isV4Range(v),
  'ipv6-range': (v) => isV6Range(v),
  'ipv4-address-exclude': negated(isV4),
  'ipv4-prefix-exclude': negated((v) => isV4Prefix(v, true)),
  'ipv4-range-exclude': negated(isV4Range),
  'ipv6-exclude': negated((v) => isV6(v) || isV6Prefix(v, false)),
  'ipv6-range-exclude': negated(isV6Range),
  'ipv6-link-local': (v) => isV6(v) && ipaddr.IPv6.parse(v).range() === 'linkLocal',
  'ipv6-eui64-prefix': (v) => isV6Prefix(v, true) && v.endsWith('/64'),
  'ipv6-srv6-segments': (v) => v.split('/').every((s) => isV6(s)),
  'mac-address': (v) => macRe.test(v),
  'mac-address-exclude': negated((v) => macRe.test(v)),
  'port-multi': (v) => v.split(',').every((item) => isPortRange(item.startsWith('!') ? item.slice(1) : item)),
  'port-range': (v) => isPortRange(v),
  'ip-protocol': (v) => {
    const p = v.startsWith('!') ? v.slice(1) : v;
    return /^\d+$/.test(p) ? Number(p) <= 255 : protocolNames.has(p);
  },
  base64: (v) => v.length > 0 && v.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(v),
  'vrf-name': (v) => /^[a-zA-Z][-_a-zA-Z0-9]{0,14}$/.test(v) && v !== 'lo' && !interfacePrefixes.test(v),
  // Stand-in (router state): the real check looks in /sys/class/net; the emulated router has no kernel
  // interfaces. The regex that always accompanies it accepts well-formed names, as on a real router.
  'file-path': () => false,
  fqdn: (v) => /^[A-Za-z0-9][-.A-Za-z0-9]*$/.test(v),
  'as-number-list': (v) => v.split(/\s+/).every((n) => /^\d+$/.test(n) && Number(n) >= 1 && Number(n) <= 4294967294),
  'bgp-regular-community': (v) => /^\d{1,5}:\d{1,5}$/.test(v),
  'bgp-large-community': (v) => /^\d+:\d+:\d+$/.test(v),
  'bgp-extended-community': (v) => /^(\d+|(\d{1,3}\.){3}\d{1,3}):\d+$/.test(v),
  'bgp-rd-rt': (v) => v.split(/\s+/).every((x) => /^(\d+|(\d{1,3}\.){3}\d{1,3}):\d+$/.test(x)),
  // Stand-in (router state): the real check wants an existing executable file.
  script: (v) => v.startsWith('/'),
  url: (v) => /^[a-z][a-z0-9+.-]*:\/\//i.test(v),
};

/** Validators whose real check looks at the router (its interfaces, its filesystem). */
const readsRouterState = new Set(['file-path', 'script']);

/**
 * What to do with a validator that reads the router's state:
 * - `emulate` (the emulator): run its stand-in above, i.e. behave like a router that has no such
 *   interface and treats any absolute path as a script;
 * - `defer` (the actuator, validating before it sends): the validator cannot decide here, the router will.
 */
export type RouterStateChecks = 'emulate' | 'defer';

/** The verdict of one validator: accepted, refused, or left to the router (`defer` only). */
export type ValidatorVerdict = boolean | 'deferred';

/** The validator name of a spec (`"numeric --range 1-255"` → `numeric`). */
function validatorName(spec: string): string {
  return spec.split(/\s+/, 1)[0]!;
}

/** True when the table can run (or stand in for) the validator the spec names. */
export function isKnownValidator(spec: string): boolean {
  return Object.hasOwn(checks, validatorName(spec));
}

/** Runs one validator spec (`"numeric --range 1-255"`) against a value. Throws on an unknown name. */
export function runValidator(spec: string, value: string, routerState: RouterStateChecks): ValidatorVerdict {
  const [name, ...args] = spec.split(/\s+/);
  const check = Object.hasOwn(checks, name!) ? checks[name!] : undefined;
  if (!check) throw new Error(`unknown VyOS validator "${name}" (in "${spec}")`);
  if (routerState === 'defer' && readsRouterState.has(name!)) return 'deferred';
  try {
    return check(value, args);
  } catch {
    return false;
  }
}
