/**
 * Security groups as users write them — `{"SecurityGroups":[{"Name","Rules":[{"Protocol","PortRange",
 * "SourceIP","DestinationIP","Action","TimeWindow"?}]}], "DefaultAction"?}` — checked with the file, line,
 * column and field of every problem (core/located-json.ts), and planned as VyOS 1.4/1.5 firewall rules in
 * `firewall ipv4|ipv6 forward|input filter` (a group's optional `Chain`, forward by default; a rule's family
 * from its addresses, both families when it names none): groups in file order, rules in group order (first match wins), each
 * group in its own block of rule numbers so a change to one group renumbers none of the others, a rule
 * with a time window as one rule per piece of the window as the router matches it (time-window.ts).
 */
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import type { ConfigJson } from '../vyos/types.ts';
import { timePieces, WEEKDAYS, type TimeWindow } from './time-window.ts';

/** Where pathpilot's rules start and how many numbers each group owns (10000, 11000, …; step 5). */
export const FIRST_RULE = 10_000;
export const GROUP_BLOCK = 1000;
const RULE_STEP = 5;
/** Rules (after time windows are split) one group may render to: its block, at RULE_STEP. */
export const MAX_RULES_PER_GROUP = GROUP_BLOCK / RULE_STEP;

const portSpec = z
  .string()
  .regex(/^\s*\d+(\s*-\s*\d+)?(\s*,\s*\d+(\s*-\s*\d+)?)*\s*$/, 'ports as "80,443" or "1000-2000"')
  .refine(
    (v) =>
      v.split(',').every((part) => {
        const [a, b] = part.split('-').map((x) => Number(x.trim()));
        return a! >= 1 && a! <= 65535 && (b === undefined || (b >= a! && b <= 65535));
      }),
    'ports are 1–65535 and a range runs low to high',
  );

/** The family of an address or network with its host bits zero; undefined when it is neither. */
function familyOf(v: string): 'ipv4' | 'ipv6' | undefined {
  try {
    if (!v.includes('/')) return ipaddr.parse(v).kind();
    const [ip] = ipaddr.parseCIDR(v);
    const network =
      ip.kind() === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(v).toString() : ipaddr.IPv6.networkAddressFromCIDR(v).toString();
    return network === ip.toString() ? ip.kind() : undefined;
  } catch {
    return undefined;
  }
}

/** An IPv4 or IPv6 address or network (host bits zero), or `any`. */
const address = z
  .string()
  .refine(
    (v) => v === 'any' || familyOf(v) !== undefined,
    'an IPv4 or IPv6 address, a network with its host bits zero (10.0.0.0/24, 2001:db8::/48), or "any"',
  );

const timeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time of day, HH:MM');

const timeWindowSchema = z
  .object({
    Weekdays: z.array(z.enum(WEEKDAYS)).min(1),
    Start: timeOfDay,
    Stop: timeOfDay,
    TimeZone: z.string().refine((tz) => {
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    }, 'an IANA time zone, e.g. Europe/Berlin'),
  })
  .strict();

const ruleSchema = z
  .object({
    Protocol: z
      .string()
      .transform((p) => p.toLowerCase())
      .pipe(z.enum(['tcp', 'udp', 'tcp_udp', 'icmp', 'all'])),
    PortRange: portSpec.optional(),
    SourceIP: address.default('any'),
    DestinationIP: address.default('any'),
    Action: z.enum(['Allow', 'Deny']),
    TimeWindow: timeWindowSchema.optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    const families = new Set([r.SourceIP, r.DestinationIP].filter((a) => a !== 'any').map(familyOf));
    if (families.size > 1)
      ctx.addIssue({
        code: 'custom',
        path: ['DestinationIP'],
        message: `SourceIP ${r.SourceIP} and DestinationIP ${r.DestinationIP} are of different IP families`,
      });
    if (r.PortRange !== undefined && !['tcp', 'udp', 'tcp_udp'].includes(r.Protocol))
      ctx.addIssue({
        code: 'custom',
        path: ['PortRange'],
        message: `ports need Protocol tcp, udp or tcp_udp (not ${r.Protocol})`,
      });
  });

export const securityGroupsSchema = z
  .object({
    SecurityGroups: z
      .array(
        z
          .object({
            Name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'letters, digits, ".", "_" or "-"'),
            /** The hook its rules go to: traffic through the router (`forward`, the default) or to it (`input`). */
            Chain: z.enum(['forward', 'input']).optional(),
            Rules: z.array(ruleSchema).min(1),
          })
          .strict(),
      )
      .min(1),
    /** What the chain does with a packet no rule matched (VyOS `default-action`); kept as the router has it when absent. */
    DefaultAction: z.enum(['Allow', 'Deny']).optional(),
  })
  .strict()
  .superRefine((f, ctx) => {
    const seen = new Map<string, number>();
    f.SecurityGroups.forEach((g, i) => {
      const first = seen.get(g.Name);
      if (first !== undefined)
        ctx.addIssue({ code: 'custom', path: ['SecurityGroups', i, 'Name'], message: `"${g.Name}" is also group ${first}` });
      seen.set(g.Name, i);
    });
  });

