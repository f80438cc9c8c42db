import { z } from 'zod';
import { maxPacketSize, minPacketSize } from './packet.ts';

const id = z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'use lowercase letters, digits, ".", "_" or "-"');
const address = z.string().regex(/^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:]+|localhost)$/, 'expected an IP address');
const port = z.number().int().min(1).max(65_535);

/** One probe stream: one path, probed from its source address to the far end's reflector. */
export const streamSchema = z
  .object({
    path_id: id,
    src_site: id,
    dst_site: id,
    /** Class whose DSCP the probes stand for (recorded; Node cannot set the TOS byte itself). */
    class: id.optional(),
    /** Local address the stream's socket binds to, so probes leave through the path's tunnel. */
    source_address: address.optional(),
    target_address: address,
    target_port: port.default(862),
  })
  .strict();
export type StreamConfig = z.infer<typeof streamSchema>;

/** The `ingest.probe` section of pathpilot.yaml. */
export const probeConfigSchema = z
  .object({
    /**
     * Time between probes of one stream.
     * @defaultValue 1000
     */
    interval_ms: z.number().int().min(1).max(3_600_000).default(1000),
    /**
     * Length of a window; each window of each stream gives one probe record.
     * @defaultValue 10000
     */
    window_ms: z.number().int().min(10).max(86_400_000).default(10_000),
    /**
     * How long after a window ends its replies still count; later ones are "late", never received.
     * @defaultValue 1000
     */
    grace_ms: z.number().int().min(0).max(600_000).default(1000),
    /**
     * UDP payload size of probes (TWAMP-Test: at least 41 bytes).
     * @defaultValue 64
     */
    packet_size: z.number().int().min(minPacketSize).max(maxPacketSize).default(64),
    /** Start each stream on a window boundary, so windows hold whole probe trains. */
    align_to_window: z.boolean().default(true),
    reflector: z
      .object({
        enabled: z.boolean().default(false),
        listen: address.default('0.0.0.0'),
        /** TWAMP's well-known port is 862; 0 picks a free one (tests). */
        port: z.number().int().min(0).max(65_535).default(862),
      })
      .strict()
      .default({ enabled: false, listen: '0.0.0.0', port: 862 }),
    /**
     * Probe every path that starts at this site (source = the first link's local address, target =
     * the last link's far address and `reflector.port`), in addition to `streams`.
     */
    site: id.optional(),
    streams: z.array(streamSchema).default([]),
  })
  .strict()
  .refine((c) => c.interval_ms <= c.window_ms, { message: 'interval_ms must not exceed window_ms', path: ['interval_ms'] });

export type ProbeConfig = z.infer<typeof probeConfigSchema>;
