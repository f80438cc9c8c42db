import { describe, expect, it } from 'vitest';
import { expandMacros, MacroError, referencedVariables } from './macros.ts';

const ctx = { from: Date.UTC(2026, 10, 20, 10, 0, 0, 500), to: Date.UTC(2026, 10, 21, 10, 0, 0), intervalSeconds: 300 };
const fromS = Math.floor(ctx.from / 1000);
const toS = ctx.to / 1000;

describe('expandMacros', () => {
  it('expands the time filter, range bounds and interval like the ClickHouse plugin', () => {
    expect(expandMacros('WHERE $__timeFilter(t) AND x < $__toTime', ctx)).toBe(
      `WHERE t >= toDateTime(${fromS}) AND t <= toDateTime(${toS}) AND x < toDateTime(${toS})`,
    );
    expect(expandMacros('$__fromTime $__interval_s', ctx)).toBe(`toDateTime(${fromS}) 300`);
    expect(expandMacros('$__dateFilter(day)', ctx)).toBe("day >= toDate('2026-11-20') AND day <= toDate('2026-11-21')");
    expect(expandMacros('$__dateTimeFilter(d, t)', ctx)).toBe(
      `(d >= toDate('2026-11-20') AND d <= toDate('2026-11-21')) AND (t >= toDateTime(${fromS}) AND t <= toDateTime(${toS}))`,
    );
  });

  it('takes expressions with parentheses and commas as macro arguments', () => {
    expect(expandMacros('$__timeFilter(toDateTime(greatest(a, b)))', ctx)).toContain('toDateTime(greatest(a, b)) >= toDateTime(');
    expect(expandMacros('$__fromTime()', ctx)).toBe(`toDateTime(${fromS})`);
  });

  it('renders the forms 18.16 lacks faithfully (so running them there fails)', () => {
    expect(expandMacros('$__timeInterval(t)', ctx)).toBe('toStartOfInterval(toDateTime(t), INTERVAL 300 second)');
    expect(expandMacros('$__timeFilter_ms(t)', ctx)).toContain(`fromUnixTimestamp64Milli(${ctx.from})`);
  });

  it('substitutes template variables, quoting on request', () => {
    expect(
      expandMacros("x = $budget AND y = ${site:singlequote} AND z = '${raw}'", {
        ...ctx,
        vars: { budget: '10', site: "o'k", raw: 'r' },
      }),
    ).toBe("x = 10 AND y = 'o\\'k' AND z = 'r'");
    expect(referencedVariables('$a ${b} ${c:singlequote} $__timeFilter(t) $__interval_s')).toEqual(['a', 'b', 'c']);
  });

  it('drops a $__conditionalAll condition when its variable is All, and quotes multi-values', () => {
    const q = 'WHERE $__conditionalAll(site IN (${site:singlequote}), $site) AND x';
    expect(expandMacros(q, { ...ctx, vars: { site: ['$__all'] } })).toBe('WHERE 1=1 AND x');
    expect(expandMacros(q, { ...ctx, vars: { site: ['a', "b'c"] } })).toBe("WHERE site IN ('a','b\\'c') AND x");
    expect(() => expandMacros('site IN (${site:singlequote})', { ...ctx, vars: { site: '$__all' } })).toThrow(/conditionalAll/);
    expect(() => expandMacros('$__conditionalAll(a = 1, ${site:singlequote})', { ...ctx, vars: { site: 'a' } })).toThrow(
      /plain variable/,
    );
  });

  it('rejects unknown macros, missing arguments and undefined variables', () => {
    expect(() => expandMacros('$__timeFiltre(t)', ctx)).toThrow(MacroError);
    expect(() => expandMacros('$__timeFilter', ctx)).toThrow(/needs arguments/);
    expect(() => expandMacros('$__timeFilter(a, b)', ctx)).toThrow(/takes 1 argument/);
    expect(() => expandMacros('$__timeFilter(t', ctx)).toThrow(/unbalanced/);
    expect(() => expandMacros('x = $nope', ctx)).toThrow(/\$nope is not defined/);
  });
});
