import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { commandNames, loadCommand, usage, type Command } from './registry.ts';

/**
 * Every command and subcommand of the registry answers --help with its usage and exit 0, and
 * rejects an unknown option with a clear message and exit 2. In-process: --help and bad options
 * stop before any command touches configuration, services or the network.
 */

let out = '';
let err = '';
beforeEach(() => {
  out = '';
  err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    err += String(chunk);
    return true;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
});

const commands = new Map<string, Command>();
for (const name of commandNames()) {
  const command = await loadCommand(name);
  if (!command) throw new Error(`cli/commands/${name}.ts is not loadable`);
  commands.set(name, command);
}
/** Every invocation prefix: `[cmd]` for flat commands, `[cmd, sub]` for each subcommand. */
const invocations: string[][] = [...commands].flatMap(([name, c]) =>
  c.subcommands ? [[name], ...c.subcommands.map((sub) => [name, sub])] : [[name]],
);

describe('pathpilot --help', () => {
  it('the registry holds every command the design names, with their subcommands', () => {
    const names = invocations.map((i) => i.join(' '));
    for (const expected of ['start', 'demo', 'flows decode', 'report capacity', 'migrate', 'forecast backtest', 'changes'])
      expect(names).toContain(expected);
  });

  it.each(invocations.map((i) => [i.join(' '), i] as const))('%s --help prints its usage and exits 0', async (_, inv) => {
    for (const help of ['--help', '-h']) {
      out = '';
      const [name, ...sub] = inv;
      const code = await commands.get(name!)!.run([...sub, help]);
      expect(code, `${inv.join(' ')} ${help}: ${err}`).toBe(0);
      expect(out).toMatch(/^usage: pathpilot /);
      // Groups may share one usage text (services): it names the command and every subcommand.
      expect(out).toContain(`pathpilot ${name}`);
      for (const word of sub) expect(out).toContain(word);
    }
  });

  it.each(invocations.map((i) => [i.join(' '), i] as const))(
    '%s --no-such-option fails with a clear message and exit 2',
    async (_, inv) => {
      const [name, ...sub] = inv;
      // Groups without a subcommand answer with their usage; an option there is an unknown subcommand.
      const args = commands.get(name!)!.subcommands && sub.length === 0 ? ['--no-such-option'] : [...sub, '--no-such-option'];
      const code = await commands.get(name!)!.run(args);
      expect(code).toBe(2);
      expect(err).toMatch(new RegExp(`^pathpilot ${name}.*: .*--no-such-option`, 'm'));
      expect(err).toContain('--help');
    },
  );

  it('an unknown subcommand names the known ones', async () => {
    expect(await commands.get('forecast')!.run(['backtset'])).toBe(2);
    expect(err).toContain('unknown subcommand "backtset" (one of: backtest)');
  });

  it('the top-level usage lists every command', async () => {
    const text = await usage();
    for (const name of commands.keys()) expect(text).toContain(`  ${name} `);
  });

  it('the pathpilot binary answers --help and help <command> with exit 0', async () => {
    vi.restoreAllMocks();
    const run = (args: string[]) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], { timeout: 30_000 });
    const top = await run(['--help']);
    expect(top.stdout).toMatch(/^usage: pathpilot <command>/);
    const sub = await run(['help', 'report', 'capacity']);
    expect(sub.stdout).toMatch(/^usage: pathpilot report capacity/);
  });
});
