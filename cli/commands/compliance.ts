import { analyticsStore } from '../../analytics/schema/cluster.ts';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isExit, parseCommand, runSubcommand, usageError } from '../args.ts';
import {
  assessRouters,
  complianceRules,
  defaultComplianceContext,
  type ComplianceContext,
} from '../../actuator/security/compliance.ts';
import {
  buildComplianceReport,
  complianceCsv,
  complianceHtml,
  type ResidencySection,
} from '../../actuator/security/compliance-report.ts';
import { proveResidency, regionsSeen, type ResidencyProof } from '../../actuator/security/residency-proof.ts';
import { readOverlayDir } from '../../actuator/tunnels/overlay-state.ts';
import { siteClientsFromConfig } from '../../actuator/site-clients.ts';
import { trafficByFirstHop } from '../../analytics/queries/index.ts';
import { loadConfig } from '../../core/config/index.ts';
import type { LoadedConfig } from '../../core/config/index.ts';
import { Topology } from '../../core/config/topology.ts';
import { errorMessage } from '../../core/errors.ts';
import { createLogger } from '../../core/log.ts';
import { formatBytes } from '../../core/report-text.ts';
import { missingSchema } from '../../core/store/index.ts';

export const summary = "compliance report: each router's running config checked against the rules pack (HTML, JSON, CSV)";

const usage = `usage: pathpilot compliance report [-c FILE] [-o DIR] [--overlay-dir DIR] [--key-max-age-h N]
                                    [--residency-hours N] [--min-score S]
       pathpilot compliance rules

report: reads every site router's running config (/retrieve) and checks it against the rules pack: HTTPS
API with keys only and limited to management clients, no plaintext management (SNMP v1/v2c), SSH
key-only, no any-to-any accept, default-deny on forward, strong IKE/ESP proposals, WireGuard keys
rotated within policy, remote syslog and NTP. Each rule maps to CIS Controls v8, SOC 2, ISO 27001:2022
Annex A and PCI DSS v4.0 control ids. Writes DIR/compliance.html, .json and .csv and prints a score per
router. With policy.residency rules, it also proves data residency from the flow data in the analytics
store: per rule, the bytes of its traffic per class and region crossed (as seen by each exporting router:
its region and the far end of the link the flow left on), proven, violated or no traffic; a store that
cannot be read is reported, not fatal. rules: the pack with its control ids.

  -c, --config FILE     pathpilot.yaml (default ./pathpilot.yaml, else the bundled example)
  -o, --out DIR         where the report is written (default ./compliance-report)
  --overlay-dir DIR     overlay gen's directory: its key-times.json tells each WireGuard key's age
  --key-max-age-h N     the rotation policy for WireGuard keys (default 72)
  --residency-hours N   the window of flow data the residency proof reads, in hours (default 24; 0: no proof)
  --min-score S         exit 1 when a router scores under S (0-100) or cannot be read, or a residency
                        rule is violated

Exit status: 0 done, 1 a router unreadable, or with --min-score under it or a residency rule violated (the
report is still written), 2 usage errors.
`;

export const subcommands = ['report', 'rules'] as const;

