import { describe, expect, it } from 'vitest';
import { labWireguardPrivateKey } from '../../lab/vyos/seed.ts';
import { wireguardPublicKey } from '../../core/wireguard-keys.ts';
import { bgpSessions, configFacts, interfaceStates } from './router-facts.ts';
import { configJson, ipsecPeerLines } from './testing.ts';

describe('configFacts', () => {
  const key = labWireguardPrivateKey('x', 'wg0');
  const facts = configFacts(
    configJson([
      "set interfaces ethernet eth0 address '10.1.0.1/24'",
      "set interfaces ethernet eth1 vif 101 address '169.254.9.1/30'",
      "set interfaces ethernet eth1 vif 101 description 'DX to us-east-1'",
      "set interfaces ethernet eth2 address 'dhcp'",
      'set interfaces ethernet eth2 disable',
      "set interfaces wireguard wg0 address '172.18.0.1/31'",
      `set interfaces wireguard wg0 private-key '${key}'`,
      "set interfaces wireguard wg0 port '51820'",
      "set interfaces wireguard wg0 peer far public-key 'pBxiRG1eZJQubnFhATZkHRlYjguWANnwvrAAHUEqb3o='",
      "set interfaces wireguard wg0 peer far address '203.0.113.7'",
      "set interfaces wireguard wg0 peer far port '51820'",
      "set interfaces wireguard wg0 peer far allowed-ips '10.2.0.0/16'",
      "set interfaces vti vti1 address '172.16.9.1/30'",
      ...ipsecPeerLines('dc2', '198.51.100.10', '198.51.100.20', 'vti1'),
      "set protocols bgp system-as '65010'",
      "set protocols bgp neighbor 169.254.9.2 remote-as '64512'",
      'set protocols static route 10.1.128.0/17 next-hop 10.1.0.254',
    ]),
  );

  it('lists interfaces with their addresses, VLAN sub-interfaces as eth1.101, and which are disabled', () => {
    const byName = new Map(facts.interfaces.map((i) => [i.name, i]));
    expect(byName.get('eth0')).toMatchObject({ type: 'ethernet', addresses: ['10.1.0.1/24'], disabled: false });
    expect(byName.get('eth1.101')).toMatchObject({
      type: 'ethernet',
      addresses: ['169.254.9.1/30'],
      description: 'DX to us-east-1',
    });
    // dhcp is not an address discovery can match.
    expect(byName.get('eth2')).toMatchObject({ addresses: [], disabled: true });
    expect(byName.get('vti1')).toMatchObject({ type: 'vti', addresses: ['172.16.9.1/30'] });
  });

  it('derives each WireGuard interface public key and reads its peers', () => {
    expect(facts.wireguard).toEqual([
      {
        interface: 'wg0',
        publicKey: wireguardPublicKey(key),
        peers: [
          {
            name: 'far',
            publicKey: 'pBxiRG1eZJQubnFhATZkHRlYjguWANnwvrAAHUEqb3o=',
            endpoint: '203.0.113.7',
            allowedIps: ['10.2.0.0/16'],
            disabled: false,
          },
        ],
      },
    ]);
  });

  it('reads IPsec peers with the VTI they bind, BGP neighbors and static routes', () => {
    expect(facts.ipsec).toEqual([
      { name: 'dc2', localAddress: '198.51.100.10', remoteAddresses: ['198.51.100.20'], vti: 'vti1', disabled: false },
    ]);
    expect(facts.bgp).toEqual({ localAs: '65010', neighbors: [{ address: '169.254.9.2', remoteAs: '64512' }] });
    expect(facts.staticRoutes).toEqual([{ prefix: '10.1.128.0/17', nextHops: ['10.1.0.254'] }]);
  });
});

describe('op-mode output', () => {
  it('interfaceStates reads the S/L column of show interfaces, skipping extra-address lines', () => {
    const text = [
      'Codes: S - State, L - Link, u - Up, D - Down, A - Admin Down',
      'Interface    IP Address           S/L    Description',
      '-----------  -------------------  -----  -------------',
      'eth0         10.50.0.1/16         u/u    LAN Frankfurt DC',
      '             10.50.1.1/24',
      'eth1         169.254.20.1/30      A/D',
      'vti2         172.16.2.1/30        u/D    ipsec',
    ].join('\n');
    expect([...interfaceStates(text)]).toEqual([
      ['eth0', 'u/u'],
      ['eth1', 'A/D'],
      ['vti2', 'u/D'],
    ]);
  });

  it('bgpSessions tells established sessions (with prefixes received) from the others', () => {
    const text = [
      'IPv4 Unicast Summary (VRF default):',
      'BGP router identifier 169.254.10.1, local AS number 65051 vrf-id 0',
      '',
      'Neighbor        V         AS   MsgRcvd   MsgSent   TblVer  InQ OutQ  Up/Down State/PfxRcd   PfxSnt Desc',
      '169.254.10.2    4      64512         0         0        0    0    0    never            3        0 N/A',
      '169.254.20.2    4      64513         0         0        0    0    0    never       Active        0 N/A',
      '169.254.30.2    4      12076         0         0        0    0    0    never Idle (Admin)        0 N/A',
      '',
      'Total number of neighbors 3',
    ].join('\n');
    expect(Object.fromEntries(bgpSessions(text))).toEqual({
      '169.254.10.2': { established: true, state: 'Established', received: 3 },
      '169.254.20.2': { established: false, state: 'Active' },
      '169.254.30.2': { established: false, state: 'Idle (Admin)' },
    });
  });
});
