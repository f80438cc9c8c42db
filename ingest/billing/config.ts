import { z } from 'zod';
import { costCategories } from '../../core/records/index.ts';

const id = z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'use lowercase letters, digits, ".", "_" or "-"');

/** An explicit mapping of cost lines to a link; every field given must match. */
export const linkRuleSchema = z
  .object({
    provider: z.string().optional(),
    src_region: z.string().optional(),
    dst_region: z.string().optional(),
    category: z.enum(costCategories).optional(),
    link: id,
  })
  .strict();
export type LinkRule = z.infer<typeof linkRuleSchema>;

/** The `ingest.billing` section of pathpilot.yaml. */
export const billingConfigSchema = z
  .object({
    /**
     * Cost records per bus publish (one publish may carry several messages).
     * @defaultValue 5000
     */
    batch_size: z.number().int().min(1).max(100_000).default(5000),
    /**
     * Records per Kafka message (MessagePack array).
     * @defaultValue 1000
     */
    records_per_message: z.number().int().min(1).max(10_000).default(1000),
    /**
     * Map transfer lines to topology links from sites' provider and region.
     * @defaultValue true
     */
    map_links: z.boolean().default(true),
    /** Explicit line → link rules, checked before the automatic mapping. */
    link_rules: z.array(linkRuleSchema).default([]),
    /**
     * Bad rows kept (with file, line and reason) in an import summary; all are counted.
     * @defaultValue 1000
     */
    max_bad_rows_reported: z.number().int().min(0).default(1000),
    /**
     * Worker threads for large CSV files ('auto': one per core, at most 4). Off by default: on a
     * 2-core machine the single-threaded path measured faster (see docs/notes/ingest-probe-billing.md);
     * worth enabling on dedicated hosts with more cores.
     * @defaultValue 0
     */
    workers: z.union([z.literal('auto'), z.number().int().min(0).max(16)]).default(0),
    /**
     * Files at least this large (bytes on disk) are imported on worker threads.
     * @defaultValue 67108864 (64 MiB)
     */
    parallel_min_bytes: z
      .number()
      .int()
      .min(0)
      .default(64 * 1024 * 1024),
    /**
     * Progress callback interval.
     * @defaultValue 500
     */
    progress_interval_ms: z.number().int().min(10).default(500),
  })
  .strict();

export type BillingConfig = z.infer<typeof billingConfigSchema>;

export const defaultBillingConfig: BillingConfig = billingConfigSchema.parse({});
