/**
 * The overlay the actuator manages, as `overlay gen` leaves it (plan.json and public-keys.json in its
 * output directory), and the probe-loss source the tunnel watch reads: types the pipeline's deps name
 * without reaching the watch itself.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { errorMessage } from '../../core/errors.ts';
import type { PublicKeyOf } from './failover.ts';
import type { OverlayPlan } from './overlay-plan.ts';
import { keyId } from './overlay-render.ts';

/** The overlay pathpilot manages: its plan, the public key of every interface and when it was generated. */
export interface OverlayState {
  plan: OverlayPlan;
  publicKeyOf: PublicKeyOf;
  /** When each interface's key was generated (`node/wgN` → ms); one not listed counts from when it is first watched. */
  keyTimes?: Map<string, number>;
  /** Keeps a rotated key (the new public key and when it was generated) where the overlay is stored. */
  saveKey?(node: string, iface: string, publicKey: string, at: number): Promise<void>;
}

/** `key-times.json` beside public-keys.json: node → interface → ISO time the key was generated. */
export const KEY_TIMES_FILE = 'key-times.json';

/** Probe loss (0–1) from `node` to `peer` across their tunnel over the window ending now; undefined: no probes. */
export type TunnelLoss = (node: string, peer: string, windowMs: number) => Promise<number | undefined>;

const publicKeysSchema = z.record(z.string(), z.record(z.string(), z.string()));
const keyTimesSchema = z.record(z.string(), z.record(z.string(), z.iso.datetime()));

/** Writes a JSON file whole or not at all (a crash mid-write must not lose every public key). */
async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(value, null, 1)}\n`);
  await rename(tmp, file);
}

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
  const timesFile = join(dir, KEY_TIMES_FILE);
  const rawTimes = await readFile(timesFile, 'utf8').then(
    (text) => JSON.parse(text) as unknown,
    () => ({}),
  );
  const times = keyTimesSchema.safeParse(rawTimes);
  if (!times.success) throw new Error(`${timesFile}: expected {node: {interface: ISO time}}`);
  const keyTimes = new Map<string, number>();
  for (const [node, byIface] of Object.entries(times.data))
    for (const [iface, at] of Object.entries(byIface)) keyTimes.set(keyId(node, iface), Date.parse(at));
  return {
    plan,
    publicKeyOf: (node, iface) => {
      const key = keys[node]?.[iface];
      if (!key) throw new Error(`no public key for ${node} ${iface} in ${join(dir, 'public-keys.json')}`);
      return key;
    },
    keyTimes,
    async saveKey(node, iface, publicKey, at) {
      (keys[node] ??= {})[iface] = publicKey;
      keyTimes.set(keyId(node, iface), at);
      const out: Record<string, Record<string, string>> = {};
      for (const [id, ms] of keyTimes) {
        const [n, i] = id.split('/') as [string, string];
        (out[n] ??= {})[i] = new Date(ms).toISOString();
      }
      await writeJsonAtomic(join(dir, 'public-keys.json'), keys);
      await writeJsonAtomic(timesFile, out);
    },
  };
}
