/**
 * `pathpilot export ansible|terraform` against emulated routers (seeded as `npm start` seeds them, reached
 * over HTTP through a pathpilot.yaml naming their URLs), and the exported playbook checked by Ansible itself:
 * `ansible-playbook --syntax-check` (the pinned `ansible` package from PyPI, installed by the test into
 * .data/tools, scripts/services/ansible.ts) and the vyos_config arguments against the module's own
 * documentation (`ansible-doc`), which the syntax check does not look at. Broken playbooks must fail the
 * same check, so a pass means something.
 */
import { parseHcl } from '../../support/hcl.ts';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { run } from '../../../cli/commands/export.ts';
import { captureOutput } from '../../../cli/testing.ts';
import { writeRouterConfig } from '../../../actuator/pipeline/gitops.ts';
import { vyosClientForSite } from '../../../actuator/vyos/index.ts';
import { loadConfig } from '../../../core/config/index.ts';
import { Topology } from '../../../core/config/topology.ts';
import { createVyosLabForTopology, type VyosLab } from '../../../lab/vyos/index.ts';
import { ensureAnsible, type AnsibleTools } from '../../../scripts/services/ansible.ts';

const KEY_ENV = 'PATHPILOT_VYOS_KEY';
const KEY = 'export-functional-key-0123456789';
/** A LAN router and a cloud router with WireGuard private keys. */
const sites = ['onprem-nyc', 'aws-use1'];
/** What a value may hold (VyOS refuses quotes and newlines in one) that YAML, Jinja and HCL would read. */
const DESCRIPTION = 'uplink: to fra #2 {{ not_a_variable }} ${HOME}';
let ansible: AnsibleTools;
let lab: VyosLab;
let topology: Topology;
let work: string;
let config: string;
let savedKey: string | undefined;

beforeAll(async () => {
  ansible = await ensureAnsible({ say: (line) => process.stderr.write(`[export test] ${line}\n`) });
  topology = new Topology(loadConfig('pathpilot.example.yaml', {}).root);
  lab = await createVyosLabForTopology(topology, { apiKey: KEY, sites });
  savedKey = process.env[KEY_ENV];
  process.env[KEY_ENV] = KEY;
  const doc = parse(readFileSync('pathpilot.example.yaml', 'utf8')) as {
    sites: { id: string; router: Record<string, unknown> }[];
  };
  for (const site of doc.sites)
    if (lab.urls[site.id]) site.router = { ...site.router, api_url: lab.urls[site.id], api_key_env: KEY_ENV };
  work = mkdtempSync(join(tmpdir(), 'iac-export-'));
  config = join(work, 'pathpilot.yaml');
  writeFileSync(config, stringify(doc));
  // Quoted for YAML, never templated by Ansible or Terraform.
  lab.router('onprem-nyc').applyCommands([`set interfaces ethernet eth1 description '${DESCRIPTION}'`]);
}, 720_000);
afterAll(async () => {
  if (savedKey === undefined) delete process.env[KEY_ENV];
  else process.env[KEY_ENV] = savedKey;
  await lab?.stop();
});

/** Runs one of the installed Ansible programs in `cwd`: its exit code, stdout, and both for messages (never throws). */
function ansibleRun(program: string, args: string[], cwd: string): Promise<{ code: number; stdout: string; output: string }> {
  return new Promise((resolve) => {
    execFile(
      join(ansible.bin, program),
      args,
      { cwd, env: { ...process.env, ...ansible.env }, timeout: 120_000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) || 1 : 0, stdout, output: `${stdout}${stderr}` }),
    );
  });
}
const syntaxCheck = (dir: string, playbook = 'site.yml') =>
  ansibleRun('ansible-playbook', ['--syntax-check', '-i', 'inventory.yml', playbook], dir);

/** Ansible's `!unsafe` for the yaml parser here. */
const unsafeTag = { tag: '!unsafe', resolve: (s: string) => s };
type Play = { hosts: string; tasks: Record<string, Record<string, unknown>>[] };
const readPlays = (dir: string) => parse(readFileSync(join(dir, 'site.yml'), 'utf8'), { customTags: [unsafeTag] }) as Play[];

