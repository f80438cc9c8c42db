import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../core/errors.ts';
import { parseSetFile, splitCommand } from './set-file.ts';

describe('set files', () => {
  it('splits words with quotes', () => {
    expect(splitCommand(`interfaces ethernet eth0 description 'LAN "x" y' "a b"`)).toEqual([
      'interfaces',
      'ethernet',
      'eth0',
      'description',
      'LAN "x" y',
      'a b',
    ]);
  });

  it('reads set lines into the showConfig shape, the schema telling path from value', () => {
    const config = parseSetFile(
      [
        '# onprem-nyc, desired',
        '',
        "set interfaces ethernet eth0 address '10.51.0.1/16'",
        'set interfaces ethernet eth0 address 10.51.0.2/16',
        "set interfaces ethernet eth0 description 'LAN New York'",
        "set protocols static route 10.50.0.0/16 next-hop 172.16.3.2 distance '10'",
        'set load-balancing wan disable-source-nat',
        '  set firewall ipv4 forward filter rule 10 action drop  ',
      ].join('\n'),
      '1.5',
    );
    expect(config).toEqual({
      interfaces: { ethernet: { eth0: { address: ['10.51.0.1/16', '10.51.0.2/16'], description: 'LAN New York' } } },
      protocols: { static: { route: { '10.50.0.0/16': { 'next-hop': { '172.16.3.2': { distance: '10' } } } } } },
      'load-balancing': { wan: { 'disable-source-nat': {} } },
      firewall: { ipv4: { forward: { filter: { rule: { '10': { action: 'drop' } } } } } },
    });
  });

  it('skips secret leaves (redacted or not) but keeps their node', () => {
    const config = parseSetFile(
      [
        "set interfaces wireguard wg1 private-key '[redacted]'",
        "set service https api keys id pathpilot key '[redacted]'",
        "set vpn ipsec authentication psk to-fra secret 'a-real-secret-in-a-file'",
      ].join('\n'),
      '1.4',
    );
    expect(config).toEqual({
      interfaces: { wireguard: { wg1: {} } },
      service: { https: { api: { keys: { id: { pathpilot: {} } } } } },
      vpn: { ipsec: { authentication: { psk: { 'to-fra': {} } } } },
    });
  });

  it('reads what lies beyond the schema by the quoting convention', () => {
    const config = parseSetFile(
      [
        "set system host-name 'nyc'",
        "set system name-server '192.0.2.53'",
        "set system name-server '192.0.2.54'",
        "set interfaces loopback lo address '10.255.0.1/32'",
        'set nat source rule 10 outbound-interface name eth1',
        "set system radius server 192.0.2.9 key 'shh'",
      ].join('\n'),
      '1.5',
    );
    expect(config).toEqual({
      system: { 'host-name': 'nyc', 'name-server': ['192.0.2.53', '192.0.2.54'], radius: { server: { '192.0.2.9': {} } } },
      interfaces: { loopback: { lo: { address: '10.255.0.1/32' } } },
      nat: { source: { rule: { '10': { 'outbound-interface': { name: { eth1: {} } } } } } },
    });
  });

  it('names the line of a value or a command it cannot read', () => {
    const bad = (text: string) => () => parseSetFile(text, '1.5');
    expect(bad("set system host-name 'a'\nset interfaces ethernet eth0 address 'not-an-address'")).toThrow(ValidationError);
    expect(bad("set system host-name 'a'\nset interfaces ethernet eth0 address 'not-an-address'")).toThrow(
      /^line 2: .*"not-an-address" is not a valid value of "address"/,
    );
    expect(bad("set interfaces ethernet eth0 description 'x' 'y'")).toThrow(/^line 1: .*words after the value/);
    expect(bad('delete system host-name')).toThrow(/^line 1: only "set" lines/);
    expect(bad('set')).toThrow(/^line 1: only "set" lines/);
  });
});
