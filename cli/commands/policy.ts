import { analyticsStore } from '../../analytics/schema/cluster.ts';
import { isExit, parseCommand, runSubcommand, usageError } from '../args.ts';
import { writeFile } from 'node:fs/promises';
import {
  FIRST_RULE,
  GROUP_BLOCK,
  planFirewall,
  securityGroupsSchema,
  type FirewallPlan,
} from '../../actuator/security/groups.ts';
import { resolveSegments, segmentsSchema, suggestSegmentation } from '../../actuator/security/segments.ts';
import { liveFlows } from '../../analytics/queries/index.ts';
import { loadConfig } from '../../core/config/index.ts';
import { Topology } from '../../core/config/topology.ts';
import { setLines } from '../../actuator/vyos/diff.ts';
import { readLocated } from '../../core/located-json.ts';
import { errorMessage } from '../../core/errors.ts';

export const summary =
  'policy check|plan|import -f groups.json, policy suggest --segments FILE: security groups checked, planned, proposed; micro-segmentation from flows';

const usage = `usage: pathpilot policy check -f GROUPS.json [--router-tz ZONE] [--at ISO]
       pathpilot policy plan -f GROUPS.json [--router-tz ZONE] [--at ISO]
       pathpilot policy import -f GROUPS.json --router SITE [--router-tz ZONE] [--api URL]
       pathpilot policy suggest --segments SEGMENTS.json [--days N] [--min-bytes B] [-c FILE] [-o GROUPS.json]

Security groups ({"SecurityGroups":[{"Name","Rules":[{"Protocol","PortRange","SourceIP","DestinationIP",
"Action":"Allow"|"Deny","TimeWindow"?:{"Weekdays","Start","Stop","TimeZone"}}]}],"DefaultAction"?}) as
VyOS 1.4/1.5 \`firewall ipv4|ipv6 forward|input filter\` rules (a group's optional "Chain": "forward" (default)
or "input"; a rule's family from its addresses, both families when it names none; DefaultAction applies to
the forward chains): groups in file order, rules in group order (first match wins), each group in its own
block of rule numbers (10000, 11000, …). A time window becomes the rules
that match it on the router, whose nftables compares hours in UTC and days in the kernel's zone: give
the router's \`system time-zone\` (default UTC) and the time the window is converted at (default now).

check: every problem with its file, line, column and field; plan: the \`set\` lines; import: the rules
as a security proposal to the running actuator (POST /api/v1/proposals with PATHPILOT_API_TOKEN, an admin
token): it is risk-assessed, approved and rolled out like any change. suggest: micro-segmentation from the
flows in the store over the last N days ({"Segments":[{"Name","Prefixes"?,"Sites"?}]}): an allow rule for
each segment pair, protocol and ports seen carrying at least B bytes, default-deny between segments;
prints the observed conversations the denies would block and writes the groups for \`policy plan\`.

  -f, --file FILE      the security groups
  --router-tz ZONE     the router's time zone (IANA name; default UTC)
  --at ISO             convert time windows at this time (default now)

Exit status: 0 valid, 1 invalid (every problem listed), 2 usage errors.
`;

export const subcommands = ['check', 'plan', 'import', 'suggest'] as const;

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
  const chains = r.plan.chains.map((c) => `${Object.keys(c.rules).length} in ${c.family} ${c.chain}`).join(', ');
  process.stdout.write(
    `${r.file}: ${r.plan.groups.length} groups → VyOS rules ${chains} (${r.plan.groups.map((g) => `${g.name} from ${g.first}`).join(', ')})\n`,
  );
  return 0;
}

