import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { pathRegions, residencyViolation, rulesFor } from './residency.ts';
import { rootConfigSchema } from './schema.ts';

const example = parse(readFileSync('pathpilot.example.yaml', 'utf8')) as Record<string, unknown>;
const withResidency = (residency: object[]) =>
  rootConfigSchema.parse({ ...example, policy: { ...(example['policy'] as object), residency } });

describe('data residency', () => {
  const root = withResidency([
    { name: 'eu-realtime', classes: ['realtime'], regions: ['eu-*'] },
    { name: 'euc1-data', dst_prefixes: ['10.11.0.0/16'], regions: ['eu-*', 'us-east*'] },
  ]);
  const path = (id: string) => root.paths.find((p) => p.id === id)!;

  it('a path crosses the regions of its ends and relays', () => {
    expect(pathRegions(root, path('onprem-nyc.aws-euc1.3'))).toEqual(['us-east', 'eu-central', 'eu-central-1']);
  });

  it('binds rules by class and by destination prefix, and names the rule and the region a path leaves them through', () => {
    expect(rulesFor(root, 'aws-euc1', 'bulk').map((r) => r.name)).toEqual(['euc1-data']);
    expect(rulesFor(root, 'aws-euc1', 'realtime').map((r) => r.name)).toEqual(['eu-realtime', 'euc1-data']);
    expect(residencyViolation(root, path('onprem-fra.aws-euc1.1'), 'realtime')).toBeUndefined();
    expect(residencyViolation(root, path('onprem-nyc.aws-euc1.1'), 'realtime')).toEqual({
      rule: 'eu-realtime',
      region: 'us-east',
    });
    expect(residencyViolation(root, path('onprem-nyc.aws-euc1.1'), 'bulk')).toBeUndefined();
  });

  it('a rule naming an unknown class is a configuration error', () => {
    const r = rootConfigSchema.safeParse({
      ...example,
      policy: { residency: [{ name: 'x', classes: ['gold'], regions: ['eu-*'] }] },
    });
    expect(r.error!.issues.map((i) => i.message)).toContain('unknown class "gold"');
  });
});
