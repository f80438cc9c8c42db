/**
 * Every registered actuation target against the VyOS emulator on a 1.5 image (onprem-nyc) and a 1.4
 * image (aws-use1), with a plain commit and with commit-confirm, judged on each router's effective
 * dataplane: the shared conformance suite in test/conformance/actuation-targets.ts (issue 14 item 5).
 */
import { afterAll, beforeAll } from 'vitest';
import { Topology } from '../../../core/config/topology.ts';
import { actuationTargetSuite } from '../../conformance/actuation-targets.ts';
import { startLab, testRoot, type LabRig } from './support.ts';

const root = testRoot();
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
