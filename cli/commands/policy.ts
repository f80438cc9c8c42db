import { isExit, parseCommand, runSubcommand, usageError } from '../args.ts';
import { planFirewall, securityGroupsSchema, type FirewallPlan } from '../../actuator/security/groups.ts';
import { setLines } from '../../actuator/vyos/diff.ts';
import { readLocated } from '../../core/located-json.ts';
import { errorMessage } from '../../core/errors.ts';

export const summary = 'policy check|plan -f groups.json: security groups checked, and planned as VyOS firewall rules';

const usage = `usage: pathpilot policy check -f GROUPS.json [--router-tz ZONE] [--at ISO]
       pathpilot policy plan -f GROUPS.json [--router-tz ZONE] [--at ISO]

Security groups ({"SecurityGroups":[{"Name","Rules":[{"Protocol","PortRange","SourceIP","DestinationIP",
"Action":"Allow"|"Deny","TimeWindow"?:{"Weekdays","Start","Stop","TimeZone"}}]}],"DefaultAction"?}) as
VyOS 1.4/1.5 \`firewall ipv4 forward filter\` rules: groups in file order, rules in group order (first match
wins), each group in its own block of rule numbers (10000, 11000, …). A time window becomes the rules
that match it on the router, whose nftables compares hours in UTC and days in the kernel's zone: give
the router's \`system time-zone\` (default UTC) and the time the window is converted at (default now).

check: every problem with its file, line, column and field; plan: the \`set\` lines.

  -f, --file FILE      the security groups
  --router-tz ZONE     the router's time zone (IANA name; default UTC)
  --at ISO             convert time windows at this time (default now)

Exit status: 0 valid, 1 invalid (every problem listed), 2 usage errors.
`;

export const subcommands = ['check', 'plan'] as const;

async function load(name: string, args: string[]): Promise<{ plan: FirewallPlan; file: string } | number> {
  const parsed = parseCommand(args, {
    name,
    usage,
    options: {
      file: { type: 'string', short: 'f' },
      'router-tz': { type: 'string', default: 'UTC' },
      at: { type: 'string' },
    },
  });
  if (isExit(parsed)) return parsed.exit;
  const { values } = parsed;
  if (!values.file) return usageError(name, '-f GROUPS.json is required').exit;
  const at = values.at === undefined ? Date.now() : Date.parse(values.at);
  if (!Number.isFinite(at)) return usageError(name, `--at must be an ISO time (got "${values.at}")`).exit;
  try {
    const groups = await readLocated(values.file, securityGroupsSchema);
    return { plan: planFirewall(groups.data, values['router-tz'], at), file: values.file };
  } catch (err) {
    process.stderr.write(`${name}: invalid security groups:\n${errorMessage(err)}\n`);
    return 1;
  }
}

async function check(args: string[]): Promise<number> {
  const r = await load('pathpilot policy check', args);
  if (typeof r === 'number') return r;
  const rules = r.plan.groups.reduce((n, g) => n + g.rules.length, 0);
  process.stdout.write(
    `${r.file}: ${r.plan.groups.length} groups → ${rules} VyOS rules (${r.plan.groups.map((g) => `${g.name} from ${g.first}`).join(', ')})\n`,
  );
  return 0;
}

async function plan(args: string[]): Promise<number> {
  const r = await load('pathpilot policy plan', args);
  if (typeof r === 'number') return r;
  const base = ['firewall', 'ipv4', 'forward', 'filter'];
  const lines = [
    ...setLines([...base, 'rule'], r.plan.rules),
    ...(r.plan.defaultAction ? [`set ${base.join(' ')} default-action '${r.plan.defaultAction}'`] : []),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

export function run(args: string[]): Promise<number> {
  return runSubcommand(args, { name: 'pathpilot policy', usage, subcommands: { check, plan } });
}
