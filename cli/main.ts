import { readdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorMessage, ConfigError } from '../core/errors.ts';

/**
 * The `pathpilot` command. Each subcommand lives in `cli/commands/<name>.ts` and exports
 * `summary` and `run(args)`; this file only finds and runs it, so commands stay independent.
 */
export interface Command {
  summary: string;
  run(args: string[]): Promise<number>;
}

const commandsDir = join(dirname(fileURLToPath(import.meta.url)), 'commands');

async function loadCommand(name: string): Promise<Command | undefined> {
  if (!/^[a-z][a-z-]*$/.test(name)) return undefined;
  const file = join(commandsDir, `${name}.ts`);
  if (!existsSync(file)) return undefined;
  return (await import(file)) as Command;
}

async function usage(): Promise<string> {
  const names = readdirSync(commandsDir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((f) => f.slice(0, -3))
    .sort();
  const lines = await Promise.all(names.map(async (n) => `  ${n.padEnd(12)} ${(await loadCommand(n))?.summary ?? ''}`));
  return `usage: pathpilot <command> [options]\n\ncommands:\n${lines.join('\n')}\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(await usage());
    return name ? 0 : 2;
  }
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
