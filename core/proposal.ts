import { z } from 'zod';

/**
 * The contract between optimizer and actuator. The optimizer emits intents (what should be true);
 * only the actuator knows VyOS syntax. Routers are named by site id.
 */
const pairSchema = z.tuple([z.string(), z.string()]);

export const pathWeightsIntent = z.object({
  kind: z.literal('path-weights'),
  router: z.string(),
  /** Ordered site pair [from, to]. */
  pair: pairSchema,
  class: z.string(),
  /** Destination prefixes the rule matches (the `to` site's prefixes). */
  dst_prefixes: z.array(z.string()).min(1),
  /** Integer weights 1–255 per first-hop link id; a link absent here carries nothing. */
  weights: z.record(z.string(), z.number().int().min(1).max(255)),
});

export const bandwidthIntent = z.object({
  kind: z.literal('bandwidth'),
  router: z.string(),
  link: z.string(),
  /** Shaper rate for the link's interface, Mbit/s. */
  rate_mbps: z.number().positive(),
});

export const qosIntent = z.object({
  kind: z.literal('qos'),
  router: z.string(),
  link: z.string(),
  classes: z
    .array(
      z.object({
        class: z.string(),
        dscp: z.array(z.number().int().min(0).max(63)),
        /** Guaranteed share of the link rate, percent. */
        bandwidth_pct: z.number().positive().max(100),
        priority: z.number().int().min(0).max(7),
      }),
    )
    .min(1),
});

export const classPinIntent = z.object({
  kind: z.literal('class-pin'),
  router: z.string(),
  pair: pairSchema,
  class: z.string(),
  dscp: z.array(z.number().int().min(0).max(63)).min(1),
  dst_prefixes: z.array(z.string()).min(1),
  /** First-hop link the class is pinned to. */
  link: z.string(),
});

/** A WireGuard key as WireGuard writes it: 32 bytes in base64 (44 characters). */
export const wireguardKeySchema = z
  .string()
  .regex(/^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw480]=$/, 'not a WireGuard key (32 bytes, base64)');

export const wireguardPeer = z.object({
  /** The VyOS peer alias (the peer node's name in an overlay). */
  name: z.string().regex(/^[^\s]{1,100}$/),
  public_key: wireguardKeySchema,
  allowed_ips: z.array(z.string()).min(1),
  /** Where to dial the peer; absent where this side waits to be dialled (a relay towards a NAT'd client). */
  endpoint: z.object({ address: z.string(), port: z.number().int().min(1).max(65535) }).optional(),
  keepalive_s: z.number().int().min(1).max(65535).optional(),
  description: z.string().optional(),
});

/**
 * The peers of an existing WireGuard interface: `peers` are set whole (added or replaced), `remove` are
 * deleted, the others are left as they are. A tunnel failover (a failover prefix moved from the primary
 * to the backup peer), a key rotation's "peers learn the new public key" step and an overlay change are
 * each one of these per router. Private keys never travel in an intent.
 */
export const wireguardPeersIntent = z.object({
  kind: z.literal('wireguard-peers'),
  router: z.string(),
  interface: z.string().regex(/^wg[0-9]+$/, 'WireGuard interface must be named wgN'),
  peers: z.array(wireguardPeer),
  remove: z.array(z.string()).optional(),
});

/** IKE/ESP ciphers pathpilot proposes: AEAD only (AES-GCM with a 128-bit ICV, ChaCha20-Poly1305). */
export const ipsecCiphers = ['aes256gcm128', 'aes128gcm128', 'chacha20poly1305'] as const;
/** DH groups: MODP-2048 and up, and the elliptic curves (ECP-256/384/521, Curve25519). */
export const ipsecDhGroups = ['14', '15', '16', '19', '20', '21', '31'] as const;

/**
 * One IPsec site-to-site peer (IKEv2) on a router, whole: its IKE and ESP proposals (a group of each named
 * after the peer), how it authenticates (a pre-shared key by its two ids, or an x509 certificate from the
 * router's PKI), dead-peer detection, and either a VTI it binds (route-based) or the prefixes it carries
 * (policy-based). `remove` deletes the peer and its groups, key and VTI. A PSK rotation is the same intent
 * with a new `secret` on both ends in one change set.
 */
