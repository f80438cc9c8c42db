/**
 * SNDlib native XML (sndlib.zib.de: `<nodes>` with coordinates, `<links>` with pre-installed and
 * additional capacity modules, optional `<demands>`) → a pathpilot topology the twin can run: one
 * on-prem site per node, one interconnect per link, up to three candidate paths per ordered pair with
 * distinct first hops, and the example config's traffic classes. What SNDlib does not say (prices,
 * prefixes, addresses, interfaces) is filled in by documented rules so a user's own network file is
 * enough for a what-if run.
 */
import { XMLParser } from 'fast-xml-parser';
import { exampleConfigPath, loadConfig, rootConfigSchema, type ClassConfig, type RootConfig } from '../../core/config/index.ts';
import { ConfigError, ValidationError } from '../../core/errors.ts';

export interface SndlibNode {
  id: string;
  x?: number;
  y?: number;
}

export interface SndlibLink {
  id: string;
  source: string;
  target: string;
  /** Capacity of the pre-installed module, Mbps (absent when none). */
  preInstalledMbps?: number;
  /** Additional modules that may be installed: capacity (Mbps) and their (capital) cost. */
  modules: { capacity: number; cost: number }[];
  /** Cost per unit of flow, when the file has one. */
  routingCost?: number;
}

export interface SndlibNetwork {
  file: string;
  coordinates: 'geographical' | 'pixel' | undefined;
  nodes: SndlibNode[];
  links: SndlibLink[];
  /** The file's demand matrix (Mbps per ordered node pair), empty when it has none. */
  demands: { source: string; target: string; mbps: number }[];
}

// Elements that may repeat are always arrays, so a one-node or one-module file parses the same way.
const repeated = new Set(['node', 'link', 'addModule', 'demand']);
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  parseTagValue: false,
  isArray: (name) => repeated.has(name),
});

type Xml = Record<string, unknown>;
const obj = (v: unknown): Xml | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Xml) : undefined);
const list = (v: unknown): Xml[] => (Array.isArray(v) ? v.map((x) => obj(x) ?? {}) : []);
const text = (v: unknown): string | undefined =>
  typeof v === 'string'
    ? v.trim()
    : typeof v === 'number'
      ? String(v)
      : obj(v)?.['#text'] !== undefined
        ? text(obj(v)!['#text'])
        : undefined;

/** Parses SNDlib native XML; a malformed or incomplete file is a ValidationError naming the file and element. */
export function parseSndlib(xml: string, file = '<sndlib>'): SndlibNetwork {
  const bad = (what: string) => new ValidationError(`${file}: not an SNDlib network: ${what}`);
  let doc: Xml;
  try {
    doc = parser.parse(xml, true) as Xml;
  } catch (err) {
    throw bad(`malformed XML (${(err as Error).message.split('\n')[0]})`);
  }
  const network = obj(doc['network']);
  if (!network) throw bad('no <network> root element');
  const structure = obj(network['networkStructure']);
  if (!structure) throw bad('no <networkStructure>');
  const nodesEl = obj(structure['nodes']);
  const linksEl = obj(structure['links']);
  if (!nodesEl || list(nodesEl['node']).length === 0) throw bad('no <nodes><node> elements');
  const num = (v: unknown, where: string): number => {
    const s = text(v);
    const n = s === undefined || s === '' ? NaN : Number(s);
    if (!Number.isFinite(n)) throw bad(`${where}: expected a number, got ${s === undefined ? 'nothing' : `"${s}"`}`);
    return n;
  };
  const optNum = (v: unknown, where: string) => (v === undefined ? undefined : num(v, where));

  const coordType = text(nodesEl['@coordinatesType']);
  const nodes: SndlibNode[] = list(nodesEl['node']).map((n, i) => {
    const id = text(n['@id']);
    if (!id) throw bad(`<node> #${i + 1} has no id`);
    const c = obj(n['coordinates']);
    return {
      id,
      ...(c?.['x'] !== undefined ? { x: num(c['x'], `node "${id}" <x>`) } : {}),
      ...(c?.['y'] !== undefined ? { y: num(c['y'], `node "${id}" <y>`) } : {}),
    };
  });
  const nodeIds = new Set<string>();
  for (const n of nodes) {
    if (nodeIds.has(n.id)) throw bad(`duplicate node id "${n.id}"`);
    nodeIds.add(n.id);
  }
  const endpoint = (el: Xml, key: 'source' | 'target', where: string): string => {
    const v = text(el[key]);
    if (!v) throw bad(`${where} has no <${key}>`);
    if (!nodeIds.has(v)) throw bad(`${where}: <${key}> "${v}" is not a node`);
    return v;
  };

  const links: SndlibLink[] = list(linksEl?.['link']).map((l, i) => {
    const id = text(l['@id']) ?? `link${i + 1}`;
    const where = `link "${id}"`;
    const pre = obj(l['preInstalledModule']);
    const modules = list(obj(l['additionalModules'])?.['addModule']).map((m, j) => ({
      capacity: num(m['capacity'], `${where} addModule #${j + 1} <capacity>`),
      cost: optNum(m['cost'], `${where} addModule #${j + 1} <cost>`) ?? 0,
    }));
    const preInstalledMbps = optNum(pre?.['capacity'], `${where} preInstalledModule <capacity>`);
    const routingCost = optNum(l['routingCost'], `${where} <routingCost>`);
    return {
      id,
      source: endpoint(l, 'source', where),
      target: endpoint(l, 'target', where),
      modules,
      ...(preInstalledMbps !== undefined ? { preInstalledMbps } : {}),
      ...(routingCost !== undefined ? { routingCost } : {}),
    };
  });
  for (const l of links) if (l.source === l.target) throw bad(`link "${l.id}" joins node "${l.source}" to itself`);

  const demands = list(obj(network['demands'])?.['demand']).map((d, i) => {
    const where = `demand "${text(d['@id']) ?? `#${i + 1}`}"`;
    return {
      source: endpoint(d, 'source', where),
      target: endpoint(d, 'target', where),
      mbps: num(d['demandValue'], `${where} <demandValue>`),
    };
  });
  return {
    file,
    coordinates: coordType === 'geographical' || coordType === 'pixel' ? coordType : undefined,
    nodes,
    links,
    demands,
  };
}

