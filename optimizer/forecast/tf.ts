import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

export { tf };

let ready: Promise<string> | undefined;

/**
 * Picks the TensorFlow.js backend once per process: tfjs-node when it is installed (optional, native),
 * else the WebAssembly backend (ships its .wasm files), else the plain CPU backend.
 */
export function tfReady(): Promise<string> {
  ready ??= (async () => {
    try {
      const nodeBackend = '@tensorflow/tfjs-node';
      await import(nodeBackend);
      if (await tf.setBackend('tensorflow')) return 'tensorflow';
    } catch {
      // Optional dependency: not installed here (it downloads libtensorflow).
    }
    try {
      const require = createRequire(import.meta.url);
      const wasmDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
      setWasmPaths(`${join(wasmDir, 'dist')}/`);
      if (await tf.setBackend('wasm')) return 'wasm';
    } catch {
      // Fall through to the CPU backend.
    }
    await tf.setBackend('cpu');
    return 'cpu';
  })();
  return ready;
}
