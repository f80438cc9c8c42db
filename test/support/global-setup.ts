/**
 * Functional-tier global setup. Filled in by the services work (issue 2): use env URLs if set;
 * else testcontainers when a Docker engine answers; else the project's own services.
 */
export default async function setup(): Promise<void> {}
