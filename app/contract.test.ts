/**
 * Every component `create` follows core/component.ts: a bad section is a ConfigError naming the key
 * (never a ZodError or a hand-built PathpilotError), and create opens nothing.
 */
import { describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import { SimulatedClock } from '../core/clock.ts';
import { loadConfig, Topology } from '../core/config/index.ts';
import { ConfigError } from '../core/errors.ts';
import { MemoryBus } from '../core/bus/index.ts';
import { MemoryQueue } from '../core/queue/index.ts';
import { createRegistry } from '../core/metrics.ts';
import type { Store } from '../core/store/types.ts';
import { createFlowCollector } from '../ingest/flow/index.ts';
import { createProbeAgent } from '../ingest/probe/index.ts';
import { createBillingImporter } from '../ingest/billing/index.ts';
import { createSink } from '../analytics/sink/index.ts';
import { createOptimizer, memoryDecisions, MemoryOptimizerData } from '../optimizer/index.ts';
import { createTwin } from '../lab/twin/index.ts';
import { createVyosLabComponent } from '../lab/vyos/index.ts';

const root = loadConfig().root;
const topology = new Topology(root);
const clock = new SimulatedClock();
/** create must not touch the store: any call fails the test. */
const untouchableStore = new Proxy({} as Store, {
  get: (_t, key) => {
    if (key === 'rawFormats') return ['TabSeparated'];
    if (key === 'then') return undefined;
    throw new Error(`create touched store.${String(key)}`);
  },
});

const creates: [section: string, create: (input: unknown) => unknown][] = [
  ['ingest.flow', (input) => createFlowCollector({ bus: new MemoryBus(), registry: createRegistry(), root }, input)],
  ['ingest.probe', (input) => createProbeAgent({ clock, registry: createRegistry() }, input)],
  ['ingest.billing', (input) => createBillingImporter({ registry: createRegistry() }, input)],
  ['analytics.sink', (input) => createSink({ bus: new MemoryBus(), store: untouchableStore }, input)],
  [
    'optimizer',
    (input) =>
      createOptimizer(
        { data: new MemoryOptimizerData(), queue: new MemoryQueue(), clock, root, decisions: memoryDecisions() },
        input,
      ),
  ],
  ['lab.twin', (input) => createTwin({ clock, config: root }, input)],
  ['lab.vyos', (input) => createVyosLabComponent({ topology, apiKey: 'k-0123456789' }, input)],
];

describe.each(creates)('%s create', (section, create) => {
  it('builds from an empty section (defaults) without I/O', () => {
    const component = create({}) as { name: string; start(): Promise<void> };
    expect(typeof component.start).toBe('function');
  });

  it('throws ConfigError naming the unknown key, never a ZodError', () => {
    let caught: unknown;
    try {
      create({ definitely_not_a_key: 1 });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect(caught).not.toBeInstanceOf(ZodError);
    expect((caught as ConfigError).issues.join('\n')).toContain(`${section}.definitely_not_a_key`);
  });

  it('throws ConfigError for a section that is not a mapping', () => {
    expect(() => create('yes')).toThrow(ConfigError);
  });
});
