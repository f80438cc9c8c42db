/**
 * What `pathpilot overlay gen` writes from a plan: per node the VyOS operations (`/configure` payload and
 * the same as `set` lines) and wg-quick files, and for people a summary table and an SVG diagram.
 */
import type { OverlayPlan, PlannedNode } from './overlay-plan.ts';
import { escapeHtml as esc } from '../../core/report-text.ts';

export interface InterfaceKeys {
  /** Absent where the router already holds its key (it stays there: nothing to set). */
  privateKey?: string;
  publicKey: string;
}

/** Keys per interface, keyed `node/wgN`. */
export type OverlayKeys = ReadonlyMap<string, InterfaceKeys>;

export const keyId = (node: string, iface: string) => `${node}/${iface}`;

export interface VyosOp {
  op: 'set';
  path: string[];
}

function keysOf(keys: OverlayKeys, node: string, iface: string): InterfaceKeys {
  const k = keys.get(keyId(node, iface));
  if (!k) throw new Error(`no key for ${keyId(node, iface)}`);
  return k;
}

/** The node's WireGuard interfaces, peers and static routes as VyOS 1.4/1.5 `set` operations. */
export function vyosOps(pn: PlannedNode, keys: OverlayKeys): VyosOp[] {
  const ops: VyosOp[] = [];
  const set = (...path: string[]) => ops.push({ op: 'set', path });
  for (const i of pn.interfaces) {
    const base = ['interfaces', 'wireguard', i.name];
    set(...base, 'address', i.address);
    set(...base, 'description', `pathpilot overlay ${i.endpointName}`);
    set(...base, 'port', String(i.listen.port));
    const own = keysOf(keys, pn.node.name, i.name).privateKey;
    if (own) set(...base, 'private-key', own);
    for (const p of i.peers) {
      const peer = [...base, 'peer', p.node];
      set(...peer, 'public-key', keysOf(keys, p.node, p.iface).publicKey);
      for (const ip of p.allowedIps) set(...peer, 'allowed-ips', ip);
      if (p.endpoint) {
        set(...peer, 'address', p.endpoint.host);
        set(...peer, 'port', String(p.endpoint.port));
      }
      if (p.keepaliveS) set(...peer, 'persistent-keepalive', String(p.keepaliveS));
      set(...peer, 'description', p.failoverIps.length ? `${p.path}; failover ${p.failoverIps.join(' ')}` : p.path);
    }
  }
  for (const r of pn.routes) set('protocols', 'static', 'route', r.prefix, 'interface', r.iface);
  return ops;
}

const quote = (v: string) => (/^[\w./:+=-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`);

/** The operations as lines of `set …` a user can paste into a VyOS configure session. */
export function setLines(ops: readonly VyosOp[]): string {
  return ops.map((o) => `set ${o.path.map(quote).join(' ')}`).join('\n') + '\n';
}

/** A wg-quick file for one interface (wg-quick adds the routes for AllowedIPs itself). */
export function wgQuick(pn: PlannedNode, iface: string, keys: OverlayKeys): string {
  const i = pn.interfaces.find((x) => x.name === iface)!;
  const lines = [
    `# pathpilot overlay: node ${pn.node.name}, endpoint "${i.endpointName}"`,
    '[Interface]',
    `Address = ${i.address}`,
    `ListenPort = ${i.listen.port}`,
    `PrivateKey = ${keysOf(keys, pn.node.name, i.name).privateKey ?? '(generate with `wg genkey`)'}`,
  ];
  for (const p of i.peers) {
    lines.push(
      '',
      `# ${p.node} (${p.path}${p.failoverIps.length ? `; takes over ${p.failoverIps.join(', ')} on failover` : ''})`,
      '[Peer]',
      `PublicKey = ${keysOf(keys, p.node, p.iface).publicKey}`,
      `AllowedIPs = ${p.allowedIps.join(', ')}`,
    );
    if (p.endpoint)
      lines.push(`Endpoint = ${p.endpoint.host.includes(':') ? `[${p.endpoint.host}]` : p.endpoint.host}:${p.endpoint.port}`);
    if (p.keepaliveS) lines.push(`PersistentKeepalive = ${p.keepaliveS}`);
  }
  return lines.join('\n') + '\n';
}

