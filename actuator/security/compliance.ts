/**
 * The compliance rules pack: checks on a router's running config (the `/retrieve showConfig []` tree),
 * each mapped to the control ids auditors ask about (CIS Controls v8 safeguards, SOC 2 trust services
 * criteria, ISO/IEC 27001:2022 Annex A, PCI DSS v4.0). A rule answers pass, fail (with the config paths at
 * fault) or n/a (what it checks is not configured); the score weighs rules by severity. Pure: the CLI's
 * report, the actuator's periodic check and the pre-change risk assessment all evaluate the same pack.
 */
import { errorMessage } from '../../core/errors.ts';
import { nodeAt, tagsAt, valuesAt, type ConfigNode as Node } from '../vyos/tree.ts';
import type { ConfigJson, RouterApi } from '../vyos/types.ts';

export type Severity = 'high' | 'medium' | 'low';
export type RuleStatus = 'pass' | 'fail' | 'n/a';

export interface ControlIds {
  cis: string[];
  soc2: string[];
  iso27001: string[];
  pci: string[];
}

export interface Finding {
  /** The config path at fault (space-separated, as `set` would write it). */
  path: string;
  detail: string;
}

export interface ComplianceContext {
  now: number;
  /** When each WireGuard key was generated, keyed `router/wgN` (the overlay's key-times.json), when known. */
  wireguardKeyTimes?: ReadonlyMap<string, number>;
  /** The rotation policy: a key older than this fails (hours). */
  wireguardMaxKeyAgeH: number;
  /** Shortest acceptable API key (characters). */
  minApiKeyLength: number;
}

export const defaultComplianceContext = (now: number): ComplianceContext => ({
  now,
  wireguardMaxKeyAgeH: 72,
  minApiKeyLength: 20,
});

export interface ComplianceRule {
  id: string;
  title: string;
  severity: Severity;
  controls: ControlIds;
  /** Why the rule matters and how to fix it (shown beside a failure). */
  remedy: string;
  /** Findings (empty = pass), or 'n/a' when the router does not run what the rule checks. */
  check(config: ConfigJson, router: string, ctx: ComplianceContext): Finding[] | 'n/a';
}

const has = (config: Node, ...path: string[]) => nodeAt(config, ...path) !== undefined;

/** Encryption algorithms IKE/ESP proposals may use (AEAD or AES-CBC with a SHA-2 integrity hash). */
const STRONG_CIPHERS = /^(aes(128|192|256)(gcm(64|96|128))?|chacha20poly1305|aes(128|192|256)ctr)$/;
/** Integrity/PRF hashes still acceptable: SHA-2 and AES-XCBC/CMAC. */
const STRONG_HASHES = /^(sha256|sha384|sha512|sha256_96|aesxcbc|aescmac)$/;
/** Diffie-Hellman groups of at least 2048-bit MODP strength or elliptic curves (not 22-24: small subgroups). */
const STRONG_DH = new Set(['14', '15', '16', '17', '18', '19', '20', '21', '27', '28', '29', '30', '31', '32']);

/** The forward/input filter chains of a firewall (IPv4 and IPv6) that hold rules. */
function filterChains(config: ConfigJson): { name: string; rules: Record<string, ConfigJson> }[] {
  const out: { name: string; rules: Record<string, ConfigJson> }[] = [];
  for (const family of ['ipv4', 'ipv6'])
    for (const hook of ['forward', 'input'])
      out.push({ name: `firewall ${family} ${hook} filter`, rules: tagsAt(config, 'firewall', family, hook, 'filter', 'rule') });
  return out;
}

/** Whether any interface carries an IPv6 address (global or unique-local: `address` leaves with a colon). */
function routesIpv6(config: ConfigJson): boolean {
  const walk = (n: Node, key: string): boolean => {
    if (n === undefined) return false;
    if (typeof n === 'string' || Array.isArray(n))
      return key === 'address' && valuesAt(n).some((v) => v.includes(':') && !/^fe80:/i.test(v));
    return Object.entries(n).some(([k, v]) => walk(v, k));
  };
  return walk(nodeAt(config, 'interfaces'), 'interfaces');
}

/** Whether a rule matches on anything that narrows what it accepts. */
function narrows(rule: ConfigJson): boolean {
  const matchers = [
    'source',
    'destination',
    'protocol',
    'inbound-interface',
    'outbound-interface',
    'state',
    'connection-status',
    'mark',
    'icmp',
    'time',
    'ipsec',
  ];
  return matchers.some((m) => has(rule, m));
}

