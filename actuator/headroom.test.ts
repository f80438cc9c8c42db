import { describe, expect, it } from 'vitest';
import { loadConfig } from '../core/config/index.ts';
import { Topology } from '../core/config/topology.ts';
import { FAILOVER_FILL, pathsWithRoom } from './headroom.ts';

const topology = new Topology(loadConfig(undefined, {}).root);

describe('failover headroom', () => {
  // onprem-fra → azure-weu: .2 over fra-weu-vpn (1 Gb/s), .3 over fra-euc1-dx then euc1-weu-wg (3 Gb/s).
  it('keeps every healthy path when the pair fits', () => {
    const load = new Map([['fra-weu-vpn|onprem-fra', 100]]);
    expect(pathsWithRoom(topology, 'onprem-fra', ['onprem-fra.azure-weu.2', 'onprem-fra.azure-weu.3'], 600, load)).toEqual([
      'onprem-fra.azure-weu.2',
      'onprem-fra.azure-weu.3',
    ]);
  });

  it('drops the path without room and sends the pair where it fits', () => {
    // The VPN already carries 900 Mbit/s: even half of 600 does not fit under 95 % of 1 Gb/s.
    const load = new Map([['fra-weu-vpn|onprem-fra', 900]]);
    expect(pathsWithRoom(topology, 'onprem-fra', ['onprem-fra.azure-weu.2', 'onprem-fra.azure-weu.3'], 600, load)).toEqual([
      'onprem-fra.azure-weu.3',
    ]);
  });

  it('reads each hop in the direction the traffic leaves, and refuses when no path has room', () => {
    const cap = topology.link('euc1-weu-wg').capacity_mbps * FAILOVER_FILL;
    // The second hop of .3 leaves aws-euc1: its load counts; the opposite direction (azure-weu) does not.
    const other = new Map([['euc1-weu-wg|azure-weu', cap]]);
    expect(pathsWithRoom(topology, 'onprem-fra', ['onprem-fra.azure-weu.3'], 500, other)).toEqual(['onprem-fra.azure-weu.3']);
    const full = new Map([['euc1-weu-wg|aws-euc1', cap - 100]]);
    expect(pathsWithRoom(topology, 'onprem-fra', ['onprem-fra.azure-weu.3'], 500, full)).toEqual([]);
  });
});
