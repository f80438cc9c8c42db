export * from './decode.ts';
export * from './encode.ts';
export * from './types.ts';
export { TemplateCache } from './templates.ts';
export { decodeNetflow5 } from './netflow5.ts';
export { decodeNetflow9, decodeIpfix } from './netflow9.ts';
export { decodeSflow } from './sflow.ts';
