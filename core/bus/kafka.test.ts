import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../log.ts';
import { servicesSchema } from '../config/schema.ts';
import { createBus, KafkaBus } from './index.ts';

describe('KafkaBus without a broker', () => {
  it('is inert until start, then fails with a clear error and logs kafkajs through our logger', async () => {
    const lines: Record<string, unknown>[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    const log = createLogger({ level: 'debug', destination });
    const bus = createBus({ kind: 'kafka', brokers: ['127.0.0.1:1'] }, { log });
    expect(bus.kind).toBe('kafka');
    await expect(bus.publish('t', [{ value: Buffer.from('x') }])).rejects.toThrow(/before start/);
    await expect(bus.start()).rejects.toThrow(/unable to connect to Kafka at 127\.0\.0\.1:1/);
    await bus.stop();
    const fromKafkajs = lines.filter((l) => l.component === 'kafkajs');
    expect(fromKafkajs.length).toBeGreaterThan(0);
    // kafkajs runs at warn: nothing below warn (pino levels: 40 warn, 50 error) comes through.
    expect(fromKafkajs.every((l) => (l.level as number) >= 40)).toBe(true);
  });
});

describe('services.bus.replication_factor', () => {
  it('is optional, an integer ≥ 1 when given, and reaches the Kafka bus', () => {
    const bus = (input: object) => servicesSchema.parse({ bus: { kind: 'kafka', brokers: ['b:9092'], ...input } }).bus;
    expect(bus({}).replication_factor).toBeUndefined();
    expect(bus({ replication_factor: 3 }).replication_factor).toBe(3);
    for (const bad of [0, 2.5, '3']) expect(() => bus({ replication_factor: bad })).toThrow(/replication_factor/);
    expect(createBus({ kind: 'kafka', brokers: ['b:9092'], replication_factor: 3 }).kind).toBe('kafka');
    expect(() => new KafkaBus({ brokers: ['b:9092'], replicationFactor: 0 })).toThrow(/replicationFactor must be an integer ≥ 1/);
  });
});