export const complianceRules: readonly ComplianceRule[] = [
  {
    id: 'PP-API-1',
    title: 'HTTPS API authenticates with keys',
    severity: 'high',
    controls: { cis: ['4.6', '5.2'], soc2: ['CC6.1'], iso27001: ['A.8.5'], pci: ['8.3.1'] },
    remedy: 'set service https api keys id <name> key <secret>; an API without keys refuses nobody it can reach.',
    check(c) {
      if (!has(c, 'service', 'https', 'api')) return 'n/a';
      const keys = tagsAt(c, 'service', 'https', 'api', 'keys', 'id');
      if (!Object.keys(keys).length) return [{ path: 'service https api keys', detail: 'the API is enabled with no key' }];
      return Object.entries(keys)
        .filter(([, k]) => !valuesAt(k, 'key').length)
        .map(([id]) => ({ path: `service https api keys id ${id}`, detail: `key id ${id} has no key` }));
    },
  },
  {
    id: 'PP-API-2',
    title: 'API keys are long enough to resist guessing',
    severity: 'medium',
    controls: { cis: ['5.2'], soc2: ['CC6.1'], iso27001: ['A.5.17'], pci: ['8.3.6'] },
    remedy: 'Replace short keys with random ones of at least the configured length (the key never appears in this report).',
    check(c, _r, ctx) {
      const keys = tagsAt(c, 'service', 'https', 'api', 'keys', 'id');
      if (!Object.keys(keys).length) return 'n/a';
      return Object.entries(keys)
        .filter(([, k]) => valuesAt(k, 'key').some((v) => v.length < ctx.minApiKeyLength))
        .map(([id]) => ({
          path: `service https api keys id ${id} key`,
          detail: `key id ${id} is shorter than ${ctx.minApiKeyLength} characters`,
        }));
    },
  },
  {
    id: 'PP-API-3',
    title: 'API reachable from management clients only',
    severity: 'medium',
    controls: { cis: ['12.3'], soc2: ['CC6.6'], iso27001: ['A.8.20'], pci: ['1.3.1'] },
    remedy: 'set service https allow-client address <management prefix> (and listen-address on the management interface).',
    check(c) {
      if (!has(c, 'service', 'https')) return 'n/a';
      if (valuesAt(c, 'service', 'https', 'allow-client', 'address').length) return [];
      return [{ path: 'service https allow-client', detail: 'any address that reaches the router may call its API' }];
    },
  },
  {
    id: 'PP-API-4',
    title: 'HTTPS served with a managed certificate',
    severity: 'low',
    controls: { cis: ['3.10'], soc2: ['CC6.7'], iso27001: ['A.8.24'], pci: ['2.2.7', '4.2.1'] },
    remedy:
      'set service https certificates certificate <pki certificate>: the built-in self-signed one cannot be verified by clients.',
    check(c) {
      if (!has(c, 'service', 'https')) return 'n/a';
      if (valuesAt(c, 'service', 'https', 'certificates', 'certificate').length) return [];
      return [{ path: 'service https certificates', detail: 'the API uses a self-signed certificate clients cannot verify' }];
    },
  },
  {
    id: 'PP-MGMT-1',
    title: 'No plaintext management protocol',
    severity: 'high',
    controls: { cis: ['3.10', '4.6'], soc2: ['CC6.7'], iso27001: ['A.8.21'], pci: ['2.2.7'] },
    remedy: 'Delete SNMP v1/v2c communities (they travel in clear text); use SNMP v3 with auth and privacy.',
    check(c) {
      // The community's name is its secret: reports and the console name it by position only.
      return Object.keys(tagsAt(c, 'service', 'snmp', 'community')).map((_, i) => ({
        path: `service snmp community <community ${i + 1}>`,
        detail: `an SNMP v1/v2c community sends its secret (its name) and the data in clear text`,
      }));
    },
  },
  {
    id: 'PP-SSH-1',
    title: 'SSH accepts keys only',
    severity: 'high',
    controls: { cis: ['5.2', '6.5'], soc2: ['CC6.1'], iso27001: ['A.8.5'], pci: ['8.3.1'] },
    remedy: 'set service ssh disable-password-authentication, after giving each login user a public key.',
    check(c) {
      if (!has(c, 'service', 'ssh')) return 'n/a';
      const out: Finding[] = [];
      if (!has(c, 'service', 'ssh', 'disable-password-authentication'))
        out.push({ path: 'service ssh disable-password-authentication', detail: 'SSH accepts passwords' });
      for (const [user, u] of Object.entries(tagsAt(c, 'system', 'login', 'user')))
        if (!Object.keys(tagsAt(u, 'authentication', 'public-keys')).length)
          out.push({
            path: `system login user ${user} authentication public-keys`,
            detail: `user ${user} has no SSH public key`,
          });
      return out;
    },
  },
  {
    id: 'PP-FW-1',
    title: 'No any-to-any accept rule',
    severity: 'high',
    controls: { cis: ['4.4', '13.4'], soc2: ['CC6.6'], iso27001: ['A.8.20'], pci: ['1.2.1', '1.3.1'] },
    remedy: 'Give every accept rule a source, destination, protocol, interface or state match, or delete it.',
    check(c) {
      const out: Finding[] = [];
      for (const chain of filterChains(c))
        for (const [n, rule] of Object.entries(chain.rules))
          if (valuesAt(rule, 'action')[0] === 'accept' && !has(rule, 'disable') && !narrows(rule))
            out.push({ path: `${chain.name} rule ${n}`, detail: 'accepts any source to any destination on any protocol' });
      return out;
    },
  },
  {
    id: 'PP-FW-2',
    title: 'Forwarded traffic is denied by default',
    severity: 'high',
    controls: { cis: ['4.4', '13.4'], soc2: ['CC6.6'], iso27001: ['A.8.22'], pci: ['1.3.1', '1.3.2'] },
    remedy: 'set firewall ipv4 forward filter default-action drop (and ipv6), with accept rules for the flows the sites need.',
    check(c) {
      const out: Finding[] = [];
      // IPv6 forwarding matters only where an interface has an IPv6 address (the lab's and many WAN
      // routers have none).
      for (const family of routesIpv6(c) ? ['ipv4', 'ipv6'] : ['ipv4']) {
        const action = valuesAt(c, 'firewall', family, 'forward', 'filter', 'default-action')[0] ?? 'accept';
        if (action !== 'drop' && action !== 'reject')
          out.push({
            path: `firewall ${family} forward filter default-action`,
            detail: `forwarded ${family} traffic no rule matches is ${action === 'accept' ? 'accepted (VyOS default)' : action}`,
          });
      }
      return out;
    },
  },
  {
    id: 'PP-VPN-1',
    title: 'IPsec uses IKEv2 and strong proposals',
    severity: 'high',
    controls: { cis: ['3.10'], soc2: ['CC6.7'], iso27001: ['A.8.24'], pci: ['4.2.1'] },
    remedy: 'IKEv2; AES-GCM, AES-CBC with SHA-2 or ChaCha20-Poly1305; DH group 14 or above (19-21, 31 preferred); PFS on ESP.',
    check(c) {
      const ike = tagsAt(c, 'vpn', 'ipsec', 'ike-group');
      const esp = tagsAt(c, 'vpn', 'ipsec', 'esp-group');
      if (!Object.keys(ike).length && !Object.keys(esp).length) return 'n/a';
      const out: Finding[] = [];
      const proposals = (kind: string, groups: Record<string, ConfigJson>, dh: boolean) => {
        for (const [name, g] of Object.entries(groups))
          for (const [n, p] of Object.entries(tagsAt(g, 'proposal'))) {
            const path = `vpn ipsec ${kind} ${name} proposal ${n}`;
            const enc = valuesAt(p, 'encryption')[0];
            const hash = valuesAt(p, 'hash')[0];
            if (enc && !STRONG_CIPHERS.test(enc)) out.push({ path: `${path} encryption`, detail: `weak cipher ${enc}` });
            if (hash && !STRONG_HASHES.test(hash) && !/gcm|poly1305/.test(enc ?? ''))
              out.push({ path: `${path} hash`, detail: `weak hash ${hash}` });
            const group = valuesAt(p, 'dh-group')[0];
            if (dh && group && !STRONG_DH.has(group)) out.push({ path: `${path} dh-group`, detail: `weak DH group ${group}` });
          }
      };
      proposals('ike-group', ike, true);
      proposals('esp-group', esp, false);
      for (const [name, g] of Object.entries(ike))
        if (valuesAt(g, 'key-exchange')[0] === 'ikev1')
          out.push({ path: `vpn ipsec ike-group ${name} key-exchange`, detail: 'IKEv1 (use ikev2)' });
      for (const [name, g] of Object.entries(esp))
        if (valuesAt(g, 'pfs')[0] === 'disable')
          out.push({ path: `vpn ipsec esp-group ${name} pfs`, detail: 'perfect forward secrecy disabled' });
      return out;
    },
  },
  {
    id: 'PP-WG-1',
    title: 'WireGuard keys rotated within policy',
    severity: 'medium',
    controls: { cis: ['3.10'], soc2: ['CC6.1'], iso27001: ['A.8.24'], pci: ['3.7.4'] },
    remedy:
      "Rotate with `pathpilot overlay rotate` or let the actuator's tunnel watch rotate on schedule (actuator.tunnels.rotate_every_h).",
    check(c, router, ctx) {
      const ifaces = Object.keys(tagsAt(c, 'interfaces', 'wireguard'));
      if (!ifaces.length) return 'n/a';
      const out: Finding[] = [];
      for (const iface of ifaces) {
        const at = ctx.wireguardKeyTimes?.get(`${router}/${iface}`);
        const path = `interfaces wireguard ${iface} private-key`;
        if (at === undefined) out.push({ path, detail: 'no record of when this key was generated (never rotated by pathpilot)' });
        else {
          const ageH = (ctx.now - at) / 3_600_000;
          if (ageH > ctx.wireguardMaxKeyAgeH)
            out.push({ path, detail: `key is ${ageH.toFixed(0)} h old (policy ${ctx.wireguardMaxKeyAgeH} h)` });
        }
      }
      return out;
    },
  },
  {
    id: 'PP-LOG-1',
    title: 'Logs sent to a remote syslog server',
    severity: 'medium',
    controls: { cis: ['8.2', '8.9'], soc2: ['CC7.2'], iso27001: ['A.8.15'], pci: ['10.2.1', '10.3.3'] },
    remedy: 'set system syslog host <collector> facility all level info.',
    check(c) {
      if (Object.keys(tagsAt(c, 'system', 'syslog', 'host')).length) return [];
      return [{ path: 'system syslog host', detail: 'no remote syslog host: the router keeps its logs alone' }];
    },
  },
  {
    id: 'PP-NTP-1',
    title: 'Clock synchronised by NTP',
    severity: 'medium',
    controls: { cis: ['8.4'], soc2: ['CC7.2'], iso27001: ['A.8.17'], pci: ['10.6.1'] },
    remedy: 'set service ntp server <server> (at least two).',
    check(c) {
      if (Object.keys(tagsAt(c, 'service', 'ntp', 'server')).length) return [];
      return [{ path: 'service ntp server', detail: 'no NTP server: log and audit times drift' }];
    },
  },
];

