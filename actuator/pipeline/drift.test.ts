import { describe, expect, it } from 'vitest';
import {
  RouterDriftError,
  describeDrift,
  driftedPaths,
  holdsState,
  reachableSteps,
  recordedSteps,
  snapshotStep,
  type KnownState,
  type Subtrees,
} from './drift.ts';
import type { ConfigJson } from '../vyos/types.ts';

const RULE = 'load-balancing wan rule 20';
const HEALTH = 'load-balancing wan interface-health vti1';
const rule = (eth1: string, vti1: string) => ({ interface: { eth1: { weight: eth1 }, vti1: { weight: vti1 } } });

const snapshot: KnownState = {
  name: 'snapshot',
  holds: new Map<string, ConfigJson | null>([
    [RULE, rule('90', '10')],
    [HEALTH, null],
  ]),
};
const step1: KnownState = {
  name: 'step 1',
  holds: new Map<string, ConfigJson | null>([
    [RULE, rule('60', '40')],
    [HEALTH, { 'failure-count': '3' }],
  ]),
};
const step2: KnownState = {
  name: 'step 2',
  holds: new Map<string, ConfigJson | null>([
    [RULE, rule('30', '70')],
    [HEALTH, { 'failure-count': '3' }],
  ]),
};
const running = (entries: [string, ConfigJson | null][]): Subtrees => new Map(entries);

describe('driftedPaths', () => {
  it('finds nothing when the router holds the state it was left in', () => {
    const now = running([
      [RULE, rule('60', '40')],
      [HEALTH, { 'failure-count': '3' }],
    ]);
    expect(driftedPaths(now, [step1])).toEqual([]);
    expect(holdsState(now, step1)).toBe(true);
    expect(holdsState(now, snapshot)).toBe(false);
  });

  it('names the path someone else changed, not the ones still as left', () => {
    const now = running([
      [RULE, rule('60', '11')],
      [HEALTH, { 'failure-count': '3' }],
    ]);
    expect(driftedPaths(now, [step1])).toEqual([RULE]);
  });

  it('treats a subtree removed by someone else (absent: null) as drift, and one added where none was', () => {
    expect(
      driftedPaths(
        running([
          [RULE, null],
          [HEALTH, { 'failure-count': '3' }],
        ]),
        [step1],
      ),
    ).toEqual([RULE]);
    expect(
      driftedPaths(
        running([
          [RULE, rule('90', '10')],
          [HEALTH, { 'failure-count': '5' }],
        ]),
        [snapshot],
      ),
    ).toEqual([HEALTH]);
  });

  it('judges each path alone: a partial commit leaves some paths at one known state, some at another', () => {
    const now = running([
      [RULE, rule('30', '70')],
      [HEALTH, { 'failure-count': '3' }],
    ]);
    // RULE at step 2 (the step in flight), HEALTH at step 1 and step 2 alike.
    expect(driftedPaths(now, [step1, step2])).toEqual([]);
    expect(driftedPaths(now, [step1])).toEqual([RULE]);
  });

  it('does not compare a path a state does not render', () => {
    const partial: KnownState = { name: 'step 1', holds: new Map([[RULE, rule('60', '40')]]) };
    const now = running([
      [RULE, rule('60', '40')],
      [HEALTH, { anything: 'at all' }],
    ]);
    expect(driftedPaths(now, [partial])).toEqual([]);
  });

  it('returns paths sorted', () => {
    const now = running([
      [RULE, rule('1', '1')],
      [HEALTH, { 'failure-count': '9' }],
    ]);
    expect(driftedPaths(now, [step1, snapshot])).toEqual([HEALTH, RULE].sort());
  });
});

describe('which states a router may be in', () => {
  it('before a step: the last applied step and one in flight, else the snapshot', () => {
    expect(recordedSteps({ applied: -1, inFlight: null })).toEqual([snapshotStep]);
    expect(recordedSteps({ applied: 0, inFlight: null })).toEqual([0]);
    expect(recordedSteps({ applied: 0, inFlight: 1 })).toEqual([0, 1]);
    expect(recordedSteps({ applied: -1, inFlight: 0 })).toEqual([0]);
    expect(recordedSteps({ applied: 1, inFlight: 1 })).toEqual([1]);
  });

  it('before a restore: the snapshot and every step up to the latest recorded', () => {
    expect(reachableSteps({ applied: -1, inFlight: null })).toEqual([snapshotStep]);
    expect(reachableSteps({ applied: 1, inFlight: null })).toEqual([snapshotStep, 0, 1]);
    expect(reachableSteps({ applied: 0, inFlight: 2 })).toEqual([snapshotStep, 0, 1, 2]);
  });
});

describe('reporting drift', () => {
  it('names routers and paths for errors and alerts', () => {
    const findings = [
      { router: 'onprem-nyc', paths: [HEALTH, RULE] },
      { router: 'aws-use1', paths: ['load-balancing wan rule 10'] },
    ];
    expect(describeDrift(findings)).toBe(`onprem-nyc (${HEALTH}; ${RULE}), aws-use1 (load-balancing wan rule 10)`);
    const err = new RouterDriftError(findings[1]!);
    expect(err.code).toBe('PP_ERR_CONFLICT');
    expect(err.finding.router).toBe('aws-use1');
    expect(err.message).toMatch(/^router aws-use1 drifted: load-balancing wan rule 10 changed by someone else/);
  });
});
