/**
 * The overlay the actuator manages, as `overlay gen` leaves it (plan.json and public-keys.json in its
 * output directory), and the probe-loss source the tunnel watch reads: types the pipeline's deps name
 * without reaching the watch itself.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { errorMessage } from '../../core/errors.ts';
import type { PublicKeyOf } from './failover.ts';
import type { OverlayPlan } from './overlay-plan.ts';

/** The overlay pathpilot manages: its plan and the public key of every interface. */
export interface OverlayState {
  plan: OverlayPlan;
  publicKeyOf: PublicKeyOf;
}

/** Probe loss (0–1) from `node` to `peer` across their tunnel over the window ending now; undefined: no probes. */
export type TunnelLoss = (node: string, peer: string, windowMs: number) => Promise<number | undefined>;

const publicKeysSchema = z.record(z.string(), z.record(z.string(), z.string()));

/** Reads `overlay gen`'s output directory: plan.json and public-keys.json (node → interface → key). */
export async function readOverlayDir(dir: string): Promise<OverlayState> {
  const read = async (name: string) => {
    const file = join(dir, name);
    try {
      return JSON.parse(await readFile(file, 'utf8')) as unknown;
    } catch (err) {
      throw new Error(`${file}: ${errorMessage(err)} (write it with pathpilot overlay gen -o ${dir})`);
    }
  };
  const plan = (await read('plan.json')) as OverlayPlan;
  if (!Array.isArray(plan?.nodes) || !Array.isArray(plan.tunnels))
    throw new Error(`${join(dir, 'plan.json')}: not an overlay plan`);
  const parsed = publicKeysSchema.safeParse(await read('public-keys.json'));
  if (!parsed.success) throw new Error(`${join(dir, 'public-keys.json')}: expected {node: {interface: public key}}`);
  const keys = parsed.data;
  return {
    plan,
    publicKeyOf: (node, iface) => {
      const key = keys[node]?.[iface];
      if (!key) throw new Error(`no public key for ${node} ${iface} in ${join(dir, 'public-keys.json')}`);
      return key;
    },
  };
}