export interface RuleResult {
  id: string;
  title: string;
  severity: Severity;
  controls: ControlIds;
  status: RuleStatus;
  findings: Finding[];
  remedy: string;
}

export interface RouterCompliance {
  router: string;
  /** 0–100: applicable rules passed, weighted by severity (null when the config could not be read). */
  score: number | null;
  results: RuleResult[];
  /** Why the router could not be evaluated. */
  error?: string;
}

const WEIGHT: Record<Severity, number> = { high: 3, medium: 2, low: 1 };

/** Every rule of the pack on one router's config. */
export function evaluateCompliance(
  router: string,
  config: ConfigJson,
  ctx: ComplianceContext,
  rules: readonly ComplianceRule[] = complianceRules,
): RouterCompliance {
  const results = rules.map((rule): RuleResult => {
    const got = rule.check(config, router, ctx);
    const findings = got === 'n/a' ? [] : got;
    const status: RuleStatus = got === 'n/a' ? 'n/a' : findings.length ? 'fail' : 'pass';
    const { id, title, severity, controls, remedy } = rule;
    return { id, title, severity, controls, status, findings, remedy };
  });
  return { router, score: complianceScore(results), results };
}

export function complianceScore(results: readonly RuleResult[]): number {
  let total = 0;
  let passed = 0;
  for (const r of results) {
    if (r.status === 'n/a') continue;
    total += WEIGHT[r.severity];
    if (r.status === 'pass') passed += WEIGHT[r.severity];
  }
  return total ? Math.round((1000 * passed) / total) / 10 : 100;
}

