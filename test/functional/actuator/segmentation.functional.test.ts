/**
 * Micro-segmentation and policy import on the real services (issue 18): flows between three segments of
 * the example network in ClickHouse; `pathpilot policy suggest` proposes allow rules for what was seen
 * (above a volume threshold) and default-deny between segments, naming the small conversation the deny
 * would cut; the suggestion plans as VyOS rules; `pathpilot policy import` sends groups to the running
 * actuator's API, where the proposal is risk-assessed like any change.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify, parse } from 'yaml';
import { actuatorRoutes } from '../../../actuator/index.ts';
import { migrate } from '../../../analytics/schema/index.ts';
import { run } from '../../../cli/commands/policy.ts';
import { captureOutput } from '../../../cli/testing.ts';
import { TokenAuthenticator } from '../../../core/http/auth.ts';
import { createHttpServer } from '../../../core/http/server.ts';
import { createRegistry } from '../../../core/metrics.ts';
import { flowRecord } from '../../../core/records/index.ts';
import { createStore, ident, sql } from '../../../core/store/index.ts';
import type { Store } from '../../../core/store/types.ts';
import { requireService, uniqueName } from '../../support/services.ts';
import { startLabActuator } from './support.ts';

const work = mkdtempSync(join(tmpdir(), 'pp-segments-'));
let store: Store;
let config: string;
const TOKEN = 'policy-import-admin-token-0123';

beforeAll(async () => {
  const database = uniqueName('pp_segments');
  store = createStore({ kind: 'server', url: requireService('clickhouse'), database, path: '' });
  await store.start();
  await migrate(store);
  const doc = parse(readFileSync('pathpilot.example.yaml', 'utf8')) as Record<string, unknown>;
  doc['services'] = { store: { kind: 'server', url: requireService('clickhouse'), database } };
  config = join(work, 'pathpilot.yaml');
  writeFileSync(config, stringify(doc));
  const now = Date.now();
  let seq = 0;
  const flow = (src: string, dst: string, protocol: number, port: number, bytes: number) =>
    flowRecord.toRow({
      time_received: now - 3_600_000,
      exporter: '127.0.1.1',
      format: 'ipfix',
      domain_id: 1,
      sequence: seq++,
      sampling_rate: 1,
      src_addr: src,
      dst_addr: dst,
      dst_port: port,
      protocol,
      bytes,
      packets: 10,
      site: 'onprem-nyc',
    });
  await store.insert('flows_raw', [
    flow('10.51.1.10', '10.50.2.20', 6, 443, 5_000_000), // nyc → fra web
    flow('10.51.1.11', '10.50.2.20', 6, 443, 3_000_000),
    flow('10.51.1.10', '10.50.2.21', 6, 8443, 2_000_000),
    flow('10.50.2.20', '10.10.3.30', 6, 5432, 9_000_000), // fra → aws database
    flow('10.51.1.10', '10.10.3.30', 6, 22, 4_000), // a small ssh from nyc straight to the database
    flow('10.51.1.10', '10.51.9.9', 6, 80, 1_000_000), // inside the nyc segment: not segmentation's business
  ]);
});
afterAll(async () => {
  await store?.exec(sql`DROP DATABASE IF EXISTS ${ident(store.database)}`).catch(() => undefined);
  await store?.stop();
});

describe('pathpilot policy suggest | import', () => {
  it('suggests allows for the conversations seen, default-deny between segments, and names what the deny would cut', async () => {
    const segments = join(work, 'segments.json');
    writeFileSync(
      segments,
      JSON.stringify({
        Segments: [
          { Name: 'users', Sites: ['onprem-nyc'] },
          { Name: 'web', Sites: ['onprem-fra'] },
          { Name: 'db', Prefixes: ['10.10.0.0/16'] },
        ],
      }),
    );
    const out = join(work, 'groups.json');
    const c = captureOutput();
    expect(await run(['suggest', '--segments', segments, '--days', '2', '--min-bytes', '100000', '-c', config, '-o', out])).toBe(
      0,
    );
    const text = c.out.join('');
    expect(text).toContain('allow users → web tcp 443,8443 (3 flows, 10000000 bytes in 2 d)');
    expect(text).toContain('allow web → db tcp 5432 (1 flows, 9000000 bytes in 2 d)');
    expect(text).toContain('deny  users → db would block 10.51.1.10 → 10.10.3.30 tcp/22 (4000 bytes)');
    expect(text).not.toContain('10.51.9.9');
    const groups = JSON.parse(readFileSync(out, 'utf8')) as {
      SecurityGroups: { Name: string; Rules: Record<string, string>[] }[];
    };
    expect(groups.SecurityGroups.map((g) => g.Name)).toEqual(['to-users', 'to-web', 'to-db']);
    expect(groups.SecurityGroups[2]!.Rules).toEqual([
      { Protocol: 'tcp', PortRange: '5432', SourceIP: '10.50.0.0/16', DestinationIP: '10.10.0.0/16', Action: 'Allow' },
      { Protocol: 'all', SourceIP: '10.51.0.0/16', DestinationIP: '10.10.0.0/16', Action: 'Deny' },
      { Protocol: 'all', SourceIP: '10.50.0.0/16', DestinationIP: '10.10.0.0/16', Action: 'Deny' },
    ]);
    // The suggestion is a valid groups file that plans as VyOS rules.
    const plan = captureOutput();
    expect(await run(['plan', '-f', out])).toBe(0);
    expect(plan.out.join('')).toContain("set firewall ipv4 forward filter rule 12000 action 'accept'");
  });

  it('a bad segments file gets a line-precise error and nothing is read', async () => {
    const bad = join(work, 'bad.json');
    writeFileSync(
      bad,
      '{\n  "Segments": [\n    { "Name": "users", "Prefixes": ["10.51.0.1/16"] },\n    { "Name": "x", "Sites": ["nowhere"] }\n  ]\n}\n',
    );
    const c = captureOutput();
    expect(await run(['suggest', '--segments', bad, '-c', config])).toBe(1);
    expect(c.err.join('')).toMatch(/bad\.json:3:\d+.*host bits zero/);
  });

  it('import sends the groups to the actuator as a risk-assessed security proposal', async () => {
    const lab = await startLabActuator();
    const api = createHttpServer(
      { registry: createRegistry(), auth: TokenAuthenticator.fromSpec(`admin:ops:${TOKEN}`) },
      { host: '127.0.0.1', port: 0 },
      [actuatorRoutes(lab.actuator)],
    );
    await api.start();
    process.env.PATHPILOT_API_TOKEN = TOKEN;
    try {
      const c = captureOutput();
      expect(
        await run(['import', '-f', 'test/fixtures/security/groups.json', '--router', 'onprem-nyc', '--api', api.url()]),
      ).toBe(0);
      expect(c.out.join('')).toMatch(
        // This actuator has no flow data or dataplane model: it says so, and the change waits for a human.
        /^proposal policy-onprem-nyc-\d+: awaiting-approval, risk medium \(no dataplane model: reachability not computed\)/,
      );
      const [p] = await lab.actuator.list();
      expect(p!.proposal.kind).toBe('security');
      expect(p!.proposal.intents[0]).toMatchObject({ kind: 'firewall-rules', router: 'onprem-nyc', first: 10_000 });
      // A bad token: refused with the API's reason, nothing submitted.
      process.env.PATHPILOT_API_TOKEN = 'not-the-token-at-all-123';
      const e = captureOutput();
      expect(
        await run(['import', '-f', 'test/fixtures/security/groups.json', '--router', 'onprem-nyc', '--api', api.url()]),
      ).toBe(1);
      expect(e.err.join('')).toContain('the API refused the proposal (401)');
      expect(await lab.actuator.list()).toHaveLength(1);
    } finally {
      delete process.env.PATHPILOT_API_TOKEN;
      await api.stop();
      await lab.stop();
    }
  });
});