export type SecurityGroupsFile = z.infer<typeof securityGroupsSchema>;

export type Family = 'ipv4' | 'ipv6';
export type Hook = 'forward' | 'input';

/** The rules one chain (`firewall <family> <chain> filter rule <n>`) gets, pathpilot's only. */
export interface ChainPlan {
  family: Family;
  chain: Hook;
  rules: Record<string, ConfigJson>;
}

export interface FirewallPlan {
  /** Every chain a rule renders to, ipv4 before ipv6, forward before input. */
  chains: ChainPlan[];
  defaultAction?: 'accept' | 'drop';
  /** Per group, its chain, the rule numbers it owns and the rules it renders to. */
  groups: { name: string; chain: Hook; first: number; rules: number[] }[];
}

/** The families a rule applies to: its addresses', or both when it names none. */
function ruleFamilies(r: { SourceIP: string; DestinationIP: string }): Family[] {
  const named = [r.SourceIP, r.DestinationIP].filter((a) => a !== 'any').map(familyOf);
  return named.length ? [named[0]!] : ['ipv4', 'ipv6'];
}

/**
 * The VyOS rules of `file` for a router in `routerTimeZone` (its `system time-zone`), time windows taken
 * at `at`. A rule gets one number per piece of its time window, the same in each family it applies to
 * (an IPv4-only rule leaves that number unused in the IPv6 chain). A group that renders to more rules
 * than its block holds is an error naming it.
 */
export function planFirewall(file: SecurityGroupsFile, routerTimeZone: string, at: number): FirewallPlan {
  const chains = new Map<string, ChainPlan>();
  const chainFor = (family: Family, chain: Hook) => {
    const key = `${family} ${chain}`;
    let c = chains.get(key);
    if (!c) chains.set(key, (c = { family, chain, rules: {} }));
    return c;
  };
  const groups: FirewallPlan['groups'] = [];
  file.SecurityGroups.forEach((g, gi) => {
    const hook: Hook = g.Chain ?? 'forward';
    const first = FIRST_RULE + gi * GROUP_BLOCK;
    const numbers: number[] = [];
    g.Rules.forEach((r, ri) => {
      const window: TimeWindow | undefined = r.TimeWindow && {
        weekdays: r.TimeWindow.Weekdays,
        start: r.TimeWindow.Start,
        stop: r.TimeWindow.Stop,
        timeZone: r.TimeWindow.TimeZone,
      };
      const pieces = window ? timePieces(window, routerTimeZone, at) : [undefined];
      pieces.forEach((piece, pi) => {
        const n = first + numbers.length * RULE_STEP;
        numbers.push(n);
        for (const family of ruleFamilies(r)) {
          const match: ConfigJson = {};
          // nftables names ICMP for IPv6 `ipv6-icmp` (/etc/protocols); `icmp` there is IPv4's.
          if (r.Protocol !== 'all') match['protocol'] = r.Protocol === 'icmp' && family === 'ipv6' ? 'ipv6-icmp' : r.Protocol;
          if (r.SourceIP !== 'any') match['source'] = { address: r.SourceIP };
          if (r.DestinationIP !== 'any' || r.PortRange)
            match['destination'] = {
              ...(r.DestinationIP !== 'any' ? { address: r.DestinationIP } : {}),
              ...(r.PortRange ? { port: r.PortRange.replace(/\s+/g, '') } : {}),
            };
          const time: ConfigJson | undefined = piece && {
            weekdays: piece.weekday,
            ...(piece.starttime !== undefined ? { starttime: piece.starttime } : {}),
            ...(piece.stoptime !== undefined ? { stoptime: piece.stoptime } : {}),
          };
          chainFor(family, hook).rules[String(n)] = {
            action: r.Action === 'Allow' ? 'accept' : 'drop',
            description: `pathpilot sg ${g.Name} rule ${ri + 1}${pieces.length > 1 ? ` part ${pi + 1}` : ''}`,
            ...match,
            ...(time ? { time } : {}),
          };
        }
      });
    });
    if (numbers.length > MAX_RULES_PER_GROUP)
      throw new Error(
        `security group ${g.Name} renders to ${numbers.length} rules: at most ${MAX_RULES_PER_GROUP} fit its block`,
      );
    groups.push({ name: g.Name, chain: hook, first, rules: numbers });
  });
  const order = (c: ChainPlan) => (c.family === 'ipv4' ? 0 : 2) + (c.chain === 'forward' ? 0 : 1);
  return {
    chains: [...chains.values()].sort((a, b) => order(a) - order(b)),
    ...(file.DefaultAction ? { defaultAction: file.DefaultAction === 'Allow' ? 'accept' : 'drop' } : {}),
    groups,
  };
}