export const ipsecPeerIntent = z
  .object({
    kind: z.literal('ipsec-peer'),
    router: z.string(),
    /** The site-to-site peer name (swanctl's connection name: no dots or colons). */
    peer: z.string().regex(/^[-_a-zA-Z0-9]{1,60}$/, 'IPsec peer names are letters, digits, - and _'),
    remove: z.boolean().optional(),
    local_address: z.string().optional(),
    remote_address: z.string().optional(),
    ike: z
      .object({
        encryption: z.enum(ipsecCiphers),
        /** The PRF (IKE hash): AEAD ciphers carry no integrity algorithm but IKE still needs one. */
        prf: z.enum(['sha256', 'sha384', 'sha512']).default('sha256'),
        dh_group: z.enum(ipsecDhGroups),
        lifetime_s: z.number().int().min(30).max(86_400).default(28_800),
        dpd: z
          .object({
            action: z.enum(['restart', 'clear', 'trap']).default('restart'),
            interval_s: z.number().int().min(2).max(86_400).default(30),
          })
          .default({ action: 'restart', interval_s: 30 }),
      })
      .optional(),
    esp: z
      .object({
        encryption: z.enum(ipsecCiphers),
        /** Perfect forward secrecy group for each rekey (absent: none). */
        pfs: z.enum(ipsecDhGroups).optional(),
        lifetime_s: z.number().int().min(30).max(86_400).default(3600),
      })
      .optional(),
    auth: z
      .discriminatedUnion('mode', [
        z.object({
          mode: z.literal('pre-shared-secret'),
          local_id: z.string().min(1),
          remote_id: z.string().min(1),
          /** Travels in the intent as it travels in the router's config; audit and logs show it redacted. */
          secret: z
            .string()
            .min(16, 'a pre-shared key of at least 16 characters')
            .regex(/^[^'"\n\r]+$/, 'a pre-shared key without quotes or line breaks (VyOS values cannot hold them)'),
        }),
        z.object({
          mode: z.literal('x509'),
          ca_certificate: z.string().min(1),
          certificate: z.string().min(1),
          remote_id: z.string().optional(),
        }),
      ])
      .optional(),
    /** Route-based: the VTI this peer binds, with its tunnel addresses. */
    vti: z.object({ interface: z.string().regex(/^vti[0-9]+$/), address: z.array(z.string()).min(1) }).optional(),
    /** Policy-based: the prefix pairs (one tunnel each). */
    tunnels: z
      .array(z.object({ local_prefix: z.string(), remote_prefix: z.string() }))
      .min(1)
      .optional(),
  })
  .superRefine((i, ctx) => {
    if (i.remove) return;
    for (const key of ['local_address', 'remote_address', 'ike', 'esp', 'auth'] as const)
      if (i[key] === undefined) ctx.addIssue({ code: 'custom', path: [key], message: `required unless remove` });
    if ((i.vti === undefined) === (i.tunnels === undefined))
      ctx.addIssue({ code: 'custom', path: ['vti'], message: 'one of vti (route-based) or tunnels (policy-based)' });
  });

/**
 * One OpenVPN site-to-site tunnel (`interfaces openvpn vtunN mode site-to-site`) on a router, whole: its
 * underlay (local host and port, the remote host and port it dials), its tunnel addresses, keepalive, and
 * how it authenticates — a static shared secret (a `pki openvpn shared-secret` entry named after the
 * interface, CBC cipher: OpenVPN refuses GCM with a static key) or TLS with certificates already in the
 * router's PKI. `remove` deletes the interface and its shared secret. A secret rotation is the same intent
 * with a new key on both ends in one change set.
 */
export const openvpnSiteIntent = z
  .object({
    kind: z.literal('openvpn-site'),
    router: z.string(),
    interface: z.string().regex(/^vtun[0-9]+$/, 'OpenVPN interfaces are named vtunN'),
    remove: z.boolean().optional(),
    protocol: z.enum(['udp', 'tcp-active', 'tcp-passive']).default('udp'),
    local_host: z.string().optional(),
    local_port: z.number().int().min(1).max(65535).optional(),
    remote_host: z.string().optional(),
    remote_port: z.number().int().min(1).max(65535).optional(),
    local_address: z.string().optional(),
    remote_address: z.string().optional(),
    keepalive: z
      .object({ interval_s: z.number().int().min(1).max(600), failure_count: z.number().int().min(1).max(1000) })
      .default({ interval_s: 10, failure_count: 6 }),
    auth: z
      .discriminatedUnion('mode', [
        z.object({
          mode: z.literal('shared-secret'),
          /** The 2048-bit static key as hex (512 digits), as `pki openvpn shared-secret … key` holds it. */
          shared_secret: z.string().regex(/^[0-9a-f]{512}$/, 'a 2048-bit OpenVPN static key in hex (512 digits)'),
          cipher: z.enum(['aes256', 'aes192', 'aes128']).default('aes256'),
          hash: z.enum(['sha256', 'sha384', 'sha512']).default('sha256'),
        }),
        z.object({
          mode: z.literal('tls'),
          role: z.enum(['active', 'passive']),
          ca_certificate: z.string().min(1),
          certificate: z.string().min(1),
        }),
      ])
      .optional(),
    description: z.string().optional(),
  })
  .superRefine((i, ctx) => {
    if (i.remove) return;
    for (const key of ['local_address', 'remote_address', 'auth'] as const)
      if (i[key] === undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'required unless remove' });
    if (i.remote_host === undefined && i.local_port === undefined)
      ctx.addIssue({ code: 'custom', path: ['remote_host'], message: 'a tunnel dials a remote host or listens on a local port' });
    if (i.protocol === 'tcp-active' && i.remote_host === undefined)
      ctx.addIssue({ code: 'custom', path: ['remote_host'], message: 'tcp-active dials: it needs remote_host' });
  });

/**
 * pathpilot's rules of a router's `firewall ipv4 forward filter`, whole: every rule number in
 * [`first`, `last`] is pathpilot's (security groups plan into blocks from 10000), set to `rules` (number →
 * the rule's config) or deleted when absent; rules outside the range are never touched.
 */
export const firewallRulesIntent = z
  .object({
    kind: z.literal('firewall-rules'),
    router: z.string(),
    /** The chain's family and hook: `firewall <family> <chain> filter` (default ipv4 forward). */
    family: z.enum(['ipv4', 'ipv6']).optional(),
    chain: z.enum(['forward', 'input']).optional(),
    first: z.number().int().min(1).max(999_999),
    last: z.number().int().min(1).max(999_999),
    rules: z.record(z.string().regex(/^\d+$/), z.record(z.string(), z.unknown())),
  })
  .superRefine((i, ctx) => {
    if (i.last < i.first) ctx.addIssue({ code: 'custom', path: ['last'], message: 'last must not be below first' });
    for (const n of Object.keys(i.rules))
      if (Number(n) < i.first || Number(n) > i.last)
        ctx.addIssue({ code: 'custom', path: ['rules', n], message: `rule ${n} is outside ${i.first}–${i.last}` });
  });

/**
 * One `firewall group network-group` on a router, whole (a threat feed's networks): set to `networks`, or
 * deleted when `networks` is empty and `remove` is set. Rules reference it by name.
 */
export const firewallGroupIntent = z.object({
  kind: z.literal('firewall-group'),
  router: z.string(),
  group: z.string().regex(/^[-_a-zA-Z0-9][\w\-.+]*$/, 'group names are letters, digits, "-", "_", "." or "+"'),
  networks: z.array(z.string()),
  description: z.string().max(255).optional(),
  remove: z.boolean().optional(),
});

/**
 * Whole config subtrees of a router (GitOps: actuator/gitops/): each `path` is set to `desired` as a whole
 * (null: deleted). Secret leaves (keys, PSKs, passwords) and `service https` are never written: they stay as
 * the router holds them, and so does every path under `keep` (subtrees another owner manages).
 */
export const configSubtreesIntent = z.object({
  kind: z.literal('config-subtrees'),
  router: z.string(),
  subtrees: z
    .array(
      z.object({
        path: z.array(z.string().min(1)).min(1),
        desired: z.record(z.string(), z.unknown()).nullable(),
      }),
    )
    .min(1),
  keep: z.array(z.array(z.string().min(1)).min(1)).optional(),
  /** Where the desired config comes from (`gitops <commit>`), for people reading the proposal. */
  source: z.string().optional(),
});

/**
 * BGP policy towards one neighbor of a router, in one direction: `import` (what the router prefers for
 * egress: local-preference) or `export` (what the neighbour's side prefers for ingress: MED, AS-path
 * prepend, communities). Rendered as a route-map (and a prefix-list per rule) bound to the neighbor;
 * routes no rule names pass unchanged. No rules: pathpilot's route-map is removed from the neighbor.
 */
export const bgpPolicyIntent = z.object({
  kind: z.literal('bgp-policy'),
  router: z.string(),
  neighbor: z.string().regex(/^\d{1,3}(\.\d{1,3}){3}$/, 'the neighbor IPv4 address'),
  direction: z.enum(['import', 'export']),
  rules: z
    .array(
      z.object({
        prefixes: z.array(z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, 'an IPv4 prefix')).min(1),
        local_pref: z.number().int().min(0).max(4_294_967_295).optional(),
        med: z.number().int().min(0).max(4_294_967_295).optional(),
        /** Times the router's own AS is prepended (export). */
        prepend: z.number().int().min(1).max(10).optional(),
        communities: z.array(z.string().regex(/^\d+:\d+$/, 'AS:VALUE')).optional(),
      }),
    )
    .max(50),
});

