import { describe, expect, it } from 'vitest';
import { MemoryBus } from './memory.ts';
import { namespacedBus } from './namespace.ts';
import type { MessageBatch } from './types.ts';

describe('namespacedBus', () => {
  it('keeps two namespaces apart on one bus and hands back unprefixed topic names', async () => {
    const shared = new MemoryBus();
    await shared.start();
    const a = namespacedBus(shared, 'run_a.');
    const b = namespacedBus(shared, 'run_b.');
    await a.ensureTopics([{ topic: 'pathpilot.flow.v1' }]);
    await b.ensureTopics([{ topic: 'pathpilot.flow.v1' }]);
    const seen: MessageBatch[] = [];
    const sub = await a.subscribe({
      group: 'g',
      topics: ['pathpilot.flow.v1'],
      fromBeginning: true,
      handler: async (batch) => {
        seen.push(batch);
      },
    });
    await b.publish('pathpilot.flow.v1', [{ key: 'x', value: Buffer.from('from b') }]);
    await a.publish('pathpilot.flow.v1', [{ key: 'x', value: Buffer.from('from a') }]);
    for (let i = 0; i < 100 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 50));
    await sub.stop();
    expect(seen.flatMap((s) => s.messages.map((m) => m.value.toString()))).toEqual(['from a']);
    expect(seen[0]!.topic).toBe('pathpilot.flow.v1');
    await shared.stop();
  });
});
