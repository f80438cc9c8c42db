import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.ts';
import { optimizerConfigSchema } from '../optimizer/index.ts';
import { demoOverlay, mergeOverlay } from './demo-overlay.ts';
import { loadDemoConfig } from './demo.ts';

const noStore = () => {
  throw new Error('no store folder expected');
};

describe('demo overlay', () => {
  it('fills demo settings the file leaves unset and keeps the ones it sets', () => {
    const data = {
      optimizer: { interval_s: 60 },
      actuator: { proposal_ttl_s: 999_999 },
      services: { store: { kind: 'server' } },
    };
    const overlay = demoOverlay(data, { auto: true, speedup: 120, storePath: noStore, seed: 11 });
    expect(overlay.optimizer).toEqual({ step_s: 300, history_h: 48, epochs: 6, registry_dir: '', learned: false, seed: 11 });
    expect(overlay.actuator).toEqual({ mode: 'auto', auto_approve_max_risk: 'high' });
    expect(overlay.ingest).toEqual({ flow: { port: 0 } });
    expect(overlay.services).toBeUndefined();
  });

  it('leaves a value that is not a mapping for validation to name', () => {
    const data: Record<string, unknown> = { optimizer: 'fast' };
    mergeOverlay(data, demoOverlay(data, { auto: false, speedup: 1, storePath: () => '/tmp/x' }));
    expect(data.optimizer).toBe('fast');
  });

  it('loadDemoConfig validates once with the overlay in, and names a bad key in the file', () => {
    const env = { PATHPILOT__OPTIMIZER__INTERVAL_S: '120' };
    const config = loadDemoConfig({ auto: true, speedup: 600 }, env);
    expect(config.root.actuator.mode).toBe('auto');
    expect(config.root.actuator.proposal_ttl_s).toBe(360_000);
    expect(config.root.services.store.path).toMatch(/pathpilot-chdb-/);
    // The optimizer reads its section from the same raw data: the file's (here the env's) key wins.
    expect(config.source.section('optimizer', optimizerConfigSchema)).toMatchObject({ interval_s: 120, learned: false });

    // A bad value the overlay would raise is left alone, so validation names its key.
    const bad = () => loadDemoConfig({ auto: false, speedup: 600 }, { PATHPILOT__ACTUATOR__PROPOSAL_TTL_S: 'soon' });
    expect(bad).toThrow(ConfigError);
    expect(bad).toThrow(/actuator\.proposal_ttl_s/);
  });
});
