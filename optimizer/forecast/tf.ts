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

/**
 * Dense-layer initializers drawn from `seed`: TensorFlow.js seeds from Math.random otherwise, so two
 * trainings on the same data would give different models (and a lab run would not repeat).
 */
export function seededDense(seed: number): { kernelInitializer: ReturnType<typeof tf.initializers.glorotUniform> } {
  return { kernelInitializer: tf.initializers.glorotUniform({ seed }) };
}

/**
 * Shuffles training rows in place with a seeded generator (`fit`'s own shuffle uses Math.random): `xs`
 * holds `n` rows of `xWidth` features, `ys` `n` rows of `yWidth` targets.
 */
export function shuffleRows(
  xs: Float32Array,
  ys: Float32Array,
  n: number,
  widths: { x: number; y: number },
  rand: () => number,
): void {
  const swap = (a: Float32Array, w: number, i: number, j: number) => {
    for (let k = 0; k < w; k++) {
      const t = a[i * w + k]!;
      a[i * w + k] = a[j * w + k]!;
      a[j * w + k] = t;
    }
  };
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    swap(xs, widths.x, i, j);
    swap(ys, widths.y, i, j);
  }
}
