import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serviceDir } from './config.ts';
import { redisHealth } from './health.ts';
import type { LocalService } from './service.ts';
import { requireCommand } from './service.ts';

/** Redis from Debian, no persistence (test data only), loopback only. */
export const redis: LocalService = {
  name: 'redis',
  kind: 'redis',
  address: (cfg) => `${cfg.host}:${cfg.ports.redis}`,
  ports: (cfg) => [cfg.ports.redis],
  prerequisites: [{ command: 'redis-server', debianPackage: 'redis-server' }],
  stopGraceMs: 10_000,
  async prepare(cfg) {
    const dir = serviceDir(cfg, 'redis');
    mkdirSync(join(dir, 'data'), { recursive: true });
    const conf = [
      `bind ${cfg.host}`,
      `port ${cfg.ports.redis}`,
      'protected-mode yes',
      'daemonize no',
      `dir ${join(dir, 'data')}`,
      'save ""',
      'appendonly no',
      'logfile ""',
      'databases 16',
      // Keeps our config path in the process title, so `down` can tell our redis from another.
      'proc-title-template "{title} {listen-addr} {server-mode} {config-file}"',
    ];
    writeFileSync(join(dir, 'redis.conf'), `${conf.join('\n')}\n`);
  },
  launch(cfg) {
    const dir = serviceDir(cfg, 'redis');
    return { cmd: requireCommand('redis-server'), args: [join(dir, 'redis.conf')], cwd: dir };
  },
  async health(cfg) {
    await redisHealth(cfg.host, cfg.ports.redis);
    return 'PONG';
  },
};
