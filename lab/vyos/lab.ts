import type { VyosLab, VyosLabOptions } from './types.ts';

/** Starts one emulated router per spec on an ephemeral loopback port. */
export async function createVyosLab(_options: VyosLabOptions): Promise<VyosLab> {
  throw new Error('createVyosLab: not implemented yet');
}
