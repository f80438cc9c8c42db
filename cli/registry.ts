import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runnableModule } from '../core/runtime.ts';

/**
 * The commands of `pathpilot`: one module per command in `cli/commands/<name>.ts`, exporting
 * `summary`, `run(args)` and, for commands with subcommands, their names. The help test
 * enumerates this registry, so a new command or subcommand is covered without editing the test.
 */
export interface Command {
  summary: string;
  /** Names accepted as the first argument (`forecast backtest`); absent for flat commands. */
  subcommands?: readonly string[];
  run(args: string[]): Promise<number>;
}

const commandsDir = join(dirname(fileURLToPath(import.meta.url)), 'commands');

export function commandNames(): string[] {
  return readdirSync(commandsDir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((f) => f.slice(0, -3))
    .sort();
}

export async function loadCommand(name: string): Promise<Command | undefined> {
  if (!/^[a-z][a-z-]*$/.test(name)) return undefined;
  const file = join(commandsDir, `${name}.ts`);
  if (!existsSync(file)) return undefined;
  // From dist/ when running built: the command's bundle, not its TypeScript source.
  return (await import(runnableModule(pathToFileURL(file)).href)) as Command;
}

export async function usage(): Promise<string> {
  const names = commandNames();
  const lines = await Promise.all(names.map(async (n) => `  ${n.padEnd(12)} ${(await loadCommand(n))?.summary ?? ''}`));
  return (
    `usage: pathpilot <command> [options]\n\ncommands:\n${lines.join('\n')}\n\n` +
    'Every command and subcommand answers --help (e.g. `pathpilot forecast backtest --help`).\n'
  );
}
