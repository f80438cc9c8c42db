/** VyOS router access: the typed `RouterApi`, its HTTP client and its errors. */
export * from './types.ts';
export { VyosClient, createVyosClient, vyosClientForSite, type VyosClientOptions } from './client.ts';