export interface SndlibTopologyOptions {
  /** Capacity of a link whose file gives none, Mbps. */
  defaultCapacityMbps?: number;
  /** $/GB of every link, or the mean $/GB when prices are scaled from the file's costs. */
  pricePerGb?: number;
  /**
   * Where per-link prices come from: `routing-cost` (the link's <routingCost>), `module-cost` (the
   * cheapest module's cost per Mbps, which SNDlib files mostly derive from length), `flat`, or `auto`
   * (routing cost when every link has one, else flat). Scaled prices keep `pricePerGb` as their mean.
   */
  priceFrom?: 'auto' | 'flat' | 'routing-cost' | 'module-cost';
  /** Path metric: fibre distance (RTT) or hop count. */
  pathsBy?: 'distance' | 'hops';
  /** Candidate paths per ordered pair (each with its own first hop). */
  maxPaths?: number;
  /** Traffic classes; the example config's by default. */
  classes?: ClassConfig[];
  /** RTT of a link whose nodes have no geographical coordinates, ms. */
  defaultRttMs?: number;
}

export interface SndlibTopology {
  root: RootConfig;
  /** SNDlib node id → site id (ids are lower-cased and restricted to pathpilot's id alphabet). */
  siteOf: Map<string, string>;
  /** Base RTT per link id from the node coordinates (for the scenario's `links.<id>.rtt_ms`). */
  linkRttMs: Record<string, number>;
}

/** Fibre RTT: light covers ~200 km per ms in glass, so ~1 ms of round trip per 100 km, plus equipment. */
const RTT_MS_PER_KM = 0.01;
const RTT_FIXED_MS = 0.5;

