/**
 * Ansible export: an inventory with one host per router and one playbook, `site.yml`, with one play per
 * router that applies that router's `set …` lines with `vyos.vyos.vyos_config` (network_cli over SSH).
 *
 * One play per router rather than one play over host variables: every line sits in the playbook, so
 * `ansible-playbook --syntax-check` and a review read the whole desired state in one file, and
 * `--limit ROUTER` still picks routers. vyos_config adds what is missing (`match: line` compares line by
 * line with the running config) and never deletes: config a router has beyond the export stays.
 */
import { Document, Scalar } from 'yaml';
import {
  endpointHost,
  redactedSecretKey,
  REDACTED_VALUE,
  type ExportFile,
  type RouterEndpoint,
  type RouterState,
} from './state.ts';

export const inventoryFile = 'inventory.yml';
export const playbookFile = 'site.yml';
/** The inventory group every router is in; its variables say how Ansible talks to VyOS. */
export const routerGroup = 'vyos';
/** The host variable (a map from config path to value) a redacted line reads its secret from. */
export const secretsVariable = 'vyos_secrets';

/**
 * A line as it goes into `lines:`. A redacted secret becomes a lookup in the host's `vyos_secrets`, so the
 * playbook is complete without holding it; a line with Jinja delimiters in a value (a description with
 * `{{`) is tagged `!unsafe` so Ansible sends it as it is instead of templating it.
 */
function playbookLine(line: string): string | Scalar {
  const secret = redactedSecretKey(line);
  if (secret !== undefined) {
    const head = line.trimEnd().slice(0, -REDACTED_VALUE.length);
    return `${head}'{{ ${secretsVariable}[${JSON.stringify(secret)}] }}'`;
  }
  if (!/\{\{|\{%|\{#/.test(line)) return line;
  const unsafe = new Scalar(line);
  unsafe.tag = '!unsafe';
  return unsafe;
}

const yamlText = (doc: Document): string => doc.toString({ lineWidth: 0 });

function inventory(states: readonly RouterState[], endpoints: ReadonlyMap<string, RouterEndpoint>): string {
  const hosts = Object.fromEntries(
    states.map((s) => {
      const host = endpointHost(endpoints.get(s.router)?.url ?? '');
      // Without an API URL (a lab site) the inventory name is the address Ansible tries.
      return [s.router, host ? { ansible_host: host } : {}];
    }),
  );
  const doc = new Document({
    all: {
      children: {
        [routerGroup]: {
          vars: { ansible_network_os: 'vyos.vyos.vyos', ansible_connection: 'ansible.netcommon.network_cli' },
          hosts,
        },
      },
    },
  });
  doc.commentBefore =
    ' pathpilot export ansible: one host per router, at the address of its API URL (pathpilot.yaml).\n' +
    ' network_cli logs in over SSH: set ansible_user and a key or ansible_password per host or group.';
  return yamlText(doc);
}

function playbook(states: readonly RouterState[]): string {
  const doc = new Document(
    states.map((s) => ({
      name: `${s.router}: desired config (pathpilot export)`,
      hosts: s.router,
      gather_facts: false,
      tasks: [
        {
          name: `Apply ${s.router}'s config lines`,
          'vyos.vyos.vyos_config': {
            lines: s.lines.map(playbookLine),
            match: 'line',
            save: true,
            comment: 'pathpilot export',
          },
        },
      ],
    })),
  );
  const secrets = states.some((s) => s.lines.some((l) => redactedSecretKey(l) !== undefined));
  doc.commentBefore =
    ` pathpilot export ansible: each router's config as set lines, applied with vyos.vyos.vyos_config.\n` +
    ` ansible-playbook -i ${inventoryFile} ${playbookFile} [--limit ROUTER] [--check --diff]` +
    (secrets
      ? `\n Secrets are not in this file: a line that sets one reads ${secretsVariable}["<config path>"] of its host\n` +
        ` (e.g. host_vars/<router>.yml encrypted with ansible-vault).`
      : '');
  return yamlText(doc);
}

export function renderAnsible(states: readonly RouterState[], endpoints: readonly RouterEndpoint[]): ExportFile[] {
  const byRouter = new Map(endpoints.map((e) => [e.router, e]));
  return [
    { path: inventoryFile, text: inventory(states, byRouter) },
    { path: playbookFile, text: playbook(states) },
  ];
}
