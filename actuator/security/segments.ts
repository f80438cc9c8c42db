/**
 * Micro-segmentation: segments defined by prefixes (or the prefixes of sites), default-deny between them,
 * and the allow rules suggested from who was seen talking to whom on which ports (flows in ClickHouse).
 * The suggestion is a security-groups file (groups.ts: one group per destination segment, its allow rules
 * then a deny from every other segment) for a user to review and plan; beside it, the observed
 * conversations each deny would still block (those under the volume threshold or on a protocol no allow
 * covers), so nothing live is cut unseen.
 */
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import type { LiveFlow } from '../../analytics/queries/index.ts';
import type { SecurityGroupsFile } from './groups.ts';

const prefix = z.string().refine((v) => {
  try {
    const [ip] = ipaddr.parseCIDR(v);
    return ip.kind() === 'ipv4' && ipaddr.IPv4.networkAddressFromCIDR(v).toString() === ip.toString();
  } catch {
    return false;
  }
}, 'an IPv4 network with its host bits zero (10.0.0.0/24)');

export const segmentsSchema = z
  .object({
    Segments: z
      .array(
        z
          .object({
            Name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,40}$/, 'letters, digits, ".", "_" or "-"'),
            Prefixes: z.array(prefix).default([]),
            /** Site ids of the pathpilot.yaml: their prefixes join the segment's. */
            Sites: z.array(z.string()).default([]),
          })
          .strict()
          .refine((s) => s.Prefixes.length + s.Sites.length > 0, { message: 'a segment needs Prefixes or Sites' }),
      )
      .min(2, 'segmentation needs at least two segments'),
  })
  .strict();
export type SegmentsFile = z.infer<typeof segmentsSchema>;

export interface Segment {
  name: string;
  prefixes: string[];
}

/** Each segment's prefixes (sites resolved through `sitePrefixes`); throws naming an unknown site or a shared prefix. */
export function resolveSegments(file: SegmentsFile, sitePrefixes: (site: string) => string[] | undefined): Segment[] {
  const out = file.Segments.map((s) => ({
    name: s.Name,
    prefixes: [
      ...s.Prefixes,
      ...s.Sites.flatMap((site) => {
        const p = sitePrefixes(site);
        if (!p) throw new Error(`segment ${s.Name}: "${site}" is not a site of the configuration`);
        return p;
      }),
    ],
  }));
  const owner = new Map<string, string>();
  for (const s of out)
    for (const p of s.prefixes) {
      const other = owner.get(p);
      if (other && other !== s.name) throw new Error(`prefix ${p} is in segments ${other} and ${s.name}`);
      owner.set(p, s.name);
    }
  return out;
}

const PROTOCOL: Record<number, 'tcp' | 'udp' | 'icmp'> = { 6: 'tcp', 17: 'udp', 1: 'icmp' };

/** The segment an address is in (the most specific prefix), if any. */
function segmentOf(segments: readonly Segment[], addr: string): Segment | undefined {
  if (!ipaddr.IPv4.isValid(addr)) return undefined;
  const ip = ipaddr.IPv4.parse(addr);
  let best: { s: Segment; len: number } | undefined;
  for (const s of segments)
    for (const p of s.prefixes) {
      const net = ipaddr.IPv4.parseCIDR(p);
      if (ip.match(net) && (!best || net[1] > best.len)) best = { s, len: net[1] };
    }
  return best?.s;
}

export interface ObservedAllow {
  from: string;
  to: string;
  protocol: 'tcp' | 'udp' | 'icmp';
  ports: number[];
  bytes: number;
  conversations: number;
}

export interface WouldBlock {
  from: string;
  to: string;
  flow: string;
  bytes: number;
}

export interface SegmentationSuggestion {
  file: SecurityGroupsFile;
  allows: ObservedAllow[];
  /** Observed conversations between segments the suggested denies block (largest first). */
  wouldBlock: WouldBlock[];
}

/**
 * Allow rules for every (source segment, destination segment, protocol) seen carrying at least `minBytes`
 * (its destination ports), then a deny of everything else from each other segment: one group per
 * destination segment, `to-<name>`. Traffic inside a segment and to or from outside every segment is
 * left alone.
 */
export function suggestSegmentation(
  segments: readonly Segment[],
  flows: readonly LiveFlow[],
  minBytes = 0,
): SegmentationSuggestion {
  const seen = new Map<string, ObservedAllow>();
  const between: { from: Segment; to: Segment; flow: LiveFlow }[] = [];
  for (const f of flows) {
    const from = segmentOf(segments, f.src_addr);
    const to = segmentOf(segments, f.dst_addr);
    if (!from || !to || from === to) continue;
    between.push({ from, to, flow: f });
    const protocol = PROTOCOL[f.protocol];
    if (!protocol) continue;
    const key = `${from.name}>${to.name}|${protocol}`;
    const a = seen.get(key) ?? { from: from.name, to: to.name, protocol, ports: [], bytes: 0, conversations: 0 };
    a.bytes += f.bytes;
    a.conversations += f.flows;
    if (protocol !== 'icmp' && f.dst_port > 0 && !a.ports.includes(f.dst_port)) a.ports.push(f.dst_port);
    seen.set(key, a);
  }
  const allows = [...seen.values()].filter((a) => a.bytes >= minBytes).sort((a, b) => b.bytes - a.bytes);
  for (const a of allows) a.ports.sort((x, y) => x - y);
  const allowedBy = (from: string, to: string, protocol: string | undefined, port: number) =>
    allows.some(
      (a) =>
        a.from === from &&
        a.to === to &&
        a.protocol === protocol &&
        (protocol === 'icmp' || a.ports.length === 0 || a.ports.includes(port)),
    );
  const wouldBlock = between
    .filter((b) => !allowedBy(b.from.name, b.to.name, PROTOCOL[b.flow.protocol], b.flow.dst_port))
    .map((b) => ({
      from: b.from.name,
      to: b.to.name,
      flow: `${b.flow.src_addr} → ${b.flow.dst_addr} ${PROTOCOL[b.flow.protocol] ?? `proto ${b.flow.protocol}`}${b.flow.dst_port ? `/${b.flow.dst_port}` : ''}`,
      bytes: b.flow.bytes,
    }))
    .sort((a, b) => b.bytes - a.bytes);

  type Rule = SecurityGroupsFile['SecurityGroups'][number]['Rules'][number];
  const groups = segments.map((to) => {
    const rules: Rule[] = [];
    for (const a of allows.filter((x) => x.to === to.name)) {
      const from = segments.find((s) => s.name === a.from)!;
      for (const src of from.prefixes)
        for (const dst of to.prefixes)
          rules.push({
            Protocol: a.protocol,
            ...(a.ports.length && a.protocol !== 'icmp' ? { PortRange: a.ports.join(',') } : {}),
            SourceIP: src,
            DestinationIP: dst,
            Action: 'Allow',
          });
    }
    for (const from of segments.filter((s) => s !== to))
      for (const src of from.prefixes)
        for (const dst of to.prefixes) rules.push({ Protocol: 'all', SourceIP: src, DestinationIP: dst, Action: 'Deny' });
    return { Name: `to-${to.name}`, Rules: rules };
  });
  return { file: { SecurityGroups: groups }, allows, wouldBlock };
}
