import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { flowRecord, ifaceRecord } from '../../../core/records/index.ts';

/** `pathpilot flows decode` as a user runs it: the real CLI entry point in a child process. */
const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..', '..');
const fixtures = join(root, 'test', 'fixtures', 'flow');

async function cli(...args: string[]) {
  return run(process.execPath, ['--import', 'tsx', join(root, 'cli', 'main.ts'), 'flows', 'decode', ...args], {
    cwd: root,
    timeout: 60_000,
  });
}

describe('pathpilot flows decode', () => {
  it('applies templates from earlier files to later ones and prints JSON lines', async () => {
    const dat = join(fixtures, 'logstash_netflow_dat');
    const { stdout, stderr } = await cli(
      '--exporter',
      '192.0.2.10',
      join(dat, 'netflow9_test_paloalto_panos_tpl.dat'),
      join(dat, 'netflow9_test_paloalto_panos_data.dat'),
    );
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(8);
    for (const l of lines) expect(flowRecord.check(l).ok).toBe(true);
    expect(lines[0]).toMatchObject({ exporter: '192.0.2.10', format: 'netflow9', src_addr: '23.35.171.27', dst_port: 49519 });
    expect(stderr).toMatch(/decoded 2 datagrams: 8 flows, 0 iface records, 8 templates/);
  });

  it('reads pcaps (sFlow counters → iface records) and reports data that never saw its template', async () => {
    const { stdout } = await cli('--quiet', join(fixtures, 'tcpdump_sflow', 'sflow-print-v6.pcap'));
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const ifaces = lines.filter((l) => 'if_index' in l);
    expect(ifaces.length).toBeGreaterThan(40);
    for (const l of ifaces) expect(ifaceRecord.check(l).ok).toBe(true);
    expect(ifaces[0]).toMatchObject({ router: '30::1:1:1', if_index: 23001, speed_bps: 400_000_000_000, out_octets: 9717 });

    const { stderr } = await cli(join(fixtures, 'logstash_netflow_dat', 'ipfix_test_vmware_vds_data264.dat'));
    expect(stderr).toMatch(/0 flows.*1 data sets never saw their template; errors: template_missing=1/);
  });

  it('exits 2 with usage on bad arguments', async () => {
    await expect(cli()).rejects.toMatchObject({ code: 2 });
    await expect(cli('--port', 'x', 'f.pcap')).rejects.toMatchObject({ code: 2 });
  });
});
