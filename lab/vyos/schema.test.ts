import { describe, expect, it } from 'vitest';
import { resolvePath, schemaFor } from './schema.ts';
import {
  ConfigNode,
  applyDelete,
  applySet,
  dictToPaths,
  parseConfigText,
  renderBoot,
  renderCommands,
  renderJson,
} from './tree.ts';
import { VyosConfigError } from './types.ts';

const s14 = schemaFor('1.4');
const s15 = schemaFor('1.5');

function set(root: ConfigNode, line: string, schema = s14): void {
  applySet(root, resolvePath(schema, line.split(' '), 'Set'));
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof VyosConfigError) return err.message;
    throw err;
  }
  throw new Error('expected a VyosConfigError');
}

describe('path resolution', () => {
  it('ORs regex and validators: dhcp or a host address', () => {
    expect(() => resolvePath(s14, ['interfaces', 'ethernet', 'eth0', 'address', 'dhcp'], 'Set')).not.toThrow();
    expect(() => resolvePath(s14, ['interfaces', 'ethernet', 'eth0', 'address', '10.1.1.1/24'], 'Set')).not.toThrow();
    expect(errorOf(() => resolvePath(s14, ['interfaces', 'ethernet', 'eth0', 'address', 'bogus'], 'Set'))).toBe(
      'Invalid value\nValue validation failed\nSet failed\n',
    );
  });

  it('uses the constraint error message of the node', () => {
    expect(
      errorOf(() => resolvePath(s14, ['load-balancing', 'wan', 'rule', '10', 'interface', 'eth1', 'weight', '300'], 'Set')),
    ).toBe('Weight must be between 1 and 255\nValue validation failed\nSet failed\n');
  });

  it('needs a value for value leaves and tag nodes, refuses one on valueless leaves', () => {
    expect(errorOf(() => resolvePath(s14, ['protocols', 'static', 'route'], 'Set'))).toBe(
      'Configuration path: [protocols static route] requires a value\nSet failed\n',
    );
    expect(errorOf(() => resolvePath(s14, ['protocols', 'bgp', 'system-as'], 'Set'))).toMatch(/requires a value/);
    expect(errorOf(() => resolvePath(s14, ['load-balancing', 'wan', 'disable-source-nat', 'yes'], 'Set'))).toMatch(
      /is not valid/,
    );
  });

  it('follows the version: api rest only in 1.5, api strict only in 1.4, v14 overrides', () => {
    expect(() => resolvePath(s15, ['service', 'https', 'api', 'rest', 'strict'], 'Set')).not.toThrow();
    expect(errorOf(() => resolvePath(s14, ['service', 'https', 'api', 'rest'], 'Set'))).toMatch(/is not valid/);
    expect(errorOf(() => resolvePath(s15, ['service', 'https', 'api', 'strict'], 'Set'))).toMatch(/is not valid/);
    // policy route limit rate: an integer in 1.4, "N/unit" in 1.5.
    const path = ['policy', 'route', 'PR', 'rule', '10', 'limit', 'rate'];
    expect(() => resolvePath(s14, [...path, '100'], 'Set')).not.toThrow();
    expect(() => resolvePath(s15, [...path, '100/second'], 'Set')).not.toThrow();
    expect(() => resolvePath(s14, [...path, '100/second'], 'Set')).toThrow(VyosConfigError);
  });

  it('words the refusals of vyatta: characters, whitespace in tag values, values after a leaf value', () => {
    expect(errorOf(() => resolvePath(s14, ['interfaces', 'ethernet', 'eth0', 'description', 'say "hi"'], 'Set'))).toBe(
      'Cannot use the double quote (") character in a value string\nSet failed\n',
    );
    expect(errorOf(() => resolvePath(s15, ['interfaces', 'ethernet', 'eth0', 'description', "it's"], 'Set'))).toBe(
      "Cannot use the single quote (') character in a value string\nSet failed\n",
    );
    expect(errorOf(() => resolvePath(s14, ['interfaces', 'ethernet', 'eth0', 'description', 'a\nb'], 'Set'))).toBe(
      'Cannot use newline character in a value string\nSet failed\n',
    );
    expect(errorOf(() => resolvePath(s14, ['qos', 'policy', 'shaper', 'PP x'], 'Set'))).toBe(
      'Tag node value name must not contain whitespace\nSet failed\n',
    );
    expect(errorOf(() => resolvePath(s14, ['interfaces', 'ethernet', 'eth0', 'mtu', '1500', 'x'], 'Set'))).toBe(
      'Configuration path: [interfaces ethernet eth0 mtu 1500 x] is not valid\nSet failed\n',
    );
    expect(errorOf(() => resolvePath(s14, [], 'Delete'))).toBe('Configuration path: [] is not valid\nDelete failed\n');
  });

  it('does not validate values on delete, but the path must exist in the schema', () => {
    expect(() => resolvePath(s14, ['protocols', 'static', 'route', 'anything'], 'Delete')).not.toThrow();
    expect(errorOf(() => resolvePath(s14, ['protocols', 'nope'], 'Delete'))).toBe(
      'Configuration path: [protocols nope] is not valid\nDelete failed\n',
    );
  });
});