async function plan(args: string[]): Promise<number> {
  const r = await load('pathpilot policy plan', args);
  if (typeof r === 'number') return r;
  const lines = r.plan.chains.flatMap((c) => {
    const base = ['firewall', c.family, c.chain, 'filter'];
    // The file's DefaultAction is the forward chains': a default drop on input would cut the router's own management off.
    const defaultAction = c.chain === 'forward' ? r.plan.defaultAction : undefined;
    return [
      ...setLines([...base, 'rule'], c.rules),
      ...(defaultAction ? [`set ${base.join(' ')} default-action '${defaultAction}'`] : []),
    ];
  });
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

async function importGroups(args: string[]): Promise<number> {
  const name = 'pathpilot policy import';
  const parsed = parseCommand(args, {
    name,
    usage,
    options: {
      file: { type: 'string', short: 'f' },
      router: { type: 'string' },
      'router-tz': { type: 'string', default: 'UTC' },
      api: { type: 'string', default: 'http://127.0.0.1:8080' },
    },
  });
  if (isExit(parsed)) return parsed.exit;
  const { values } = parsed;
  if (!values.file || !values.router) return usageError(name, '-f GROUPS.json and --router SITE are required').exit;
  const token = process.env.PATHPILOT_API_TOKEN;
  if (!token) return usageError(name, 'PATHPILOT_API_TOKEN (an admin token of the API) is unset').exit;
  try {
    const groups = await readLocated(values.file, securityGroupsSchema);
    const now = Date.now();
    const planned = planFirewall(groups.data, values['router-tz'], now);
    const proposal = {
      id: `policy-${values.router}-${now}`,
      created_at: now,
      kind: 'security',
      reason: `security groups ${values.file}: ${planned.groups.map((g) => g.name).join(', ')} on ${values.router}`,
      inputs: {},
      // One intent per chain the groups render to, each owning the groups' blocks of that chain.
      intents: planned.chains.map((c) => ({
        kind: 'firewall-rules',
        router: values.router,
        ...(c.family === 'ipv4' ? {} : { family: c.family }),
        ...(c.chain === 'forward' ? {} : { chain: c.chain }),
        first: FIRST_RULE,
        last: FIRST_RULE + GROUP_BLOCK * groups.data.SecurityGroups.length - 1,
        rules: c.rules,
      })),
      predicted: { cost_per_day: 0, max_utilization: 0, slo_risk: 0 },
      risk: 'low',
    };
    const res = await fetch(`${values.api.replace(/\/$/, '')}/api/v1/proposals`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(proposal),
    });
    const body = (await res.json().catch(() => ({}))) as {
      error?: string;
      id?: string;
      status?: string;
      assessment?: { level: string; reasons: string[] } | null;
    };
    if (!res.ok) throw new Error(`the API refused the proposal (${res.status}): ${body.error ?? 'no reason given'}`);
    process.stdout.write(
      `proposal ${body.id ?? proposal.id}: ${body.status ?? 'submitted'}${body.assessment ? `, risk ${body.assessment.level} (${body.assessment.reasons.join('; ')})` : ''}\n`,
    );
    return 0;
  } catch (err) {
    process.stderr.write(`${name}: ${errorMessage(err)}\n`);
    return 1;
  }
}

async function suggest(args: string[]): Promise<number> {
  const name = 'pathpilot policy suggest';
  const parsed = parseCommand(args, {
    name,
    usage,
    options: {
      segments: { type: 'string' },
      days: { type: 'string', default: '7' },
      'min-bytes': { type: 'string', default: '0' },
      config: { type: 'string', short: 'c' },
      out: { type: 'string', short: 'o' },
    },
  });
  if (isExit(parsed)) return parsed.exit;
  const { values } = parsed;
  if (!values.segments) return usageError(name, '--segments SEGMENTS.json is required').exit;
  const days = Number(values.days);
  const minBytes = Number(values['min-bytes']);
  if (!(days > 0 && days <= 366)) return usageError(name, '--days must be 1-366').exit;
  if (!(minBytes >= 0)) return usageError(name, '--min-bytes must be a number ≥ 0').exit;
  let stop = async () => {};
  try {
    const loaded = loadConfig(values.config, process.env);
    const { root } = loaded;
    const topology = new Topology(root);
    const file = await readLocated(values.segments, segmentsSchema);
    const segments = resolveSegments(file.data, (site) => (topology.sites.has(site) ? topology.site(site).prefixes : undefined));
    const store = analyticsStore(loaded);
    await store.start();
    stop = () => store.stop();
    const now = Date.now();
    const flows = await liveFlows(store, { range: { from: now - days * 86_400_000, to: now }, limit: 100_000 });
    const s = suggestSegmentation(segments, flows, minBytes);
    for (const a of s.allows)
      process.stdout.write(
        `allow ${a.from} → ${a.to} ${a.protocol}${a.ports.length ? ` ${a.ports.join(',')}` : ''} (${a.conversations} flows, ${a.bytes} bytes in ${days} d)\n`,
      );
    for (const b of s.wouldBlock) process.stdout.write(`deny  ${b.from} → ${b.to} would block ${b.flow} (${b.bytes} bytes)\n`);
    const json = JSON.stringify(s.file, null, 2) + '\n';
    if (values.out) await writeFile(values.out, json);
    else process.stdout.write(json);
    return 0;
  } catch (err) {
    process.stderr.write(`${name}: ${errorMessage(err)}\n`);
    return 1;
  } finally {
    await stop();
  }
}

export function run(args: string[]): Promise<number> {
  return runSubcommand(args, {
    name: 'pathpilot policy',
    usage,
    subcommands: { check, plan, import: importGroups, suggest },
  });
}
