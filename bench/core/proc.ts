import { readFileSync } from 'node:fs';

/**
 * User + system CPU seconds a process (all its threads) has used, from /proc/<pid>/stat: the
 * fields after the command name (which may hold spaces), utime and stime being the 12th and 13th,
 * in clock ticks of 100 per second.
 */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
