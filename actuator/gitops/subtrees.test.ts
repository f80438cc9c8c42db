import { describe, expect, it } from 'vitest';
import { parseSetFile } from '../vyos/set-file.ts';
import type { ConfigJson } from '../vyos/types.ts';
import { differingSubtrees, outOfSchema, unitOf } from './subtrees.ts';

const KEY = '+LdwEobWW6DvB4azxyk/KCqidY1/nDSlxUGCzxBsXnU=';
const PEER = 'arOeZlQj1sAHGlqdKuR+LgIg0Ep7VzNOZeZ44QQL7Bk=';

/** A 1.4 router as it runs, with its secrets (`running`), and its file as GitOps holds it: redacted (`lines`). */
const lines = [
  "set interfaces ethernet eth0 address '10.10.0.1/16'",
  "set interfaces wireguard wg1 address '172.17.1.1/30'",
  "set interfaces wireguard wg1 description 'to euc1'",
  "set interfaces wireguard wg1 private-key '[redacted]'",
  `set interfaces wireguard wg1 peer aws-euc1 public-key '${PEER}'`,
  "set interfaces wireguard wg1 peer aws-euc1 allowed-ips '172.17.1.0/30'",
  "set protocols static route 10.51.0.0/16 next-hop 169.254.10.1 distance '10'",
  "set firewall ipv4 forward filter rule 10 action 'drop'",
  "set load-balancing wan interface-health eth1 nexthop '169.254.10.1'",
  'set load-balancing wan disable-source-nat',
  "set service https api keys id pathpilot key '[redacted]'",
  "set system host-name 'use1'",
];
const running = (): ConfigJson => {
  const c = parseSetFile(lines.join('\n'), '1.4');
  const wg1 = (c.interfaces as ConfigJson).wireguard as ConfigJson;
  (wg1.wg1 as ConfigJson)['private-key'] = KEY;
  (((c.service as ConfigJson).https as ConfigJson).api as ConfigJson).keys = { id: { pathpilot: { key: 'the-api-key' } } };
  return c;
};
const desired = (edit: (l: string[]) => string[]) => parseSetFile(edit([...lines]).join('\n'), '1.4');
const paths = (d: ReturnType<typeof differingSubtrees>) => d.subtrees.map((s) => s.path.join(' '));

describe('GitOps subtree diff', () => {
  it('cuts a path to its unit: the first tag value, else the node above the leaf', () => {
    expect(unitOf('1.4', ['firewall', 'ipv4', 'forward', 'filter', 'rule', '10', 'action'])).toEqual([
      'firewall',
      'ipv4',
      'forward',
      'filter',
      'rule',
      '10',
    ]);
    expect(unitOf('1.4', ['interfaces', 'wireguard', 'wg1', 'peer', 'x', 'allowed-ips'])).toEqual([
      'interfaces',
      'wireguard',
      'wg1',
    ]);
    expect(unitOf('1.4', ['load-balancing', 'wan', 'disable-source-nat'])).toEqual(['load-balancing', 'wan']);
    expect(unitOf('1.4', ['system', 'host-name'])).toBeUndefined();
    expect(outOfSchema('1.4', running())).toEqual([['system', 'host-name']]);
  });

  it('finds nothing between a router and its redacted file: secrets and service https are never compared', () => {
    const d = differingSubtrees(
      '1.4',
      running(),
      desired((l) => l),
    );
    expect(d).toEqual({ subtrees: [], keep: [], unknown: [] });
    // A file without the API key or the WireGuard key at all: still nothing (service https, secret leaves).
    const bare = desired((l) => l.filter((x) => !x.includes('keys id') && !x.includes('private-key')));
    expect(differingSubtrees('1.4', running(), bare).subtrees).toEqual([]);
  });

  it('proposes the units that differ, whole, without secrets; deletions as null', () => {
    const d = differingSubtrees(
      '1.4',
      running(),
      desired((l) => [
        ...l
          .filter((x) => !x.startsWith('set protocols static route 10.51.0.0/16'))
          .map((x) => x.replace("'to euc1'", "'to eu-central-1'").replace("rule 10 action 'drop'", "rule 10 action 'accept'")),
        'set protocols static route 192.0.2.0/24 next-hop 10.10.0.254',
      ]),
    );
    expect(paths(d)).toEqual([
      'firewall ipv4 forward filter rule 10',
      'interfaces wireguard wg1',
      'protocols static route 10.51.0.0/16',
      'protocols static route 192.0.2.0/24',
    ]);
    const wg1 = d.subtrees.find((s) => s.path.join(' ') === 'interfaces wireguard wg1')!;
    expect(wg1.desired).toMatchObject({ description: 'to eu-central-1', address: '172.17.1.1/30' });
    expect(JSON.stringify(d)).not.toContain(KEY);
    expect(wg1.ops).toEqual([
      { op: 'delete', path: ['interfaces', 'wireguard', 'wg1', 'description'], value: 'to euc1' },
      { op: 'set', path: ['interfaces', 'wireguard', 'wg1', 'description'], value: 'to eu-central-1' },
    ]);
    expect(d.subtrees.find((s) => s.path[3] === '10.51.0.0/16')!.desired).toBeNull();
  });

  it('a leaf beside other nodes takes its parent; kept paths and what lies beyond the schema are not proposed', () => {
    const noSnat = desired((l) => l.filter((x) => !x.includes('disable-source-nat')).map((x) => x.replace("'use1'", "'use1-b'")));
    const d = differingSubtrees('1.4', running(), noSnat);
    expect(paths(d)).toEqual(['load-balancing wan']);
    expect(d.subtrees[0]!.desired).toEqual({ 'interface-health': { eth1: { nexthop: '169.254.10.1' } } });
    expect(d.unknown).toEqual(['system host-name']);
    expect(differingSubtrees('1.4', running(), noSnat, [['load-balancing', 'wan']]).subtrees).toEqual([]);
  });

  it('a unit holding a path beyond the schema keeps it', () => {
    const withHwId = running();
    ((withHwId.interfaces as ConfigJson).ethernet as ConfigJson).eth0 = { address: '10.10.0.1/16', 'hw-id': '00:50:56:00:00:01' };
    const d = differingSubtrees(
      '1.4',
      withHwId,
      desired((l) => l.map((x) => x.replace('10.10.0.1/16', '10.10.0.2/16'))),
    );
    expect(paths(d)).toEqual(['interfaces ethernet eth0']);
    expect(d.keep).toEqual([['interfaces', 'ethernet', 'eth0', 'hw-id']]);
    expect(d.unknown).toEqual(['interfaces ethernet eth0 hw-id']);
  });
});