type ModuleOptions = Record<string, { type?: string; choices?: string[] }>;
let vyosConfigOptions: ModuleOptions | undefined;

/**
 * What is wrong with each play's vyos_config arguments by the module's own documentation (`ansible-doc
 * --json`): an unknown option, a value outside its choices, a value of another type.
 */
async function argumentProblems(plays: Play[], cwd: string): Promise<string[]> {
  if (!vyosConfigOptions) {
    const doc = await ansibleRun('ansible-doc', ['--json', 'vyos.vyos.vyos_config'], cwd);
    expect(doc.code, doc.output).toBe(0);
    vyosConfigOptions = (JSON.parse(doc.stdout) as Record<string, { doc: { options: ModuleOptions } }>)['vyos.vyos.vyos_config']!
      .doc.options;
  }
  const options = vyosConfigOptions;
  const typeOf: Record<string, (v: unknown) => boolean> = {
    list: Array.isArray,
    bool: (v) => typeof v === 'boolean',
    str: (v) => typeof v === 'string',
  };
  return plays.flatMap((play) =>
    Object.entries(play.tasks[0]!['vyos.vyos.vyos_config']!).flatMap(([arg, value]) => {
      const option = options[arg];
      if (!option) return [`${play.hosts}: vyos_config has no option ${arg}`];
      if (option.choices && !option.choices.includes(value as string))
        return [`${play.hosts}: ${arg} ${String(value)} is not one of ${option.choices.join(', ')}`];
      if (option.type && typeOf[option.type] && !typeOf[option.type]!(value))
        return [`${play.hosts}: ${arg} is no ${option.type}`];
      return [];
    }),
  );
}

async function exportTo(format: 'ansible' | 'terraform', out: string, ...more: string[]): Promise<string> {
  const c = captureOutput();
  const code = await run([format, '-c', config, '-o', out, '--routers', sites.join(','), ...more]);
  expect(code, c.err.join('')).toBe(0);
  return c.out.join('');
}

