import { parseArgs, type ParseArgsConfig } from 'node:util';

/**
 * The one argument parser every `pathpilot` command goes through, so all of them answer `--help`
 * the same way (usage on stdout, exit 0) and reject bad options the same way (a one-line reason
 * and a pointer to `--help` on stderr, exit 2). It wraps node:util's parseArgs rather than a
 * library: the commands already describe their options in its format.
 */

type Options = NonNullable<ParseArgsConfig['options']>;

export interface CommandSpec<O extends Options> {
  /** What the user typed to get here, e.g. `pathpilot forecast backtest`. */
  name: string;
  /** Full help text; starts with `usage:`. */
  usage: string;
  options: O;
  allowPositionals?: boolean;
}

/** Exit status of a command that stopped while parsing its arguments (help shown or usage error). */
export interface ParseExit {
  exit: number;
}

export type Parsed<O extends Options> = ReturnType<typeof parseWith<O>> | ParseExit;

// Separate function so the `values` type follows the command's own options.
function parseWith<O extends Options>(args: string[], options: O, allowPositionals: boolean) {
  return parseArgs({ args, options, allowPositionals, strict: true });
}

const helpOption = { help: { type: 'boolean', short: 'h' } } as const;

/** Prints a usage error the same way for every command. */
export function usageError(name: string, message: string): ParseExit {
  process.stderr.write(`${name}: ${message}\nRun \`${name} --help\` for usage.\n`);
  return { exit: 2 };
}

/**
 * Parses `args` for a command. Returns `{ exit }` when the command must stop now: 0 after `--help`,
 * 2 after an unknown option, a missing option value or an unexpected positional.
 */
export function parseCommand<O extends Options>(args: string[], spec: CommandSpec<O>): Parsed<O> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(spec.usage);
    return { exit: 0 };
  }
  try {
    // `help` is parsed too so `--help=x` and bundles like `-qh` are understood rather than "unknown".
    const parsed = parseWith(args, { ...spec.options, ...helpOption }, spec.allowPositionals ?? false);
    if ((parsed.values as { help?: boolean }).help) {
      process.stdout.write(spec.usage);
      return { exit: 0 };
    }
    return parsed as ReturnType<typeof parseWith<O>>;
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (!code.startsWith('ERR_PARSE_ARGS_')) throw err;
    return usageError(spec.name, (err as Error).message);
  }
}

export function isExit(parsed: unknown): parsed is ParseExit {
  return typeof parsed === 'object' && parsed !== null && 'exit' in parsed;
}

export interface SubcommandGroup {
  /** e.g. `pathpilot forecast`. */
  name: string;
  usage: string;
  subcommands: Record<string, (args: string[]) => Promise<number>>;
}

/**
 * Runs `<group> <subcommand> …`. With no subcommand or `--help` the group's usage goes to stdout
 * (exit 0 for help, 2 when the subcommand is missing); an unknown subcommand is a usage error.
 */
export function runSubcommand(args: string[], group: SubcommandGroup): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(group.usage);
    return Promise.resolve(0);
  }
  if (sub === undefined) {
    process.stderr.write(group.usage);
    return Promise.resolve(2);
  }
  const run = Object.hasOwn(group.subcommands, sub) ? group.subcommands[sub] : undefined;
  if (!run) {
    const known = Object.keys(group.subcommands).join(', ');
    return Promise.resolve(usageError(group.name, `unknown subcommand "${sub}" (one of: ${known})`).exit);
  }
  return run(rest);
}
