/**
 * Cluster-tier global setup (vitest `globalSetup` of the `cluster` project, after the functional
 * one): makes sure the clusters the `test/cluster` files need are up and exports their addresses.
 * Filled in by the cluster services (scripts/services).
 */
export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  return undefined;
}
