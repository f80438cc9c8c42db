import { z } from 'zod';
import { actuationSchema } from '../core/config/schema.ts';
import { defaultLeaderConfig, leaderConfigSchema } from '../core/leader-config.ts';

/**
 * The whole `actuator` section of pathpilot.yaml: the rollout policy the root config also reads
 * (mode, rollout steps, bake time, guard, rate limits — defined in core as `actuationSchema`, and
 * formerly the root `actuation` section, still read with a deprecation warning) plus the keys only
 * the actuator itself uses, below. Strict: an unknown key is an error with its line.
 */
export const actuatorConfigSchema = actuationSchema
  .extend({
    /** LAN interface WAN LB rules and the pin policy take traffic from. */
    lan_interface: z.string().default('eth0'),
    /** Where proposal and rollout state lives (Redis in production; survives restarts). */
    state: z
      .object({
        kind: z.enum(['memory', 'redis']).default('memory'),
        redis_url: z.string().default(''),
        prefix: z.string().default('pathpilot:actuator'),
      })
      .strict()
      .default({ kind: 'memory', redis_url: '', prefix: 'pathpilot:actuator' }),
    /**
     * Commit-confirm minutes on routers whose probe says it works; 0 derives it from the bake time (+ data
     * lag + 2 min), a shorter value is raised to that, -1 disables.
     */
    commit_confirm_minutes: z.number().int().min(-1).default(0),
    /**
     * How long a commit request (`/configure`, `/configure-section`, `/config-file`) may take before
     * the client gives up (reads keep their 10 s). Real commits of QoS or firewall take tens of seconds
     * (vyos-facts §5.5); a commit given up on still lands, and the retry re-reads before sending.
     */
    commit_timeout_ms: z.number().int().min(1000).default(60_000),
    retry: z
      .object({
        attempts: z.number().int().min(1).default(5),
        base_ms: z.number().int().min(0).default(200),
        max_ms: z.number().int().min(0).default(3000),
      })
      .strict()
      .default({ attempts: 5, base_ms: 200, max_ms: 3000 }),
    /** One `<router>.conf` of `set …` lines per router, written after every change. Empty disables. */
    gitops_dir: z.string().default('.data/gitops'),
    /** Length of the pre-change baseline window the guard compares against. */
    baseline_s: z.number().int().positive().default(1800),
    /** Apply queue name (BullMQ names may not contain ':'). */
    apply_queue: z.string().default('pathpilot-actuator-apply'),
    /** Self-healing: judge every path against its SLO this often and propose emergency failovers. 0 disables. */
    self_heal_interval_s: z.number().int().min(0).default(60),
    /**
     * Realized effect (actuator/realized.ts): each applied proposal is measured over this window after it
     * was confirmed against an equal window before its apply started. Whole minutes (the flow and probe
     * rollups' bucket), at most a week (the per-minute queries' bound).
     */
    realized_window_s: z
      .number()
      .int()
      .min(60)
      .max(7 * 86_400)
      .refine((s) => s % 60 === 0, { message: 'must be a whole number of minutes (a multiple of 60)' })
      .default(3600),
    /** How often the realized-effect pass looks for proposals whose window has ended. 0 disables. */
    realized_interval_s: z.number().int().min(0).default(300),
    /** Audit events kept in memory for the API when the store is not queried. */
    audit_memory: z.number().int().min(0).default(5000),
    /**
     * Rollout lease TTL (wall ms): one actuator drives a rollout at a time; a dead holder's rollout
     * is resumed by another actuator this long after its last renewal (see actuator/lease.ts).
     */
    lease_ttl_ms: z.number().int().min(200).default(10_000),
    /**
     * Active/standby (core/leader.ts): with a shared state store (redis) one actuator of the deployment leads —
     * consumes the queues, runs the watches, applies — and the others stand by (API reads, approvals) until
     * its leadership lease (`ttl_ms`, renewed every `renew_ms`) runs out. Every router write checks the epoch.
     */
    leader: leaderConfigSchema.default(defaultLeaderConfig),
    /**
     * Rollouts this actuator drives at once. Rollouts that share a router still go one after the
     * other (a router has one commit-confirm timer; see pipeline/router-claims.ts), so a failover is
     * never queued behind a bake on routers it does not touch.
     */
    rollout_concurrency: z.number().int().min(1).max(64).default(8),
    /**
     * The WireGuard overlay's health watch (actuator/tunnels/watch.ts): every `interval_s` (a probe window)
     * each node's tunnels are read; a primary whose tunnel is down on every node using it fails over to
     * its backups as an emergency proposal, and comes back after `restore_checks` healthy checks in a row.
     */
    tunnels: z
      .object({
        /** `pathpilot overlay gen -o DIR`'s output (plan.json, public-keys.json). Empty: no overlay watched. */
        overlay_dir: z.string().default(''),
        interval_s: z.number().int().min(0).default(30),
        /** A handshake older than this is a dead tunnel (WireGuard re-handshakes every 120 s; 180 s by default). */
        stale_after_s: z.number().int().min(1).default(180),
        restore_checks: z.number().int().min(1).default(3),
        /** Rotate each WireGuard key this many hours after it was generated (make-before-break). 0 disables. */
        rotate_every_h: z.number().min(0).default(72),
        /**
         * Probe paths that cross overlay tunnels (`node>peer` → path id of the topology): their loss over
         * the last window marks a tunnel down at once (half the probes lost), long before its handshake ages.
         */
        probe_paths: z.record(z.string().regex(/^[^>]+>[^>]+$/, 'keys are node>peer'), z.string()).default({}),
      })
      .strict()
      .default({ overlay_dir: '', interval_s: 30, stale_after_s: 180, restore_checks: 3, rotate_every_h: 72, probe_paths: {} }),
    /**
     * The pre-change risk assessment of every arriving proposal (actuator/pipeline/assess.ts): live
     * conversations over the last `window_h` hours (at most `max_flows` per router, largest first).
     */
    risk: z
      .object({
        window_h: z
          .number()
          .positive()
          .max(24 * 31)
          .default(24),
        max_flows: z.number().int().min(1).max(100_000).default(5000),
      })
      .strict()
      .default({ window_h: 24, max_flows: 5000 }),
    /**
     * Threat feeds (actuator/security/feed-watch.ts): every `interval_s` the feeds are read and their
     * networks, minus the allow-list (sites' prefixes, routers' API addresses, loopback, `allow`), proposed
     * as the network group `group` with a drop rule numbered `rule` on `routers` (default: every site).
     */
    threat_feeds: z
      .object({
        interval_s: z.number().int().min(0).default(3600),
        feeds: z
          .array(
            z
              .object({
                name: z.string().regex(/^[\w.-]+$/, 'feed names are letters, digits, "_", "-" or "."'),
                url: z.string().url().or(z.literal('')).default(''),
                file: z.string().default(''),
              })
              .strict()
              .refine((f) => (f.url === '') !== (f.file === ''), { message: 'a feed has a url or a file (one of them)' }),
          )
          .default([]),
        routers: z.array(z.string()).default([]),
        group: z
          .string()
          .regex(/^[-_a-zA-Z0-9][\w\-.+]*$/)
          .default('pp-threat'),
        rule: z.number().int().min(1).max(999_999).default(9000),
        max_entries: z.number().int().min(1).max(100_000).default(10_000),
        allow: z.array(z.string()).default([]),
      })
      .strict()
      .default({ interval_s: 3600, feeds: [], routers: [], group: 'pp-threat', rule: 9000, max_entries: 10_000, allow: [] }),
    /**
     * The compliance watch (actuator/security/compliance-watch.ts): every `interval_s` each site router's
     * running config is checked against the rules pack (`pathpilot compliance rules`). 0 disables.
     */
    compliance: z
      .object({
        interval_s: z.number().int().min(0).default(900),
        /** The WireGuard key rotation policy the pack checks (hours). */
        key_max_age_h: z.number().positive().default(72),
        /** Shortest acceptable router API key. */
        min_api_key_length: z.number().int().min(1).default(20),
      })
      .strict()
      .default({ interval_s: 900, key_max_age_h: 72, min_api_key_length: 20 }),
    /**
     * Security groups kept as desired state (actuator/security/groups-watch.ts): every `interval_s` each
     * file is planned for now (time windows at today's offsets) and whatever its routers' blocks hold
     * differently is proposed. `routers`: default every site; `router_tz`: the routers' `system time-zone`.
     */
    security_groups: z
      .object({
        interval_s: z.number().int().min(0).default(300),
        files: z
          .array(
            z
              .object({
                file: z.string().min(1),
                routers: z.array(z.string()).default([]),
                router_tz: z.string().default('UTC'),
              })
              .strict(),
          )
          .default([]),
      })
      .strict()
      .default({ interval_s: 300, files: [] }),
    /**
     * GitOps mode (actuator/gitops/watch.ts, docs/notes/gitops.md): the repository at `url` holds each router's
     * desired config as `<path>/<router>.conf` (`set` lines) on `branch`. Every `interval_s` it is fetched into
     * `workdir`, compared with the routers, and what differs is proposed; once a proposal of it is decided and
     * done, the applied configs (`applied/<router>.conf`, redacted) and `drift.md` are committed back as
     * `author`. `keep`: paths never synced besides secrets and `service https` (`load-balancing wan` where the
     * optimizer steers). Empty url: off.
     */
    gitops_repo: z
      .object({
        url: z.string().default(''),
        branch: z
          .string()
          .regex(/^\w[\w./-]*$/, 'a branch name')
          .default('main'),
        interval_s: z.number().int().min(0).default(60),
        path: z
          .string()
          .regex(/^(?!\/)(?!.*(^|\/)\.\.(\/|$))[\w./-]*$/, 'a directory inside the repository')
          .default('routers'),
        workdir: z.string().default('.data/gitops-repo'),
        author: z
          .string()
          .regex(/^[^<>]+ <[^<>]+>$/, 'Name <email>')
          .default('pathpilot <pathpilot@localhost>'),
        keep: z.array(z.string().min(1)).default([]),
      })
      .strict()
      .default({
        url: '',
        branch: 'main',
        interval_s: 60,
        path: 'routers',
        workdir: '.data/gitops-repo',
        author: 'pathpilot <pathpilot@localhost>',
        keep: [],
      }),
    /**
     * Router API keys (actuator/security/router-keys.ts): with `store`, the keys pathpilot rotated are kept
     * there (mode 0600) and used instead of each site's `router.api_key_env`; with `rotate_every_h` too,
     * each router's key is rotated over its API (add, switch, remove) once it is that old — a key with no
     * record in the store (the environment's) at the first check.
     */
    router_keys: z
      .object({
        store: z.string().default(''),
        rotate_every_h: z.number().min(0).default(0),
        check_interval_s: z.number().int().min(1).default(3600),
      })
      .strict()
      .refine((k) => k.rotate_every_h === 0 || k.store !== '', {
        message: 'rotate_every_h needs a store: the rotated keys must outlive the process',
      })
      .default({ store: '', rotate_every_h: 0, check_interval_s: 3600 }),
  })
  .strict();

export type ActuatorConfig = z.infer<typeof actuatorConfigSchema>;
export const defaultActuatorConfig: ActuatorConfig = actuatorConfigSchema.parse({});
