import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { dashboardsRoot } from '../../../dashboards/index.ts';

/**
 * Each pathpilot service of docker-compose.yml, run the way its container would run it (same
 * arguments, same environment, bind-mounted files mapped back to the repository) with `--check`:
 * the CLI must accept the command and build every component of the roles, without any I/O.
 */
const repo = join(dashboardsRoot, '..');
const compose = parse(readFileSync(join(repo, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<
    string,
    { command?: string[]; environment?: Record<string, string>; volumes?: string[]; build?: unknown; profiles?: string[] }
  >;
};
const roleServices = Object.entries(compose.services).filter(([, s]) => s.build !== undefined);
/** The image's ENTRYPOINT (WORKDIR /app is the repository root), run with this Node. */
const entrypoint = (() => {
  const line = readFileSync(join(repo, 'Dockerfile'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith('ENTRYPOINT '));
  const argv = JSON.parse(line!.slice('ENTRYPOINT '.length)) as string[];
  if (argv[0] !== 'node') throw new Error(`unexpected ENTRYPOINT ${line}`);
  return argv.slice(1);
})();

describe('docker-compose pathpilot commands', () => {
  it('has the five roles, and in the cluster profile two of each role that scales out', () => {
    const always = roleServices.filter(([, s]) => !s.profiles).map(([n]) => n);
    expect(always.sort()).toEqual(['actuator', 'api', 'ingest', 'optimizer', 'sink']);
    const cluster = roleServices.filter(([, s]) => s.profiles?.includes('cluster')).map(([, s]) => s.command![1]);
    expect(cluster.sort()).toEqual(['actuator', 'actuator', 'ingest', 'ingest', 'optimizer', 'optimizer', 'sink', 'sink']);
  });

  it.each(roleServices.map(([name, s]) => [name, s.command!.join(' '), s] as const))(
    '%s: `pathpilot %s --check` accepts the command and builds its roles',
    (name, _command, s) => {
      const mounts = new Map(
        (s.volumes ?? []).filter((v) => v.startsWith('./')).map((v) => [v.split(':')[1]!, join(repo, v.split(':')[0]!)]),
      );
      const args = s.command!.map((a) => mounts.get(a) ?? a);
      const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' };
      for (const [k, v] of Object.entries(s.environment ?? {})) {
        // Compose interpolation: `${VAR:-default}` takes the default, `${VAR:?msg}` gets a test value.
        env[k] = v.startsWith('${') ? (/:-(.*)\}$/.exec(v)?.[1] ?? 'admin:ci:0123456789abcdef0123') : v;
      }
      const r = spawnSync(process.execPath, [...entrypoint, ...args, '--check'], {
        cwd: repo,
        env,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.status, `${name}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(/configuration ok; roles: /);
      const roles = /roles: ([^;]+);/.exec(r.stdout)![1]!.split(', ');
      expect(roles).toContain(s.command![1]);
      expect(roles).toContain('api');
    },
  );
});
