import { z } from 'zod';
import { apiConfigSchema } from '../http/api-config.ts';
import { candidatePaths } from './route-security.ts';

/**
 * The shared part of `pathpilot.yaml`: topology (sites, links, paths, classes), policy, the
 * actuator's rollout policy, Slack and service endpoints. Each component validates its own section
 * through `ConfigSource.section()` with the schema in its own `config.ts`, so core never imports
 * them; core only knows their names, so a misspelt section is still an error.
 */

const id = z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'use lowercase letters, digits, ".", "_" or "-"');
const cidr = z
  .string()
  .regex(/^(\d{1,3}(\.\d{1,3}){3}\/\d{1,2}|[0-9a-fA-F:]+\/\d{1,3})$/, 'expected an IPv4 or IPv6 prefix such as 10.1.0.0/16');
const ipAddress = z.string().regex(/^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:]+)$/, 'expected an IP address');

export const providers = ['aws', 'gcp', 'azure', 'alibaba', 'onprem'] as const;
export const linkKinds = ['wireguard', 'ipsec', 'interconnect', 'internet'] as const;
export const vyosVersions = ['1.4', '1.5'] as const;

export const routerSchema = z
  .object({
    /** Base URL of the router's VyOS HTTP API. Empty in the lab: the emulator assigns one. */
    api_url: z.string().default(''),
    /** Name of the environment variable holding the API key (never the key itself). */
    api_key_env: z.string().default('PATHPILOT_VYOS_KEY'),
    vyos_version: z.enum(vyosVersions).default('1.4'),
    /** Address this router exports flows from (NetFlow/IPFIX/sFlow agent address). */
    exporter_address: ipAddress.optional(),
    /** Verify the router's TLS certificate. */
    tls_verify: z.boolean().default(true),
    /** The router's BGP AS number, where it speaks BGP (cloud interconnects do); links with `bgp` peer it. */
    asn: z.number().int().min(1).max(4_294_967_294).optional(),
  })
  .strict();

export const siteSchema = z
  .object({
    id,
    name: z.string().optional(),
    provider: z.enum(providers),
    /** Cloud region (us-east-1, europe-west4, westeurope, cn-hongkong) or a location for on-prem. */
    region: z.string().min(1),
    prefixes: z.array(cidr).default([]),
    router: routerSchema.default(routerSchema.parse({})),
  })
  .strict();

export const linkEndSchema = z
  .object({
    site: id,
    /** Interface name on that site's router (wg0, vti1, eth1…). */
    interface: z.string().min(1),
    /** SNMP/flow ifIndex of the interface, used to map flow records to this link. */
    if_index: z.number().int().nonnegative().optional(),
    /** Tunnel-side address (the probe source and the next hop seen by the peer). */
    address: ipAddress.optional(),
  })
  .strict();

export const linkSchema = z
  .object({
    id,
    kind: z.enum(linkKinds),
    a: linkEndSchema,
    b: linkEndSchema,
    capacity_mbps: z.number().positive(),
    /** Price per GB sent over this link (egress + transfer), in `policy.currency`. */
    cost_per_gb: z.number().nonnegative(),
    /** Monthly fixed cost (interconnect ports), for capacity reports. */
    monthly_fixed_cost: z.number().nonnegative().default(0),
    /**
     * A BGP session runs over the link between its ends' addresses (both sites need `router.asn`): egress to
     * what the far end advertises follows BGP's best path, which route-maps steer (local-pref, MED, prepend).
     */
    bgp: z.boolean().optional(),
  })
  .strict()
  .refine((l) => !l.bgp || (l.a.address !== undefined && l.b.address !== undefined), {
    message: 'a bgp link needs the address of both ends (the neighbors)',
  });

export const pathSchema = z
  .object({
    id,
    /** Ordered site pair: traffic from `from` to `to` (paths are directional). */
    from: id,
    to: id,
    /** Links crossed in order; the first hop leaves `from`. */
    links: z.array(id).min(1),
    /** 1 = primary, higher = backup. */
    priority: z.number().int().min(1).default(1),
  })
  .strict();

export const sloSchema = z
  .object({
    rtt_p95_ms: z.number().positive(),
    loss_pct: z.number().min(0).max(100),
    jitter_ms: z.number().positive(),
  })
  .strict();