export const intentSchema = z.discriminatedUnion('kind', [
  pathWeightsIntent,
  bandwidthIntent,
  qosIntent,
  classPinIntent,
  wireguardPeersIntent,
  ipsecPeerIntent,
  openvpnSiteIntent,
  firewallRulesIntent,
  firewallGroupIntent,
  configSubtreesIntent,
  bgpPolicyIntent,
]);
export type Intent = z.infer<typeof intentSchema>;
export type PathWeightsIntent = z.infer<typeof pathWeightsIntent>;
export type BandwidthIntent = z.infer<typeof bandwidthIntent>;
export type WireguardPeersIntent = z.infer<typeof wireguardPeersIntent>;
export type IpsecPeerIntent = z.infer<typeof ipsecPeerIntent>;
export type OpenvpnSiteIntent = z.infer<typeof openvpnSiteIntent>;
export type FirewallRulesIntent = z.infer<typeof firewallRulesIntent>;
export type FirewallGroupIntent = z.infer<typeof firewallGroupIntent>;
export type ConfigSubtreesIntent = z.infer<typeof configSubtreesIntent>;
export type QosIntent = z.infer<typeof qosIntent>;
export type ClassPinIntent = z.infer<typeof classPinIntent>;
export type BgpPolicyIntent = z.infer<typeof bgpPolicyIntent>;

