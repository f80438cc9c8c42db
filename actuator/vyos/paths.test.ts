import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../core/errors.ts';
import { isSchemaPath, validateOp, validateOps } from './paths.ts';
import type { ConfigOp } from './types.ts';

function messageOf(version: '1.4' | '1.5', op: ConfigOp): string {
  try {
    validateOp(version, op);
  } catch (err) {
    if (err instanceof ValidationError) return err.message;
    throw err;
  }
  throw new Error('expected a ValidationError');
}

const weight = ['load-balancing', 'wan', 'rule', '10', 'interface', 'eth1', 'weight'];

describe('validateOp', () => {
  it('accepts what the renderers generate on both versions', () => {
    for (const version of ['1.4', '1.5'] as const)
      validateOps(version, [
        { op: 'set', path: weight, value: '255' },
        { op: 'set', path: ['load-balancing', 'wan', 'rule', '10', 'destination', 'address'], value: '10.20.0.0/16' },
        { op: 'set', path: ['qos', 'policy', 'shaper', 'PP-nyc-use1-dx', 'bandwidth'], value: '2500mbit' },
        { op: 'set', path: ['qos', 'interface', 'vti1', 'egress'], value: 'PP-nyc-use1-dx' },
        { op: 'set', path: ['interfaces', 'vti', 'vti1', 'address'], value: '169.254.10.1/30' },
        { op: 'delete', path: ['load-balancing', 'wan', 'rule', '20'] },
      ]);
  });

  it.each<[string, ConfigOp, string]>([
    ['an empty path', { op: 'set', path: [] }, 'empty path'],
    ['an empty word', { op: 'set', path: ['load-balancing', ''] }, 'empty word at position 2'],
    [
      'an unknown node',
      { op: 'set', path: ['load-balancing', 'wan', 'rules', '10'] },
      'no node "rules" under "load-balancing wan"',
    ],
    ['an unknown top node', { op: 'delete', path: ['nope'] }, 'no node "nope" under "(root)"'],
    [
      'a value on a valueless leaf',
      { op: 'set', path: ['load-balancing', 'wan', 'disable-source-nat'], value: 'yes' },
      '"disable-source-nat" takes no value',
    ],
    ['words after a value', { op: 'set', path: [...weight, '3'], value: '4' }, 'words after the value of "weight"'],
    [
      'a value out of range, with the router message',
      { op: 'set', path: weight, value: '300' },
      '"300" is not a valid value of "weight" (Weight must be between 1 and 255)',
    ],
    [
      'whitespace in a tag value',
      { op: 'set', path: ['qos', 'policy', 'shaper', 'PP x', 'bandwidth'], value: '1mbit' },
      '"PP x" is not a valid name under "shaper"',
    ],
    [
      'a quote in a value',
      { op: 'set', path: ['qos', 'policy', 'shaper', 'PP', 'description'], value: 'a"b' },
      '"a"b" is not a valid value of "description" (VyOS values cannot hold a double quote)',
    ],
    ['a missing value', { op: 'set', path: weight }, 'requires a value'],
  ])('names the op and why it refuses %s', (_what, op, why) => {
    const words = [...op.path, ...(op.value !== undefined ? [op.value] : [])];
    expect(messageOf('1.5', op)).toBe(`VyOS 1.5: "${op.op} ${words.join(' ')}" is not valid: ${why}`);
  });

  it('leaves validators that read the router to the router', () => {
    // `script` (an existing executable on the router) is the hook's only constraint.
    expect(() => validateOp('1.4', { op: 'set', path: ['load-balancing', 'wan', 'hook'], value: 'relative/hook' })).not.toThrow();
  });

  it('runs every pure validator (port lists, protocols, MAC addresses)', () => {
    const rule = ['policy', 'route', 'PR', 'rule', '10'];
    expect(() => validateOp('1.5', { op: 'set', path: [...rule, 'destination', 'port'], value: '80,443' })).not.toThrow();
    expect(() => validateOp('1.5', { op: 'set', path: [...rule, 'destination', 'port'], value: '70000' })).toThrow(
      ValidationError,
    );
    expect(() => validateOp('1.5', { op: 'set', path: [...rule, 'protocol'], value: 'tcp_udp' })).not.toThrow();
    expect(() => validateOp('1.5', { op: 'set', path: [...rule, 'protocol'], value: 'nope' })).toThrow(ValidationError);
  });
});

describe('isSchemaPath', () => {
  it('knows subtrees the actuator may snapshot, per version', () => {
    expect(isSchemaPath('1.4', ['load-balancing', 'wan'])).toBe(true);
    expect(isSchemaPath('1.5', ['qos', 'policy', 'shaper', 'PP-x'])).toBe(true);
    expect(isSchemaPath('1.4', ['service', 'https', 'api', 'rest'])).toBe(false);
    expect(isSchemaPath('1.5', ['load-balancing', 'wan', 'rules'])).toBe(false);
  });
});
