import type { StoreCapabilities, StoreVersion } from './types.ts';

/** Parses `18.16.1`, `26.7.2.1` (and suffixes such as `-stable`) into a StoreVersion. */
export function parseVersion(text: string): StoreVersion {
  const m = /^(\d+)\.(\d+)/.exec(text.trim());
  if (!m) throw new Error(`unrecognised ClickHouse version ${JSON.stringify(text)}`);
  return { major: Number(m[1]), minor: Number(m[2]), text: text.trim() };
}

export function atLeast(v: StoreVersion, major: number, minor = 0): boolean {
  return v.major > major || (v.major === major && v.minor >= minor);
}

/**
 * What the detected version supports (see shared/reference/infra-recipes.md part B):
 * TTL 19.6, LowCardinality without a flag 19.3, DateTime64 20.1, window functions 21.8 (GA),
 * query parameters 19.11.
 */
export function capabilitiesFor(v: StoreVersion): StoreCapabilities {
  return {
    ttl: atLeast(v, 19, 6),
    lowCardinality: atLeast(v, 19, 3),
    dateTime64: atLeast(v, 20, 1),
    windowFunctions: atLeast(v, 21, 8),
    queryParameters: atLeast(v, 19, 11),
  };
}

/**
 * Settings pinned on every request so 18.16 and 26.x answer alike. All three exist in 18.16;
 * newer servers also get `async_insert=0` (default 1 since 26.3) so an acknowledged insert is
 * written, and block deduplication stays what the sink expects.
 */
export function pinnedSettings(v: StoreVersion): Record<string, string | number> {
  const settings: Record<string, string | number> = {
    output_format_json_quote_64bit_integers: 0,
    input_format_skip_unknown_fields: 1,
    date_time_input_format: 'best_effort',
  };
  if (atLeast(v, 21, 11)) settings.async_insert = 0;
  return settings;
}