/**
 * What a change does to compliance: findings the config after it has and the one before does not (a rule
 * already failing can fail on one more rule), findings it removes, and the score's change.
 */
export function complianceDelta(
  before: RouterCompliance,
  after: RouterCompliance,
): { added: { rule: string; finding: Finding }[]; removed: { rule: string; finding: Finding }[]; scoreChange: number } {
  const keys = (c: RouterCompliance) =>
    new Map(
      c.results.flatMap((r) => r.findings.map((f) => [`${r.id}|${f.path}|${f.detail}`, { rule: r.id, finding: f }] as const)),
    );
  const was = keys(before);
  const now = keys(after);
  return {
    added: [...now].filter(([k]) => !was.has(k)).map(([, v]) => v),
    removed: [...was].filter(([k]) => !now.has(k)).map(([, v]) => v),
    scoreChange: Math.round(10 * ((after.score ?? 0) - (before.score ?? 0))) / 10,
  };
}

/** Reads each router's running config (in parallel) and evaluates the pack; a router that cannot be read is reported, not dropped. */
export async function assessRouters(
  routers: readonly { name: string; api: Pick<RouterApi, 'showConfig'> }[],
  ctx: ComplianceContext,
): Promise<RouterCompliance[]> {
  return Promise.all(
    routers.map(async ({ name, api }) => {
      try {
        return evaluateCompliance(name, (await api.showConfig([])) ?? {}, ctx);
      } catch (err) {
        return { router: name, score: null, results: [], error: `could not read the running config: ${errorMessage(err)}` };
      }
    }),
  );
}
