import { z } from 'zod';

/**
 * The `ingest.flow` section of pathpilot.yaml: where the collector listens, how it decodes and how
 * it batches records into Kafka messages. Defaults suit one collector on a small host.
 */
const ipAddress = z.string().regex(/^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:]+)$/, 'expected an IP address');
const port = z.number().int().min(0).max(65_535);

export const flowCollectorConfigSchema = z
  .object({
    /** Address the UDP listeners bind. 127.0.0.1 by default: set 0.0.0.0 (or ::) to accept exporters. */
    bind: ipAddress.default('127.0.0.1'),
    /** UDP port for NetFlow v5/v9, IPFIX and sFlow (the format is detected per datagram). 0 = any free port. */
    port: port.default(2055),
    /** More UDP ports on the same address (e.g. 4739 for IPFIX, 6343 for sFlow). */
    extra_ports: z.array(port).default([]),
    /**
     * Socket receive buffer (SO_RCVBUF), bytes; the kernel caps it at net.core.rmem_max. 0 keeps the
     * kernel's default (net.core.rmem_default, 212,992 bytes on most Linux hosts) or what the
     * supervisor set on a passed socket.
     */
    rcvbuf_bytes: z.union([z.literal(0), z.number().int().min(65_536)]).default(32 * 1024 * 1024),
    /**
     * Listen on the datagram sockets the supervisor passed (systemd socket activation: LISTEN_FDS for
     * this pid) instead of binding `port` and `extra_ports`. Several collector processes share one
     * port this way: one socket unit per process with `ReusePort=yes` (docs/notes/ingest-flow.md).
     */
    inherit_sockets: z.boolean().default(true),
    receiver: z
      .object({
        /**
         * Read the sockets on a thread that does nothing else, so GC pauses, encoding and Kafka
         * publishing on the decoding thread cannot overflow the kernel's socket buffer.
         */
        thread: z.boolean().default(true),
        /**
         * Datagrams received but not yet decoded, in 256 KB slabs (8 MB ≈ 1 s at 100k flows/s);
         * beyond it the receiving thread drops datagrams and counts them (`receive_dropped_total`).
         */
        buffer_bytes: z
          .number()
          .int()
          .min(512 * 1024)
          .max(1024 * 1024 * 1024)
          .default(8 * 1024 * 1024),
        /**
         * SCHED_FIFO priority the receiving thread asks for (1–99; 0 = stay in the normal class).
         * It wakes for each datagram and goes back to sleep at once; in the real-time class it runs
         * within a millisecond even on a busy host, where the normal class left it waiting longer
         * than the socket buffer lasts (12 ms at the kernel default). Takes CAP_SYS_NICE or an
         * RLIMIT_RTPRIO of at least this (systemd `LimitRTPRIO=`, docker `--ulimit rtprio=`); without,
         * the thread stays in the normal class and the collector says so once. The kernel keeps 5 %
         * of each second for other classes (sched_rt_runtime_us), whatever a real-time thread does.
         */
        realtime_priority: z.number().int().min(0).max(99).default(5),
      })
      .strict()
      .default({ thread: true, buffer_bytes: 8 * 1024 * 1024, realtime_priority: 5 }),
    /**
     * Decoding threads. 1 decodes on the socket's thread; N > 1 spreads exporters over N worker
     * threads (each exporter always goes to the same worker, so its templates stay together).
     */
    workers: z.number().int().min(1).max(64).default(1),
    sampling: z
      .object({
        /** Rate assumed when neither the datagram nor option data gives one (1 = unsampled). */
        default: z.number().int().min(1).default(1),
        /** Per-exporter rate, by exporter address. */
        exporters: z.record(z.string(), z.number().int().min(1)).default({}),
      })
      .strict()
      .default({ default: 1, exporters: {} }),
    batch: z
      .object({
        /** Records per Kafka message (one message = one MessagePack array). */
        max_records: z.number().int().min(1).max(100_000).default(1000),
        /** Longest a partial batch waits before it is sent, ms. */
        linger_ms: z.number().int().min(1).max(60_000).default(250),
      })
      .strict()
      .default({ max_records: 1000, linger_ms: 250 }),
    /**
     * Records held while Kafka is slow or away (open batches + messages waiting to be published).
     * Beyond it, new records are dropped and counted (`dropped_total{reason="buffer_full"}`); the
     * socket is never blocked. Held encoded (~145 bytes per enriched flow): 100k records ≈ 1 s at
     * 100k flows/s ≈ 15 MB, inside the ingest process's 128 MB (docs/notes/ingest-flow.md).
     */
    buffer_records: z.number().int().min(1000).default(100_000),
    /** Messages handed to the bus per publish call. */
    messages_per_publish: z.number().int().min(1).max(1000).default(16),
    templates: z
      .object({
        /** How long data waits for a template it arrived before, ms. */
        pending_ttl_ms: z.number().int().min(0).default(10_000),
        /** Data sets kept waiting per (exporter, domain); 0 = count them as template_missing at once. */
        pending_limit: z.number().int().min(0).default(256),
        /** Bytes of data sets kept waiting per (exporter, domain), and across all exporters. */
        pending_domain_bytes: z
          .number()
          .int()
          .min(0)
          .default(1024 * 1024),
        pending_total_bytes: z
          .number()
          .int()
          .min(0)
          .default(16 * 1024 * 1024),
        /**
         * Bounds on what exporters can make the collector hold (docs/notes/ingest.md: real exporters
         * stay far inside them). A template beyond max_fields or declaring fewer than
         * min_bytes_per_field record bytes per field is refused (`bad_template`).
         */
        max_fields: z.number().int().min(16).max(16_384).default(512),
        min_bytes_per_field: z.number().min(0).max(4).default(0.5),
        /** Templates per (exporter, domain): the least recently used is evicted beyond it. */
        max_per_domain: z.number().int().min(1).default(256),
        /** Fields held across all templates (the cache's memory bound; ~40 bytes each). */
        max_total_fields: z.number().int().min(1024).default(1_000_000),
        /** A template neither refreshed nor used for this long is forgotten, ms. */
        ttl_ms: z.number().int().min(1000).default(3_600_000),
        /** Flows one v9/IPFIX datagram may yield; real exports of ≥ 16-byte records stay ≤ 4,096 per 64 KB. */
        max_flows_per_datagram: z.number().int().min(64).default(8192),
      })
      .strict()
      .default({
        pending_ttl_ms: 10_000,
        pending_limit: 256,
        pending_domain_bytes: 1024 * 1024,
        pending_total_bytes: 16 * 1024 * 1024,
        max_fields: 512,
        min_bytes_per_field: 0.5,
        max_per_domain: 256,
        max_total_fields: 1_000_000,
        ttl_ms: 3_600_000,
        max_flows_per_datagram: 8192,
      }),
    /** Kafka topics (default: the record definitions' `pathpilot.flow.v1` / `pathpilot.iface.v1`). */
    topics: z
      .object({ flow: z.string().min(1).optional(), iface: z.string().min(1).optional() })
      .strict()
      .default({}),
    /** Enrich with site, link, destination site and traffic class from the topology. */
    enrich: z.boolean().default(true),
  })
  .strict();

export type FlowCollectorConfig = z.output<typeof flowCollectorConfigSchema>;
export const flowCollectorSection = 'ingest.flow';