async function report(args: string[]): Promise<number> {
  const name = 'pathpilot compliance report';
  const parsed = parseCommand(args, {
    name,
    usage,
    options: {
      config: { type: 'string', short: 'c' },
      out: { type: 'string', short: 'o', default: 'compliance-report' },
      'overlay-dir': { type: 'string' },
      'key-max-age-h': { type: 'string', default: '72' },
      'residency-hours': { type: 'string', default: '24' },
      'min-score': { type: 'string' },
    },
  });
  if (isExit(parsed)) return parsed.exit;
  const { values } = parsed;
  const maxAge = Number(values['key-max-age-h']);
  if (!(maxAge > 0)) return usageError(name, '--key-max-age-h must be a positive number of hours').exit;
  const residencyHours = Number(values['residency-hours']);
  if (!(residencyHours >= 0 && Number.isFinite(residencyHours)))
    return usageError(name, '--residency-hours must be a number of hours ≥ 0').exit;
  const minScore = values['min-score'] === undefined ? undefined : Number(values['min-score']);
  if (minScore !== undefined && !(minScore >= 0 && minScore <= 100)) return usageError(name, '--min-score must be 0-100').exit;
  try {
    const config = loadConfig(values.config, process.env);
    const { root } = config;
    const topology = new Topology(root);
    const now = Date.now();
    const ctx: ComplianceContext = { ...defaultComplianceContext(now), wireguardMaxKeyAgeH: maxAge };
    if (values['overlay-dir']) {
      const overlay = await readOverlayDir(values['overlay-dir']);
      if (overlay.keyTimes) ctx.wireguardKeyTimes = overlay.keyTimes;
    }
    // The keys the actuator rotated (actuator.router_keys.store), else each site's api_key_env.
    const { routerFor } = siteClientsFromConfig(config, process.env, { topology });
    const routers = [...topology.sites.keys()].map((site) => ({ name: site, api: routerFor(site) }));
    const [results, residency] = await Promise.all([
      assessRouters(routers, ctx),
      residencyHours > 0 && root.policy.residency.length ? proveFromStore(config, residencyHours, now) : undefined,
    ]);
    const r = buildComplianceReport(results, now, residency);
    await mkdir(values.out, { recursive: true });
    await writeFile(join(values.out, 'compliance.json'), JSON.stringify(r, null, 2) + '\n');
    await writeFile(join(values.out, 'compliance.csv'), complianceCsv(r));
    await writeFile(join(values.out, 'compliance.html'), complianceHtml(r));
    for (const router of results) {
      const failing = router.results.filter((x) => x.status === 'fail');
      process.stdout.write(
        router.error
          ? `${router.router}: ${router.error}\n`
          : `${router.router}: score ${router.score!.toFixed(1)}, ${failing.length} failing${failing.length ? ` (${failing.map((x) => x.id).join(', ')})` : ''}\n`,
      );
    }
    if (residency?.error) process.stdout.write(`residency: ${residency.error}\n`);
    for (const proof of residency?.rules ?? []) process.stdout.write(`${residencyLine(proof, residencyHours)}\n`);
    process.stdout.write(`report written to ${join(values.out, 'compliance.{html,json,csv}')}\n`);
    const short = results.some((x) => x.score === null || (minScore !== undefined && x.score < minScore));
    const violated = minScore !== undefined && (residency?.rules ?? []).some((p) => p.verdict === 'violated');
    return short || violated ? 1 : 0;
  } catch (err) {
    process.stderr.write(`${name}: ${errorMessage(err)}\n`);
    return 1;
  }
}

const isoWindow = (r: { from: number; to: number }) => ({
  from: new Date(r.from).toISOString(),
  to: new Date(r.to).toISOString(),
});

/**
 * The residency proof over the last `hours` of flow data in the configured store. A store that cannot be
 * read leaves the rules unproven, with the reason, rather than failing the whole report.
 */
async function proveFromStore(config: LoadedConfig, hours: number, now: number): Promise<ResidencySection> {
  const { root } = config;
  const range = { from: now - hours * 3_600_000, to: now };
  let stop = async () => {};
  try {
    const store = analyticsStore(config, { log: createLogger({ level: 'warn' }) });
    stop = () => store.stop();
    await store.start();
    const volume = await trafficByFirstHop(store, { range });
    // The window the rollups were read over (whole buckets), which the bytes cover.
    return { ...isoWindow(volume), rules: proveResidency(root, volume.rows) };
  } catch (err) {
    const missing = missingSchema(err);
    const why = missing ? `the store has no pathpilot schema yet (${missing}; run \`pathpilot migrate\`)` : errorMessage(err);
    return { ...isoWindow(range), error: `could not read the flow data: ${why}`, rules: [] };
  } finally {
    await stop();
  }
}

/** `residency eu-data: proven, 12.3 GB in eu-west, eu-central` (or what left the regions, or no traffic). */
function residencyLine(p: ResidencyProof, hours: number): string {
  const head = `residency ${p.rule}: ${p.verdict}`;
  if (p.verdict === 'no-traffic') return `${head}, nothing bound to it in the last ${hours} h`;
  if (p.verdict === 'proven') return `${head}, ${formatBytes(p.bytes_inside)} in ${regionsSeen(p).join(', ')}`;
  const shown = p.breaches
    .slice(0, 3)
    .map((b) => `${b.region} from ${b.src_site} on ${b.link || '(no link)'}, ${b.class} ${formatBytes(b.bytes)}`);
  const more = p.breaches.length > shown.length ? `; ${p.breaches.length - shown.length} more` : '';
  return `${head}, ${formatBytes(p.bytes_outside)} of ${formatBytes(p.bytes_inside + p.bytes_outside)} outside ${p.regions.join(', ')} (${shown.join('; ')}${more})`;
}

async function rules(args: string[]): Promise<number> {
  const parsed = parseCommand(args, { name: 'pathpilot compliance rules', usage, options: {} });
  if (isExit(parsed)) return parsed.exit;
  for (const r of complianceRules)
    process.stdout.write(
      `${r.id.padEnd(10)} ${r.severity.padEnd(6)} ${r.title}\n           CIS ${r.controls.cis.join(', ')} · SOC 2 ${r.controls.soc2.join(', ')} · ISO 27001 ${r.controls.iso27001.join(', ')} · PCI DSS ${r.controls.pci.join(', ')}\n`,
    );
  return 0;
}

export function run(args: string[]): Promise<number> {
  return runSubcommand(args, { name: 'pathpilot compliance', usage, subcommands: { report, rules } });
}
