import { errorMessage, ConfigError } from '../core/errors.ts';
import { loadCommand, usage } from './registry.ts';

/**
 * The `pathpilot` command. Each subcommand lives in `cli/commands/<name>.ts` (see registry.ts);
 * this file only finds and runs it, so commands stay independent.
 */
export type { Command } from './registry.ts';

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') {
    process.stdout.write(await usage());
    return name ? 0 : 2;
  }
  // `pathpilot help forecast backtest` is `pathpilot forecast backtest --help`.
  if (name === 'help') return rest.length > 0 ? main([...rest, '--help']) : main(['--help']);
  const command = await loadCommand(name);
  if (!command) {
    process.stderr.write(`pathpilot: unknown command "${name}"\n\n${await usage()}`);
    return 2;
  }
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError) process.stderr.write(`pathpilot: ${err.message}\n`);
    else process.stderr.write(`pathpilot: ${errorMessage(err)}\n`);
    process.exitCode = 1;
  },
);
