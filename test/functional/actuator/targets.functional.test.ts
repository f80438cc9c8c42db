/**
 * Every registered actuation target against the VyOS emulator on a 1.5 image (onprem-nyc) and a 1.4
 * image (aws-use1), with a plain commit and with commit-confirm, judged on each router's effective
 * dataplane: the shared conformance suite in test/conformance/actuation-targets.ts (issue 14 item 5). It runs
 * on the lab network, and again on the lab network with BGP on its interconnects (lab/vyos/testing.ts
 * `bgpLabRoot`), where the targets that need a BGP speaker (bgp-policy) have their cases and every other
 * target must pass too. Every target must have cases on one of the two (checked below).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { targets } from '../../../actuator/targets/index.ts';
import type { RootConfig } from '../../../core/config/schema.ts';
import { Topology } from '../../../core/config/topology.ts';
import { bgpLabRoot } from '../../../lab/vyos/testing.ts';
import { actuationTargetSuite } from '../../conformance/actuation-targets.ts';
import { startLab, testRoot, type LabRig } from './support.ts';

function suiteOn(root: RootConfig): void {
  const topology = new Topology(root);
  let rig: LabRig;
  beforeAll(async () => {
    rig = await startLab(root);
  });
  afterAll(async () => {
    await rig?.stop();
  });
  actuationTargetSuite(
    ['onprem-nyc', 'aws-use1'].map((site) => ({ site, version: topology.site(site).router.vyos_version })),
    topology,
    () => ({ topology: rig.topology, routerFor: (site) => rig.routerFor(site), lanInterface: 'eth0' }),
  );
}

describe('the lab network', () => suiteOn(testRoot()));
describe('the lab network with BGP on its interconnects', () => suiteOn(bgpLabRoot(testRoot())));

it('runs every registered target on one of the two networks', () => {
  const networks = [testRoot(), bgpLabRoot(testRoot())].map((r) => new Topology(r));
  for (const { target } of targets)
    expect(
      networks.some((t) => ['onprem-nyc', 'aws-use1'].some((site) => target.cases(t, site).length > 0)),
      target.name,
    ).toBe(true);
});