export const classSchema = z
  .object({
    id,
    dscp: z.array(z.number().int().min(0).max(63)).default([]),
    /** 1 is the most important. */
    priority: z.number().int().min(1).max(8),
    slo: sloSchema,
    /** Latency-critical classes get pinned to their best path with policy routing. */
    pin: z.boolean().default(false),
  })
  .strict();

export const budgetSchema = z
  .object({
    provider: z.enum(providers).optional(),
    link: id.optional(),
    monthly: z.number().positive(),
    /** Fractions at which a budget alert fires. */
    alert_at: z.array(z.number().positive().max(2)).default([0.8, 1.0]),
  })
  .strict();

export const policySchema = z
  .object({
    currency: z.string().default('USD'),
    score: z
      .object({
        rtt: z.number().nonnegative().default(1),
        loss: z.number().nonnegative().default(100),
        jitter: z.number().nonnegative().default(0.5),
        bandwidth: z.number().nonnegative().default(0),
        /** A challenger path must beat the current one by this factor unless the current breaks its SLO. */
        challenger_factor: z.number().min(1).default(1.5),
      })
      .strict()
      .default({ rtt: 1, loss: 100, jitter: 0.5, bandwidth: 0, challenger_factor: 1.5 }),
    /** Links are kept below this utilization (headroom). */
    max_utilization: z.number().gt(0).max(1).default(0.8),
    /** Penalty weight against moving traffic away from the current split. */
    churn_penalty: z.number().nonnegative().default(0.05),
    budgets: z.array(budgetSchema).default([]),
    /**
     * Route security (core/config/route-security.ts): candidate paths relay only through `trusted_relays`
     * (site ids; empty: every site) and cross at most `max_hops` links (0: no bound).
     */
    route_security: z
      .object({ trusted_relays: z.array(z.string()).default([]), max_hops: z.number().int().min(0).default(0) })
      .strict()
      .default({ trusted_relays: [], max_hops: 0 }),
    /**
     * Data residency (core/config/residency.ts): traffic of `classes` (empty: all) towards `dst_prefixes`
     * (empty: all) crosses only sites whose region matches `regions` (`*` wildcards).
     */
    residency: z
      .array(
        z
          .object({
            name: z.string().min(1),
            classes: z.array(z.string()).default([]),
            dst_prefixes: z.array(z.string()).default([]),
            regions: z.array(z.string().min(1)).min(1),
          })
          .strict(),
      )
      .default([]),
  })
  .strict();

const freezeWindowSchema = z
  .object({
    /** Cron-like day list (0 = Sunday) and UTC hours [start, end). */
    days: z.array(z.number().int().min(0).max(6)).default([0, 1, 2, 3, 4, 5, 6]),
    start_hour: z.number().int().min(0).max(23),
    end_hour: z.number().int().min(1).max(24),
  })
  .strict();

/**
 * The rollout policy part of the `actuator` section (formerly the root `actuation` section): the
 * optimizer, console and demo read it from the root config. It strips the actuator's own keys
 * (lan_interface, state, …); actuator/config.ts extends it into the strict schema of the whole
 * section, which `config --check` and the actuator itself apply.
 */
export const actuationSchema = z
  .object({
    mode: z.enum(['observe', 'approval', 'auto']).default('approval'),
    /** Fractions of the weight shift applied per step. */
    rollout_steps: z.array(z.number().gt(0).max(1)).min(1).default([0.2, 0.5, 1]),
    bake_time_s: z.number().int().nonnegative().default(300),
    guard: z
      .object({
        interval_s: z.number().int().positive().default(60),
        /** Failed measurements tolerated before the step fails. */
        failure_limit: z.number().int().nonnegative().default(1),
        /** Measurements with no data tolerated before the step is inconclusive (and fails safe). */
        inconclusive_limit: z.number().int().nonnegative().default(2),
        /** A metric worse than baseline by more than this fraction fails even inside the SLO. */
        max_regression: z.number().nonnegative().default(0.25),
        /** How long after an interval ends its probe data may still be arriving (ingest lag), seconds. */
        max_data_lag_s: z.number().nonnegative().default(120),
      })
      .strict()
      .default({ interval_s: 60, failure_limit: 1, inconclusive_limit: 2, max_regression: 0.25, max_data_lag_s: 120 }),
    auto_approve_max_risk: z.enum(['low', 'medium', 'high']).default('low'),
    /** Largest weight shift (fraction of traffic) one step may move. */
    max_shift_per_step: z.number().gt(0).max(1).default(0.5),
    rate_limit: z
      .object({ changes_per_hour: z.number().positive().default(6), burst: z.number().int().positive().default(2) })
      .strict()
      .default({ changes_per_hour: 6, burst: 2 }),
    cooldown_after_rollback_s: z.number().int().nonnegative().default(1800),
    freeze_windows: z.array(freezeWindowSchema).default([]),
    /** Emergency failovers (a path breaking its SLO) may apply without approval. */
    emergency_auto: z.boolean().default(true),
    proposal_ttl_s: z.number().int().positive().default(3600),
  })
  .strip();

