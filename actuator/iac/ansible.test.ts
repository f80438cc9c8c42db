import { describe, expect, it } from 'vitest';
import { parse, parseDocument } from 'yaml';
import { renderAnsible } from './ansible.ts';
import type { ExportFile } from './state.ts';

const states = [
  {
    router: 'onprem-nyc',
    lines: [
      "set interfaces ethernet eth0 description 'LAN New York DC'",
      `set interfaces ethernet eth1 description 'say "hi": to fra #2'`,
      "set interfaces ethernet eth2 description '{{ not a template }}'",
      "set service https api keys id pathpilot key '[redacted]'",
      'set load-balancing wan disable-source-nat',
    ],
  },
  { router: 'aws-use1', lines: ["set system host-name 'aws-use1'"] },
  { router: 'lab-only', lines: [] },
];
const endpoints = [
  { router: 'onprem-nyc', url: 'https://10.51.0.1:8443' },
  { router: 'aws-use1', url: 'https://[2001:db8::1]' },
  { router: 'lab-only', url: '' },
];
const file = (files: ExportFile[], path: string) => files.find((f) => f.path === path)!.text;

interface Play {
  hosts: string;
  gather_facts: boolean;
  tasks: { 'vyos.vyos.vyos_config': { lines: string[]; match: string; save: boolean } }[];
}

describe('ansible export', () => {
  const files = renderAnsible(states, endpoints);

  it('has one inventory host per router, at its API URL host, in a group speaking network_cli to VyOS', () => {
    const inventory = parse(file(files, 'inventory.yml')) as {
      all: { children: { vyos: { vars: Record<string, string>; hosts: Record<string, Record<string, string>> } } };
    };
    const group = inventory.all.children.vyos;
    expect(group.vars).toEqual({
      ansible_network_os: 'vyos.vyos.vyos',
      ansible_connection: 'ansible.netcommon.network_cli',
    });
    expect(group.hosts).toEqual({
      'onprem-nyc': { ansible_host: '10.51.0.1' },
      'aws-use1': { ansible_host: '2001:db8::1' },
      'lab-only': {},
    });
  });

  it('applies each router’s lines in one play with vyos_config, every line read back exactly as exported', () => {
    const plays = parse(file(files, 'site.yml'), { customTags: [unsafeTag] }) as Play[];
    expect(plays.map((p) => p.hosts)).toEqual(['onprem-nyc', 'aws-use1', 'lab-only']);
    const task = plays[0]!.tasks[0]!['vyos.vyos.vyos_config'];
    expect(task).toMatchObject({ match: 'line', save: true });
    expect(task.lines.slice(0, 3)).toEqual(states[0]!.lines.slice(0, 3));
    expect(task.lines[4]).toBe('set load-balancing wan disable-source-nat');
    expect(plays[0]!.gather_facts).toBe(false);
  });

  it('leaves secrets out: a redacted line reads its value from the host’s vyos_secrets', () => {
    const text = file(files, 'site.yml');
    const plays = parse(text, { customTags: [unsafeTag] }) as Play[];
    expect(plays[0]!.tasks[0]!['vyos.vyos.vyos_config'].lines[3]).toBe(
      `set service https api keys id pathpilot key '{{ vyos_secrets["service https api keys id pathpilot key"] }}'`,
    );
    expect(text).not.toContain('[redacted]');
    expect(text).toContain('host_vars/<router>.yml');
  });

  it('tags a line with template delimiters !unsafe so Ansible does not expand it', () => {
    const doc = parseDocument(file(files, 'site.yml'), { customTags: [unsafeTag] });
    const lines = doc.getIn([0, 'tasks', 0, 'vyos.vyos.vyos_config', 'lines'], true) as { items: { tag?: string }[] };
    expect(lines.items.map((n) => n.tag ?? '')).toEqual(['', '', '!unsafe', '', '']);
  });
});

/** Ansible's `!unsafe` (a string never templated), known to the parser here so the test reads it back. */
const unsafeTag = { tag: '!unsafe', resolve: (s: string) => s };
