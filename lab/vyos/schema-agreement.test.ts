/**
 * The emulator and the actuator validate against one schema tree: every node of both versions, with
 * a spread of values, is accepted or refused alike by the emulator's walk and the actuator's
 * validateOp; the only difference allowed is the one chosen on purpose (validators that read the
 * router's state: the actuator defers them, the emulator runs its stand-ins). The emulated router
 * still answers with the VyOS texts.
 */
import { describe, expect, it } from 'vitest';
import { validateOp } from '../../actuator/vyos/paths.ts';
import { RealClock } from '../../core/clock.ts';
import { EmulatedRouter } from './router.ts';
import { resolvePath, schemaFor, type SchemaNode } from './schema.ts';
import { VyosConfigError, type VyosVersion } from './types.ts';

const versions: VyosVersion[] = ['1.4', '1.5'];
const routerStateValidators = new Set(['file-path', 'script']);

/** Leaf and tag values across the constraint kinds of the data: numbers, names, addresses, ports, junk. */
const sampleValues = [
  '1', '300', '1-10', 'eth0', 'PP x', '10.0.0.0/24', '10.0.0.1/24', '10.0.0.1', '2001:db8::/32',
  '00:11:22:33:44:55', '80,443', 'tcp', 'relative/hook', 'a"b', 'bogus',
]; // prettier-ignore

/** Tag values to reach below each tag node (interface names, rule numbers, policy names). */
const tagCandidates = ['10', 'eth0', 'wg0', 'vti1', 'PP-x', '10.0.0.0/24', '10.0.0.1', '65000:1', 'enable'];

/** The first candidate the tag node takes, so the walk reaches the leaves below it. */
function tagValueFor(node: SchemaNode): string {
  return tagCandidates.find((v) => node.accepts(v, 'emulate')) ?? 'x';
}

interface Visit {
  words: string[];
  node: SchemaNode;
}

/** Every schema node once, as the words that reach it (tag values included). */
function visitAll(root: SchemaNode): Visit[] {
  const visits: Visit[] = [];
  const walk = (node: SchemaNode, words: string[]): void => {
    for (const child of node.children.values()) {
      const path = [...words, child.name];
      visits.push({ words: path, node: child });
      walk(child, child.kind === 'tag' ? [...path, tagValueFor(child)] : path);
    }
  };
  walk(root, []);
  return visits;
}

function emulatorAccepts(version: VyosVersion, words: string[], op: 'Set' | 'Delete'): boolean {
  try {
    resolvePath(schemaFor(version), words, op);
    return true;
  } catch (err) {
    if (err instanceof VyosConfigError) return false;
    throw err;
  }
}

function actuatorAccepts(version: VyosVersion, words: string[], op: 'set' | 'delete'): boolean {
  try {
    validateOp(version, { op, path: words });
    return true;
  } catch {
    return false;
  }
}

/** True when the node's constraints are validators that read the router's state and nothing else. */
function onlyRouterStateValidators(node: SchemaNode): boolean {
  return (
    node.regexes.length === 0 &&
    node.validators.length > 0 &&
    node.validators.every((spec) => routerStateValidators.has(spec.split(' ')[0]!))
  );
}

describe('one schema for the emulator and the actuator', () => {
  it.each(versions)('VyOS %s: every node and value is accepted or refused alike', (version) => {
    const visits = visitAll(schemaFor(version));
    let compared = 0;
    let accepted = 0;
    const disagreements: { words: string[]; node: SchemaNode; emulator: boolean; actuator: boolean }[] = [];
    const compare = (words: string[], node: SchemaNode, op: 'set' | 'delete'): void => {
      const emulator = emulatorAccepts(version, words, op === 'set' ? 'Set' : 'Delete');
      const actuator = actuatorAccepts(version, words, op);
      compared++;
      if (emulator) accepted++;
      if (emulator !== actuator) disagreements.push({ words, node, emulator, actuator });
    };
    for (const { words, node } of visits) {
      compare(words, node, 'delete');
      compare(words, node, 'set');
      if (node.kind === 'node' || node.valueless) continue;
      for (const value of sampleValues) compare([...words, value], node, 'set');
    }
    // Thousands of comparisons with both outcomes: the agreement is not vacuous.
    expect(visits.length).toBeGreaterThan(1500);
    expect(accepted).toBeGreaterThan(compared / 4);
    expect(compared - accepted).toBeGreaterThan(compared / 4);
    // The one chosen difference: the actuator leaves router-state validators to the router.
    for (const d of disagreements) {
      expect({ words: d.words, deferredAlone: onlyRouterStateValidators(d.node) }).toEqual({
        words: d.words,
        deferredAlone: true,
      });
      expect({ emulator: d.emulator, actuator: d.actuator }).toEqual({ emulator: false, actuator: true });
    }
    expect(disagreements.length).toBeGreaterThan(0);
    expect(disagreements.length).toBeLessThan(compared / 100);
  });

  it('the emulated router answers refused ops with the VyOS text of its version', () => {
    const weight = ['load-balancing', 'wan', 'rule', '10', 'interface', 'eth1', 'weight'];
    const cases: { version: VyosVersion; path: string[]; value?: string; text: string }[] = [
      {
        version: '1.4',
        path: weight,
        value: '300',
        text: 'Weight must be between 1 and 255\nValue validation failed\nSet failed\n',
      },
      {
        version: '1.5',
        path: weight,
        value: '300',
        text: 'Weight must be between 1 and 255\nValue validation failed\nSet failed\n',
      },
      {
        version: '1.5',
        path: ['load-balancing', 'wan', 'rules', '10'],
        text: 'Configuration path: [load-balancing wan rules 10] is not valid\nSet failed\n',
      },
      {
        version: '1.4',
        path: ['service', 'https', 'api', 'rest'],
        text: 'Configuration path: [service https api rest] is not valid\nSet failed\n',
      },
      {
        version: '1.4',
        path: ['qos', 'policy', 'shaper', 'PP x', 'bandwidth'],
        value: '1mbit',
        text: 'Tag node value name must not contain whitespace\nSet failed\n',
      },
    ];
    for (const c of cases) {
      const router = new EmulatedRouter({ name: 'r1', version: c.version, apiKey: 'k' }, new RealClock());
      const before = router.showConfig();
      const op = { op: 'set' as const, path: c.path, ...(c.value !== undefined ? { value: c.value } : {}) };
      expect(() => validateOp(c.version, op)).toThrow(/is not valid/);
      let text = '';
      try {
        router.configure([op]);
      } catch (err) {
        if (!(err instanceof VyosConfigError)) throw err;
        text = err.message;
      }
      expect(text).toBe(c.text);
      expect(router.showConfig()).toEqual(before);
    }
  });
});
