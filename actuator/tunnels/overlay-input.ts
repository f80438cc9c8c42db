/**
 * The overlay's two input files, `nodes.json` and `topology.json`, read with positions: every error names
 * the file, line and column and the field (`nodes.json:14:19: nodes[1].endpoints[0].endpoint: …`), so a
 * user fixes the right line of a hand-written file (core/located-json.ts).
 */
import { z } from 'zod';

const name = z.string().min(1).max(64);

export const overlayNodeSchema = z.object({
  name,
  role: z.enum(['client', 'relay']),
  wireguard_ip: z.string().min(1),
  /** Optional: `linux` nodes get only a wg-quick file; default `vyos` gets both. */
  platform: z.enum(['vyos', 'linux']).optional(),
  endpoints: z
    .array(
      z.object({
        name,
        allowed_peers: z.array(name),
        endpoint: z.string().min(1),
      }),
    )
    .min(1),
});

export const nodesFileSchema = z.object({ nodes: z.array(overlayNodeSchema).min(1) });

export const peeringSchema = z.object({
  from: name,
  to: name,
  endpoint: name,
  allowed_ips: z.array(z.string().min(1)).min(1),
  priority: z.number().int().min(1),
});

export const topologyFileSchema = z.object({ peers: z.array(peeringSchema).min(1) });

export type OverlayNode = z.infer<typeof overlayNodeSchema>;
export type Peering = z.infer<typeof peeringSchema>;
