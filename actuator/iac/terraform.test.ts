import { parseHcl as parse } from '../../test/support/hcl.ts';
import { describe, expect, it } from 'vitest';
import type { ExportFile } from './state.ts';
import { hclIdentifier, hclString, renderTerraform } from './terraform.ts';

/**
 * The rendered HCL is parsed by HashiCorp's own HCL library (compiled to wasm, @cdktn/hcl2json) into
 * Terraform's JSON syntax, and the resources, providers and variables are checked there.
 */
const states = [
  {
    router: 'onprem-nyc',
    lines: [
      "set interfaces ethernet eth0 address '10.51.0.1/16'",
      `set interfaces ethernet eth2 description 'say "hi" \${var.x} %{if} \\n'`,
      "set interfaces wireguard wg1 private-key '[redacted]'",
      "set system name-server '1.1.1.1'",
      "set system name-server '8.8.8.8'",
      'set load-balancing wan disable-source-nat',
    ],
  },
  { router: 'lab.2', lines: ["set system host-name 'lab-2'"] },
];
const endpoints = [
  { router: 'onprem-nyc', url: 'https://10.51.0.1' },
  { router: 'lab.2', url: '' },
];

type Json = Record<string, unknown>;
async function parsed(files: ExportFile[]): Promise<Record<string, Json>> {
  const out: Record<string, Json> = {};
  for (const f of files) out[f.path] = (await parse(f.path, f.text)) as Json;
  return out;
}

describe('terraform export', () => {
  it('parses as HCL into one vyos_config_block_tree per router and top-level node, each on its router’s provider', async () => {
    const tf = await parsed(renderTerraform(states, endpoints));
    const resources = (tf['main.tf']!.resource as Record<string, Record<string, Json[]>>).vyos_config_block_tree!;
    // (The parser's JSON has its keys sorted.)
    expect(Object.keys(resources).sort()).toEqual([
      'lab_2_system',
      'onprem-nyc_interfaces',
      'onprem-nyc_load-balancing',
      'onprem-nyc_system',
    ]);
    expect(resources['onprem-nyc_interfaces']![0]).toEqual({
      provider: '${vyos.onprem-nyc}',
      path: 'interfaces',
      configs: {
        'ethernet eth0 address': '10.51.0.1/16',
        // Terraform's JSON syntax keeps the escapes: the value is the literal text, never a template.
        'ethernet eth2 description': 'say "hi" $${var.x} %%{if} \\n',
        'wireguard wg1 private-key': '${var.vyos_secrets["onprem-nyc"]["interfaces wireguard wg1 private-key"]}',
      },
    });
    expect(resources['onprem-nyc_system']![0]!.configs).toEqual({ 'name-server': '${jsonencode(["1.1.1.1", "8.8.8.8"])}' });
    expect(resources['onprem-nyc_load-balancing']![0]!.configs).toEqual({ 'wan disable-source-nat': '' });
    expect(resources['lab_2_system']![0]).toMatchObject({ provider: '${vyos.lab_2}', configs: { 'host-name': 'lab-2' } });

    const providers = tf['providers.tf']!;
    expect(providers.terraform).toEqual([
      { required_version: '>= 1.3', required_providers: [{ vyos: { source: 'foltik/vyos', version: '~> 0.3.4' } }] },
    ]);
    expect((providers.provider as { vyos: Json[] }).vyos).toEqual([
      { alias: 'onprem-nyc', url: '${var.vyos_api_urls["onprem-nyc"]}', key: '${var.vyos_api_keys["onprem-nyc"]}', save: true },
      { alias: 'lab_2', url: '${var.vyos_api_urls["lab.2"]}', key: '${var.vyos_api_keys["lab.2"]}', save: true },
    ]);
  });

  it('keeps every key and secret out of the files: they are sensitive variables', async () => {
    const files = renderTerraform(states, endpoints);
    const variables = (await parsed(files))['variables.tf']!.variable as Record<string, Json[]>;
    expect(variables.vyos_api_keys![0]).toMatchObject({ sensitive: true, type: '${map(string)}' });
    expect(variables.vyos_api_keys![0]).not.toHaveProperty('default');
    expect(variables.vyos_secrets![0]).toMatchObject({ sensitive: true, type: '${map(map(string))}' });
    expect(variables.vyos_api_urls![0]!.default).toEqual({ 'onprem-nyc': 'https://10.51.0.1', 'lab.2': '' });
    for (const f of files) expect(f.text).not.toContain('[redacted]');
    // Without a redacted line there is no secrets variable to fill.
    const plain = (await parsed(renderTerraform([states[1]!], endpoints)))['variables.tf']!.variable as Json;
    expect(Object.keys(plain).sort()).toEqual(['vyos_api_keys', 'vyos_api_urls']);
  });

  it('quotes strings and names as HCL reads them, and refuses routers whose names collide', () => {
    expect(hclString('a "b" \\ ${c} %{d}\n')).toBe('"a \\"b\\" \\\\ $${c} %%{d}\\n"');
    expect(hclIdentifier('7th.site')).toBe('_7th_site');
    expect(() =>
      renderTerraform(
        [
          { router: 'a.b', lines: [] },
          { router: 'a_b', lines: [] },
        ],
        [],
      ),
    ).toThrow('routers a.b and a_b would share the provider alias a_b');
  });
});
