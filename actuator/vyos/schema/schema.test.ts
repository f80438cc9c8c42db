import { describe, expect, it } from 'vitest';
import { buildSchema, compileConstraint, schemaFor, type RawDef } from './build.ts';
import { runValidator } from './validators.ts';
import { lookupSchema, walkPath, type PathProblem, type WalkOptions } from './walk.ts';

const emulate: WalkOptions = { op: 'set', routerState: 'emulate' };
const defer: WalkOptions = { op: 'set', routerState: 'defer' };

function problemOf(words: string[], options: WalkOptions, version: '1.4' | '1.5' = '1.4'): PathProblem | undefined {
  const result = walkPath(schemaFor(version), words, options);
  return result.ok ? undefined : result.problem;
}

describe('constraints', () => {
  it('full-matches regexes and translates POSIX classes', () => {
    expect(compileConstraint('wg[0-9]+').test('wg10')).toBe(true);
    expect(compileConstraint('wg[0-9]+').test('xwg10')).toBe(false);
    expect(compileConstraint('wg[0-9]+').test('wg10x')).toBe(false);
    const alnum = compileConstraint('[[:alnum:]][-_[:alnum:]]*');
    expect(alnum.test('WAN-out_1')).toBe(true);
    expect(alnum.test('-WAN')).toBe(false);
  });

  it.each([
    ['numeric --range 1-255', '255', true],
    ['numeric --range 1-255', '256', false],
    ['numeric --range 1-255', '0x10', false],
    ['numeric --range 1-255', '1.5', false],
    ['numeric --range 1-10 --range 20-30', '25', true],
    ['numeric --allow-range --range 0-63', '10-20', true],
    ['numeric --allow-range --range 0-63', '20-70', false],
    ['numeric --relative --', '+5', true],
    ['ipv4-prefix', '10.0.0.0/24', true],
    ['ipv4-prefix', '10.0.0.1/24', false],
    ['ip-prefix', '2001:db8::/32', true],
    ['ip-host', '10.0.0.1/24', true],
    ['ip-host', '10.0.0.0/24', false],
    ['ip-host', '169.254.10.2/30', true],
    ['ipv4-address', '256.1.1.1', false],
    ['ipv6-address', 'fe80::1%eth0', false],
    ['ipv4-range', '10.0.0.1-10.0.0.9', true],
    ['ipv4-range', '10.0.0.9-10.0.0.1', false],
    ['ipv4-range-exclude', '!10.0.0.1-10.0.0.9', true],
    ['ipv4-prefix-exclude', '!10.0.0.0/8', true],
    ['port-multi', '80,443,8000-8100,!22', true],
    ['port-multi', '70000', false],
    ['ip-protocol', 'tcp_udp', true],
    ['ip-protocol', '!gre', true],
    ['ip-protocol', 'nope', false],
    ['base64', 'aGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8gd28=', true],
    ['base64', 'not base64!', false],
    ['vrf-name', 'blue', true],
    ['vrf-name', 'eth0', false],
  ])('%s accepts %s: %s', (spec, value, ok) => {
    expect(runValidator(spec, value, 'emulate')).toBe(ok);
    expect(runValidator(spec, value, 'defer')).toBe(ok);
  });

  it('runs the stand-ins of router-state validators only when asked to emulate', () => {
    const lookup = 'file-path --lookup-path /sys/class/net --directory';
    expect(runValidator(lookup, 'eth0', 'emulate')).toBe(false);
    expect(runValidator(lookup, 'eth0', 'defer')).toBe('deferred');
    expect(runValidator('script', '/config/scripts/hook', 'emulate')).toBe(true);
    expect(runValidator('script', 'relative/hook', 'emulate')).toBe(false);
    expect(runValidator('script', 'relative/hook', 'defer')).toBe('deferred');
    // Pure validators never defer.
    expect(runValidator('numeric --range 1-255', '300', 'defer')).toBe(false);
  });

  it('refuses a validator name it cannot run instead of guessing', () => {
    expect(() => runValidator('no-such-check --x', '1', 'defer')).toThrow(/unknown VyOS validator "no-such-check"/);
  });
});

