/**
 * Terraform export for the `foltik/vyos` provider (docs/notes/iac.md says why that one): one provider
 * configuration per router (an alias named after it) and one `vyos_config_block_tree` per router and
 * top-level config node (`interfaces`, `protocols`, `service`, …), whose `configs` map holds every leaf
 * under it as `"<path below the node>" = "<value>"` (`""` for a valueless leaf, `jsonencode([...])` for a
 * multi-value one), the shape the provider reads back from `/retrieve`, so a plan shows drift.
 *
 * No secret is written: API keys come from a sensitive variable, and so does each redacted secret.
 */
import { parseSetLine } from '../vyos/diff.ts';
import { redactedSecretKey, type ExportFile, type RouterEndpoint, type RouterState } from './state.ts';

export const providersFile = 'providers.tf';
export const variablesFile = 'variables.tf';
export const mainFile = 'main.tf';

/** The provider and the releases the rendered schema (`vyos_config_block_tree`, `url`/`key`/`save`) is for. */
export const vyosProvider = { source: 'foltik/vyos', version: '~> 0.3.4' } as const;
export const configResource = 'vyos_config_block_tree';
export const urlsVariable = 'vyos_api_urls';
export const keysVariable = 'vyos_api_keys';
export const secretsVariable = 'vyos_secrets';

/** A quoted HCL string: escapes, and `${`/`%{` doubled so a value is never read as a template. */
export function hclString(s: string): string {
  const escaped = s
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t')
    .replace(/\$\{/g, () => '$${')
    .replace(/%\{/g, () => '%%{');
  return `"${escaped}"`;
}

/** An HCL identifier for a name (router ids may hold `.`; an identifier starts with a letter or `_`). */
export function hclIdentifier(name: string): string {
  const id = name.replace(/[^A-Za-z0-9_-]/g, '_');
  return /^[A-Za-z_]/.test(id) ? id : `_${id}`;
}

/** The leaves under one top-level node, in first-seen order: one value, several, or a secret's reference. */
type Leaf = { kind: 'values'; values: string[] } | { kind: 'secret'; key: string };

interface Block {
  node: string;
  leaves: Map<string, Leaf>;
}

function blocksOf(state: RouterState): Block[] {
  const blocks = new Map<string, Block>();
  for (const line of state.lines) {
    const parsed = parseSetLine(line);
    if (!parsed) throw new Error(`${state.router}: not a \`set …\` line: ${line.slice(0, 80)}`);
    const [node, ...below] = parsed.path;
    let block = blocks.get(node!);
    if (!block) blocks.set(node!, (block = { node: node!, leaves: new Map() }));
    if (below.length === 0) continue; // `set service`: the node alone, an empty `configs`
    const key = below.join(' ');
    const secret = redactedSecretKey(line);
    const leaf = block.leaves.get(key);
    if (secret !== undefined) block.leaves.set(key, { kind: 'secret', key: secret });
    else if (leaf?.kind === 'values') {
      if (parsed.value !== undefined && !leaf.values.includes(parsed.value)) leaf.values.push(parsed.value);
    } else block.leaves.set(key, { kind: 'values', values: parsed.value === undefined ? [] : [parsed.value] });
  }
  return [...blocks.values()];
}

function leafExpression(router: string, leaf: Leaf): string {
  if (leaf.kind === 'secret') return `var.${secretsVariable}[${hclString(router)}][${hclString(leaf.key)}]`;
  if (leaf.values.length === 0) return '""';
  if (leaf.values.length === 1) return hclString(leaf.values[0]!);
  return `jsonencode([${leaf.values.map(hclString).join(', ')}])`;
}

function resourceBlock(router: string, block: Block): string {
  const configs = [...block.leaves].map(([key, leaf]) => `    ${hclString(key)} = ${leafExpression(router, leaf)}\n`);
  return (
    `resource "${configResource}" "${hclIdentifier(`${router}_${block.node}`)}" {\n` +
    `  provider = vyos.${hclIdentifier(router)}\n` +
    `  path     = ${hclString(block.node)}\n` +
    `  configs = {\n${configs.join('')}  }\n}\n`
  );
}

function providers(states: readonly RouterState[]): string {
  const aliases = states.map(
    (s) =>
      `provider "vyos" {\n` +
      `  alias = ${hclString(hclIdentifier(s.router))}\n` +
      `  url   = var.${urlsVariable}[${hclString(s.router)}]\n` +
      `  key   = var.${keysVariable}[${hclString(s.router)}]\n` +
      `  save  = true\n}\n`,
  );
  return (
    `# pathpilot export terraform: the VyOS provider, one configuration per router.\n` +
    `terraform {\n  required_version = ">= 1.3"\n  required_providers {\n    vyos = {\n` +
    `      source  = ${hclString(vyosProvider.source)}\n      version = ${hclString(vyosProvider.version)}\n    }\n  }\n}\n\n` +
    aliases.join('\n')
  );
}

function variables(states: readonly RouterState[], endpoints: ReadonlyMap<string, RouterEndpoint>): string {
  const urls = states.map((s) => `    ${hclString(s.router)} = ${hclString(endpoints.get(s.router)?.url ?? '')}\n`);
  const anySecret = states.some((s) => s.lines.some((l) => redactedSecretKey(l) !== undefined));
  return (
    `variable "${urlsVariable}" {\n` +
    `  description = "Each router's VyOS HTTP API URL, by router (router.api_url in pathpilot.yaml; empty: fill it in)"\n` +
    `  type        = map(string)\n  default = {\n${urls.join('')}  }\n}\n\n` +
    `variable "${keysVariable}" {\n` +
    `  description = "Each router's VyOS HTTP API key, by router (a .tfvars file kept out of the repository, or TF_VAR_${keysVariable})"\n` +
    `  type        = map(string)\n  sensitive   = true\n}\n` +
    (anySecret
      ? `\nvariable "${secretsVariable}" {\n` +
        `  description = "The secrets the export left out (private keys, PSKs, API keys): by router, then by config path"\n` +
        `  type        = map(map(string))\n  sensitive   = true\n}\n`
      : '')
  );
}

function main(states: readonly RouterState[]): string {
  const resources = states.flatMap((s) => blocksOf(s).map((b) => resourceBlock(s.router, b)));
  return (
    `# pathpilot export terraform: one ${configResource} per router and top-level config node.\n` +
    `# Each owns its subtree: a plan shows what a router has there beyond these configs, and an apply removes it.\n\n` +
    resources.join('\n')
  );
}

export function renderTerraform(states: readonly RouterState[], endpoints: readonly RouterEndpoint[]): ExportFile[] {
  const seen = new Map<string, string>();
  for (const s of states) {
    const id = hclIdentifier(s.router);
    const other = seen.get(id);
    if (other !== undefined) throw new Error(`routers ${other} and ${s.router} would share the provider alias ${id}`);
    seen.set(id, s.router);
  }
  const byRouter = new Map(endpoints.map((e) => [e.router, e]));
  return [
    { path: providersFile, text: providers(states) },
    { path: variablesFile, text: variables(states, byRouter) },
    { path: mainFile, text: main(states) },
  ];
}
