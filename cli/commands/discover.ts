import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { Document, isMap, isSeq } from 'yaml';
import { isExit, parseCommand, usageError } from '../args.ts';
import { readAlibabaInventory } from '../../actuator/discover/alibaba.ts';
import { readAwsInventory } from '../../actuator/discover/aws.ts';
import { readAzureInventory } from '../../actuator/discover/azure.ts';
import { diffTopology, formatDiff } from '../../actuator/discover/diff.ts';
import { readGcpInventory } from '../../actuator/discover/gcp.ts';
import { mergeInventories, type CloudInventory } from '../../actuator/discover/inventory.ts';
import { DEFAULT_KEY_ENV, proposeTopology, type CurrentConfig, type ProposedConfig } from '../../actuator/discover/propose.ts';
import { readRouters, type RouterToRead } from '../../actuator/discover/routers.ts';
import { siteClientsFromConfig } from '../../actuator/site-clients.ts';
import { createVyosClient } from '../../actuator/vyos/index.ts';
import { exampleConfigPath, loadConfig, loadConfigText, parseConfigText, type LoadedConfig } from '../../core/config/index.ts';
import { ConfigError, errorMessage } from '../../core/errors.ts';

export const summary = 'discover the topology from the routers and cloud exports: a proposed pathpilot.yaml, or a diff';

const usage = `usage: pathpilot discover [-c FILE] [--router SITE=URL]... [--aws DIR] [--azure DIR] [--gcp DIR]
                          [--alibaba DIR] [-o OUT.yaml] [--diff] [--json]

Reads every router (the sites of -c FILE, plus --router) over the VyOS HTTP API — running config, release
train, interface states — and the cloud inventory exports, infers the links between the routers (shared
point-to-point subnets, WireGuard peer keys, IPsec and OpenVPN peer addresses) and places each router in
its cloud network. Writes the proposed pathpilot.yaml to OUT.yaml (stdout without -o); what discovery
cannot know (names, prices, if_index, paths, classes, policy) is kept from FILE. With --diff, prints what
differs from FILE instead; --json prints the same as JSON with the proposed config, for a scheduled job.

  -c, --config FILE    the current pathpilot.yaml: its routers are read and its settings kept
  --router SITE=URL    another router to read (or another URL for a site of FILE); key from
                       PATHPILOT_VYOS_KEY, or the site's router.api_key_env
  --aws DIR            aws CLI exports, one folder per region: DIR/<region>/describe-vpcs.json,
                       describe-transit-gateways.json, describe-vpn-gateways.json,
                       describe-vpn-connections.json, describe-connections.json,
                       describe-virtual-interfaces.json
  --azure DIR          az CLI exports: vnet-list.json, vpn-connection-list.json, express-route-list.json
  --gcp DIR            gcloud --format=json exports: networks.json, subnets.json, routers.json,
                       interconnects.json, interconnect-attachments.json
  --alibaba DIR        aliyun exports: describe-vpcs.json
  -o, --out FILE       where the proposed pathpilot.yaml is written (also with --diff)
  --diff               print the differences from -c FILE (sites and links added, removed, changed)
  --json               --diff as JSON: the differences, the notes and the proposed config

Notes (what was guessed, what the exports hold that no router matches) go to stderr.
Exit status: 0 written, or no differences; 1 differences (--diff), an unreadable router or export, or a
proposal that does not validate; 2 usage errors.
`;

const name = 'pathpilot discover';

function parseRouterFlags(flags: readonly string[]): Map<string, string> | string {
  const out = new Map<string, string>();
  for (const f of flags) {
    const m = /^([a-z0-9][a-z0-9._-]*)=(https?:\/\/\S+)$/.exec(f);
    if (!m) return `--router takes SITE=URL (got "${f}")`;
    out.set(m[1]!, m[2]!);
  }
  return out;
}

/** The routers to read: every site of the current config (URL from --router or its api_url), then the extra ones. */
function routersToRead(loaded: LoadedConfig | undefined, urls: ReadonlyMap<string, string>): RouterToRead[] {
  const out: RouterToRead[] = [];
  if (loaded) {
    const missing = loaded.root.sites.filter((s) => !s.router.api_url && !urls.has(s.id)).map((s) => s.id);
    if (missing.length > 0) throw new Error(`no API URL for ${missing.join(', ')}: set router.api_url or give --router SITE=URL`);
    const clients = siteClientsFromConfig(loaded, process.env, { urlOf: (s) => urls.get(s) });
    for (const s of loaded.root.sites) out.push({ site: s.id, api: clients.routerFor(s.id) });
  }
  for (const [site, url] of urls) {
    if (out.some((r) => r.site === site)) continue;
    out.push({ site, api: createVyosClient({ url, apiKeyEnv: DEFAULT_KEY_ENV }) });
  }
  return out;
}

