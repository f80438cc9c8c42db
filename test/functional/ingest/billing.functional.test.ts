import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createGzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { costPerGb, monthToDateSpend } from '../../../analytics/queries/index.ts';
import { migrate } from '../../../analytics/schema/index.ts';
import { createStore, ident, sql, type Store } from '../../../core/store/index.ts';
import { createBus } from '../../../core/bus/index.ts';
import { loadConfig, Topology } from '../../../core/config/index.ts';
import { createRegistry, metricValues } from '../../../core/metrics.ts';
import { costRecord, decodeRecords, type CostRecord } from '../../../core/records/index.ts';
import type { Bus, BusMessage } from '../../../core/bus/types.ts';
import { createBillingImporter, createLinkMapper, importFile, type ImportSummary } from '../../../ingest/billing/index.ts';
import { requireService, uniqueName } from '../../support/services.ts';

const fixtures = join(import.meta.dirname, '..', '..', 'fixtures', 'billing');
const fixture = (name: string) => join(fixtures, name);
const focusSample = fixture('focus_1.0_sample_1000rows.csv');
const tmp = mkdtempSync(join(tmpdir(), 'pp-billing-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface ExpectedTotal {
  provider: string;
  category: string;
  cost: string;
  rows: number;
}

/** Sums records per provider|category. */
function totalsOf(records: readonly CostRecord[]): Map<string, { cost: number; rows: number }> {
  const out = new Map<string, { cost: number; rows: number }>();
  for (const r of records) {
    const k = `${r.provider}|${r.category}`;
    const t = out.get(k) ?? { cost: 0, rows: 0 };
    t.cost += r.cost;
    t.rows++;
    out.set(k, t);
  }
  return out;
}

async function collect(file: string, options: Parameters<typeof importFile>[1] = {}) {
  const records: CostRecord[] = [];
  const summary = await importFile(file, { ...options, onBatch: (b) => void records.push(...b) });
  return { summary, records };
}

describe('FOCUS sample through real Kafka', () => {
  it('publishes cost records whose totals per provider and category match an independent computation, and re-imports without double counting', async () => {
    const brokers = requireService('kafka').split(',');
    const registry = createRegistry();
    const bus = createBus({ kind: 'kafka', brokers }, { registry });
    const topic = uniqueName('cost');
    await bus.start();
    const importer = createBillingImporter({ bus, registry, topic }, { batch_size: 300, records_per_message: 100 });
    const received: CostRecord[] = [];
    const schemas = new Set<string>();
    const sub = await bus.subscribe({
      group: uniqueName('billing_test'),
      topics: [topic],
      fromBeginning: true,
      handler: async (batch) => {
        for (const m of batch.messages) {
          schemas.add(m.headers['pp-schema'] ?? '');
          for (const r of decodeRecords(m.value)) received.push(costRecord.parse(r));
        }
      },
    });
    try {
      await importer.start();
      const first = await importer.importFiles([focusSample]);
      const second = await importer.importFiles([focusSample]);
      for (let i = 0; i < 1500 && received.length < 2000; i++) await new Promise((r) => setTimeout(r, 20));
      expect(received).toHaveLength(2000);
      expect([...schemas]).toEqual(['cost.v1']);

      for (const s of [first[0]!, second[0]!]) {
        expect(s).toMatchObject({ format: 'focus', rows: 1000, imported: 1000, bad: 0 });
      }
      // Re-import: the same 1000 line ids, so a ReplacingMergeTree on line_id keeps 1000 lines.
      const ids = received.map((r) => r.line_id);
      expect(new Set(ids).size).toBe(1000);
      // Each import sent every line once (the two imports' messages interleave across partitions).
      const seen = new Map<string, number>();
      for (const id of ids) seen.set(id, (seen.get(id) ?? 0) + 1);
      expect([...seen.values()].every((n) => n === 2)).toBe(true);
      const unique = [...new Map(received.map((r) => [r.line_id, r])).values()];

      const expected = JSON.parse(readFileSync(fixture('focus_1.0_expected_totals.json'), 'utf8')) as ExpectedTotal[];
      const got = totalsOf(unique);
      expect([...got.keys()].sort()).toEqual(expected.map((e) => `${e.provider}|${e.category}`).sort());
      for (const e of expected) {
        const t = got.get(`${e.provider}|${e.category}`)!;
        expect(t.rows, `${e.provider}|${e.category}`).toBe(e.rows);
        expect(t.cost).toBeCloseTo(Number(e.cost), 9);
      }
      // The importer's own summary agrees with what went through Kafka.
      for (const t of first[0]!.totals) {
        expect(t.cost).toBeCloseTo(got.get(`${t.provider}|${t.category}`)!.cost, 9);
      }
      const m = await metricValues(registry);
      expect(m['pathpilot_ingest_billing_received_total']).toBe(2000);
      expect(m['pathpilot_ingest_billing_sent_total']).toBe(2000);
      expect(m['pathpilot_ingest_billing_files_total{format="focus"}']).toBe(2);
    } finally {
      await sub.stop();
      await importer.stop();
      await bus.deleteTopics([topic]);
      await bus.stop();
    }
  });
});

describe('provider formats (hand-made fixtures)', () => {
  const topology = new Topology(loadConfig(undefined, {}).root);

  /** Expected category by the line's usage type / SKU / meter, as the providers document them. */
  const cases: {
    file: string;
    format: string;
    costColumn: string;
    keyColumn: string;
    categories: Record<string, string>;
    links: Record<string, string>;
  }[] = [
    {
      file: 'aws_cur_legacy_sample.csv',
      format: 'aws-cur',
      costColumn: 'lineItem/UnblendedCost',
      keyColumn: 'lineItem/UsageType',
      categories: {
        'BoxUsage:m5.large': 'other',
        'USE1-EUC1-AWS-Out-Bytes': 'inter-region',
        'EUC1-USE1-AWS-In-Bytes': 'inter-region',
        'DataTransfer-Out-Bytes': 'internet-egress',
        'USE1-DataTransfer-Regional-Bytes': 'inter-zone',
        'USE1-DataXfer-Out:dc.1': 'interconnect',
        'USE1-DirectConnect:10G': 'other',
        'USE1-CloudFront-Out-Bytes': 'other',
        'EUC1-TimedStorage-ByteHrs': 'other',
        '': 'other',
      },
      links: {
        'USE1-EUC1-AWS-Out-Bytes': 'use1-euc1-wg',
        'EUC1-USE1-AWS-In-Bytes': 'use1-euc1-wg',
        'USE1-DataXfer-Out:dc.1': 'nyc-use1-dx',
      },
    },
    {
      file: 'aws_cur2_sample.csv',
      format: 'aws-cur2',
      costColumn: 'line_item_unblended_cost',
      keyColumn: 'line_item_usage_type',
      categories: {
        'EUC1-BoxUsage:c6i.xlarge': 'other',
        'EUC1-USE1-AWS-Out-Bytes': 'inter-region',
        'EUC1-DataTransfer-Out-Bytes': 'internet-egress',
        'EUC1-DataTransfer-xAZ-Out-Bytes': 'inter-zone',
        'EUC1-DataXfer-Out:dc.1': 'interconnect',
        'EUC1-NatGateway-Bytes': 'other',
      },
      links: { 'EUC1-USE1-AWS-Out-Bytes': 'use1-euc1-wg', 'EUC1-DataXfer-Out:dc.1': 'fra-euc1-dx' },
    },
    {
      file: 'gcp_billing_export_sample.csv',
      format: 'gcp',
      costColumn: 'cost',
      keyColumn: 'sku.description',
      categories: {
        'N2 Instance Core running in Americas': 'other',
        'Network Inter Region Egress from Americas to EMEA': 'inter-region',
        'Network Internet Egress from Americas to Americas': 'internet-egress',
        'Network Inter Zone Egress': 'inter-zone',
        'Network Egress via Carrier Peering Network - Americas Based': 'interconnect',
        'Standard Storage US Multi-region': 'other',
      },
      links: {},
    },
    {
      file: 'azure_cost_export_sample.csv',
      format: 'azure',
      costColumn: 'CostInBillingCurrency',
      keyColumn: 'MeterName',
      categories: {
        'D2s v5': 'other',
        'Intra Continent Data Transfer Out': 'inter-region',
        'Standard Data Transfer Out': 'internet-egress',
        'Standard Metered Data - Data Transfer Out': 'interconnect',
        'Inter-Availability Zone Data Transfer Out': 'inter-zone',
        'Data Transfer In': 'other',
        'E10 LRS Disk': 'other',
      },
      links: { 'Standard Metered Data - Data Transfer Out': 'fra-weu-er' },
    },
    {
      file: 'focus_1.1_sample.csv',
      format: 'focus',
      costColumn: 'BilledCost',
      keyColumn: 'SkuId',
      categories: {
        ABCDEF1234567890: 'inter-region',
        BCDEFG2345678901: 'other',
        CDEFGH3456789012: 'interconnect',
        DZH318Z0BQ5Z: 'interconnect',
        DZH318Z0BNVX: 'inter-region',
      },
      links: { ABCDEF1234567890: 'use1-euc1-wg', CDEFGH3456789012: 'nyc-use1-dx', DZH318Z0BQ5Z: 'fra-weu-er' },
    },
  ];

  it.each(cases)('$file: format detected, every line classified, totals and links right', async (c) => {
    const rows = parse(readFileSync(fixture(c.file), 'utf8'), { columns: true }) as Record<string, string>[];
    const registry = createRegistry();
    const importer = createBillingImporter({ registry, topology });
    await importer.start();
    const records: CostRecord[] = [];
    const [summary] = await importer.importFiles([fixture(c.file)], { onRecords: (b) => void records.push(...b) });
    await importer.stop();
    expect(summary).toMatchObject({ format: c.format, rows: rows.length, imported: rows.length, bad: 0 });
    expect(records).toHaveLength(rows.length);
    const expectedTotals = new Map<string, number>();
    rows.forEach((row, i) => {
      const key = row[c.keyColumn]!;
      const r = costRecord.parse(records[i]);
      expect(r.category, key).toBe(c.categories[key]);
      expect(r.link, key).toBe(c.links[key]);
      expect(r.source_format).toBe(c.format);
      let cost = Number(row[c.costColumn]);
      if (c.format === 'gcp') {
        for (const credit of JSON.parse(row.credits!) as { amount: number }[]) cost += credit.amount;
      }
      expect(r.cost).toBeCloseTo(cost, 9);
      expectedTotals.set(`${r.category}|${r.currency}`, (expectedTotals.get(`${r.category}|${r.currency}`) ?? 0) + cost);
    });
    expect(summary!.totals).toHaveLength(expectedTotals.size);
    for (const t of summary!.totals) expect(t.cost).toBeCloseTo(expectedTotals.get(`${t.category}|${t.currency}`)!, 9);
  });

  it('reads AWS regions and directions from the CUR product columns', async () => {
    const { records } = await collect(fixture('aws_cur_legacy_sample.csv'));
    const inbound = records.find((r) => r.cost === 0 && r.category === 'inter-region')!;
    expect(inbound).toMatchObject({
      src_region: 'us-east-1',
      dst_region: 'eu-central-1',
      usage_unit: 'GB',
      usage_quantity: 1200,
    });
    const tax = records.at(-1)!;
    expect(tax).toMatchObject({
      category: 'other',
      cost: 12.34,
      usage_start: Date.UTC(2024, 8, 1),
      usage_end: Date.UTC(2024, 9, 1),
    });
  });

  it('GCP JSON lines and the flattened CSV give the same records', async () => {
    const a = await collect(fixture('gcp_billing_export_sample.jsonl'));
    const b = await collect(fixture('gcp_billing_export_sample.csv'));
    expect(a.summary.format).toBe('gcp');
    const strip = (r: CostRecord) => ({ ...r, line_id: '' });
    expect(a.records.map(strip)).toEqual(b.records.map(strip));
    expect(a.records[0]).toMatchObject({
      usage_start: Date.UTC(2024, 8, 1),
      usage_end: Date.UTC(2024, 8, 2),
      usage_quantity: 96,
      usage_unit: 'hour',
      account: 'pp-net',
      src_region: 'us-central1',
    });
    expect(a.records[0]!.cost).toBeCloseTo(3.7952 - 1.2, 9);
    expect(a.records.at(-1)!.src_region).toBe('us');
  });
});

describe('bad input', () => {
  it('reports each bad row with file, line and reason, and imports the rest', async () => {
    const lines = readFileSync(focusSample, 'utf8').split('\n');
    const header = lines[0]!;
    const good = lines.slice(1, 6);
    const width = header.split('","').length;
    const file = join(tmp, 'bad.csv');
    const badCost = good[0]!.replace(/^NULL,[^,]+,/, 'NULL,"abc",');
    const badDate = good[1]!.replace(/("Usage-Based","[^"]+",)"[^"]+"/, '$1"yesterday"');
    expect(badDate).not.toBe(good[1]);
    const content = [
      header,
      good[2],
      badCost,
      '"only","three","fields"',
      good[3],
      badDate,
      good[4],
      '"x"y' + ',1'.repeat(width - 1),
    ];
    writeFileSync(file, content.join('\n') + '\n');
    const { summary, records } = await collect(file);
    expect(summary.rows).toBe(7);
    expect(summary.imported).toBe(3);
    expect(records).toHaveLength(3);
    expect(summary.bad).toBe(4);
    expect(summary.badRows).toEqual([
      { file, line: 3, reason: 'cost "abc" is not a decimal number' },
      { file, line: 4, reason: `expected ${width} fields, found 3` },
      { file, line: 6, reason: 'usage start is missing or not a valid timestamp' },
      { file, line: 8, reason: 'unexpected text after a closing quote' },
    ]);
  });

  it('names a file it cannot import and still imports the others', async () => {
    const unknown = join(tmp, 'unknown.csv');
    writeFileSync(unknown, 'date,amount\n2024-09-01,3\n');
    const wrong = join(tmp, 'wrong-format.csv');
    writeFileSync(wrong, readFileSync(fixture('azure_cost_export_sample.csv')));
    const importer = createBillingImporter({ registry: createRegistry() });
    await importer.start();
    const [a, b, c] = await importer.importFiles([unknown, fixture('aws_cur2_sample.csv')]);
    expect(a!.error).toMatch(/unknown\.csv:1: unrecognized billing export/);
    expect(b).toMatchObject({ format: 'aws-cur2', imported: 6 });
    expect(c).toBeUndefined();
    const [forced] = await importer.importFiles([wrong], { format: 'focus' });
    expect(forced!.error).toMatch(/not a focus file: missing column\(s\) BilledCost/);
  });
});

describe('streaming', () => {
  it('reads a large gzipped export in chunks with progress, without loading it whole', async () => {
    const text = readFileSync(focusSample, 'utf8');
    const [header, ...body] = text.trimEnd().split('\n');
    const copies = 60; // 60,000 rows, ~45 MB uncompressed
    const file = join(tmp, 'big.csv.gz');
    async function* rows() {
      yield `${header}\n`;
      for (let c = 0; c < copies; c++) yield body.join('\n') + '\n';
    }
    await pipeline(Readable.from(rows()), createGzip(), createWriteStream(file));
    const progress: number[] = [];
    let batches = 0;
    let maxBatch = 0;
    const summary: ImportSummary = await importFile(file, {
      batchSize: 2000,
      progressIntervalMs: 10,
      onProgress: (p) => progress.push(p.bytesRead),
      onBatch: (b) => {
        batches++;
        maxBatch = Math.max(maxBatch, b.length);
      },
    });
    expect(summary).toMatchObject({ format: 'focus', rows: 60_000, imported: 60_000, bad: 0 });
    expect(maxBatch).toBe(2000);
    expect(batches).toBe(30);
    expect(progress.length).toBeGreaterThan(2);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.at(-1)).toBe(summary.bytes);
    // Identical rows (the sample repeated) are distinct charges: every copy counts, each with its own id.
    const totals = summary.totals.find((t) => t.provider === 'aws' && t.category === 'internet-egress')!;
    expect(totals.rows).toBe(174 * copies);
  });
});

describe('worker threads', () => {
  it('give the same records, ids, totals and bad-row lines as the single-threaded path', async () => {
    const text = readFileSync(focusSample, 'utf8');
    const [header, ...body] = text.trimEnd().split('\n');
    const lines = [header!];
    for (let c = 0; c < 8; c++) lines.push(...body);
    // Bad rows far into the file (their line numbers cross segment boundaries), one with a quoted newline before it.
    lines.splice(5000, 0, '"short","row"');
    lines.splice(7000, 0, body[0]!.replace(/"SunBird"/, '"Sun\nBird"'));
    lines.splice(7500, 0, body[1]!.replace(/^NULL,[^,]+,/, 'NULL,"n/a",'));
    const file = join(tmp, 'parallel.csv');
    writeFileSync(file, lines.join('\n') + '\n');

    const published: BusMessage[] = [];
    const bus: Bus = {
      kind: 'memory',
      start: async () => {},
      stop: async () => {},
      ensureTopics: async () => {},
      publish: async (_topic, messages) => void published.push(...messages),
      subscribe: async () => ({ stop: async () => {}, pause: () => {}, resume: () => {} }),
      deleteTopics: async () => {},
    };
    const topology = new Topology(loadConfig(undefined, {}).root);
    const parallel = createBillingImporter(
      { registry: createRegistry(), bus, topology },
      { workers: 2, parallel_min_bytes: 0, records_per_message: 250 },
    );
    await parallel.start();
    const [p] = await parallel.importFiles([file]);
    const fromWorkers = published.flatMap((m) => decodeRecords(m.value).map((r) => costRecord.parse(r)));
    expect(
      published.every(
        (m) => m.headers?.['pp-schema'] === 'cost.v1' && m.key === costRecord.keyOf(decodeRecords(m.value)[0] as CostRecord),
      ),
    ).toBe(true);

    const single = await collect(file, { linkMapper: undefined });
    const sequential = createBillingImporter({ registry: createRegistry(), topology }, { workers: 0 });
    await sequential.start();
    const sequentialRecords: CostRecord[] = [];
    const [s] = await sequential.importFiles([file], { onRecords: (b) => void sequentialRecords.push(...b) });

    expect(p!.error).toBeUndefined();
    expect(p).toMatchObject({ format: 'focus', rows: 8003, imported: 8001, bad: 2, linked: s!.linked });
    expect(p!.badRows).toEqual(s!.badRows);
    expect(p!.badRows.map((b) => b.line)).toEqual([5001, 7502]);
    expect(single.summary.badRows.map((b) => b.line)).toEqual([5001, 7502]);
    expect(fromWorkers).toHaveLength(8001);
    // Each import stamps its lines with its own time (line_version): equal within a run, compared apart.
    for (const run of [fromWorkers, sequentialRecords]) expect(new Set(run.map((r) => r.line_version)).size).toBe(1);
    const sortById = (rs: CostRecord[]) =>
      rs
        .map((r) => ({ ...r, line_version: 0 }))
        .sort((a, b) => a.line_id.localeCompare(b.line_id) || a.usage_start - b.usage_start);
    expect(new Set(fromWorkers.map((r) => r.line_id)).size).toBe(8001);
    expect(sortById(fromWorkers)).toEqual(sortById(sequentialRecords));
    for (const t of p!.totals) {
      const u = s!.totals.find((x) => x.provider === t.provider && x.category === t.category && x.currency === t.currency)!;
      expect(t.rows).toBe(u.rows);
      expect(t.cost).toBeCloseTo(u.cost, 9);
    }
  });
});

describe('worker threads and encodings', () => {
  it('refuse a Latin-1 file before publishing anything, and read it when declared, with the single-threaded ids', async () => {
    const text = readFileSync(focusSample, 'utf8');
    const [header, ...body] = text.trimEnd().split('\n');
    const lines = [header!];
    for (let c = 0; c < 3; c++) lines.push(...body);
    lines[2500] = lines[2500]!.replace(/"SunBird"/, '"Sünbird"');
    const file = join(tmp, 'parallel-latin1.csv');
    writeFileSync(file, Buffer.from(lines.join('\n') + '\n', 'latin1'));
    const published: BusMessage[] = [];
    const bus: Bus = {
      kind: 'memory',
      start: async () => {},
      stop: async () => {},
      ensureTopics: async () => {},
      publish: async (_topic, messages) => void published.push(...messages),
      subscribe: async () => ({ stop: async () => {}, pause: () => {}, resume: () => {} }),
      deleteTopics: async () => {},
    };
    const parallel = createBillingImporter(
      { registry: createRegistry(), bus },
      { workers: 2, parallel_min_bytes: 0, records_per_message: 250 },
    );
    await parallel.start();
    const [refused] = await parallel.importFiles([file]);
    expect(refused!.error).toMatch(/parallel-latin1\.csv:2501: not valid UTF-8 \(byte 0xFC\)/);
    expect(published).toHaveLength(0);

    const [read] = await parallel.importFiles([file], { encoding: 'latin1' });
    expect(read).toMatchObject({ rows: 3000, imported: 3000, bad: 0 });
    const fromWorkers = published.flatMap((m) => decodeRecords(m.value).map((r) => costRecord.parse(r)));
    const single = await collect(file, { encoding: 'latin1' });
    const ids = (rs: CostRecord[]) => rs.map((r) => r.line_id).sort();
    expect(new Set(ids(fromWorkers)).size).toBe(3000);
    expect(ids(fromWorkers)).toEqual(ids(single.records));
  });
});

describe('restatement on the real ClickHouse server', () => {
  const cur2 = fixture('aws_cur2_sample.csv');
  const topology = new Topology(loadConfig(undefined, {}).root);
  let store: Store;

  beforeAll(async () => {
    store = createStore({ kind: 'server', url: requireService('clickhouse'), path: '', database: uniqueName('billing') });
    await store.start();
    await migrate(store);
  });
  afterAll(async () => {
    await store.exec(sql`DROP DATABASE IF EXISTS ${ident(store.database)}`);
    await store.stop();
  });

  /** Imports a file with the given import time and INSERTs its lines (one INSERT, one part). */
  async function importInto(file: string, importedAt: number): Promise<ImportSummary> {
    const rows: Record<string, unknown>[] = [];
    const summary = await importFile(file, {
      importedAt,
      linkMapper: createLinkMapper(topology, [], true),
      onBatch: (b) => void rows.push(...b.map((r) => costRecord.toRow(r))),
    });
    await store.insert('costs_raw', rows);
    return summary;
  }

  it('a re-export with corrected costs replaces the earlier lines in cost_daily, costPerGb and monthToDateSpend, before any merge', async () => {
    const text = readFileSync(cur2, 'utf8');
    const rows = parse(text, { columns: true }) as Record<string, string>[];
    const [header, ...lines] = text.trimEnd().split('\n');
    // The same charge twice in one file (e.g. two identical NAT gateway hours): two lines, both count.
    const original = join(tmp, 'cur2-original.csv');
    writeFileSync(original, [header, ...lines, lines.at(-1)].join('\n') + '\n');
    const originalTotal =
      rows.reduce((s, r) => s + Number(r.line_item_unblended_cost), 0) + Number(rows.at(-1)!.line_item_unblended_cost);

    // AWS re-issues the month: new identity_line_item_ids, the inter-region line's cost corrected.
    const corrected = lines.map((line) =>
      line
        .replace(/^[a-z0-9]{12},/, (id) => `r${id.slice(1)}`)
        .replace(
          /,EUC1-USE1-AWS-Out-Bytes,(.*?),USD,([\d.]+),([\d.]+),/,
          (m, mid: string, rate: string) => `,EUC1-USE1-AWS-Out-Bytes,${mid},USD,${rate},99.5,`,
        ),
    );
    expect(corrected.join('\n')).toContain(',99.5,');
    const restated = join(tmp, 'cur2-restated.csv');
    writeFileSync(restated, [header, ...corrected, corrected.at(-1)].join('\n') + '\n');
    const interRegion = rows.find((r) => r.line_item_usage_type === 'EUC1-USE1-AWS-Out-Bytes')!;
    const restatedTotal = originalTotal - Number(interRegion.line_item_unblended_cost) + 99.5;
    expect(restatedTotal).not.toBeCloseTo(originalTotal, 3);

    // The restatement is inserted first and the older export after it: the version decides, not the order.
    const second = await importInto(restated, Date.UTC(2024, 10, 5));
    const first = await importInto(original, Date.UTC(2024, 10, 3));
    expect(first).toMatchObject({ imported: rows.length + 1, bad: 0 });
    expect(second).toMatchObject({ imported: rows.length + 1, bad: 0 });

    const [stored] = await store.query<{ n: number; lines: number; cost: number }>(
      sql`SELECT count() AS n, uniqExact(line_id) AS lines, (SELECT sum(cost) FROM ${ident(store.database)}.costs_raw FINAL) AS cost FROM ${ident(store.database)}.costs_raw`,
    );
    expect(Number(stored!.n)).toBe(2 * (rows.length + 1)); // both versions still stored: nothing merged yet
    expect(Number(stored!.lines)).toBe(rows.length + 1);
    expect(Number(stored!.cost)).toBeCloseTo(restatedTotal, 6);

    const [daily] = await store.query<{ cost: number }>(sql`SELECT sum(cost) AS cost FROM ${ident(store.database)}.cost_daily`);
    expect(Number(daily!.cost)).toBeCloseTo(restatedTotal, 6);
    const october = { from: Date.UTC(2024, 9, 1), to: Date.UTC(2024, 10, 1) };
    const perGb = await costPerGb(store, { range: october });
    expect(perGb.reduce((s, r) => s + r.cost, 0)).toBeCloseTo(restatedTotal, 6);
    const mtd = await monthToDateSpend(store, { now: Date.UTC(2024, 9, 31, 12) });
    expect(mtd.reduce((s, r) => s + r.month_to_date, 0)).toBeCloseTo(restatedTotal, 6);

    // After the merge only the newest version of each line is left.
    await store.exec(sql`OPTIMIZE TABLE ${ident(store.database)}.costs_raw FINAL`);
    const [merged] = await store.query<{ n: number; cost: number }>(
      sql`SELECT count() AS n, sum(cost) AS cost FROM ${ident(store.database)}.costs_raw`,
    );
    expect(Number(merged!.n)).toBe(rows.length + 1);
    expect(Number(merged!.cost)).toBeCloseTo(restatedTotal, 6);
  });
});

describe('pathpilot billing import --encoding', () => {
  const root = join(import.meta.dirname, '..', '..', '..');
  async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], {
        cwd: root,
        timeout: 60_000,
        env: { ...process.env, KAFKA_BROKERS: '' },
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  it('refuses a Latin-1 export without the flag (naming the line), imports it with --encoding latin1', async () => {
    const text = readFileSync(fixture('azure_cost_export_sample.csv'), 'utf8').replace('netops-prod', 'netops-zürich');
    const file = join(tmp, 'azure-latin1.csv');
    writeFileSync(file, Buffer.from(text, 'latin1'));
    const refused = await cli(['billing', 'import', '--dry-run', file]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${file}: not imported: ${file}:2: not valid UTF-8 (byte 0xFC)`);
    const declared = await cli(['billing', 'import', '--dry-run', '--encoding', 'latin1', file]);
    expect(declared.code).toBe(0);
    expect(declared.stdout).toMatch(/azure-latin1\.csv: azure, 7 rows, 7 imported, 0 bad/);
    const unknown = await cli(['billing', 'import', '--encoding', 'ebcdic', file]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--encoding must be one of auto, utf8, utf16le, utf16be, latin1/);
  });
});
