import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { rootConfigSchema } from './schema.ts';
import { candidatePaths, pathRelays } from './route-security.ts';
import { Topology } from './topology.ts';

const example = parse(readFileSync('pathpilot.example.yaml', 'utf8')) as Record<string, unknown>;
const withSecurity = (route_security: object) =>
  rootConfigSchema.safeParse({ ...example, policy: { ...(example['policy'] as object), route_security } });

describe('route security', () => {
  it('names the relays of a path', () => {
    const root = rootConfigSchema.parse(example);
    const path = root.paths.find((p) => p.id === 'onprem-nyc.aws-euc1.3')!;
    expect(pathRelays(root, path)).toEqual(['onprem-fra']);
  });

  it('keeps paths through untrusted relays out of the candidates (known, never chosen), and says why', () => {
    const r = withSecurity({ trusted_relays: ['aws-use1', 'aws-euc1', 'azure-weu', 'onprem-fra'] });
    expect(r.success).toBe(true);
    const root = r.data!;
    const { excluded } = candidatePaths(root);
    expect(excluded).toContainEqual({ path: 'onprem-fra.aws-use1.2', reason: 'relays through onprem-nyc, not a trusted relay' });
    const topology = new Topology(root);
    expect(topology.pathsFor('onprem-fra', 'aws-use1').map((p) => p.id)).toEqual(['onprem-fra.aws-use1.1']);
    expect(topology.paths.has('onprem-fra.aws-use1.2')).toBe(true);
    expect(topology.pathsFor('onprem-nyc', 'aws-euc1')).toHaveLength(3);
    expect(topology.excludedPaths).toEqual(excluded);
  });

  it('a hop bound that leaves a pair no candidate, or an unknown relay, is a configuration error', () => {
    const r = withSecurity({ max_hops: 1 });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.message)).toContainEqual(
      expect.stringMatching(
        /^route security leaves onprem-nyc>aws-euc1 no candidate path \(onprem-nyc\.aws-euc1\.1: 2 hops, more than max_hops 1;/,
      ),
    );
    const unknown = withSecurity({ trusted_relays: ['nowhere'] });
    expect(unknown.error!.issues.map((i) => i.message)).toContain('unknown site "nowhere"');
  });
});