describe('schema build', () => {
  const paths: Record<string, RawDef> = {
    'load-balancing': { t: 'node' },
    'load-balancing wan': { t: 'node' },
    'load-balancing wan hook': { t: 'leaf', validators: ['script'] },
    'load-balancing wan interface-health': {
      t: 'tag',
      regex: ['(eth|wg)[0-9]+'],
      validators: ['file-path --lookup-path /sys/class/net --directory'],
      err: 'not an interface',
    },
    'load-balancing wan interface-health <tag> nexthop': {
      t: 'leaf',
      validators: ['ipv4-address'],
      v14: { validators: ['numeric --range 1-9'], err: 'one digit in 1.4' },
    },
    'load-balancing wan only-new': { t: 'leaf', valueless: true, only: '1.5' },
  };

  it('honours `only` and the v14 overrides, constraint messages included', () => {
    const v14 = buildSchema('1.4', paths);
    const v15 = buildSchema('1.5', paths);
    expect(lookupSchema(v15, ['load-balancing', 'wan', 'only-new'])?.schema.valueless).toBe(true);
    expect(lookupSchema(v14, ['load-balancing', 'wan', 'only-new'])).toBeUndefined();
    const nexthop = ['load-balancing', 'wan', 'interface-health', 'eth0', 'nexthop'];
    expect(lookupSchema(v14, nexthop)?.schema.constraintErrorMessage).toBe('one digit in 1.4');
    expect(lookupSchema(v15, nexthop)?.schema.constraintErrorMessage).toBeUndefined();
    expect(walkPath(v14, [...nexthop, '7'], emulate).ok).toBe(true);
    expect(walkPath(v15, [...nexthop, '7'], emulate).ok).toBe(false);
    expect(walkPath(v15, [...nexthop, '192.0.2.1'], emulate).ok).toBe(true);
  });

  it('lets a deferred validator decide alone only where no regex constrains the node', () => {
    const root = buildSchema('1.5', paths);
    const hook = ['load-balancing', 'wan', 'hook', 'relative/hook'];
    expect(walkPath(root, hook, defer).ok).toBe(true);
    expect(walkPath(root, hook, emulate)).toMatchObject({ ok: false, problem: { kind: 'invalid-value', at: 3 } });
    // file-path beside the interface-name regex: the regex decides under both options.
    for (const options of [emulate, defer]) {
      expect(walkPath(root, ['load-balancing', 'wan', 'interface-health', 'eth3'], options).ok).toBe(true);
      expect(walkPath(root, ['load-balancing', 'wan', 'interface-health', 'bond3'], options)).toMatchObject({
        ok: false,
        problem: { kind: 'invalid-value', node: { constraintErrorMessage: 'not an interface' } },
      });
    }
  });

  it('refuses data naming a validator nobody implemented, naming the entry', () => {
    expect(() => buildSchema('1.4', { a: { t: 'leaf', validators: ['numeric --positive', 'mystery-check'] } })).toThrow(
      'VyOS 1.4 schema "a": unknown validator(s) mystery-check',
    );
  });

  it('loads both data files for both versions (interfaces vti comes from the supplement)', () => {
    for (const version of ['1.4', '1.5'] as const) {
      expect(lookupSchema(schemaFor(version), ['interfaces', 'vti', 'vti1', 'address'])?.schema.kind).toBe('leaf');
      expect(lookupSchema(schemaFor(version), ['load-balancing', 'wan', 'rule', '10', 'interface'])?.schema.kind).toBe('tag');
    }
    expect(schemaFor('1.4')).toBe(schemaFor('1.4'));
  });
});

describe('path walk', () => {
  const weight = ['load-balancing', 'wan', 'rule', '10', 'interface', 'eth1', 'weight'];

  it('resolves config-tree paths with what each word is', () => {
    const result = walkPath(schemaFor('1.4'), [...weight, '3'], emulate);
    expect(result).toMatchObject({
      ok: true,
      path: {
        nodePath: weight,
        value: '3',
        kinds: ['node', 'node', 'tag', 'tagvalue', 'tag', 'tagvalue', 'leaf'],
      },
    });
  });

  it.each<[string, string[], PathProblem['kind'], number | undefined]>([
    ['no words', [], 'empty-path', undefined],
    ['an empty word', ['load-balancing', ''], 'empty-word', 1],
    ['an unknown node', ['load-balancing', 'wan', 'rules'], 'unknown-node', 2],
    ['a value on a valueless leaf', ['load-balancing', 'wan', 'disable-source-nat', 'yes'], 'value-on-valueless-leaf', 3],
    ['words after a value', [...weight, '3', '4'], 'words-after-value', 7],
    ['whitespace in a tag value', ['qos', 'policy', 'shaper', 'PP x'], 'tag-value-whitespace', 3],
    ['a quote in a value', ['qos', 'policy', 'shaper', 'PP', 'description', 'a"b'], 'forbidden-character', 5],
    ['a value out of range', [...weight, '300'], 'invalid-value', 7],
    ['a leaf without its value', weight, 'requires-value', undefined],
    ['a tag node without a tag value', ['protocols', 'static', 'route'], 'requires-value', undefined],
  ])('names the problem with %s', (_what, words, kind, at) => {
    const problem = problemOf(words, emulate);
    expect(problem?.kind).toBe(kind);
    if (at !== undefined) expect(problem).toMatchObject({ at });
  });

  it('checks only the path on delete', () => {
    expect(walkPath(schemaFor('1.5'), [...weight, '300'], { op: 'delete', routerState: 'emulate' }).ok).toBe(true);
    expect(walkPath(schemaFor('1.5'), ['qos', 'policy', 'shaper', 'PP x'], { op: 'delete', routerState: 'defer' }).ok).toBe(true);
    expect(problemOf(['protocols', 'nope'], { op: 'delete', routerState: 'emulate' })?.kind).toBe('unknown-node');
  });

  it('follows the version', () => {
    expect(problemOf(['service', 'https', 'api', 'rest'], emulate, '1.4')?.kind).toBe('unknown-node');
    expect(problemOf(['service', 'https', 'api', 'rest'], emulate, '1.5')).toBeUndefined();
    const rate = ['policy', 'route', 'PR', 'rule', '10', 'limit', 'rate'];
    expect(problemOf([...rate, '100/second'], emulate, '1.4')?.kind).toBe('invalid-value');
    expect(problemOf([...rate, '100/second'], emulate, '1.5')).toBeUndefined();
  });
});
