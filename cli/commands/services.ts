import { servicesCommand, usage } from '../../scripts/services/main.ts';
import { usageError } from '../args.ts';

export const summary = 'local Kafka, ClickHouse, Redis, Prometheus without Docker (up|down|status|env|logs)';

export const subcommands = ['up', 'down', 'status', 'env', 'logs'] as const;

const name = 'pathpilot services';

export async function run(args: string[]): Promise<number> {
  // The services script parses its own arguments (it also runs as `npm run services`); help and
  // option errors are answered here the way every other command answers them.
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(usage.replace(/^usage: services/, `usage: ${name}`));
    return 0;
  }
  try {
    return await servicesCommand(args);
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (!code.startsWith('ERR_PARSE_ARGS_')) throw err;
    return usageError(name, (err as Error).message).exit;
  }
}
