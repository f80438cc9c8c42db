import highsDefault, { type Highs } from 'highs';

type Loader = () => Promise<Highs>;
// The package's types describe a CommonJS default; at runtime the ESM build exports the loader itself.
const loadHighs = ((highsDefault as unknown as { default?: Loader }).default ?? highsDefault) as unknown as Loader;

let runtime: Promise<Highs> | undefined;

/**
 * One HiGHS WebAssembly runtime per process (loading it costs ~50 ms); models are created and
 * disposed per solve so nothing leaks between calls.
 */
export function highs(): Promise<Highs> {
  runtime ??= loadHighs();
  return runtime;
}