function haversineKm(a: SndlibNode, b: SndlibNode): number {
  const rad = Math.PI / 180;
  const dLat = (b.y! - a.y!) * rad;
  const dLon = (b.x! - a.x!) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.y! * rad) * Math.cos(b.y! * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** On-prem locations the twin's region table knows (lab/twin/regions.ts onpremProxy), by a metro's lon/lat. */
const METROS: [string, number, number][] = [
  ['us-east', -77.5, 39],
  ['us-central', -95.9, 41.3],
  ['us-west', -122, 37.4],
  ['eu-central', 8.7, 50.1],
  ['eu-west', -6.3, 53.3],
  ['eu-north', 18.1, 59.3],
  ['uk', -0.1, 51.5],
  ['ap-east', 114.2, 22.3],
  ['ap-southeast', 103.8, 1.35],
  ['ap-northeast', 139.7, 35.7],
];

function nearestMetro(n: SndlibNode, geographical: boolean): string {
  if (!geographical || n.x === undefined || n.y === undefined) return 'eu-central';
  let best = METROS[0]![0];
  let bestKm = Infinity;
  for (const [name, x, y] of METROS) {
    const km = haversineKm(n, { id: name, x, y });
    if (km < bestKm) [best, bestKm] = [name, km];
  }
  return best;
}

/** A pathpilot id from an SNDlib name: lower case, other characters as "-", unique. */
function makeIds(names: string[]): Map<string, string> {
  const out = new Map<string, string>();
  const used = new Set<string>();
  for (const name of names) {
    let id = name.toLowerCase().replace(/[^a-z0-9._-]/g, '-');
    if (!/^[a-z0-9]/.test(id)) id = `n${id}`;
    let unique = id;
    for (let k = 2; used.has(unique); k++) unique = `${id}-${k}`;
    used.add(unique);
    out.set(name, unique);
  }
  return out;
}

/**
 * Candidate paths of every ordered pair: for each link leaving `from`, that link plus the shortest
 * path from its far end to `to` that avoids `from` (so every candidate has its own first hop, as
 * pathpilot requires); the best `max` by total metric, primary first.
 */
function candidatePaths(
  sites: string[],
  links: { id: string; a: string; b: string; w: number }[],
  max: number,
): { from: string; to: string; links: string[] }[] {
  const adj = new Map<string, { link: number; to: string }[]>(sites.map((s) => [s, []]));
  links.forEach((l, i) => {
    adj.get(l.a)!.push({ link: i, to: l.b });
    adj.get(l.b)!.push({ link: i, to: l.a });
  });
  // Dijkstra from `root` (links are undirected), never entering `banned`; returns distance and the link to the parent.
  const tree = (root: string, banned: string) => {
    const dist = new Map<string, number>([[root, 0]]);
    const via = new Map<string, number>();
    const done = new Set<string>();
    for (;;) {
      let u: string | undefined;
      for (const [n, d] of dist) if (!done.has(n) && (u === undefined || d < dist.get(u)!)) u = n;
      if (u === undefined) break;
      done.add(u);
      for (const e of adj.get(u)!) {
        if (e.to === banned) continue;
        const nd = dist.get(u)! + links[e.link]!.w;
        if (nd < (dist.get(e.to) ?? Infinity)) {
          dist.set(e.to, nd);
          via.set(e.to, e.link);
        }
      }
    }
    return { dist, via };
  };
  const out: { from: string; to: string; links: string[] }[] = [];
  for (const from of sites) {
    for (const to of sites) {
      if (to === from) continue;
      const { dist, via } = tree(to, from);
      const options: { w: number; hops: number; links: number[] }[] = [];
      for (const e of adj.get(from)!) {
        if (e.to !== to && !dist.has(e.to)) continue;
        const chain = [e.link];
        for (let at = e.to; at !== to;) {
          const li = via.get(at)!;
          chain.push(li);
          at = links[li]!.a === at ? links[li]!.b : links[li]!.a;
        }
        options.push({ w: links[e.link]!.w + (dist.get(e.to) ?? 0), hops: chain.length, links: chain });
      }
      options.sort((p, q) => p.w - q.w || p.hops - q.hops || p.links[0]! - q.links[0]!);
      for (const o of options.slice(0, max)) out.push({ from, to, links: o.links.map((i) => links[i]!.id) });
    }
  }
  return out;
}

/** The pathpilot topology of an SNDlib network, validated by core/config's schema. */
export function sndlibTopology(net: SndlibNetwork, opts: SndlibTopologyOptions = {}): SndlibTopology {
  const defaultCapacity = opts.defaultCapacityMbps ?? 10_000;
  const price = opts.pricePerGb ?? 0.02;
  const geographical = net.coordinates !== 'pixel' && net.nodes.every((n) => n.x !== undefined && n.y !== undefined);
  if (net.nodes.length > 250)
    throw new ValidationError(`${net.file}: ${net.nodes.length} nodes; site prefixes are assigned for at most 250`);
  const siteOf = makeIds(net.nodes.map((n) => n.id));
  const linkIdOf = makeIds(net.links.map((l) => l.id));
  const nodeById = new Map(net.nodes.map((n) => [n.id, n]));

  const sites = net.nodes.map((n, i) => ({
    id: siteOf.get(n.id)!,
    name: n.id,
    provider: 'onprem' as const,
    region: nearestMetro(n, geographical),
    prefixes: [`10.${i + 1}.0.0/16`],
    router: {
      api_url: '',
      api_key_env: 'PATHPILOT_VYOS_KEY',
      vyos_version: '1.5' as const,
      exporter_address: `127.0.1.${i + 1}`,
      tls_verify: true,
    },
  }));

  // Prices: relative figures from the file scaled to the requested mean, else flat.
  const from =
    opts.priceFrom === undefined || opts.priceFrom === 'auto'
      ? net.links.length > 0 && net.links.every((l) => l.routingCost !== undefined)
        ? 'routing-cost'
        : 'flat'
      : opts.priceFrom;
  const relative = net.links.map((l) => {
    if (from === 'routing-cost') {
      if (l.routingCost === undefined) throw new ValidationError(`${net.file}: link "${l.id}" has no <routingCost>`);
      return l.routingCost;
    }
    if (from === 'module-cost') {
      const m = [...l.modules].filter((x) => x.capacity > 0).sort((a, b) => a.capacity - b.capacity)[0];
      if (!m) throw new ValidationError(`${net.file}: link "${l.id}" has no additional module to take a cost from`);
      return m.cost / m.capacity;
    }
    return 1;
  });
  const mean = relative.reduce((s, x) => s + x, 0) / Math.max(1, relative.length);
  const priceOf = (i: number) => (mean > 0 ? Number(((relative[i]! / mean) * price).toFixed(6)) : price);

  const ifCount = new Map<string, number>();
  const nextIface = (site: string) => {
    const n = (ifCount.get(site) ?? 0) + 1;
    ifCount.set(site, n);
    return { interface: `eth${n}`, if_index: n + 1 };
  };
  const linkRttMs: Record<string, number> = {};
  const links = net.links.map((l, i) => {
    const id = linkIdOf.get(l.id)!;
    const a = siteOf.get(l.source)!;
    const b = siteOf.get(l.target)!;
    // Point-to-point /30s in 169.254.0.0/16, one per link.
    const base = i * 4;
    const addr = (host: number) => `169.254.${Math.floor((base + host) / 256)}.${(base + host) % 256}`;
    const modules = l.modules.filter((m) => m.capacity > 0).sort((x, y) => x.capacity - y.capacity);
    const capacity =
      l.preInstalledMbps && l.preInstalledMbps > 0 ? l.preInstalledMbps : (modules[0]?.capacity ?? defaultCapacity);
    const na = nodeById.get(l.source)!;
    const nb = nodeById.get(l.target)!;
    linkRttMs[id] = geographical
      ? Number((RTT_FIXED_MS + RTT_MS_PER_KM * haversineKm(na, nb)).toFixed(3))
      : (opts.defaultRttMs ?? 5);
    return {
      id,
      kind: 'interconnect' as const,
      a: { site: a, ...nextIface(a), address: addr(1) },
      b: { site: b, ...nextIface(b), address: addr(2) },
      capacity_mbps: capacity,
      cost_per_gb: priceOf(i),
      monthly_fixed_cost: 0,
    };
  });
  if (net.links.length * 4 > 65_536) throw new ValidationError(`${net.file}: too many links for 169.254.0.0/16 addressing`);

  const weighted = links.map((l) => ({
    id: l.id,
    a: l.a.site,
    b: l.b.site,
    w: opts.pathsBy === 'hops' ? 1 : linkRttMs[l.id]!,
  }));
  const paths = candidatePaths(
    sites.map((s) => s.id),
    weighted,
    opts.maxPaths ?? 3,
  );
  const rank = new Map<string, number>();
  const pathConfigs = paths.map((p) => {
    const key = `${p.from}>${p.to}`;
    const k = (rank.get(key) ?? 0) + 1;
    rank.set(key, k);
    return { id: `${p.from}.${p.to}.${k}`, from: p.from, to: p.to, links: p.links, priority: k };
  });

  const classes = opts.classes ?? loadConfig(exampleConfigPath, {}).root.classes;
  const result = rootConfigSchema.safeParse({ version: 1, sites, links, paths: pathConfigs, classes });
  if (!result.success)
    throw new ConfigError(result.error.issues.map((i) => `${net.file}: topology ${i.path.join('.')}: ${i.message}`));
  return { root: result.data, siteOf, linkRttMs };
}
