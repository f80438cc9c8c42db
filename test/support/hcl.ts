/**
 * HashiCorp's HCL parser (@cdktn/hcl2json, wasm) for the tests that check rendered Terraform. Loaded through
 * `createRequire` with its signature written here: the package's own typings pull in the DOM lib
 * (`/// <reference lib="dom" />`), which changes Node's fetch types for the whole program.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** HCL text → the JSON HashiCorp's hcl2json gives (blocks as nested objects, repeated blocks as lists). */
export const parseHcl = (require('@cdktn/hcl2json') as { parse(filename: string, hcl: string): Promise<Record<string, unknown>> })
  .parse;
