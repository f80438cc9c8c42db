import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseConfigText } from './config/index.ts';
import { ConfigError } from './errors.ts';
import { LoopTracker, parseSection, sectionOf, startAll, type Component, type LoopFailure } from './component.ts';

const schema = z
  .object({ port: z.number().int().max(65_535).default(2055), batch: z.object({ size: z.number() }).strict().optional() })
  .strict();

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('parseSection', () => {
  it('applies defaults to a missing section', () => {
    expect(parseSection(schema, undefined, 'ingest.flow')).toEqual({ port: 2055 });
  });

  it('throws ConfigError naming the full key path of a bad value', () => {
    const err = thrown(() => parseSection(schema, { port: 70_000 }, 'ingest.flow'));
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues).toHaveLength(1);
    expect((err as ConfigError).issues[0]).toContain('ingest.flow.port');
  });

  it('names an unknown key and suggests the known one', () => {
    const err = thrown(() => parseSection(schema, { batch: { sise: 3, size: 2 } }, 'ingest.flow')) as ConfigError;
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.issues[0]).toMatch(/ingest\.flow\.batch\.sise: unknown key.*"size"/);
  });

  it('throws ConfigError, not ZodError, for a non-object section', () => {
    expect(thrown(() => parseSection(schema, 'text', 'ingest.flow'))).toBeInstanceOf(ConfigError);
  });

  it('names the file line when given a section of a loaded file', () => {
    const source = parseConfigText(['sites: []', 'ingest:', '  flow:', '    port: 99999'].join('\n'), 'lab.yaml');
    const err = thrown(() => parseSection(schema, sectionOf(source, 'ingest.flow'), 'ingest.flow')) as ConfigError;
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.issues[0]).toMatch(/^lab\.yaml:4: ingest\.flow\.port: /);
  });
});

describe('LoopTracker', () => {
  it('a loop that throws fails health, and onFatal hears which loop died and why', async () => {
    const fatal: LoopFailure[] = [];
    const tracker = new LoopTracker('optimizer', { onFatal: (f) => fatal.push(f) });
    expect(tracker.health()).toEqual({ ok: true });
    await tracker.track('schedule', async () => {
      throw new Error('store vanished');
    });
    expect(tracker.health().ok).toBe(false);
    expect(tracker.health().detail).toContain('schedule');
    expect(fatal).toEqual([{ component: 'optimizer', loop: 'schedule', error: 'store vanished' }]);
  });

  it('a loop that ends normally, or dies after stopping(), is not fatal', async () => {
    const fatal: LoopFailure[] = [];
    const tracker = new LoopTracker('sink', { onFatal: (f) => fatal.push(f) });
    await tracker.track('consume', async () => {});
    tracker.stopping();
    await tracker.track('flush', () => Promise.reject(new Error('aborted')));
    await tracker.settled();
    expect(tracker.health().ok).toBe(true);
    expect(fatal).toHaveLength(0);
  });

  it('a synchronous throw from the loop function counts as a death too', async () => {
    const fatal: LoopFailure[] = [];
    const tracker = new LoopTracker('twin', { onFatal: (f) => fatal.push(f) });
    await tracker.track('drive', () => {
      throw new Error('bad tick');
    });
    expect(fatal.map((f) => f.error)).toEqual(['bad tick']);
  });
});

describe('startAll', () => {
  it('stops the started components in reverse when one fails to start', async () => {
    const events: string[] = [];
    const component = (name: string, fail = false): Component => ({
      name,
      start: async () => {
        if (fail) throw new Error(`${name} failed`);
        events.push(`start ${name}`);
      },
      stop: async () => {
        events.push(`stop ${name}`);
      },
    });
    await expect(startAll([component('a'), component('b'), component('c', true)])).rejects.toThrow('c failed');
    expect(events).toEqual(['start a', 'start b', 'stop b', 'stop a']);
  });
});
