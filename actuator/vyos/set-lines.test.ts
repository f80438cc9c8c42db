import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSetLine, setLines } from './diff.ts';

describe('set lines read back', () => {
  it('give path and value: the value is the quoted last word', () => {
    expect(parseSetLine("set interfaces ethernet eth0 description 'LAN New York DC'")).toEqual({
      path: ['interfaces', 'ethernet', 'eth0', 'description'],
      value: 'LAN New York DC',
    });
    expect(parseSetLine(`set interfaces ethernet eth1 description "say 'hi'"`)).toEqual({
      path: ['interfaces', 'ethernet', 'eth1', 'description'],
      value: "say 'hi'",
    });
    expect(parseSetLine('set load-balancing wan disable-source-nat')).toEqual({
      path: ['load-balancing', 'wan', 'disable-source-nat'],
    });
    expect(parseSetLine('delete interfaces ethernet eth0')).toBeUndefined();
    expect(parseSetLine('set')).toBeUndefined();
  });

  it('round-trip every value a router can hold (VyOS refuses quotes and newlines in a value)', () => {
    const value = fc.string({ maxLength: 30 }).filter((v) => !/['"\n]/.test(v));
    fc.assert(
      fc.property(value, (v) => {
        const [line] = setLines(['system'], { 'host-name': v });
        expect(parseSetLine(line!)).toEqual({ path: ['system', 'host-name'], value: v });
      }),
    );
  });
});
