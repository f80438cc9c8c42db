/**
 * kafkajs computes the CRC-32C of every record batch it produces in plain JavaScript; profiling the
 * bus bench put that at ~22 % of the producer's CPU. This module, imported by kafka.ts before
 * kafkajs, pre-loads kafkajs' internal `crc32C` module with @node-rs/crc32 (SIMD, native, shipped
 * as a prebuilt npm package). If the native package cannot load, or disagrees with kafkajs' own
 * implementation on a probe, nothing is changed and kafkajs keeps its JavaScript version.
 * `PATHPILOT_KAFKAJS_JS_CRC=1` keeps kafkajs' own (for comparisons). Checked by core/bus/kafkajs-crc.test.ts (same checksums as kafkajs' implementation).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

export interface CrcPatchState {
  native: boolean;
  reason?: string;
}

/** Record batches checksummed by the native CRC (tests check kafkajs really uses it). */
export const nativeCrcCalls = { count: 0 };

function install(): CrcPatchState {
  if (process.env.PATHPILOT_KAFKAJS_JS_CRC === '1') return { native: false, reason: 'PATHPILOT_KAFKAJS_JS_CRC=1' };
  try {
    const kafkajsRoot = dirname(require.resolve('kafkajs/package.json'));
    const target = join(kafkajsRoot, 'src', 'protocol', 'recordBatch', 'crc32C', 'index.js');
    if (require.cache[target]) return { native: false, reason: 'kafkajs was loaded before the patch' };
    const { crc32c } = require('@node-rs/crc32') as { crc32c: (input: Buffer, initial?: number) => number };
    const jsCrc32 = require(join(kafkajsRoot, 'src', 'protocol', 'recordBatch', 'crc32C', 'crc32C.js')) as (b: Buffer) => number;
    const probe = Buffer.from(Array.from({ length: 4099 }, (_, i) => (i * 131 + 7) & 255));
    if (crc32c(probe) >>> 0 !== jsCrc32(probe) >>> 0) return { native: false, reason: 'native CRC-32C disagrees' };
    // Load the original module, then swap its exports before any kafkajs module requires it.
    require(target);
    const entry = require.cache[target] as NodeJS.Module | undefined;
    if (!entry) return { native: false, reason: 'kafkajs crc32C module not in the require cache' };
    entry.exports = (buffer: Buffer) => {
      nativeCrcCalls.count++;
      return crc32c(buffer) >>> 0;
    };
    return { native: true };
  } catch (err) {
    return { native: false, reason: err instanceof Error ? err.message : String(err) };
  }
}

export const crcPatch: CrcPatchState = install();