export const proposalStatuses = [
  'proposed',
  'awaiting-approval',
  'approved',
  'applying',
  'baking',
  'confirmed',
  'rolled-back',
  'failed',
  /** A touched subtree held something this rollout never put there: stopped, nothing overwritten; an admin decides. */
  'drifted',
  /** An admin kept a drifted proposal's routers as they are. */
  'drift-accepted',
  'rejected',
  'expired',
] as const;
export type ProposalStatus = (typeof proposalStatuses)[number];

export const riskLevels = ['low', 'medium', 'high'] as const;
export type RiskLevel = (typeof riskLevels)[number];

const assessedFlow = z.object({ router: z.string(), flow: z.string(), bytes: z.number(), class: z.string() });

/**
 * The actuator's pre-change risk assessment (actuator/security/risk.ts), made when a proposal arrives and
 * shown on its card and in Slack: what it would re-route, cut or open among the live conversations, the
 * compliance findings it adds, and the level that decides the approvals it needs.
 */
export const riskAssessmentSchema = z.object({
  level: z.enum(riskLevels),
  /** The level the proposal came with (the optimizer's). */
  stated: z.enum(riskLevels),
  approvals_required: z.number().int().min(1).max(2),
  reasons: z.array(z.string()),
  blast: z.object({
    window_h: z.number(),
    flows_rerouted: z.number(),
    bytes_rerouted: z.number(),
    flows_cut: z.number(),
    bytes_cut: z.number(),
    flows_opened: z.number(),
    bytes_opened: z.number(),
  }),
  /** Live conversations the change would drop (largest first). */
  cut: z.array(assessedFlow),
  /** Conversations dropped now that the change would let through. */
  opened: z.array(assessedFlow),
  compliance: z.array(
    z.object({ router: z.string(), rule: z.string(), severity: z.enum(riskLevels), path: z.string(), detail: z.string() }),
  ),
  /** What could be judged: flow data read; verdicts computed on the dataplane model. */
  computed: z.object({ flows: z.boolean(), reachability: z.boolean() }),
  /** Paths the change moves traffic onto whose RTT shifted suddenly (route security). */
  anomalies: z.array(z.object({ path: z.string(), baseline_ms: z.number(), recent_ms: z.number() })).default([]),
  /** Held for a human whatever the policy says (a path anomaly): never applied unattended. */
  hold: z.boolean().default(false),
  assessed_at: z.number(),
});
export type RiskAssessment = z.infer<typeof riskAssessmentSchema>;

