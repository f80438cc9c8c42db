import { describe, expect, it } from 'vitest';
import { labWireguardPrivateKey } from '../../lab/vyos/seed.ts';
import { wireguardPublicKey } from '../../core/wireguard-keys.ts';
import { inferLinks, transportOf, type InferredLink } from './links.ts';
import { configFacts, type RouterFacts } from './router-facts.ts';
import { configJson, exampleRoot, exampleRouterFacts, ipsecPeerLines } from './testing.ts';

const router = (site: string, lines: string[]): RouterFacts => ({
  site,
  url: `http://${site}.invalid`,
  version: '1.4',
  ...configFacts(configJson(lines)),
});
/** The lab names interfaces by kind: eth for circuits, vti for IPsec, wg for WireGuard. */
const transportByName: Record<string, string> = {
  eth: transportOf('ethernet'),
  vti: transportOf('vti'),
  wg: transportOf('wireguard'),
};
const ends = (l: InferredLink) => `${l.a.site}:${l.a.interface}~${l.b.site}:${l.b.interface}`;

describe('inferLinks on the lab routers of the example topology', () => {
  it('finds every link of the example, between the same interfaces, with the addresses of both ends', async () => {
    const root = exampleRoot();
    const { links, unmatched, notes } = inferLinks(await exampleRouterFacts(root));
    const key = (x: { site: string; interface: string }, y: { site: string; interface: string }) =>
      [`${x.site}:${x.interface}`, `${y.site}:${y.interface}`].sort().join('~');
    expect(links.map((l) => key(l.a, l.b)).sort()).toEqual(root.links.map((l) => key(l.a, l.b)).sort());
    for (const l of root.links) {
      const found = links.find((f) => key(f.a, f.b) === key(l.a, l.b))!;
      const far = found.a.site === l.a.site ? found : { a: found.b, b: found.a };
      expect([far.a.address, far.b.address]).toEqual([l.a.address, l.b.address]);
      expect(found.transport).toBe(transportByName[l.a.interface.replace(/\d+$/, '')]);
      expect(found.down).toBe(false);
    }
    // WireGuard links are found twice over: the shared /30 and the peer keys.
    const wg = links.find((l) => l.transport === 'wireguard')!;
    expect(wg.evidence.some((e) => e.startsWith('shared subnet'))).toBe(true);
    expect(wg.evidence.some((e) => e.startsWith('WireGuard peer'))).toBe(true);
    expect(unmatched).toEqual([]);
    expect(notes).toEqual([]);
  });

  it('a tunnel removed on one router takes its link away and leaves the other end unmatched', async () => {
    const facts = await exampleRouterFacts(exampleRoot(), { 'aws-use1': ['delete interfaces wireguard wg1'] });
    const { links, unmatched } = inferLinks(facts);
    expect(links.some((l) => ends(l).includes('aws-use1:wg1'))).toBe(false);
    expect(unmatched).toEqual([{ site: 'aws-euc1', interface: 'wg1', addresses: ['172.17.1.2/30'] }]);
  });
});

describe('inferLinks rules', () => {
  it('matches WireGuard peers by public key even without a shared subnet', () => {
    const ka = labWireguardPrivateKey('a', 'wg0');
    const kb = labWireguardPrivateKey('b', 'wg0');
    const wg = (own: string, peerKey: string, addr: string) => [
      `set interfaces wireguard wg0 address '${addr}'`,
      `set interfaces wireguard wg0 private-key '${own}'`,
      `set interfaces wireguard wg0 peer other public-key '${wireguardPublicKey(peerKey)}'`,
      "set interfaces wireguard wg0 peer other allowed-ips '0.0.0.0/0'",
    ];
    const { links } = inferLinks([router('a', wg(ka, kb, '10.99.0.1/32')), router('b', wg(kb, ka, '10.99.0.2/32'))]);
    expect(links).toHaveLength(1);
    expect(links[0]).toMatchObject({
      a: { site: 'a', interface: 'wg0', address: '10.99.0.1' },
      b: { site: 'b', interface: 'wg0', address: '10.99.0.2' },
      transport: 'wireguard',
    });
    expect(links[0]!.evidence).toEqual([
      'WireGuard peer "other" holds the public key of b wg0',
      'WireGuard peer "other" holds the public key of a wg0',
    ]);
  });

  it('joins IPsec peers facing each other (remote-address = the other local-address) through their VTIs', () => {
    // /32 tunnel addresses: no shared subnet, only the peer addresses tie the two VTIs.
    const peer = (local: string, remote: string, vti: string) => [
      `set interfaces vti ${vti} address '${local === '198.51.100.1' ? '10.255.0.1/32' : '10.255.0.2/32'}'`,
      ...ipsecPeerLines('far', local, remote, vti),
    ];
    const { links } = inferLinks([
      router('dc1', peer('198.51.100.1', '198.51.100.2', 'vti4')),
      router('dc2', peer('198.51.100.2', '198.51.100.1', 'vti7')),
    ]);
    expect(links.map(ends)).toEqual(['dc1:vti4~dc2:vti7']);
    expect(links[0]).toMatchObject({ transport: 'ipsec' });
    expect(links[0]!.evidence[0]).toMatch(/^IPsec peer "far" faces dc2/);
  });

  it('a point-to-point subnet on three routers is not a link; a LAN shared by two is not either', () => {
    const { links, notes } = inferLinks([
      router('a', [
        "set interfaces ethernet eth1 address '169.254.50.1/29'",
        "set interfaces ethernet eth0 address '10.0.0.1/24'",
      ]),
      router('b', [
        "set interfaces ethernet eth1 address '169.254.50.2/29'",
        "set interfaces ethernet eth0 address '10.0.0.2/24'",
      ]),
      router('c', ["set interfaces ethernet eth1 address '169.254.50.3/29'"]),
    ]);
    expect(links).toEqual([]);
    expect(notes).toEqual(['subnet 169.254.50.0/29 is on a eth1, b eth1, c eth1: not a link between two routers, left out']);
  });

  it('BGP neighbors on both ends mark the link as carrying BGP', () => {
    const { links } = inferLinks([
      router('a', [
        "set interfaces ethernet eth1 address '169.254.60.1/30'",
        "set protocols bgp system-as '65001'",
        "set protocols bgp neighbor 169.254.60.2 remote-as '65002'",
      ]),
      router('b', [
        "set interfaces ethernet eth1 address '169.254.60.2/30'",
        "set protocols bgp system-as '65002'",
        "set protocols bgp neighbor 169.254.60.1 remote-as '65001'",
      ]),
    ]);
    expect(links).toHaveLength(1);
    expect(links[0]).toMatchObject({ transport: 'ethernet', subnet: '169.254.60.0/30', bgp: true });
    expect(links[0]!.evidence).toEqual([
      'shared subnet 169.254.60.0/30',
      'BGP neighbor a → 169.254.60.2 (AS 65002)',
      'BGP neighbor b → 169.254.60.1 (AS 65001)',
    ]);
  });
});
