/**
 * VyOS HTTP API emulator: one HTTP(S) server per emulated router on 127.0.0.1, speaking the VyOS
 * REST API (see shared/reference/vyos-facts.md), plus an in-process handle per router so the lab's
 * twin can follow routing changes without HTTP.
 *
 * Typical use (the twin):
 * ```ts
 * const lab = await createVyosLab({ routers: [{ name: 'aws-use1', version: '1.4', apiKey: k,
 *   seed: initialRouterConfig(topology, 'aws-use1') }], clock });
 * const r = lab.router('aws-use1');
 * r.onCommit((e) => { if (e.changed.some((p) => p[0] === 'load-balancing')) readWeights(r); });
 * r.showConfig(['load-balancing', 'wan', 'rule']); // {"10": {"interface": {"eth1": {"weight": "3"}}, …}}
 * ```
 */
export type {
  VyosVersion,
  ConfigJson,
  CommitReason,
  CommitEvent,
  FaultPlan,
  VyosFaults,
  PendingConfirm,
  VyosRouterHandle,
  VyosRouterSpec,
  VyosLabOptions,
  VyosLab,
} from './types.ts';
export { VyosConfigError } from './types.ts';
export {
  createVyosLab,
  createVyosLabForTopology,
  createVyosLabComponent,
  vyosLabConfigSchema,
  type TopologyLabOptions,
  type VyosLabDeps,
  type VyosLabComponent,
} from './lab.ts';
export { initialRouterConfig } from './seed.ts';
