/**
 * Expands the grafana-clickhouse-datasource (v4) macros and Grafana template variables the way the
 * plugin does before a query reaches ClickHouse, so tests can run panel SQL for real. Expansions
 * follow the plugin's `pkg/macros`: `$__timeFilter(c)` → `c >= toDateTime(from) AND c <= toDateTime(to)`,
 * `$__fromTime`/`$__toTime` → `toDateTime(s)`, `$__dateFilter(c)` → `c >= toDate('YYYY-MM-DD') AND …`,
 * `$__interval_s` → seconds. An unknown `$__` macro or an undefined variable is an error, never
 * passed through silently. `$__timeInterval` and the `_ms` forms are known but render to functions
 * 18.16 lacks (toStartOfInterval, fromUnixTimestamp64Milli): they expand faithfully so a test against
 * 18.16 fails on them.
 */
export interface MacroContext {
  /** Range start and end, epoch ms. */
  from: number;
  to: number;
  /** Panel interval in seconds (Grafana computes it from range and width; at least 1). */
  intervalSeconds: number;
  /** Template variables by name: one value, several (multi-value), or `$__all` (the All option). */
  vars?: Record<string, string | string[]>;
}

export class MacroError extends Error {
  override name = 'MacroError';
}

const sec = (ms: number): number => Math.floor(ms / 1000);
const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** Splits `a, b` at top-level commas (arguments may contain parentheses). */
function splitArgs(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim() !== '') out.push(cur.trim());
  return out;
}

type MacroFn = (args: string[], ctx: MacroContext) => string;

const allValue = '$__all';
const isAll = (v: string | string[] | undefined): boolean => (Array.isArray(v) ? v.includes(allValue) : v === allValue);

const functionMacros: Record<string, { arity: number; fn: MacroFn }> = {
  // `$__conditionalAll(cond, $var)`: the condition, or 1=1 when the variable is set to All.
  conditionalAll: {
    arity: 2,
    fn: ([cond, ref], x) => {
      const name = /^\$\{?([A-Za-z_]\w*)\}?$/.exec(ref!)?.[1];
      if (!name) throw new MacroError(`$__conditionalAll needs a plain variable as its second argument, got ${ref}`);
      if (x.vars?.[name] === undefined) throw new MacroError(`template variable $${name} is not defined`);
      return isAll(x.vars[name]) ? '1=1' : cond!;
    },
  },
  timeFilter: {
    arity: 1,
    fn: ([c], x) => `${c} >= toDateTime(${sec(x.from)}) AND ${c} <= toDateTime(${sec(x.to)})`,
  },
  timeFilter_ms: {
    arity: 1,
    fn: ([c], x) => `${c} >= fromUnixTimestamp64Milli(${x.from}) AND ${c} <= fromUnixTimestamp64Milli(${x.to})`,
  },
  dateFilter: {
    arity: 1,
    fn: ([c], x) => `${c} >= toDate('${day(x.from)}') AND ${c} <= toDate('${day(x.to)}')`,
  },
  dateTimeFilter: {
    arity: 2,
    fn: ([d, t], x) =>
      `(${d} >= toDate('${day(x.from)}') AND ${d} <= toDate('${day(x.to)}')) AND ` +
      `(${t} >= toDateTime(${sec(x.from)}) AND ${t} <= toDateTime(${sec(x.to)}))`,
  },
  timeInterval: {
    arity: 1,
    fn: ([c], x) => `toStartOfInterval(toDateTime(${c}), INTERVAL ${Math.max(1, x.intervalSeconds)} second)`,
  },
  timeInterval_ms: {
    arity: 1,
    fn: ([c], x) => `toStartOfInterval(toDateTime64(${c}, 3), INTERVAL ${Math.max(1, x.intervalSeconds) * 1000} millisecond)`,
  },
};

const valueMacros: Record<string, (x: MacroContext) => string> = {
  fromTime: (x) => `toDateTime(${sec(x.from)})`,
  toTime: (x) => `toDateTime(${sec(x.to)})`,
  fromTime_ms: (x) => `fromUnixTimestamp64Milli(${x.from})`,
  toTime_ms: (x) => `fromUnixTimestamp64Milli(${x.to})`,
  interval_s: (x) => String(Math.max(1, Math.floor(x.intervalSeconds))),
  // Grafana's own globals (replaced by Grafana before the plugin sees the query).
  from: (x) => String(x.from),
  to: (x) => String(x.to),
};

/** Names of `$var` / `${var}` / `${var:fmt}` template variables a query uses (not `$__` macros). */
export function referencedVariables(query: string): string[] {
  const names = new Set<string>();
  for (const m of query.matchAll(/\$\{([A-Za-z_]\w*)(?::\w+)?\}|\$([A-Za-z_]\w*)/g)) {
    const name = m[1] ?? m[2]!;
    if (!name.startsWith('__')) names.add(name);
  }
  return [...names];
}

export function expandMacros(query: string, ctx: MacroContext): string {
  let out = '';
  let i = 0;
  while (i < query.length) {
    const at = query.indexOf('$__', i);
    if (at < 0) {
      out += query.slice(i);
      break;
    }
    out += query.slice(i, at);
    const name = /^\$__(\w+)/.exec(query.slice(at))![1]!;
    let end = at + 3 + name.length;
    const fm = functionMacros[name];
    if (fm) {
      if (query[end] !== '(') throw new MacroError(`$__${name} needs arguments: $__${name}(column)`);
      let depth = 0;
      let close = -1;
      for (let j = end; j < query.length; j++) {
        if (query[j] === '(') depth++;
        else if (query[j] === ')' && --depth === 0) {
          close = j;
          break;
        }
      }
      if (close < 0) throw new MacroError(`unbalanced parentheses after $__${name}`);
      const args = splitArgs(query.slice(end + 1, close));
      if (args.length !== fm.arity) {
        throw new MacroError(`$__${name} takes ${fm.arity} argument(s), got ${args.length}: ${query.slice(at, close + 1)}`);
      }
      out += fm.fn(args, ctx);
      end = close + 1;
    } else {
      const vm = valueMacros[name];
      if (!vm) throw new MacroError(`unknown macro $__${name}`);
      out += vm(ctx);
      // The plugin also accepts `$__fromTime()`-style calls with empty parentheses.
      if (query.startsWith('()', end)) end += 2;
    }
    i = end;
  }
  return out.replace(
    /\$\{([A-Za-z_]\w*)(?::(\w+))?\}|\$([A-Za-z_]\w*)/g,
    (whole, braced?: string, fmt?: string, bare?: string) => {
      const name = (braced ?? bare)!;
      const value = ctx.vars?.[name];
      if (value === undefined) throw new MacroError(`template variable $${name} is not defined (in ${JSON.stringify(whole)})`);
      if (isAll(value)) throw new MacroError(`$${name} is All here: wrap its condition in $__conditionalAll(…, $${name})`);
      const values = Array.isArray(value) ? value : [value];
      if (fmt === 'singlequote') return values.map((v) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`).join(',');
      if (fmt !== undefined && fmt !== 'raw') throw new MacroError(`unsupported variable format :${fmt}`);
      return values.join(',');
    },
  );
}
