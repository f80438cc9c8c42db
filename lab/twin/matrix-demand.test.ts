import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { MatrixDemand, parseDemandMatrix, parseMatrixTime, readDemandMatrix } from './matrix-demand.ts';
import { parseSndlib, sndlibTopology } from './sndlib.ts';
import { TwinEngine } from './model.ts';
import { parseScenario } from './scenario.ts';

const dir = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'whatif');
const csv = join(dir, 'tiny.csv');
const T0 = Date.UTC(2024, 2, 4);
const MIN = 60_000;

describe('traffic-matrix demand', () => {
  it('parses rows into intervals per pair (UTC, 15-minute step, sums repeated rows)', () => {
    const m = parseDemandMatrix(readFileSync(csv, 'utf8'), csv);
    expect(m.rows).toBe(15);
    expect(m.times).toEqual([0, 15, 30, 45].map((k) => T0 + k * MIN));
    expect(m.stepMs).toBe(15 * MIN);
    expect([...m.series.get('Frankfurt>Munich')!]).toEqual([400, 420, 380, 500]);
    expect([...m.series.get('Berlin>Vienna')!]).toEqual([50, 0, 60, 0]);
    expect(m.lineOf.get('Vienna>Hamburg')).toBe(16);
    const twice = parseDemandMatrix('time,src,dst,mbps\n0,a,b,1\n0,a,b,2\n', 'x.csv');
    expect([...twice.series.get('a>b')!]).toEqual([3]);
    expect(parseMatrixTime('1709510400')).toBe(T0);
    expect(parseMatrixTime('2024-03-04T01:00:00+01:00')).toBe(T0);
  });

  it('reads gzip and plain alike', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'pp-matrix-'));
    const gz = join(tmp, 'm.csv.gz');
    writeFileSync(gz, gzipSync(readFileSync(csv)));
    expect([...readDemandMatrix(gz).series.get('Hamburg>Munich')!]).toEqual([120, 150, 100, 130]);
  });

  it('bad rows name the file and line', () => {
    expect(() => parseDemandMatrix('when,src,dst,mbps\n', 'm.csv')).toThrow(
      'm.csv:1: expected a header with columns time,src,dst,mbps',
    );
    expect(() => parseDemandMatrix('time,src,dst,mbps\n0,a,b,1\nyesterday,a,b,1\n', 'm.csv')).toThrow(
      /m\.csv:3: time "yesterday"/,
    );
    expect(() => parseDemandMatrix('time,src,dst,mbps\n0,a,b,-1\n', 'm.csv')).toThrow(/m\.csv:2: mbps "-1"/);
  });

  it('demand at time t is the value of the interval containing t, from the run start, repeating past the end', () => {
    const m = parseDemandMatrix(readFileSync(csv, 'utf8'), csv);
    const start = Date.UTC(2030, 0, 1);
    const d = new MatrixDemand(
      m,
      start,
      (n) => n.toLowerCase(),
      () => true,
    );
    expect(d.spanMs).toBe(60 * MIN);
    expect(d.mbps('frankfurt>munich', start)).toBe(400);
    expect(d.mbps('frankfurt>munich', start + 14 * MIN)).toBe(400);
    expect(d.mbps('frankfurt>munich', start + 15 * MIN)).toBe(420);
    expect(d.mbps('frankfurt>munich', start + 59 * MIN)).toBe(500);
    expect(d.mbps('frankfurt>munich', start + 60 * MIN)).toBe(400);
    expect(d.mbps('berlin>hamburg', start)).toBe(0);
    expect(
      () =>
        new MatrixDemand(
          m,
          start,
          (n) => (n === 'Vienna' ? undefined : n),
          () => true,
        ),
    ).toThrow(/tiny\.csv:5: unknown node "Vienna"/);
  });

  it('drives the twin: each pair offers its measured Mbps split by the class mix', () => {
    const { root, linkRttMs } = sndlibTopology(parseSndlib(readFileSync(join(dir, 'tiny.xml'), 'utf8')));
    const scenario = parseScenario(
      stringify({
        name: 'matrix',
        demand: { noise: 0, matrix: { file: csv } },
        links: Object.fromEntries(Object.entries(linkRttMs).map(([id, rtt]) => [id, { rtt_ms: rtt }])),
      }),
    );
    const start = Date.UTC(2030, 0, 1);
    const engine = new TwinEngine({ root, scenario, startMs: start, tickMs: 5 * MIN });
    for (let i = 0; i < 4; i++) engine.step(); // 00:00–00:20: the tick at 00:15 reads the second interval
    const total = (pair: string) => engine.demands.reduce((s, d, i) => (d.pair === pair ? s + engine.demandBps[i]! : s), 0) / 1e6;
    expect(total('frankfurt>munich')).toBeCloseTo(420, 6);
    expect(total('hamburg>munich')).toBeCloseTo(150, 6);
    expect(total('berlin>hamburg')).toBe(0);
    // The link RTT comes from the coordinates, not a region table.
    const path = engine.paths[engine.pathIdx('frankfurt.munich.1')!]!;
    expect(path.baseRttMs).toBeCloseTo(linkRttMs['frankfurt_munich']! * 0.96 + 0.2 + 0.3, 6);
  });
});
