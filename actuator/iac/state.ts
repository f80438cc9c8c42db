/**
 * What `pathpilot export` renders: each router's desired config as `set …` lines (the GitOps export's
 * format), where a line whose secret was redacted stands for a value the renderers must ask the operator
 * for rather than write.
 */
import { REDACTED } from '../../core/redact.ts';
import { parseSetLine } from '../vyos/diff.ts';

/** One router's desired state: its config as `set …` lines, in the order they apply. */
export interface RouterState {
  router: string;
  lines: string[];
}

/** Where a router's API answers: `router.api_url` of its site ('' where the config leaves it to the lab). */
export interface RouterEndpoint {
  router: string;
  url: string;
}

/** A file an exporter writes, relative to the output directory. */
export interface ExportFile {
  path: string;
  text: string;
}

/** The value `redactCommandLine` leaves in a line in place of a secret. */
export const REDACTED_VALUE = `'${REDACTED}'`;

/**
 * The config path of a line whose value was redacted, as the key the renderers look its secret up by
 * (`interfaces wireguard wg0 private-key`); undefined for every other line.
 */
export function redactedSecretKey(line: string): string | undefined {
  if (!line.trimEnd().endsWith(REDACTED_VALUE)) return undefined;
  const parsed = parseSetLine(line);
  return parsed?.value === REDACTED ? parsed.path.join(' ') : undefined;
}

/** The host part of a router's API URL (`10.0.0.1`, `vyos1.example.net`, `::1`), undefined without one. */
export function endpointHost(url: string): string | undefined {
  if (!url) return undefined;
  const host = new URL(url).hostname;
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
