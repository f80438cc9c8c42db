import { servicesCommand } from '../../scripts/services/main.ts';

export const summary = 'local Kafka, ClickHouse, Redis, Prometheus without Docker (up|down|status|env|logs)';

export function run(args: string[]): Promise<number> {
  return servicesCommand(args);
}