describe('pathpilot export on the lab routers', () => {
  it('writes an inventory and a playbook that pass ansible-playbook --syntax-check, with the module’s own arguments', async () => {
    const out = join(work, 'ansible');
    expect(await exportTo('ansible', out)).toMatch(
      /^2 router\(s\), \d+ config lines → .*inventory\.yml, .*site\.yml\n\d+ secret\(s\) left out/,
    );

    const inventory = parse(readFileSync(join(out, 'inventory.yml'), 'utf8')) as {
      all: { children: { vyos: { vars: Record<string, string>; hosts: Record<string, { ansible_host: string }> } } };
    };
    expect(Object.keys(inventory.all.children.vyos.hosts)).toEqual(sites);
    for (const s of sites) expect(inventory.all.children.vyos.hosts[s]!.ansible_host).toBe(new URL(lab.urls[s]!).hostname);

    const plays = readPlays(out);
    expect(plays.map((p) => p.hosts)).toEqual(sites);
    const lines = plays.map((p) => p.tasks[0]!['vyos.vyos.vyos_config']!.lines as string[]);
    expect(lines[0]).toContain(`set interfaces ethernet eth1 description '${DESCRIPTION}'`);
    expect(
      lines[1]!.some((l) =>
        /^set interfaces wireguard wg\d private-key '\{\{ vyos_secrets\["interfaces wireguard wg\d private-key"\] \}\}'$/.test(l),
      ),
    ).toBe(true);
    const text = readFileSync(join(out, 'site.yml'), 'utf8');
    // Neither the API key nor a WireGuard private key (44 characters of base64) is in the playbook.
    expect(text).not.toContain(KEY);
    expect(text).not.toMatch(/private-key '[A-Za-z0-9+/]{43}='/);
    expect(text).toMatch(/!unsafe "set interfaces ethernet eth1 description/);

    const check = await syntaxCheck(out);
    expect(check.code, check.output).toBe(0);
    expect(check.output).toContain('playbook: site.yml');

    // What --syntax-check leaves alone: every argument is an option of vyos_config, with a value it takes.
    expect(await argumentProblems(plays, out)).toEqual([]);
  });

  it('the same checks fail a broken playbook: a misspelled module, a bad play keyword, malformed YAML, bad arguments', async () => {
    const out = join(work, 'ansible');
    const good = readFileSync(join(out, 'site.yml'), 'utf8');
    const broken = {
      'module.yml': good.replace(/vyos\.vyos\.vyos_config:/g, 'vyos.vyos.vyos_confg:'),
      'keyword.yml': good.replace(/gather_facts:/g, 'gather_fact:'),
      'yaml.yml': good.replace('  hosts: onprem-nyc\n', '  hosts: [onprem-nyc\n'),
    };
    for (const [file, text] of Object.entries(broken)) {
      expect(text).not.toBe(good);
      writeFileSync(join(out, file), text);
      const check = await syntaxCheck(out, file);
      expect(check.code, `${file}: ${check.output}`).not.toBe(0);
    }
    // Arguments the syntax check lets through, which the module's documentation does not.
    const badArguments = good.replace(/match: line/g, 'match: exact').replace(/save: true/g, 'saved: true');
    writeFileSync(join(out, 'arguments.yml'), badArguments);
    expect((await syntaxCheck(out, 'arguments.yml')).code).toBe(0);
    const plays = parse(badArguments, { customTags: [unsafeTag] }) as Play[];
    expect(await argumentProblems(plays, out)).toEqual([
      'onprem-nyc: match exact is not one of line, none',
      'onprem-nyc: vyos_config has no option saved',
      'aws-use1: match exact is not one of line, none',
      'aws-use1: vyos_config has no option saved',
    ]);
  });

  it('writes Terraform that parses as HCL, one resource per router and top-level node, keys in variables', async () => {
    const out = join(work, 'terraform');
    await exportTo('terraform', out);
    const main = (await parseHcl('main.tf', readFileSync(join(out, 'main.tf'), 'utf8'))) as {
      resource: { vyos_config_block_tree: Record<string, { provider: string; path: string; configs: Record<string, string> }[]> };
    };
    const resources = main.resource.vyos_config_block_tree;
    // Every top-level node of each router's running config, and nothing else.
    for (const s of sites) {
      const nodes = Object.keys((await vyosClientForSite(topology.site(s), { url: lab.urls[s]!, apiKey: KEY }).showConfig([]))!);
      const mine = Object.entries(resources).filter(([, [r]]) => r!.provider === `\${vyos.${s}}`);
      expect(mine.map(([, [r]]) => r!.path).sort()).toEqual(nodes.sort());
    }
    // `${` escaped as `$${`, as Terraform's JSON syntax writes a literal (the braces of Jinja mean nothing to HCL).
    expect(resources['onprem-nyc_interfaces']![0]!.configs['ethernet eth1 description']).toBe(
      DESCRIPTION.replace('${', () => '$${'),
    );
    expect(resources['aws-use1_service']![0]!.configs['https api keys id pathpilot key']).toBe(
      '${var.vyos_secrets["aws-use1"]["service https api keys id pathpilot key"]}',
    );
    for (const f of ['providers.tf', 'variables.tf', 'main.tf']) expect(readFileSync(join(out, f), 'utf8')).not.toContain(KEY);
  });

  it('exports from the files the GitOps export writes (--from-dir) the same playbook as from the routers', async () => {
    const gitops = join(work, 'gitops');
    for (const s of sites) {
      const client = vyosClientForSite(topology.site(s), { url: lab.urls[s]!, apiKey: KEY });
      await writeRouterConfig(gitops, s, await client.show(['configuration', 'commands']));
    }
    const out = join(work, 'ansible-from-dir');
    await exportTo('ansible', out, '--from-dir', gitops);
    const lines = (dir: string) => readPlays(dir).map((p) => new Set(p.tasks[0]!['vyos.vyos.vyos_config']!.lines as string[]));
    expect(lines(out)).toEqual(lines(join(work, 'ansible')));
    const check = await syntaxCheck(out);
    expect(check.code, check.output).toBe(0);
  });
});