describe('config tree', () => {
  it('renders JSON like vyos1x-config, sorting tag values naturally', () => {
    const root = new ConfigNode();
    set(root, 'load-balancing wan rule 100 inbound-interface eth0');
    set(root, 'load-balancing wan rule 20 inbound-interface eth0');
    set(root, 'load-balancing wan disable-source-nat');
    set(root, 'interfaces wireguard wg0 address 10.0.0.1/30');
    set(root, 'interfaces wireguard wg0 address 10.0.1.1/30');
    const json = renderJson(root);
    expect(Object.keys((json['load-balancing'] as Record<string, Record<string, object>>).wan!.rule!)).toEqual(['20', '100']);
    expect(json).toMatchObject({
      'load-balancing': { wan: { 'disable-source-nat': {} } },
      interfaces: { wireguard: { wg0: { address: ['10.0.0.1/30', '10.0.1.1/30'] } } },
    });
  });

  it('prunes empty tag nodes and parents on delete, keeps siblings', () => {
    const root = new ConfigNode();
    set(root, 'protocols static route 10.0.0.0/8 blackhole');
    set(root, 'protocols static table 10 description x');
    expect(applyDelete(root, resolvePath(s14, 'protocols static route 10.0.0.0/8'.split(' '), 'Delete'))).toBe(true);
    expect(renderJson(root)).toEqual({ protocols: { static: { table: { '10': { description: 'x' } } } } });
    expect(applyDelete(root, resolvePath(s14, 'protocols static table 10'.split(' '), 'Delete'))).toBe(true);
    expect(renderJson(root)).toEqual({});
    expect(applyDelete(root, resolvePath(s14, 'protocols static table 10'.split(' '), 'Delete'))).toBe(false);
  });

  it('round-trips config.boot text and set commands', () => {
    const root = new ConfigNode();
    for (const l of [
      'interfaces wireguard wg0 address 10.0.0.1/30',
      'interfaces wireguard wg0 description tunnel',
      'interfaces wireguard wg0 peer p1 allowed-ips 10.1.0.0/16',
      'interfaces wireguard wg0 peer p1 allowed-ips 10.2.0.0/16',
      'load-balancing wan sticky-connections inbound',
      'qos policy shaper WAN default bandwidth 50%',
    ])
      set(root, l);
    const back = new ConfigNode();
    for (const p of parseConfigText(renderBoot(root))) applySet(back, resolvePath(s14, p, 'Set'));
    expect(renderJson(back)).toEqual(renderJson(root));
    const again = new ConfigNode();
    for (const p of parseConfigText(renderCommands(root).join('\n'))) applySet(again, resolvePath(s14, p, 'Set'));
    expect(renderJson(again)).toEqual(renderJson(root));
    expect(() => parseConfigText('interfaces {\n  ethernet eth0 {\n')).toThrow(/unbalanced/);
  });

  it('turns a configure-section dict into set paths', () => {
    expect(dictToPaths({ a: 'x', b: ['1', '2'], c: {}, d: { e: 'y' } }, ['root'])).toEqual([
      ['root', 'a', 'x'],
      ['root', 'b', '1'],
      ['root', 'b', '2'],
      ['root', 'c'],
      ['root', 'd', 'e', 'y'],
    ]);
    expect(() => dictToPaths({ a: 1 }, [])).toThrow(/must be a string/);
  });
});
