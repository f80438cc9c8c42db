/** For CLI tests: what a command writes to stdout and stderr, captured (restore with `vi.restoreAllMocks()`). */
import { vi } from 'vitest';

export function captureOutput(): { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
  return { out, err };
}