export const slackSchema = z
  .object({
    webhook_url_env: z.string().default('PATHPILOT_SLACK_WEBHOOK_URL'),
    signing_secret_env: z.string().default('PATHPILOT_SLACK_SIGNING_SECRET'),
    channel: z.string().optional(),
    /** Slack user id → role for approvals from Slack; anyone mapped to no role is refused. */
    users: z
      .record(z.string().regex(/^[UW][A-Z0-9]+$/, 'a Slack user id (U… or W…)'), z.enum(['viewer', 'approver', 'admin']))
      .default({}),
    /** Slack user group id → role; membership read with usergroups.users.list (bot token below). */
    user_groups: z
      .record(z.string().regex(/^S[A-Z0-9]+$/, 'a Slack user group id (S…)'), z.enum(['viewer', 'approver', 'admin']))
      .default({}),
    bot_token_env: z.string().default('PATHPILOT_SLACK_BOT_TOKEN'),
    api_url: z.string().url().default('https://slack.com/api'),
    group_cache_s: z.number().int().positive().default(300),
  })
  .strict();

export const servicesSchema = z
  .object({
    bus: z
      .object({
        kind: z.enum(['memory', 'kafka']).default('memory'),
        brokers: z.array(z.string()).default([]),
        /** Prepended to every topic: separate deployments (or test runs) sharing one Kafka. */
        topic_prefix: z
          .string()
          .regex(/^[A-Za-z0-9._-]*$/)
          .default(''),
        /**
         * Replication factor of the topics pathpilot creates (min.insync.replicas 2 from 3 on);
         * unset: min(3, brokers in the cluster). Must not exceed the cluster's brokers.
         */
        replication_factor: z.number().int().min(1).max(16).optional(),
      })
      .strict()
      .default({ kind: 'memory', brokers: [], topic_prefix: '' }),
    store: z
      .object({
        kind: z.enum(['chdb', 'server']).default('chdb'),
        url: z.string().default(''),
        database: z.string().default('pathpilot'),
        /** chDB data folder; empty means a temporary one. */
        path: z.string().default(''),
      })
      .strict()
      .default({ kind: 'chdb', url: '', database: 'pathpilot', path: '' }),
    queue: z
      .object({
        kind: z.enum(['memory', 'bullmq']).default('memory'),
        redis_url: z.string().default(''),
        /** Redis key prefix of every queue: separate deployments (or test runs) sharing one Redis. */
        prefix: z
          .string()
          .regex(/^[A-Za-z0-9_.:-]+$/)
          .default('pathpilot'),
      })
      .strict()
      .default({ kind: 'memory', redis_url: '', prefix: 'pathpilot' }),
  })
  .strict();