/** One row per peer of every interface (Markdown). */
export function summaryTable(plan: OverlayPlan): string {
  const rows = [
    '| node | role | interface | listen | peer | path | allowed-ips | failover | endpoint | keepalive |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const pn of plan.nodes)
    for (const i of pn.interfaces)
      for (const p of i.peers)
        rows.push(
          `| ${pn.node.name} | ${pn.node.role} | ${i.name} (${i.endpointName}) | ${i.listen.port} | ${p.node}/${p.iface} | ${p.path} | ${p.allowedIps.join(' ')} | ${p.failoverIps.join(' ') || '—'} | ${p.endpoint ? `${p.endpoint.host}:${p.endpoint.port}` : 'none (waits to be dialled)'} | ${p.keepaliveS ? `${p.keepaliveS} s` : '—'} |`,
        );
  const groups = plan.groups.map((g) => `(${g.join(',')})`).join(' ');
  const relays = plan.nodes.filter((n) => n.node.role === 'relay').map((n) => n.node.name);
  return [
    `# Overlay: ${plan.nodes.length} nodes, ${plan.tunnels.length} tunnels`,
    '',
    `Groups ${groups || '—'}; relays ${relays.join(', ') || '—'}.`,
    '',
    ...rows,
    '',
    ...(plan.notes.length ? ['Notes:', '', ...plan.notes.map((n) => `- ${n}`), ''] : []),
  ].join('\n');
}

/**
 * The overlay as an SVG: relays in a column in the middle, each client group on a circle around its own
 * centre (alternately left and right); group meshes grey, primary tunnels solid, backups dashed.
 */
export function overlaySvg(plan: OverlayPlan): string {
  const pos = new Map<string, { x: number; y: number }>();
  const relays = plan.nodes.filter((n) => n.node.role === 'relay').map((n) => n.node.name);
  const rowsPerSide = Math.max(1, Math.ceil(plan.groups.length / 2));
  const height = Math.max(360, rowsPerSide * 260, relays.length * 110 + 120);
  const width = 900;
  relays.forEach((r, i) => pos.set(r, { x: width / 2, y: (height * (i + 1)) / (relays.length + 1) }));
  plan.groups.forEach((g, gi) => {
    const left = gi % 2 === 0;
    const row = Math.floor(gi / 2);
    const cx = left ? 170 : width - 170;
    const cy = (height * (row + 1)) / (rowsPerSide + 1);
    const r = g.length > 1 ? 80 : 0;
    g.forEach((n, k) => {
      const a = (2 * Math.PI * k) / g.length - Math.PI / 2;
      pos.set(n, { x: cx + r * Math.cos(a), y: cy + r * Math.sin(a) });
    });
  });
  const roleOf = new Map(plan.nodes.map((n) => [n.node.name, n.node.role]));
  const lines = plan.tunnels.map((t) => {
    const a = pos.get(t.a.node)!;
    const b = pos.get(t.b.node)!;
    const mesh = roleOf.get(t.a.node) === 'client' && roleOf.get(t.b.node) === 'client';
    const style = mesh
      ? 'stroke="#9aa0a6" stroke-width="2"'
      : t.path === 'primary'
        ? 'stroke="#1a73e8" stroke-width="2.5"'
        : 'stroke="#e8710a" stroke-width="2" stroke-dasharray="7 5"';
    return `<line x1="${a.x.toFixed(1)}" y1="${a.y.toFixed(1)}" x2="${b.x.toFixed(1)}" y2="${b.y.toFixed(1)}" ${style}><title>${esc(`${t.a.node}/${t.a.iface} ↔ ${t.b.node}/${t.b.iface} (${mesh ? 'mesh' : t.path})`)}</title></line>`;
  });
  const nodes = plan.nodes.map((pn) => {
    const p = pos.get(pn.node.name)!;
    const fill = pn.node.role === 'relay' ? '#fce8e6' : '#e8f0fe';
    return `<g><circle cx="${p.x.toFixed(1)}" cy="${p.y.toFixed(1)}" r="26" fill="${fill}" stroke="#3c4043"/><text x="${p.x.toFixed(1)}" y="${(p.y + 5).toFixed(1)}" text-anchor="middle" font-size="15" font-weight="bold">${esc(pn.node.name)}</text><text x="${p.x.toFixed(1)}" y="${(p.y + 44).toFixed(1)}" text-anchor="middle" font-size="11">${esc(pn.node.wireguard_ip)}</text></g>`;
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="16" y="24" font-size="14">pathpilot overlay — grey: group mesh, blue: primary via relay, orange dashed: backup</text>`,
    ...lines,
    ...nodes,
    '</svg>',
    '',
  ].join('\n');
}