async function readInventory(dirs: { aws?: string; azure?: string; gcp?: string; alibaba?: string }): Promise<CloudInventory> {
  return mergeInventories(
    await Promise.all([
      dirs.aws ? readAwsInventory(dirs.aws) : undefined,
      dirs.azure ? readAzureInventory(dirs.azure) : undefined,
      dirs.gcp ? readGcpInventory(dirs.gcp) : undefined,
      dirs.alibaba ? readAlibabaInventory(dirs.alibaba) : undefined,
    ]).then((parts) => parts.filter((p): p is CloudInventory => p !== undefined)),
  );
}

/** YAML as the example writes it: links, paths and routers one per line, a header saying where it came from. */
function toYaml(config: ProposedConfig, from: string): string {
  const doc = new Document(config);
  doc.commentBefore =
    ` Proposed by \`pathpilot discover\` ${from}.\n` +
    ' Sites and links are what the routers and cloud exports show; review prices (cost_per_gb,\n' +
    ' monthly_fixed_cost), capacities nothing reported, paths and classes before using it.';
  for (const key of ['links', 'paths']) {
    const seq = doc.get(key, true);
    if (isSeq(seq)) for (const item of seq.items) if (isMap(item)) item.flow = true;
  }
  const sites = doc.get('sites', true);
  if (isSeq(sites))
    for (const site of sites.items) {
      const router = isMap(site) ? site.get('router', true) : undefined;
      if (isMap(router)) router.flow = true;
    }
  return doc.toString({ lineWidth: 0 });
}

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommand(args, {
    name,
    usage,
    options: {
      config: { type: 'string', short: 'c' },
      router: { type: 'string', multiple: true, default: [] },
      aws: { type: 'string' },
      azure: { type: 'string' },
      gcp: { type: 'string' },
      alibaba: { type: 'string' },
      out: { type: 'string', short: 'o' },
      diff: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  if (isExit(parsed)) return parsed.exit;
  const { values } = parsed;
  const urls = parseRouterFlags(values.router);
  if (typeof urls === 'string') return usageError(name, urls).exit;
  const wantDiff = values.diff || values.json;
  if (wantDiff && !values.config) return usageError(name, '--diff and --json compare with a current config: give -c FILE').exit;
  if (!values.config && urls.size === 0) return usageError(name, 'no routers to read: give -c FILE or --router SITE=URL').exit;

  let routers: RouterToRead[] = [];
  try {
    const loaded = values.config ? loadConfig(values.config, process.env) : undefined;
    // The file as written (no environment overrides, no defaults): what the proposal keeps.
    const current: CurrentConfig | undefined =
      loaded && values.config
        ? { root: loaded.root, raw: parseConfigText(readFileSync(values.config, 'utf8'), values.config).data }
        : undefined;
    routers = routersToRead(loaded, urls);
    const [facts, inventory] = await Promise.all([readRouters(routers), readInventory(values)]);
    const proposal = proposeTopology({
      routers: facts,
      inventory,
      ...(current ? { current } : {}),
      defaultClasses: loadConfig(exampleConfigPath, {}).root.classes,
    });
    const notes = [...inventory.notes, ...proposal.notes];
    const text = toYaml(proposal.config, current ? `from ${values.config}` : 'from the routers alone');
    let invalid: string | undefined;
    try {
      loadConfigText(text, values.out ?? '<proposed>');
    } catch (err) {
      invalid = err instanceof ConfigError ? err.issues.join('\n  ') : errorMessage(err);
    }
    if (values.out && !invalid) await writeFile(values.out, text);

    if (wantDiff) {
      const diff = diffTopology(current!.root, proposal.config, proposal.droppedPaths);
      if (values.json)
        process.stdout.write(
          JSON.stringify({ ...diff, notes, ...(invalid ? { invalid } : {}), proposed: proposal.config }, null, 2) + '\n',
        );
      else {
        process.stdout.write(formatDiff(diff));
        for (const n of notes) process.stderr.write(`note: ${n}\n`);
      }
      if (invalid) process.stderr.write(`${name}: the proposed config does not validate:\n  ${invalid}\n`);
      return diff.equal && !invalid ? 0 : 1;
    }
    for (const n of notes) process.stderr.write(`note: ${n}\n`);
    if (invalid) {
      process.stderr.write(`${name}: the proposed config does not validate (not written):\n  ${invalid}\n`);
      return 1;
    }
    if (values.out) process.stderr.write(`proposed config written to ${values.out}\n`);
    else process.stdout.write(text);
    return 0;
  } catch (err) {
    process.stderr.write(`${name}: ${err instanceof ConfigError ? err.message : errorMessage(err)}\n`);
    return 1;
  } finally {
    await Promise.all(routers.map((r) => (r.api as { close?: () => Promise<void> }).close?.()));
  }
}