export const rootConfigSchema = z
  .object({
    version: z.literal(1).default(1),
    sites: z.array(siteSchema).min(1),
    links: z.array(linkSchema).default([]),
    paths: z.array(pathSchema).default([]),
    classes: z.array(classSchema).min(1),
    policy: policySchema.default(policySchema.parse({})),
    actuator: actuationSchema.default(actuationSchema.parse({})),
    slack: slackSchema.default(slackSchema.parse({})),
    services: servicesSchema.default(servicesSchema.parse({})),
    /** The API server: TLS (mutual with a client CA) and OIDC tokens beside the static ones. */
    api: apiConfigSchema.default(apiConfigSchema.parse({})),
    // Component sections: validated by their owners' schemas (`config --check` runs them all).
    ingest: z.unknown().optional(),
    analytics: z.unknown().optional(),
    optimizer: z.unknown().optional(),
    lab: z.unknown().optional(),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const siteIds = new Set(cfg.sites.map((s) => s.id));
    const linkIds = new Set(cfg.links.map((l) => l.id));
    const dup = (list: { id: string }[], key: string) => {
      const seen = new Set<string>();
      list.forEach((item, i) => {
        if (seen.has(item.id)) ctx.addIssue({ code: 'custom', path: [key, i, 'id'], message: `duplicate id "${item.id}"` });
        seen.add(item.id);
      });
    };
    dup(cfg.sites, 'sites');
    dup(cfg.links, 'links');
    dup(cfg.paths, 'paths');
    dup(cfg.classes, 'classes');
    cfg.links.forEach((l, i) => {
      for (const end of ['a', 'b'] as const) {
        if (!siteIds.has(l[end].site))
          ctx.addIssue({ code: 'custom', path: ['links', i, end, 'site'], message: `unknown site "${l[end].site}"` });
      }
      if (l.a.site === l.b.site)
        ctx.addIssue({ code: 'custom', path: ['links', i, 'b', 'site'], message: 'a link must join two different sites' });
    });
    const linkById = new Map(cfg.links.map((l) => [l.id, l]));
    cfg.paths.forEach((p, i) => {
      for (const key of ['from', 'to'] as const) {
        if (!siteIds.has(p[key])) ctx.addIssue({ code: 'custom', path: ['paths', i, key], message: `unknown site "${p[key]}"` });
      }
      // The links must chain from `from` to `to`.
      let at = p.from;
      p.links.forEach((lid, j) => {
        const link = linkById.get(lid);
        if (!linkIds.has(lid) || !link) {
          ctx.addIssue({ code: 'custom', path: ['paths', i, 'links', j], message: `unknown link "${lid}"` });
          return;
        }
        if (link.a.site === at) at = link.b.site;
        else if (link.b.site === at) at = link.a.site;
        else
          ctx.addIssue({
            code: 'custom',
            path: ['paths', i, 'links', j],
            message: `link "${lid}" does not touch site "${at}"`,
          });
      });
      if (at !== p.to && p.links.every((l) => linkIds.has(l)))
        ctx.addIssue({ code: 'custom', path: ['paths', i, 'links'], message: `path ends at "${at}", not "${p.to}"` });
    });
    const classIds = new Set(cfg.classes.map((c) => c.id));
    cfg.policy.residency.forEach((r, i) =>
      r.classes.forEach((c, j) => {
        if (!classIds.has(c))
          ctx.addIssue({ code: 'custom', path: ['policy', 'residency', i, 'classes', j], message: `unknown class "${c}"` });
      }),
    );
    cfg.policy.route_security.trusted_relays.forEach((s, i) => {
      if (!siteIds.has(s))
        ctx.addIssue({ code: 'custom', path: ['policy', 'route_security', 'trusted_relays', i], message: `unknown site "${s}"` });
    });
    // A pair route security leaves without any candidate could not be routed at all: said here, not at run time.
    if (cfg.paths.every((p) => p.links.every((l) => linkIds.has(l)))) {
      const { allowed, excluded } = candidatePaths(cfg);
      const pairs = new Set(cfg.paths.map((p) => `${p.from}>${p.to}`));
      for (const pair of pairs)
        if (!allowed.some((p) => `${p.from}>${p.to}` === pair)) {
          const why = excluded.filter((e) => cfg.paths.find((p) => p.id === e.path && `${p.from}>${p.to}` === pair));
          ctx.addIssue({
            code: 'custom',
            path: ['policy', 'route_security'],
            message: `route security leaves ${pair} no candidate path (${why.map((e) => `${e.path}: ${e.reason}`).join('; ')})`,
          });
        }
    }
    const dscpSeen = new Map<number, string>();
    cfg.classes.forEach((c, i) => {
      for (const d of c.dscp) {
        const other = dscpSeen.get(d);
        if (other)
          ctx.addIssue({
            code: 'custom',
            path: ['classes', i, 'dscp'],
            message: `DSCP ${d} already belongs to class "${other}"`,
          });
        dscpSeen.set(d, c.id);
      }
    });
  });

export type RootConfig = z.infer<typeof rootConfigSchema>;
export type SiteConfig = z.infer<typeof siteSchema>;
export type LinkConfig = z.infer<typeof linkSchema>;
export type PathConfig = z.infer<typeof pathSchema>;
export type ClassConfig = z.infer<typeof classSchema>;
export type PolicyConfig = z.infer<typeof policySchema>;
export type ActuationConfig = z.infer<typeof actuationSchema>;
export type ServicesConfig = z.infer<typeof servicesSchema>;
