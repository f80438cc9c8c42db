/**
 * The words of a VyOS command line as the CLI splits them: whitespace between words, a word in single or
 * double quotes taken whole without its quotes. One tokenizer for the emulator, set files and IaC.
 */
export interface CommandWord {
  text: string;
  /** Written in quotes (a value, in `show configuration commands` output). */
  quoted: boolean;
}

export function commandWords(line: string): CommandWord[] {
  return [...line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => ({
    text: m[1] ?? m[2] ?? m[3]!,
    quoted: m[3] === undefined,
  }));
}

/** The words alone. */
export function splitCommand(line: string): string[] {
  return commandWords(line).map((w) => w.text);
}
