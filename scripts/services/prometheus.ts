import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { prometheusTargetsDir, serviceDir } from './config.ts';
import { prometheusHealth } from './health.ts';
import type { LocalService } from './service.ts';
import { requireCommand } from './service.ts';

/**
 * Prometheus from Debian. It scrapes itself plus every target listed in
 * `<data>/prometheus/targets/*.json` (file_sd, re-read every 5 s without a restart): pathpilot
 * components add `{"targets": ["127.0.0.1:PORT"], "labels": {"component": "..."}}` entries there.
 */
export const prometheus: LocalService = {
  name: 'prometheus',
  kind: 'prometheus',
  address: (cfg) => `http://${cfg.host}:${cfg.ports.prometheus}`,
  ports: (cfg) => [cfg.ports.prometheus],
  prerequisites: [{ command: 'prometheus', debianPackage: 'prometheus' }],
  stopGraceMs: 15_000,
  async prepare(cfg) {
    const dir = serviceDir(cfg, 'prometheus');
    const targets = prometheusTargetsDir(cfg);
    mkdirSync(join(dir, 'data'), { recursive: true });
    mkdirSync(targets, { recursive: true });
    const readme = join(targets, 'README.txt');
    if (!existsSync(readme)) {
      writeFileSync(
        readme,
        'Put Prometheus file_sd target files here (*.json), e.g.\n' +
          '[{"targets": ["127.0.0.1:9464"], "labels": {"component": "ingest"}}]\n' +
          'They are picked up within 5 s, no restart needed (job "pathpilot").\n',
      );
    }
    const config = {
      global: { scrape_interval: '5s', evaluation_interval: '5s' },
      scrape_configs: [
        { job_name: 'prometheus', static_configs: [{ targets: [`${cfg.host}:${cfg.ports.prometheus}`] }] },
        {
          job_name: 'pathpilot',
          file_sd_configs: [{ files: [join(targets, '*.json')], refresh_interval: '5s' }],
        },
      ],
    };
    writeFileSync(join(dir, 'prometheus.yml'), stringify(config));
  },
  launch(cfg) {
    const dir = serviceDir(cfg, 'prometheus');
    return {
      cmd: requireCommand('prometheus'),
      args: [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        '--storage.tsdb.retention.time=2d',
        `--web.listen-address=${cfg.host}:${cfg.ports.prometheus}`,
        '--web.enable-lifecycle',
        '--log.level=warn',
      ],
      cwd: dir,
    };
  },
  async health(cfg) {
    await prometheusHealth(`http://${cfg.host}:${cfg.ports.prometheus}`);
    return 'ready';
  },
};
