import { readFileSync } from 'node:fs';

/**
 * User + system CPU seconds a process (all its threads) has used, from /proc/<pid>/stat: the
 * fields after the command name (which may hold spaces), utime and stime being the 12th and 13th,
 * in clock ticks of 100 per second.
 */
export function processCpuSeconds(pid: number): number {
  const { user, system } = processCpuSplit(pid);
  return user + system;
}

/**
 * User and system CPU seconds of a process (all its threads), from /proc/<pid>/stat, or of one of
 * its threads (`tid`; the main thread's is the pid).
 */
export function processCpuSplit(pid: number, tid?: number): { user: number; system: number } {
  const stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
}
