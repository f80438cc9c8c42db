import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isExit, parseCommand, runSubcommand, usageError } from '../args.ts';
import {
  assessRouters,
  complianceRules,
  defaultComplianceContext,
  type ComplianceContext,
} from '../../actuator/security/compliance.ts';
import { buildComplianceReport, complianceCsv, complianceHtml } from '../../actuator/security/compliance-report.ts';
import { readOverlayDir } from '../../actuator/tunnels/overlay-state.ts';
import { vyosClientForSite } from '../../actuator/vyos/index.ts';
import { loadConfig } from '../../core/config/index.ts';
import { Topology } from '../../core/config/topology.ts';
import { errorMessage } from '../../core/errors.ts';

export const summary = "compliance report: each router's running config checked against the rules pack (HTML, JSON, CSV)";

const usage = `usage: pathpilot compliance report [-c FILE] [-o DIR] [--overlay-dir DIR] [--key-max-age-h N] [--min-score S]
       pathpilot compliance rules

report: reads every site router's running config (/retrieve) and checks it against the rules pack: HTTPS
API with keys only and limited to management clients, no plaintext management (SNMP v1/v2c), SSH
key-only, no any-to-any accept, default-deny on forward, strong IKE/ESP proposals, WireGuard keys
rotated within policy, remote syslog and NTP. Each rule maps to CIS Controls v8, SOC 2, ISO 27001:2022
Annex A and PCI DSS v4.0 control ids. Writes DIR/compliance.html, .json and .csv and prints a score per
router. rules: the pack with its control ids.

  -c, --config FILE     pathpilot.yaml (default ./pathpilot.yaml, else the bundled example)
  -o, --out DIR         where the report is written (default ./compliance-report)
  --overlay-dir DIR     overlay gen's directory: its key-times.json tells each WireGuard key's age
  --key-max-age-h N     the rotation policy for WireGuard keys (default 72)
  --min-score S         exit 1 when a router scores under S (0-100) or cannot be read

Exit status: 0 done, 1 a router under --min-score or unreadable (the report is still written), 2 usage errors.
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
      'min-score': { type: 'string' },
    },
  });
  if (isExit(parsed)) return parsed.exit;
  const { values } = parsed;
  const maxAge = Number(values['key-max-age-h']);
  if (!(maxAge > 0)) return usageError(name, '--key-max-age-h must be a positive number of hours').exit;
  const minScore = values['min-score'] === undefined ? undefined : Number(values['min-score']);
  if (minScore !== undefined && !(minScore >= 0 && minScore <= 100)) return usageError(name, '--min-score must be 0-100').exit;
  try {
    const topology = new Topology(loadConfig(values.config, process.env).root);
    const now = Date.now();
    const ctx: ComplianceContext = { ...defaultComplianceContext(now), wireguardMaxKeyAgeH: maxAge };
    if (values['overlay-dir']) {
      const overlay = await readOverlayDir(values['overlay-dir']);
      if (overlay.keyTimes) ctx.wireguardKeyTimes = overlay.keyTimes;
    }
    const routers = [...topology.sites.values()].map((site) => ({ name: site.id, api: vyosClientForSite(site) }));
    const results = await assessRouters(routers, ctx);
    const r = buildComplianceReport(results, now);
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
    process.stdout.write(`report written to ${join(values.out, 'compliance.{html,json,csv}')}\n`);
    const short = results.some((x) => x.score === null || (minScore !== undefined && x.score < minScore));
    return short ? 1 : 0;
  } catch (err) {
    process.stderr.write(`${name}: ${errorMessage(err)}\n`);
    return 1;
  }
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
