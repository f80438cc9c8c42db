import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isExit, parseCommand, runSubcommand, usageError } from '../args.ts';
import { renderAnsible } from '../../actuator/iac/ansible.ts';
import { statesFromDir, statesFromRouters } from '../../actuator/iac/source.ts';
import { redactedSecretKey, type ExportFile, type RouterEndpoint, type RouterState } from '../../actuator/iac/state.ts';
import { renderTerraform, vyosProvider } from '../../actuator/iac/terraform.ts';
import { siteClientsFromConfig } from '../../actuator/site-clients.ts';
import { loadConfig } from '../../core/config/index.ts';
import { Topology } from '../../core/config/topology.ts';
import { errorMessage } from '../../core/errors.ts';

export const summary = "IaC export: each router's desired config as an Ansible playbook (vyos.vyos) or Terraform (foltik/vyos)";

const usage = `usage: pathpilot export ansible [-c FILE] [-o DIR] [--from-routers | --from-dir DIR] [--routers a,b] [--include-secrets]
       pathpilot export terraform [-c FILE] [-o DIR] [--from-routers | --from-dir DIR] [--routers a,b] [--include-secrets]

Renders each site router's desired config, as \`set …\` lines, into infrastructure-as-code that applies it:
ansible: DIR/inventory.yml (one host per router, at its API URL's host, network_cli) and DIR/site.yml (one
play per router applying its lines with vyos.vyos.vyos_config, match: line, save: true). terraform:
DIR/providers.tf, variables.tf and main.tf for the ${vyosProvider.source} provider (${vyosProvider.version}), one
vyos_config_block_tree per router and top-level config node; API keys come from a sensitive variable.
Private keys, PSKs and API keys are redacted as in the GitOps export: each becomes a lookup in vyos_secrets
(an Ansible host variable, a sensitive Terraform variable), so the files hold no secret.

  -c, --config FILE     pathpilot.yaml (default ./pathpilot.yaml, else the bundled example): the routers and
                        their API URLs and keys
  -o, --out DIR         where the files are written (default ./iac-export)
  --from-routers        read each router's running config over its API (the default)
  --from-dir DIR        read DIR/<router>.conf files of \`set …\` lines instead (what actuator.gitops_dir holds)
  --routers a,b         only these routers (sites of the configuration)
  --include-secrets     write secrets as they are (files mode 600)

Exit status: 0 written, 1 a router or file could not be read (nothing is written), 2 usage errors.
`;

export const subcommands = ['ansible', 'terraform'] as const;
type Format = (typeof subcommands)[number];

const renderers: Record<Format, (states: RouterState[], endpoints: RouterEndpoint[]) => ExportFile[]> = {
  ansible: renderAnsible,
  terraform: renderTerraform,
};

async function exportAs(format: Format, args: string[]): Promise<number> {
  const name = `pathpilot export ${format}`;
  const parsed = parseCommand(args, {
    name,
    usage,
    options: {
      config: { type: 'string', short: 'c' },
      out: { type: 'string', short: 'o', default: 'iac-export' },
      'from-routers': { type: 'boolean', default: false },
      'from-dir': { type: 'string' },
      routers: { type: 'string' },
      'include-secrets': { type: 'boolean', default: false },
    },
  });
  if (isExit(parsed)) return parsed.exit;
  const { values } = parsed;
  const dir = values['from-dir'];
  if (dir !== undefined && values['from-routers'])
    return usageError(name, '--from-routers and --from-dir exclude each other').exit;
  const only = values.routers?.split(',').map((r) => r.trim());
  if (only?.some((r) => r === '')) return usageError(name, '--routers takes router names separated by commas').exit;
  const includeSecrets = values['include-secrets'];
  try {
    const config = loadConfig(values.config, process.env);
    const topology = new Topology(config.root);
    const unknown = (only ?? []).filter((r) => !topology.sites.has(r));
    if (unknown.length > 0) return usageError(name, `--routers: ${unknown.join(', ')} not a site of the configuration`).exit;
    let states: RouterState[];
    if (dir !== undefined) {
      states = await statesFromDir(dir, { includeSecrets }, only);
      // The files name the routers; the configuration says where each one is.
      const strangers = states.filter((s) => !topology.sites.has(s.router)).map((s) => `${s.router}.conf`);
      if (strangers.length > 0) throw new Error(`${dir}: ${strangers.join(', ')} name no site of the configuration`);
    } else {
      const ids = only ?? [...topology.sites.keys()];
      const noUrl = ids.filter((id) => !topology.site(id).router.api_url);
      if (noUrl.length > 0)
        throw new Error(
          `router.api_url is empty for ${noUrl.join(', ')}: set it in the configuration, or export files with --from-dir`,
        );
      // The keys the actuator rotated (actuator.router_keys.store), else each site's api_key_env.
      const { routerFor } = siteClientsFromConfig(config, process.env, { topology });
      const routers = ids.map((id) => ({
        name: id,
        // The client is made on first use, so a missing key fails that router's read, reported with the others.
        api: { showConfig: (path?: string[]) => routerFor(id).showConfig(path) },
      }));
      states = await statesFromRouters(routers, { includeSecrets });
    }
    const endpoints = states.map((s) => ({ router: s.router, url: topology.site(s.router).router.api_url }));
    const files = renderers[format](states, endpoints);
    await mkdir(values.out, { recursive: true });
    for (const f of files) {
      const file = join(values.out, f.path);
      await writeFile(file, f.text, includeSecrets ? { mode: 0o600 } : {});
      // writeFile's mode applies to new files only: an earlier export's file is narrowed too.
      if (includeSecrets) await chmod(file, 0o600);
    }
    const lines = states.reduce((n, s) => n + s.lines.length, 0);
    const secrets = states.reduce((n, s) => n + s.lines.filter((l) => redactedSecretKey(l) !== undefined).length, 0);
    process.stdout.write(
      `${states.length} router(s), ${lines} config lines → ${files.map((f) => join(values.out, f.path)).join(', ')}\n` +
        (includeSecrets
          ? 'secrets included: keep these files private\n'
          : secrets > 0
            ? `${secrets} secret(s) left out: supply them as vyos_secrets (see the files' comments)\n`
            : ''),
    );
    return 0;
  } catch (err) {
    process.stderr.write(`${name}: ${errorMessage(err)}\n`);
    return 1;
  }
}

export function run(args: string[]): Promise<number> {
  return runSubcommand(args, {
    name: 'pathpilot export',
    usage,
    subcommands: { ansible: (a) => exportAs('ansible', a), terraform: (a) => exportAs('terraform', a) },
  });
}