/**
 * What an applied proposal did, measured from ClickHouse by the actuator (actuator/realized.ts) once a
 * window after it was confirmed has passed, against an equal window ending where its apply started. Beside
 * `predicted`, so users see whether the optimizer's promises came true. Figures are the whole network's
 * (cost, traffic) and the proposal's scope's (SLO minutes).
 */
export const realizedSchema = z.object({
  /** The window before (ends at the minute the apply started) and after (from the minute it was confirmed), epoch ms. */
  before: z.object({ from: z.number().int(), to: z.number().int() }),
  after: z.object({ from: z.number().int(), to: z.number().int() }),
  /** Transfer cost per day of the whole network: bytes priced over every link of the path they took. */
  cost_per_day: z.number(),
  cost_per_day_before: z.number(),
  /** GB per day the sites sent (routing does not change it: a change here means the traffic changed). */
  gb_per_day: z.number(),
  gb_per_day_before: z.number(),
  /** Minutes × (pair, class) of the scope whose traffic crossed a path breaking the class SLO. */
  slo_pair_class_minutes: z.number(),
  slo_pair_class_minutes_before: z.number(),
  measured_at: z.number().int(),
});
export type Realized = z.infer<typeof realizedSchema>;

export const proposalSchema = z.object({
  id: z.string().min(1),
  created_at: z.number().int(),
  /**
   * `tunnel`: a tunnel created, changed, re-keyed or deleted (WireGuard, IPsec, OpenVPN); `security`: firewall rules;
   * `config`: whole config subtrees from a GitOps repository.
   */
  kind: z.enum(['path-weights', 'bandwidth', 'qos', 'failover', 'tunnel', 'security', 'config', 'bgp']),
  /** One human sentence of why. */
  reason: z.string(),
  inputs: z.object({
    model_versions: z.record(z.string(), z.string()).default({}),
    horizon_min: z.number().nonnegative().default(60),
    /** Window of data the decision used, epoch ms. */
    data_from: z.number().int().optional(),
    data_to: z.number().int().optional(),
  }),
  intents: z.array(intentSchema).min(1),
  predicted: z.object({
    cost_per_day: z.number(),
    cost_per_day_before: z.number().optional(),
    rtt_p95_ms: z.record(z.string(), z.number()).default({}),
    max_utilization: z.number(),
    slo_risk: z.number().min(0).max(1),
  }),
  /** Measured after the apply (absent until then, and on records written before it existed). */
  realized: realizedSchema.optional(),
  risk: z.enum(riskLevels),
  /** Set by the actuator on arrival (absent on records written before it existed, or when it could not assess). */
  assessment: riskAssessmentSchema.optional(),
  /** A failover for a path breaking its SLO: the emergency policy may apply it without approval. */
  emergency: z.boolean().default(false),
  /** Affected pairs and classes, for the SLO guard. */
  scope: z
    .array(
      z.object({
        pair: pairSchema,
        class: z.string(),
        /** Paths the (pair, class) traffic takes once the change is in place. */
        paths: z.array(z.string()).default([]),
        /**
         * Paths it took before: the guard's baseline is what the traffic experienced there, not the new
         * paths' own past (an idle backup always looks better before it carries the load it is given).
         */
        paths_before: z.array(z.string()).default([]),
      }),
    )
    .default([]),
  status: z.enum(proposalStatuses).default('proposed'),
  history: z
    .array(
      z.object({
        status: z.enum(proposalStatuses),
        at: z.number().int(),
        actor: z.string().optional(),
        note: z.string().optional(),
      }),
    )
    .default([]),
});
export type Proposal = z.infer<typeof proposalSchema>;
export type ProposalInput = z.input<typeof proposalSchema>;

/**
 * The split the routers run now, as the actuator derives it from confirmed intents and the optimizer plans
 * against: demand key `from>to|class` → path id → fraction (sums to 1).
 */
export type CurrentWeights = Map<string, Record<string, number>>;

/** Queue the optimizer publishes proposals to and the actuator consumes. */
export const proposalQueueName = 'pathpilot-proposals';
