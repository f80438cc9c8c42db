import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { exampleConfigPath, loadConfig, Topology } from '../../core/config/index.ts';
import { infeasibleSlos, sloStatus } from './slo.ts';

const topology = new Topology(loadConfig(exampleConfigPath, {}).root);
const realtime = topology.classes.get('realtime')!;

/** One path × class measurement over the window, judged as the console judges it. */
function row(path_id: string, rtt: number, cls = 'realtime') {
  const p = topology.paths.get(path_id)!;
  const q = {
    path_id,
    class: cls,
    src_site: p.from,
    dst_site: p.to,
    rtt_p95_max_ms: rtt,
    loss_ratio: 0,
    jitter_ms: 2,
    windows: 15,
  };
  return { ...q, status: sloStatus(q, topology.classes.get(cls)) };
}

describe('infeasibleSlos (console)', () => {
  it('finds a pair-class whose every path breaks the SLO, once, with the path closest to it', () => {
    const found = infeasibleSlos(
      [row('aws-use1.ali-hk.1', 300), row('aws-use1.ali-hk.2', 270), row('aws-use1.ali-hk.1', 300, 'bulk')],
      topology,
    );
    expect(found).toEqual([
      {
        pair: ['aws-use1', 'ali-hk'],
        class: 'realtime',
        slo: realtime.slo,
        best: { path_id: 'aws-use1.ali-hk.2', rtt_p95_max_ms: 270, loss_ratio: 0, jitter_ms: 2 },
        paths: ['aws-use1.ali-hk.1', 'aws-use1.ali-hk.2'],
      },
    ]);
  });

  it('is not infeasible while one path meets the SLO or has not been measured', () => {
    expect(infeasibleSlos([row('aws-use1.ali-hk.1', 300), row('aws-use1.ali-hk.2', 219)], topology)).toEqual([]);
    expect(infeasibleSlos([row('aws-use1.ali-hk.1', 300)], topology)).toEqual([]);
  });
});

describe('console money formatter (static/format.js)', () => {
  it('formats every amount in the policy currency; compact for chart axes', async () => {
    const { money } = (await import(pathToFileURL(join(import.meta.dirname, 'static', 'format.js')).href)) as {
      money: (v: number, currency: string, digits?: number, opts?: { compact?: boolean }) => string;
    };
    expect(money(1234.5, 'USD')).toBe('$1,235');
    expect(money(0.087, 'USD', 3)).toBe('$0.087');
    expect(money(12_500, 'USD', 0, { compact: true })).toBe('$12.5K');
    expect(money(250, 'EUR', 0, { compact: true })).toBe('€250');
  });
});
