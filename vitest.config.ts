import { defineConfig } from 'vitest/config';

/**
 * Three tiers: unit (`*.test.ts`, no services), functional (`*.functional.test.ts`, real Kafka,
 * ClickHouse server, chDB, Redis, the VyOS emulator) and cluster (`test/cluster/*.cluster.test.ts`:
 * a three-broker Kafka cluster, a 2×2 ClickHouse cluster with ZooKeeper, active/standby roles; kill
 * -9 tests). The global setups find or start the services and export their URLs; in CI a missing
 * service fails the run.
 */
export default defineConfig({
  test: {
    // Two cores: test files share real services, keep the fan-out modest.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['**/*.test.ts'],
          exclude: ['**/*.functional.test.ts', '**/*.cluster.test.ts', 'node_modules/**', '.data/**'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'functional',
          include: ['**/*.functional.test.ts'],
          exclude: ['node_modules/**', '.data/**'],
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          name: 'cluster',
          include: ['test/cluster/**/*.cluster.test.ts'],
          exclude: ['node_modules/**', '.data/**'],
          // The single-node services (Redis for leases, the ClickHouse server) and the clusters.
          globalSetup: ['test/support/global-setup.ts', 'test/support/cluster-setup.ts'],
          // Each file kills processes and loads the clusters: one fork runs them one after another,
          // after the unit and functional tiers, so kill -9 and the 1M-row loads never slow their timing.
          poolOptions: { forks: { singleFork: true } },
          sequence: { groupOrder: 1 },
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
