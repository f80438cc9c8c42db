/**
 * How functional tests reach real services. The global setup (test/support/global-setup.ts)
 * fills KAFKA_BROKERS, CLICKHOUSE_URL, REDIS_URL and PROMETHEUS_URL from the environment, from testcontainers
 * when a Docker engine answers, or from the project's own services (`npm run services -- up`).
 */
import { randomBytes } from 'node:crypto';

export type ServiceName = 'kafka' | 'clickhouse' | 'redis' | 'prometheus';

const envByService: Record<ServiceName, string> = {
  kafka: 'KAFKA_BROKERS',
  clickhouse: 'CLICKHOUSE_URL',
  redis: 'REDIS_URL',
  prometheus: 'PROMETHEUS_URL',
};

/**
 * The service's URL (Kafka: comma-separated brokers). When it is missing the test fails with a clear
 * message; functional tests never skip silently (in CI or out of it).
 */
export function requireService(name: ServiceName): string {
  const value = process.env[envByService[name]];
  if (!value) {
    throw new Error(
      `${name} is not available: ${envByService[name]} is unset. Run \`npm run services -- up\` ` +
        `(or set ${envByService[name]}) before the functional tests.`,
    );
  }
  return value;
}

/** A name no other test uses: `prefix_<random>` (valid as a topic, database, table and queue name). */
export function uniqueName(prefix: string): string {
  return `${prefix.replace(/[^a-zA-Z0-9_]/g, '_')}_${randomBytes(5).toString('hex')}`;
}
