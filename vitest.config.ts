import { defineConfig } from 'vitest/config';

/**
 * Two tiers: unit (`*.test.ts`, no services) and functional (`*.functional.test.ts`, real Kafka,
 * ClickHouse server, chDB, Redis, the VyOS emulator). The functional global setup finds or starts
 * the services and exports their URLs; in CI a missing service fails the run.
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
          exclude: ['**/*.functional.test.ts', 'node_modules/**', '.data/**'],
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
    ],
  },
});
